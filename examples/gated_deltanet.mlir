// Gated DeltaNet with L2-normalised q/k and scale 1/sqrt(64), state out.
func.func @gdn(%q: tensor<1x4x200x64xf32>, %k: tensor<1x4x200x64xf32>,
               %v: tensor<1x4x200x64xf32>, %beta: tensor<1x4x200xf32>,
               %g: tensor<1x4x200xf32>)
    -> (tensor<1x4x200x64xf32>, tensor<1x4x64x64xf32>) {
  %o, %s = attn.delta_rule gated %q, %k, %v, %beta : tensor<1x4x200xf32>
      gate(%g : tensor<1x4x200xf32>) {l2norm, scale = 0.125 : f64}
      : tensor<1x4x200x64xf32>, tensor<1x4x200x64xf32>, tensor<1x4x200x64xf32>
      -> tensor<1x4x200x64xf32>, state tensor<1x4x64x64xf32>
  return %o, %s : tensor<1x4x200x64xf32>, tensor<1x4x64x64xf32>
}
