// The LOOKAT product-quantisation ops compiled for the CPU and checked
// against the fp64 reference: pq_fit codebooks (f32, tolerance 1e-4, but the
// decomposition reproduces the reference's f64 k-means exactly, so the error
// is f32 rounding), pq_encode codes (exact) and pq_attention.
// RUN: attn-run %s --random --seed 19 --check | FileCheck %s
// RUN: attn-run %s --random --seed 20 --check | FileCheck %s

// k-means with Kc = 16 and m = D = 8 (one dim per sub-space), N = 40. The
// error must be f32 rounding alone: at most 2^-24 = 5.96e-08.
// CHECK: fit_16_m_eq_d {{.*}} max rel err {{(0\.00e\+00|[1-5]\.[0-9][0-9]e-08|[1-9]\.[0-9][0-9]e-(09|1[0-9]))}} {{.*}} PASS
func.func @fit_16_m_eq_d(%keys: tensor<2x40x8xf32>) -> tensor<2x8x16x1xf32> {
  %cb = attn.pq_fit %keys {iters = 5 : i64, seed = 3 : i64}
      : tensor<2x40x8xf32> -> tensor<2x8x16x1xf32>
  return %cb : tensor<2x8x16x1xf32>
}

// Kc = 256 from N = 300 one-dimensional bf16 points: bf16 repeats values,
// so fewer than 256 distinct points exist, the last draws find every
// D(x)^2 = 0 and fall back to floor(u N). The codes of the fitted codebooks
// must match exactly too.
// CHECK: fit_256_bf16_duplicates {{.*}} PASS
// CHECK: fit_256_bf16_duplicates {{.*}} i8 {{.*}} PASS
func.func @fit_256_bf16_duplicates(%keys: tensor<1x300x2xbf16>)
    -> (tensor<1x2x256x1xf32>, tensor<1x1x300x2xi8>) {
  %cb = attn.pq_fit %keys {iters = 4 : i64, seed = 11 : i64}
      : tensor<1x300x2xbf16> -> tensor<1x2x256x1xf32>
  %e = tensor.empty() : tensor<1x1x300x2xbf16>
  %k = tensor.insert_slice %keys into %e[0, 0, 0, 0] [1, 1, 300, 2] [1, 1, 1, 1]
      : tensor<1x300x2xbf16> into tensor<1x1x300x2xbf16>
  %codes = attn.pq_encode %k, %cb : tensor<1x1x300x2xbf16>, tensor<1x2x256x1xf32>
      -> tensor<1x1x300x2xi8>
  return %cb, %codes : tensor<1x2x256x1xf32>, tensor<1x1x300x2xi8>
}

// m = D = 96 sub-spaces of one dim with Kc = 256 (one byte each, read as
// unsigned), f32 keys, random codebooks.
// CHECK: encode_256_m_eq_d {{.*}} PASS
func.func @encode_256_m_eq_d(%k: tensor<1x2x37x96xf32>, %cb: tensor<2x96x256x1xf32>)
    -> tensor<1x2x37x96xi8> {
  %c = attn.pq_encode %k, %cb : tensor<1x2x37x96xf32>, tensor<2x96x256x1xf32>
      -> tensor<1x2x37x96xi8>
  return %c : tensor<1x2x37x96xi8>
}

// Kc = 16: m = 48 sub-spaces of 2 dims pack into 24 bytes, low nibble first;
// f16 keys.
// CHECK: encode_16_half {{.*}} PASS
func.func @encode_16_half(%k: tensor<2x1x37x96xf16>, %cb: tensor<1x48x16x2xf32>)
    -> tensor<2x1x37x24xi8> {
  %c = attn.pq_encode %k, %cb : tensor<2x1x37x96xf16>, tensor<1x48x16x2xf32>
      -> tensor<2x1x37x24xi8>
  return %c : tensor<2x1x37x24xi8>
}

// Kc = 16, m = D = 8 in bf16.
// CHECK: encode_16_bf16_m_eq_d {{.*}} PASS
func.func @encode_16_bf16_m_eq_d(%k: tensor<1x3x37x8xbf16>, %cb: tensor<3x8x16x1xf32>)
    -> tensor<1x3x37x4xi8> {
  %c = attn.pq_encode %k, %cb : tensor<1x3x37x8xbf16>, tensor<3x8x16x1xf32>
      -> tensor<1x3x37x4xi8>
  return %c : tensor<1x3x37x4xi8>
}

