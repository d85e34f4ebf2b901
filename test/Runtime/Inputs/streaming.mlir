// Kernels of the streaming-decode tests (test/Runtime/StreamingTest.cpp):
// each reads a runtime cache's view in place (docs/Caches.md). Slots S = 3,
// Hq = 4, Hkv = 2, D = Dv = 32, capacity 64 tokens; paged: 20 pages of 8
// tokens, 8 table entries per sequence; prefill chunks of 5 tokens; quantised
// caches group 16 tokens; PQ m = 8 sub-spaces of 256 centroids; recurrent
// kernels run one sequence (B = 1, 4 heads, D = Dv = 16) per call;
// log-linear keeps 7 level states (positions below 64).

func.func @kv_decode(%q: tensor<3x4x1x32xf32>, %k: tensor<3x2x64x32xf32>, %v: tensor<3x2x64x32xf32>, %n: tensor<3xi32>) -> tensor<3x4x1x32xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>) {causal}
      : tensor<3x4x1x32xf32>, tensor<3x2x64x32xf32>, tensor<3x2x64x32xf32> -> tensor<3x4x1x32xf32>
  return %o : tensor<3x4x1x32xf32>
}

func.func @kv_chunk(%q: tensor<3x4x5x32xf32>, %k: tensor<3x2x64x32xf32>, %v: tensor<3x2x64x32xf32>, %n: tensor<3xi32>) -> tensor<3x4x5x32xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>) {causal}
      : tensor<3x4x5x32xf32>, tensor<3x2x64x32xf32>, tensor<3x2x64x32xf32> -> tensor<3x4x5x32xf32>
  return %o : tensor<3x4x5x32xf32>
}

func.func @paged_decode(%q: tensor<3x4x1x32xf32>, %k: tensor<20x2x8x32xf32>, %v: tensor<20x2x8x32xf32>, %n: tensor<3xi32>, %t: tensor<3x8xi32>) -> tensor<3x4x1x32xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>) block_table(%t : tensor<3x8xi32>) {causal}
      : tensor<3x4x1x32xf32>, tensor<20x2x8x32xf32>, tensor<20x2x8x32xf32> -> tensor<3x4x1x32xf32>
  return %o : tensor<3x4x1x32xf32>
}

func.func @paged_chunk(%q: tensor<3x4x5x32xf32>, %k: tensor<20x2x8x32xf32>, %v: tensor<20x2x8x32xf32>, %n: tensor<3xi32>, %t: tensor<3x8xi32>) -> tensor<3x4x5x32xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>) block_table(%t : tensor<3x8xi32>) {causal}
      : tensor<3x4x5x32xf32>, tensor<20x2x8x32xf32>, tensor<20x2x8x32xf32> -> tensor<3x4x5x32xf32>
  return %o : tensor<3x4x5x32xf32>
}

