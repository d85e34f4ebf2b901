// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Invalid attn.attention: ODS element types, operand ranks, symbol and
// broadcast mismatches between q/k/v/out/lse/mask/block lists/sinks, derived
// block counts, head groups, masks, block-list pairing, window, softcap, scale
// and the score_mod / mask_mod regions. Shapes: q [2, 4, 8, 16], k [2, 2, 12, 16],
// v [2, 2, 12, 8] unless a case says otherwise.

// ODS: the query must be a float tensor (f32, f16, bf16), not i32.
func.func @query_i32(%q: tensor<2x4x8x16xi32>, %k: tensor<2x2x12x16xi32>, %v: tensor<2x2x12x8xi32>) {
  // expected-error @+1 {{'attn.attention' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x4x8x16xi32>'}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xi32>, tensor<2x2x12x16xi32>, tensor<2x2x12x8xi32> -> tensor<2x4x8x8xi32>
  return
}

// -----

// ODS: operands are ranked tensors; an unranked key is rejected before any shape
// rule (generic form: the custom form does not even parse an unranked type).
func.func @key_unranked(%q: tensor<2x4x8x16xf32>, %k: tensor<*xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op operand #1 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<*xf32>'}}
  %o = "attn.attention"(%q, %k, %v) <{operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0>}> ({}, {}) : (tensor<2x4x8x16xf32>, tensor<*xf32>, tensor<2x2x12x8xf32>) -> tensor<2x4x8x8xf32>
  return
}

// -----

// ODS: lse is always f32, here f16.
func.func @lse_f16(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op result #1 must be ranked tensor of 32-bit float values, but got 'tensor<2x4x8xf16>'}}
  %o, %l = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>, tensor<2x4x8xf16>
  return
}

// -----

// ODS: a mask is i1 or a float type, not i8.
func.func @mask_i8(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %m: tensor<2x4x8x12xi8>) {
  // expected-error @+1 {{'attn.attention' op operand #3 must be ranked tensor of 1-bit signless integer or 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<2x4x8x12xi8>'}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<2x4x8x12xi8>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// ODS: block lists are i32, not i64.
func.func @indices_i64(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x1xi64>, %i: tensor<1x1x1x3xi64>) {
  // expected-error @+1 {{'attn.attention' op operand #3 must be ranked tensor of 32-bit signless integer values, but got 'tensor<1x1x1xi64>'}}
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x1xi64>, tensor<1x1x1x3xi64>) {block_q = 8 : i64, block_k = 4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// ODS: sinks are f32, here f16.
func.func @sinks_f16(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %s: tensor<4xf16>) {
  // expected-error @+1 {{'attn.attention' op operand #3 must be ranked tensor of 32-bit float values, but got 'tensor<4xf16>'}}
  %o = attn.attention %q, %k, %v sinks(%s : tensor<4xf16>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Wrong rank: the query is [B, Hq, Lq, D], rank 4, not 3.
func.func @query_rank3(%q: tensor<4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op query must have rank 4 [B, Hq, Lq, D], got 'tensor<4x8x16xf32>'}}
  %o = attn.attention %q, %k, %v : tensor<4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Wrong rank: the output is [B, Hq, Lq, Dv], rank 4, not 5.
func.func @out_rank5(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op out must have rank 4 [B, Hq, Lq, Dv], got 'tensor<2x4x8x8x1xf32>'}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8x1xf32>
  return
}

// -----

// Symbol mismatch: key D = 32 but query D = 16.
func.func @key_d(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x32xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op key axis 3 (D) is 32, but D = 16 from query axis 3}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x32xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Symbol mismatch: key batch 1 but query batch B = 2.
func.func @key_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<1x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op key axis 0 (B) is 1, but B = 2 from query axis 0}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<1x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Symbol mismatch: value has Lk = 10 keys, key has Lk = 12.
func.func @value_lk(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x10x8xf32>) {
  // expected-error @+1 {{'attn.attention' op value axis 2 (Lk) is 10, but Lk = 12 from key axis 2}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x10x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Symbol mismatch: value has 4 kv heads, key has Hkv = 2.
func.func @value_heads(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x4x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op value axis 1 (Hkv) is 4, but Hkv = 2 from key axis 1}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x4x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Symbol mismatch: output Dv = 16 but value Dv = 8.
func.func @out_dv(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op out axis 3 (Dv) is 16, but Dv = 8 from value axis 3}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x16xf32>
  return
}

// -----

// Symbol mismatch: output has 9 query rows, query has Lq = 8.
func.func @out_lq(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op out axis 2 (Lq) is 9, but Lq = 8 from query axis 2}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x9x8xf32>
  return
}

