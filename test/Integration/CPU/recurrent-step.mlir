// The CPU step kernel of attn-tile (passes/Tile/RecurrentStepCpu.cpp):
// attn.linear_attention and attn.delta_rule over at most 16 tokens (a
// decode step, a speculative draft) and attn.log_linear's streaming form
// (level states, start positions, binary carries) at any length, against
// the fp64 reference of the token recurrence on random inputs. Every decay
// (none, constant, scalar, per channel), the normaliser, fused elu+1 maps,
// DeltaNet / Gated DeltaNet / KDA with and without l2norm, the three
// log_linear bases; state in and out, in only, out only; B and H > 1 with
// start positions per batch row (random, some past the last level); Dv
// split over tasks of 1, 3, 5, 6 and 8 vectors; f16 and bf16 operands.
// RUN: attn-run %s --random --seed 41 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 42 --check | FileCheck %s
// A kernel whose outputs are off by 1e-3 fails the same check.
// RUN: not attn-run %s --entry ll_gdn_chunk --random --seed 41 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// The ops really take the step kernel: no token recurrence of generics.
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR

// CHECK-NOT: FAIL
// BROKEN: ll_gdn_chunk {{.*}} FAIL
// IR-NOT: attn.linear_attention
// IR-NOT: attn.delta_rule
// IR-NOT: attn.log_linear
// IR-NOT: linalg.generic

// Per-channel decay (GLA) with the normaliser, one token, state and norm
// in and out; Dv = 80: tasks of 5 vectors.
// CHECK: la_vector_norm_step {{.*}} PASS
// CHECK: la_vector_norm_step {{.*}} PASS
// CHECK: la_vector_norm_step {{.*}} PASS
func.func @la_vector_norm_step(%q: tensor<2x3x1x48xf32>, %k: tensor<2x3x1x48xf32>, %v: tensor<2x3x1x80xf32>, %g: tensor<2x3x1x48xf32>, %s0: tensor<2x3x48x80xf32>, %z0: tensor<2x3x48xf32>)
    -> (tensor<2x3x1x80xf32>, tensor<2x3x48x80xf32>, tensor<2x3x48xf32>) {
  %o, %s, %z = attn.linear_attention vector %q, %k, %v gate(%g : tensor<2x3x1x48xf32>) state(%s0 : tensor<2x3x48x80xf32>) norm(%z0 : tensor<2x3x48xf32>) {normalize, scale = 0.25} : tensor<2x3x1x48xf32>, tensor<2x3x1x48xf32>, tensor<2x3x1x80xf32> -> tensor<2x3x1x80xf32>, state tensor<2x3x48x80xf32>, norm tensor<2x3x48xf32>
  return %o, %s, %z : tensor<2x3x1x80xf32>, tensor<2x3x48x80xf32>, tensor<2x3x48xf32>
}

// Scalar decay (Mamba-2), bf16, a 7-token draft from a state; D = 64,
// Dv = 128: one task a head.
// CHECK: la_scalar_bf16_draft {{.*}} PASS
// CHECK: la_scalar_bf16_draft {{.*}} PASS
func.func @la_scalar_bf16_draft(%q: tensor<1x4x7x64xbf16>, %k: tensor<1x4x7x64xbf16>, %v: tensor<1x4x7x128xbf16>, %g: tensor<1x4x7xf32>, %s0: tensor<1x4x64x128xf32>)
    -> (tensor<1x4x7x128xbf16>, tensor<1x4x64x128xf32>) {
  %o, %s = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x4x7xf32>) state(%s0 : tensor<1x4x64x128xf32>) {scale = 0.125} : tensor<1x4x7x64xbf16>, tensor<1x4x7x64xbf16>, tensor<1x4x7x128xbf16> -> tensor<1x4x7x128xbf16>, state tensor<1x4x64x128xf32>
  return %o, %s : tensor<1x4x7x128xbf16>, tensor<1x4x64x128xf32>
}

