// LoLCATs hybrid: 64-token sliding softmax window plus Hedgehog linear
// attention over older keys, one shared normaliser.
func.func @lolcats(%q: tensor<1x2x257x64xf32>, %k: tensor<1x2x257x64xf32>,
                   %v: tensor<1x2x257x64xf32>, %w: tensor<2x64x32xf32>,
                   %gamma: tensor<2xf32>) -> tensor<1x2x257x64xf32> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<2x64x32xf32>)
      : tensor<1x2x257x64xf32> -> tensor<1x2x257x64xf32>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<2x64x32xf32>)
      : tensor<1x2x257x64xf32> -> tensor<1x2x257x64xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x257x64xf32>)
      gamma(%gamma : tensor<2xf32>) {window = 64 : i64}
      : tensor<1x2x257x64xf32>, tensor<1x2x257x64xf32>, tensor<1x2x257x64xf32>
      -> tensor<1x2x257x64xf32>
  return %o : tensor<1x2x257x64xf32>
}
