// GQA prefill: 8 query heads share 2 kv heads (G = 4), causal, lse returned.
func.func @gqa_causal(%q: tensor<1x8x256x64xf32>, %k: tensor<1x2x256x64xf32>,
                      %v: tensor<1x2x256x64xf32>)
    -> (tensor<1x8x256x64xf32>, tensor<1x8x256xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal}
      : tensor<1x8x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>
      -> tensor<1x8x256x64xf32>, tensor<1x8x256xf32>
  return %o, %lse : tensor<1x8x256x64xf32>, tensor<1x8x256xf32>
}
