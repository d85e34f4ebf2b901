// attn.quest_select compiled for the CPU; page indices must equal the fp64
// reference's exactly. Pages are candidates when their first key is visible;
// sink_tokens and local_window count keys and force the pages holding them.
// RUN: attn-run %s --random --seed 13 --check | FileCheck %s
// RUN: attn-run %s --random --seed 14 --check | FileCheck %s

// Decode over Lk = 37 keys in pages of 8 (P = 5), D = 96, G = 7: 1 sink key
// forces page 0, 3 local keys (34..36) force page 4, then the 2 best pages.
// (The verifier bounds sink_tokens + local_window, counted in keys, by topk.)
// CHECK: decode_gqa7 {{.*}} PASS
func.func @decode_gqa7(%q: tensor<2x7x1x96xf32>, %mn: tensor<2x1x5x96xf32>,
                       %mx: tensor<2x1x5x96xf32>) -> tensor<2x7x1x4xi32> {
  %i = attn.quest_select %q, %mn, %mx {page_size = 8 : i64, key_length = 37 : i64,
      topk = 4 : i64, causal, sink_tokens = 1 : i64, local_window = 3 : i64}
      : tensor<2x7x1x96xf32>, tensor<2x1x5x96xf32> -> tensor<2x7x1x4xi32>
  return %i : tensor<2x7x1x4xi32>
}

// Prefill Lq = Lk = 37, causal: query i sees pages 0..i/8; a local window of
// 6 keys spans two pages unless i % 8 >= 5; topk = 6 >= P pads with -1.
// CHECK: prefill_local_spans_pages {{.*}} PASS
func.func @prefill_local_spans_pages(%q: tensor<1x2x37x16xf32>, %mn: tensor<1x2x5x16xf32>,
                                     %mx: tensor<1x2x5x16xf32>) -> tensor<1x2x37x6xi32> {
  %i = attn.quest_select %q, %mn, %mx {page_size = 8 : i64, key_length = 37 : i64,
      topk = 6 : i64, causal, local_window = 6 : i64}
      : tensor<1x2x37x16xf32>, tensor<1x2x5x16xf32> -> tensor<1x2x37x6xi32>
  return %i : tensor<1x2x37x6xi32>
}

// Lq = 12 > Lk = 10 causal: the first two queries see no key (all -1); f16
// queries against f32 bounds, pages of 4 (P = 3, the last holds 2 keys).
// CHECK: half_more_queries {{.*}} PASS
func.func @half_more_queries(%q: tensor<1x4x12x32xf16>, %mn: tensor<1x2x3x32xf32>,
                             %mx: tensor<1x2x3x32xf32>) -> tensor<1x4x12x2xi32> {
  %i = attn.quest_select %q, %mn, %mx {page_size = 4 : i64, key_length = 10 : i64,
      topk = 2 : i64, causal, sink_tokens = 2 : i64}
      : tensor<1x4x12x32xf16>, tensor<1x2x3x32xf32> -> tensor<1x4x12x2xi32>
  return %i : tensor<1x4x12x2xi32>
}

// page_bounds -> quest_select -> sparse_attention {key_block = page_size}:
// Quest decode end to end in bf16.
// CHECK: bf16_quest_pipeline {{.*}} PASS
func.func @bf16_quest_pipeline(%q: tensor<1x4x1x64xbf16>, %k: tensor<1x2x37x64xbf16>,
                               %v: tensor<1x2x37x32xbf16>) -> tensor<1x4x1x32xbf16> {
  %mn, %mx = attn.page_bounds %k {page_size = 8 : i64}
      : tensor<1x2x37x64xbf16> -> tensor<1x2x5x64xf32>, tensor<1x2x5x64xf32>
  %pages = attn.quest_select %q, %mn, %mx {page_size = 8 : i64, key_length = 37 : i64,
      topk = 2 : i64, causal}
      : tensor<1x4x1x64xbf16>, tensor<1x2x5x64xf32> -> tensor<1x4x1x2xi32>
  %o = attn.sparse_attention %q, %k, %v, %pages : tensor<1x4x1x2xi32>
      {key_block = 8 : i64, causal}
      : tensor<1x4x1x64xbf16>, tensor<1x2x37x64xbf16>, tensor<1x2x37x32xbf16>
      -> tensor<1x4x1x32xbf16>
  return %o : tensor<1x4x1x32xbf16>
}