// -----

// Symbol mismatch: lse [B, Hq, Lq] has Lq = 4, query has 8.
func.func @lse_lq(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op lse axis 2 (Lq) is 4, but Lq = 8 from query axis 2}}
  %o, %l = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>, tensor<2x4x4xf32>
  return
}

// -----

// Wrong rank: lse is [B, Hq, Lq], not rank 4.
func.func @lse_rank(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op lse must have rank 3 [B, Hq, Lq], got 'tensor<2x4x8x1xf32>'}}
  %o, %l = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>, tensor<2x4x8x1xf32>
  return
}

// -----

// Element type mismatch: f16 key with an f32 query.
func.func @key_elem(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf16>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op key element type 'f16' must match query element type 'f32'}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf16>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Element type mismatch: bf16 output for f32 inputs.
func.func @out_elem(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op out element type 'bf16' must match query element type 'f32'}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xbf16>
  return
}

// -----

// Head groups: 6 query heads are not a whole number of groups of 4 kv heads.
func.func @heads_not_divisible(%q: tensor<2x6x8x16xf32>, %k: tensor<2x4x12x16xf32>, %v: tensor<2x4x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op query heads (6) must be a multiple of key/value heads (4)}}
  %o = attn.attention %q, %k, %v : tensor<2x6x8x16xf32>, tensor<2x4x12x16xf32>, tensor<2x4x12x8xf32> -> tensor<2x6x8x8xf32>
  return
}

// -----

// Head groups: zero kv heads.
func.func @zero_kv_heads(%q: tensor<2x4x8x16xf32>, %k: tensor<2x0x12x16xf32>, %v: tensor<2x0x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op key/value head count must be positive}}
  %o = attn.attention %q, %k, %v : tensor<2x4x8x16xf32>, tensor<2x0x12x16xf32>, tensor<2x0x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Mask shape: the mask is [B|1, Hq|1, Lq, Lk], rank 4, not 2.
