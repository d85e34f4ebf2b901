// attn-tile's CPU kernels: the flash and decode forms of attn.attention
// (with masks and score/mask-mod regions),
// and quant_attention and pq_attention (decode and prefill). No case leaves a
// linalg.generic behind (the naive forms are generics; the kernels are
// loops over vectors), which the RUN line checks across the whole output.
// RUN: attn-opt %s --attn-tile --split-input-file | FileCheck %s --implicit-check-not=linalg.generic
// RUN: attn-opt %s --attn-tile=avx512=true --split-input-file | FileCheck %s --check-prefix=AVX512

// Causal GQA (G = 4), 256 queries = 4 query blocks of 64: K/V tiles are
// packed once in a parallel pass ([B, Hkv, 4 key blocks, D, 64] and
// [.., 64, Dv]); tasks run over (batch, kv head, query block); the key-block
// loop bound comes from the causal rule; a block gets masks only when
// scf.if says a rule cuts it; scores and PV are vector<16xf32> FMAs; the
// softmax exp is the short form for x <= 0 (2^k built in the exponent
// bits); no [Lq, Lk] buffer exists (the score tile is 64 x 64).
// CHECK-LABEL: func.func @causal_gqa
// CHECK-NOT: attn.attention
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<1x2x4x64x64xf32>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<1x2x4x64x64xf32>
// CHECK: scf.parallel
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) = (%c0, %c0, %c0) to (%c1, %c2, %c4)
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<4x64x64xf32>
// CHECK-NOT: memref<1x8x256x256xf32>
// CHECK: arith.divsi
// CHECK: scf.for
// CHECK: vector.fma
// CHECK: scf.if
// CHECK: arith.cmpi sge, %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK: vector.reduction <maximumf>
// CHECK: math.roundeven %{{.*}} : vector<16xf32>
// CHECK: arith.shli %{{.*}}, %{{.*}} : vector<16xi32>
// CHECK: } else {
// CHECK-NOT: vector<16xi32>
// CHECK: vector.reduction <maximumf>
// CHECK: bufferization.to_tensor
func.func @causal_gqa(%q: tensor<1x8x256x64xf32>, %k: tensor<1x2x256x64xf32>,
                      %v: tensor<1x2x256x64xf32>) -> tensor<1x8x256x64xf32> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x8x256x64xf32>, tensor<1x2x256x64xf32>, tensor<1x2x256x64xf32>
      -> tensor<1x8x256x64xf32>
  return %o : tensor<1x8x256x64xf32>
}

// -----

// Decode (Lq = 1 against 2000 keys) takes the split-KV kernel: 32 tasks
// wanted over 4 kv heads, at least 256 keys per chunk, so 7 chunks of 288
// keys per kv head read K and V in place (no packing), keep partial
// (acc, max, sum) per chunk, and a second parallel pass merges them.
// CHECK-LABEL: func.func @decode
// CHECK: %[[ACC:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x4x7x1x128xf32>
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) = (%c0, %c0, %c0) to (%c1, %c4, %c7)
// CHECK: vector.load %{{.*}} : memref<1x4x2000x128xf32>, vector<16xf32>
// CHECK: vector.reduction <add>
// CHECK: vector.store %{{.*}}, %[[ACC]]
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) = (%c0, %c0, %c0) to (%c1, %c4, %c1)
// CHECK: arith.maximumf
func.func @decode(%q: tensor<1x4x1x128xf32>, %k: tensor<1x4x2000x128xf32>,
                  %v: tensor<1x4x2000x128xf32>) -> tensor<1x4x1x128xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x1x128xf32>, tensor<1x4x2000x128xf32>, tensor<1x4x2000x128xf32>
      -> tensor<1x4x1x128xf32>
  return %o : tensor<1x4x1x128xf32>
}

// -----

