// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// Roundtrip of attn.attention: MHA/GQA/MQA head counts, explicit and default
// scale, causal, window, softcap, boolean and additive masks, block lists and
// full block lists, sinks, score_mod and mask_mod regions, the optional lse
// result, MLA's absorbed decode shapes and dynamic dimensions.

// MHA: 8 query heads on 8 kv heads; no attributes, so scale stays the default 1/sqrt(64).
// CHECK-LABEL: func.func @mha
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x8x64x64xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x8x64x64xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x8x64x64xf32>
// CHECK: %[[O:[a-zA-Z0-9_]+]] = attn.attention %[[Q]], %[[K]], %[[V]] : tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32> -> tensor<1x8x64x64xf32>
// CHECK: return %[[O]]
func.func @mha(%q: tensor<1x8x64x64xf32>, %k: tensor<1x8x64x64xf32>, %v: tensor<1x8x64x64xf32>) -> tensor<1x8x64x64xf32> {
  %o = attn.attention %q, %k, %v : tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32>, tensor<1x8x64x64xf32> -> tensor<1x8x64x64xf32>
  return %o : tensor<1x8x64x64xf32>
}

// Causal with an explicit scale 1/sqrt(64) = 0.125 and the f32 lse result.
// CHECK-LABEL: func.func @causal_scale_lse
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<2x4x128x64xf16>, %[[K:[a-zA-Z0-9_]+]]: tensor<2x4x128x64xf16>, %[[V:[a-zA-Z0-9_]+]]: tensor<2x4x128x64xf16>
// CHECK: %[[O:[a-zA-Z0-9_]+]], %[[LSE:[a-zA-Z0-9_]+]] = attn.attention %[[Q]], %[[K]], %[[V]] {causal, scale = 1.250000e-01 : f64}
// CHECK-SAME: -> tensor<2x4x128x64xf16>, tensor<2x4x128xf32>
// CHECK: return %[[O]], %[[LSE]]
func.func @causal_scale_lse(%q: tensor<2x4x128x64xf16>, %k: tensor<2x4x128x64xf16>, %v: tensor<2x4x128x64xf16>) -> (tensor<2x4x128x64xf16>, tensor<2x4x128xf32>) {
  %o, %lse = attn.attention %q, %k, %v {causal, scale = 0.125} : tensor<2x4x128x64xf16>, tensor<2x4x128x64xf16>, tensor<2x4x128x64xf16> -> tensor<2x4x128x64xf16>, tensor<2x4x128xf32>
  return %o, %lse : tensor<2x4x128x64xf16>, tensor<2x4x128xf32>
}

// GQA: 32 query heads share 8 kv heads (G = 4); Dv = 64 differs from D = 128.
// CHECK-LABEL: func.func @gqa
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<2x32x128x128xbf16>, %[[K:[a-zA-Z0-9_]+]]: tensor<2x8x128x128xbf16>, %[[V:[a-zA-Z0-9_]+]]: tensor<2x8x128x64xbf16>
// CHECK: attn.attention %[[Q]], %[[K]], %[[V]] {causal} : tensor<2x32x128x128xbf16>, tensor<2x8x128x128xbf16>, tensor<2x8x128x64xbf16> -> tensor<2x32x128x64xbf16>
func.func @gqa(%q: tensor<2x32x128x128xbf16>, %k: tensor<2x8x128x128xbf16>, %v: tensor<2x8x128x64xbf16>) -> tensor<2x32x128x64xbf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<2x32x128x128xbf16>, tensor<2x8x128x128xbf16>, tensor<2x8x128x64xbf16> -> tensor<2x32x128x64xbf16>
  return %o : tensor<2x32x128x64xbf16>
}

