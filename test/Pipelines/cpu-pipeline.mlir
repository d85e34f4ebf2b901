// attn-cpu-pipeline turns a public function on tensors into an LLVM function
// that takes one bare pointer per argument and per result (results become
// trailing out-parameters).
// RUN: attn-opt %s --attn-cpu-pipeline --split-input-file | FileCheck %s

// The flash path (D = Dv = 64): tasks run as an OpenMP parallel loop, the
// score and PV tiles are 16-lane FMAs, exp is a polynomial on vectors (no
// libm call), and no [Lq, Lk] buffer is allocated: malloc sizes are
// getelementptr counts of f32, and 2 x 300 x 300 = 180000 never appears (the
// score tile is 64 x 64 = 4096).
// CHECK-LABEL: llvm.func @flash(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT: attn.
// CHECK: omp.parallel
// CHECK: omp.wsloop
// CHECK: llvm.intr.fmuladd(%{{.*}}, %{{.*}}, %{{.*}}) : (vector<16xf32>, vector<16xf32>, vector<16xf32>) -> vector<16xf32>
// CHECK-NOT: llvm.call @expf
// CHECK-NOT: getelementptr %{{.*}}[180000]
func.func @flash(%q: tensor<1x2x300x64xf32>, %k: tensor<1x2x300x64xf32>,
                 %v: tensor<1x2x300x64xf32>) -> tensor<1x2x300x64xf32> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32>
      -> tensor<1x2x300x64xf32>
  return %o : tensor<1x2x300x64xf32>
}

// -----

// The naive path (D = 8 is not a multiple of 16) with an lse result: two
// out-parameters, no returned value; it does allocate the 2 x 5 x 7 = 70
// score matrix, which the CHECK-NOT above would catch at 300 x 300.
// CHECK-LABEL: llvm.func @naive(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT: llvm.return %
// CHECK: llvm.getelementptr %{{.*}}[70] : (!llvm.ptr) -> !llvm.ptr, f32
func.func @naive(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x7x8xf32>,
                 %v: tensor<1x2x7x8xf32>) -> (tensor<1x2x5x8xf32>, tensor<1x2x5xf32>) {
  %o, %l = attn.attention %q, %k, %v {softcap = 20.0 : f64}
      : tensor<1x2x5x8xf32>, tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>
      -> tensor<1x2x5x8xf32>, tensor<1x2x5xf32>
  return %o, %l : tensor<1x2x5x8xf32>, tensor<1x2x5xf32>
}
