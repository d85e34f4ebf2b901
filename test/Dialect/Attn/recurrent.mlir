// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// Roundtrip of the recurrent families: attn.delta_rule (deltanet, gated, kda,
// with and without a carried state), attn.log_linear (linear, mamba2 and
// gated_deltanet bases, with lambda's level count ceil(log2 L) + 1) and
// attn.lolcats_hybrid (sliding and terrace windows).

// DeltaNet: no gate, beta [B, H, L] = [2, 4, 64], D = 32, Dv = 64, no state.
// CHECK-LABEL: func.func @deltanet
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<2x4x64x32xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<2x4x64x32xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<2x4x64x64xf32>, %[[B:[a-zA-Z0-9_]+]]: tensor<2x4x64xf32>
// CHECK: %[[O:[a-zA-Z0-9_]+]] = attn.delta_rule deltanet %[[Q]], %[[K]], %[[V]], %[[B]] : tensor<2x4x64xf32> : tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x64xf32> -> tensor<2x4x64x64xf32>
// CHECK: return %[[O]]
func.func @deltanet(%q: tensor<2x4x64x32xf32>, %k: tensor<2x4x64x32xf32>, %v: tensor<2x4x64x64xf32>, %b: tensor<2x4x64xf32>) -> tensor<2x4x64x64xf32> {
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<2x4x64xf32> : tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x64xf32> -> tensor<2x4x64x64xf32>
  return %o : tensor<2x4x64x64xf32>
}

// DeltaNet with l2norm, scale 1/sqrt(32) ~ 0.1768 and state [B, H, D, Dv] = [1, 2, 32, 16] in and out.
// CHECK-LABEL: func.func @deltanet_state
// CHECK-SAME: %[[S0:[a-zA-Z0-9_]+]]: tensor<1x2x32x16xf32>
// CHECK: %{{.*}}, %[[S1:[a-zA-Z0-9_]+]] = attn.delta_rule deltanet %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x48xf32> state(%[[S0]] : tensor<1x2x32x16xf32>) {l2norm, scale = 0.1767{{[0-9]*}} : f64} : {{.*}} -> tensor<1x2x48x16xbf16>, state tensor<1x2x32x16xf32>
// CHECK: return %{{.*}}, %[[S1]]
func.func @deltanet_state(%q: tensor<1x2x48x32xbf16>, %k: tensor<1x2x48x32xbf16>, %v: tensor<1x2x48x16xbf16>, %b: tensor<1x2x48xf32>, %s0: tensor<1x2x32x16xf32>) -> (tensor<1x2x48x16xbf16>, tensor<1x2x32x16xf32>) {
  %o, %s1 = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x2x48xf32> state(%s0 : tensor<1x2x32x16xf32>) {l2norm, scale = 0.17677669529663687} : tensor<1x2x48x32xbf16>, tensor<1x2x48x32xbf16>, tensor<1x2x48x16xbf16> -> tensor<1x2x48x16xbf16>, state tensor<1x2x32x16xf32>
  return %o, %s1 : tensor<1x2x48x16xbf16>, tensor<1x2x32x16xf32>
}

// Gated DeltaNet: scalar log-space gate per token [B, H, L] = [1, 4, 64], no state.
// CHECK-LABEL: func.func @gated
// CHECK-SAME: %[[B:[a-zA-Z0-9_]+]]: tensor<1x4x64xf32>, %[[G:[a-zA-Z0-9_]+]]: tensor<1x4x64xf32>
// CHECK: attn.delta_rule gated %{{.*}}, %{{.*}}, %{{.*}}, %[[B]] : tensor<1x4x64xf32> gate(%[[G]] : tensor<1x4x64xf32>) : tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16> -> tensor<1x4x64x32xf16>
func.func @gated(%q: tensor<1x4x64x32xf16>, %k: tensor<1x4x64x32xf16>, %v: tensor<1x4x64x32xf16>, %b: tensor<1x4x64xf32>, %g: tensor<1x4x64xf32>) -> tensor<1x4x64x32xf16> {
  %o = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x64xf32> gate(%g : tensor<1x4x64xf32>) : tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16> -> tensor<1x4x64x32xf16>
  return %o : tensor<1x4x64x32xf16>
}

