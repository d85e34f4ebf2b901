// KIVI-style int4 KV cache: keys per channel in groups of 32 tokens, values
// per token in groups of 32 channels, with zero points (unsigned codes).
func.func @kv_int4(%q: tensor<1x8x16x64xf32>, %kc: tensor<1x2x300x32xi8>,
                   %ks: tensor<1x2x10x64xf32>, %kz: tensor<1x2x10x64xf32>,
                   %vc: tensor<1x2x300x32xi8>, %vs: tensor<1x2x300x2xf32>,
                   %vz: tensor<1x2x300x2xf32>) -> tensor<1x8x16x64xf32> {
  %o = attn.quant_attention %q,
      key(%kc, %ks, zero %kz : tensor<1x2x300x32xi8>, tensor<1x2x10x64xf32>, tensor<1x2x10x64xf32>)
      value(%vc, %vs, zero %vz : tensor<1x2x300x32xi8>, tensor<1x2x300x2xf32>, tensor<1x2x300x2xf32>)
      {bits = 4 : i64, group_size = 32 : i64, causal}
      : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %o : tensor<1x8x16x64xf32>
}
