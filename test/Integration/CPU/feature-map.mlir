// attn.feature_map compiled for the CPU (through its naive decomposition)
// and checked against the fp64 reference on random inputs, for every kind,
// at L = 1, L = 37 and D = 96, in f32, f16 and bf16.
// RUN: attn-run %s --random --seed 5 --check | FileCheck %s
// RUN: attn-run %s --random --seed 6 --check | FileCheck %s

// CHECK-NOT: FAIL

// identity, a single token: F = D = 96.
// CHECK: fmap_identity_l1 {{.*}} PASS
func.func @fmap_identity_l1(%x: tensor<2x3x1x96xf32>) -> tensor<2x3x1x96xf32> {
  %y = attn.feature_map identity %x : tensor<2x3x1x96xf32> -> tensor<2x3x1x96xf32>
  return %y : tensor<2x3x1x96xf32>
}

// elu_plus_one over 37 tokens of D = 96.
// CHECK: fmap_elu_l37_d96 {{.*}} PASS
func.func @fmap_elu_l37_d96(%x: tensor<1x2x37x96xf32>) -> tensor<1x2x37x96xf32> {
  %y = attn.feature_map elu_plus_one %x : tensor<1x2x37x96xf32> -> tensor<1x2x37x96xf32>
  return %y : tensor<1x2x37x96xf32>
}

// relu on f16 (computed in f32, rounded once).
// CHECK: fmap_relu_f16 {{.*}} f16 {{.*}} PASS
func.func @fmap_relu_f16(%x: tensor<1x2x37x40xf16>) -> tensor<1x2x37x40xf16> {
  %y = attn.feature_map relu %x : tensor<1x2x37x40xf16> -> tensor<1x2x37x40xf16>
  return %y : tensor<1x2x37x40xf16>
}

// elu_plus_one on bf16.
// CHECK: fmap_elu_bf16 {{.*}} bf16 {{.*}} PASS
func.func @fmap_elu_bf16(%x: tensor<2x2x5x24xbf16>) -> tensor<2x2x5x24xbf16> {
  %y = attn.feature_map elu_plus_one %x : tensor<2x2x5x24xbf16> -> tensor<2x2x5x24xbf16>
  return %y : tensor<2x2x5x24xbf16>
}

// hedgehog, D = 96 projected to F/2 = 24 per head, F = 48.
// CHECK: fmap_hedgehog_d96 {{.*}} PASS
func.func @fmap_hedgehog_d96(%x: tensor<1x2x37x96xf32>, %w: tensor<2x96x24xf32>) -> tensor<1x2x37x48xf32> {
  %y = attn.feature_map hedgehog %x weight(%w : tensor<2x96x24xf32>) : tensor<1x2x37x96xf32> -> tensor<1x2x37x48xf32>
  return %y : tensor<1x2x37x48xf32>
}

// hedgehog with an odd F/2 = 7 and a single token, f16.
// CHECK: fmap_hedgehog_l1_f16 {{.*}} f16 {{.*}} PASS
func.func @fmap_hedgehog_l1_f16(%x: tensor<2x3x1x16xf16>, %w: tensor<3x16x7xf16>) -> tensor<2x3x1x14xf16> {
  %y = attn.feature_map hedgehog %x weight(%w : tensor<3x16x7xf16>) : tensor<2x3x1x16xf16> -> tensor<2x3x1x14xf16>
  return %y : tensor<2x3x1x14xf16>
}

// hedgehog on bf16.
// CHECK: fmap_hedgehog_bf16 {{.*}} bf16 {{.*}} PASS
func.func @fmap_hedgehog_bf16(%x: tensor<1x2x37x32xbf16>, %w: tensor<2x32x16xbf16>) -> tensor<1x2x37x32xbf16> {
  %y = attn.feature_map hedgehog %x weight(%w : tensor<2x32x16xbf16>) : tensor<1x2x37x32xbf16> -> tensor<1x2x37x32xbf16>
  return %y : tensor<1x2x37x32xbf16>
}
