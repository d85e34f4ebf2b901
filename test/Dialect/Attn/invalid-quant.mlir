// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Invalid quantised-KV ops: attn.quant_attention (ODS types, bits in {4, 8},
// odd D / Dv with 4-bit codes, code widths D or D / 2, scale groups
// ceil(Lk / g) and ceil(Dv / g), zero-point shapes, head groups, lse, scale)
// and product quantisation: attn.pq_fit, attn.pq_encode, attn.pq_attention
// (Kc in {16, 256}, sub-spaces tiling D, m even for Kc = 16, code widths,
// N >= Kc, iters, head and length mismatches).
// quant_attention shapes: q [1, 8, 4, 64], codes for Hkv = 2, Lk = 64, Dv = 32,
// group 16 unless a case says otherwise.

// ODS: codes are i8 bytes, not i32.
func.func @quant_codes_i32(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi32>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op operand #1 must be ranked tensor of 8-bit signless integer values, but got 'tensor<1x2x64x64xi32>'}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi32>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// ODS: 4-bit codes are packed into i8 bytes, not stored as i4.
func.func @quant_codes_i4(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi4>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op operand #1 must be ranked tensor of 8-bit signless integer values, but got 'tensor<1x2x64x64xi4>'}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi4>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 4, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// ODS: scales are f32, here f16.
func.func @quant_scale_f16(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf16>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op operand #2 must be ranked tensor of 32-bit float values, but got 'tensor<1x2x4x64xf16>'}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf16>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// ODS: bits is a required attribute.
func.func @quant_no_bits(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op requires attribute 'bits'}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// bits must be 4 or 8: 2-bit codes are not supported.
func.func @quant_bits_2(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op bits must be 4 or 8, got 2}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 2, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// bits must be 4 or 8: 16 does not fit a byte.
func.func @quant_bits_16(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op bits must be 4 or 8, got 16}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 16, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// group_size = 0: a scale group must cover at least one element.
func.func @quant_group_zero(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op group_size must be at least 1, got 0}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 0} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Wrong rank: the query is [B, Hq, Lq, D], not rank 3.
func.func @quant_query_rank(%q: tensor<8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op query must have rank 4 [B, Hq, Lq, D], got 'tensor<8x4x64xf16>'}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16} : tensor<8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Element type mismatch: bf16 output for an f16 query.
func.func @quant_out_elem(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op out element type 'bf16' must match query element type 'f16'}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xbf16>
  return
}

// -----

// Symbol mismatch: lse covers 2 query rows, Lq = 4.
func.func @quant_lse_lq(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op lse axis 2 (Lq) is 2, but Lq = 4 from query axis 2}}
  %o, %l = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>, tensor<1x8x2xf32>
  return
}

// -----

// 4-bit codes pack two per byte: D = 63 is odd.
func.func @quant_int4_odd_d(%q: tensor<1x8x4x63xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op 4-bit codes pack two per byte, so D must be even, got 63}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 4, group_size = 16} : tensor<1x8x4x63xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// 4-bit codes pack two per byte: Dv = 31 is odd.
func.func @quant_int4_odd_dv(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x32xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op 4-bit codes pack two per byte, so Dv must be even, got 31}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x32xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 4, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x31xf16>
  return
}

// -----