// MQA: 16 query heads share 1 kv head (G = 16); decode step Lq = 1 over Lk = 4096.
// CHECK-LABEL: func.func @mqa_decode
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<4x16x1x128xf16>, %[[K:[a-zA-Z0-9_]+]]: tensor<4x1x4096x128xf16>, %[[V:[a-zA-Z0-9_]+]]: tensor<4x1x4096x128xf16>
// CHECK: attn.attention %[[Q]], %[[K]], %[[V]] {causal} : tensor<4x16x1x128xf16>, tensor<4x1x4096x128xf16>, tensor<4x1x4096x128xf16> -> tensor<4x16x1x128xf16>
func.func @mqa_decode(%q: tensor<4x16x1x128xf16>, %k: tensor<4x1x4096x128xf16>, %v: tensor<4x1x4096x128xf16>) -> tensor<4x16x1x128xf16> {
  %o = attn.attention %q, %k, %v {causal} : tensor<4x16x1x128xf16>, tensor<4x1x4096x128xf16>, tensor<4x1x4096x128xf16> -> tensor<4x16x1x128xf16>
  return %o : tensor<4x16x1x128xf16>
}

// MLA absorbed decode: D = 576 (512 latent + 64 rope), Dv = 512, Hkv = 1, 128 query heads.
// CHECK-LABEL: func.func @mla_decode
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x128x1x576xbf16>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x1x2048x576xbf16>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x1x2048x512xbf16>
// CHECK: attn.attention %[[Q]], %[[K]], %[[V]] {scale = 0.07216878{{[0-9]*}} : f64} : tensor<1x128x1x576xbf16>, tensor<1x1x2048x576xbf16>, tensor<1x1x2048x512xbf16> -> tensor<1x128x1x512xbf16>, tensor<1x128x1xf32>
func.func @mla_decode(%q: tensor<1x128x1x576xbf16>, %k: tensor<1x1x2048x576xbf16>, %v: tensor<1x1x2048x512xbf16>) -> (tensor<1x128x1x512xbf16>, tensor<1x128x1xf32>) {
  // MLA scales by 1/sqrt(192) = 0.0721688 (the un-absorbed head dim), not 1/sqrt(576).
  %o, %lse = attn.attention %q, %k, %v {scale = 0.07216878364870322} : tensor<1x128x1x576xbf16>, tensor<1x1x2048x576xbf16>, tensor<1x1x2048x512xbf16> -> tensor<1x128x1x512xbf16>, tensor<1x128x1xf32>
  return %o, %lse : tensor<1x128x1x512xbf16>, tensor<1x128x1xf32>
}

// Boolean mask (true = visible) broadcast over batch and heads: [1, 1, Lq, Lk].
// CHECK-LABEL: func.func @bool_mask_broadcast
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<2x8x64x32xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<2x8x96x32xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<2x8x96x32xf32>, %[[M:[a-zA-Z0-9_]+]]: tensor<1x1x64x96xi1>
// CHECK: attn.attention %[[Q]], %[[K]], %[[V]] mask(%[[M]] : tensor<1x1x64x96xi1>) :
func.func @bool_mask_broadcast(%q: tensor<2x8x64x32xf32>, %k: tensor<2x8x96x32xf32>, %v: tensor<2x8x96x32xf32>, %m: tensor<1x1x64x96xi1>) -> tensor<2x8x64x32xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x1x64x96xi1>) : tensor<2x8x64x32xf32>, tensor<2x8x96x32xf32>, tensor<2x8x96x32xf32> -> tensor<2x8x64x32xf32>
  return %o : tensor<2x8x64x32xf32>
}

// Additive f32 mask on bf16 inputs, full [B, Hq, Lq, Lk] = [2, 8, 64, 96] (ALiBi-style bias).
// CHECK-LABEL: func.func @additive_f32_mask
// CHECK-SAME: %[[M:[a-zA-Z0-9_]+]]: tensor<2x8x64x96xf32>
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%[[M]] : tensor<2x8x64x96xf32>) :
func.func @additive_f32_mask(%q: tensor<2x8x64x32xbf16>, %k: tensor<2x8x96x32xbf16>, %v: tensor<2x8x96x32xbf16>, %m: tensor<2x8x64x96xf32>) -> tensor<2x8x64x32xbf16> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<2x8x64x96xf32>) : tensor<2x8x64x32xbf16>, tensor<2x8x96x32xbf16>, tensor<2x8x96x32xbf16> -> tensor<2x8x64x32xbf16>
  return %o : tensor<2x8x64x32xbf16>
}

