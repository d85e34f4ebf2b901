// attn-cpu-pipeline turns a public function on tensors into an LLVM function
// that takes one bare pointer per argument and per result (results become
// trailing out-parameters), with the softmax's exp lowered to the LLVM
// intrinsic, like the softcap's tanh.
// RUN: attn-opt %s --attn-cpu-pipeline | FileCheck %s

// CHECK-NOT: attn.
// CHECK-LABEL: llvm.func @softcap(
// CHECK-SAME: %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr, %{{.*}}: !llvm.ptr)
// CHECK-NOT: llvm.return %
// CHECK: llvm.intr.tanh
// CHECK: llvm.intr.exp
func.func @softcap(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x7x8xf32>,
                   %v: tensor<1x2x7x8xf32>) -> (tensor<1x2x5x8xf32>, tensor<1x2x5xf32>) {
  %o, %l = attn.attention %q, %k, %v {softcap = 20.0 : f64}
      : tensor<1x2x5x8xf32>, tensor<1x2x7x8xf32>, tensor<1x2x7x8xf32>
      -> tensor<1x2x5x8xf32>, tensor<1x2x5xf32>
  return %o, %l : tensor<1x2x5x8xf32>, tensor<1x2x5xf32>
}
