// Sliding window of 64 keys to the left (Mistral/Gemma style) with a tanh
// softcap of 30 and a score_mod that adds an ALiBi bias of -0.05 * (i - j).
func.func @window_softcap(%q: tensor<1x4x200x96xf32>, %k: tensor<1x4x200x96xf32>,
                          %v: tensor<1x4x200x96xf32>) -> tensor<1x4x200x96xf32> {
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %slope = arith.constant -0.05 : f32
    %bias = arith.mulf %df, %slope : f32
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  } {causal, window = array<i64: 64, 0>, softcap = 30.0 : f64}
      : tensor<1x4x200x96xf32>, tensor<1x4x200x96xf32>, tensor<1x4x200x96xf32>
      -> tensor<1x4x200x96xf32>
  return %o : tensor<1x4x200x96xf32>
}
