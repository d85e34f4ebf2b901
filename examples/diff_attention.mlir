// Differential attention with lambda_init = 0.8 and a learned RMS-norm weight.
func.func @diff(%q1: tensor<1x4x128x64xf32>, %k1: tensor<1x4x128x64xf32>,
                %q2: tensor<1x4x128x64xf32>, %k2: tensor<1x4x128x64xf32>,
                %v: tensor<1x4x128x128xf32>, %lam: tensor<4xf32>,
                %w: tensor<128xf32>) -> tensor<1x4x128x128xf32> {
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<4xf32>)
      norm(%w : tensor<128xf32>) {lambda_init = 0.8 : f64, causal}
      : tensor<1x4x128x64xf32>, tensor<1x4x128x64xf32>, tensor<1x4x128x128xf32>
      -> tensor<1x4x128x128xf32>
  return %o : tensor<1x4x128x128xf32>
}
