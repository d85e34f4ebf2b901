// The CPU kernel of attn.pq_encode (passes/Tile/PqEncodeCpu.cpp): f64
// distances of 8 centroids a vector, summed in the reference's order, the
// first minimum across lanes; codes compared exactly with the fp64
// reference: 150 keys (tasks of 64, 64, 22), m = 32 sub-spaces of 4 dims
// and 256 centroids in f32 and bf16, and 16-centroid nibbles with odd
// sub-space dims.
// RUN: attn-run %s --random --seed 81 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 82 --check | FileCheck %s
// RUN: not attn-run %s --entry encode_256 --random --seed 81 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR

// CHECK-NOT: FAIL
// BROKEN: encode_256 {{.*}} FAIL
// IR-NOT: attn.pq_encode
// IR-NOT: linalg.generic
// IR: vector.reduction <minimumf>
// IR: vector.reduction <minsi>

// CHECK: encode_256 {{.*}} PASS
func.func @encode_256(%k: tensor<1x2x150x128xf32>, %cb: tensor<2x32x256x4xf32>) -> tensor<1x2x150x32xi8> {
  %c = attn.pq_encode %k, %cb : tensor<1x2x150x128xf32>, tensor<2x32x256x4xf32> -> tensor<1x2x150x32xi8>
  return %c : tensor<1x2x150x32xi8>
}

// CHECK: encode_256_bf16 {{.*}} PASS
func.func @encode_256_bf16(%k: tensor<2x1x70x64xbf16>, %cb: tensor<1x16x256x4xf32>) -> tensor<2x1x70x16xi8> {
  %c = attn.pq_encode %k, %cb : tensor<2x1x70x64xbf16>, tensor<1x16x256x4xf32> -> tensor<2x1x70x16xi8>
  return %c : tensor<2x1x70x16xi8>
}

// CHECK: encode_16_odd_dims {{.*}} PASS
func.func @encode_16_odd_dims(%k: tensor<1x3x33x30xf16>, %cb: tensor<3x10x16x3xf32>) -> tensor<1x3x33x5xi8> {
  %c = attn.pq_encode %k, %cb : tensor<1x3x33x30xf16>, tensor<3x10x16x3xf32> -> tensor<1x3x33x5xi8>
  return %c : tensor<1x3x33x5xi8>
}