// Additive mask in the query element type (f16), per head, broadcast over batch: [1, 8, 64, 96].
// CHECK-LABEL: func.func @additive_query_type_mask
// CHECK-SAME: %[[M:[a-zA-Z0-9_]+]]: tensor<1x8x64x96xf16>
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%[[M]] : tensor<1x8x64x96xf16>) :
func.func @additive_query_type_mask(%q: tensor<2x8x64x32xf16>, %k: tensor<2x8x96x32xf16>, %v: tensor<2x8x96x32xf16>, %m: tensor<1x8x64x96xf16>) -> tensor<2x8x64x32xf16> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x8x64x96xf16>) : tensor<2x8x64x32xf16>, tensor<2x8x96x32xf16>, tensor<2x8x96x32xf16> -> tensor<2x8x64x32xf16>
  return %o : tensor<2x8x64x32xf16>
}

// Block sparsity: Lq = 256 with block_q = 128 gives NQB = 2 query blocks; up to
// 4 partial and 2 full key blocks of block_k = 64 per query block.
// CHECK-LABEL: func.func @block_lists
// CHECK-SAME: %[[N:[a-zA-Z0-9_]+]]: tensor<1x1x2xi32>, %[[I:[a-zA-Z0-9_]+]]: tensor<1x1x2x4xi32>, %[[FN:[a-zA-Z0-9_]+]]: tensor<2x8x2xi32>, %[[FI:[a-zA-Z0-9_]+]]: tensor<2x8x2x2xi32>
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} blocks(%[[N]], %[[I]] : tensor<1x1x2xi32>, tensor<1x1x2x4xi32>) full_blocks(%[[FN]], %[[FI]] : tensor<2x8x2xi32>, tensor<2x8x2x2xi32>) {block_k = 64 : i64, block_q = 128 : i64}
func.func @block_lists(%q: tensor<2x8x256x64xf16>, %k: tensor<2x8x256x64xf16>, %v: tensor<2x8x256x64xf16>, %n: tensor<1x1x2xi32>, %i: tensor<1x1x2x4xi32>, %fn: tensor<2x8x2xi32>, %fi: tensor<2x8x2x2xi32>) -> tensor<2x8x256x64xf16> {
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x2xi32>, tensor<1x1x2x4xi32>) full_blocks(%fn, %fi : tensor<2x8x2xi32>, tensor<2x8x2x2xi32>) {block_q = 128 : i64, block_k = 64 : i64} : tensor<2x8x256x64xf16>, tensor<2x8x256x64xf16>, tensor<2x8x256x64xf16> -> tensor<2x8x256x64xf16>
  return %o : tensor<2x8x256x64xf16>
}

// Full block lists alone; Lq = 100 with block_q = 64 gives NQB = ceil(100 / 64) = 2.
// CHECK-LABEL: func.func @full_blocks_only_ceil
// CHECK-SAME: %[[FN:[a-zA-Z0-9_]+]]: tensor<1x4x2xi32>, %[[FI:[a-zA-Z0-9_]+]]: tensor<1x4x2x3xi32>
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} full_blocks(%[[FN]], %[[FI]] : tensor<1x4x2xi32>, tensor<1x4x2x3xi32>) {block_k = 32 : i64, block_q = 64 : i64}
func.func @full_blocks_only_ceil(%q: tensor<1x4x100x64xf32>, %k: tensor<1x4x100x64xf32>, %v: tensor<1x4x100x64xf32>, %fn: tensor<1x4x2xi32>, %fi: tensor<1x4x2x3xi32>) -> tensor<1x4x100x64xf32> {
  %o = attn.attention %q, %k, %v full_blocks(%fn, %fi : tensor<1x4x2xi32>, tensor<1x4x2x3xi32>) {block_q = 64 : i64, block_k = 32 : i64} : tensor<1x4x100x64xf32>, tensor<1x4x100x64xf32>, tensor<1x4x100x64xf32> -> tensor<1x4x100x64xf32>
  return %o : tensor<1x4x100x64xf32>
}