// Decode over a paged cache: the same split-KV kernel reads K and V in place
// through the block table (each key's page clamped into [0, 39], row j % 16)
// and stops each batch row at its key count clamp(kv_lens[b], 0, 320); the
// rows 32 keys ahead are prefetched through the same lookup.
// CHECK-LABEL: func.func @paged_decode
// CHECK-SAME: %[[K:[a-zA-Z0-9_]+]]: tensor<40x2x16x64xbf16>, %{{.*}}: tensor<40x2x16x64xbf16>, %[[N:[a-zA-Z0-9_]+]]: tensor<2xi32>, %[[T:[a-zA-Z0-9_]+]]: tensor<2x20xi32>
// CHECK-DAG: %[[KB:.*]] = bufferization.to_buffer %[[K]]
// CHECK-DAG: %[[NB:.*]] = bufferization.to_buffer %[[N]]
// CHECK-DAG: %[[TB:.*]] = bufferization.to_buffer %[[T]]
// CHECK: scf.parallel (%[[B:.*]], %[[H:.*]], %{{.*}}) =
// CHECK: %[[RAW:.*]] = memref.load %[[NB]][%[[B]]] : memref<2xi32>
// CHECK: %[[IDX:.*]] = arith.index_cast %[[RAW]]
// CHECK: %[[POS:.*]] = arith.maxsi %[[IDX]], %c0
// CHECK: %[[COUNT:.*]] = arith.minsi %[[POS]], %c320
// CHECK: %[[END:.*]] = arith.minsi %{{.*}}, %[[COUNT]]
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[END]] step %c16
// CHECK: %[[SLOT:.*]] = arith.divui %{{.*}}, %c16
// CHECK: %[[ROW:.*]] = arith.remui %{{.*}}, %c16
// CHECK: %[[PAGE:.*]] = memref.load %[[TB]][%[[B]], %[[SLOT]]] : memref<2x20xi32>
// CHECK: %[[PI:.*]] = arith.index_cast %[[PAGE]]
// CHECK: %[[P0:.*]] = arith.maxsi %[[PI]], %c0
// CHECK: %[[P:.*]] = arith.minsi %[[P0]], %c39
// CHECK: memref.prefetch %[[KB]][%[[P]], %[[H]], %[[ROW]], %c0], read, locality<3>, data : memref<40x2x16x64xbf16>
// CHECK: memref.prefetch %[[KB]][%[[P]], %[[H]], %[[ROW]], %c32], read, locality<3>, data : memref<40x2x16x64xbf16>
// CHECK: memref.prefetch %{{.*}}[%{{.*}}, %[[H]], %{{.*}}, %c32], read, locality<3>, data : memref<40x2x16x64xbf16>
// CHECK: %[[SLOT2:.*]] = arith.divui %{{.*}}, %c16
// CHECK: %[[ROW2:.*]] = arith.remui %{{.*}}, %c16
// CHECK: %[[PAGE2:.*]] = memref.load %[[TB]][%[[B]], %[[SLOT2]]] : memref<2x20xi32>
// CHECK: %[[PI2:.*]] = arith.index_cast %[[PAGE2]]
// CHECK: %[[P02:.*]] = arith.maxsi %[[PI2]], %c0
// CHECK: %[[P2:.*]] = arith.minsi %[[P02]], %c39
// CHECK: vector.load %[[KB]][%[[P2]], %[[H]], %[[ROW2]], %{{.*}}] : memref<40x2x16x64xbf16>, vector<16xbf16>
func.func @paged_decode(%q: tensor<2x8x1x64xbf16>, %k: tensor<40x2x16x64xbf16>,
                        %v: tensor<40x2x16x64xbf16>, %n: tensor<2xi32>,
                        %t: tensor<2x20xi32>) -> tensor<2x8x1x64xbf16> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<2xi32>)
      block_table(%t : tensor<2x20xi32>) {causal}
      : tensor<2x8x1x64xbf16>, tensor<40x2x16x64xbf16>, tensor<40x2x16x64xbf16>
      -> tensor<2x8x1x64xbf16>
  return %o : tensor<2x8x1x64xbf16>
}

// -----