// LOOKAT decode: Lq = 1, Lk = 37 random codes (any byte), Kc = 256,
// m = 16 sub-spaces of 6 dims (D = 96), Dv = 40, G = 7, lse.
// CHECK: attention_256_decode {{.*}} PASS
// CHECK: attention_256_decode {{.*}} PASS
func.func @attention_256_decode(%q: tensor<2x7x1x96xf32>, %c: tensor<2x1x37x16xi8>,
                                %cb: tensor<1x16x256x6xf32>, %v: tensor<2x1x37x40xf32>)
    -> (tensor<2x7x1x40xf32>, tensor<2x7x1xf32>) {
  %o, %l = attn.pq_attention %q, %c, %cb, %v {causal}
      : tensor<2x7x1x96xf32>, tensor<2x1x37x16xi8>, tensor<1x16x256x6xf32>,
        tensor<2x1x37x40xf32> -> tensor<2x7x1x40xf32>, tensor<2x7x1xf32>
  return %o, %l : tensor<2x7x1x40xf32>, tensor<2x7x1xf32>
}

// Kc = 16 nibble codes with m = D = 96 (48 bytes), f16 prefill, causal,
// G = 2.
// CHECK: attention_16_m_eq_d_half {{.*}} f16 {{.*}} PASS
func.func @attention_16_m_eq_d_half(%q: tensor<1x4x37x96xf16>, %c: tensor<1x2x37x48xi8>,
                                    %cb: tensor<2x96x16x1xf32>, %v: tensor<1x2x37x96xf16>)
    -> tensor<1x4x37x96xf16> {
  %o = attn.pq_attention %q, %c, %cb, %v {causal}
      : tensor<1x4x37x96xf16>, tensor<1x2x37x48xi8>, tensor<2x96x16x1xf32>,
        tensor<1x2x37x96xf16> -> tensor<1x4x37x96xf16>
  return %o : tensor<1x4x37x96xf16>
}

// bf16, Kc = 16, m = 8 sub-spaces of 4 dims, scale 0.25, no causal rule.
// CHECK: attention_16_bf16 {{.*}} bf16 {{.*}} PASS
func.func @attention_16_bf16(%q: tensor<1x2x13x32xbf16>, %c: tensor<1x2x37x4xi8>,
                             %cb: tensor<2x8x16x4xf32>, %v: tensor<1x2x37x24xbf16>)
    -> tensor<1x2x13x24xbf16> {
  %o = attn.pq_attention %q, %c, %cb, %v {scale = 0.25 : f64}
      : tensor<1x2x13x32xbf16>, tensor<1x2x37x4xi8>, tensor<2x8x16x4xf32>,
        tensor<1x2x37x24xbf16> -> tensor<1x2x13x24xbf16>
  return %o : tensor<1x2x13x24xbf16>
}

// Fit, encode and attend, as in examples/pq_lookat.mlir: Kc = 16 codebooks
// fitted on the cache itself (N = Lk = 37), m = 4.
// CHECK: fit_encode_attend {{.*}} PASS
func.func @fit_encode_attend(%calib: tensor<2x37x16xf32>, %q: tensor<1x2x5x16xf32>,
                             %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x8xf32>)
    -> tensor<1x2x5x8xf32> {
  %cb = attn.pq_fit %calib {iters = 6 : i64, seed = 2 : i64}
      : tensor<2x37x16xf32> -> tensor<2x4x16x4xf32>
  %codes = attn.pq_encode %k, %cb : tensor<1x2x37x16xf32>, tensor<2x4x16x4xf32>
      -> tensor<1x2x37x2xi8>
  %o = attn.pq_attention %q, %codes, %cb, %v {causal}
      : tensor<1x2x5x16xf32>, tensor<1x2x37x2xi8>, tensor<2x4x16x4xf32>,
        tensor<1x2x37x8xf32> -> tensor<1x2x5x8xf32>
  return %o : tensor<1x2x5x8xf32>
}