func.func @mask_rank(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %m: tensor<8x12xi1>) {
  // expected-error @+1 {{'attn.attention' op mask must have rank 4 [B|1, Hq|1, Lq, Lk], got 'tensor<8x12xi1>'}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<8x12xi1>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Broadcast: mask batch 3 is neither 1 nor B = 2.
func.func @mask_batch_broadcast(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %m: tensor<3x1x8x12xi1>) {
  // expected-error @+1 {{'attn.attention' op mask axis 0 is 3, but it must be 1 or B = 2}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<3x1x8x12xi1>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Broadcast: mask heads 2 is neither 1 nor Hq = 4 (it must not follow Hkv).
func.func @mask_head_broadcast(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %m: tensor<1x2x8x12xi1>) {
  // expected-error @+1 {{'attn.attention' op mask axis 1 is 2, but it must be 1 or Hq = 4}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x2x8x12xi1>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Mask shape: 16 key columns but Lk = 12.
func.func @mask_lk(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %m: tensor<1x1x8x16xi1>) {
  // expected-error @+1 {{'attn.attention' op mask axis 3 (Lk) is 16, but Lk = 12 from key axis 2}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x1x8x16xi1>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Mask shape: 12 query rows but Lq = 8 (the mask is [.., Lq, Lk], not transposed).
func.func @mask_lq(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %m: tensor<1x1x12x8xi1>) {
  // expected-error @+1 {{'attn.attention' op mask axis 2 (Lq) is 12, but Lq = 8 from query axis 2}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x1x12x8xi1>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Mask element type: an additive f16 mask on bf16 inputs is neither f32 nor the query type.
func.func @mask_additive_elem(%q: tensor<2x4x8x16xbf16>, %k: tensor<2x2x12x16xbf16>, %v: tensor<2x2x12x8xbf16>, %m: tensor<1x1x8x12xf16>) {
  // expected-error @+1 {{'attn.attention' op additive mask element type 'f16' must be f32 or the query element type 'bf16'}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x1x8x12xf16>) : tensor<2x4x8x16xbf16>, tensor<2x2x12x16xbf16>, tensor<2x2x12x8xbf16> -> tensor<2x4x8x8xbf16>
  return
}

// -----

// Block lists without block_q / block_k.
func.func @blocks_without_sizes(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x1xi32>, %i: tensor<1x1x1x3xi32>) {
  // expected-error @+1 {{'attn.attention' op block_q and block_k must be set exactly when block lists are given}}
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x1xi32>, tensor<1x1x1x3xi32>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Block lists with block_q but no block_k.
func.func @blocks_one_size(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x1xi32>, %i: tensor<1x1x1x3xi32>) {
  // expected-error @+1 {{'attn.attention' op block_q and block_k must be set exactly when block lists are given}}
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x1xi32>, tensor<1x1x1x3xi32>) {block_q = 8 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// block_q / block_k without any block list.
func.func @sizes_without_blocks(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op block_q and block_k must be set exactly when block lists are given}}
  %o = attn.attention %q, %k, %v {block_q = 8 : i64, block_k = 4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// block_q = 0: a query block must hold at least one query.
func.func @block_q_zero(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x1xi32>, %i: tensor<1x1x1x3xi32>) {
  // expected-error @+1 {{'attn.attention' op block_q must be at least 1, got 0}}
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x1xi32>, tensor<1x1x1x3xi32>) {block_q = 0 : i64, block_k = 4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// block_k = -4: a key block must hold at least one key.
func.func @block_k_negative(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x1xi32>, %i: tensor<1x1x1x3xi32>) {
  // expected-error @+1 {{'attn.attention' op block_k must be at least 1, got -4}}
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x1xi32>, tensor<1x1x1x3xi32>) {block_q = 8 : i64, block_k = -4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Derived size: Lq = 8 with block_q = 4 gives ceil(8 / 4) = 2 query blocks, the counts list 3.
func.func @num_blocks_nqb(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x3xi32>, %i: tensor<1x1x3x3xi32>) {
  // expected-error @+1 {{'attn.attention' op kv_num_blocks axis 2 (NQB) is 3, but NQB = 2 from ceil(Lq / block_q)}}
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x3xi32>, tensor<1x1x3x3xi32>) {block_q = 4 : i64, block_k = 4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Derived size: Lq = 8 with block_q = 3 gives ceil(8 / 3) = 3 query blocks, not floor 2.
func.func @full_blocks_ceil(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x2xi32>, %i: tensor<1x1x2x3xi32>) {
  // expected-error @+1 {{'attn.attention' op full_kv_num_blocks axis 2 (NQB) is 2, but NQB = 3 from ceil(Lq / block_q)}}
  %o = attn.attention %q, %k, %v full_blocks(%n, %i : tensor<1x1x2xi32>, tensor<1x1x2x3xi32>) {block_q = 3 : i64, block_k = 4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Symbol mismatch: with dynamic Lq the counts fix NQB = 3, the indices list 2 query blocks.
func.func @indices_nqb(%q: tensor<2x4x?x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x3xi32>, %i: tensor<1x1x2x3xi32>) {
  // expected-error @+1 {{'attn.attention' op kv_indices axis 2 (NQB) is 2, but NQB = 3 from kv_num_blocks axis 2}}
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x3xi32>, tensor<1x1x2x3xi32>) {block_q = 4 : i64, block_k = 4 : i64} : tensor<2x4x?x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x?x8xf32>
  return
}

// -----

// Block list shape: kv_num_blocks is [B|1, Hq|1, NQB], rank 3, not 4.
func.func @num_blocks_rank(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x2x1xi32>, %i: tensor<1x1x2x3xi32>) {
  // expected-error @+1 {{'attn.attention' op kv_num_blocks must have rank 3 [B|1, Hq|1, NQB], got 'tensor<1x1x2x1xi32>'}}
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x2x1xi32>, tensor<1x1x2x3xi32>) {block_q = 4 : i64, block_k = 4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Broadcast: kv_indices heads 2 is neither 1 nor Hq = 4.
func.func @indices_head_broadcast(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x2xi32>, %i: tensor<1x2x2x3xi32>) {
  // expected-error @+1 {{'attn.attention' op kv_indices axis 1 is 2, but it must be 1 or Hq = 4}}
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x2xi32>, tensor<1x2x2x3xi32>) {block_q = 4 : i64, block_k = 4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Broadcast: full_kv_num_blocks batch 3 is neither 1 nor B = 2.
func.func @full_blocks_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<3x1x2xi32>, %i: tensor<1x1x2x3xi32>) {
  // expected-error @+1 {{'attn.attention' op full_kv_num_blocks axis 0 is 3, but it must be 1 or B = 2}}
  %o = attn.attention %q, %k, %v full_blocks(%n, %i : tensor<3x1x2xi32>, tensor<1x1x2x3xi32>) {block_q = 4 : i64, block_k = 4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// kv_num_blocks without kv_indices (only reachable in generic form).
func.func @num_blocks_alone(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<1x1x2xi32>) {
  // expected-error @+1 {{'attn.attention' op kv_num_blocks and kv_indices must be given together}}
  %o = "attn.attention"(%q, %k, %v, %n) <{block_q = 4 : i64, block_k = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 1, 0, 0, 0, 0, 0, 0>}> ({}, {}) : (tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32>, tensor<1x1x2xi32>) -> tensor<2x4x8x8xf32>
  return
}

// -----

// full_kv_indices without full_kv_num_blocks (only reachable in generic form).
func.func @full_indices_alone(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %i: tensor<1x1x2x3xi32>) {
  // expected-error @+1 {{'attn.attention' op full_kv_num_blocks and full_kv_indices must be given together}}
  %o = "attn.attention"(%q, %k, %v, %i) <{block_q = 4 : i64, block_k = 4 : i64, operandSegmentSizes = array<i32: 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0>}> ({}, {}) : (tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32>, tensor<1x1x2x3xi32>) -> tensor<2x4x8x8xf32>
  return
}

// -----

// Sinks are per query head: 2 entries (Hkv) instead of Hq = 4.
func.func @sinks_hkv(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %s: tensor<2xf32>) {
  // expected-error @+1 {{'attn.attention' op sinks axis 0 (Hq) is 2, but Hq = 4 from query axis 1}}
  %o = attn.attention %q, %k, %v sinks(%s : tensor<2xf32>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Window is [left, right]: three entries.
func.func @window_three(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op window must be [left, right], got 3 values}}
  %o = attn.attention %q, %k, %v {window = array<i64: 4, 0, 1>} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// Window sizes must be non-negative: left = -1.
func.func @window_negative(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op window sizes must be non-negative, got [-1, 0]}}
  %o = attn.attention %q, %k, %v {causal, window = array<i64: -1, 0>} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// softcap = 0 would divide by zero in softcap * tanh(s / softcap).
func.func @softcap_zero(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op softcap must be positive and finite, got 0.000000e+00}}
  %o = attn.attention %q, %k, %v {softcap = 0.0} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// softcap = -30 is not positive.
func.func @softcap_negative(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op softcap must be positive and finite, got -3.000000e+01}}
  %o = attn.attention %q, %k, %v {softcap = -30.0} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// softcap = +inf is not finite.
func.func @softcap_inf(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op softcap must be positive and finite, got INF}}
  %o = attn.attention %q, %k, %v {softcap = 0x7FF0000000000000 : f64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// scale = 0 would make every score 0.
func.func @scale_zero(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op scale must be finite and non-zero, got 0.000000e+00}}
  %o = attn.attention %q, %k, %v {scale = 0.0} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// scale = NaN is not finite.
func.func @scale_nan(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op scale must be finite and non-zero, got nan}}
  %o = attn.attention %q, %k, %v {scale = 0x7FF8000000000000 : f64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// score_mod takes (f32, index, index, index, index): here the score argument is missing.
func.func @score_mod_arity(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op score_mod region must take ('f32', 'index', 'index', 'index', 'index') arguments}}
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 0.0 : f32
    attn.yield %c : f32
  } : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// score_mod's score argument is f32 whatever the input type: here it is f16.
func.func @score_mod_arg_type(%q: tensor<2x4x8x16xf16>, %k: tensor<2x2x12x16xf16>, %v: tensor<2x2x12x8xf16>) {
  // expected-error @+1 {{'attn.attention' op score_mod region must take ('f32', 'index', 'index', 'index', 'index') arguments}}
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f16, %b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 0.0 : f32
    attn.yield %c : f32
  } : tensor<2x4x8x16xf16>, tensor<2x2x12x16xf16>, tensor<2x2x12x8xf16> -> tensor<2x4x8x8xf16>
  return
}

// -----

// score_mod must yield the f32 score, not an i1.
func.func @score_mod_yield_type(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op score_mod region must yield 'f32', got 'i1'}}
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  } : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// score_mod must end with attn.yield, not another terminator.
func.func @score_mod_terminator(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op score_mod region must end with attn.yield}}
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    llvm.unreachable
  } : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// mask_mod takes (index, index, index, index): a leading f32 score is not allowed.
func.func @mask_mod_args(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region must take ('index', 'index', 'index', 'index') arguments}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  } : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// mask_mod must yield i1 visibility, not an f32 bias.
func.func @mask_mod_yield_type(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op mask_mod region must yield 'i1', got 'f32'}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 0.0 : f32
    attn.yield %c : f32
  } : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// ODS: a mod region has at most one block.
func.func @mask_mod_two_blocks(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op region #1 ('mask_mod') failed to verify constraint: region with at most 1 blocks}}
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    cf.br ^bb1
  ^bb1:
    %t = arith.constant true
    attn.yield %t : i1
  } : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// ODS: attn.yield only terminates the regions of attn.attention.
func.func @yield_outside() {
  %c = arith.constant 0.0 : f32
  // expected-error @+1 {{'attn.yield' op expects parent op 'attn.attention'}}
  attn.yield %c : f32
}

// -----

// block_q without any block list: block sizes come only with block lists.
func.func @block_q_without_lists(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op block_q and block_k must be set exactly when block lists are given}}
  %o = attn.attention %q, %k, %v {block_q = 8 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// block_k without any block list.
func.func @block_k_without_lists(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>) {
  // expected-error @+1 {{'attn.attention' op block_q and block_k must be set exactly when block lists are given}}
  %o = attn.attention %q, %k, %v {block_k = 4 : i64} : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// kv_lens has one count per batch row: 3 here, but B = 2.
func.func @kv_lens_batch(%q: tensor<2x4x8x16xf32>, %k: tensor<2x2x12x16xf32>, %v: tensor<2x2x12x8xf32>, %n: tensor<3xi32>) {
  // expected-error @+1 {{'attn.attention' op kv_lens axis 0 (B) is 3, but B = 2 from query axis 0}}
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>) : tensor<2x4x8x16xf32>, tensor<2x2x12x16xf32>, tensor<2x2x12x8xf32> -> tensor<2x4x8x8xf32>
  return
}

// -----

// With a block table the value pool must have the key pool's page count.
func.func @paged_value_pages(%q: tensor<2x4x1x16xf32>, %k: tensor<9x2x4x16xf32>, %v: tensor<8x2x4x8xf32>, %t: tensor<2x3xi32>) {
  // expected-error @+1 {{'attn.attention' op value axis 0 (P) is 8, but P = 9 from key axis 0}}
  %o = attn.attention %q, %k, %v block_table(%t : tensor<2x3xi32>) : tensor<2x4x1x16xf32>, tensor<9x2x4x16xf32>, tensor<8x2x4x8xf32> -> tensor<2x4x1x8xf32>
  return
}

// -----

// One block-table row per batch row.
func.func @paged_table_rows(%q: tensor<2x4x1x16xf32>, %k: tensor<9x2x4x16xf32>, %v: tensor<9x2x4x8xf32>, %t: tensor<1x3xi32>) {
  // expected-error @+1 {{'attn.attention' op block_table axis 0 (B) is 1, but B = 2 from query axis 0}}
  %o = attn.attention %q, %k, %v block_table(%t : tensor<1x3xi32>) : tensor<2x4x1x16xf32>, tensor<9x2x4x16xf32>, tensor<9x2x4x8xf32> -> tensor<2x4x1x8xf32>
  return
}

// -----

// The logical key axis of a paged cache is 3 pages x 4 keys = 12; a mask
// over 9 keys does not fit it.
func.func @paged_mask_length(%q: tensor<2x4x1x16xf32>, %k: tensor<9x2x4x16xf32>, %v: tensor<9x2x4x8xf32>, %t: tensor<2x3xi32>, %m: tensor<2x1x1x9xi1>) {
  // expected-error @+1 {{'attn.attention' op mask axis 3 (Lk) is 9, but Lk = 12 from block table width x page size}}
  %o = attn.attention %q, %k, %v mask(%m : tensor<2x1x1x9xi1>) block_table(%t : tensor<2x3xi32>) : tensor<2x4x1x16xf32>, tensor<9x2x4x16xf32>, tensor<9x2x4x8xf32> -> tensor<2x4x1x8xf32>
  return
}

// -----

// Pages must hold at least one key.
func.func @paged_empty_pages(%q: tensor<2x4x1x16xf32>, %k: tensor<9x2x0x16xf32>, %v: tensor<9x2x0x8xf32>, %t: tensor<2x3xi32>) {
  // expected-error @+1 {{'attn.attention' op page size (axis 2 of the key pool) must be positive}}
  %o = attn.attention %q, %k, %v block_table(%t : tensor<2x3xi32>) : tensor<2x4x1x16xf32>, tensor<9x2x0x16xf32>, tensor<9x2x0x8xf32> -> tensor<2x4x1x8xf32>
  return
}

// -----

// A paged cache needs a static page size and table width.
func.func @paged_dynamic_table(%q: tensor<2x4x1x16xf32>, %k: tensor<9x2x4x16xf32>, %v: tensor<9x2x4x8xf32>, %t: tensor<2x?xi32>) {
  // expected-error @+1 {{'attn.attention' op a paged cache needs a static page size (axis 2 of the key pool) and block table width}}
  %o = attn.attention %q, %k, %v block_table(%t : tensor<2x?xi32>) : tensor<2x4x1x16xf32>, tensor<9x2x4x16xf32>, tensor<9x2x4x8xf32> -> tensor<2x4x1x8xf32>
  return
}

// -----

// An empty page pool has no page a table entry could name.
func.func @paged_empty_pool(%q: tensor<2x4x1x16xf32>, %k: tensor<0x2x4x16xf32>, %v: tensor<0x2x4x8xf32>, %t: tensor<2x3xi32>) {
  // expected-error @+1 {{'attn.attention' op the page pool (axis 0 of the key pool) must hold at least one page}}
  %o = attn.attention %q, %k, %v block_table(%t : tensor<2x3xi32>) : tensor<2x4x1x16xf32>, tensor<0x2x4x16xf32>, tensor<0x2x4x8xf32> -> tensor<2x4x1x8xf32>
  return
}
