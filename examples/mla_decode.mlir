// DeepSeek MLA decode in absorbed form: MQA, one query token per head,
// 576-dim keys (512 latent + 64 rope) and 512-dim values, against 1000 cached tokens.
func.func @mla_decode(%q: tensor<2x16x1x576xf32>, %k: tensor<2x1x1000x576xf32>,
                      %v: tensor<2x1x1000x512xf32>) -> tensor<2x16x1x512xf32> {
  %o = attn.attention %q, %k, %v {causal, scale = 0.0416666 : f64}
      : tensor<2x16x1x576xf32>, tensor<2x1x1000x576xf32>, tensor<2x1x1000x512xf32>
      -> tensor<2x16x1x512xf32>
  return %o : tensor<2x16x1x512xf32>
}
