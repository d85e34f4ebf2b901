// attn.delta_rule compiled for the CPU (the scf.for recurrence of its naive
// decomposition) and checked against the fp64 reference on random inputs:
// deltanet, gated and kda, with and without l2norm and a carried state,
// L = 1, L = 37, D = 96, Dv != D, f32, f16 and bf16. attn-run draws keys of
// norm below 1 (beta |k|^2 < 2 keeps the recurrence bounded without l2norm).
// RUN: attn-run %s --random --seed 9 --check | FileCheck %s
// RUN: attn-run %s --random --seed 10 --check | FileCheck %s

// CHECK-NOT: FAIL

// DeltaNet, D = 96, Dv = 40, the final state returned.
// CHECK: dr_deltanet_d96 {{.*}} PASS
// CHECK: dr_deltanet_d96 {{.*}} PASS
func.func @dr_deltanet_d96(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %b: tensor<1x2x37xf32>) -> (tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>) {
  %o, %s = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x2x37xf32> : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>, state tensor<1x2x96x40xf32>
  return %o, %s : tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>
}

// DeltaNet with l2norm, scale 1/sqrt(96) and a state in and out.
// CHECK: dr_deltanet_l2norm_state {{.*}} PASS
// CHECK: dr_deltanet_l2norm_state {{.*}} PASS
func.func @dr_deltanet_l2norm_state(%q: tensor<2x2x37x96xf32>, %k: tensor<2x2x37x96xf32>, %v: tensor<2x2x37x40xf32>, %b: tensor<2x2x37xf32>, %s0: tensor<2x2x96x40xf32>) -> (tensor<2x2x37x40xf32>, tensor<2x2x96x40xf32>) {
  %o, %s = attn.delta_rule deltanet %q, %k, %v, %b : tensor<2x2x37xf32> state(%s0 : tensor<2x2x96x40xf32>) {l2norm, scale = 0.10206207261596575} : tensor<2x2x37x96xf32>, tensor<2x2x37x96xf32>, tensor<2x2x37x40xf32> -> tensor<2x2x37x40xf32>, state tensor<2x2x96x40xf32>
  return %o, %s : tensor<2x2x37x40xf32>, tensor<2x2x96x40xf32>
}

// DeltaNet, one token (decode step).
// CHECK: dr_deltanet_l1 {{.*}} PASS
func.func @dr_deltanet_l1(%q: tensor<1x3x1x16xf32>, %k: tensor<1x3x1x16xf32>, %v: tensor<1x3x1x8xf32>, %b: tensor<1x3x1xf32>, %s0: tensor<1x3x16x8xf32>) -> tensor<1x3x1x8xf32> {
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<1x3x1xf32> state(%s0 : tensor<1x3x16x8xf32>) : tensor<1x3x1x16xf32>, tensor<1x3x1x16xf32>, tensor<1x3x1x8xf32> -> tensor<1x3x1x8xf32>
  return %o : tensor<1x3x1x8xf32>
}

// Gated DeltaNet, D = 96, state out.
// CHECK: dr_gated_d96 {{.*}} PASS
// CHECK: dr_gated_d96 {{.*}} PASS
func.func @dr_gated_d96(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %b: tensor<1x2x37xf32>, %g: tensor<1x2x37xf32>) -> (tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>) {
  %o, %s = attn.delta_rule gated %q, %k, %v, %b : tensor<1x2x37xf32> gate(%g : tensor<1x2x37xf32>) : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>, state tensor<1x2x96x40xf32>
  return %o, %s : tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>
}

// Gated DeltaNet, l2norm, one token from a carried state, state out.
// CHECK: dr_gated_l1_state {{.*}} PASS
// CHECK: dr_gated_l1_state {{.*}} PASS
func.func @dr_gated_l1_state(%q: tensor<2x2x1x32xf32>, %k: tensor<2x2x1x32xf32>, %v: tensor<2x2x1x16xf32>, %b: tensor<2x2x1xf32>, %g: tensor<2x2x1xf32>, %s0: tensor<2x2x32x16xf32>) -> (tensor<2x2x1x16xf32>, tensor<2x2x32x16xf32>) {
  %o, %s = attn.delta_rule gated %q, %k, %v, %b : tensor<2x2x1xf32> gate(%g : tensor<2x2x1xf32>) state(%s0 : tensor<2x2x32x16xf32>) {l2norm} : tensor<2x2x1x32xf32>, tensor<2x2x1x32xf32>, tensor<2x2x1x16xf32> -> tensor<2x2x1x16xf32>, state tensor<2x2x32x16xf32>
  return %o, %s : tensor<2x2x1x16xf32>, tensor<2x2x32x16xf32>
}

