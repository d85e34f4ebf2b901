// FlexAttention-style block mask: 64x64 blocks, per query block a list of
// visible key blocks; the rest are skipped without being read.
func.func @block_sparse(%q: tensor<1x4x256x64xf32>, %k: tensor<1x4x256x64xf32>,
                        %v: tensor<1x4x256x64xf32>, %num: tensor<1x4x4xi32>,
                        %idx: tensor<1x4x4x4xi32>) -> tensor<1x4x256x64xf32> {
  %o = attn.attention %q, %k, %v
      blocks(%num, %idx : tensor<1x4x4xi32>, tensor<1x4x4x4xi32>)
      {block_q = 64 : i64, block_k = 64 : i64}
      : tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>, tensor<1x4x256x64xf32>
      -> tensor<1x4x256x64xf32>
  return %o : tensor<1x4x256x64xf32>
}
