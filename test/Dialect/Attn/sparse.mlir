// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// Roundtrip of token-sparse attention and the selection ops:
// attn.sparse_attention with index heads Hi = 1, Hkv and Hq and with query /
// key blocks, attn.topk_select, attn.adamas_select, attn.page_bounds,
// attn.quest_select and attn.dsa_indexer.

// Indices shared by all heads (Hi = 1, as DSA produces): K = 32 single tokens per query.
// CHECK-LABEL: func.func @sparse_shared_indices
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x16x128x64xbf16>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x4x1024x64xbf16>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x4x1024x64xbf16>, %[[I:[a-zA-Z0-9_]+]]: tensor<1x1x128x32xi32>
// CHECK: attn.sparse_attention %[[Q]], %[[K]], %[[V]], %[[I]] : tensor<1x1x128x32xi32> {causal} : tensor<1x16x128x64xbf16>, tensor<1x4x1024x64xbf16>, tensor<1x4x1024x64xbf16> -> tensor<1x16x128x64xbf16>
func.func @sparse_shared_indices(%q: tensor<1x16x128x64xbf16>, %k: tensor<1x4x1024x64xbf16>, %v: tensor<1x4x1024x64xbf16>, %i: tensor<1x1x128x32xi32>) -> tensor<1x16x128x64xbf16> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x1x128x32xi32> {causal} : tensor<1x16x128x64xbf16>, tensor<1x4x1024x64xbf16>, tensor<1x4x1024x64xbf16> -> tensor<1x16x128x64xbf16>
  return %o : tensor<1x16x128x64xbf16>
}

// Indices per kv head (Hi = Hkv = 4, 16 query heads, G = 4).
// CHECK-LABEL: func.func @sparse_kv_head_indices
// CHECK: attn.sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x128x16xi32> : tensor<1x16x128x64xbf16>, tensor<1x4x1024x64xbf16>, tensor<1x4x1024x64xbf16> -> tensor<1x16x128x64xbf16>
func.func @sparse_kv_head_indices(%q: tensor<1x16x128x64xbf16>, %k: tensor<1x4x1024x64xbf16>, %v: tensor<1x4x1024x64xbf16>, %i: tensor<1x4x128x16xi32>) -> tensor<1x16x128x64xbf16> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x4x128x16xi32> : tensor<1x16x128x64xbf16>, tensor<1x4x1024x64xbf16>, tensor<1x4x1024x64xbf16> -> tensor<1x16x128x64xbf16>
  return %o : tensor<1x16x128x64xbf16>
}

// Indices per query head (Hi = Hq = 16), with the f32 lse result.
// CHECK-LABEL: func.func @sparse_query_head_indices_lse
// CHECK: %[[O:[a-zA-Z0-9_]+]], %[[L:[a-zA-Z0-9_]+]] = attn.sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x16x128x8xi32> : {{.*}} -> tensor<1x16x128x64xbf16>, tensor<1x16x128xf32>
// CHECK: return %[[O]], %[[L]]
func.func @sparse_query_head_indices_lse(%q: tensor<1x16x128x64xbf16>, %k: tensor<1x4x1024x64xbf16>, %v: tensor<1x4x1024x64xbf16>, %i: tensor<1x16x128x8xi32>) -> (tensor<1x16x128x64xbf16>, tensor<1x16x128xf32>) {
  %o, %l = attn.sparse_attention %q, %k, %v, %i : tensor<1x16x128x8xi32> : tensor<1x16x128x64xbf16>, tensor<1x4x1024x64xbf16>, tensor<1x4x1024x64xbf16> -> tensor<1x16x128x64xbf16>, tensor<1x16x128xf32>
  return %o, %l : tensor<1x16x128x64xbf16>, tensor<1x16x128xf32>
}

// Block-sparse (NSA / MoBA style): Lq = 128 in query blocks of 64 gives NQ = 2; K = 8 key blocks of 64 keys.
// CHECK-LABEL: func.func @sparse_blocks
// CHECK: attn.sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x2x8xi32> {causal, key_block = 64 : i64, query_block = 64 : i64, scale = 1.250000e-01 : f64}
func.func @sparse_blocks(%q: tensor<2x4x128x64xf16>, %k: tensor<2x4x1024x64xf16>, %v: tensor<2x4x1024x64xf16>, %i: tensor<2x4x2x8xi32>) -> tensor<2x4x128x64xf16> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<2x4x2x8xi32> {query_block = 64, key_block = 64, causal, scale = 0.125} : tensor<2x4x128x64xf16>, tensor<2x4x1024x64xf16>, tensor<2x4x1024x64xf16> -> tensor<2x4x128x64xf16>
  return %o : tensor<2x4x128x64xf16>
}