// A cache read by a prefill chunk (17 queries, more than a decode shape)
// also takes the split-KV kernel: it reads the pages in place and needs
// O(rows x Dv) memory, where the naive form would build 17 x 64 scores per
// head (Lq x capacity in general).
// CHECK-LABEL: func.func @paged_prefill_chunk
// CHECK-NOT: attn.attention
// CHECK: scf.parallel
// CHECK: memref.load %{{.*}} : memref<1x4xi32>
func.func @paged_prefill_chunk(%q: tensor<1x2x17x16xf32>, %k: tensor<8x2x16x16xf32>,
                               %v: tensor<8x2x16x16xf32>, %n: tensor<1xi32>,
                               %t: tensor<1x4xi32>) -> tensor<1x2x17x16xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<1xi32>)
      block_table(%t : tensor<1x4xi32>) {causal}
      : tensor<1x2x17x16xf32>, tensor<8x2x16x16xf32>, tensor<8x2x16x16xf32>
      -> tensor<1x2x17x16xf32>
  return %o : tensor<1x2x17x16xf32>
}

// -----

// D = 8 (not a multiple of 16) is not taken: the op stays for
// attn-decompose.
// CHECK-LABEL: func.func @not_taken
// CHECK: attn.attention
func.func @not_taken(%q8: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %o8 = attn.attention %q8, %q8, %q8
      : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %o8 : tensor<1x1x4x8xf32>
}

// -----

// A boolean mask and an elementwise score_mod / mask_mod on the flash
// kernel: per 16 keys of a row the score_mod's ops run once on vectors
// (i - j as vector<16xindex>, converted and scaled in vector<16xf32>), the
// mask row is gathered byte by byte (i1 buffers hold a byte per entry) with
// lanes past Lk switched off, mask_mod's remainder test runs on vectors,
// and hidden lanes become -inf before the running max. No [Lq, Lk] buffer.
// CHECK-LABEL: func.func @mods_flash
// CHECK-NOT: memref<1x2x100x100
// CHECK: scf.parallel
// CHECK: vector.fma
// CHECK: arith.subi %{{.*}}, %{{.*}} : vector<16xindex>
// CHECK: arith.sitofp %{{.*}} : vector<16xi64> to vector<16xf32>
// CHECK: arith.addf %{{.*}}, %{{.*}} : vector<16xf32>
// CHECK: vector.gather %{{.*}} : memref<1x1x100x100xi1>, vector<16xi32>, vector<16xi1>, vector<16xi1> into vector<16xi1>
// CHECK: arith.remsi %{{.*}}, %{{.*}} : vector<16xindex>
// CHECK: arith.select %{{.*}}, %{{.*}}, %{{.*}} : vector<16xi1>, vector<16xf32>
// CHECK: math.exp
// CHECK-NOT: memref<1x2x100x100
// CHECK: return
func.func @mods_flash(%q: tensor<1x2x100x32xf32>, %k: tensor<1x2x100x32xf32>,
                      %v: tensor<1x2x100x32xf32>, %m: tensor<1x1x100x100xi1>)
    -> tensor<1x2x100x32xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x1x100x100xi1>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %c = arith.constant -0.05 : f32
    %bias = arith.mulf %df, %c : f32
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %three = arith.constant 3 : index
    %rem = arith.remsi %j, %three : index
    %zero = arith.constant 0 : index
    %keep = arith.cmpi ne, %rem, %zero : index
    attn.yield %keep : i1
  } : tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>
      -> tensor<1x2x100x32xf32>
  return %o : tensor<1x2x100x32xf32>
}

// -----