// Code width: 8-bit key codes hold D = 64 bytes per token, here 32 (a packed int4 width).
func.func @quant_int8_key_width(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x32xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op key_codes axis 3 (DC) is 32, but DC = 64 from D (8-bit codes)}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x32xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Code width: 4-bit key codes hold D / 2 = 32 bytes per token, here 64 (unpacked).
func.func @quant_int4_key_width(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x16xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op key_codes axis 3 (DC) is 64, but DC = 32 from D / 2 (4-bit codes)}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x16xi8>, tensor<1x2x64x2xf32>) {bits = 4, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Code width: 4-bit value codes hold Dv / 2 = 16 bytes per token, here 32.
func.func @quant_int4_value_width(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x32xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op value_codes axis 3 (DvC) is 32, but DvC = 16 from Dv / 2 (4-bit codes)}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x32xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 4, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Symbol mismatch: value codes hold 48 tokens, key codes Lk = 64.
func.func @quant_value_lk(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x48x32xi8>, %vs: tensor<1x2x48x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op value_codes axis 2 (Lk) is 48, but Lk = 64 from key_codes axis 2}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x48x32xi8>, tensor<1x2x48x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Head groups: 8 query heads over 3 kv heads.
func.func @quant_heads(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x3x64x64xi8>, %ks: tensor<1x3x4x64xf32>, %vc: tensor<1x3x64x32xi8>, %vs: tensor<1x3x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op query heads (8) must be a multiple of key/value heads (3)}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x3x64x64xi8>, tensor<1x3x4x64xf32>) value(%vc, %vs : tensor<1x3x64x32xi8>, tensor<1x3x64x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Scale groups: keys group along tokens, ceil(64 / 16) = 4 scale rows, here 64 (one per token).
func.func @quant_key_scale_groups(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x64x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op key_scale axis 2 (NKG) is 64, but NKG = 4 from ceil(Lk / group_size)}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x64x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Scale groups: ceil(64 / 24) = 3 key scale rows, not floor 2.
func.func @quant_key_scale_ceil(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x2x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op key_scale axis 2 (NKG) is 2, but NKG = 3 from ceil(Lk / group_size)}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x2x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 24} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Scale shape: key scales are per channel, D = 64 columns, here 4.
func.func @quant_key_scale_d(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x4xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op key_scale axis 3 (D) is 4, but D = 64 from query axis 3}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x4xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Scale groups: values group along channels, ceil(32 / 16) = 2 scale columns, here 4 (a key-style grouping).
func.func @quant_value_scale_groups(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x4xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op value_scale axis 3 (NVG) is 4, but NVG = 2 from ceil(Dv / group_size)}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x4xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Scale shape: value scales are per token, Lk = 64 rows, here 4.
func.func @quant_value_scale_tokens(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x4x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op value_scale axis 2 (Lk) is 4, but Lk = 64 from key_codes axis 2}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x4x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Zero-point shape: key_zero has the key_scale shape [1, 2, 4, 64], here 8 rows.
func.func @quant_key_zero_shape(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %kz: tensor<1x2x8x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op key_zero axis 2 (NKG) is 8, but NKG = 4 from ceil(Lk / group_size)}}
  %o = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>, tensor<1x2x8x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// Zero-point shape: value_zero has the value_scale shape [1, 2, 64, 2], here 1 column.
func.func @quant_value_zero_shape(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>, %vz: tensor<1x2x64x1xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op value_zero axis 3 (NVG) is 1, but NVG = 2 from ceil(Dv / group_size)}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs, zero %vz : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>, tensor<1x2x64x1xf32>) {bits = 8, group_size = 16} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// scale = 0 makes every key equally likely.
func.func @quant_scale_zero(%q: tensor<1x8x4x64xf16>, %kc: tensor<1x2x64x64xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x64x32xi8>, %vs: tensor<1x2x64x2xf32>) {
  // expected-error @+1 {{'attn.quant_attention' op scale must be finite and non-zero, got 0.000000e+00}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x64xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x64x32xi8>, tensor<1x2x64x2xf32>) {bits = 8, group_size = 16, scale = 0.0} : tensor<1x8x4x64xf16> -> tensor<1x8x4x32xf16>
  return
}

// -----

// ODS: codebooks are f32, here f16.
func.func @pq_fit_codebooks_f16(%keys: tensor<4x512x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op result #0 must be ranked tensor of 32-bit float values, but got 'tensor<4x16x256x4xf16>'}}
  %cb = attn.pq_fit %keys : tensor<4x512x64xf32> -> tensor<4x16x256x4xf16>
  return
}

// -----

// Wrong rank: calibration keys are [H, N, D], not [B, H, N, D].
func.func @pq_fit_keys_rank(%keys: tensor<1x4x512x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op keys must have rank 3 [H, N, D], got 'tensor<1x4x512x64xf32>'}}
  %cb = attn.pq_fit %keys : tensor<1x4x512x64xf32> -> tensor<4x16x256x4xf32>
  return
}

// -----