func.func @quant8_decode(%q: tensor<3x4x1x32xf32>, %kc: tensor<3x2x64x32xi8>, %ks: tensor<3x2x4x32xf32>, %vc: tensor<3x2x64x32xi8>, %vs: tensor<3x2x64x2xf32>, %qn: tensor<3xi32>, %rk: tensor<3x2x16x32xf32>, %rv: tensor<3x2x16x32xf32>, %rn: tensor<3xi32>) -> tensor<3x4x1x32xf32> {
  %o0, %l0 = attn.quant_attention %q, key(%kc, %ks : tensor<3x2x64x32xi8>, tensor<3x2x4x32xf32>)
      value(%vc, %vs : tensor<3x2x64x32xi8>, tensor<3x2x64x2xf32>) kv_lens(%qn : tensor<3xi32>)
      {bits = 8 : i64, group_size = 16 : i64} : tensor<3x4x1x32xf32> -> tensor<3x4x1x32xf32>, tensor<3x4x1xf32>
  %o1, %l1 = attn.attention %q, %rk, %rv kv_lens(%rn : tensor<3xi32>)
      : tensor<3x4x1x32xf32>, tensor<3x2x16x32xf32>, tensor<3x2x16x32xf32> -> tensor<3x4x1x32xf32>, tensor<3x4x1xf32>
  %eo = tensor.empty() : tensor<2x3x4x1x32xf32>
  %el = tensor.empty() : tensor<2x3x4x1xf32>
  %so0 = tensor.insert_slice %o0 into %eo[0, 0, 0, 0, 0] [1, 3, 4, 1, 32] [1, 1, 1, 1, 1]
      : tensor<3x4x1x32xf32> into tensor<2x3x4x1x32xf32>
  %so = tensor.insert_slice %o1 into %so0[1, 0, 0, 0, 0] [1, 3, 4, 1, 32] [1, 1, 1, 1, 1]
      : tensor<3x4x1x32xf32> into tensor<2x3x4x1x32xf32>
  %sl0 = tensor.insert_slice %l0 into %el[0, 0, 0, 0] [1, 3, 4, 1] [1, 1, 1, 1]
      : tensor<3x4x1xf32> into tensor<2x3x4x1xf32>
  %sl = tensor.insert_slice %l1 into %sl0[1, 0, 0, 0] [1, 3, 4, 1] [1, 1, 1, 1]
      : tensor<3x4x1xf32> into tensor<2x3x4x1xf32>
  %o, %l = attn.merge %so, %sl : tensor<2x3x4x1x32xf32>, tensor<2x3x4x1xf32> -> tensor<3x4x1x32xf32>, tensor<3x4x1xf32>
  return %o : tensor<3x4x1x32xf32>
}

func.func @quant4z_decode(%q: tensor<3x4x1x32xf32>, %kc: tensor<3x2x64x16xi8>, %ks: tensor<3x2x4x32xf32>, %kz: tensor<3x2x4x32xf32>, %vc: tensor<3x2x64x16xi8>, %vs: tensor<3x2x64x2xf32>, %vz: tensor<3x2x64x2xf32>, %qn: tensor<3xi32>, %rk: tensor<3x2x16x32xf32>, %rv: tensor<3x2x16x32xf32>, %rn: tensor<3xi32>) -> tensor<3x4x1x32xf32> {
  %o0, %l0 = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<3x2x64x16xi8>, tensor<3x2x4x32xf32>, tensor<3x2x4x32xf32>)
      value(%vc, %vs, zero %vz : tensor<3x2x64x16xi8>, tensor<3x2x64x2xf32>, tensor<3x2x64x2xf32>) kv_lens(%qn : tensor<3xi32>)
      {bits = 4 : i64, group_size = 16 : i64} : tensor<3x4x1x32xf32> -> tensor<3x4x1x32xf32>, tensor<3x4x1xf32>
  %o1, %l1 = attn.attention %q, %rk, %rv kv_lens(%rn : tensor<3xi32>)
      : tensor<3x4x1x32xf32>, tensor<3x2x16x32xf32>, tensor<3x2x16x32xf32> -> tensor<3x4x1x32xf32>, tensor<3x4x1xf32>
  %eo = tensor.empty() : tensor<2x3x4x1x32xf32>
  %el = tensor.empty() : tensor<2x3x4x1xf32>
  %so0 = tensor.insert_slice %o0 into %eo[0, 0, 0, 0, 0] [1, 3, 4, 1, 32] [1, 1, 1, 1, 1]
      : tensor<3x4x1x32xf32> into tensor<2x3x4x1x32xf32>
  %so = tensor.insert_slice %o1 into %so0[1, 0, 0, 0, 0] [1, 3, 4, 1, 32] [1, 1, 1, 1, 1]
      : tensor<3x4x1x32xf32> into tensor<2x3x4x1x32xf32>
  %sl0 = tensor.insert_slice %l0 into %el[0, 0, 0, 0] [1, 3, 4, 1] [1, 1, 1, 1]
      : tensor<3x4x1xf32> into tensor<2x3x4x1xf32>
  %sl = tensor.insert_slice %l1 into %sl0[1, 0, 0, 0] [1, 3, 4, 1] [1, 1, 1, 1]
      : tensor<3x4x1xf32> into tensor<2x3x4x1xf32>
  %o, %l = attn.merge %so, %sl : tensor<2x3x4x1x32xf32>, tensor<2x3x4x1xf32> -> tensor<3x4x1x32xf32>, tensor<3x4x1xf32>
  return %o : tensor<3x4x1x32xf32>
}

