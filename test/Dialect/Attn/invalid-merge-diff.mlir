// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Invalid attn.merge (partial-count, shape and element-type mismatches between
// the stacked partials and the merged result) and attn.diff_attention (ODS
// type equalities, shape mismatches, lambda / norm_weight shapes, head groups,
// lambda_init range, eps and scale).

// ODS: partial lses are f32, here f16.
func.func @merge_lses_f16(%outs: tensor<4x1x8x2x16xf32>, %lses: tensor<4x1x8x2xf16>) {
  // expected-error @+1 {{'attn.merge' op operand #1 must be ranked tensor of 32-bit float values, but got 'tensor<4x1x8x2xf16>'}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xf32>, tensor<4x1x8x2xf16> -> tensor<1x8x2x16xf32>, tensor<1x8x2xf32>
  return
}

// -----

// ODS: the merged lse is f32, here bf16.
func.func @merge_lse_bf16(%outs: tensor<4x1x8x2x16xf32>, %lses: tensor<4x1x8x2xf32>) {
  // expected-error @+1 {{'attn.merge' op result #1 must be ranked tensor of 32-bit float values, but got 'tensor<1x8x2xbf16>'}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xf32>, tensor<4x1x8x2xf32> -> tensor<1x8x2x16xf32>, tensor<1x8x2xbf16>
  return
}

// -----

// ODS: partial outputs are float tensors, not i32.
func.func @merge_outs_i32(%outs: tensor<4x1x8x2x16xi32>, %lses: tensor<4x1x8x2xf32>) {
  // expected-error @+1 {{'attn.merge' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<4x1x8x2x16xi32>'}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xi32>, tensor<4x1x8x2xf32> -> tensor<1x8x2x16xi32>, tensor<1x8x2xf32>
  return
}

// -----

// Wrong rank: outs lacks the leading partial axis N, rank 4 instead of 5.
func.func @merge_outs_rank(%outs: tensor<1x8x2x16xf32>, %lses: tensor<4x1x8x2xf32>) {
  // expected-error @+1 {{'attn.merge' op outs must have rank 5 [N, B, H, L, Dv], got 'tensor<1x8x2x16xf32>'}}
  %o, %l = attn.merge %outs, %lses : tensor<1x8x2x16xf32>, tensor<4x1x8x2xf32> -> tensor<1x8x2x16xf32>, tensor<1x8x2xf32>
  return
}

// -----

// Wrong rank: the merged lse is [B, H, L], not rank 4.
func.func @merge_lse_rank(%outs: tensor<4x1x8x2x16xf32>, %lses: tensor<4x1x8x2xf32>) {
  // expected-error @+1 {{'attn.merge' op lse must have rank 3 [B, H, L], got 'tensor<4x1x8x2xf32>'}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xf32>, tensor<4x1x8x2xf32> -> tensor<1x8x2x16xf32>, tensor<4x1x8x2xf32>
  return
}

// -----

// Symbol mismatch: 4 partial outputs but 2 partial lses.
func.func @merge_partial_count(%outs: tensor<4x1x8x2x16xf32>, %lses: tensor<2x1x8x2xf32>) {
  // expected-error @+1 {{'attn.merge' op lses axis 0 (N) is 2, but N = 4 from outs axis 0}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xf32>, tensor<2x1x8x2xf32> -> tensor<1x8x2x16xf32>, tensor<1x8x2xf32>
  return
}

// -----

// Symbol mismatch: partial lses have L = 3, partial outputs L = 2.
func.func @merge_lses_len(%outs: tensor<4x1x8x2x16xf32>, %lses: tensor<4x1x8x3xf32>) {
  // expected-error @+1 {{'attn.merge' op lses axis 3 (L) is 3, but L = 2 from outs axis 3}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xf32>, tensor<4x1x8x3xf32> -> tensor<1x8x2x16xf32>, tensor<1x8x2xf32>
  return
}

// -----

// Symbol mismatch: merged output Dv = 8, partials Dv = 16.
func.func @merge_out_dv(%outs: tensor<4x1x8x2x16xf32>, %lses: tensor<4x1x8x2xf32>) {
  // expected-error @+1 {{'attn.merge' op out axis 3 (Dv) is 8, but Dv = 16 from outs axis 4}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xf32>, tensor<4x1x8x2xf32> -> tensor<1x8x2x8xf32>, tensor<1x8x2xf32>
  return
}

// -----

// Symbol mismatch: merged output keeps a head axis of 4, partials have H = 8.
func.func @merge_out_heads(%outs: tensor<4x1x8x2x16xf32>, %lses: tensor<4x1x8x2xf32>) {
  // expected-error @+1 {{'attn.merge' op out axis 1 (H) is 4, but H = 8 from outs axis 2}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xf32>, tensor<4x1x8x2xf32> -> tensor<1x4x2x16xf32>, tensor<1x8x2xf32>
  return
}

// -----

// Symbol mismatch: merged lse batch 2, partials have B = 1.
func.func @merge_lse_batch(%outs: tensor<4x1x8x2x16xf32>, %lses: tensor<4x1x8x2xf32>) {
  // expected-error @+1 {{'attn.merge' op lse axis 0 (B) is 2, but B = 1 from outs axis 1}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xf32>, tensor<4x1x8x2xf32> -> tensor<1x8x2x16xf32>, tensor<2x8x2xf32>
  return
}

// -----