// Ragged query blocks: Lq = 100 with query_block = 32 gives NQ = ceil(100 / 32) = 4; Quest pages of 16 keys.
// CHECK-LABEL: func.func @sparse_ragged_blocks
// CHECK: attn.sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x4x4xi32> {key_block = 16 : i64, query_block = 32 : i64}
func.func @sparse_ragged_blocks(%q: tensor<1x2x100x32xf32>, %k: tensor<1x2x100x32xf32>, %v: tensor<1x2x100x16xf32>, %i: tensor<1x2x4x4xi32>) -> tensor<1x2x100x16xf32> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x4x4xi32> {query_block = 32, key_block = 16} : tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x16xf32> -> tensor<1x2x100x16xf32>
  return %o : tensor<1x2x100x16xf32>
}

// Dynamic lengths: NQ is not derived, index heads dynamic.
// CHECK-LABEL: func.func @sparse_dynamic
// CHECK: attn.sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<?x?x?x16xi32> : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
func.func @sparse_dynamic(%q: tensor<?x8x?x64xf32>, %k: tensor<?x2x?x64xf32>, %v: tensor<?x2x?x64xf32>, %i: tensor<?x?x?x16xi32>) -> tensor<?x8x?x64xf32> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<?x?x?x16xi32> : tensor<?x8x?x64xf32>, tensor<?x2x?x64xf32>, tensor<?x2x?x64xf32> -> tensor<?x8x?x64xf32>
  return %o : tensor<?x8x?x64xf32>
}

// Exact top-k = 32 of 256 keys, with 4 sink tokens and an 8-key local window forced in (4 + 8 <= 32); GQA 8 over 2.
// CHECK-LABEL: func.func @topk
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x8x16x64xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x2x256x64xf32>
// CHECK: attn.topk_select %[[Q]], %[[K]] {causal, local_window = 8 : i64, sink_tokens = 4 : i64, topk = 32 : i64} : tensor<1x8x16x64xf32>, tensor<1x2x256x64xf32> -> tensor<1x8x16x32xi32>
func.func @topk(%q: tensor<1x8x16x64xf32>, %k: tensor<1x2x256x64xf32>) -> tensor<1x8x16x32xi32> {
  %i = attn.topk_select %q, %k {topk = 32, causal, sink_tokens = 4, local_window = 8} : tensor<1x8x16x64xf32>, tensor<1x2x256x64xf32> -> tensor<1x8x16x32xi32>
  return %i : tensor<1x8x16x32xi32>
}

// top-k = 1 with sink + local = 1 exactly filling it; defaults (0) elided when printed.
// CHECK-LABEL: func.func @topk_minimal
// CHECK: attn.topk_select %{{.*}}, %{{.*}} {sink_tokens = 1 : i64, topk = 1 : i64} : tensor<2x4x8x16xbf16>, tensor<2x4x8x16xbf16> -> tensor<2x4x8x1xi32>
func.func @topk_minimal(%q: tensor<2x4x8x16xbf16>, %k: tensor<2x4x8x16xbf16>) -> tensor<2x4x8x1xi32> {
  %i = attn.topk_select %q, %k {topk = 1, sink_tokens = 1, local_window = 0} : tensor<2x4x8x16xbf16>, tensor<2x4x8x16xbf16> -> tensor<2x4x8x1xi32>
  return %i : tensor<2x4x8x1xi32>
}

// Adamas: D = 128 is a power of two for the Hadamard transform; top-k = 64.
// CHECK-LABEL: func.func @adamas
// CHECK: attn.adamas_select %{{.*}}, %{{.*}} {causal, topk = 64 : i64} : tensor<1x32x4x128xf16>, tensor<1x8x2048x128xf16> -> tensor<1x32x4x64xi32>
func.func @adamas(%q: tensor<1x32x4x128xf16>, %k: tensor<1x8x2048x128xf16>) -> tensor<1x32x4x64xi32> {
  %i = attn.adamas_select %q, %k {topk = 64, causal} : tensor<1x32x4x128xf16>, tensor<1x8x2048x128xf16> -> tensor<1x32x4x64xi32>
  return %i : tensor<1x32x4x64xi32>
}