// Wrong rank: codebooks are [H, m, Kc, D/m], not rank 3.
func.func @pq_fit_codebooks_rank(%keys: tensor<4x512x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op codebooks must have rank 4 [H, m, Kc, D/m], got 'tensor<4x16x256xf32>'}}
  %cb = attn.pq_fit %keys : tensor<4x512x64xf32> -> tensor<4x16x256xf32>
  return
}

// -----

// Symbol mismatch: codebooks for 8 heads, keys have H = 4.
func.func @pq_fit_heads(%keys: tensor<4x512x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op codebooks axis 0 (H) is 8, but H = 4 from keys axis 0}}
  %cb = attn.pq_fit %keys : tensor<4x512x64xf32> -> tensor<8x16x256x4xf32>
  return
}

// -----

// Kc must be 16 (4-bit codes) or 256 (8-bit codes): 64 fits neither.
func.func @pq_fit_kc_64(%keys: tensor<4x512x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op codebook size Kc must be 16 (4-bit codes) or 256 (8-bit codes), got 64}}
  %cb = attn.pq_fit %keys : tensor<4x512x64xf32> -> tensor<4x16x64x4xf32>
  return
}

// -----

// Zero PQ sub-spaces.
func.func @pq_fit_m_zero(%keys: tensor<4x512x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op the number of PQ sub-spaces must be positive}}
  %cb = attn.pq_fit %keys : tensor<4x512x64xf32> -> tensor<4x0x256x4xf32>
  return
}

// -----

// Sub-spaces must tile D = 64: 16 sub-spaces of 8 dims cover 128.
func.func @pq_fit_tiling(%keys: tensor<4x512x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op PQ sub-spaces must tile D: 16 sub-spaces of 8 dims cover 128, but D = 64}}
  %cb = attn.pq_fit %keys : tensor<4x512x64xf32> -> tensor<4x16x256x8xf32>
  return
}

// -----

// With D/m dynamic, m = 12 must still divide D = 64.
func.func @pq_fit_divide(%keys: tensor<4x512x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op PQ sub-space count 12 must divide D = 64}}
  %cb = attn.pq_fit %keys : tensor<4x512x64xf32> -> tensor<4x12x256x?xf32>
  return
}

// -----

// k-means with Kc = 256 centroids needs N >= 256 calibration keys, here 100.
func.func @pq_fit_too_few_keys(%keys: tensor<4x100x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op k-means needs at least Kc = 256 calibration keys, got N = 100}}
  %cb = attn.pq_fit %keys : tensor<4x100x64xf32> -> tensor<4x16x256x4xf32>
  return
}

// -----

// A negative iteration count (0 means k-means++ seeding only).
func.func @pq_fit_iters_negative(%keys: tensor<4x512x64xf32>) {
  // expected-error @+1 {{'attn.pq_fit' op iters must be at least 0, got -1}}
  %cb = attn.pq_fit %keys {iters = -1} : tensor<4x512x64xf32> -> tensor<4x16x256x4xf32>
  return
}

// -----

// ODS: codes are i8 bytes, not i32.
func.func @pq_encode_codes_i32(%k: tensor<1x4x32x64xf32>, %cb: tensor<4x16x256x4xf32>) {
  // expected-error @+1 {{'attn.pq_encode' op result #0 must be ranked tensor of 8-bit signless integer values, but got 'tensor<1x4x32x16xi32>'}}
  %c = attn.pq_encode %k, %cb : tensor<1x4x32x64xf32>, tensor<4x16x256x4xf32> -> tensor<1x4x32x16xi32>
  return
}

// -----

// Symbol mismatch: codebooks for 2 heads, the keys have H = 4.
func.func @pq_encode_heads(%k: tensor<1x4x32x64xf32>, %cb: tensor<2x16x256x4xf32>) {
  // expected-error @+1 {{'attn.pq_encode' op codebooks axis 0 (H) is 2, but H = 4 from key axis 1}}
  %c = attn.pq_encode %k, %cb : tensor<1x4x32x64xf32>, tensor<2x16x256x4xf32> -> tensor<1x4x32x16xi8>
  return
}

// -----