// Attention sinks: one f32 logit per query head, Hq = 32 (GQA with G = 4).
// CHECK-LABEL: func.func @sinks
// CHECK-SAME: %[[S:[a-zA-Z0-9_]+]]: tensor<32xf32>
// CHECK: %[[O:[a-zA-Z0-9_]+]], %[[LSE:[a-zA-Z0-9_]+]] = attn.attention %{{.*}}, %{{.*}}, %{{.*}} sinks(%[[S]] : tensor<32xf32>) {causal}
// CHECK-SAME: -> tensor<1x32x64x64xbf16>, tensor<1x32x64xf32>
func.func @sinks(%q: tensor<1x32x64x64xbf16>, %k: tensor<1x8x64x64xbf16>, %v: tensor<1x8x64x64xbf16>, %s: tensor<32xf32>) -> (tensor<1x32x64x64xbf16>, tensor<1x32x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v sinks(%s : tensor<32xf32>) {causal} : tensor<1x32x64x64xbf16>, tensor<1x8x64x64xbf16>, tensor<1x8x64x64xbf16> -> tensor<1x32x64x64xbf16>, tensor<1x32x64xf32>
  return %o, %lse : tensor<1x32x64x64xbf16>, tensor<1x32x64xf32>
}

// Sliding window: each query sees the 128 keys to its left and none to its right.
// CHECK-LABEL: func.func @sliding_window
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, window = array<i64: 128, 0>}
func.func @sliding_window(%q: tensor<1x8x512x64xf16>, %k: tensor<1x8x512x64xf16>, %v: tensor<1x8x512x64xf16>) -> tensor<1x8x512x64xf16> {
  %o = attn.attention %q, %k, %v {causal, window = array<i64: 128, 0>} : tensor<1x8x512x64xf16>, tensor<1x8x512x64xf16>, tensor<1x8x512x64xf16> -> tensor<1x8x512x64xf16>
  return %o : tensor<1x8x512x64xf16>
}

// Bidirectional local window of 16 keys on each side, no causal rule.
// CHECK-LABEL: func.func @symmetric_window
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} {window = array<i64: 16, 16>}
func.func @symmetric_window(%q: tensor<1x2x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>) -> tensor<1x2x64x32xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 16, 16>} : tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x2x64x32xf32>
  return %o : tensor<1x2x64x32xf32>
}

// Logit softcap 50 (Gemma 2): s = 50 * tanh(s / 50), with scale 1/sqrt(256) = 0.0625.
// CHECK-LABEL: func.func @softcap
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} {causal, scale = 6.250000e-02 : f64, softcap = 5.000000e+01 : f64}
func.func @softcap(%q: tensor<1x8x64x256xbf16>, %k: tensor<1x4x64x256xbf16>, %v: tensor<1x4x64x256xbf16>) -> tensor<1x8x64x256xbf16> {
  %o = attn.attention %q, %k, %v {causal, scale = 0.0625, softcap = 50.0} : tensor<1x8x64x256xbf16>, tensor<1x4x64x256xbf16>, tensor<1x4x64x256xbf16> -> tensor<1x8x64x256xbf16>
  return %o : tensor<1x8x64x256xbf16>
}