func.func @pq_decode(%q: tensor<3x4x1x32xf32>, %c: tensor<3x2x64x8xi8>, %cb: tensor<2x8x256x4xf32>, %v: tensor<3x2x64x32xf32>, %n: tensor<3xi32>) -> tensor<3x4x1x32xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<3xi32>) : tensor<3x4x1x32xf32>, tensor<3x2x64x8xi8>, tensor<2x8x256x4xf32>, tensor<3x2x64x32xf32> -> tensor<3x4x1x32xf32>
  return %o : tensor<3x4x1x32xf32>
}

func.func @linear_step(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x1x16xf32>, %v: tensor<1x4x1x16xf32>, %g: tensor<1x4x1xf32>, %s: tensor<1x4x16x16xf32>, %z: tensor<1x4x16xf32>)
    -> (tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>) {
  %o, %s1, %z1 = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x4x1xf32>) state(%s : tensor<1x4x16x16xf32>)
      norm(%z : tensor<1x4x16xf32>) {normalize, scale = 0.25} : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32> -> tensor<1x4x1x16xf32>, state tensor<1x4x16x16xf32>, norm tensor<1x4x16xf32>
  return %o, %s1, %z1 : tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>
}

func.func @delta_step(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x1x16xf32>, %v: tensor<1x4x1x16xf32>, %b: tensor<1x4x1xf32>, %g: tensor<1x4x1xf32>, %s: tensor<1x4x16x16xf32>)
    -> (tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>) {
  %o, %s1 = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x1xf32> gate(%g : tensor<1x4x1xf32>) state(%s : tensor<1x4x16x16xf32>)
      {l2norm, scale = 0.25} : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32> -> tensor<1x4x1x16xf32>, state tensor<1x4x16x16xf32>
  return %o, %s1 : tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>
}

func.func @linear_chunk(%q: tensor<1x4x5x16xf32>, %k: tensor<1x4x5x16xf32>, %v: tensor<1x4x5x16xf32>, %g: tensor<1x4x5xf32>, %s: tensor<1x4x16x16xf32>, %z: tensor<1x4x16xf32>)
    -> (tensor<1x4x5x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>) {
  %o, %s1, %z1 = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x4x5xf32>) state(%s : tensor<1x4x16x16xf32>)
      norm(%z : tensor<1x4x16xf32>) {normalize, scale = 0.25} : tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32> -> tensor<1x4x5x16xf32>, state tensor<1x4x16x16xf32>, norm tensor<1x4x16xf32>
  return %o, %s1, %z1 : tensor<1x4x5x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>
}

func.func @delta_chunk(%q: tensor<1x4x5x16xf32>, %k: tensor<1x4x5x16xf32>, %v: tensor<1x4x5x16xf32>, %b: tensor<1x4x5xf32>, %g: tensor<1x4x5xf32>, %s: tensor<1x4x16x16xf32>)
    -> (tensor<1x4x5x16xf32>, tensor<1x4x16x16xf32>) {
  %o, %s1 = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x5xf32> gate(%g : tensor<1x4x5xf32>) state(%s : tensor<1x4x16x16xf32>)
      {l2norm, scale = 0.25} : tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32> -> tensor<1x4x5x16xf32>, state tensor<1x4x16x16xf32>
  return %o, %s1 : tensor<1x4x5x16xf32>, tensor<1x4x16x16xf32>
}

