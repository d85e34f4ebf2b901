// Softmax attention compiled for the CPU and checked against the fp64
// reference on random inputs, at the shapes that break tiling assumptions.
// RUN: attn-run %s --random --seed 11 --check | FileCheck %s
// A kernel whose outputs are off by 1e-3 must fail the same check.
// RUN: not attn-run %s --entry decode_d96 --random --seed 11 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN

// CHECK-NOT: FAIL
// BROKEN: decode_d96 {{.*}} FAIL

// Decode: one query against 37 keys, D = 96, Dv = 40 != D, MQA (G = 7).
// CHECK: decode_d96 {{.*}} PASS
func.func @decode_d96(%q: tensor<2x7x1x96xf32>, %k: tensor<2x1x37x96xf32>,
                      %v: tensor<2x1x37x40xf32>) -> (tensor<2x7x1x40xf32>, tensor<2x7x1xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal}
      : tensor<2x7x1x96xf32>, tensor<2x1x37x96xf32>, tensor<2x1x37x40xf32>
      -> tensor<2x7x1x40xf32>, tensor<2x7x1xf32>
  return %o, %l : tensor<2x7x1x40xf32>, tensor<2x7x1xf32>
}

// Lq = 40 > Lk = 23 with bottom-right causal alignment: rows 0..16 see no key
// and must give 0 and lse = -inf.
// CHECK: causal_more_queries_than_keys {{.*}} PASS
// CHECK: causal_more_queries_than_keys {{.*}} PASS
func.func @causal_more_queries_than_keys(%q: tensor<1x4x40x32xf32>, %k: tensor<1x2x23x32xf32>,
                                         %v: tensor<1x2x23x32xf32>)
    -> (tensor<1x4x40x32xf32>, tensor<1x4x40xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal}
      : tensor<1x4x40x32xf32>, tensor<1x2x23x32xf32>, tensor<1x2x23x32xf32>
      -> tensor<1x4x40x32xf32>, tensor<1x4x40xf32>
  return %o, %l : tensor<1x4x40x32xf32>, tensor<1x4x40xf32>
}

// Window [0, 0]: each query sees only its own key (softmax of one score = 1).
// CHECK: window_zero {{.*}} PASS
func.func @window_zero(%q: tensor<1x2x19x16xf32>, %k: tensor<1x2x19x16xf32>,
                       %v: tensor<1x2x19x16xf32>) -> tensor<1x2x19x16xf32> {
  %o = attn.attention %q, %k, %v {window = array<i64: 0, 0>}
      : tensor<1x2x19x16xf32>, tensor<1x2x19x16xf32>, tensor<1x2x19x16xf32>
      -> tensor<1x2x19x16xf32>
  return %o : tensor<1x2x19x16xf32>
}

// Window wider than the sequence (left 100 >= L = 33) with causal: plain causal.
// CHECK: window_wider_than_l {{.*}} PASS
func.func @window_wider_than_l(%q: tensor<1x2x33x16xf32>, %k: tensor<1x2x33x16xf32>,
                               %v: tensor<1x2x33x16xf32>) -> tensor<1x2x33x16xf32> {
  %o = attn.attention %q, %k, %v {causal, window = array<i64: 100, 0>}
      : tensor<1x2x33x16xf32>, tensor<1x2x33x16xf32>, tensor<1x2x33x16xf32>
      -> tensor<1x2x33x16xf32>
  return %o : tensor<1x2x33x16xf32>
}

// Boolean mask broadcast over batch and heads, additive masks, sinks, softcap.
// CHECK: bool_mask_sinks {{.*}} PASS
// CHECK: bool_mask_sinks {{.*}} PASS
func.func @bool_mask_sinks(%q: tensor<2x4x21x24xf32>, %k: tensor<2x4x29x24xf32>,
                           %v: tensor<2x4x29x8xf32>, %m: tensor<1x1x21x29xi1>,
                           %s: tensor<4xf32>) -> (tensor<2x4x21x8xf32>, tensor<2x4x21xf32>) {
  %o, %l = attn.attention %q, %k, %v mask(%m : tensor<1x1x21x29xi1>) sinks(%s : tensor<4xf32>)
      {softcap = 5.0 : f64}
      : tensor<2x4x21x24xf32>, tensor<2x4x29x24xf32>, tensor<2x4x29x8xf32>
      -> tensor<2x4x21x8xf32>, tensor<2x4x21xf32>
  return %o, %l : tensor<2x4x21x8xf32>, tensor<2x4x21xf32>
}