// score_mod region: ALiBi-like bias -0.5 * (i - j) added to the f32 score.
// CHECK-LABEL: func.func @score_mod
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} score_mod {
// CHECK-NEXT: ^bb0(%[[S:[a-zA-Z0-9_]+]]: f32, %{{.*}}: index, %{{.*}}: index, %[[I:[a-zA-Z0-9_]+]]: index, %[[J:[a-zA-Z0-9_]+]]: index):
// CHECK: %[[D:.*]] = arith.subi %[[I]], %[[J]] : index
// CHECK: %[[R:.*]] = arith.addf %[[S]], %{{.*}} : f32
// CHECK-NEXT: attn.yield %[[R]] : f32
// CHECK-NEXT: } {causal}
func.func @score_mod(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x16xf32>) -> tensor<1x4x32x16xf32> {
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %c = arith.constant -0.5 : f32
    %bias = arith.mulf %df, %c : f32
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  } {causal} : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32> -> tensor<1x4x32x16xf32>
  return %o : tensor<1x4x32x16xf32>
}

// mask_mod region: prefix-LM visibility, j < 8 or j <= i, returned as i1.
// CHECK-LABEL: func.func @mask_mod
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} mask_mod {
// CHECK-NEXT: ^bb0(%{{.*}}: index, %{{.*}}: index, %[[I:[a-zA-Z0-9_]+]]: index, %[[J:[a-zA-Z0-9_]+]]: index):
// CHECK: %[[VIS:.*]] = arith.ori
// CHECK-NEXT: attn.yield %[[VIS]] : i1
func.func @mask_mod(%q: tensor<1x4x32x16xf32>, %k: tensor<1x4x32x16xf32>, %v: tensor<1x4x32x16xf32>) -> tensor<1x4x32x16xf32> {
  %o = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %c8 = arith.constant 8 : index
    %prefix = arith.cmpi ult, %j, %c8 : index
    %causal = arith.cmpi ule, %j, %i : index
    %vis = arith.ori %prefix, %causal : i1
    attn.yield %vis : i1
  } : tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32>, tensor<1x4x32x16xf32> -> tensor<1x4x32x16xf32>
  return %o : tensor<1x4x32x16xf32>
}

// Both regions, a boolean mask, sinks, window and lse together (FlexAttention-style).
// CHECK-LABEL: func.func @everything
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} mask(%{{.*}} : tensor<1x1x64x64xi1>) sinks(%{{.*}} : tensor<8xf32>) score_mod {
// CHECK: attn.yield %{{.*}} : f32
// CHECK-NEXT: } mask_mod {
// CHECK: attn.yield %{{.*}} : i1
// CHECK-NEXT: } {causal, window = array<i64: 32, 0>} : {{.*}} -> tensor<1x8x64x32xf32>, tensor<1x8x64xf32>
func.func @everything(%q: tensor<1x8x64x32xf32>, %k: tensor<1x2x64x32xf32>, %v: tensor<1x2x64x32xf32>, %m: tensor<1x1x64x64xi1>, %s: tensor<8xf32>) -> (tensor<1x8x64x32xf32>, tensor<1x8x64xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask(%m : tensor<1x1x64x64xi1>) sinks(%s : tensor<8xf32>) score_mod {
  ^bb0(%sc: f32, %b: index, %h: index, %i: index, %j: index):
    attn.yield %sc : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %t = arith.constant true
    attn.yield %t : i1
  } {causal, window = array<i64: 32, 0>} : tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32> -> tensor<1x8x64x32xf32>, tensor<1x8x64xf32>
  return %o, %lse : tensor<1x8x64x32xf32>, tensor<1x8x64xf32>
}

// Dynamic batch, sequence lengths and head counts (`?`); only D = 64 and Dv = 32 are static.
// CHECK-LABEL: func.func @dynamic
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<?x?x?x64xf16>, %[[K:[a-zA-Z0-9_]+]]: tensor<?x?x?x64xf16>, %[[V:[a-zA-Z0-9_]+]]: tensor<?x?x?x32xf16>, %[[M:[a-zA-Z0-9_]+]]: tensor<?x1x?x?xi1>
// CHECK: attn.attention %[[Q]], %[[K]], %[[V]] mask(%[[M]] : tensor<?x1x?x?xi1>) {causal} : tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x32xf16> -> tensor<?x?x?x32xf16>, tensor<?x?x?xf32>
func.func @dynamic(%q: tensor<?x?x?x64xf16>, %k: tensor<?x?x?x64xf16>, %v: tensor<?x?x?x32xf16>, %m: tensor<?x1x?x?xi1>) -> (tensor<?x?x?x32xf16>, tensor<?x?x?xf32>) {
  %o, %lse = attn.attention %q, %k, %v mask(%m : tensor<?x1x?x?xi1>) {causal} : tensor<?x?x?x64xf16>, tensor<?x?x?x64xf16>, tensor<?x?x?x32xf16> -> tensor<?x?x?x32xf16>, tensor<?x?x?xf32>
  return %o, %lse : tensor<?x?x?x32xf16>, tensor<?x?x?xf32>
}

// Dynamic Lq with block lists: NQB cannot be derived, so the list length 3 is taken as is.
// CHECK-LABEL: func.func @dynamic_blocks
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} blocks(%{{.*}}, %{{.*}} : tensor<1x1x3xi32>, tensor<1x1x3x5xi32>) {block_k = 16 : i64, block_q = 16 : i64}
func.func @dynamic_blocks(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>, %n: tensor<1x1x3xi32>, %i: tensor<1x1x3x5xi32>) -> tensor<1x2x?x16xf32> {
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x1x3xi32>, tensor<1x1x3x5xi32>) {block_q = 16 : i64, block_k = 16 : i64} : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32> -> tensor<1x2x?x16xf32>
  return %o : tensor<1x2x?x16xf32>
}