// Kc must be 16 or 256: 128 is neither.
func.func @pq_encode_kc(%k: tensor<1x4x32x64xf32>, %cb: tensor<4x16x128x4xf32>) {
  // expected-error @+1 {{'attn.pq_encode' op codebook size Kc must be 16 (4-bit codes) or 256 (8-bit codes), got 128}}
  %c = attn.pq_encode %k, %cb : tensor<1x4x32x64xf32>, tensor<4x16x128x4xf32> -> tensor<1x4x32x16xi8>
  return
}

// -----

// Sub-spaces must tile D = 64: 16 sub-spaces of 2 dims cover 32.
func.func @pq_encode_tiling(%k: tensor<1x4x32x64xf32>, %cb: tensor<4x16x256x2xf32>) {
  // expected-error @+1 {{'attn.pq_encode' op PQ sub-spaces must tile D: 16 sub-spaces of 2 dims cover 32, but D = 64}}
  %c = attn.pq_encode %k, %cb : tensor<1x4x32x64xf32>, tensor<4x16x256x2xf32> -> tensor<1x4x32x16xi8>
  return
}

// -----

// Kc = 16 packs two 4-bit codes per byte, so m = 1 (odd) cannot be packed.
func.func @pq_encode_kc16_odd_m(%k: tensor<1x4x32x64xf32>, %cb: tensor<4x1x16x64xf32>) {
  // expected-error @+1 {{'attn.pq_encode' op 4-bit PQ codes pack two sub-spaces per byte, so m must be even, got 1}}
  %c = attn.pq_encode %k, %cb : tensor<1x4x32x64xf32>, tensor<4x1x16x64xf32> -> tensor<1x4x32x1xi8>
  return
}

// -----

// Code width: Kc = 256 stores one byte per sub-space, m = 16 bytes, here 8 (a packed width).
func.func @pq_encode_kc256_width(%k: tensor<1x4x32x64xf32>, %cb: tensor<4x16x256x4xf32>) {
  // expected-error @+1 {{'attn.pq_encode' op codes axis 3 (MC) is 8, but MC = 16 from m (Kc = 256, one byte per code)}}
  %c = attn.pq_encode %k, %cb : tensor<1x4x32x64xf32>, tensor<4x16x256x4xf32> -> tensor<1x4x32x8xi8>
  return
}

// -----

// Code width: Kc = 16 packs m = 16 sub-spaces into 16 / 2 = 8 bytes, here 16 (unpacked).
func.func @pq_encode_kc16_width(%k: tensor<1x4x32x64xf32>, %cb: tensor<4x16x16x4xf32>) {
  // expected-error @+1 {{'attn.pq_encode' op codes axis 3 (MC) is 16, but MC = 8 from m / 2 (Kc = 16, packed nibbles)}}
  %c = attn.pq_encode %k, %cb : tensor<1x4x32x64xf32>, tensor<4x16x16x4xf32> -> tensor<1x4x32x16xi8>
  return
}

// -----

// Symbol mismatch: codes for 16 tokens, the keys have L = 32.
func.func @pq_encode_codes_len(%k: tensor<1x4x32x64xf32>, %cb: tensor<4x16x256x4xf32>) {
  // expected-error @+1 {{'attn.pq_encode' op codes axis 2 (L) is 16, but L = 32 from key axis 2}}
  %c = attn.pq_encode %k, %cb : tensor<1x4x32x64xf32>, tensor<4x16x256x4xf32> -> tensor<1x4x16x16xi8>
  return
}

// -----

// ODS: codebooks are f32, here f16.
func.func @pq_attn_codebooks_f16(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x16xi8>, %cb: tensor<2x16x256x4xf16>, %v: tensor<1x2x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op operand #2 must be ranked tensor of 32-bit float values, but got 'tensor<2x16x256x4xf16>'}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x2x128x16xi8>, tensor<2x16x256x4xf16>, tensor<1x2x128x32xf32> -> tensor<1x8x4x32xf32>
  return
}

// -----

// Kc must be 16 or 256: 32 is neither.
func.func @pq_attn_kc(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x16xi8>, %cb: tensor<2x16x32x4xf32>, %v: tensor<1x2x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op codebook size Kc must be 16 (4-bit codes) or 256 (8-bit codes), got 32}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x2x128x16xi8>, tensor<2x16x32x4xf32>, tensor<1x2x128x32xf32> -> tensor<1x8x4x32xf32>
  return
}