// Gated DeltaNet carrying state [1, 4, 32, 32] in and out (chunked prefill).
// CHECK-LABEL: func.func @gated_state
// CHECK: attn.delta_rule gated %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x4x64xf32> gate(%{{.*}} : tensor<1x4x64xf32>) state(%{{.*}} : tensor<1x4x32x32xf32>) {l2norm} : {{.*}} -> tensor<1x4x64x32xf16>, state tensor<1x4x32x32xf32>
func.func @gated_state(%q: tensor<1x4x64x32xf16>, %k: tensor<1x4x64x32xf16>, %v: tensor<1x4x64x32xf16>, %b: tensor<1x4x64xf32>, %g: tensor<1x4x64xf32>, %s0: tensor<1x4x32x32xf32>) -> (tensor<1x4x64x32xf16>, tensor<1x4x32x32xf32>) {
  %o, %s1 = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x64xf32> gate(%g : tensor<1x4x64xf32>) state(%s0 : tensor<1x4x32x32xf32>) {l2norm} : tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16> -> tensor<1x4x64x32xf16>, state tensor<1x4x32x32xf32>
  return %o, %s1 : tensor<1x4x64x32xf16>, tensor<1x4x32x32xf32>
}

// KDA (Kimi Delta Attention): per-channel gate [B, H, L, D] = [2, 2, 16, 8], no state.
// CHECK-LABEL: func.func @kda
// CHECK: attn.delta_rule kda %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x2x16xf32> gate(%{{.*}} : tensor<2x2x16x8xf32>) : tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x4xf32> -> tensor<2x2x16x4xf32>
func.func @kda(%q: tensor<2x2x16x8xf32>, %k: tensor<2x2x16x8xf32>, %v: tensor<2x2x16x4xf32>, %b: tensor<2x2x16xf32>, %g: tensor<2x2x16x8xf32>) -> tensor<2x2x16x4xf32> {
  %o = attn.delta_rule kda %q, %k, %v, %b : tensor<2x2x16xf32> gate(%g : tensor<2x2x16x8xf32>) : tensor<2x2x16x8xf32>, tensor<2x2x16x8xf32>, tensor<2x2x16x4xf32> -> tensor<2x2x16x4xf32>
  return %o : tensor<2x2x16x4xf32>
}

// KDA with state [B, H, D, Dv] = [2, 2, 8, 4] in only, and dynamic length.
// CHECK-LABEL: func.func @kda_state_dynamic
// CHECK: attn.delta_rule kda %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x2x?xf32> gate(%{{.*}} : tensor<2x2x?x8xf32>) state(%{{.*}} : tensor<2x2x8x4xf32>) : {{.*}} -> tensor<2x2x?x4xf32>{{$}}
func.func @kda_state_dynamic(%q: tensor<2x2x?x8xf32>, %k: tensor<2x2x?x8xf32>, %v: tensor<2x2x?x4xf32>, %b: tensor<2x2x?xf32>, %g: tensor<2x2x?x8xf32>, %s0: tensor<2x2x8x4xf32>) -> tensor<2x2x?x4xf32> {
  %o = attn.delta_rule kda %q, %k, %v, %b : tensor<2x2x?xf32> gate(%g : tensor<2x2x?x8xf32>) state(%s0 : tensor<2x2x8x4xf32>) : tensor<2x2x?x8xf32>, tensor<2x2x?x8xf32>, tensor<2x2x?x4xf32> -> tensor<2x2x?x4xf32>
  return %o : tensor<2x2x?x4xf32>
}

// Log-linear over linear attention, L = 1: ceil(log2 1) + 1 = 1 level.
// CHECK-LABEL: func.func @loglinear_linear_l1
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x2x1x16xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x2x1x16xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x2x1x16xf32>, %[[LAM:[a-zA-Z0-9_]+]]: tensor<1x2x1x1xf32>
// CHECK: attn.log_linear linear %[[Q]], %[[K]], %[[V]], %[[LAM]] : tensor<1x2x1x1xf32> : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32> -> tensor<1x2x1x16xf32>
func.func @loglinear_linear_l1(%q: tensor<1x2x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x16xf32>, %lam: tensor<1x2x1x1xf32>) -> tensor<1x2x1x16xf32> {
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x1x1xf32> : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32> -> tensor<1x2x1x16xf32>
  return %o : tensor<1x2x1x16xf32>
}