// elu+1 feature maps fused into the packing of q and k, no decay, 3
// tokens from a zero state (state out only).
// CHECK: la_elu_fused {{.*}} PASS
// CHECK: la_elu_fused {{.*}} PASS
func.func @la_elu_fused(%x: tensor<2x2x3x32xf32>, %y: tensor<2x2x3x32xf32>, %v: tensor<2x2x3x32xf32>)
    -> (tensor<2x2x3x32xf32>, tensor<2x2x32x32xf32>) {
  %q = attn.feature_map elu_plus_one %x : tensor<2x2x3x32xf32> -> tensor<2x2x3x32xf32>
  %k = attn.feature_map elu_plus_one %y : tensor<2x2x3x32xf32> -> tensor<2x2x3x32xf32>
  %o, %s = attn.linear_attention none %q, %k, %v : tensor<2x2x3x32xf32>, tensor<2x2x3x32xf32>, tensor<2x2x3x32xf32> -> tensor<2x2x3x32xf32>, state tensor<2x2x32x32xf32>
  return %o, %s : tensor<2x2x3x32xf32>, tensor<2x2x32x32xf32>
}

// Constant decay per head, the longest call the kernel takes (16 tokens),
// state in but not out (the columns go through a task scratch); Dv = 176:
// 11 vectors, tasks of one.
// CHECK: la_constant_no_state_out {{.*}} PASS
func.func @la_constant_no_state_out(%q: tensor<1x2x16x16xf32>, %k: tensor<1x2x16x16xf32>, %v: tensor<1x2x16x176xf32>, %g: tensor<2xf32>, %s0: tensor<1x2x16x176xf32>)
    -> tensor<1x2x16x176xf32> {
  %o = attn.linear_attention constant %q, %k, %v gate(%g : tensor<2xf32>) state(%s0 : tensor<1x2x16x176xf32>) : tensor<1x2x16x16xf32>, tensor<1x2x16x16xf32>, tensor<1x2x16x176xf32> -> tensor<1x2x16x176xf32>
  return %o : tensor<1x2x16x176xf32>
}

// DeltaNet, l2norm, f16, one token; Dv = 96: tasks of 6 vectors.
// CHECK: dr_deltanet_f16_step {{.*}} PASS
// CHECK: dr_deltanet_f16_step {{.*}} PASS
func.func @dr_deltanet_f16_step(%q: tensor<2x3x1x64xf16>, %k: tensor<2x3x1x64xf16>, %v: tensor<2x3x1x96xf16>, %b: tensor<2x3x1xf32>, %s0: tensor<2x3x64x96xf32>)
    -> (tensor<2x3x1x96xf16>, tensor<2x3x64x96xf32>) {
  %o, %s = attn.delta_rule deltanet %q, %k, %v, %b : tensor<2x3x1xf32> state(%s0 : tensor<2x3x64x96xf32>) {l2norm} : tensor<2x3x1x64xf16>, tensor<2x3x1x64xf16>, tensor<2x3x1x96xf16> -> tensor<2x3x1x96xf16>, state tensor<2x3x64x96xf32>
  return %o, %s : tensor<2x3x1x96xf16>, tensor<2x3x64x96xf32>
}

// Gated DeltaNet, l2norm, scale, a 5-token draft, D = Dv = 128.
// CHECK: dr_gated_draft {{.*}} PASS
// CHECK: dr_gated_draft {{.*}} PASS
func.func @dr_gated_draft(%q: tensor<1x2x5x128xf32>, %k: tensor<1x2x5x128xf32>, %v: tensor<1x2x5x128xf32>, %b: tensor<1x2x5xf32>, %g: tensor<1x2x5xf32>, %s0: tensor<1x2x128x128xf32>)
    -> (tensor<1x2x5x128xf32>, tensor<1x2x128x128xf32>) {
  %o, %s = attn.delta_rule gated %q, %k, %v, %b : tensor<1x2x5xf32> gate(%g : tensor<1x2x5xf32>) state(%s0 : tensor<1x2x128x128xf32>) {l2norm, scale = 0.088} : tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32>, tensor<1x2x5x128xf32> -> tensor<1x2x5x128xf32>, state tensor<1x2x128x128xf32>
  return %o, %s : tensor<1x2x5x128xf32>, tensor<1x2x128x128xf32>
}