// KDA (per-channel gate [B,H,L,D]), D = 96, state in and out.
// CHECK: dr_kda_d96_state {{.*}} PASS
// CHECK: dr_kda_d96_state {{.*}} PASS
func.func @dr_kda_d96_state(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %b: tensor<1x2x37xf32>, %g: tensor<1x2x37x96xf32>, %s0: tensor<1x2x96x40xf32>) -> (tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>) {
  %o, %s = attn.delta_rule kda %q, %k, %v, %b : tensor<1x2x37xf32> gate(%g : tensor<1x2x37x96xf32>) state(%s0 : tensor<1x2x96x40xf32>) : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>, state tensor<1x2x96x40xf32>
  return %o, %s : tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>
}

// KDA with l2norm and scale 0.3, one token.
// CHECK: dr_kda_l2norm_l1 {{.*}} PASS
func.func @dr_kda_l2norm_l1(%q: tensor<1x2x1x24xf32>, %k: tensor<1x2x1x24xf32>, %v: tensor<1x2x1x12xf32>, %b: tensor<1x2x1xf32>, %g: tensor<1x2x1x24xf32>) -> tensor<1x2x1x12xf32> {
  %o = attn.delta_rule kda %q, %k, %v, %b : tensor<1x2x1xf32> gate(%g : tensor<1x2x1x24xf32>) {l2norm, scale = 0.3} : tensor<1x2x1x24xf32>, tensor<1x2x1x24xf32>, tensor<1x2x1x12xf32> -> tensor<1x2x1x12xf32>
  return %o : tensor<1x2x1x12xf32>
}

// Gated DeltaNet on f16 with l2norm; the state stays f32.
// CHECK: dr_gated_f16 {{.*}} f16 {{.*}} PASS
// CHECK: dr_gated_f16 {{.*}} f32 {{.*}} PASS
func.func @dr_gated_f16(%q: tensor<1x4x37x64xf16>, %k: tensor<1x4x37x64xf16>, %v: tensor<1x4x37x32xf16>, %b: tensor<1x4x37xf32>, %g: tensor<1x4x37xf32>) -> (tensor<1x4x37x32xf16>, tensor<1x4x64x32xf32>) {
  %o, %s = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x37xf32> gate(%g : tensor<1x4x37xf32>) {l2norm} : tensor<1x4x37x64xf16>, tensor<1x4x37x64xf16>, tensor<1x4x37x32xf16> -> tensor<1x4x37x32xf16>, state tensor<1x4x64x32xf32>
  return %o, %s : tensor<1x4x37x32xf16>, tensor<1x4x64x32xf32>
}

// KDA on bf16, state in.
// CHECK: dr_kda_bf16 {{.*}} bf16 {{.*}} PASS
func.func @dr_kda_bf16(%q: tensor<2x2x37x32xbf16>, %k: tensor<2x2x37x32xbf16>, %v: tensor<2x2x37x48xbf16>, %b: tensor<2x2x37xf32>, %g: tensor<2x2x37x32xf32>, %s0: tensor<2x2x32x48xf32>) -> tensor<2x2x37x48xbf16> {
  %o = attn.delta_rule kda %q, %k, %v, %b : tensor<2x2x37xf32> gate(%g : tensor<2x2x37x32xf32>) state(%s0 : tensor<2x2x32x48xf32>) : tensor<2x2x37x32xbf16>, tensor<2x2x37x32xbf16>, tensor<2x2x37x48xbf16> -> tensor<2x2x37x48xbf16>
  return %o : tensor<2x2x37x48xbf16>
}
