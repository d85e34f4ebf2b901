// Masks and score/mask-mod regions on the tiled CPU kernels (flash prefill
// and split-KV decode), checked against the fp64 reference: random boolean
// masks broadcast over batch and heads, additive masks in f32 and bf16,
// elementwise regions (vectorised) and regions reading captured tensors
// (run lane by lane), rows every key of which is hidden (out 0, lse -inf),
// key counts of a cache. Shapes are ragged against the 64-key tiles.
// RUN: attn-run %s --random --seed 61 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 62 --check | FileCheck %s
// The check is live: a perturbed output fails.
// RUN: not attn-run %s --entry mask_mods_causal_gqa --random --seed 61 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// BROKEN: mask_mods_causal_gqa {{.*}} FAIL
// Every op here is tiled: nothing reaches the naive decomposition.
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR
// IR-NOT: attn.attention
// IR-NOT: linalg.generic

// A boolean mask [1, 1, Lq, Lk], an ALiBi-like score_mod by head and
// distance, and a mask_mod dropping every third key; causal, GQA 4/2,
// Lq = Lk = 100, D = 32, lse.
// CHECK: mask_mods_causal_gqa {{.*}} PASS
// CHECK: mask_mods_causal_gqa {{.*}} PASS
func.func @mask_mods_causal_gqa(%q: tensor<1x4x100x32xf32>, %k: tensor<1x2x100x32xf32>,
                                %v: tensor<1x2x100x32xf32>, %m: tensor<1x1x100x100xi1>)
    -> (tensor<1x4x100x32xf32>, tensor<1x4x100xf32>) {
  %o, %l = attn.attention %q, %k, %v mask(%m : tensor<1x1x100x100xi1>) score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %d = arith.subi %i, %j : index
    %hd = arith.addi %h, %d : index
    %di = arith.index_cast %hd : index to i64
    %df = arith.sitofp %di : i64 to f32
    %c = arith.constant -0.03 : f32
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
  } {causal}
      : tensor<1x4x100x32xf32>, tensor<1x2x100x32xf32>, tensor<1x2x100x32xf32>
      -> tensor<1x4x100x32xf32>, tensor<1x4x100xf32>
  return %o, %l : tensor<1x4x100x32xf32>, tensor<1x4x100xf32>
}

// An additive f32 mask per batch row and head, non-causal, Lq = 70 against
// Lk = 150, D = 64, Dv = 48, softcap 20.
// CHECK: additive_softcap {{.*}} PASS
func.func @additive_softcap(%q: tensor<2x2x70x64xf32>, %k: tensor<2x2x150x64xf32>,
                            %v: tensor<2x2x150x48xf32>, %m: tensor<2x2x70x150xf32>)
    -> tensor<2x2x70x48xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<2x2x70x150xf32>) {softcap = 20.0 : f64}
      : tensor<2x2x70x64xf32>, tensor<2x2x150x64xf32>, tensor<2x2x150x48xf32>
      -> tensor<2x2x70x48xf32>
  return %o : tensor<2x2x70x48xf32>
}

// A bf16 additive mask broadcast over heads, bf16 operands, sliding window
// (left 40), Lq = Lk = 129.
// CHECK: additive_bf16_window {{.*}} bf16 {{.*}} PASS
func.func @additive_bf16_window(%q: tensor<1x3x129x32xbf16>, %k: tensor<1x3x129x32xbf16>,
                                %v: tensor<1x3x129x32xbf16>, %m: tensor<1x1x129x129xbf16>)
    -> tensor<1x3x129x32xbf16> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<1x1x129x129xbf16>)
      {causal, window = array<i64: 40, 0>}
      : tensor<1x3x129x32xbf16>, tensor<1x3x129x32xbf16>, tensor<1x3x129x32xbf16>
      -> tensor<1x3x129x32xbf16>
  return %o : tensor<1x3x129x32xbf16>
}

// A mask_mod hiding every key of the first 50 rows (j <= i - 50 only):
// those rows give 0 and lse -inf; Lq = Lk = 90, causal, D = 16.
// CHECK: mask_mod_empty_rows {{.*}} PASS
// CHECK: mask_mod_empty_rows {{.*}} PASS
func.func @mask_mod_empty_rows(%q: tensor<1x2x90x16xf32>, %k: tensor<1x2x90x16xf32>,
                               %v: tensor<1x2x90x16xf32>)
    -> (tensor<1x2x90x16xf32>, tensor<1x2x90xf32>) {
  %o, %l = attn.attention %q, %k, %v mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %fifty = arith.constant 50 : index
    %jj = arith.addi %j, %fifty : index
    %keep = arith.cmpi sle, %jj, %i : index
    attn.yield %keep : i1
  } {causal}
      : tensor<1x2x90x16xf32>, tensor<1x2x90x16xf32>, tensor<1x2x90x16xf32>
      -> tensor<1x2x90x16xf32>, tensor<1x2x90xf32>
  return %o, %l : tensor<1x2x90x16xf32>, tensor<1x2x90xf32>
}

// Decode (Lq = 3 against a 300-key cache with per-row key counts, GQA 4/2):
// a score_mod reading a captured bias table [Hq, Lk] (lane by lane), a
// boolean mask per batch row, causal aligned at each row's count.
// CHECK: decode_table_mod_lens {{.*}} PASS
func.func @decode_table_mod_lens(%q: tensor<2x4x3x32xf32>, %k: tensor<2x2x300x32xf32>,
                                 %v: tensor<2x2x300x32xf32>, %n: tensor<2xi32>,
                                 %m: tensor<2x1x3x300xi1>, %bias: tensor<4x300xf32>)
    -> tensor<2x4x3x32xf32> {
  %o = attn.attention %q, %k, %v mask(%m : tensor<2x1x3x300xi1>) kv_lens(%n : tensor<2xi32>)
      score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %x = tensor.extract %bias[%h, %j] : tensor<4x300xf32>
    %r = arith.addf %s, %x : f32
    attn.yield %r : f32
  } {causal}
      : tensor<2x4x3x32xf32>, tensor<2x2x300x32xf32>, tensor<2x2x300x32xf32>
      -> tensor<2x4x3x32xf32>
  return %o : tensor<2x4x3x32xf32>
}

// Prefill with a mask_mod reading a captured per-key tensor (keys whose
// entry is positive are kept; lane by lane) and an elementwise score_mod;
// Lq = Lk = 77, causal, MQA (G = 2).
// CHECK: captured_mask_mod_prefill {{.*}} PASS
func.func @captured_mask_mod_prefill(%q: tensor<1x2x77x16xf32>, %k: tensor<1x1x77x16xf32>,
                                     %v: tensor<1x1x77x16xf32>, %keep: tensor<77xf32>)
    -> tensor<1x2x77x16xf32> {
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %two = arith.constant 2.0 : f32
    %r = arith.mulf %s, %two : f32
    attn.yield %r : f32
  } mask_mod {
  ^bb0(%b: index, %h: index, %i: index, %j: index):
    %x = tensor.extract %keep[%j] : tensor<77xf32>
    %zero = arith.constant 0.0 : f32
    %pos = arith.cmpf ogt, %x, %zero : f32
    attn.yield %pos : i1
  } {causal}
      : tensor<1x2x77x16xf32>, tensor<1x1x77x16xf32>, tensor<1x1x77x16xf32>
      -> tensor<1x2x77x16xf32>
  return %o : tensor<1x2x77x16xf32>
}
