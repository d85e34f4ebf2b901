// attn.dsa_indexer compiled for the CPU; indices must equal the fp64
// reference's exactly. Random weights lie in [0.5, 1.5]; keys whose every
// head dot is negative score exactly 0 and tie, ordered by index.
// RUN: attn-run %s --random --seed 15 --check | FileCheck %s
// RUN: attn-run %s --random --seed 16 --check | FileCheck %s

// Prefill Lq = Lk = 37, 4 indexer heads of Di = 96, causal, 2 sink and 2
// local keys forced, topk = 8.
// CHECK: prefill_sink_local {{.*}} PASS
func.func @prefill_sink_local(%qi: tensor<1x4x37x96xf32>, %ki: tensor<1x1x37x96xf32>,
                              %w: tensor<1x4x37xf32>) -> tensor<1x1x37x8xi32> {
  %i = attn.dsa_indexer %qi, %ki, %w {topk = 8 : i64, causal, sink_tokens = 2 : i64, local_window = 2 : i64}
      : tensor<1x4x37x96xf32>, tensor<1x1x37x96xf32>, tensor<1x4x37xf32> -> tensor<1x1x37x8xi32>
  return %i : tensor<1x1x37x8xi32>
}

// Decode (Lq = 1) with 7 indexer heads in bf16; topk = 40 >= Lk = 37 returns
// every key, then -1.
// CHECK: bf16_decode_topk_over_lk {{.*}} PASS
func.func @bf16_decode_topk_over_lk(%qi: tensor<2x7x1x32xbf16>, %ki: tensor<2x1x37x32xbf16>,
                                    %w: tensor<2x7x1xf32>) -> tensor<2x1x1x40xi32> {
  %i = attn.dsa_indexer %qi, %ki, %w {topk = 40 : i64, causal}
      : tensor<2x7x1x32xbf16>, tensor<2x1x37x32xbf16>, tensor<2x7x1xf32> -> tensor<2x1x1x40xi32>
  return %i : tensor<2x1x1x40xi32>
}

// One indexer head of Di = 2 in f16: about half of the keys have a negative
// dot and score exactly 0, so ties are common.
// CHECK: half_ties {{.*}} PASS
func.func @half_ties(%qi: tensor<1x1x9x2xf16>, %ki: tensor<1x1x37x2xf16>,
                     %w: tensor<1x1x9xf32>) -> tensor<1x1x9x30xi32> {
  %i = attn.dsa_indexer %qi, %ki, %w {topk = 30 : i64}
      : tensor<1x1x9x2xf16>, tensor<1x1x37x2xf16>, tensor<1x1x9xf32> -> tensor<1x1x9x30xi32>
  return %i : tensor<1x1x9x30xi32>
}

// The indexer feeding sparse attention over its shared (Hi = 1) selection,
// MQA with G = 7, Dv = 40 != D = 96.
// CHECK: dsa_then_sparse {{.*}} PASS
func.func @dsa_then_sparse(%qi: tensor<1x2x37x16xf32>, %ki: tensor<1x1x37x16xf32>,
                           %w: tensor<1x2x37xf32>, %q: tensor<1x7x37x96xf32>,
                           %k: tensor<1x1x37x96xf32>, %v: tensor<1x1x37x40xf32>)
    -> tensor<1x7x37x40xf32> {
  %sel = attn.dsa_indexer %qi, %ki, %w {topk = 6 : i64, causal, sink_tokens = 1 : i64}
      : tensor<1x2x37x16xf32>, tensor<1x1x37x16xf32>, tensor<1x2x37xf32> -> tensor<1x1x37x6xi32>
  %o = attn.sparse_attention %q, %k, %v, %sel : tensor<1x1x37x6xi32> {causal}
      : tensor<1x7x37x96xf32>, tensor<1x1x37x96xf32>, tensor<1x1x37x40xf32>
      -> tensor<1x7x37x40xf32>
  return %o : tensor<1x7x37x40xf32>
}