// A score_mod that reads a captured tensor (a per-head bias table) is not
// elementwise: on the decode kernel it runs lane by lane on scalars
// (tensor.extract per key), the results inserted into the score vector.
// CHECK-LABEL: func.func @mods_scalar_decode
// CHECK: scf.parallel
// CHECK: vector.extract %{{.*}}[0] : f32 from vector<16xf32>
// CHECK: tensor.extract
// CHECK: vector.insert %{{.*}}, %{{.*}} [0] : f32 into vector<16xf32>
// CHECK: vector.insert %{{.*}}, %{{.*}} [15] : f32 into vector<16xf32>
func.func @mods_scalar_decode(%q: tensor<1x4x1x16xf32>, %k: tensor<1x2x300x16xf32>,
                              %v: tensor<1x2x300x16xf32>, %bias: tensor<4x300xf32>)
    -> tensor<1x4x1x16xf32> {
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %x = tensor.extract %bias[%h, %j] : tensor<4x300xf32>
    %r = arith.addf %s, %x : f32
    attn.yield %r : f32
  } : tensor<1x4x1x16xf32>, tensor<1x2x300x16xf32>, tensor<1x2x300x16xf32>
      -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// Block lists with 128 x 64 list blocks: a [B, Hq, NQB, NKB] i1 table is
// filled from the lists once, and each task tests it before touching a
// 64-key tile (at row0 / 128, key0 / 64).
// CHECK-LABEL: func.func @block_lists
// CHECK: %[[TABLE:.*]] = memref.alloc() : memref<1x2x2x4xi1>
// CHECK: memref.store %true, %[[TABLE]]
// CHECK: scf.parallel
// CHECK: %[[LISTED:.*]] = memref.load %[[TABLE]]
// CHECK: scf.if %[[LISTED]] {
// CHECK: vector.fma
func.func @block_lists(%q: tensor<1x2x256x32xf32>, %k: tensor<1x2x256x32xf32>,
                       %v: tensor<1x2x256x32xf32>, %n: tensor<1x2x2xi32>,
                       %i: tensor<1x2x2x3xi32>) -> tensor<1x2x256x32xf32> {
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x2x2xi32>, tensor<1x2x2x3xi32>)
      {block_q = 128 : i64, block_k = 64 : i64}
      : tensor<1x2x256x32xf32>, tensor<1x2x256x32xf32>, tensor<1x2x256x32xf32>
      -> tensor<1x2x256x32xf32>
  return %o : tensor<1x2x256x32xf32>
}

// -----

// int4 decode with key zero points: the split-KV decode kernel reads the
// codes in place and dequantises them in registers: 8 bytes of nibbles per
// 16 key channels, split (unsigned keys: and 15 / shift right; signed
// values: shift left then arithmetic shift right), interleaved low nibble
// first, converted, times the per-channel scale of the key's group of 32
// tokens, plus its zero point; a value row's 16 channels share one group
// scale. No float copy of the cache exists (no tensor.empty of the cache
// shape, no dequantising linalg.generic).
// CHECK-LABEL: func.func @quant4_decode
// CHECK: scf.parallel
// CHECK: vector.load %{{.*}} : memref<2x4x300x32xi8>, vector<8xi8>
// CHECK: arith.andi %{{.*}} : vector<8xi8>
// CHECK: arith.shrui %{{.*}} : vector<8xi8>
// CHECK: vector.interleave %{{.*}}, %{{.*}} : vector<8xi8> -> vector<16xi8>
// CHECK: arith.uitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// CHECK: vector.load %{{.*}} : memref<2x4x10x64xf32>, vector<16xf32>
// CHECK: arith.mulf
// CHECK: arith.addf
// CHECK: vector.load %{{.*}} : memref<2x4x300x16xi8>, vector<8xi8>
// CHECK: arith.shli
// CHECK: arith.shrsi
// CHECK: vector.interleave
// CHECK: arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// CHECK: memref.load %{{.*}} : memref<2x4x300x1xf32>
func.func @quant4_decode(%q: tensor<2x4x1x64xf32>, %kc: tensor<2x4x300x32xi8>,
                         %ks: tensor<2x4x10x64xf32>, %kz: tensor<2x4x10x64xf32>,
                         %vc: tensor<2x4x300x16xi8>, %vs: tensor<2x4x300x1xf32>)
    -> tensor<2x4x1x32xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<2x4x300x32xi8>, tensor<2x4x10x64xf32>, tensor<2x4x10x64xf32>)
      value(%vc, %vs : tensor<2x4x300x16xi8>, tensor<2x4x300x1xf32>)
      {bits = 4 : i64, group_size = 32 : i64}
      : tensor<2x4x1x64xf32> -> tensor<2x4x1x32xf32>
  return %o : tensor<2x4x1x32xf32>
}

