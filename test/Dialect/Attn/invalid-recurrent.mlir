// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Invalid recurrent ops: attn.delta_rule (ODS types, shapes, kind vs gate
// presence and shape, state shapes, scale), attn.log_linear (lambda's level
// count ceil(log2 L) + 1, gate / beta per base, shapes, scale) and
// attn.lolcats_hybrid (ODS type equality, shapes, gamma, window >= 1, scale).

// ODS: the query is a float tensor, not i32.
func.func @delta_query_i32(%q: tensor<1x4x16x8xi32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<1x4x16x8xi32>'}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> : tensor<1x4x16x8xi32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// ODS: beta is f32, here f16.
func.func @delta_beta_f16(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf16>) {
  // expected-error @+1 {{'attn.delta_rule' op operand #3 must be ranked tensor of 32-bit float values, but got 'tensor<1x4x16xf16>'}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf16> : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Wrong rank: the query is [B, H, L, D], rank 4, not 3.
func.func @delta_query_rank(%q: tensor<4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op query must have rank 4 [B, H, L, D], got 'tensor<4x16x8xf32>'}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> : tensor<4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Symbol mismatch: key D = 4, query D = 8.
func.func @delta_key_d(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x4xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op key axis 3 (D) is 4, but D = 8 from query axis 3}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> : tensor<1x4x16x8xf32>, tensor<1x4x16x4xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Symbol mismatch: value H = 2, query H = 4 (delta rules have no head groups).
func.func @delta_value_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x2x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op value axis 1 (H) is 2, but H = 4 from query axis 1}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x2x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Symbol mismatch: output Dv = 8, value Dv = 6.
func.func @delta_out_dv(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op out axis 3 (Dv) is 8, but Dv = 6 from value axis 3}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Wrong rank: beta is one scalar per token [B, H, L], not [B, H, L, 1].
func.func @delta_beta_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16x1xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op beta must have rank 3 [B, H, L], got 'tensor<1x4x16x1xf32>'}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16x1xf32> : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Symbol mismatch: beta covers 8 tokens, L = 16.
func.func @delta_beta_len(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op beta axis 2 (L) is 8, but L = 16 from query axis 2}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x8xf32> : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Element type mismatch: bf16 key with an f32 query.
func.func @delta_key_elem(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xbf16>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op key element type 'bf16' must match query element type 'f32'}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> : tensor<1x4x16x8xf32>, tensor<1x4x16x8xbf16>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// deltanet has no decay, so it takes no gate.
func.func @delta_deltanet_gate(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>, %g: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op deltanet takes no gate}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> gate(%g : tensor<1x4x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// gated (Gated DeltaNet) needs its per-token log-space gate.
func.func @delta_gated_no_gate(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op gated needs a gate (log-space decay)}}
  %o = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x16xf32> : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// kda needs its per-channel log-space gate.
func.func @delta_kda_no_gate(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op kda needs a gate (log-space decay)}}
  %o = attn.delta_rule kda %q, %k, %v, %b : tensor<1x4x16xf32> : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: gated takes a scalar gate [B, H, L], not a per-channel [B, H, L, D] one.