// Log-linear over linear attention, L = 2: ceil(log2 2) + 1 = 2 levels.
// CHECK-LABEL: func.func @loglinear_linear_l2
// CHECK: attn.log_linear linear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x2x2xf32> :
func.func @loglinear_linear_l2(%q: tensor<1x2x2x16xf32>, %k: tensor<1x2x2x16xf32>, %v: tensor<1x2x2x16xf32>, %lam: tensor<1x2x2x2xf32>) -> tensor<1x2x2x16xf32> {
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x2x2xf32> : tensor<1x2x2x16xf32>, tensor<1x2x2x16xf32>, tensor<1x2x2x16xf32> -> tensor<1x2x2x16xf32>
  return %o : tensor<1x2x2x16xf32>
}

// Log-linear Mamba2, L = 5: ceil(log2 5) + 1 = 4 levels; gate [B, H, L] = [2, 3, 5], scale 0.25.
// CHECK-LABEL: func.func @loglinear_mamba2_l5
// CHECK-SAME: %[[LAM:[a-zA-Z0-9_]+]]: tensor<2x3x5x4xf32>, %[[G:[a-zA-Z0-9_]+]]: tensor<2x3x5xf32>
// CHECK: attn.log_linear mamba2 %{{.*}}, %{{.*}}, %{{.*}}, %[[LAM]] : tensor<2x3x5x4xf32> gate(%[[G]] : tensor<2x3x5xf32>) {scale = 2.500000e-01 : f64} : tensor<2x3x5x16xf16>, tensor<2x3x5x16xf16>, tensor<2x3x5x8xf16> -> tensor<2x3x5x8xf16>
func.func @loglinear_mamba2_l5(%q: tensor<2x3x5x16xf16>, %k: tensor<2x3x5x16xf16>, %v: tensor<2x3x5x8xf16>, %lam: tensor<2x3x5x4xf32>, %g: tensor<2x3x5xf32>) -> tensor<2x3x5x8xf16> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<2x3x5x4xf32> gate(%g : tensor<2x3x5xf32>) {scale = 0.25} : tensor<2x3x5x16xf16>, tensor<2x3x5x16xf16>, tensor<2x3x5x8xf16> -> tensor<2x3x5x8xf16>
  return %o : tensor<2x3x5x8xf16>
}

// Log-linear Gated DeltaNet, L = 16: ceil(log2 16) + 1 = 5 levels; gate and beta [1, 2, 16].
// CHECK-LABEL: func.func @loglinear_gdn_l16
// CHECK-SAME: %[[LAM:[a-zA-Z0-9_]+]]: tensor<1x2x16x5xf32>, %[[G:[a-zA-Z0-9_]+]]: tensor<1x2x16xf32>, %[[B:[a-zA-Z0-9_]+]]: tensor<1x2x16xf32>
// CHECK: attn.log_linear gated_deltanet %{{.*}}, %{{.*}}, %{{.*}}, %[[LAM]] : tensor<1x2x16x5xf32> gate(%[[G]] : tensor<1x2x16xf32>) beta(%[[B]] : tensor<1x2x16xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
func.func @loglinear_gdn_l16(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>, %g: tensor<1x2x16xf32>, %b: tensor<1x2x16xf32>) -> tensor<1x2x16x8xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x16x5xf32> gate(%g : tensor<1x2x16xf32>) beta(%b : tensor<1x2x16xf32>) : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}

// Log-linear Gated DeltaNet, L = 17: one past a power of two, ceil(log2 17) + 1 = 6 levels.
// CHECK-LABEL: func.func @loglinear_gdn_l17
// CHECK: attn.log_linear gated_deltanet %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x1x17x6xf32> gate(%{{.*}} : tensor<1x1x17xf32>) beta(%{{.*}} : tensor<1x1x17xf32>)
func.func @loglinear_gdn_l17(%q: tensor<1x1x17x8xbf16>, %k: tensor<1x1x17x8xbf16>, %v: tensor<1x1x17x8xbf16>, %lam: tensor<1x1x17x6xf32>, %g: tensor<1x1x17xf32>, %b: tensor<1x1x17xf32>) -> tensor<1x1x17x8xbf16> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x1x17x6xf32> gate(%g : tensor<1x1x17xf32>) beta(%b : tensor<1x1x17xf32>) : tensor<1x1x17x8xbf16>, tensor<1x1x17x8xbf16>, tensor<1x1x17x8xbf16> -> tensor<1x1x17x8xbf16>
  return %o : tensor<1x1x17x8xbf16>
}