// -----

// Sub-spaces must tile the query's D = 64: 8 sub-spaces of 4 dims cover 32.
func.func @pq_attn_tiling(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x16xi8>, %cb: tensor<2x8x256x4xf32>, %v: tensor<1x2x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op PQ sub-spaces must tile D: 8 sub-spaces of 4 dims cover 32, but D = 64}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x2x128x16xi8>, tensor<2x8x256x4xf32>, tensor<1x2x128x32xf32> -> tensor<1x8x4x32xf32>
  return
}

// -----

// Symbol mismatch: codes for 4 kv heads, the codebooks have Hkv = 2.
func.func @pq_attn_codes_heads(%q: tensor<1x8x4x64xf32>, %c: tensor<1x4x128x16xi8>, %cb: tensor<2x16x256x4xf32>, %v: tensor<1x2x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op codes axis 1 (Hkv) is 4, but Hkv = 2 from codebooks axis 0}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x4x128x16xi8>, tensor<2x16x256x4xf32>, tensor<1x2x128x32xf32> -> tensor<1x8x4x32xf32>
  return
}

// -----

// Code width: Kc = 256 with m = 16 stores 16 bytes per key, here 8.
func.func @pq_attn_codes_width(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x8xi8>, %cb: tensor<2x16x256x4xf32>, %v: tensor<1x2x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op codes axis 3 (MC) is 8, but MC = 16 from m (Kc = 256, one byte per code)}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x2x128x8xi8>, tensor<2x16x256x4xf32>, tensor<1x2x128x32xf32> -> tensor<1x8x4x32xf32>
  return
}

// -----

// Kc = 16 packs two codes per byte, so m = 1 (odd) cannot be packed.
func.func @pq_attn_kc16_odd_m(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x1xi8>, %cb: tensor<2x1x16x64xf32>, %v: tensor<1x2x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op 4-bit PQ codes pack two sub-spaces per byte, so m must be even, got 1}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x2x128x1xi8>, tensor<2x1x16x64xf32>, tensor<1x2x128x32xf32> -> tensor<1x8x4x32xf32>
  return
}

// -----

// Symbol mismatch: values for 64 keys, the codes hold Lk = 128.
func.func @pq_attn_value_lk(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x16xi8>, %cb: tensor<2x16x256x4xf32>, %v: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op value axis 2 (Lk) is 64, but Lk = 128 from codes axis 2}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x2x128x16xi8>, tensor<2x16x256x4xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x32xf32>
  return
}

// -----

// Symbol mismatch: output Dv = 64, value Dv = 32.
func.func @pq_attn_out_dv(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x16xi8>, %cb: tensor<2x16x256x4xf32>, %v: tensor<1x2x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op out axis 3 (Dv) is 64, but Dv = 32 from value axis 3}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x2x128x16xi8>, tensor<2x16x256x4xf32>, tensor<1x2x128x32xf32> -> tensor<1x8x4x64xf32>
  return
}

// -----

// Head groups: 8 query heads over 3 PQ-coded kv heads.
func.func @pq_attn_heads(%q: tensor<1x8x4x64xf32>, %c: tensor<1x3x128x16xi8>, %cb: tensor<3x16x256x4xf32>, %v: tensor<1x3x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op query heads (8) must be a multiple of key/value heads (3)}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x3x128x16xi8>, tensor<3x16x256x4xf32>, tensor<1x3x128x32xf32> -> tensor<1x8x4x32xf32>
  return
}

// -----

// Element type mismatch: bf16 values for an f32 query.
func.func @pq_attn_value_elem(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x16xi8>, %cb: tensor<2x16x256x4xf32>, %v: tensor<1x2x128x32xbf16>) {
  // expected-error @+1 {{'attn.pq_attention' op value element type 'bf16' must match query element type 'f32'}}
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x2x128x16xi8>, tensor<2x16x256x4xf32>, tensor<1x2x128x32xbf16> -> tensor<1x8x4x32xf32>
  return
}

// -----

