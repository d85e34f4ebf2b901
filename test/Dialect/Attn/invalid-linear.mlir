// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Invalid attn.feature_map (ODS types, ranks, F = D for the pointwise maps,
// the hedgehog weight and F = 2 * F/2) and attn.linear_attention (ODS types,
// shape and element mismatches, decay kind vs gate presence and shape, the
// normalize / state / norm pairing, state and norm shapes, eps and scale).
// Linear-attention shapes: q, k [1, 4, 16, 8] (F = 8), v [1, 4, 16, 6] (Dv = 6)
// unless a case says otherwise.

// ODS: the input is a float tensor, not i8.
func.func @fmap_input_i8(%x: tensor<1x8x16x32xi8>) {
  // expected-error @+1 {{'attn.feature_map' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<1x8x16x32xi8>'}}
  %y = attn.feature_map relu %x : tensor<1x8x16x32xi8> -> tensor<1x8x16x32xi8>
  return
}

// -----

// Wrong rank: the input is [B, H, L, D], rank 4, not 3.
func.func @fmap_input_rank(%x: tensor<8x16x32xf32>) {
  // expected-error @+1 {{'attn.feature_map' op input must have rank 4 [B, H, L, D], got 'tensor<8x16x32xf32>'}}
  %y = attn.feature_map relu %x : tensor<8x16x32xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

// Symbol mismatch: output L = 8, input L = 16.
func.func @fmap_output_len(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'attn.feature_map' op output axis 2 (L) is 8, but L = 16 from input axis 2}}
  %y = attn.feature_map identity %x : tensor<1x8x16x32xf32> -> tensor<1x8x8x32xf32>
  return
}

// -----

// Element type mismatch: f16 output from an f32 input.
func.func @fmap_output_elem(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'attn.feature_map' op output element type 'f16' must match input element type 'f32'}}
  %y = attn.feature_map elu_plus_one %x : tensor<1x8x16x32xf32> -> tensor<1x8x16x32xf16>
  return
}

// -----

// Derived size: identity keeps F = D = 32, the output has 64.
func.func @fmap_identity_f(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'attn.feature_map' op F from output axis 3 is 64, but feature map identity (F = D) requires 32}}
  %y = attn.feature_map identity %x : tensor<1x8x16x32xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// Derived size: elu_plus_one keeps F = D = 32, the output has 16.
func.func @fmap_elu_f(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'attn.feature_map' op F from output axis 3 is 16, but feature map elu_plus_one (F = D) requires 32}}
  %y = attn.feature_map elu_plus_one %x : tensor<1x8x16x32xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Derived size: relu keeps F = D = 32, the output has 64.
func.func @fmap_relu_f(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'attn.feature_map' op F from output axis 3 is 64, but feature map relu (F = D) requires 32}}
  %y = attn.feature_map relu %x : tensor<1x8x16x32xf32> -> tensor<1x8x16x64xf32>
  return
}

// -----

