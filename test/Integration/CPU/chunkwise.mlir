// The chunkwise CPU kernels of attn-tile (passes/Tile/ChunkwiseRecurrentCpu.cpp)
// for attn.linear_attention (decay none, constant, scalar, per-channel
// vector (GLA); normaliser) and attn.delta_rule (DeltaNet, Gated DeltaNet,
// KDA; l2norm), against the fp64
// reference of the token recurrence on random inputs: short calls (L = 1,
// L = 5; these now take the step kernel, recurrent-step.mlir), a ragged
// last chunk (L = 150 = 64 + 64 + 22), many chunks (L = 333), state and norm carried in and out, Dv != D, B and H > 1,
// f16 and bf16 operands. D and Dv are multiples of 16 (the kernel's rule);
// other shapes stay on the recurrence (linear-attention.mlir, delta-rule.mlir).
// RUN: attn-run %s --random --seed 31 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 32 --check | FileCheck %s
// A kernel whose outputs are off by 1e-3 fails the same check.
// RUN: not attn-run %s --entry gdn_l2norm_state --random --seed 31 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// The ops really take the chunkwise kernel: no token recurrence is left.
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR

// CHECK-NOT: FAIL
// BROKEN: gdn_l2norm_state {{.*}} FAIL
// IR-NOT: attn.linear_attention
// IR-NOT: attn.delta_rule
// IR: vector.fma

// decay none, 150 tokens (chunks of 64, 64, 22), state out.
// CHECK: la_none_ragged {{.*}} PASS
// CHECK: la_none_ragged {{.*}} PASS
func.func @la_none_ragged(%q: tensor<2x3x150x64xf32>, %k: tensor<2x3x150x64xf32>, %v: tensor<2x3x150x48xf32>) -> (tensor<2x3x150x48xf32>, tensor<2x3x64x48xf32>) {
  %o, %s = attn.linear_attention none %q, %k, %v : tensor<2x3x150x64xf32>, tensor<2x3x150x64xf32>, tensor<2x3x150x48xf32> -> tensor<2x3x150x48xf32>, state tensor<2x3x64x48xf32>
  return %o, %s : tensor<2x3x150x48xf32>, tensor<2x3x64x48xf32>
}

// decay constant per head, state in and out, scale 0.125, 333 tokens.
// CHECK: la_constant_carry {{.*}} PASS
// CHECK: la_constant_carry {{.*}} PASS
func.func @la_constant_carry(%q: tensor<1x2x333x32xf32>, %k: tensor<1x2x333x32xf32>, %v: tensor<1x2x333x80xf32>, %g: tensor<2xf32>, %s0: tensor<1x2x32x80xf32>) -> (tensor<1x2x333x80xf32>, tensor<1x2x32x80xf32>) {
  %o, %s = attn.linear_attention constant %q, %k, %v gate(%g : tensor<2xf32>) state(%s0 : tensor<1x2x32x80xf32>) {scale = 0.125} : tensor<1x2x333x32xf32>, tensor<1x2x333x32xf32>, tensor<1x2x333x80xf32> -> tensor<1x2x333x80xf32>, state tensor<1x2x32x80xf32>
  return %o, %s : tensor<1x2x333x80xf32>, tensor<1x2x32x80xf32>
}

// decay scalar (Mamba-2 / simple GLA), D = Dv = 128, 150 tokens.
// CHECK: la_scalar_d128 {{.*}} PASS
// CHECK: la_scalar_d128 {{.*}} PASS
func.func @la_scalar_d128(%q: tensor<1x2x150x128xf32>, %k: tensor<1x2x150x128xf32>, %v: tensor<1x2x150x128xf32>, %g: tensor<1x2x150xf32>, %s0: tensor<1x2x128x128xf32>) -> (tensor<1x2x150x128xf32>, tensor<1x2x128x128xf32>) {
  %o, %s = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x2x150xf32>) state(%s0 : tensor<1x2x128x128xf32>) : tensor<1x2x150x128xf32>, tensor<1x2x150x128xf32>, tensor<1x2x150x128xf32> -> tensor<1x2x150x128xf32>, state tensor<1x2x128x128xf32>
  return %o, %s : tensor<1x2x150x128xf32>, tensor<1x2x128x128xf32>
}

