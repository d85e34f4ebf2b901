// Gated linear attention (GLA): elu+1 feature maps, per-channel log-space
// decay, final state returned for chunked prefill.
func.func @gla(%q: tensor<1x4x300x64xf32>, %k: tensor<1x4x300x64xf32>,
               %v: tensor<1x4x300x64xf32>, %g: tensor<1x4x300x64xf32>)
    -> (tensor<1x4x300x64xf32>, tensor<1x4x64x64xf32>) {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x4x300x64xf32> -> tensor<1x4x300x64xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x4x300x64xf32> -> tensor<1x4x300x64xf32>
  %o, %s = attn.linear_attention vector %fq, %fk, %v gate(%g : tensor<1x4x300x64xf32>)
      {scale = 0.125 : f64}
      : tensor<1x4x300x64xf32>, tensor<1x4x300x64xf32>, tensor<1x4x300x64xf32>
      -> tensor<1x4x300x64xf32>, state tensor<1x4x64x64xf32>
  return %o, %s : tensor<1x4x300x64xf32>, tensor<1x4x64x64xf32>
}
