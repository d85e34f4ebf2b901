// attn.page_bounds compiled for the CPU and checked against the fp64
// reference; min and max of f32/f16/bf16 keys are exact in f32, so the error
// must be 0.
// RUN: attn-run %s --random --seed 12 --check | FileCheck %s

// Lk = 37 in pages of 8: P = 5, the last page holds 5 keys. D = 96.
// CHECK: ragged_last_page {{.*}} 0.00e+00 {{.*}} PASS
// CHECK: ragged_last_page {{.*}} 0.00e+00 {{.*}} PASS
func.func @ragged_last_page(%k: tensor<2x3x37x96xf32>)
    -> (tensor<2x3x5x96xf32>, tensor<2x3x5x96xf32>) {
  %mn, %mx = attn.page_bounds %k {page_size = 8 : i64}
      : tensor<2x3x37x96xf32> -> tensor<2x3x5x96xf32>, tensor<2x3x5x96xf32>
  return %mn, %mx : tensor<2x3x5x96xf32>, tensor<2x3x5x96xf32>
}

// One page larger than the sequence: page 64 over Lk = 37, f16 keys.
// CHECK: page_over_sequence {{.*}} 0.00e+00 {{.*}} PASS
// CHECK: page_over_sequence {{.*}} 0.00e+00 {{.*}} PASS
func.func @page_over_sequence(%k: tensor<1x2x37x16xf16>)
    -> (tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>) {
  %mn, %mx = attn.page_bounds %k {page_size = 64 : i64}
      : tensor<1x2x37x16xf16> -> tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>
  return %mn, %mx : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>
}

// Single-key pages (min = max = k) and exact pages of 16, bf16 keys.
// CHECK: bf16_page_one {{.*}} 0.00e+00 {{.*}} PASS
// CHECK: bf16_page_one {{.*}} 0.00e+00 {{.*}} PASS
func.func @bf16_page_one(%k: tensor<1x1x7x8xbf16>)
    -> (tensor<1x1x7x8xf32>, tensor<1x1x7x8xf32>) {
  %mn, %mx = attn.page_bounds %k {page_size = 1 : i64}
      : tensor<1x1x7x8xbf16> -> tensor<1x1x7x8xf32>, tensor<1x1x7x8xf32>
  return %mn, %mx : tensor<1x1x7x8xf32>, tensor<1x1x7x8xf32>
}

// CHECK: bf16_exact_pages {{.*}} 0.00e+00 {{.*}} PASS
// CHECK: bf16_exact_pages {{.*}} 0.00e+00 {{.*}} PASS
func.func @bf16_exact_pages(%k: tensor<1x2x32x8xbf16>)
    -> (tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>) {
  %mn, %mx = attn.page_bounds %k {page_size = 16 : i64}
      : tensor<1x2x32x8xbf16> -> tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>
  return %mn, %mx : tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>
}