// decay scalar, one token from a carried state (a decode step).
// CHECK: la_scalar_step {{.*}} PASS
// CHECK: la_scalar_step {{.*}} PASS
func.func @la_scalar_step(%q: tensor<3x2x1x32xf32>, %k: tensor<3x2x1x32xf32>, %v: tensor<3x2x1x16xf32>, %g: tensor<3x2x1xf32>, %s0: tensor<3x2x32x16xf32>) -> (tensor<3x2x1x16xf32>, tensor<3x2x32x16xf32>) {
  %o, %s = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<3x2x1xf32>) state(%s0 : tensor<3x2x32x16xf32>) : tensor<3x2x1x32xf32>, tensor<3x2x1x32xf32>, tensor<3x2x1x16xf32> -> tensor<3x2x1x16xf32>, state tensor<3x2x32x16xf32>
  return %o, %s : tensor<3x2x1x16xf32>, tensor<3x2x32x16xf32>
}

// Normalised, decay scalar, elu+1 features, state and norm in and out, eps 1e-4.
// CHECK: la_normalized_carry {{.*}} PASS
// CHECK: la_normalized_carry {{.*}} PASS
// CHECK: la_normalized_carry {{.*}} PASS
func.func @la_normalized_carry(%q: tensor<1x2x150x64xf32>, %k: tensor<1x2x150x64xf32>, %v: tensor<1x2x150x32xf32>, %g: tensor<1x2x150xf32>, %s0: tensor<1x2x64x32xf32>, %z0: tensor<1x2x64xf32>) -> (tensor<1x2x150x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64xf32>) {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x150x64xf32> -> tensor<1x2x150x64xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x150x64xf32> -> tensor<1x2x150x64xf32>
  %o, %s, %z = attn.linear_attention scalar %fq, %fk, %v gate(%g : tensor<1x2x150xf32>) state(%s0 : tensor<1x2x64x32xf32>) norm(%z0 : tensor<1x2x64xf32>) {normalize, eps = 1.0e-4} : tensor<1x2x150x64xf32>, tensor<1x2x150x64xf32>, tensor<1x2x150x32xf32> -> tensor<1x2x150x32xf32>, state tensor<1x2x64x32xf32>, norm tensor<1x2x64xf32>
  return %o, %s, %z : tensor<1x2x150x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64xf32>
}

// Normalised, no decay, 5 tokens (one short chunk).
// CHECK: la_normalized_short {{.*}} PASS
func.func @la_normalized_short(%q: tensor<2x2x5x16xf32>, %k: tensor<2x2x5x16xf32>, %v: tensor<2x2x5x16xf32>) -> tensor<2x2x5x16xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<2x2x5x16xf32> -> tensor<2x2x5x16xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<2x2x5x16xf32> -> tensor<2x2x5x16xf32>
  %o = attn.linear_attention none %fq, %fk, %v {normalize} : tensor<2x2x5x16xf32>, tensor<2x2x5x16xf32>, tensor<2x2x5x16xf32> -> tensor<2x2x5x16xf32>
  return %o : tensor<2x2x5x16xf32>
}

// bf16 operands, decay scalar, state out in f32.
// CHECK: la_scalar_bf16 {{.*}} bf16 {{.*}} PASS
// CHECK: la_scalar_bf16 {{.*}} f32 {{.*}} PASS
func.func @la_scalar_bf16(%q: tensor<1x4x150x64xbf16>, %k: tensor<1x4x150x64xbf16>, %v: tensor<1x4x150x64xbf16>, %g: tensor<1x4x150xf32>) -> (tensor<1x4x150x64xbf16>, tensor<1x4x64x64xf32>) {
  %o, %s = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x4x150xf32>) : tensor<1x4x150x64xbf16>, tensor<1x4x150x64xbf16>, tensor<1x4x150x64xbf16> -> tensor<1x4x150x64xbf16>, state tensor<1x4x64x64xf32>
  return %o, %s : tensor<1x4x150x64xbf16>, tensor<1x4x64x64xf32>
}

// DeltaNet, 150 tokens, state out.
// CHECK: deltanet_ragged {{.*}} PASS
// CHECK: deltanet_ragged {{.*}} PASS
func.func @deltanet_ragged(%q: tensor<2x2x150x64xf32>, %k: tensor<2x2x150x64xf32>, %v: tensor<2x2x150x48xf32>, %b: tensor<2x2x150xf32>) -> (tensor<2x2x150x48xf32>, tensor<2x2x64x48xf32>) {
  %o, %s = attn.delta_rule deltanet %q, %k, %v, %b : tensor<2x2x150xf32> : tensor<2x2x150x64xf32>, tensor<2x2x150x64xf32>, tensor<2x2x150x48xf32> -> tensor<2x2x150x48xf32>, state tensor<2x2x64x48xf32>
  return %o, %s : tensor<2x2x150x48xf32>, tensor<2x2x64x48xf32>
}