// Symbol mismatch: lse is per query head (Hq = 8), here 2.
func.func @pq_attn_lse_heads(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x16xi8>, %cb: tensor<2x16x256x4xf32>, %v: tensor<1x2x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op lse axis 1 (Hq) is 2, but Hq = 8 from query axis 1}}
  %o, %l = attn.pq_attention %q, %c, %cb, %v : tensor<1x8x4x64xf32>, tensor<1x2x128x16xi8>, tensor<2x16x256x4xf32>, tensor<1x2x128x32xf32> -> tensor<1x8x4x32xf32>, tensor<1x2x4xf32>
  return
}

// -----

// scale = 0 makes every key equally likely.
func.func @pq_attn_scale_zero(%q: tensor<1x8x4x64xf32>, %c: tensor<1x2x128x16xi8>, %cb: tensor<2x16x256x4xf32>, %v: tensor<1x2x128x32xf32>) {
  // expected-error @+1 {{'attn.pq_attention' op scale must be finite and non-zero, got 0.000000e+00}}
  %o = attn.pq_attention %q, %c, %cb, %v {scale = 0.0} : tensor<1x8x4x64xf32>, tensor<1x2x128x16xi8>, tensor<2x16x256x4xf32>, tensor<1x2x128x32xf32> -> tensor<1x8x4x32xf32>
  return
}

// -----

// with the query's D dynamic, 8-bit key codes of 32 bytes fix D = 32,
// but the per-channel key scales have 64 columns; both sizes are static.
func.func @quant_int8_dynamic_d(%q: tensor<1x2x4x?xf32>, %kc: tensor<1x2x16x32xi8>, %ks: tensor<1x2x1x64xf32>, %vc: tensor<1x2x16x8xi8>, %vs: tensor<1x2x16x1xf32>) {
  // expected-error @+1 {{key_scale axis 3 (D) is 64, but D = 32}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x16x32xi8>, tensor<1x2x1x64xf32>) value(%vc, %vs : tensor<1x2x16x8xi8>, tensor<1x2x16x1xf32>) {bits = 8, group_size = 16} : tensor<1x2x4x?xf32> -> tensor<1x2x4x8xf32>
  return
}

// -----

// with D dynamic, 32 bytes of packed 4-bit key codes fix
// D = 2 * 32 = 64, but the key scales have 128 columns.
func.func @quant_int4_dynamic_d(%q: tensor<1x2x4x?xf32>, %kc: tensor<1x2x16x32xi8>, %ks: tensor<1x2x1x128xf32>, %vc: tensor<1x2x16x4xi8>, %vs: tensor<1x2x16x1xf32>) {
  // expected-error @+1 {{key_scale axis 3 (D) is 128, but D = 64}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x16x32xi8>, tensor<1x2x1x128xf32>) value(%vc, %vs : tensor<1x2x16x4xi8>, tensor<1x2x16x1xf32>) {bits = 4, group_size = 16} : tensor<1x2x4x?xf32> -> tensor<1x2x4x8xf32>
  return
}

// -----

// with the output's Dv dynamic, 8-bit value codes of 32 bytes
// fix Dv = 32, so group 16 gives ceil(32 / 16) = 2 value scale columns, not 4.
func.func @quant_int8_dynamic_dv(%q: tensor<1x2x4x8xf32>, %kc: tensor<1x2x16x8xi8>, %ks: tensor<1x2x1x8xf32>, %vc: tensor<1x2x16x32xi8>, %vs: tensor<1x2x16x4xf32>) {
  // expected-error @+1 {{value_scale axis 3 (NVG) is 4, but NVG = 2}}
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x16x8xi8>, tensor<1x2x1x8xf32>) value(%vc, %vs : tensor<1x2x16x32xi8>, tensor<1x2x16x4xf32>) {bits = 8, group_size = 16} : tensor<1x2x4x8xf32> -> tensor<1x2x4x?xf32>
  return
}

// -----

// Kc = 16 packs two sub-space codes per byte, so m = 3 sub-spaces cannot be
// fitted into codebooks that pq_encode could use.
func.func @pq_fit_kc16_odd_m(%keys: tensor<2x64x48xf32>) {
  // expected-error @+1 {{4-bit PQ codes pack two sub-spaces per byte, so m must be even, got 3}}
  %cb = attn.pq_fit %keys : tensor<2x64x48xf32> -> tensor<2x3x16x16xf32>
  return
}
