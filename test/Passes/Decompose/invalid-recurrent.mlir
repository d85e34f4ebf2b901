// The recurrent and log-linear decompositions accept dynamic sizes except
// where a number must be known when the IR is built.
// RUN: attn-opt %s --attn-decompose -split-input-file -verify-diagnostics

// lolcats_hybrid without a scale defaults to 1/sqrt(D), which needs a
// static D; the op is reported rather than left half-decomposed.
func.func @lolcats_dynamic_d_default_scale(%q: tensor<1x2x8x?xf32>, %k: tensor<1x2x8x?xf32>, %v: tensor<1x2x8x4xf32>, %fq: tensor<1x2x8x6xf32>, %fk: tensor<1x2x8x6xf32>, %gam: tensor<2xf32>) -> tensor<1x2x8x4xf32> {
  // expected-error @+1 {{attn-decompose cannot decompose this op}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x8x6xf32>) gamma(%gam : tensor<2xf32>) {window = 2} : tensor<1x2x8x?xf32>, tensor<1x2x8x?xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}

// -----

// With an explicit scale a dynamic D decomposes.
func.func @lolcats_dynamic_d_scale(%q: tensor<1x2x8x?xf32>, %k: tensor<1x2x8x?xf32>, %v: tensor<1x2x8x4xf32>, %fq: tensor<1x2x8x6xf32>, %fk: tensor<1x2x8x6xf32>, %gam: tensor<2xf32>) -> tensor<1x2x8x4xf32> {
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x8x6xf32>) gamma(%gam : tensor<2xf32>) {window = 2, scale = 0.5} : tensor<1x2x8x?xf32>, tensor<1x2x8x?xf32>, tensor<1x2x8x4xf32> -> tensor<1x2x8x4xf32>
  return %o : tensor<1x2x8x4xf32>
}