// Dynamic L: the level count cannot be derived, so lambda's last axis is free (here 12).
// CHECK-LABEL: func.func @loglinear_dynamic
// CHECK: attn.log_linear linear %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<1x2x?x12xf32> : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32> -> tensor<1x2x?x16xf32>
func.func @loglinear_dynamic(%q: tensor<1x2x?x16xf32>, %k: tensor<1x2x?x16xf32>, %v: tensor<1x2x?x16xf32>, %lam: tensor<1x2x?x12xf32>) -> tensor<1x2x?x16xf32> {
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x?x12xf32> : tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32>, tensor<1x2x?x16xf32> -> tensor<1x2x?x16xf32>
  return %o : tensor<1x2x?x16xf32>
}

// LoLCATs sliding window with the default window 64 (elided when printed); features F = 2 * 32 = 64.
// CHECK-LABEL: func.func @lolcats_sliding
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x8x256x64xbf16>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x8x256x64xbf16>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x8x256x64xbf16>, %[[FQ:[a-zA-Z0-9_]+]]: tensor<1x8x256x64xbf16>, %[[FK:[a-zA-Z0-9_]+]]: tensor<1x8x256x64xbf16>, %[[GAM:[a-zA-Z0-9_]+]]: tensor<8xf32>
// CHECK: attn.lolcats_hybrid %[[Q]], %[[K]], %[[V]] features(%[[FQ]], %[[FK]] : tensor<1x8x256x64xbf16>) gamma(%[[GAM]] : tensor<8xf32>) : tensor<1x8x256x64xbf16>, tensor<1x8x256x64xbf16>, tensor<1x8x256x64xbf16> -> tensor<1x8x256x64xbf16>
func.func @lolcats_sliding(%q: tensor<1x8x256x64xbf16>, %k: tensor<1x8x256x64xbf16>, %v: tensor<1x8x256x64xbf16>, %fq: tensor<1x8x256x64xbf16>, %fk: tensor<1x8x256x64xbf16>, %gam: tensor<8xf32>) -> tensor<1x8x256x64xbf16> {
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x8x256x64xbf16>) gamma(%gam : tensor<8xf32>) {window = 64} : tensor<1x8x256x64xbf16>, tensor<1x8x256x64xbf16>, tensor<1x8x256x64xbf16> -> tensor<1x8x256x64xbf16>
  return %o : tensor<1x8x256x64xbf16>
}

// LoLCATs terrace window of 32 keys (previous 32-block plus the current one), F = 128 != D = 64, scale 0.125.
// CHECK-LABEL: func.func @lolcats_terrace
// CHECK: attn.lolcats_hybrid %{{.*}}, %{{.*}}, %{{.*}} features(%{{.*}}, %{{.*}} : tensor<2x4x128x128xf32>) gamma(%{{.*}} : tensor<4xf32>) mode terrace {scale = 1.250000e-01 : f64, window = 32 : i64} : tensor<2x4x128x64xf32>, tensor<2x4x128x64xf32>, tensor<2x4x128x32xf32> -> tensor<2x4x128x32xf32>
func.func @lolcats_terrace(%q: tensor<2x4x128x64xf32>, %k: tensor<2x4x128x64xf32>, %v: tensor<2x4x128x32xf32>, %fq: tensor<2x4x128x128xf32>, %fk: tensor<2x4x128x128xf32>, %gam: tensor<4xf32>) -> tensor<2x4x128x32xf32> {
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<2x4x128x128xf32>) gamma(%gam : tensor<4xf32>) mode terrace {window = 32, scale = 0.125} : tensor<2x4x128x64xf32>, tensor<2x4x128x64xf32>, tensor<2x4x128x32xf32> -> tensor<2x4x128x32xf32>
  return %o : tensor<2x4x128x32xf32>
}

// LoLCATs sliding window of 1 key (the smallest allowed), explicit default mode (elided when printed), dynamic length.
// CHECK-LABEL: func.func @lolcats_window_one
// CHECK: attn.lolcats_hybrid {{.*}} gamma(%{{.*}} : tensor<2xf32>) {window = 1 : i64} : tensor<1x2x?x16xf16>
func.func @lolcats_window_one(%q: tensor<1x2x?x16xf16>, %k: tensor<1x2x?x16xf16>, %v: tensor<1x2x?x16xf16>, %fq: tensor<1x2x?x32xf16>, %fk: tensor<1x2x?x32xf16>, %gam: tensor<2xf32>) -> tensor<1x2x?x16xf16> {
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x?x32xf16>) gamma(%gam : tensor<2xf32>) mode sliding {window = 1} : tensor<1x2x?x16xf16>, tensor<1x2x?x16xf16>, tensor<1x2x?x16xf16> -> tensor<1x2x?x16xf16>
  return %o : tensor<1x2x?x16xf16>
}

