// Kimi Delta Attention: per-channel gates, Dv = 32 != D = 64.
func.func @kda(%q: tensor<1x2x150x64xf32>, %k: tensor<1x2x150x64xf32>,
               %v: tensor<1x2x150x32xf32>, %beta: tensor<1x2x150xf32>,
               %g: tensor<1x2x150x64xf32>) -> tensor<1x2x150x32xf32> {
  %o = attn.delta_rule kda %q, %k, %v, %beta : tensor<1x2x150xf32>
      gate(%g : tensor<1x2x150x64xf32>) {l2norm}
      : tensor<1x2x150x64xf32>, tensor<1x2x150x64xf32>, tensor<1x2x150x32xf32>
      -> tensor<1x2x150x32xf32>
  return %o : tensor<1x2x150x32xf32>
}