// Adamas with D = 1 (2^0) and forced sink / local tokens.
// CHECK-LABEL: func.func @adamas_d1
// CHECK: attn.adamas_select %{{.*}}, %{{.*}} {local_window = 2 : i64, sink_tokens = 2 : i64, topk = 4 : i64}
func.func @adamas_d1(%q: tensor<1x1x8x1xf32>, %k: tensor<1x1x8x1xf32>) -> tensor<1x1x8x4xi32> {
  %i = attn.adamas_select %q, %k {topk = 4, sink_tokens = 2, local_window = 2} : tensor<1x1x8x1xf32>, tensor<1x1x8x1xf32> -> tensor<1x1x8x4xi32>
  return %i : tensor<1x1x8x4xi32>
}

// Quest page metadata: Lk = 1000 keys in pages of 16 give P = ceil(1000 / 16) = 63 pages (the last holds 8).
// CHECK-LABEL: func.func @page_bounds
// CHECK-SAME: %[[K:[a-zA-Z0-9_]+]]: tensor<1x4x1000x64xf16>
// CHECK: %[[MIN:[a-zA-Z0-9_]+]], %[[MAX:[a-zA-Z0-9_]+]] = attn.page_bounds %[[K]] {page_size = 16 : i64} : tensor<1x4x1000x64xf16> -> tensor<1x4x63x64xf32>, tensor<1x4x63x64xf32>
// CHECK: return %[[MIN]], %[[MAX]]
func.func @page_bounds(%k: tensor<1x4x1000x64xf16>) -> (tensor<1x4x63x64xf32>, tensor<1x4x63x64xf32>) {
  %mn, %mx = attn.page_bounds %k {page_size = 16} : tensor<1x4x1000x64xf16> -> tensor<1x4x63x64xf32>, tensor<1x4x63x64xf32>
  return %mn, %mx : tensor<1x4x63x64xf32>, tensor<1x4x63x64xf32>
}

// Quest selection over those 63 pages for a decode step (Lq = 1): top 8 pages, 1 sink page, 2 local pages.
// CHECK-LABEL: func.func @quest
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x16x1x64xf16>, %[[MIN:[a-zA-Z0-9_]+]]: tensor<1x4x63x64xf32>, %[[MAX:[a-zA-Z0-9_]+]]: tensor<1x4x63x64xf32>
// CHECK: attn.quest_select %[[Q]], %[[MIN]], %[[MAX]] {causal, key_length = 1000 : i64, local_window = 2 : i64, page_size = 16 : i64, sink_tokens = 1 : i64, topk = 8 : i64} : tensor<1x16x1x64xf16>, tensor<1x4x63x64xf32> -> tensor<1x16x1x8xi32>
func.func @quest(%q: tensor<1x16x1x64xf16>, %mn: tensor<1x4x63x64xf32>, %mx: tensor<1x4x63x64xf32>) -> tensor<1x16x1x8xi32> {
  %i = attn.quest_select %q, %mn, %mx {page_size = 16, key_length = 1000, topk = 8, causal, sink_tokens = 1, local_window = 2} : tensor<1x16x1x64xf16>, tensor<1x4x63x64xf32> -> tensor<1x16x1x8xi32>
  return %i : tensor<1x16x1x8xi32>
}

// Quest with an exact page count: key_length = 1024, page_size = 64 gives P = 16.
// CHECK-LABEL: func.func @quest_exact_pages
// CHECK: attn.quest_select %{{.*}}, %{{.*}}, %{{.*}} {key_length = 1024 : i64, page_size = 64 : i64, topk = 4 : i64} : tensor<2x8x3x32xf32>, tensor<2x8x16x32xf32> -> tensor<2x8x3x4xi32>
func.func @quest_exact_pages(%q: tensor<2x8x3x32xf32>, %mn: tensor<2x8x16x32xf32>, %mx: tensor<2x8x16x32xf32>) -> tensor<2x8x3x4xi32> {
  %i = attn.quest_select %q, %mn, %mx {page_size = 64, key_length = 1024, topk = 4} : tensor<2x8x3x32xf32>, tensor<2x8x16x32xf32> -> tensor<2x8x3x4xi32>
  return %i : tensor<2x8x3x4xi32>
}

