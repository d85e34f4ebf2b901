// RUN: attn-opt %s -split-input-file -verify-diagnostics

// Invalid token-sparse attention and selection ops: attn.sparse_attention
// (shapes, index heads Hi in {1, Hkv, Hq}, NQ = ceil(Lq / query_block), block
// sizes, lse), attn.topk_select / attn.adamas_select (topk and forced tokens,
// result shape, head groups, Adamas' power-of-two D), attn.page_bounds and
// attn.quest_select (page counts), attn.dsa_indexer (one key head, one result
// head, weights).

// ODS: indices are i32, not i64.
func.func @sparse_indices_i64(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x16x4xi64>) {
  // expected-error @+1 {{'attn.sparse_attention' op operand #3 must be ranked tensor of 32-bit signless integer values, but got 'tensor<1x2x16x4xi64>'}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi64> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// ODS: lse is f32, here f16.
func.func @sparse_lse_f16(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op result #1 must be ranked tensor of 32-bit float values, but got 'tensor<1x8x16xf16>'}}
  %o, %l = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>, tensor<1x8x16xf16>
  return
}

// -----

// Wrong rank: the query is [B, Hq, Lq, D], not rank 3.
func.func @sparse_query_rank(%q: tensor<8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op query must have rank 4 [B, Hq, Lq, D], got 'tensor<8x16x32xf32>'}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> : tensor<8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Symbol mismatch: key D = 16, query D = 32.
func.func @sparse_key_d(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op key axis 3 (D) is 16, but D = 32 from query axis 3}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Symbol mismatch: value has 32 keys, key Lk = 64.
func.func @sparse_value_lk(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x32x16xf32>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op value axis 2 (Lk) is 32, but Lk = 64 from key axis 2}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x32x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Symbol mismatch: output Dv = 32, value Dv = 16.
func.func @sparse_out_dv(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op out axis 3 (Dv) is 32, but Dv = 16 from value axis 3}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x32xf32>
  return
}

// -----

// Element type mismatch: f16 value with f32 query and key.
func.func @sparse_value_elem(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf16>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op value element type 'f16' must match query element type 'f32'}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf16> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Head groups: 8 query heads are not a whole number of groups of 3 kv heads.
func.func @sparse_heads(%q: tensor<1x8x16x32xf32>, %k: tensor<1x3x64x32xf32>, %v: tensor<1x3x64x16xf32>, %i: tensor<1x1x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op query heads (8) must be a multiple of key/value heads (3)}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x1x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x3x64x32xf32>, tensor<1x3x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Index heads Hi must be 1, Hkv = 2 or Hq = 8: here 4.
func.func @sparse_indices_heads(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x4x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op indices axis 1 is 4, but it must be 1, Hkv = 2 or Hq = 8}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x4x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Wrong rank: indices are [B, Hi, NQ, K], not rank 3.
func.func @sparse_indices_rank(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op indices must have rank 4 [B, *, NQ, K], got 'tensor<2x16x4xi32>'}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<2x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Symbol mismatch: indices batch 2, B = 1.
func.func @sparse_indices_batch(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<2x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op indices axis 0 (B) is 2, but B = 1 from query axis 0}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<2x2x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Derived size: with query_block = 1 there is one index row per query, NQ = Lq = 16, not 8.
func.func @sparse_indices_nq_tokens(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x8x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op indices axis 2 (NQ) is 8, but NQ = 16 from ceil(Lq / query_block)}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x8x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Derived size: Lq = 16 in query blocks of 5 gives ceil(16 / 5) = 4 index rows, not floor 3.
func.func @sparse_indices_nq_blocks(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x3x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op indices axis 2 (NQ) is 3, but NQ = 4 from ceil(Lq / query_block)}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x3x4xi32> {query_block = 5} : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// query_block = 0: a query block must hold at least one query.
func.func @sparse_query_block_zero(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op query_block must be at least 1, got 0}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> {query_block = 0} : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// key_block = 0: a key block must hold at least one key.
func.func @sparse_key_block_zero(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op key_block must be at least 1, got 0}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> {key_block = 0} : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// Symbol mismatch: lse is per query head, 2 heads (Hkv) instead of Hq = 8.
func.func @sparse_lse_heads(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op lse axis 1 (Hq) is 2, but Hq = 8 from query axis 1}}
  %o, %l = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>, tensor<1x2x16xf32>
  return
}

// -----

// scale = 0 makes every selected key equally likely.
func.func @sparse_scale_zero(%q: tensor<1x8x16x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x16xf32>, %i: tensor<1x2x16x4xi32>) {
  // expected-error @+1 {{'attn.sparse_attention' op scale must be finite and non-zero, got 0.000000e+00}}
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x16x4xi32> {scale = 0.0} : tensor<1x8x16x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x16x16xf32>
  return
}

