// attn-run --target=cuda compiles for CUDA and runs on device 0; without a
// driver it stops with the runtime's message, naming what is missing.
// UNSUPPORTED: cuda-driver
// RUN: not attn-run %s --target=cuda --random 2>&1 | FileCheck %s
// RUN: not attn-run %s --target=tpu --random 2>&1 | FileCheck %s --check-prefix=TARGET
// CHECK: attn-run: cannot load {{.*}}libkernel.so: mgpuModuleLoad{{(JIT)?}}: CUDA driver not available: dlopen libcuda.so.1
// TARGET: attn-run: unknown --target 'tpu' (supported: cpu, cuda)

func.func @f(%q: tensor<1x1x3x8xf32>, %k: tensor<1x1x5x8xf32>,
             %v: tensor<1x1x5x8xf32>) -> tensor<1x1x3x8xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<1x1x3x8xf32>, tensor<1x1x5x8xf32>, tensor<1x1x5x8xf32>
      -> tensor<1x1x3x8xf32>
  return %o : tensor<1x1x3x8xf32>
}
