// The flash (online softmax) CPU kernel of attn-tile against the fp64
// reference: ragged query and key blocks, several query blocks (K/V packed
// once for all tasks), GQA, causal and window block skipping, sinks,
// softcap, lse, f16/bf16 and MLA's D = 576 / Dv = 512 decode.
// RUN: attn-run %s --random --seed 21 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 22 --check | FileCheck %s
// CHECK-NOT: FAIL

// 150 queries = 3 query blocks (64, 64, 22 rows), 133 keys = 3 key blocks
// (64, 64, 5), G = 3, causal: blocks above the diagonal are skipped, the
// diagonal ones masked.
// CHECK: causal_gqa_ragged{{.*}}PASS
// CHECK: causal_gqa_ragged{{.*}}PASS
func.func @causal_gqa_ragged(%q: tensor<2x6x150x32xf32>, %k: tensor<2x2x133x32xf32>,
                             %v: tensor<2x2x133x48xf32>)
    -> (tensor<2x6x150x48xf32>, tensor<2x6x150xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal}
      : tensor<2x6x150x32xf32>, tensor<2x2x133x32xf32>, tensor<2x2x133x48xf32>
      -> tensor<2x6x150x48xf32>, tensor<2x6x150xf32>
  return %o, %l : tensor<2x6x150x48xf32>, tensor<2x6x150xf32>
}

// Sliding window [40, 3] without causal: both ends of the key range move
// with the row, so blocks on both sides are skipped; sinks and softcap 8.
// CHECK: window_sinks_softcap{{.*}}PASS
// CHECK: window_sinks_softcap{{.*}}PASS
func.func @window_sinks_softcap(%q: tensor<1x4x200x64xf32>, %k: tensor<1x4x200x64xf32>,
                                %v: tensor<1x4x200x64xf32>, %s: tensor<4xf32>)
    -> (tensor<1x4x200x64xf32>, tensor<1x4x200xf32>) {
  %o, %l = attn.attention %q, %k, %v sinks(%s : tensor<4xf32>)
      {window = array<i64: 40, 3>, softcap = 8.0 : f64, scale = 0.2 : f64}
      : tensor<1x4x200x64xf32>, tensor<1x4x200x64xf32>, tensor<1x4x200x64xf32>
      -> tensor<1x4x200x64xf32>, tensor<1x4x200xf32>
  return %o, %l : tensor<1x4x200x64xf32>, tensor<1x4x200xf32>
}

// More queries than keys (Lq = 90 > Lk = 70): the first 20 rows see no key.
// CHECK: more_queries{{.*}}PASS
// CHECK: more_queries{{.*}}PASS
func.func @more_queries(%q: tensor<1x2x90x16xf32>, %k: tensor<1x2x70x16xf32>,
                        %v: tensor<1x2x70x16xf32>)
    -> (tensor<1x2x90x16xf32>, tensor<1x2x90xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal}
      : tensor<1x2x90x16xf32>, tensor<1x2x70x16xf32>, tensor<1x2x70x16xf32>
      -> tensor<1x2x90x16xf32>, tensor<1x2x90xf32>
  return %o, %l : tensor<1x2x90x16xf32>, tensor<1x2x90xf32>
}

// bf16 prefill with several query blocks; f16 decode against 301 keys.
// CHECK: bf16_prefill{{.*}}bf16{{.*}}PASS
func.func @bf16_prefill(%q: tensor<1x8x130x128xbf16>, %k: tensor<1x2x130x128xbf16>,
                        %v: tensor<1x2x130x128xbf16>) -> tensor<1x8x130x128xbf16> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x8x130x128xbf16>, tensor<1x2x130x128xbf16>, tensor<1x2x130x128xbf16>
      -> tensor<1x8x130x128xbf16>
  return %o : tensor<1x8x130x128xbf16>
}

// CHECK: f16_decode{{.*}}f16{{.*}}PASS
func.func @f16_decode(%q: tensor<3x8x1x64xf16>, %k: tensor<3x8x301x64xf16>,
                      %v: tensor<3x8x301x64xf16>) -> tensor<3x8x1x64xf16> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<3x8x1x64xf16>, tensor<3x8x301x64xf16>, tensor<3x8x301x64xf16>
      -> tensor<3x8x1x64xf16>
  return %o : tensor<3x8x1x64xf16>
}

// MLA absorbed decode: 16 heads on one latent kv head, D = 576, Dv = 512.
// CHECK: mla{{.*}}PASS
func.func @mla(%q: tensor<1x16x2x576xf32>, %k: tensor<1x1x77x576xf32>,
               %v: tensor<1x1x77x512xf32>) -> tensor<1x16x2x512xf32> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x16x2x576xf32>, tensor<1x1x77x576xf32>, tensor<1x1x77x512xf32>
      -> tensor<1x16x2x512xf32>
  return %o : tensor<1x16x2x512xf32>
}

// Split-KV decode kernel: speculative decode (Lq = 3, causal cuts the last
// keys of the first two rows), ragged chunk ends (Lk = 1001), one kv head
// shared by 8 query heads (32 chunks), sinks, lse, a window, bf16.
// CHECK: spec_decode{{.*}}PASS
// CHECK: spec_decode{{.*}}PASS
func.func @spec_decode(%q: tensor<1x8x3x64xf32>, %k: tensor<1x1x1001x64xf32>,
                       %v: tensor<1x1x1001x32xf32>, %s: tensor<8xf32>)
    -> (tensor<1x8x3x32xf32>, tensor<1x8x3xf32>) {
  %o, %l = attn.attention %q, %k, %v sinks(%s : tensor<8xf32>) {causal}
      : tensor<1x8x3x64xf32>, tensor<1x1x1001x64xf32>, tensor<1x1x1001x32xf32>
      -> tensor<1x8x3x32xf32>, tensor<1x8x3xf32>
  return %o, %l : tensor<1x8x3x32xf32>, tensor<1x8x3xf32>
}