func.func @delta_gated_gate_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>, %g: tensor<1x4x16x8xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op gate must have rank 3 [B, H, L], got 'tensor<1x4x16x8xf32>'}}
  %o = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x16xf32> gate(%g : tensor<1x4x16x8xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: the gated gate covers 15 tokens, L = 16.
func.func @delta_gated_gate_len(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>, %g: tensor<1x4x15xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op gate axis 2 (L) is 15, but L = 16 from query axis 2}}
  %o = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x16xf32> gate(%g : tensor<1x4x15xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: kda takes a per-channel gate [B, H, L, D], not [B, H, L].
func.func @delta_kda_gate_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>, %g: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op gate must have rank 4 [B, H, L, D], got 'tensor<1x4x16xf32>'}}
  %o = attn.delta_rule kda %q, %k, %v, %b : tensor<1x4x16xf32> gate(%g : tensor<1x4x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: the kda gate has 6 channels (Dv), it decays the D = 8 key channels.
func.func @delta_kda_gate_d(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>, %g: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op gate axis 3 (D) is 6, but D = 8 from query axis 3}}
  %o = attn.delta_rule kda %q, %k, %v, %b : tensor<1x4x16xf32> gate(%g : tensor<1x4x16x6xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// State shape: state_in is [B, H, D, Dv] = [1, 4, 8, 6], not [.., Dv, D].
func.func @delta_state_in_transposed(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>, %s: tensor<1x4x6x8xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op state_in axis 2 (D) is 6, but D = 8 from query axis 3}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> state(%s : tensor<1x4x6x8xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// State shape: state_out batch 2, B = 1.
func.func @delta_state_out_batch(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>, %g: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op state_out axis 0 (B) is 2, but B = 1 from query axis 0}}
  %o, %so = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x16xf32> gate(%g : tensor<1x4x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>, state tensor<2x4x8x6xf32>
  return
}

// -----

// ODS: the state is f32, here f16.
func.func @delta_state_out_f16(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op result #1 must be ranked tensor of 32-bit float values, but got 'tensor<1x4x8x6xf16>'}}
  %o, %so = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>, state tensor<1x4x8x6xf16>
  return
}

// -----

// scale = 0 would zero every output.
func.func @delta_scale_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %b: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.delta_rule' op scale must be finite and non-zero, got 0.000000e+00}}
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x4x16xf32> {l2norm, scale = 0.0} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// ODS: lambda is f32, here f16.
func.func @loglin_lambda_f16(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf16>) {
  // expected-error @+1 {{'attn.log_linear' op operand #3 must be ranked tensor of 32-bit float values, but got 'tensor<1x2x16x5xf16>'}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x16x5xf16> : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Level count: L = 16 needs ceil(log2 16) + 1 = 5 levels, lambda has 4.
func.func @loglin_levels_16(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{'attn.log_linear' op lambda axis 3 (NLEV) is 4, but NLEV = 5 from ceil(log2 L) + 1}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x16x4xf32> : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Level count: L = 5 needs ceil(log2 5) + 1 = 4 levels, lambda has 3 (floor(log2 5) + 1).
func.func @loglin_levels_5(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %lam: tensor<1x2x5x3xf32>, %g: tensor<1x2x5xf32>) {
  // expected-error @+1 {{'attn.log_linear' op lambda axis 3 (NLEV) is 3, but NLEV = 4 from ceil(log2 L) + 1}}
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x5x3xf32> gate(%g : tensor<1x2x5xf32>) : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32> -> tensor<1x2x5x8xf32>
  return
}

// -----

// Level count: L = 1 needs exactly 1 level, lambda has 2.
func.func @loglin_levels_1(%q: tensor<1x2x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x8xf32>, %lam: tensor<1x2x1x2xf32>) {
  // expected-error @+1 {{'attn.log_linear' op lambda axis 3 (NLEV) is 2, but NLEV = 1 from ceil(log2 L) + 1}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x1x2xf32> : tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x1x8xf32>
  return
}

// -----

// Level count: L = 17 needs ceil(log2 17) + 1 = 6 levels, lambda has 5.
func.func @loglin_levels_17(%q: tensor<1x2x17x8xf32>, %k: tensor<1x2x17x8xf32>, %v: tensor<1x2x17x8xf32>, %lam: tensor<1x2x17x5xf32>) {
  // expected-error @+1 {{'attn.log_linear' op lambda axis 3 (NLEV) is 5, but NLEV = 6 from ceil(log2 L) + 1}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x17x5xf32> : tensor<1x2x17x8xf32>, tensor<1x2x17x8xf32>, tensor<1x2x17x8xf32> -> tensor<1x2x17x8xf32>
  return
}

// -----

// Wrong rank: lambda is [B, H, L, nlev], not [H, L, nlev].
func.func @loglin_lambda_rank(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<2x16x5xf32>) {
  // expected-error @+1 {{'attn.log_linear' op lambda must have rank 4 [B, H, L, NLEV], got 'tensor<2x16x5xf32>'}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<2x16x5xf32> : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Symbol mismatch: lambda covers 8 tokens, L = 16.
func.func @loglin_lambda_len(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x8x5xf32>) {
  // expected-error @+1 {{'attn.log_linear' op lambda axis 2 (L) is 8, but L = 16 from query axis 2}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x8x5xf32> : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Symbol mismatch: key D = 4, query D = 8.
func.func @loglin_key_d(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x4xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>) {
  // expected-error @+1 {{'attn.log_linear' op key axis 3 (D) is 4, but D = 8 from query axis 3}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x16x5xf32> : tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Element type mismatch: f16 output for f32 inputs.
func.func @loglin_out_elem(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>) {
  // expected-error @+1 {{'attn.log_linear' op out element type 'f16' must match query element type 'f32'}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x16x5xf32> : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf16>
  return
}

// -----

// Base linear has no decay, so it takes no gate.
func.func @loglin_linear_gate(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>, %g: tensor<1x2x16xf32>) {
  // expected-error @+1 {{'attn.log_linear' op base 'linear' takes no gate}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x16x5xf32> gate(%g : tensor<1x2x16xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Base linear takes no beta.
func.func @loglin_linear_beta(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>, %b: tensor<1x2x16xf32>) {
  // expected-error @+1 {{'attn.log_linear' op base 'linear' takes no beta}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x16x5xf32> beta(%b : tensor<1x2x16xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Base mamba2 needs its log-space gate.
func.func @loglin_mamba2_no_gate(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>) {
  // expected-error @+1 {{'attn.log_linear' op base 'mamba2' needs gate}}
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x16x5xf32> : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Base mamba2 takes no beta (that is gated_deltanet).
func.func @loglin_mamba2_beta(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>, %g: tensor<1x2x16xf32>, %b: tensor<1x2x16xf32>) {
  // expected-error @+1 {{'attn.log_linear' op base 'mamba2' takes no beta}}
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x16x5xf32> gate(%g : tensor<1x2x16xf32>) beta(%b : tensor<1x2x16xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Base gated_deltanet needs a gate.
func.func @loglin_gdn_no_gate(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>, %b: tensor<1x2x16xf32>) {
  // expected-error @+1 {{'attn.log_linear' op base 'gated_deltanet' needs gate}}
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x16x5xf32> beta(%b : tensor<1x2x16xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Base gated_deltanet needs beta.
func.func @loglin_gdn_no_beta(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>, %g: tensor<1x2x16xf32>) {
  // expected-error @+1 {{'attn.log_linear' op base 'gated_deltanet' needs beta}}
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x16x5xf32> gate(%g : tensor<1x2x16xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Gate shape: the gate covers 8 tokens, L = 16.
func.func @loglin_gate_len(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>, %g: tensor<1x2x8xf32>) {
  // expected-error @+1 {{'attn.log_linear' op gate axis 2 (L) is 8, but L = 16 from query axis 2}}
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x16x5xf32> gate(%g : tensor<1x2x8xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// Wrong rank: beta is [B, H, L], not [B, H, L, 1].
func.func @loglin_beta_rank(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>, %g: tensor<1x2x16xf32>, %b: tensor<1x2x16x1xf32>) {
  // expected-error @+1 {{'attn.log_linear' op beta must have rank 3 [B, H, L], got 'tensor<1x2x16x1xf32>'}}
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x16x5xf32> gate(%g : tensor<1x2x16xf32>) beta(%b : tensor<1x2x16x1xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// scale = 0 would zero every output.
func.func @loglin_scale_zero(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>) {
  // expected-error @+1 {{'attn.log_linear' op scale must be finite and non-zero, got 0.000000e+00}}
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x16x5xf32> {scale = 0.0} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return
}

// -----

// ODS: the two feature tensors must have the same type (generic form; the custom form writes one type).
func.func @lolcats_feature_types(%q: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x32x24xf32>, %fk: tensor<1x4x32x12xf32>, %gm: tensor<4xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op failed to verify that all of {feature_query, feature_key} have same type}}
  %o = "attn.lolcats_hybrid"(%q, %q, %v, %fq, %fk, %gm) : (tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x24xf32>, tensor<1x4x32x12xf32>, tensor<4xf32>) -> tensor<1x4x32x8xf32>
  return
}

// -----

// ODS: gamma is f32, here f16.
func.func @lolcats_gamma_f16(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x32x24xf32>, %fk: tensor<1x4x32x24xf32>, %gm: tensor<4xf16>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op operand #5 must be ranked tensor of 32-bit float values, but got 'tensor<4xf16>'}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x4x32x24xf32>) gamma(%gm : tensor<4xf16>) : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// Symbol mismatch: key D = 8, query D = 16.
func.func @lolcats_key_d(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x8xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x32x24xf32>, %fk: tensor<1x4x32x24xf32>, %gm: tensor<4xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op key axis 3 (D) is 8, but D = 16 from query axis 3}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x4x32x24xf32>) gamma(%gm : tensor<4xf32>) : tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// Symbol mismatch: features cover 16 tokens, L = 32.
func.func @lolcats_features_len(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x16x24xf32>, %fk: tensor<1x4x16x24xf32>, %gm: tensor<4xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op feature_query axis 2 (L) is 16, but L = 32 from query axis 2}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x4x16x24xf32>) gamma(%gm : tensor<4xf32>) : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// Wrong rank: feature_query is [B, H, L, F], not rank 3.
func.func @lolcats_features_rank(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<4x32x24xf32>, %fk: tensor<4x32x24xf32>, %gm: tensor<4xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op feature_query must have rank 4 [B, H, L, F], got 'tensor<4x32x24xf32>'}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<4x32x24xf32>) gamma(%gm : tensor<4xf32>) : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// gamma is per head: 8 entries, H = 4.
func.func @lolcats_gamma_heads(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x32x24xf32>, %fk: tensor<1x4x32x24xf32>, %gm: tensor<8xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op gamma axis 0 (H) is 8, but H = 4 from query axis 1}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x4x32x24xf32>) gamma(%gm : tensor<8xf32>) : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// Symbol mismatch: output Dv = 16, value Dv = 8.
func.func @lolcats_out_dv(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x32x24xf32>, %fk: tensor<1x4x32x24xf32>, %gm: tensor<4xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op out axis 3 (Dv) is 16, but Dv = 8 from value axis 3}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x4x32x24xf32>) gamma(%gm : tensor<4xf32>) : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x16xf32>
  return
}

// -----

// Element type mismatch: bf16 features with f32 q/k/v.
func.func @lolcats_features_elem(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x32x24xbf16>, %fk: tensor<1x4x32x24xbf16>, %gm: tensor<4xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op feature_query element type 'bf16' must match query element type 'f32'}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x4x32x24xbf16>) gamma(%gm : tensor<4xf32>) : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// The softmax window must hold at least one key: window = 0.
func.func @lolcats_window_zero(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x32x24xf32>, %fk: tensor<1x4x32x24xf32>, %gm: tensor<4xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op window must be at least 1, got 0}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x4x32x24xf32>) gamma(%gm : tensor<4xf32>) {window = 0} : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// The softmax window must hold at least one key: window = -8.
func.func @lolcats_window_negative(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x32x24xf32>, %fk: tensor<1x4x32x24xf32>, %gm: tensor<4xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op window must be at least 1, got -8}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x4x32x24xf32>) gamma(%gm : tensor<4xf32>) mode terrace {window = -8} : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// scale = 0 makes the window logits uniform.
func.func @lolcats_scale_zero(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x8xf32>, %fq: tensor<1x4x32x24xf32>, %fk: tensor<1x4x32x24xf32>, %gm: tensor<4xf32>) {
  // expected-error @+1 {{'attn.lolcats_hybrid' op scale must be finite and non-zero, got 0.000000e+00}}
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x4x32x24xf32>) gamma(%gm : tensor<4xf32>) {scale = 0.0} : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x8xf32> -> tensor<1x4x32x8xf32>
  return
}

// -----

// log_linear streaming: the state's level axis must match lambda's (NLEV).
func.func @log_linear_state_levels(%q: tensor<1x2x1x8xf32>, %lam: tensor<1x2x1x5xf32>, %s: tensor<1x2x4x8x8xf32>) {
  // expected-error @+1 {{'attn.log_linear' op state_in axis 2 (NLEV) is 4, but NLEV = 5 from lambda axis 3}}
  %o, %s1 = attn.log_linear linear %q, %q, %q, %lam : tensor<1x2x1x5xf32> state(%s : tensor<1x2x4x8x8xf32>) : tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x1x8xf32>, state tensor<1x2x4x8x8xf32>
  return
}

// -----

// log_linear streaming: one start position per batch row.
func.func @log_linear_start_rows(%q: tensor<2x2x1x8xf32>, %lam: tensor<2x2x1x3xf32>, %p: tensor<1xi32>) {
  // expected-error @+1 {{'attn.log_linear' op start axis 0 (B) is 1, but B = 2 from query axis 0}}
  %o = attn.log_linear linear %q, %q, %q, %lam : tensor<2x2x1x3xf32> start(%p : tensor<1xi32>) : tensor<2x2x1x8xf32>, tensor<2x2x1x8xf32>, tensor<2x2x1x8xf32> -> tensor<2x2x1x8xf32>
  return
}

// -----

// log_linear streaming: state_out has the state's shape.
func.func @log_linear_state_out_shape(%q: tensor<1x2x1x8xf32>, %lam: tensor<1x2x1x3xf32>) {
  // expected-error @+1 {{'attn.log_linear' op state_out axis 4 (Dv) is 4, but Dv = 8 from value axis 3}}
  %o, %s1 = attn.log_linear linear %q, %q, %q, %lam : tensor<1x2x1x3xf32> : tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x1x8xf32>, state tensor<1x2x3x8x4xf32>
  return
}

// -----

// lolcats_decode: one token per step.
func.func @lolcats_decode_two_tokens(%q: tensor<1x2x2x8xf32>, %fq: tensor<1x2x2x4xf32>, %g: tensor<2xf32>, %p: tensor<1xi32>, %s: tensor<1x2x4x8xf32>, %z: tensor<1x2x4xf32>, %wk: tensor<1x2x3x8xf32>, %wf: tensor<1x2x3x4xf32>) {
  // expected-error @+1 {{'attn.lolcats_decode' op query axis 2 must be 1, got 2}}
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %q, %q features(%fq, %fq : tensor<1x2x2x4xf32>) gamma(%g : tensor<2xf32>) position(%p : tensor<1xi32>) state(%s, %z : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) window(%wk, %wk, %wf : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x4xf32>) : tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32>, tensor<1x2x2x8xf32> -> tensor<1x2x2x8xf32>
  return
}

// -----

// lolcats_decode: the window rings share their length W.
func.func @lolcats_decode_ring_lengths(%q: tensor<1x2x1x8xf32>, %fq: tensor<1x2x1x4xf32>, %g: tensor<2xf32>, %p: tensor<1xi32>, %s: tensor<1x2x4x8xf32>, %z: tensor<1x2x4xf32>, %wk: tensor<1x2x3x8xf32>, %wv: tensor<1x2x5x8xf32>, %wf: tensor<1x2x3x4xf32>) {
  // expected-error @+1 {{'attn.lolcats_decode' op window_value axis 2 (W) is 5, but W = 3 from window_key axis 2}}
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %q, %q features(%fq, %fq : tensor<1x2x1x4xf32>) gamma(%g : tensor<2xf32>) position(%p : tensor<1xi32>) state(%s, %z : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) window(%wk, %wv, %wf : tensor<1x2x3x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x3x4xf32>) : tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x1x8xf32>
  return
}

// -----

// lolcats_decode: the window must hold at least one token.
func.func @lolcats_decode_empty_window(%q: tensor<1x2x1x8xf32>, %fq: tensor<1x2x1x4xf32>, %g: tensor<2xf32>, %p: tensor<1xi32>, %s: tensor<1x2x4x8xf32>, %z: tensor<1x2x4xf32>, %wk: tensor<1x2x0x8xf32>, %wf: tensor<1x2x0x4xf32>) {
  // expected-error @+1 {{'attn.lolcats_decode' op the window must hold at least one token}}
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %q, %q features(%fq, %fq : tensor<1x2x1x4xf32>) gamma(%g : tensor<2xf32>) position(%p : tensor<1xi32>) state(%s, %z : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) window(%wk, %wk, %wf : tensor<1x2x0x8xf32>, tensor<1x2x0x8xf32>, tensor<1x2x0x4xf32>) : tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x1x8xf32>
  return
}
