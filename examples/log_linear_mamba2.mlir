// Log-linear Mamba-2: L = 300 needs ceil(log2 300) + 1 = 10 Fenwick levels.
func.func @log_linear(%q: tensor<1x2x300x32xf32>, %k: tensor<1x2x300x32xf32>,
                      %v: tensor<1x2x300x32xf32>, %lam: tensor<1x2x300x10xf32>,
                      %g: tensor<1x2x300xf32>) -> tensor<1x2x300x32xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x300x10xf32>
      gate(%g : tensor<1x2x300xf32>)
      : tensor<1x2x300x32xf32>, tensor<1x2x300x32xf32>, tensor<1x2x300x32xf32>
      -> tensor<1x2x300x32xf32>
  return %o : tensor<1x2x300x32xf32>
}