// CHECK: window_decode{{.*}}PASS
func.func @window_decode(%q: tensor<2x4x1x32xf32>, %k: tensor<2x2x777x32xf32>,
                         %v: tensor<2x2x777x32xf32>) -> tensor<2x4x1x32xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 100, 0>, softcap = 10.0 : f64}
      : tensor<2x4x1x32xf32>, tensor<2x2x777x32xf32>, tensor<2x2x777x32xf32>
      -> tensor<2x4x1x32xf32>
  return %o : tensor<2x4x1x32xf32>
}

// CHECK: bf16_decode{{.*}}bf16{{.*}}PASS
func.func @bf16_decode(%q: tensor<1x8x1x128xbf16>, %k: tensor<1x2x2049x128xbf16>,
                       %v: tensor<1x2x2049x128xbf16>) -> tensor<1x8x1x128xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<1x8x1x128xbf16>, tensor<1x2x2049x128xbf16>, tensor<1x2x2049x128xbf16>
      -> tensor<1x8x1x128xbf16>
  return %o : tensor<1x8x1x128xbf16>
}

// FlexAttention-style block lists on the flash path: 128 x 128 list blocks
// over 64 x 64 tiles, lists per head (random counts include 0 and repeated
// indices), a full list broadcast over heads, causal on top. Unlisted
// blocks are skipped without reading K/V.
// CHECK: block_lists_flash{{.*}}PASS
// CHECK: block_lists_flash{{.*}}PASS
func.func @block_lists_flash(%q: tensor<1x4x300x64xf32>, %k: tensor<1x2x300x64xf32>,
                             %v: tensor<1x2x300x64xf32>, %n: tensor<1x4x3xi32>,
                             %i: tensor<1x4x3x2xi32>, %fn: tensor<1x1x3xi32>,
                             %fi: tensor<1x1x3x1xi32>)
    -> (tensor<1x4x300x64xf32>, tensor<1x4x300xf32>) {
  %o, %l = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x4x3xi32>, tensor<1x4x3x2xi32>)
      full_blocks(%fn, %fi : tensor<1x1x3xi32>, tensor<1x1x3x1xi32>)
      {block_q = 128 : i64, block_k = 128 : i64, causal}
      : tensor<1x4x300x64xf32>, tensor<1x2x300x64xf32>, tensor<1x2x300x64xf32>
      -> tensor<1x4x300x64xf32>, tensor<1x4x300xf32>
  return %o, %l : tensor<1x4x300x64xf32>, tensor<1x4x300xf32>
}

// Dv = 80 and 96 are multiples of 16 but not of the 64-column PV tile: the
// last register piece is narrower (1 or 2 vectors).
// CHECK: dv80{{.*}}PASS
func.func @dv80(%q: tensor<1x2x70x32xf32>, %k: tensor<1x2x70x32xf32>,
                %v: tensor<1x2x70x80xf32>) -> tensor<1x2x70x80xf32> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x2x70x32xf32>, tensor<1x2x70x32xf32>, tensor<1x2x70x80xf32>
      -> tensor<1x2x70x80xf32>
  return %o : tensor<1x2x70x80xf32>
}

// CHECK: dv96{{.*}}PASS
func.func @dv96(%q: tensor<2x4x130x64xbf16>, %k: tensor<2x2x130x64xbf16>,
                %v: tensor<2x2x130x96xbf16>) -> tensor<2x4x130x96xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<2x4x130x64xbf16>, tensor<2x2x130x64xbf16>, tensor<2x2x130x96xbf16>
      -> tensor<2x4x130x96xbf16>
  return %o : tensor<2x4x130x96xbf16>
}

// Counts broadcast over batch and heads ([1, 1, NQB]) while the indices are
// per batch and head ([2, 4, NQB, 2]): each operand broadcasts on its own.
// CHECK: list_broadcasts_differ{{.*}}PASS
func.func @list_broadcasts_differ(%q: tensor<2x4x128x32xf32>, %k: tensor<2x2x256x32xf32>,
                                  %v: tensor<2x2x256x32xf32>, %n: tensor<1x1x2xi32>,
                                  %i: tensor<2x4x2x2xi32>) -> tensor<2x4x128x32xf32> {
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x2xi32>, tensor<2x4x2x2xi32>)
      {block_q = 64 : i64, block_k = 64 : i64}
      : tensor<2x4x128x32xf32>, tensor<2x2x256x32xf32>, tensor<2x2x256x32xf32>
      -> tensor<2x4x128x32xf32>
  return %o : tensor<2x4x128x32xf32>
}

// A left window of 2^40 keys (wider than any sequence) behaves as no bound.
// CHECK: huge_window{{.*}}PASS
func.func @huge_window(%q: tensor<1x2x90x32xf32>, %k: tensor<1x2x90x32xf32>,
                       %v: tensor<1x2x90x32xf32>) -> tensor<1x2x90x32xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 1099511627776, 0>}
      : tensor<1x2x90x32xf32>, tensor<1x2x90x32xf32>, tensor<1x2x90x32xf32>
      -> tensor<1x2x90x32xf32>
  return %o : tensor<1x2x90x32xf32>
}