// Element type mismatch: f16 merged output from f32 partials.
func.func @merge_out_elem(%outs: tensor<4x1x8x2x16xf32>, %lses: tensor<4x1x8x2xf32>) {
  // expected-error @+1 {{'attn.merge' op out element type 'f16' must match outs element type 'f32'}}
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x2x16xf32>, tensor<4x1x8x2xf32> -> tensor<1x8x2x16xf16>, tensor<1x8x2xf32>
  return
}

// -----

// ODS: query1 and query2 must have the same type (generic form; the custom form writes one type).
func.func @diff_query_types(%q1: tensor<1x8x16x32xf32>, %q2: tensor<1x8x16x32xf16>, %k: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op failed to verify that all of {query1, query2} have same type}}
  %o = "attn.diff_attention"(%q1, %k, %q2, %k, %v, %lam) <{lambda_init = 2.0e-01 : f64}> : (tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x8x16x32xf16>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32>, tensor<8xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

// ODS: key1 and key2 must have the same type (generic form).
func.func @diff_key_types(%q: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %k2: tensor<1x2x20x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op failed to verify that all of {key1, key2} have same type}}
  %o = "attn.diff_attention"(%q, %k1, %q, %k2, %v, %lam) <{lambda_init = 2.0e-01 : f64}> : (tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x8x16x32xf32>, tensor<1x2x20x32xf32>, tensor<1x2x24x64xf32>, tensor<8xf32>) -> tensor<1x8x16x64xf32>
  return
}

// -----

// ODS: lambda_init is a required attribute.
func.func @diff_no_lambda_init(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op requires attribute 'lambda_init'}}
  %o = attn.diff_attention (%q, %k), (%q, %k), %v lambda(%lam : tensor<8xf32>) : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// ODS: lambda is f32, here f16.
func.func @diff_lambda_f16(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf16>) {
  // expected-error @+1 {{'attn.diff_attention' op operand #5 must be ranked tensor of 32-bit float values, but got 'tensor<8xf16>'}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf16>) {lambda_init = 0.2} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// Wrong rank: query1 is [B, Hq, Lq, D], rank 4, not 3.
func.func @diff_query_rank(%q1: tensor<8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op query1 must have rank 4 [B, Hq, Lq, D], got 'tensor<8x16x32xf32>'}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = 0.2} : tensor<8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// Symbol mismatch: keys have D = 16, queries D = 32.
func.func @diff_key_d(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x16xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x16xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op key1 axis 3 (D) is 16, but D = 32 from query1 axis 3}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = 0.2} : tensor<1x8x16x32xf32>, tensor<1x2x24x16xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// Symbol mismatch: value has 20 keys, keys have Lk = 24.
func.func @diff_value_lk(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x20x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op value axis 2 (Lk) is 20, but Lk = 24 from key1 axis 2}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = 0.2} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x20x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// Symbol mismatch: output Dv = 32, value Dv = 64 (Diff Transformer uses Dv = 2 D).
func.func @diff_out_dv(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op out axis 3 (Dv) is 32, but Dv = 64 from value axis 3}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = 0.2} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

// lambda is per query head: 2 entries (Hkv) instead of Hq = 8.
func.func @diff_lambda_hkv(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<2xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op lambda axis 0 (Hq) is 2, but Hq = 8 from query1 axis 1}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<2xf32>) {lambda_init = 0.2} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// norm_weight is [Dv] = [64], not [D] = [32].
func.func @diff_norm_d(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>, %w: tensor<32xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op norm_weight axis 0 (Dv) is 32, but Dv = 64 from value axis 3}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) norm(%w : tensor<32xf32>) {lambda_init = 0.2} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// Head groups: 8 query heads are not a whole number of groups of 3 kv heads.
func.func @diff_heads(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x3x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x3x24x32xf32>, %v: tensor<1x3x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op query heads (8) must be a multiple of key/value heads (3)}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = 0.2} : tensor<1x8x16x32xf32>, tensor<1x3x24x32xf32>, tensor<1x3x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// Element type mismatch: bf16 value with f32 queries and keys.
func.func @diff_value_elem(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xbf16>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op value element type 'bf16' must match query1 element type 'f32'}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = 0.2} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xbf16> -> tensor<1x8x16x64xf32>
  return
}

// -----

// lambda_init must lie in [0, 1): 1.0 would zero the output scale 1 - lambda_init.
func.func @diff_lambda_init_one(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op lambda_init must be in [0, 1), got 1.000000e+00}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = 1.0} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// lambda_init must lie in [0, 1): -0.1 is below.
func.func @diff_lambda_init_negative(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op lambda_init must be in [0, 1), got -1.000000e-01}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = -0.1} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// eps = 0 leaves the RMS norm unguarded against a zero row.
func.func @diff_eps_zero(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>, %w: tensor<64xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op eps must be positive}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) norm(%w : tensor<64xf32>) {lambda_init = 0.2, eps = 0.0} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// scale = 0 makes both score maps uniform.
func.func @diff_scale_zero(%q1: tensor<1x8x16x32xf32>, %k1: tensor<1x2x24x32xf32>, %q2: tensor<1x8x16x32xf32>, %k2: tensor<1x2x24x32xf32>, %v: tensor<1x2x24x64xf32>, %lam: tensor<8xf32>) {
  // expected-error @+1 {{'attn.diff_attention' op scale must be finite and non-zero, got 0.000000e+00}}
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = 0.2, scale = 0.0} : tensor<1x8x16x32xf32>, tensor<1x2x24x32xf32>, tensor<1x2x24x64xf32> -> tensor<1x8x16x64xf32>
  return
}
