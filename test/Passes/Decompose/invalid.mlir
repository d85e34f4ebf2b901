// attn-decompose refuses what it cannot spell and names the op.
// RUN: attn-opt %s --attn-decompose -split-input-file -verify-diagnostics

// Dynamic head counts cannot be decomposed (G is needed in the maps): the
// pass reports the op instead of leaving it for a lowering to trip over.
func.func @dynamic_heads(%q: tensor<1x?x4x8xf32>, %k: tensor<1x?x4x8xf32>,
                         %v: tensor<1x?x4x8xf32>) -> tensor<1x?x4x8xf32> {
  // expected-error @+1 {{attn-decompose cannot decompose this op}}
  %o = attn.attention %q, %k, %v
      : tensor<1x?x4x8xf32>, tensor<1x?x4x8xf32>, tensor<1x?x4x8xf32> -> tensor<1x?x4x8xf32>
  return %o : tensor<1x?x4x8xf32>
}