// Only hedgehog takes a weight.
func.func @fmap_relu_weight(%x: tensor<1x8x16x32xf32>, %w: tensor<8x32x16xf32>) {
  // expected-error @+1 {{'attn.feature_map' op weight is only taken by the hedgehog feature map}}
  %y = attn.feature_map relu %x weight(%w : tensor<8x32x16xf32>) : tensor<1x8x16x32xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

// hedgehog needs its projection W [H, D, F/2].
func.func @fmap_hedgehog_no_weight(%x: tensor<1x8x16x32xf32>) {
  // expected-error @+1 {{'attn.feature_map' op hedgehog feature map needs a weight [H, D, F/2]}}
  %y = attn.feature_map hedgehog %x : tensor<1x8x16x32xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

// Wrong rank: the hedgehog weight is [H, D, F/2], rank 3, not 2.
func.func @fmap_hedgehog_weight_rank(%x: tensor<1x8x16x32xf32>, %w: tensor<32x16xf32>) {
  // expected-error @+1 {{'attn.feature_map' op weight must have rank 3 [H, D, F/2], got 'tensor<32x16xf32>'}}
  %y = attn.feature_map hedgehog %x weight(%w : tensor<32x16xf32>) : tensor<1x8x16x32xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

// Symbol mismatch: the weight has 4 heads, the input H = 8.
func.func @fmap_hedgehog_weight_heads(%x: tensor<1x8x16x32xf32>, %w: tensor<4x32x16xf32>) {
  // expected-error @+1 {{'attn.feature_map' op weight axis 0 (H) is 4, but H = 8 from input axis 1}}
  %y = attn.feature_map hedgehog %x weight(%w : tensor<4x32x16xf32>) : tensor<1x8x16x32xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

// Symbol mismatch: the weight projects from 64 dims, the input has D = 32.
func.func @fmap_hedgehog_weight_d(%x: tensor<1x8x16x32xf32>, %w: tensor<8x64x16xf32>) {
  // expected-error @+1 {{'attn.feature_map' op weight axis 1 (D) is 64, but D = 32 from input axis 3}}
  %y = attn.feature_map hedgehog %x weight(%w : tensor<8x64x16xf32>) : tensor<1x8x16x32xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

// Derived size: W [8, 32, 16] gives F = 2 * 16 = 32 features, the output has 16.
func.func @fmap_hedgehog_f(%x: tensor<1x8x16x32xf32>, %w: tensor<8x32x16xf32>) {
  // expected-error @+1 {{'attn.feature_map' op F from output axis 3 is 16, but hedgehog (F = 2 * weight axis 2) requires 32}}
  %y = attn.feature_map hedgehog %x weight(%w : tensor<8x32x16xf32>) : tensor<1x8x16x32xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Element type mismatch: bf16 weight for an f32 input.
func.func @fmap_hedgehog_weight_elem(%x: tensor<1x8x16x32xf32>, %w: tensor<8x32x16xbf16>) {
  // expected-error @+1 {{'attn.feature_map' op weight element type 'bf16' must match input element type 'f32'}}
  %y = attn.feature_map hedgehog %x weight(%w : tensor<8x32x16xbf16>) : tensor<1x8x16x32xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

// ODS: the log-space gate is f32, here f16.
func.func @linear_gate_f16(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %g: tensor<1x4x16xf16>) {
  // expected-error @+1 {{'attn.linear_attention' op operand #3 must be ranked tensor of 32-bit float values, but got 'tensor<1x4x16xf16>'}}
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x4x16xf16>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// ODS: the state is f32, here bf16.
func.func @linear_state_bf16(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %s: tensor<1x4x8x6xbf16>) {
  // expected-error @+1 {{'attn.linear_attention' op operand #3 must be ranked tensor of 32-bit float values, but got 'tensor<1x4x8x6xbf16>'}}
  %o = attn.linear_attention none %q, %k, %v state(%s : tensor<1x4x8x6xbf16>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Wrong rank: the query is [B, H, L, F], rank 4, not 5.
func.func @linear_query_rank(%q: tensor<1x4x16x8x1xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op query must have rank 4 [B, H, L, F], got 'tensor<1x4x16x8x1xf32>'}}
  %o = attn.linear_attention none %q, %k, %v : tensor<1x4x16x8x1xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Symbol mismatch: key F = 4, query F = 8.
func.func @linear_key_f(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x4xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op key axis 3 (F) is 4, but F = 8 from query axis 3}}
  %o = attn.linear_attention none %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x4xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Symbol mismatch: value L = 12, query L = 16.
func.func @linear_value_len(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x12x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op value axis 2 (L) is 12, but L = 16 from query axis 2}}
  %o = attn.linear_attention none %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x12x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Symbol mismatch: output Dv = 8, value Dv = 6.
func.func @linear_out_dv(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op out axis 3 (Dv) is 8, but Dv = 6 from value axis 3}}
  %o = attn.linear_attention none %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x8xf32>
  return
}

// -----

// Element type mismatch: f16 value with f32 query and key.
func.func @linear_value_elem(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf16>) {
  // expected-error @+1 {{'attn.linear_attention' op value element type 'f16' must match query element type 'f32'}}
  %o = attn.linear_attention none %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf16> -> tensor<1x4x16x6xf32>
  return
}

// -----

// decay none takes no gate.
func.func @linear_none_gate(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %g: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op decay 'none' takes no gate}}
  %o = attn.linear_attention none %q, %k, %v gate(%g : tensor<1x4x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// decay constant needs its per-head gate [H].
func.func @linear_constant_no_gate(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op decay 'constant' needs a gate (log-space decay)}}
  %o = attn.linear_attention constant %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// decay scalar needs its per-token gate [B, H, L].
func.func @linear_scalar_no_gate(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op decay 'scalar' needs a gate (log-space decay)}}
  %o = attn.linear_attention scalar %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// decay vector needs its per-row gate [B, H, L, F].
func.func @linear_vector_no_gate(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op decay 'vector' needs a gate (log-space decay)}}
  %o = attn.linear_attention vector %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: constant decay takes [H], not a per-token [B, H, L] gate.
func.func @linear_constant_gate_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %g: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op gate must have rank 1 [H], got 'tensor<1x4x16xf32>'}}
  %o = attn.linear_attention constant %q, %k, %v gate(%g : tensor<1x4x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: constant gate has 8 entries, H = 4.
func.func @linear_constant_gate_heads(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %g: tensor<8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op gate axis 0 (H) is 8, but H = 4 from query axis 1}}
  %o = attn.linear_attention constant %q, %k, %v gate(%g : tensor<8xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: scalar decay takes [B, H, L], not [H].
func.func @linear_scalar_gate_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %g: tensor<4xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op gate must have rank 3 [B, H, L], got 'tensor<4xf32>'}}
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<4xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: scalar gate covers 8 tokens, L = 16.
func.func @linear_scalar_gate_len(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %g: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op gate axis 2 (L) is 8, but L = 16 from query axis 2}}
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x4x8xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: vector decay takes [B, H, L, F], not [B, H, L].
func.func @linear_vector_gate_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %g: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op gate must have rank 4 [B, H, L, F], got 'tensor<1x4x16xf32>'}}
  %o = attn.linear_attention vector %q, %k, %v gate(%g : tensor<1x4x16xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Gate shape: vector gate has 6 rows (Dv), it decays the F = 8 feature rows.
func.func @linear_vector_gate_f(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %g: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op gate axis 3 (F) is 6, but F = 8 from query axis 3}}
  %o = attn.linear_attention vector %q, %k, %v gate(%g : tensor<1x4x16x6xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// norm_in without normalize.
func.func @linear_norm_in_unnormalized(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %s: tensor<1x4x8x6xf32>, %z: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op norm_in needs normalize and state_in}}
  %o = attn.linear_attention none %q, %k, %v state(%s : tensor<1x4x8x6xf32>) norm(%z : tensor<1x4x8xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// norm_in with normalize but without state_in.
func.func @linear_norm_in_no_state(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %z: tensor<1x4x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op norm_in needs normalize and state_in}}
  %o = attn.linear_attention none %q, %k, %v norm(%z : tensor<1x4x8xf32>) {normalize} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// A normalised chunk that resumes from state_in also needs the normaliser z_in.
