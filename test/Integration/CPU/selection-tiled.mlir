// The CPU selection kernel (passes/Tile/SelectionCpu.cpp) of topk_select,
// dsa_indexer, quest_select and adamas_select at sizes that exercise its loops: several
// blocks of 8 query rows with a ragged last one, candidates not a multiple
// of 8, a sorted buffer of tens of slots that later candidates displace,
// causal rows with their own candidate counts, forced sink and local keys.
// Integer outputs are compared exactly with the fp64 reference's.
// RUN: attn-run %s --random --seed 61 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 62 --check | FileCheck %s
// RUN: not attn-run %s --entry topk_prefill --random --seed 61 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR

// CHECK-NOT: FAIL
// BROKEN: topk_prefill {{.*}} FAIL
// IR-NOT: attn.topk_select
// IR-NOT: attn.dsa_indexer
// IR-NOT: attn.quest_select
// IR-NOT: attn.adamas_select
// IR-NOT: linalg.generic
// IR: scf.while

// 21 causal queries (blocks of 8, 8, 5) over 301 keys, GQA 6 / 2, the 40
// best after 3 sink and 5 local keys.
// CHECK: topk_prefill {{.*}} PASS
func.func @topk_prefill(%q: tensor<1x6x21x64xf32>, %k: tensor<1x2x301x64xf32>) -> tensor<1x6x21x48xi32> {
  %i = attn.topk_select %q, %k {topk = 48 : i64, causal, sink_tokens = 3 : i64, local_window = 5 : i64}
      : tensor<1x6x21x64xf32>, tensor<1x2x301x64xf32> -> tensor<1x6x21x48xi32>
  return %i : tensor<1x6x21x48xi32>
}

// Decode over 1000 bf16 keys, top 100, no forced keys.
// CHECK: topk_decode_bf16 {{.*}} PASS
func.func @topk_decode_bf16(%q: tensor<2x4x1x128xbf16>, %k: tensor<2x4x1000x128xbf16>) -> tensor<2x4x1x100xi32> {
  %i = attn.topk_select %q, %k {topk = 100 : i64}
      : tensor<2x4x1x128xbf16>, tensor<2x4x1000x128xbf16> -> tensor<2x4x1x100xi32>
  return %i : tensor<2x4x1x100xi32>
}

// DSA indexer: 4 heads, 17 causal queries over 203 keys, top 24.
// CHECK: dsa_prefill {{.*}} PASS
func.func @dsa_prefill(%qi: tensor<1x4x17x32xf32>, %ki: tensor<1x1x203x32xf32>, %w: tensor<1x4x17xf32>) -> tensor<1x1x17x24xi32> {
  %i = attn.dsa_indexer %qi, %ki, %w {topk = 24 : i64, causal, local_window = 4 : i64}
      : tensor<1x4x17x32xf32>, tensor<1x1x203x32xf32>, tensor<1x4x17xf32> -> tensor<1x1x17x24xi32>
  return %i : tensor<1x1x17x24xi32>
}

// Quest: 50 pages of 16 keys (the last partial: 789 keys), 11 queries, the
// 9 best pages after the sink page and the local window's.
// CHECK: quest_prefill {{.*}} PASS
func.func @quest_prefill(%q: tensor<1x4x11x32xf32>, %mn: tensor<1x2x50x32xf32>, %mx: tensor<1x2x50x32xf32>) -> tensor<1x4x11x12xi32> {
  %p = attn.quest_select %q, %mn, %mx {page_size = 16 : i64, key_length = 789 : i64, topk = 12 : i64,
      causal, sink_tokens = 4 : i64, local_window = 20 : i64}
      : tensor<1x4x11x32xf32>, tensor<1x2x50x32xf32> -> tensor<1x4x11x12xi32>
  return %p : tensor<1x4x11x12xi32>
}

// Adamas: Hadamard-transformed queries and 2-bit keys (D = 64), 13 causal
// queries of 4 heads over 2 kv heads and 211 keys, top 32 after 2 sink keys.
// CHECK: adamas_prefill {{.*}} PASS
func.func @adamas_prefill(%q: tensor<1x4x13x64xf32>, %k: tensor<1x2x211x64xf32>) -> tensor<1x4x13x32xi32> {
  %i = attn.adamas_select %q, %k {topk = 32 : i64, causal, sink_tokens = 2 : i64}
      : tensor<1x4x13x64xf32>, tensor<1x2x211x64xf32> -> tensor<1x4x13x32xi32>
  return %i : tensor<1x4x13x32xi32>
}