// Gated DeltaNet with l2norm (q and k normalised per token), state in and
// out, D = Dv = 128, 333 tokens, scale 1/sqrt(128).
// CHECK: gdn_l2norm_state {{.*}} PASS
// CHECK: gdn_l2norm_state {{.*}} PASS
func.func @gdn_l2norm_state(%q: tensor<1x2x333x128xf32>, %k: tensor<1x2x333x128xf32>, %v: tensor<1x2x333x128xf32>, %b: tensor<1x2x333xf32>, %g: tensor<1x2x333xf32>, %s0: tensor<1x2x128x128xf32>) -> (tensor<1x2x333x128xf32>, tensor<1x2x128x128xf32>) {
  %o, %s = attn.delta_rule gated %q, %k, %v, %b : tensor<1x2x333xf32> gate(%g : tensor<1x2x333xf32>) state(%s0 : tensor<1x2x128x128xf32>) {l2norm, scale = 0.08838834764831845} : tensor<1x2x333x128xf32>, tensor<1x2x333x128xf32>, tensor<1x2x333x128xf32> -> tensor<1x2x333x128xf32>, state tensor<1x2x128x128xf32>
  return %o, %s : tensor<1x2x333x128xf32>, tensor<1x2x128x128xf32>
}

// Gated DeltaNet, one token from a carried state.
// CHECK: gdn_step {{.*}} PASS
// CHECK: gdn_step {{.*}} PASS
func.func @gdn_step(%q: tensor<2x3x1x32xf32>, %k: tensor<2x3x1x32xf32>, %v: tensor<2x3x1x16xf32>, %b: tensor<2x3x1xf32>, %g: tensor<2x3x1xf32>, %s0: tensor<2x3x32x16xf32>) -> (tensor<2x3x1x16xf32>, tensor<2x3x32x16xf32>) {
  %o, %s = attn.delta_rule gated %q, %k, %v, %b : tensor<2x3x1xf32> gate(%g : tensor<2x3x1xf32>) state(%s0 : tensor<2x3x32x16xf32>) : tensor<2x3x1x32xf32>, tensor<2x3x1x32xf32>, tensor<2x3x1x16xf32> -> tensor<2x3x1x16xf32>, state tensor<2x3x32x16xf32>
  return %o, %s : tensor<2x3x1x16xf32>, tensor<2x3x32x16xf32>
}

// Gated DeltaNet in f16 with l2norm, 70 tokens (64 + 6).
// CHECK: gdn_f16 {{.*}} f16 {{.*}} PASS
func.func @gdn_f16(%q: tensor<1x4x70x64xf16>, %k: tensor<1x4x70x64xf16>, %v: tensor<1x4x70x32xf16>, %b: tensor<1x4x70xf32>, %g: tensor<1x4x70xf32>) -> tensor<1x4x70x32xf16> {
  %o = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x70xf32> gate(%g : tensor<1x4x70xf32>) {l2norm} : tensor<1x4x70x64xf16>, tensor<1x4x70x64xf16>, tensor<1x4x70x32xf16> -> tensor<1x4x70x32xf16>
  return %o : tensor<1x4x70x32xf16>
}

// GLA: per-channel decay, 150 tokens (4 x 16-token blocks per chunk: the
// blocks below the diagonal on register tiles, the diagonal ones exact),
// state in and out.
// CHECK: gla_state {{.*}} PASS
// CHECK: gla_state {{.*}} PASS
func.func @gla_state(%q: tensor<2x2x150x64xf32>, %k: tensor<2x2x150x64xf32>, %v: tensor<2x2x150x48xf32>, %g: tensor<2x2x150x64xf32>, %s0: tensor<2x2x64x48xf32>) -> (tensor<2x2x150x48xf32>, tensor<2x2x64x48xf32>) {
  %o, %s = attn.linear_attention vector %q, %k, %v gate(%g : tensor<2x2x150x64xf32>) state(%s0 : tensor<2x2x64x48xf32>) {scale = 0.125} : tensor<2x2x150x64xf32>, tensor<2x2x150x64xf32>, tensor<2x2x150x48xf32> -> tensor<2x2x150x48xf32>, state tensor<2x2x64x48xf32>
  return %o, %s : tensor<2x2x150x48xf32>, tensor<2x2x64x48xf32>
}

