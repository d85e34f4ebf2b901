// attn.sparse_attention compiled for the CPU and checked against the fp64
// reference on random inputs. Random indices lie in [-1, NKB), so rows hold
// -1 padding and duplicates; rows whose listed keys are all causally hidden
// must give 0 and lse = -inf.
// RUN: attn-run %s --random --seed 5 --check | FileCheck %s
// RUN: attn-run %s --random --seed 6 --check | FileCheck %s

// Decode: Lq = 1 against Lk = 37, D = 96, Dv = 40, MQA with G = 7, indices
// shared by all heads (Hi = 1), 8 single keys, lse.
// CHECK: decode_shared {{.*}} PASS
// CHECK: decode_shared {{.*}} PASS
func.func @decode_shared(%q: tensor<2x7x1x96xf32>, %k: tensor<2x1x37x96xf32>,
                         %v: tensor<2x1x37x40xf32>, %i: tensor<2x1x1x8xi32>)
    -> (tensor<2x7x1x40xf32>, tensor<2x7x1xf32>) {
  %o, %l = attn.sparse_attention %q, %k, %v, %i : tensor<2x1x1x8xi32> {causal}
      : tensor<2x7x1x96xf32>, tensor<2x1x37x96xf32>, tensor<2x1x37x40xf32>
      -> tensor<2x7x1x40xf32>, tensor<2x7x1xf32>
  return %o, %l : tensor<2x7x1x40xf32>, tensor<2x7x1xf32>
}

// Blocks: query blocks of 4 over Lq = 13 (NQ = 4), key blocks of 5 over
// Lk = 37 (NKB = 8, the last holds 2 keys); indices per kv head (Hi = Hkv = 2,
// G = 2); causal with Lq < Lk; lse.
// CHECK: blocks_per_kv_head {{.*}} PASS
// CHECK: blocks_per_kv_head {{.*}} PASS
func.func @blocks_per_kv_head(%q: tensor<1x4x13x32xf32>, %k: tensor<1x2x37x32xf32>,
                              %v: tensor<1x2x37x24xf32>, %i: tensor<1x2x4x3xi32>)
    -> (tensor<1x4x13x24xf32>, tensor<1x4x13xf32>) {
  %o, %l = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x4x3xi32>
      {query_block = 4 : i64, key_block = 5 : i64, causal}
      : tensor<1x4x13x32xf32>, tensor<1x2x37x32xf32>, tensor<1x2x37x24xf32>
      -> tensor<1x4x13x24xf32>, tensor<1x4x13xf32>
  return %o, %l : tensor<1x4x13x24xf32>, tensor<1x4x13xf32>
}

// Lq = 20 > Lk = 9 with causal: queries 0..10 see no key whatever the
// indices say. Indices per query head (Hi = Hq = 3), scale 0.5.
// CHECK: more_queries_than_keys {{.*}} PASS
// CHECK: more_queries_than_keys {{.*}} PASS
func.func @more_queries_than_keys(%q: tensor<1x3x20x16xf32>, %k: tensor<1x3x9x16xf32>,
                                  %v: tensor<1x3x9x8xf32>, %i: tensor<1x3x20x4xi32>)
    -> (tensor<1x3x20x8xf32>, tensor<1x3x20xf32>) {
  %o, %l = attn.sparse_attention %q, %k, %v, %i : tensor<1x3x20x4xi32>
      {causal, scale = 0.5 : f64}
      : tensor<1x3x20x16xf32>, tensor<1x3x9x16xf32>, tensor<1x3x9x8xf32>
      -> tensor<1x3x20x8xf32>, tensor<1x3x20xf32>
  return %o, %l : tensor<1x3x20x8xf32>, tensor<1x3x20xf32>
}

// f16, GQA 7 over 1, Quest-style pages of 8 keys (NKB = 5), no causal.
// CHECK: half_pages {{.*}} f16 {{.*}} PASS
func.func @half_pages(%q: tensor<1x7x5x64xf16>, %k: tensor<1x1x37x64xf16>,
                      %v: tensor<1x1x37x48xf16>, %i: tensor<1x7x5x3xi32>)
    -> tensor<1x7x5x48xf16> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x7x5x3xi32> {key_block = 8 : i64}
      : tensor<1x7x5x64xf16>, tensor<1x1x37x64xf16>, tensor<1x1x37x48xf16>
      -> tensor<1x7x5x48xf16>
  return %o : tensor<1x7x5x48xf16>
}

// bf16, every query in one query block (query_block = Lq = 11).
// CHECK: bf16_one_query_block {{.*}} bf16 {{.*}} PASS
func.func @bf16_one_query_block(%q: tensor<2x2x11x32xbf16>, %k: tensor<2x2x23x32xbf16>,
                                %v: tensor<2x2x23x32xbf16>, %i: tensor<2x2x1x6xi32>)
    -> tensor<2x2x11x32xbf16> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<2x2x1x6xi32>
      {query_block = 11 : i64, causal}
      : tensor<2x2x11x32xbf16>, tensor<2x2x23x32xbf16>, tensor<2x2x23x32xbf16>
      -> tensor<2x2x11x32xbf16>
  return %o : tensor<2x2x11x32xbf16>
}