func.func @linear_normalized_state_no_norm(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %s: tensor<1x4x8x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op a normalised op with state_in needs norm_in}}
  %o = attn.linear_attention none %q, %k, %v state(%s : tensor<1x4x8x6xf32>) {normalize} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// norm_out without normalize.
func.func @linear_norm_out_unnormalized(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op norm_out needs normalize and state_out}}
  %o, %so, %zo = attn.linear_attention none %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>, state tensor<1x4x8x6xf32>, norm tensor<1x4x8xf32>
  return
}

// -----

// norm_out with normalize but without state_out (generic form: the custom parser
// only accepts norm after state).
func.func @linear_norm_out_no_state(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op norm_out needs normalize and state_out}}
  %o, %zo = "attn.linear_attention"(%q, %k, %v) <{decay = 0 : i32, normalize, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0>, resultSegmentSizes = array<i32: 1, 0, 1>}> : (tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32>) -> (tensor<1x4x16x6xf32>, tensor<1x4x8xf32>)
  return
}

// -----

// A normalised op that returns its state must also return the normaliser.
func.func @linear_normalized_state_out_no_norm(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op a normalised op with state_out must return norm_out}}
  %o, %so = attn.linear_attention none %q, %k, %v {normalize} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>, state tensor<1x4x8x6xf32>
  return
}

// -----

// State shape: state_in is [B, H, F, Dv] = [1, 4, 8, 6], not [.., Dv, F].
func.func @linear_state_in_transposed(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %s: tensor<1x4x6x8xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op state_in axis 2 (F) is 6, but F = 8 from query axis 3}}
  %o = attn.linear_attention none %q, %k, %v state(%s : tensor<1x4x6x8xf32>) : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// State shape: state_out has Dv = 8, value Dv = 6.
func.func @linear_state_out_dv(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op state_out axis 3 (Dv) is 8, but Dv = 6 from value axis 3}}
  %o, %so = attn.linear_attention none %q, %k, %v : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>, state tensor<1x4x8x8xf32>
  return
}

// -----

// Normaliser shape: norm_in is [B, H, F] with F = 8, not Dv = 6.
func.func @linear_norm_in_f(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>, %s: tensor<1x4x8x6xf32>, %z: tensor<1x4x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op norm_in axis 2 (F) is 6, but F = 8 from query axis 3}}
  %o = attn.linear_attention none %q, %k, %v state(%s : tensor<1x4x8x6xf32>) norm(%z : tensor<1x4x6xf32>) {normalize} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// Wrong rank: norm_out is [B, H, F], not rank 4.
func.func @linear_norm_out_rank(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op norm_out must have rank 3 [B, H, F], got 'tensor<1x4x8x1xf32>'}}
  %o, %so, %zo = attn.linear_attention none %q, %k, %v {normalize} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>, state tensor<1x4x8x6xf32>, norm tensor<1x4x8x1xf32>
  return
}

// -----

// eps = 0 with normalize leaves the denominator unguarded.
func.func @linear_eps_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op eps must be positive}}
  %o = attn.linear_attention none %q, %k, %v {normalize, eps = 0.0} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}

// -----

// scale = 0 would zero every output.
func.func @linear_scale_zero(%q: tensor<1x4x16x8xf32>, %k: tensor<1x4x16x8xf32>, %v: tensor<1x4x16x6xf32>) {
  // expected-error @+1 {{'attn.linear_attention' op scale must be finite and non-zero, got 0.000000e+00}}
  %o = attn.linear_attention none %q, %k, %v {scale = 0.0} : tensor<1x4x16x8xf32>, tensor<1x4x16x8xf32>, tensor<1x4x16x6xf32> -> tensor<1x4x16x6xf32>
  return
}