// Additive f32 mask per head with a custom scale of 0.3.
// CHECK: additive_mask {{.*}} PASS
func.func @additive_mask(%q: tensor<1x3x17x8xf32>, %k: tensor<1x3x17x8xf32>,
                         %v: tensor<1x3x17x8xf32>, %m: tensor<1x3x17x17xf32>)
    -> tensor<1x3x17x8xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x3x17x17xf32>) {scale = 0.3 : f64}
      : tensor<1x3x17x8xf32>, tensor<1x3x17x8xf32>, tensor<1x3x17x8xf32>
      -> tensor<1x3x17x8xf32>
  return %o : tensor<1x3x17x8xf32>
}

// Block lists with 16x8 blocks over L = 50 (ragged last blocks); random
// counts include 0, so some query blocks see nothing. Full lists on top.
// CHECK: block_lists {{.*}} PASS
// CHECK: block_lists {{.*}} PASS
func.func @block_lists(%q: tensor<1x2x50x16xf32>, %k: tensor<1x2x50x16xf32>,
                       %v: tensor<1x2x50x16xf32>, %n: tensor<1x2x4xi32>,
                       %i: tensor<1x2x4x3xi32>, %fn: tensor<1x1x4xi32>,
                       %fi: tensor<1x1x4x2xi32>) -> (tensor<1x2x50x16xf32>, tensor<1x2x50xf32>) {
  %o, %l = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x2x4xi32>, tensor<1x2x4x3xi32>)
      full_blocks(%fn, %fi : tensor<1x1x4xi32>, tensor<1x1x4x2xi32>)
      {block_q = 16 : i64, block_k = 8 : i64}
      : tensor<1x2x50x16xf32>, tensor<1x2x50x16xf32>, tensor<1x2x50x16xf32>
      -> tensor<1x2x50x16xf32>, tensor<1x2x50xf32>
  return %o, %l : tensor<1x2x50x16xf32>, tensor<1x2x50xf32>
}

// score_mod (ALiBi-like bias by head) and mask_mod (drop even keys).
// CHECK: mods {{.*}} PASS
func.func @mods(%q: tensor<1x2x13x16xf32>, %k: tensor<1x2x13x16xf32>,
                %v: tensor<1x2x13x16xf32>) -> tensor<1x2x13x16xf32> {
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %j, %h : index
    %di = arith.index_cast %d : index to i64
    %df = arith.sitofp %di : i64 to f32
    %c = arith.constant 0.1 : f32
    %bias = arith.mulf %df, %c : f32
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %two = arith.constant 2 : index
    %rem = arith.remsi %j, %two : index
    %one = arith.constant 1 : index
    %odd = arith.cmpi eq, %rem, %one : index
    attn.yield %odd : i1
  } : tensor<1x2x13x16xf32>, tensor<1x2x13x16xf32>, tensor<1x2x13x16xf32>
      -> tensor<1x2x13x16xf32>
  return %o : tensor<1x2x13x16xf32>
}

// f16 and bf16 inputs (accumulation in f32), GQA with G = 3.
// CHECK: half_gqa {{.*}} f16 {{.*}} PASS
func.func @half_gqa(%q: tensor<1x6x31x64xf16>, %k: tensor<1x2x31x64xf16>,
                    %v: tensor<1x2x31x64xf16>) -> tensor<1x6x31x64xf16> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x6x31x64xf16>, tensor<1x2x31x64xf16>, tensor<1x2x31x64xf16>
      -> tensor<1x6x31x64xf16>
  return %o : tensor<1x6x31x64xf16>
}

// CHECK: bf16_gqa {{.*}} bf16 {{.*}} PASS
func.func @bf16_gqa(%q: tensor<1x6x31x64xbf16>, %k: tensor<1x2x31x64xbf16>,
                    %v: tensor<1x2x31x64xbf16>) -> tensor<1x6x31x64xbf16> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x6x31x64xbf16>, tensor<1x2x31x64xbf16>, tensor<1x2x31x64xbf16>
      -> tensor<1x6x31x64xbf16>
  return %o : tensor<1x6x31x64xbf16>
}