// log_linear streaming: level states in and out ([B,H,NL,D,Dv] with NL =
// lambda's level count, here 7 for one decode token) and start positions.
// CHECK-LABEL: func.func @log_linear_stream
// CHECK: attn.log_linear gated_deltanet %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} : tensor<2x3x1x7xf32> gate(%{{.*}} : tensor<2x3x1xf32>) beta(%{{.*}} : tensor<2x3x1xf32>) state(%{{.*}} : tensor<2x3x7x16x8xf32>) start(%{{.*}} : tensor<2xi32>) : tensor<2x3x1x16xf32>, tensor<2x3x1x16xf32>, tensor<2x3x1x8xf32> -> tensor<2x3x1x8xf32>, state tensor<2x3x7x16x8xf32>
func.func @log_linear_stream(%q: tensor<2x3x1x16xf32>, %k: tensor<2x3x1x16xf32>, %v: tensor<2x3x1x8xf32>, %lam: tensor<2x3x1x7xf32>, %g: tensor<2x3x1xf32>, %b: tensor<2x3x1xf32>, %s: tensor<2x3x7x16x8xf32>, %p: tensor<2xi32>) -> (tensor<2x3x1x8xf32>, tensor<2x3x7x16x8xf32>) {
  %o, %s1 = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<2x3x1x7xf32> gate(%g : tensor<2x3x1xf32>) beta(%b : tensor<2x3x1xf32>) state(%s : tensor<2x3x7x16x8xf32>) start(%p : tensor<2xi32>) : tensor<2x3x1x16xf32>, tensor<2x3x1x16xf32>, tensor<2x3x1x8xf32> -> tensor<2x3x1x8xf32>, state tensor<2x3x7x16x8xf32>
  return %o, %s1 : tensor<2x3x1x8xf32>, tensor<2x3x7x16x8xf32>
}

// lolcats_decode: one step over the streaming state (linear terms and a
// ring of the last 6 tokens); the results are the state's new values.
// CHECK-LABEL: func.func @lolcats_decode
// CHECK: attn.lolcats_decode %{{.*}}, %{{.*}}, %{{.*}} features(%{{.*}}, %{{.*}} : tensor<2x4x1x16xbf16>) gamma(%{{.*}} : tensor<4xf32>) position(%{{.*}} : tensor<2xi32>) state(%{{.*}}, %{{.*}} : tensor<2x4x16x8xf32>, tensor<2x4x16xf32>) window(%{{.*}}, %{{.*}}, %{{.*}} : tensor<2x4x6x32xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x16xf32>) {scale = 2.500000e-01 : f64} : tensor<2x4x1x32xbf16>, tensor<2x4x1x32xbf16>, tensor<2x4x1x8xbf16> -> tensor<2x4x1x8xbf16>
func.func @lolcats_decode(%q: tensor<2x4x1x32xbf16>, %v: tensor<2x4x1x8xbf16>, %fq: tensor<2x4x1x16xbf16>, %g: tensor<4xf32>, %p: tensor<2xi32>, %s: tensor<2x4x16x8xf32>, %z: tensor<2x4x16xf32>, %wk: tensor<2x4x6x32xf32>, %wv: tensor<2x4x6x8xf32>, %wf: tensor<2x4x6x16xf32>) -> tensor<2x4x1x8xbf16> {
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %q, %v features(%fq, %fq : tensor<2x4x1x16xbf16>) gamma(%g : tensor<4xf32>) position(%p : tensor<2xi32>) state(%s, %z : tensor<2x4x16x8xf32>, tensor<2x4x16xf32>) window(%wk, %wv, %wf : tensor<2x4x6x32xf32>, tensor<2x4x6x8xf32>, tensor<2x4x6x16xf32>) {scale = 0.25} : tensor<2x4x1x32xbf16>, tensor<2x4x1x32xbf16>, tensor<2x4x1x8xbf16> -> tensor<2x4x1x8xbf16>
  return %o : tensor<2x4x1x8xbf16>
}