// A decode step over a paged cache: key counts per batch row and a block
// table over K/V page pools [P, Hkv, PS, *] (11 pages of 16 keys, 7 per row,
// so Lk = 112 for the mask and the causal rule).
// CHECK-LABEL: func.func @paged_cache
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} kv_lens(%{{.*}} : tensor<3xi32>) block_table(%{{.*}} : tensor<3x7xi32>) {causal} : tensor<3x4x1x64xbf16>, tensor<11x2x16x64xbf16>, tensor<11x2x16x32xbf16> -> tensor<3x4x1x32xbf16>, tensor<3x4x1xf32>
func.func @paged_cache(%q: tensor<3x4x1x64xbf16>, %k: tensor<11x2x16x64xbf16>, %v: tensor<11x2x16x32xbf16>, %n: tensor<3xi32>, %t: tensor<3x7xi32>, %m: tensor<3x1x1x112xi1>) -> (tensor<3x4x1x32xbf16>, tensor<3x4x1xf32>) {
  %o, %l = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>) block_table(%t : tensor<3x7xi32>) {causal} : tensor<3x4x1x64xbf16>, tensor<11x2x16x64xbf16>, tensor<11x2x16x32xbf16> -> tensor<3x4x1x32xbf16>, tensor<3x4x1xf32>
  %o2 = attn.attention %q, %k, %v mask(%m : tensor<3x1x1x112xi1>) block_table(%t : tensor<3x7xi32>) : tensor<3x4x1x64xbf16>, tensor<11x2x16x64xbf16>, tensor<11x2x16x32xbf16> -> tensor<3x4x1x32xbf16>
  return %o, %l : tensor<3x4x1x32xbf16>, tensor<3x4x1xf32>
}

// Key counts alone on a contiguous cache [B, Hkv, capacity, D].
// CHECK-LABEL: func.func @contiguous_cache
// CHECK: attn.attention %{{.*}}, %{{.*}}, %{{.*}} kv_lens(%{{.*}} : tensor<2xi32>) : tensor<2x8x1x64xf32>
func.func @contiguous_cache(%q: tensor<2x8x1x64xf32>, %k: tensor<2x8x512x64xf32>, %v: tensor<2x8x512x64xf32>, %n: tensor<2xi32>) -> tensor<2x8x1x64xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<2xi32>) : tensor<2x8x1x64xf32>, tensor<2x8x512x64xf32>, tensor<2x8x512x64xf32> -> tensor<2x8x1x64xf32>
  return %o : tensor<2x8x1x64xf32>
}