// KDA (rows decayed before the erase), no l2norm, 2 tokens; Dv = 48:
// tasks of 3 vectors.
// CHECK: dr_kda_two {{.*}} PASS
// CHECK: dr_kda_two {{.*}} PASS
func.func @dr_kda_two(%q: tensor<2x2x2x32xf32>, %k: tensor<2x2x2x32xf32>, %v: tensor<2x2x2x48xf32>, %b: tensor<2x2x2xf32>, %g: tensor<2x2x2x32xf32>, %s0: tensor<2x2x32x48xf32>)
    -> (tensor<2x2x2x48xf32>, tensor<2x2x32x48xf32>) {
  %o, %s = attn.delta_rule kda %q, %k, %v, %b : tensor<2x2x2xf32> gate(%g : tensor<2x2x2x32xf32>) state(%s0 : tensor<2x2x32x48xf32>) : tensor<2x2x2x32xf32>, tensor<2x2x2x32xf32>, tensor<2x2x2x48xf32> -> tensor<2x2x2x48xf32>, state tensor<2x2x32x48xf32>
  return %o, %s : tensor<2x2x2x48xf32>, tensor<2x2x32x48xf32>
}

// log_linear mamba2, one decode token at random positions per batch row
// (carries of every depth, some capped at the last of 6 levels).
// CHECK: ll_mamba2_step {{.*}} PASS
// CHECK: ll_mamba2_step {{.*}} PASS
func.func @ll_mamba2_step(%q: tensor<2x3x1x32xf32>, %k: tensor<2x3x1x32xf32>, %v: tensor<2x3x1x32xf32>, %lam: tensor<2x3x1x6xf32>, %g: tensor<2x3x1xf32>, %s0: tensor<2x3x6x32x32xf32>, %p: tensor<2xi32>)
    -> (tensor<2x3x1x32xf32>, tensor<2x3x6x32x32xf32>) {
  %o, %s = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<2x3x1x6xf32> gate(%g : tensor<2x3x1xf32>) state(%s0 : tensor<2x3x6x32x32xf32>) start(%p : tensor<2xi32>) {scale = 0.2} : tensor<2x3x1x32xf32>, tensor<2x3x1x32xf32>, tensor<2x3x1x32xf32> -> tensor<2x3x1x32xf32>, state tensor<2x3x6x32x32xf32>
  return %o, %s : tensor<2x3x1x32xf32>, tensor<2x3x6x32x32xf32>
}

// log_linear gated_deltanet, bf16, a 21-token chunk through 7 levels in
// place (the state result is the working buffer after token 0).
// CHECK: ll_gdn_chunk {{.*}} PASS
// CHECK: ll_gdn_chunk {{.*}} PASS
func.func @ll_gdn_chunk(%q: tensor<2x2x21x16xbf16>, %k: tensor<2x2x21x16xbf16>, %v: tensor<2x2x21x48xbf16>, %lam: tensor<2x2x21x7xf32>, %g: tensor<2x2x21xf32>, %b: tensor<2x2x21xf32>, %s0: tensor<2x2x7x16x48xf32>, %p: tensor<2xi32>)
    -> (tensor<2x2x21x48xbf16>, tensor<2x2x7x16x48xf32>) {
  %o, %s = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<2x2x21x7xf32> gate(%g : tensor<2x2x21xf32>) beta(%b : tensor<2x2x21xf32>) state(%s0 : tensor<2x2x7x16x48xf32>) start(%p : tensor<2xi32>) : tensor<2x2x21x16xbf16>, tensor<2x2x21x16xbf16>, tensor<2x2x21x48xbf16> -> tensor<2x2x21x48xbf16>, state tensor<2x2x7x16x48xf32>
  return %o, %s : tensor<2x2x21x48xbf16>, tensor<2x2x7x16x48xf32>
}

