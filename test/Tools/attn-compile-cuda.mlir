// attn-compile --target=cuda writes a host library that links libattnrt
// (the mgpu* functions) and embeds the kernels, with a manifest that says
// its pointers are device pointers.
// RUN: rm -rf %t && attn-compile %s --target=cuda --gpu-format=isa -o %t --name gpu
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/gpu.json
// RUN: FileCheck %s --check-prefix=HEADER < %t/gpu.h
// RUN: nm -D %t/libgpu.so | FileCheck %s --check-prefix=SYMS
// RUN: not attn-compile %s --target=tpu -o %t 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not attn-compile %s --target=cuda --gpu-format=fatbin -o %t 2>&1 | FileCheck %s --check-prefix=FORMAT

// MANIFEST: "target": "cuda"
// MANIFEST: "name": "softmax"
// HEADER: CUDA kernels: every pointer is device memory
// HEADER: void softmax(const float *query, const float *key, const float *value, float *result0);
// SYMS-DAG: T softmax
// SYMS-DAG: T softmax_packed
// SYMS-DAG: U mgpuLaunchKernel
// SYMS-DAG: U mgpuModuleLoadJIT
// TARGET: attn-compile: unknown target 'tpu' (supported: cpu, cuda)
// FORMAT: attn-compile: unknown --gpu-format 'fatbin' (supported: auto, isa, bin)

func.func @softmax(%q: tensor<2x3x17x32xf32>, %k: tensor<2x3x29x32xf32>,
                   %v: tensor<2x3x29x32xf32>) -> tensor<2x3x17x32xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<2x3x17x32xf32>, tensor<2x3x29x32xf32>, tensor<2x3x29x32xf32>
      -> tensor<2x3x17x32xf32>
  return %o : tensor<2x3x17x32xf32>
}
