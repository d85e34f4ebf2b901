// Split-KV decode written out: two slices of a 511-token cache give partial
// (out, lse) pairs that attn.merge combines into the full result.
func.func @split_kv(%q: tensor<1x8x1x64xf32>, %k0: tensor<1x8x300x64xf32>,
                    %v0: tensor<1x8x300x64xf32>, %k1: tensor<1x8x211x64xf32>,
                    %v1: tensor<1x8x211x64xf32>)
    -> (tensor<1x8x1x64xf32>, tensor<1x8x1xf32>) {
  %o0, %l0 = attn.attention %q, %k0, %v0
      : tensor<1x8x1x64xf32>, tensor<1x8x300x64xf32>, tensor<1x8x300x64xf32>
      -> tensor<1x8x1x64xf32>, tensor<1x8x1xf32>
  %o1, %l1 = attn.attention %q, %k1, %v1
      : tensor<1x8x1x64xf32>, tensor<1x8x211x64xf32>, tensor<1x8x211x64xf32>
      -> tensor<1x8x1x64xf32>, tensor<1x8x1xf32>
  %eo = tensor.empty() : tensor<2x1x8x1x64xf32>
  %el = tensor.empty() : tensor<2x1x8x1xf32>
  %so0 = tensor.insert_slice %o0 into %eo[0, 0, 0, 0, 0] [1, 1, 8, 1, 64] [1, 1, 1, 1, 1]
      : tensor<1x8x1x64xf32> into tensor<2x1x8x1x64xf32>
  %so = tensor.insert_slice %o1 into %so0[1, 0, 0, 0, 0] [1, 1, 8, 1, 64] [1, 1, 1, 1, 1]
      : tensor<1x8x1x64xf32> into tensor<2x1x8x1x64xf32>
  %sl0 = tensor.insert_slice %l0 into %el[0, 0, 0, 0] [1, 1, 8, 1] [1, 1, 1, 1]
      : tensor<1x8x1xf32> into tensor<2x1x8x1xf32>
  %sl = tensor.insert_slice %l1 into %sl0[1, 0, 0, 0] [1, 1, 8, 1] [1, 1, 1, 1]
      : tensor<1x8x1xf32> into tensor<2x1x8x1xf32>
  %o, %lse = attn.merge %so, %sl : tensor<2x1x8x1x64xf32>, tensor<2x1x8x1xf32>
      -> tensor<1x8x1x64xf32>, tensor<1x8x1xf32>
  return %o, %lse : tensor<1x8x1x64xf32>, tensor<1x8x1xf32>
}