// -----

// Value groups that split a 16-channel vector (group 6): each lane's scale
// is gathered from the value row's scales at (c0 + lane) / 6.
// CHECK-LABEL: func.func @quant_ragged_value_groups
// CHECK: scf.parallel
// CHECK: vector.gather %{{.*}} : memref<1x2x64x3xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// CHECK-NOT: attn.quant_attention
func.func @quant_ragged_value_groups(%q: tensor<1x2x1x16xf32>, %kc: tensor<1x2x64x16xi8>,
                                     %ks: tensor<1x2x11x16xf32>, %vc: tensor<1x2x64x16xi8>,
                                     %vs: tensor<1x2x64x3xf32>) -> tensor<1x2x1x16xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x64x16xi8>, tensor<1x2x11x16xf32>)
      value(%vc, %vs : tensor<1x2x64x16xi8>, tensor<1x2x64x3xf32>)
      {bits = 8 : i64, group_size = 6 : i64}
      : tensor<1x2x1x16xf32> -> tensor<1x2x1x16xf32>
  return %o : tensor<1x2x1x16xf32>
}

// -----

// Dv = 8 holds no whole 16-lane vector: the naive path.
// CHECK-LABEL: func.func @quant_narrow_not_taken
// CHECK: attn.quant_attention
func.func @quant_narrow_not_taken(%q: tensor<1x1x40x16xf32>, %kc: tensor<1x1x40x16xi8>,
                                  %ks: tensor<1x1x40x16xf32>, %vc: tensor<1x1x40x8xi8>,
                                  %vs: tensor<1x1x40x8xf32>) -> tensor<1x1x40x8xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x1x40x16xi8>, tensor<1x1x40x16xf32>)
      value(%vc, %vs : tensor<1x1x40x8xi8>, tensor<1x1x40x8xf32>)
      {bits = 8 : i64, group_size = 1 : i64}
      : tensor<1x1x40x16xf32> -> tensor<1x1x40x8xf32>
  return %o : tensor<1x1x40x8xf32>
}

// -----

// PQ decode (16 centroids, nibble codes): a table [rows, m, Kc] of
// q . centroid per task, then per 16 keys and sub-space one byte gather of
// the keys' codes (offsets key * m/2 + s/2), the nibble selected by shift
// and mask, and one f32 gather from the row's table; no float keys exist.
// CHECK-LABEL: func.func @pq16_decode
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<2x8x16xf32>
// CHECK: math.fma
// CHECK: vector.gather %{{.*}} : memref<1x2x333x4xi8>, vector<16xi32>, vector<16xi1>, vector<16xi8> into vector<16xi8>
// CHECK: arith.extui %{{.*}} : vector<16xi8> to vector<16xi32>
// CHECK: arith.shrui
// CHECK: arith.andi
// CHECK: vector.gather %{{.*}} : memref<2x8x16xf32>, vector<16xi32>, vector<16xi1>, vector<16xf32> into vector<16xf32>
// With avx512 (the host has it; attn-compile sets it) the 16 entries of a
// row's sub-space are one vector load and lane l takes entries[code l]
// (variable extracts that LLVM turns into one vpermps), not a gather.
// AVX512-LABEL: func.func @pq16_decode
// AVX512: vector.gather %{{.*}} : memref<1x2x333x4xi8>
// AVX512: %[[T:.*]] = vector.load %{{.*}} : memref<2x8x16xf32>, vector<16xf32>
// AVX512-COUNT-16: vector.extract %[[T]][%{{.*}}] : f32 from vector<16xf32>
// AVX512: vector.from_elements
// AVX512-NOT: vector.gather %{{.*}} : memref<2x8x16xf32>
// AVX512: return
func.func @pq16_decode(%q: tensor<1x4x1x32xf32>, %c: tensor<1x2x333x4xi8>,
                       %cb: tensor<2x8x16x4xf32>, %v: tensor<1x2x333x16xf32>)
    -> tensor<1x4x1x16xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v
      : tensor<1x4x1x32xf32>, tensor<1x2x333x4xi8>, tensor<2x8x16x4xf32>,
        tensor<1x2x333x16xf32> -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// -----