func.func @loglinear_mamba2_step(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x1x16xf32>, %v: tensor<1x4x1x16xf32>, %lam: tensor<1x4x1x7xf32>, %g: tensor<1x4x1xf32>, %s: tensor<1x4x7x16x16xf32>, %p: tensor<1xi32>)
    -> (tensor<1x4x1x16xf32>, tensor<1x4x7x16x16xf32>) {
  %o, %s1 = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x4x1x7xf32> gate(%g : tensor<1x4x1xf32>)
      state(%s : tensor<1x4x7x16x16xf32>) start(%p : tensor<1xi32>) {scale = 0.25} : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32> -> tensor<1x4x1x16xf32>, state tensor<1x4x7x16x16xf32>
  return %o, %s1 : tensor<1x4x1x16xf32>, tensor<1x4x7x16x16xf32>
}

func.func @loglinear_gdn_step(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x1x16xf32>, %v: tensor<1x4x1x16xf32>, %lam: tensor<1x4x1x7xf32>, %g: tensor<1x4x1xf32>, %b: tensor<1x4x1xf32>, %s: tensor<1x4x7x16x16xf32>, %p: tensor<1xi32>)
    -> (tensor<1x4x1x16xf32>, tensor<1x4x7x16x16xf32>) {
  %o, %s1 = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x4x1x7xf32> gate(%g : tensor<1x4x1xf32>) beta(%b : tensor<1x4x1xf32>)
      state(%s : tensor<1x4x7x16x16xf32>) start(%p : tensor<1xi32>) {scale = 0.25} : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32> -> tensor<1x4x1x16xf32>, state tensor<1x4x7x16x16xf32>
  return %o, %s1 : tensor<1x4x1x16xf32>, tensor<1x4x7x16x16xf32>
}

func.func @loglinear_mamba2_chunk(%q: tensor<1x4x5x16xf32>, %k: tensor<1x4x5x16xf32>, %v: tensor<1x4x5x16xf32>, %lam: tensor<1x4x5x7xf32>, %g: tensor<1x4x5xf32>, %s: tensor<1x4x7x16x16xf32>, %p: tensor<1xi32>)
    -> (tensor<1x4x5x16xf32>, tensor<1x4x7x16x16xf32>) {
  %o, %s1 = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x4x5x7xf32> gate(%g : tensor<1x4x5xf32>)
      state(%s : tensor<1x4x7x16x16xf32>) start(%p : tensor<1xi32>) {scale = 0.25} : tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32> -> tensor<1x4x5x16xf32>, state tensor<1x4x7x16x16xf32>
  return %o, %s1 : tensor<1x4x5x16xf32>, tensor<1x4x7x16x16xf32>
}

func.func @loglinear_gdn_chunk(%q: tensor<1x4x5x16xf32>, %k: tensor<1x4x5x16xf32>, %v: tensor<1x4x5x16xf32>, %lam: tensor<1x4x5x7xf32>, %g: tensor<1x4x5xf32>, %b: tensor<1x4x5xf32>, %s: tensor<1x4x7x16x16xf32>, %p: tensor<1xi32>)
    -> (tensor<1x4x5x16xf32>, tensor<1x4x7x16x16xf32>) {
  %o, %s1 = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x4x5x7xf32> gate(%g : tensor<1x4x5xf32>) beta(%b : tensor<1x4x5xf32>)
      state(%s : tensor<1x4x7x16x16xf32>) start(%p : tensor<1xi32>) {scale = 0.25} : tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32> -> tensor<1x4x5x16xf32>, state tensor<1x4x7x16x16xf32>
  return %o, %s1 : tensor<1x4x5x16xf32>, tensor<1x4x7x16x16xf32>
}

// A prefill chunk of 17 queries, twice: on the flash kernel, and with a
// (trivially true) mask_mod region applied in the same kernel's score
// tiles (pages read in place, rows past each count never visible).
func.func @paged_chunk17(%q: tensor<3x4x17x32xf32>, %k: tensor<20x2x8x32xf32>, %v: tensor<20x2x8x32xf32>, %n: tensor<3xi32>, %t: tensor<3x8xi32>) -> tensor<3x4x17x32xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>) block_table(%t : tensor<3x8xi32>) {causal}
      : tensor<3x4x17x32xf32>, tensor<20x2x8x32xf32>, tensor<20x2x8x32xf32> -> tensor<3x4x17x32xf32>
  return %o : tensor<3x4x17x32xf32>
}