// -----

// ODS: topk is a required attribute.
func.func @topk_no_topk(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op requires attribute 'topk'}}
  %i = attn.topk_select %q, %k {causal} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// ODS: the selection is i32, not i64.
func.func @topk_result_i64(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op result #0 must be ranked tensor of 32-bit signless integer values, but got 'tensor<1x8x4x16xi64>'}}
  %i = attn.topk_select %q, %k {topk = 16} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x16xi64>
  return
}

// -----

// ODS: the query is f32, f16 or bf16, not f64.
func.func @topk_query_f64(%q: tensor<1x8x4x32xf64>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op operand #0 must be ranked tensor of 32-bit float or 16-bit float or bfloat16 type values, but got 'tensor<1x8x4x32xf64>'}}
  %i = attn.topk_select %q, %k {topk = 16} : tensor<1x8x4x32xf64>, tensor<1x2x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// Wrong rank: the key is [B, Hkv, Lk, D], not rank 3.
func.func @topk_key_rank(%q: tensor<1x8x4x32xf32>, %k: tensor<2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op key must have rank 4 [B, Hkv, Lk, D], got 'tensor<2x64x32xf32>'}}
  %i = attn.topk_select %q, %k {topk = 16} : tensor<1x8x4x32xf32>, tensor<2x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// Symbol mismatch: key D = 16, query D = 32.
func.func @topk_key_d(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x16xf32>) {
  // expected-error @+1 {{'attn.topk_select' op key axis 3 (D) is 16, but D = 32 from query axis 3}}
  %i = attn.topk_select %q, %k {topk = 16} : tensor<1x8x4x32xf32>, tensor<1x2x64x16xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// Element type mismatch: f16 key with an f32 query.
func.func @topk_key_elem(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf16>) {
  // expected-error @+1 {{'attn.topk_select' op key element type 'f16' must match query element type 'f32'}}
  %i = attn.topk_select %q, %k {topk = 16} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf16> -> tensor<1x8x4x16xi32>
  return
}

// -----

// Head groups: 8 query heads over 3 kv heads.
func.func @topk_heads(%q: tensor<1x8x4x32xf32>, %k: tensor<1x3x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op query heads (8) must be a multiple of key/value heads (3)}}
  %i = attn.topk_select %q, %k {topk = 16} : tensor<1x8x4x32xf32>, tensor<1x3x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// topk = 0 selects nothing.
func.func @topk_zero(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op topk must be at least 1, got 0}}
  %i = attn.topk_select %q, %k {topk = 0} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// sink_tokens = -1 is negative.
func.func @topk_sink_negative(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op sink_tokens must be at least 0, got -1}}
  %i = attn.topk_select %q, %k {topk = 16, sink_tokens = -1} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// local_window = -2 is negative.
func.func @topk_local_negative(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op local_window must be at least 0, got -2}}
  %i = attn.topk_select %q, %k {topk = 16, local_window = -2} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// Forced tokens overflow: 4 sink + 13 local = 17 > topk = 16.
func.func @topk_forced_too_many(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op sink_tokens + local_window (17) must not exceed topk (16)}}
  %i = attn.topk_select %q, %k {topk = 16, sink_tokens = 4, local_window = 13} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// Derived size: the result holds topk = 16 indices per query, not 8.
func.func @topk_result_k(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op indices axis 3 (K) is 8, but K = 16 from topk}}
  %i = attn.topk_select %q, %k {topk = 16} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x8xi32>
  return
}

// -----

// Symbol mismatch: the result is per query head (Hq = 8), not per kv head.
func.func @topk_result_heads(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.topk_select' op indices axis 1 (Hq) is 2, but Hq = 8 from query axis 1}}
  %i = attn.topk_select %q, %k {topk = 16} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x4x16xi32>
  return
}

// -----

