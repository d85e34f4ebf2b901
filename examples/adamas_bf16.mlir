// Adamas token selection in bf16: Hadamard-transformed queries and 2-bit keys
// pick 32 of 300 keys per query (first 4 and last 8 always kept), then
// attention reads only those keys.
func.func @adamas(%q: tensor<1x4x64x64xbf16>, %k: tensor<1x4x300x64xbf16>,
                  %v: tensor<1x4x300x64xbf16>) -> tensor<1x4x64x64xbf16> {
  %idx = attn.adamas_select %q, %k
      {topk = 32 : i64, causal, sink_tokens = 4 : i64, local_window = 8 : i64}
      : tensor<1x4x64x64xbf16>, tensor<1x4x300x64xbf16> -> tensor<1x4x64x32xi32>
  %o = attn.sparse_attention %q, %k, %v, %idx : tensor<1x4x64x32xi32> {causal}
      : tensor<1x4x64x64xbf16>, tensor<1x4x300x64xbf16>, tensor<1x4x300x64xbf16>
      -> tensor<1x4x64x64xbf16>
  return %o : tensor<1x4x64x64xbf16>
}
