// The CPU kernels of attn.feature_map (passes/Tile/FeatureMapCpu.cpp): hedgehog,
// the projection x W[h] on register tiles per block of 64 tokens, then the
// two softmaxes per token, against the fp64 reference on random inputs:
// blocks of 64, 64 and 22 tokens, D = 96 and 40 (not multiples of 16),
// F/2 = 48 and 32, B and H > 1, f32, f16 and bf16 (F/2 not a multiple of
// 16 stays naive: feature-map.mlir).
// RUN: attn-run %s --random --seed 71 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 72 --check | FileCheck %s
// RUN: not attn-run %s --entry hedgehog_ragged --random --seed 71 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR

// CHECK-NOT: FAIL
// BROKEN: hedgehog_ragged {{.*}} FAIL
// IR-NOT: attn.feature_map
// IR-NOT: linalg.generic
// IR: scf.parallel
// IR: vector.fma
// IR: vector.reduction <maximumf>

// CHECK: hedgehog_ragged {{.*}} PASS
func.func @hedgehog_ragged(%x: tensor<2x3x150x96xf32>, %w: tensor<3x96x48xf32>) -> tensor<2x3x150x96xf32> {
  %y = attn.feature_map hedgehog %x weight(%w : tensor<3x96x48xf32>) : tensor<2x3x150x96xf32> -> tensor<2x3x150x96xf32>
  return %y : tensor<2x3x150x96xf32>
}

// CHECK: hedgehog_f16 {{.*}} PASS
func.func @hedgehog_f16(%x: tensor<1x2x5x40xf16>, %w: tensor<2x40x32xf16>) -> tensor<1x2x5x64xf16> {
  %y = attn.feature_map hedgehog %x weight(%w : tensor<2x40x32xf16>) : tensor<1x2x5x40xf16> -> tensor<1x2x5x64xf16>
  return %y : tensor<1x2x5x64xf16>
}

// CHECK: hedgehog_bf16_one_token {{.*}} PASS
func.func @hedgehog_bf16_one_token(%x: tensor<3x1x1x64xbf16>, %w: tensor<1x64x16xbf16>) -> tensor<3x1x1x32xbf16> {
  %y = attn.feature_map hedgehog %x weight(%w : tensor<1x64x16xbf16>) : tensor<3x1x1x64xbf16> -> tensor<3x1x1x32xbf16>
  return %y : tensor<3x1x1x32xbf16>
}

// The elementwise maps where nothing fuses them: vectors of 16 channels.
// CHECK: elu_f16 {{.*}} PASS
func.func @elu_f16(%x: tensor<2x3x7x48xf16>) -> tensor<2x3x7x48xf16> {
  %y = attn.feature_map elu_plus_one %x : tensor<2x3x7x48xf16> -> tensor<2x3x7x48xf16>
  return %y : tensor<2x3x7x48xf16>
}

// CHECK: relu_bf16 {{.*}} PASS
func.func @relu_bf16(%x: tensor<1x2x33x32xbf16>) -> tensor<1x2x33x32xbf16> {
  %y = attn.feature_map relu %x : tensor<1x2x33x32xbf16> -> tensor<1x2x33x32xbf16>
  return %y : tensor<1x2x33x32xbf16>
}
