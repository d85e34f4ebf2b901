// Quest decode: per-page min/max of the keys (16-token pages), the 8 best
// pages per query by the upper bound, then attention over those pages.
func.func @quest(%q: tensor<1x4x1x64xf32>, %k: tensor<1x4x500x64xf32>,
                 %v: tensor<1x4x500x64xf32>) -> tensor<1x4x1x64xf32> {
  %mn, %mx = attn.page_bounds %k {page_size = 16 : i64}
      : tensor<1x4x500x64xf32> -> tensor<1x4x32x64xf32>, tensor<1x4x32x64xf32>
  %pages = attn.quest_select %q, %mn, %mx
      {page_size = 16 : i64, topk = 8 : i64, key_length = 500 : i64, causal}
      : tensor<1x4x1x64xf32>, tensor<1x4x32x64xf32> -> tensor<1x4x1x8xi32>
  %o = attn.sparse_attention %q, %k, %v, %pages : tensor<1x4x1x8xi32>
      {key_block = 16 : i64, causal}
      : tensor<1x4x1x64xf32>, tensor<1x4x500x64xf32>, tensor<1x4x500x64xf32>
      -> tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}