// int8 prefill (Lq = 200 in 4 query blocks): the flash kernel. A quantised
// cache is not prepacked (that would be a float copy of all of it): each
// task decodes the key block it is at into its own K^T [64, 64] and
// V [64, 32] f32 tiles, 16 codes at a time (signed codes, per-channel key
// scale of the token group; the value row's group scale), and the
// register-tile products read only those tiles.
// CHECK-LABEL: func.func @quant8_prefill
// CHECK-NOT: memref<1x2x4x64x64xf32>
// CHECK: scf.parallel
// CHECK: %[[KT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<64x64xf32>
// CHECK: %[[VT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<64x32xf32>
// CHECK-DAG: vector.load %{{.*}} : memref<1x2x200x64xi8>, vector<16xi8>
// CHECK-DAG: arith.sitofp %{{.*}} : vector<16xi8> to vector<16xf32>
// CHECK-DAG: vector.load %{{.*}} : memref<1x2x7x64xf32>, vector<16xf32>
// CHECK: vector.extract
// CHECK: memref.store %{{.*}}, %[[KT]]
// CHECK-DAG: vector.load %{{.*}} : memref<1x2x200x32xi8>, vector<16xi8>
// CHECK-DAG: memref.load %{{.*}} : memref<1x2x200x1xf32>
// CHECK: vector.store %{{.*}}, %[[VT]]
// CHECK-NOT: xi8>
// CHECK: vector.fma
// CHECK-NOT: xi8>
// CHECK: math.exp
// CHECK-NOT: xi8>
// CHECK: return
func.func @quant8_prefill(%q: tensor<1x4x200x64xf32>, %kc: tensor<1x2x200x64xi8>,
                          %ks: tensor<1x2x7x64xf32>, %vc: tensor<1x2x200x32xi8>,
                          %vs: tensor<1x2x200x1xf32>) -> tensor<1x4x200x32xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x200x64xi8>, tensor<1x2x7x64xf32>)
      value(%vc, %vs : tensor<1x2x200x32xi8>, tensor<1x2x200x1xf32>)
      {bits = 8 : i64, group_size = 32 : i64, causal}
      : tensor<1x4x200x64xf32> -> tensor<1x4x200x32xf32>
  return %o : tensor<1x4x200x32xf32>
}

// -----

// PQ prefill (Kc = 256, m = 8 sub-spaces of 4 dims): each task rebuilds the
// keys of its block in its K^T tile from their centroids (one byte code read
// unsigned, the centroid's 4 floats copied); no per-query lookup tables, no
// gathers, no float copy of the whole cache.
// CHECK-LABEL: func.func @pq256_prefill
// CHECK-NOT: memref<1x1x2x32x64xf32>
// CHECK: scf.parallel
// CHECK: %[[KT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<32x64xf32>
// CHECK: memref.load %{{.*}} : memref<1x1x100x8xi8>
// CHECK: arith.extui %{{.*}} : i8 to i32
// CHECK: memref.load %{{.*}} : memref<1x8x256x4xf32>
// CHECK: memref.store %{{.*}}, %[[KT]]
// CHECK-NOT: vector.gather
// CHECK: vector.fma
// CHECK-NOT: vector.gather
// CHECK: return
func.func @pq256_prefill(%q: tensor<1x2x100x32xf32>, %c: tensor<1x1x100x8xi8>,
                         %cb: tensor<1x8x256x4xf32>, %v: tensor<1x1x100x16xf32>)
    -> tensor<1x2x100x16xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v {causal}
      : tensor<1x2x100x32xf32>, tensor<1x1x100x8xi8>, tensor<1x8x256x4xf32>,
        tensor<1x1x100x16xf32> -> tensor<1x2x100x16xf32>
  return %o : tensor<1x2x100x16xf32>
}
