// DeepSeek sparse attention: a 4-head indexer picks 64 keys per query
// (first 4 tokens always kept), then attention reads only those keys.
func.func @dsa(%qi: tensor<1x4x256x32xf32>, %ki: tensor<1x1x256x32xf32>,
               %w: tensor<1x4x256xf32>, %q: tensor<1x8x256x64xf32>,
               %k: tensor<1x1x256x64xf32>, %v: tensor<1x1x256x64xf32>)
    -> tensor<1x8x256x64xf32> {
  %idx = attn.dsa_indexer %qi, %ki, %w {topk = 64 : i64, causal, sink_tokens = 4 : i64}
      : tensor<1x4x256x32xf32>, tensor<1x1x256x32xf32>, tensor<1x4x256xf32>
      -> tensor<1x1x256x64xi32>
  %o = attn.sparse_attention %q, %k, %v, %idx : tensor<1x1x256x64xi32> {causal}
      : tensor<1x8x256x64xf32>, tensor<1x1x256x64xf32>, tensor<1x1x256x64xf32>
      -> tensor<1x8x256x64xf32>
  return %o : tensor<1x8x256x64xf32>
}
