// Serving-style decode in bf16: 32 query heads over 8 kv heads (GQA), one new
// token against a 4000-token cache, with lse for split-KV merging; takes the
// split-KV decode kernel.
func.func @decode(%q: tensor<2x32x1x128xbf16>, %k: tensor<2x8x4000x128xbf16>,
                  %v: tensor<2x8x4000x128xbf16>)
    -> (tensor<2x32x1x128xbf16>, tensor<2x32x1xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal}
      : tensor<2x32x1x128xbf16>, tensor<2x8x4000x128xbf16>, tensor<2x8x4000x128xbf16>
      -> tensor<2x32x1x128xbf16>, tensor<2x32x1xf32>
  return %o, %lse : tensor<2x32x1x128xbf16>, tensor<2x32x1xf32>
}
