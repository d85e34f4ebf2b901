// LoLCATs Hedgehog feature map (F = 2 x 32) feeding normalised linear
// attention without decay.
func.func @hedgehog(%q: tensor<1x2x129x64xf32>, %k: tensor<1x2x129x64xf32>,
                    %v: tensor<1x2x129x64xf32>, %w: tensor<2x64x32xf32>)
    -> tensor<1x2x129x64xf32> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<2x64x32xf32>)
      : tensor<1x2x129x64xf32> -> tensor<1x2x129x64xf32>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<2x64x32xf32>)
      : tensor<1x2x129x64xf32> -> tensor<1x2x129x64xf32>
  %o = attn.linear_attention none %fq, %fk, %v {normalize}
      : tensor<1x2x129x64xf32>, tensor<1x2x129x64xf32>, tensor<1x2x129x64xf32>
      -> tensor<1x2x129x64xf32>
  return %o : tensor<1x2x129x64xf32>
}