func.func @paged_chunk17_mask_mod(%q: tensor<3x4x17x32xf32>, %k: tensor<20x2x8x32xf32>, %v: tensor<20x2x8x32xf32>, %n: tensor<3xi32>, %t: tensor<3x8xi32>) -> tensor<3x4x17x32xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>) block_table(%t : tensor<3x8xi32>) mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %true = arith.constant true
    attn.yield %true : i1
  } {causal}
      : tensor<3x4x17x32xf32>, tensor<20x2x8x32xf32>, tensor<20x2x8x32xf32> -> tensor<3x4x17x32xf32>
  return %o : tensor<3x4x17x32xf32>
}

// Kimi Delta Attention: per-channel gates [1, H, L, F].
func.func @kda_step(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x1x16xf32>, %v: tensor<1x4x1x16xf32>, %b: tensor<1x4x1xf32>, %g: tensor<1x4x1x16xf32>, %s: tensor<1x4x16x16xf32>)
    -> (tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>) {
  %o, %s1 = attn.delta_rule kda %q, %k, %v, %b : tensor<1x4x1xf32> gate(%g : tensor<1x4x1x16xf32>) state(%s : tensor<1x4x16x16xf32>)
      {l2norm, scale = 0.25} : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32> -> tensor<1x4x1x16xf32>, state tensor<1x4x16x16xf32>
  return %o, %s1 : tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>
}
func.func @kda_chunk(%q: tensor<1x4x5x16xf32>, %k: tensor<1x4x5x16xf32>, %v: tensor<1x4x5x16xf32>, %b: tensor<1x4x5xf32>, %g: tensor<1x4x5x16xf32>, %s: tensor<1x4x16x16xf32>)
    -> (tensor<1x4x5x16xf32>, tensor<1x4x16x16xf32>) {
  %o, %s1 = attn.delta_rule kda %q, %k, %v, %b : tensor<1x4x5xf32> gate(%g : tensor<1x4x5x16xf32>) state(%s : tensor<1x4x16x16xf32>)
      {l2norm, scale = 0.25} : tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32>, tensor<1x4x5x16xf32> -> tensor<1x4x5x16xf32>, state tensor<1x4x16x16xf32>
  return %o, %s1 : tensor<1x4x5x16xf32>, tensor<1x4x16x16xf32>
}

// LoLCATs (sliding window of 6): one decode step over the streaming state
// (linear terms S, z and a ring of the last 6 keys, values, key features).
func.func @lolcats_step(%q: tensor<1x4x1x16xf32>, %k: tensor<1x4x1x16xf32>, %v: tensor<1x4x1x16xf32>,
                        %fq: tensor<1x4x1x16xf32>, %fk: tensor<1x4x1x16xf32>, %g: tensor<4xf32>,
                        %p: tensor<1xi32>, %s: tensor<1x4x16x16xf32>, %z: tensor<1x4x16xf32>,
                        %wk: tensor<1x4x6x16xf32>, %wv: tensor<1x4x6x16xf32>, %wf: tensor<1x4x6x16xf32>)
    -> (tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>, tensor<1x4x6x16xf32>,
        tensor<1x4x6x16xf32>, tensor<1x4x6x16xf32>) {
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %k, %v
      features(%fq, %fk : tensor<1x4x1x16xf32>) gamma(%g : tensor<4xf32>)
      position(%p : tensor<1xi32>) state(%s, %z : tensor<1x4x16x16xf32>, tensor<1x4x16xf32>)
      window(%wk, %wv, %wf : tensor<1x4x6x16xf32>, tensor<1x4x6x16xf32>, tensor<1x4x6x16xf32>)
      : tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32>, tensor<1x4x1x16xf32> -> tensor<1x4x1x16xf32>
  return %o, %s1, %z1, %wk1, %wv1, %wf1 : tensor<1x4x1x16xf32>, tensor<1x4x16x16xf32>, tensor<1x4x16xf32>,
      tensor<1x4x6x16xf32>, tensor<1x4x6x16xf32>, tensor<1x4x6x16xf32>
}