// Adamas: D = 96 is not a power of two, so no Sylvester Hadamard transform.
func.func @adamas_d_not_pow2(%q: tensor<1x8x4x96xf32>, %k: tensor<1x2x64x96xf32>) {
  // expected-error @+1 {{'attn.adamas_select' op the Hadamard transform needs D to be a power of two, got D = 96}}
  %i = attn.adamas_select %q, %k {topk = 16} : tensor<1x8x4x96xf32>, tensor<1x2x64x96xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// Adamas: topk = 0 selects nothing.
func.func @adamas_topk_zero(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.adamas_select' op topk must be at least 1, got 0}}
  %i = attn.adamas_select %q, %k {topk = 0} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// Adamas: 8 sink + 9 local = 17 forced tokens > topk = 16.
func.func @adamas_forced_too_many(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.adamas_select' op sink_tokens + local_window (17) must not exceed topk (16)}}
  %i = attn.adamas_select %q, %k {topk = 16, sink_tokens = 8, local_window = 9} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// Adamas: the result has 2 query rows, Lq = 4.
func.func @adamas_result_lq(%q: tensor<1x8x4x32xf32>, %k: tensor<1x2x64x32xf32>) {
  // expected-error @+1 {{'attn.adamas_select' op indices axis 2 (Lq) is 2, but Lq = 4 from query axis 2}}
  %i = attn.adamas_select %q, %k {topk = 16} : tensor<1x8x4x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x2x16xi32>
  return
}

// -----

// Adamas head groups: 8 query heads over 3 kv heads.
func.func @adamas_heads(%q: tensor<1x8x4x32xf32>, %k: tensor<1x3x64x32xf32>) {
  // expected-error @+1 {{'attn.adamas_select' op query heads (8) must be a multiple of key/value heads (3)}}
  %i = attn.adamas_select %q, %k {topk = 16} : tensor<1x8x4x32xf32>, tensor<1x3x64x32xf32> -> tensor<1x8x4x16xi32>
  return
}

// -----

// page_size = 0: a page must hold at least one key.
func.func @pages_zero_size(%k: tensor<1x2x100x32xf16>) {
  // expected-error @+1 {{'attn.page_bounds' op page_size must be at least 1, got 0}}
  %mn, %mx = attn.page_bounds %k {page_size = 0} : tensor<1x2x100x32xf16> -> tensor<1x2x7x32xf32>, tensor<1x2x7x32xf32>
  return
}

// -----

// Derived size: Lk = 100 in pages of 16 gives ceil(100 / 16) = 7 pages (the last partial), not floor 6.
func.func @pages_count_floor(%k: tensor<1x2x100x32xf16>) {
  // expected-error @+1 {{'attn.page_bounds' op kmin axis 2 (P) is 6, but P = 7 from ceil(L / page_size)}}
  %mn, %mx = attn.page_bounds %k {page_size = 16} : tensor<1x2x100x32xf16> -> tensor<1x2x6x32xf32>, tensor<1x2x6x32xf32>
  return
}

// -----

// Symbol mismatch: kmax has 16 channels, the key D = 32.
func.func @pages_kmax_d(%k: tensor<1x2x100x32xf16>) {
  // expected-error @+1 {{'attn.page_bounds' op kmax axis 3 (D) is 16, but D = 32 from key axis 3}}
  %mn, %mx = attn.page_bounds %k {page_size = 16} : tensor<1x2x100x32xf16> -> tensor<1x2x7x32xf32>, tensor<1x2x7x16xf32>
  return
}

// -----

// Wrong rank: kmin is [B, H, P, D], not rank 3.
func.func @pages_kmin_rank(%k: tensor<1x2x100x32xf16>) {
  // expected-error @+1 {{'attn.page_bounds' op kmin must have rank 4 [B, H, P, D], got 'tensor<2x7x32xf32>'}}
  %mn, %mx = attn.page_bounds %k {page_size = 16} : tensor<1x2x100x32xf16> -> tensor<2x7x32xf32>, tensor<1x2x7x32xf32>
  return
}

// -----

// ODS: page bounds are f32, here f16.
func.func @pages_kmin_f16(%k: tensor<1x2x100x32xf16>) {
  // expected-error @+1 {{'attn.page_bounds' op result #0 must be ranked tensor of 32-bit float values, but got 'tensor<1x2x7x32xf16>'}}
  %mn, %mx = attn.page_bounds %k {page_size = 16} : tensor<1x2x100x32xf16> -> tensor<1x2x7x32xf16>, tensor<1x2x7x32xf32>
  return
}

// -----

// ODS: kmin and kmax must have the same type (generic form; the custom form writes one type).
func.func @quest_bound_types(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x2x7x32xf32>, %mx: tensor<1x2x8x32xf32>) {
  // expected-error @+1 {{'attn.quest_select' op failed to verify that all of {kmin, kmax} have same type}}
  %i = "attn.quest_select"(%q, %mn, %mx) <{key_length = 100 : i64, page_size = 16 : i64, topk = 4 : i64}> : (tensor<1x8x1x32xf16>, tensor<1x2x7x32xf32>, tensor<1x2x8x32xf32>) -> tensor<1x8x1x4xi32>
  return
}

// -----

// ODS: key_length is required (the bounds do not carry Lk).
func.func @quest_no_key_length(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x2x7x32xf32>, %mx: tensor<1x2x7x32xf32>) {
  // expected-error @+1 {{'attn.quest_select' op requires attribute 'key_length'}}
  %i = attn.quest_select %q, %mn, %mx {page_size = 16, topk = 4} : tensor<1x8x1x32xf16>, tensor<1x2x7x32xf32> -> tensor<1x8x1x4xi32>
  return
}

// -----

// page_size = 0: a page must hold at least one key.
func.func @quest_page_size_zero(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x2x7x32xf32>, %mx: tensor<1x2x7x32xf32>) {
  // expected-error @+1 {{'attn.quest_select' op page_size must be at least 1, got 0}}
  %i = attn.quest_select %q, %mn, %mx {page_size = 0, key_length = 100, topk = 4} : tensor<1x8x1x32xf16>, tensor<1x2x7x32xf32> -> tensor<1x8x1x4xi32>
  return
}

// -----

// key_length = -1 is negative.
func.func @quest_key_length_negative(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x2x7x32xf32>, %mx: tensor<1x2x7x32xf32>) {
  // expected-error @+1 {{'attn.quest_select' op key_length must be at least 0, got -1}}
  %i = attn.quest_select %q, %mn, %mx {page_size = 16, key_length = -1, topk = 4} : tensor<1x8x1x32xf16>, tensor<1x2x7x32xf32> -> tensor<1x8x1x4xi32>
  return
}

// -----

// topk = 0 selects no page.
func.func @quest_topk_zero(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x2x7x32xf32>, %mx: tensor<1x2x7x32xf32>) {
  // expected-error @+1 {{'attn.quest_select' op topk must be at least 1, got 0}}
  %i = attn.quest_select %q, %mn, %mx {page_size = 16, key_length = 100, topk = 0} : tensor<1x8x1x32xf16>, tensor<1x2x7x32xf32> -> tensor<1x8x1x4xi32>
  return
}

// -----

// Derived size: key_length = 100 in pages of 16 gives 7 pages, the bounds hold 8.
func.func @quest_page_count(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x2x8x32xf32>, %mx: tensor<1x2x8x32xf32>) {
  // expected-error @+1 {{'attn.quest_select' op kmin axis 2 (P) is 8, but P = 7 from ceil(key_length / page_size)}}
  %i = attn.quest_select %q, %mn, %mx {page_size = 16, key_length = 100, topk = 4} : tensor<1x8x1x32xf16>, tensor<1x2x8x32xf32> -> tensor<1x8x1x4xi32>
  return
}

// -----

// Derived size: key_length = 128 in pages of 16 gives exactly 8 pages, the bounds hold 7.
func.func @quest_page_count_exact(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x2x7x32xf32>, %mx: tensor<1x2x7x32xf32>) {
  // expected-error @+1 {{'attn.quest_select' op kmin axis 2 (P) is 7, but P = 8 from ceil(key_length / page_size)}}
  %i = attn.quest_select %q, %mn, %mx {page_size = 16, key_length = 128, topk = 4} : tensor<1x8x1x32xf16>, tensor<1x2x7x32xf32> -> tensor<1x8x1x4xi32>
  return
}

// -----

// Symbol mismatch: the bounds have 64 channels, the query D = 32.
func.func @quest_bounds_d(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x2x7x64xf32>, %mx: tensor<1x2x7x64xf32>) {
  // expected-error @+1 {{'attn.quest_select' op kmin axis 3 (D) is 64, but D = 32 from query axis 3}}
  %i = attn.quest_select %q, %mn, %mx {page_size = 16, key_length = 100, topk = 4} : tensor<1x8x1x32xf16>, tensor<1x2x7x64xf32> -> tensor<1x8x1x4xi32>
  return
}

// -----

// Head groups: 8 query heads over bounds of 3 kv heads.
func.func @quest_heads(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x3x7x32xf32>, %mx: tensor<1x3x7x32xf32>) {
  // expected-error @+1 {{'attn.quest_select' op query heads (8) must be a multiple of key/value heads (3)}}
  %i = attn.quest_select %q, %mn, %mx {page_size = 16, key_length = 100, topk = 4} : tensor<1x8x1x32xf16>, tensor<1x3x7x32xf32> -> tensor<1x8x1x4xi32>
  return
}

// -----

// Derived size: the result holds topk = 4 pages per query, not 8.
func.func @quest_result_k(%q: tensor<1x8x1x32xf16>, %mn: tensor<1x2x7x32xf32>, %mx: tensor<1x2x7x32xf32>) {
  // expected-error @+1 {{'attn.quest_select' op indices axis 3 (K) is 8, but K = 4 from topk}}
  %i = attn.quest_select %q, %mn, %mx {page_size = 16, key_length = 100, topk = 4} : tensor<1x8x1x32xf16>, tensor<1x2x7x32xf32> -> tensor<1x8x1x8xi32>
  return
}

// -----

// ODS: the head weights are f32, here bf16.
func.func @dsa_weights_bf16(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x1x128x64xbf16>, %w: tensor<1x4x16xbf16>) {
  // expected-error @+1 {{'attn.dsa_indexer' op operand #2 must be ranked tensor of 32-bit float values, but got 'tensor<1x4x16xbf16>'}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 32} : tensor<1x4x16x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x4x16xbf16> -> tensor<1x1x16x32xi32>
  return
}

// -----

// The indexer key has exactly one head (shared by all indexer heads), here 4.
func.func @dsa_key_heads(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x4x128x64xbf16>, %w: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.dsa_indexer' op key axis 1 must be 1, got 4}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 32} : tensor<1x4x16x64xbf16>, tensor<1x4x128x64xbf16>, tensor<1x4x16xf32> -> tensor<1x1x16x32xi32>
  return
}

// -----

// The selection is shared by all attention heads: result axis 1 must be 1, here 4.
func.func @dsa_result_heads(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x1x128x64xbf16>, %w: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.dsa_indexer' op indices axis 1 must be 1, got 4}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 32} : tensor<1x4x16x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x4x16xf32> -> tensor<1x4x16x32xi32>
  return
}

// -----

// Symbol mismatch: key Di = 128, query Di = 64.
func.func @dsa_key_di(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x1x128x128xbf16>, %w: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.dsa_indexer' op key axis 3 (Di) is 128, but Di = 64 from query axis 3}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 32} : tensor<1x4x16x64xbf16>, tensor<1x1x128x128xbf16>, tensor<1x4x16xf32> -> tensor<1x1x16x32xi32>
  return
}

// -----

// Symbol mismatch: weights for 8 indexer heads, the query has Hi = 4.
func.func @dsa_weights_heads(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x1x128x64xbf16>, %w: tensor<1x8x16xf32>) {
  // expected-error @+1 {{'attn.dsa_indexer' op weights axis 1 (Hi) is 8, but Hi = 4 from query axis 1}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 32} : tensor<1x4x16x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x8x16xf32> -> tensor<1x1x16x32xi32>
  return
}

// -----

// Wrong rank: the weights are [B, Hi, Lq], not rank 4.
func.func @dsa_weights_rank(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x1x128x64xbf16>, %w: tensor<1x4x16x1xf32>) {
  // expected-error @+1 {{'attn.dsa_indexer' op weights must have rank 3 [B, Hi, Lq], got 'tensor<1x4x16x1xf32>'}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 32} : tensor<1x4x16x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x4x16x1xf32> -> tensor<1x1x16x32xi32>
  return
}

// -----

// Element type mismatch: f16 key with a bf16 query.
func.func @dsa_key_elem(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x1x128x64xf16>, %w: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.dsa_indexer' op key element type 'f16' must match query element type 'bf16'}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 32} : tensor<1x4x16x64xbf16>, tensor<1x1x128x64xf16>, tensor<1x4x16xf32> -> tensor<1x1x16x32xi32>
  return
}

// -----

// topk = 0 selects nothing.
func.func @dsa_topk_zero(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x1x128x64xbf16>, %w: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.dsa_indexer' op topk must be at least 1, got 0}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 0} : tensor<1x4x16x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x4x16xf32> -> tensor<1x1x16x32xi32>
  return
}

// -----

// Forced tokens overflow: 32 sink + 1 local = 33 > topk = 32.
func.func @dsa_forced_too_many(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x1x128x64xbf16>, %w: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.dsa_indexer' op sink_tokens + local_window (33) must not exceed topk (32)}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 32, sink_tokens = 32, local_window = 1} : tensor<1x4x16x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x4x16xf32> -> tensor<1x1x16x32xi32>
  return
}

// -----

// Derived size: the result holds topk = 32 indices per query, not 64.
func.func @dsa_result_k(%q: tensor<1x4x16x64xbf16>, %k: tensor<1x1x128x64xbf16>, %w: tensor<1x4x16xf32>) {
  // expected-error @+1 {{'attn.dsa_indexer' op indices axis 3 (K) is 64, but K = 32 from topk}}
  %i = attn.dsa_indexer %q, %k, %w {topk = 32} : tensor<1x4x16x64xbf16>, tensor<1x1x128x64xbf16>, tensor<1x4x16xf32> -> tensor<1x1x16x64xi32>
  return
}
