// attn.sparse_attention on its CPU kernel (passes/Tile/SparseAttentionCpu.cpp),
// checked against the fp64 reference. Random indices lie in [-1, NKB): rows
// hold -1 padding and duplicates (which count once), and under causal
// masks some rows see none of their keys (out 0, lse -inf).
// RUN: attn-run %s --random --seed 71 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 72 --check | FileCheck %s
// The check is live: a perturbed output fails.
// RUN: not attn-run %s --entry topk_per_head --random --seed 71 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// BROKEN: topk_per_head {{.*}} FAIL
// Every op here takes the kernel: no sparse_attention is left, and keys
// are gathered through the list (no [Lq, Lk] mask, no linalg.generic).
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR
// IR-NOT: attn.sparse_attention
// IR-NOT: linalg.generic
// IR: scf.parallel
// IR: memref.alloc() {alignment = 64 : i64} : memref<{{[0-9]+}}xi8>
// IR: vector.from_elements
// IR: vector.fma

// Top-k tokens per query head (Hi = Hq, GQA 4/2), Lq = Lk = 150, causal,
// 40 entries per query, D = 64, Dv = 32, lse.
// CHECK: topk_per_head {{.*}} PASS
// CHECK: topk_per_head {{.*}} PASS
func.func @topk_per_head(%q: tensor<1x4x150x64xf32>, %k: tensor<1x2x150x64xf32>,
                         %v: tensor<1x2x150x32xf32>, %i: tensor<1x4x150x40xi32>)
    -> (tensor<1x4x150x32xf32>, tensor<1x4x150xf32>) {
  %o, %l = attn.sparse_attention %q, %k, %v, %i : tensor<1x4x150x40xi32> {causal}
      : tensor<1x4x150x64xf32>, tensor<1x2x150x64xf32>, tensor<1x2x150x32xf32>
      -> tensor<1x4x150x32xf32>, tensor<1x4x150xf32>
  return %o, %l : tensor<1x4x150x32xf32>, tensor<1x4x150xf32>
}

// Pages per kv head (Hi = Hkv = 2, G = 3): query blocks of 16 over Lq = 77,
// key blocks of 16 over Lk = 333 (the last holds 13 keys), 6 pages each,
// f16, not causal.
// CHECK: pages_per_kv_head_f16 {{.*}} f16 {{.*}} PASS
func.func @pages_per_kv_head_f16(%q: tensor<2x6x77x32xf16>, %k: tensor<2x2x333x32xf16>,
                                 %v: tensor<2x2x333x48xf16>, %i: tensor<2x2x5x6xi32>)
    -> tensor<2x6x77x48xf16> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<2x2x5x6xi32>
      {query_block = 16 : i64, key_block = 16 : i64}
      : tensor<2x6x77x32xf16>, tensor<2x2x333x32xf16>, tensor<2x2x333x48xf16>
      -> tensor<2x6x77x48xf16>
  return %o : tensor<2x6x77x48xf16>
}

// DSA-style decode: one query against 500 keys, 64 tokens shared by all
// heads (Hi = 1), GQA 8/2, bf16, causal.
// CHECK: decode_shared_bf16 {{.*}} bf16 {{.*}} PASS
func.func @decode_shared_bf16(%q: tensor<1x8x1x128xbf16>, %k: tensor<1x2x500x128xbf16>,
                              %v: tensor<1x2x500x128xbf16>, %i: tensor<1x1x1x64xi32>)
    -> tensor<1x8x1x128xbf16> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x1x1x64xi32> {causal}
      : tensor<1x8x1x128xbf16>, tensor<1x2x500x128xbf16>, tensor<1x2x500x128xbf16>
      -> tensor<1x8x1x128xbf16>
  return %o : tensor<1x8x1x128xbf16>
}

// Ragged blocks: query blocks of 4 over Lq = 13, key blocks of 5 over
// Lk = 37, per-head lists (MHA, Hi = Hq = Hkv = 3), causal with Lq < Lk,
// scale 0.3, lse.
// CHECK: ragged_blocks {{.*}} PASS
// CHECK: ragged_blocks {{.*}} PASS
func.func @ragged_blocks(%q: tensor<1x3x13x32xf32>, %k: tensor<1x3x37x32xf32>,
                         %v: tensor<1x3x37x16xf32>, %i: tensor<1x3x4x3xi32>)
    -> (tensor<1x3x13x16xf32>, tensor<1x3x13xf32>) {
  %o, %l = attn.sparse_attention %q, %k, %v, %i : tensor<1x3x4x3xi32>
      {query_block = 4 : i64, key_block = 5 : i64, causal, scale = 0.3 : f64}
      : tensor<1x3x13x32xf32>, tensor<1x3x37x32xf32>, tensor<1x3x37x16xf32>
      -> tensor<1x3x13x16xf32>, tensor<1x3x13xf32>
  return %o, %l : tensor<1x3x13x16xf32>, tensor<1x3x13xf32>
}

// A big query block (64 rows x G = 4 heads = 256 task rows) over Lq = 100,
// 3 blocks of 8 keys, Lq > Lk = 70 under causal (the first 30 queries see
// nothing).
// CHECK: wide_block_causal {{.*}} PASS
func.func @wide_block_causal(%q: tensor<1x4x100x16xf32>, %k: tensor<1x1x70x16xf32>,
                             %v: tensor<1x1x70x16xf32>, %i: tensor<1x1x2x3xi32>)
    -> tensor<1x4x100x16xf32> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x1x2x3xi32>
      {query_block = 64 : i64, key_block = 8 : i64, causal}
      : tensor<1x4x100x16xf32>, tensor<1x1x70x16xf32>, tensor<1x1x70x16xf32>
      -> tensor<1x4x100x16xf32>
  return %o : tensor<1x4x100x16xf32>
}