// log_linear on plain linear attention from position 0 with no state in
// (the streaming form through its state result alone), 9 tokens, 5 levels.
// CHECK: ll_linear_from_zero {{.*}} PASS
// CHECK: ll_linear_from_zero {{.*}} PASS
func.func @ll_linear_from_zero(%q: tensor<1x3x9x32xf32>, %k: tensor<1x3x9x32xf32>, %v: tensor<1x3x9x64xf32>, %lam: tensor<1x3x9x5xf32>)
    -> (tensor<1x3x9x64xf32>, tensor<1x3x5x32x64xf32>) {
  %o, %s = attn.log_linear linear %q, %k, %v, %lam : tensor<1x3x9x5xf32> : tensor<1x3x9x32xf32>, tensor<1x3x9x32xf32>, tensor<1x3x9x64xf32> -> tensor<1x3x9x64xf32>, state tensor<1x3x5x32x64xf32>
  return %o, %s : tensor<1x3x9x64xf32>, tensor<1x3x5x32x64xf32>
}

// log_linear mamba2, a state in but no state out, 3 tokens.
// CHECK: ll_mamba2_no_state_out {{.*}} PASS
func.func @ll_mamba2_no_state_out(%q: tensor<1x2x3x16xf16>, %k: tensor<1x2x3x16xf16>, %v: tensor<1x2x3x16xf16>, %lam: tensor<1x2x3x4xf32>, %g: tensor<1x2x3xf32>, %s0: tensor<1x2x4x16x16xf32>, %p: tensor<1xi32>)
    -> tensor<1x2x3x16xf16> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x3x4xf32> gate(%g : tensor<1x2x3xf32>) state(%s0 : tensor<1x2x4x16x16xf32>) start(%p : tensor<1xi32>) : tensor<1x2x3x16xf16>, tensor<1x2x3x16xf16>, tensor<1x2x3x16xf16> -> tensor<1x2x3x16xf16>
  return %o : tensor<1x2x3x16xf16>
}

// Shapes of the CUDA step kernel of log_linear (passes/Gpu/RecurrentStepGpu.cpp,
// Dv a multiple of 32): gated_deltanet over a 19-token chunk with D = Dv =
// 64 in bf16, and one mamba2 token without a state result (D = 48: 6
// rows a GPU thread).
// CHECK: ll_gdn_chunk_d64 {{.*}} PASS
// CHECK: ll_gdn_chunk_d64 {{.*}} PASS
func.func @ll_gdn_chunk_d64(%q: tensor<2x2x19x64xbf16>, %k: tensor<2x2x19x64xbf16>, %v: tensor<2x2x19x64xbf16>, %lam: tensor<2x2x19x7xf32>, %g: tensor<2x2x19xf32>, %b: tensor<2x2x19xf32>, %s0: tensor<2x2x7x64x64xf32>, %p: tensor<2xi32>)
    -> (tensor<2x2x19x64xbf16>, tensor<2x2x7x64x64xf32>) {
  %o, %s = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<2x2x19x7xf32> gate(%g : tensor<2x2x19xf32>) beta(%b : tensor<2x2x19xf32>) state(%s0 : tensor<2x2x7x64x64xf32>) start(%p : tensor<2xi32>) {scale = 0.125} : tensor<2x2x19x64xbf16>, tensor<2x2x19x64xbf16>, tensor<2x2x19x64xbf16> -> tensor<2x2x19x64xbf16>, state tensor<2x2x7x64x64xf32>
  return %o, %s : tensor<2x2x19x64xbf16>, tensor<2x2x7x64x64xf32>
}

// CHECK: ll_mamba2_d48_no_state_out {{.*}} PASS
func.func @ll_mamba2_d48_no_state_out(%q: tensor<3x2x1x48xf32>, %k: tensor<3x2x1x48xf32>, %v: tensor<3x2x1x32xf32>, %lam: tensor<3x2x1x5xf32>, %g: tensor<3x2x1xf32>, %s0: tensor<3x2x5x48x32xf32>, %p: tensor<3xi32>)
    -> tensor<3x2x1x32xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<3x2x1x5xf32> gate(%g : tensor<3x2x1xf32>) state(%s0 : tensor<3x2x5x48x32xf32>) start(%p : tensor<3xi32>) : tensor<3x2x1x48xf32>, tensor<3x2x1x48xf32>, tensor<3x2x1x32xf32> -> tensor<3x2x1x32xf32>
  return %o : tensor<3x2x1x32xf32>
}
