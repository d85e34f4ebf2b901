// LOOKAT: fit 8-bit PQ codebooks (m = 16 sub-spaces of 4 dims) on calibration
// keys, encode the cache (64x key compression), attend with lookup tables.
func.func @lookat(%calib: tensor<2x512x64xf32>, %q: tensor<1x2x8x64xf32>,
                  %k: tensor<1x2x400x64xf32>, %v: tensor<1x2x400x64xf32>)
    -> tensor<1x2x8x64xf32> {
  %cb = attn.pq_fit %calib {iters = 10 : i64, seed = 7 : i64}
      : tensor<2x512x64xf32> -> tensor<2x16x256x4xf32>
  %codes = attn.pq_encode %k, %cb : tensor<1x2x400x64xf32>, tensor<2x16x256x4xf32>
      -> tensor<1x2x400x16xi8>
  %o = attn.pq_attention %q, %codes, %cb, %v {causal}
      : tensor<1x2x8x64xf32>, tensor<1x2x400x16xi8>, tensor<2x16x256x4xf32>,
        tensor<1x2x400x64xf32> -> tensor<1x2x8x64xf32>
  return %o : tensor<1x2x8x64xf32>
}
