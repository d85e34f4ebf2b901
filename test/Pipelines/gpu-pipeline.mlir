// attn-gpu-pipeline turns a public function on tensors into host code that
// takes one device pointer per argument and per result and launches NVVM
// kernels embedded as PTX; no libdevice call remains (exp is a polynomial,
// fma and floor are LLVM intrinsics), so no CUDA toolkit is needed.
// RUN: env -u CUDA_HOME -u CUDA_ROOT -u CUDA_PATH attn-opt %s --split-input-file --verify-diagnostics "--attn-gpu-pipeline=format=isa" | FileCheck %s

// CHECK-LABEL: llvm.func @gqa(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT: attn.
// CHECK: llvm.call @mgpuMemAlloc
// Kernels take whole memref descriptors (allocated and aligned pointer,
// offset, sizes, strides): an argument appears as two pointers then i64s.
// Launches go on the stream (async, <stream>) with one synchronisation at
// the end of the function, not one per launch.
// CHECK: gpu.launch_func <%{{.*}} : !llvm.ptr> @gqa_kernel_0::@gqa_kernel blocks in
// CHECK-SAME: %arg0 : !llvm.ptr, %arg0 : !llvm.ptr, %{{.*}} : i64
// CHECK: llvm.call @mgpuMemFree
// CHECK: llvm.call @mgpuStreamSynchronize
// CHECK-NOT: llvm.call @mgpuStreamSynchronize
// CHECK: llvm.return
// CHECK: gpu.binary @gqa_kernel  [#gpu.object<#nvvm.target<O = 3, chip = "sm_90a", features = "+ptx80">{{.*}}assembly = "{{.*}}.target sm_90a{{.*}}.entry gqa_kernel(
// CHECK-NOT: __nv_
func.func @gqa(%q: tensor<1x4x33x24xf32>, %k: tensor<1x2x47x24xf32>,
               %v: tensor<1x2x47x16xf32>) -> tensor<1x4x33x16xf32> {
  %o = attn.attention %q, %k, %v {causal, window = array<i64: 5, 0>}
      : tensor<1x4x33x24xf32>, tensor<1x2x47x24xf32>, tensor<1x2x47x16xf32>
      -> tensor<1x4x33x16xf32>
  return %o : tensor<1x4x33x16xf32>
}

// -----

// A recurrence on the generic path (log-linear's Gated DeltaNet base, one
// delta-rule state per level): the token loop stays on the host and
// launches kernels.
// CHECK-LABEL: llvm.func @loglin_gdn(
// CHECK: llvm.br
// CHECK: gpu.launch_func
// CHECK: gpu.binary
func.func @loglin_gdn(%q: tensor<1x2x40x16xf32>, %k: tensor<1x2x40x16xf32>,
                      %v: tensor<1x2x40x8xf32>, %l: tensor<1x2x40x7xf32>,
                      %g: tensor<1x2x40xf32>, %b: tensor<1x2x40xf32>)
    -> tensor<1x2x40x8xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %l : tensor<1x2x40x7xf32>
      gate(%g : tensor<1x2x40xf32>) beta(%b : tensor<1x2x40xf32>)
      : tensor<1x2x40x16xf32>, tensor<1x2x40x16xf32>, tensor<1x2x40x8xf32>
      -> tensor<1x2x40x8xf32>
  return %o : tensor<1x2x40x8xf32>
}