// DSA lightning indexer: 64 indexer heads of Di = 128, one key head, weights [B, Hi, Lq]; top 256 keys shared by all heads -> [B, 1, Lq, 256].
// CHECK-LABEL: func.func @dsa
// CHECK-SAME: %[[QI:[a-zA-Z0-9_]+]]: tensor<1x64x128x128xbf16>, %[[KI:[a-zA-Z0-9_]+]]: tensor<1x1x2048x128xbf16>, %[[W:[a-zA-Z0-9_]+]]: tensor<1x64x128xf32>
// CHECK: attn.dsa_indexer %[[QI]], %[[KI]], %[[W]] {causal, topk = 256 : i64} : tensor<1x64x128x128xbf16>, tensor<1x1x2048x128xbf16>, tensor<1x64x128xf32> -> tensor<1x1x128x256xi32>
func.func @dsa(%qi: tensor<1x64x128x128xbf16>, %ki: tensor<1x1x2048x128xbf16>, %w: tensor<1x64x128xf32>) -> tensor<1x1x128x256xi32> {
  %i = attn.dsa_indexer %qi, %ki, %w {topk = 256, causal} : tensor<1x64x128x128xbf16>, tensor<1x1x2048x128xbf16>, tensor<1x64x128xf32> -> tensor<1x1x128x256xi32>
  return %i : tensor<1x1x128x256xi32>
}

// DSA indexer followed by sparse attention over its shared (Hi = 1) selection, MLA-sized D = 576 / Dv = 512.
// CHECK-LABEL: func.func @dsa_then_sparse
// CHECK: %[[SEL:[a-zA-Z0-9_]+]] = attn.dsa_indexer {{.*}} -> tensor<1x1x64x128xi32>
// CHECK: attn.sparse_attention %{{.*}}, %{{.*}}, %{{.*}}, %[[SEL]] : tensor<1x1x64x128xi32> {causal} : tensor<1x16x64x576xbf16>, tensor<1x1x1024x576xbf16>, tensor<1x1x1024x512xbf16> -> tensor<1x16x64x512xbf16>
func.func @dsa_then_sparse(%qi: tensor<1x4x64x64xbf16>, %ki: tensor<1x1x1024x64xbf16>, %w: tensor<1x4x64xf32>, %q: tensor<1x16x64x576xbf16>, %k: tensor<1x1x1024x576xbf16>, %v: tensor<1x1x1024x512xbf16>) -> tensor<1x16x64x512xbf16> {
  %sel = attn.dsa_indexer %qi, %ki, %w {topk = 128, causal} : tensor<1x4x64x64xbf16>, tensor<1x1x1024x64xbf16>, tensor<1x4x64xf32> -> tensor<1x1x64x128xi32>
  %o = attn.sparse_attention %q, %k, %v, %sel : tensor<1x1x64x128xi32> {causal} : tensor<1x16x64x576xbf16>, tensor<1x1x1024x576xbf16>, tensor<1x1x1024x512xbf16> -> tensor<1x16x64x512xbf16>
  return %o : tensor<1x16x64x512xbf16>
}

// Quest counts forced tokens in keys but selects pages: a 40-key local window
// (at most 4 pages of 16) with topk = 3 pages is valid; the lowest forced
// pages win.
// CHECK-LABEL: func.func @quest_forced_keys_exceed_pages
// CHECK: attn.quest_select {{.*}}local_window = 40
func.func @quest_forced_keys_exceed_pages(%q: tensor<1x2x1x32xf32>, %mn: tensor<1x2x7x32xf32>,
                                          %mx: tensor<1x2x7x32xf32>) -> tensor<1x2x1x3xi32> {
  %i = attn.quest_select %q, %mn, %mx {page_size = 16 : i64, key_length = 100 : i64, topk = 3 : i64, local_window = 40 : i64}
      : tensor<1x2x1x32xf32>, tensor<1x2x7x32xf32> -> tensor<1x2x1x3xi32>
  return %i : tensor<1x2x1x3xi32>
}
