// With the CUDA toolkit present, the kernels go through ptxas to cubin
// (loaded with mgpuModuleLoad, no JIT at load time).
// REQUIRES: ptxas
// RUN: rm -rf %t && attn-compile %s --target=cuda --gpu-format=bin -o %t --name gpu
// RUN: nm -D %t/libgpu.so | FileCheck %s
// RUN: attn-opt %s "--attn-gpu-pipeline=format=bin" | FileCheck %s --check-prefix=IR

// CHECK: T decode
// CHECK: T flash
// CHECK: U mgpuModuleLoad
// CHECK-NOT: mgpuModuleLoadJIT
// IR: gpu.binary @decode_kernel  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{.*}}, bin = "\7FELF

func.func @decode(%q: tensor<1x8x1x64xf32>, %k: tensor<1x2x300x64xf32>,
                  %v: tensor<1x2x300x64xf32>) -> tensor<1x8x1x64xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<1x8x1x64xf32>, tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32>
      -> tensor<1x8x1x64xf32>
  return %o : tensor<1x8x1x64xf32>
}

// The Hopper flash kernel's wgmma (sm_90a) through ptxas.
// IR: gpu.binary @flash_kernel  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">, properties = {{.*}}, bin = "\7FELF
func.func @flash(%q: tensor<1x4x130x128xbf16>, %k: tensor<1x2x200x128xbf16>,
                 %v: tensor<1x2x200x128xbf16>) -> tensor<1x4x130x128xbf16> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x4x130x128xbf16>, tensor<1x2x200x128xbf16>, tensor<1x2x200x128xbf16>
      -> tensor<1x4x130x128xbf16>
  return %o : tensor<1x4x130x128xbf16>
}