// GLA normalised (elu+1 features), state and norm carried, 37 tokens (one
// chunk of 48 rows: a ragged last 16-token block).
// CHECK: gla_normalized {{.*}} PASS
// CHECK: gla_normalized {{.*}} PASS
// CHECK: gla_normalized {{.*}} PASS
func.func @gla_normalized(%q: tensor<1x3x37x32xf32>, %k: tensor<1x3x37x32xf32>, %v: tensor<1x3x37x16xf32>, %g: tensor<1x3x37x32xf32>, %s0: tensor<1x3x32x16xf32>, %z0: tensor<1x3x32xf32>) -> (tensor<1x3x37x16xf32>, tensor<1x3x32x16xf32>, tensor<1x3x32xf32>) {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x3x37x32xf32> -> tensor<1x3x37x32xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x3x37x32xf32> -> tensor<1x3x37x32xf32>
  %o, %s, %z = attn.linear_attention vector %fq, %fk, %v gate(%g : tensor<1x3x37x32xf32>) state(%s0 : tensor<1x3x32x16xf32>) norm(%z0 : tensor<1x3x32xf32>) {normalize} : tensor<1x3x37x32xf32>, tensor<1x3x37x32xf32>, tensor<1x3x37x16xf32> -> tensor<1x3x37x16xf32>, state tensor<1x3x32x16xf32>, norm tensor<1x3x32xf32>
  return %o, %s, %z : tensor<1x3x37x16xf32>, tensor<1x3x32x16xf32>, tensor<1x3x32xf32>
}

// Kimi Delta Attention with l2norm, D = Dv = 128, 333 tokens, state in and out.
// CHECK: kda_l2norm_state {{.*}} PASS
// CHECK: kda_l2norm_state {{.*}} PASS
func.func @kda_l2norm_state(%q: tensor<1x2x333x128xf32>, %k: tensor<1x2x333x128xf32>, %v: tensor<1x2x333x128xf32>, %b: tensor<1x2x333xf32>, %g: tensor<1x2x333x128xf32>, %s0: tensor<1x2x128x128xf32>) -> (tensor<1x2x333x128xf32>, tensor<1x2x128x128xf32>) {
  %o, %s = attn.delta_rule kda %q, %k, %v, %b : tensor<1x2x333xf32> gate(%g : tensor<1x2x333x128xf32>) state(%s0 : tensor<1x2x128x128xf32>) {l2norm, scale = 0.08838834764831845} : tensor<1x2x333x128xf32>, tensor<1x2x333x128xf32>, tensor<1x2x333x128xf32> -> tensor<1x2x333x128xf32>, state tensor<1x2x128x128xf32>
  return %o, %s : tensor<1x2x333x128xf32>, tensor<1x2x128x128xf32>
}

// KDA without l2norm, one token from a carried state, and 70 tokens in bf16.
// CHECK: kda_step {{.*}} PASS
// CHECK: kda_step {{.*}} PASS
func.func @kda_step(%q: tensor<2x2x1x32xf32>, %k: tensor<2x2x1x32xf32>, %v: tensor<2x2x1x16xf32>, %b: tensor<2x2x1xf32>, %g: tensor<2x2x1x32xf32>, %s0: tensor<2x2x32x16xf32>) -> (tensor<2x2x1x16xf32>, tensor<2x2x32x16xf32>) {
  %o, %s = attn.delta_rule kda %q, %k, %v, %b : tensor<2x2x1xf32> gate(%g : tensor<2x2x1x32xf32>) state(%s0 : tensor<2x2x32x16xf32>) : tensor<2x2x1x32xf32>, tensor<2x2x1x32xf32>, tensor<2x2x1x16xf32> -> tensor<2x2x1x16xf32>, state tensor<2x2x32x16xf32>
  return %o, %s : tensor<2x2x1x16xf32>, tensor<2x2x32x16xf32>
}
// CHECK: kda_bf16 {{.*}} bf16 {{.*}} PASS
func.func @kda_bf16(%q: tensor<1x2x70x64xbf16>, %k: tensor<1x2x70x64xbf16>, %v: tensor<1x2x70x32xbf16>, %b: tensor<1x2x70xf32>, %g: tensor<1x2x70x64xf32>) -> tensor<1x2x70x32xbf16> {
  %o = attn.delta_rule kda %q, %k, %v, %b : tensor<1x2x70xf32> gate(%g : tensor<1x2x70x64xf32>) {l2norm} : tensor<1x2x70x64xbf16>, tensor<1x2x70x64xbf16>, tensor<1x2x70x32xbf16> -> tensor<1x2x70x32xbf16>
  return %o : tensor<1x2x70x32xbf16>
}
