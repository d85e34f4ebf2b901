// OPS.md's required property: log-linear attention with every lambda equal
// to 1 is its base op. The compiled log_linear (mamba2 base, L = 37, ceil(log2 37) + 1 = 7 levels)
// and the compiled scalar-decay linear attention run on the same q, k, v, g;
// their outputs must agree to f32 rounding.
// RUN: rm -rf %t && mkdir -p %t
// RUN: python3 %S/Inputs/ones_lambda.py %t
// RUN: attn-run %s --entry log_linear_ones --input query=%t/q.npy --input key=%t/k.npy --input value=%t/v.npy --input lambda=%t/lam.npy --input gate=%t/g.npy --output-dir %t --check
// RUN: attn-run %s --entry linear_base --input query=%t/q.npy --input key=%t/k.npy --input value=%t/v.npy --input gate=%t/g.npy --output-dir %t --check
// RUN: python3 %S/Inputs/compare_npy.py %t/log_linear_ones.result0.npy %t/linear_base.result0.npy 1e-5 | FileCheck %s
// CHECK: agree

func.func @log_linear_ones(%q: tensor<1x2x37x16xf32>, %k: tensor<1x2x37x16xf32>,
                           %v: tensor<1x2x37x24xf32>, %lam: tensor<1x2x37x7xf32>,
                           %g: tensor<1x2x37xf32>) -> tensor<1x2x37x24xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x37x7xf32>
      gate(%g : tensor<1x2x37xf32>)
      : tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x24xf32>
      -> tensor<1x2x37x24xf32>
  return %o : tensor<1x2x37x24xf32>
}

func.func @linear_base(%q: tensor<1x2x37x16xf32>, %k: tensor<1x2x37x16xf32>,
                       %v: tensor<1x2x37x24xf32>, %g: tensor<1x2x37xf32>)
    -> tensor<1x2x37x24xf32> {
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x2x37xf32>)
      : tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x24xf32>
      -> tensor<1x2x37x24xf32>
  return %o : tensor<1x2x37x24xf32>
}
