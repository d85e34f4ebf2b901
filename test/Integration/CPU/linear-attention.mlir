// attn.linear_attention compiled for the CPU (the scf.for recurrence of its
// naive decomposition) and checked against the fp64 reference on random
// inputs: every decay kind, the normaliser, state and norm in and out,
// L = 1, L = 37, F = 96, Dv != F, f32, f16 and bf16. Normalised cases take
// q and k through attn.feature_map elu_plus_one, as a model would: the
// normaliser q.z is then positive, so the check measures the kernel rather
// than the conditioning of a near-zero denominator.
// RUN: attn-run %s --random --seed 7 --check | FileCheck %s
// RUN: attn-run %s --random --seed 8 --check | FileCheck %s
// A kernel whose outputs are off by 1e-3 must fail the same check.
// RUN: not attn-run %s --entry la_none_l37_f96 --random --seed 7 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN

// CHECK-NOT: FAIL
// BROKEN: la_none_l37_f96 {{.*}} FAIL

// decay none, F = 96 features, Dv = 40, the final state returned.
// CHECK: la_none_l37_f96 {{.*}} 1x2x37x40 {{.*}} PASS
// CHECK: la_none_l37_f96 {{.*}} 1x2x96x40 {{.*}} PASS
func.func @la_none_l37_f96(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>) -> (tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>) {
  %o, %s = attn.linear_attention none %q, %k, %v : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>, state tensor<1x2x96x40xf32>
  return %o, %s : tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>
}

// decay constant (one log-decay per head, H = 3), B = 2, state in and out, scale 0.25.
// CHECK: la_constant_state {{.*}} PASS
// CHECK: la_constant_state {{.*}} PASS
func.func @la_constant_state(%q: tensor<2x3x37x32xf32>, %k: tensor<2x3x37x32xf32>, %v: tensor<2x3x37x24xf32>, %g: tensor<3xf32>, %s0: tensor<2x3x32x24xf32>) -> (tensor<2x3x37x24xf32>, tensor<2x3x32x24xf32>) {
  %o, %s = attn.linear_attention constant %q, %k, %v gate(%g : tensor<3xf32>) state(%s0 : tensor<2x3x32x24xf32>) {scale = 0.25} : tensor<2x3x37x32xf32>, tensor<2x3x37x32xf32>, tensor<2x3x37x24xf32> -> tensor<2x3x37x24xf32>, state tensor<2x3x32x24xf32>
  return %o, %s : tensor<2x3x37x24xf32>, tensor<2x3x32x24xf32>
}

// decay scalar, a single token (decode step) from a carried state.
// CHECK: la_scalar_l1 {{.*}} PASS
// CHECK: la_scalar_l1 {{.*}} PASS
func.func @la_scalar_l1(%q: tensor<2x2x1x16xf32>, %k: tensor<2x2x1x16xf32>, %v: tensor<2x2x1x8xf32>, %g: tensor<2x2x1xf32>, %s0: tensor<2x2x16x8xf32>) -> (tensor<2x2x1x8xf32>, tensor<2x2x16x8xf32>) {
  %o, %s = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<2x2x1xf32>) state(%s0 : tensor<2x2x16x8xf32>) : tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>, tensor<2x2x1x8xf32> -> tensor<2x2x1x8xf32>, state tensor<2x2x16x8xf32>
  return %o, %s : tensor<2x2x1x8xf32>, tensor<2x2x16x8xf32>
}

// decay scalar over 37 tokens, no state.
// CHECK: la_scalar_l37 {{.*}} PASS
func.func @la_scalar_l37(%q: tensor<1x2x37x24xf32>, %k: tensor<1x2x37x24xf32>, %v: tensor<1x2x37x40xf32>, %g: tensor<1x2x37xf32>) -> tensor<1x2x37x40xf32> {
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x2x37xf32>) : tensor<1x2x37x24xf32>, tensor<1x2x37x24xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>
  return %o : tensor<1x2x37x40xf32>
}

// decay vector (one log-decay per feature row), F = 96, state in and out.
// CHECK: la_vector_f96_state {{.*}} PASS
// CHECK: la_vector_f96_state {{.*}} PASS
func.func @la_vector_f96_state(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %g: tensor<1x2x37x96xf32>, %s0: tensor<1x2x96x40xf32>) -> (tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>) {
  %o, %s = attn.linear_attention vector %q, %k, %v gate(%g : tensor<1x2x37x96xf32>) state(%s0 : tensor<1x2x96x40xf32>) : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>, state tensor<1x2x96x40xf32>
  return %o, %s : tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>
}

// Normalised (eps 1e-6), decay none, elu+1 features, first chunk: state and norm out.
// CHECK: la_normalized_none {{.*}} PASS
// CHECK: la_normalized_none {{.*}} PASS
// CHECK: la_normalized_none {{.*}} PASS
func.func @la_normalized_none(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>) -> (tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>, tensor<1x2x96xf32>) {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x37x96xf32> -> tensor<1x2x37x96xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x37x96xf32> -> tensor<1x2x37x96xf32>
  %o, %s, %z = attn.linear_attention none %fq, %fk, %v {normalize} : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>, state tensor<1x2x96x40xf32>, norm tensor<1x2x96xf32>
  return %o, %s, %z : tensor<1x2x37x40xf32>, tensor<1x2x96x40xf32>, tensor<1x2x96xf32>
}

// Normalised, decay vector, state and norm carried in and out, scale 0.5, eps 1e-4.
// CHECK: la_normalized_vector_carry {{.*}} PASS
// CHECK: la_normalized_vector_carry {{.*}} PASS
// CHECK: la_normalized_vector_carry {{.*}} PASS
func.func @la_normalized_vector_carry(%q: tensor<1x3x37x16xf32>, %k: tensor<1x3x37x16xf32>, %v: tensor<1x3x37x8xf32>, %g: tensor<1x3x37x16xf32>, %s0: tensor<1x3x16x8xf32>, %z0: tensor<1x3x16xf32>) -> (tensor<1x3x37x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16xf32>) {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x3x37x16xf32> -> tensor<1x3x37x16xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x3x37x16xf32> -> tensor<1x3x37x16xf32>
  %o, %s, %z = attn.linear_attention vector %fq, %fk, %v gate(%g : tensor<1x3x37x16xf32>) state(%s0 : tensor<1x3x16x8xf32>) norm(%z0 : tensor<1x3x16xf32>) {normalize, eps = 1.0e-4, scale = 0.5} : tensor<1x3x37x16xf32>, tensor<1x3x37x16xf32>, tensor<1x3x37x8xf32> -> tensor<1x3x37x8xf32>, state tensor<1x3x16x8xf32>, norm tensor<1x3x16xf32>
  return %o, %s, %z : tensor<1x3x37x8xf32>, tensor<1x3x16x8xf32>, tensor<1x3x16xf32>
}

// Normalised, decay constant, a single token.
// CHECK: la_normalized_constant_l1 {{.*}} PASS
func.func @la_normalized_constant_l1(%q: tensor<2x2x1x16xf32>, %k: tensor<2x2x1x16xf32>, %v: tensor<2x2x1x8xf32>, %g: tensor<2xf32>) -> tensor<2x2x1x8xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<2x2x1x16xf32> -> tensor<2x2x1x16xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<2x2x1x16xf32> -> tensor<2x2x1x16xf32>
  %o = attn.linear_attention constant %fq, %fk, %v gate(%g : tensor<2xf32>) {normalize} : tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>, tensor<2x2x1x8xf32> -> tensor<2x2x1x8xf32>
  return %o : tensor<2x2x1x8xf32>
}

// f16, decay vector, state out (the state stays f32).
// CHECK: la_vector_f16 {{.*}} f16 {{.*}} PASS
// CHECK: la_vector_f16 {{.*}} f32 {{.*}} PASS
func.func @la_vector_f16(%q: tensor<1x2x37x64xf16>, %k: tensor<1x2x37x64xf16>, %v: tensor<1x2x37x32xf16>, %g: tensor<1x2x37x64xf32>) -> (tensor<1x2x37x32xf16>, tensor<1x2x64x32xf32>) {
  %o, %s = attn.linear_attention vector %q, %k, %v gate(%g : tensor<1x2x37x64xf32>) : tensor<1x2x37x64xf16>, tensor<1x2x37x64xf16>, tensor<1x2x37x32xf16> -> tensor<1x2x37x32xf16>, state tensor<1x2x64x32xf32>
  return %o, %s : tensor<1x2x37x32xf16>, tensor<1x2x64x32xf32>
}

// bf16, normalised with elu+1 features, decay scalar.
// CHECK: la_normalized_scalar_bf16 {{.*}} bf16 {{.*}} PASS
func.func @la_normalized_scalar_bf16(%q: tensor<1x2x37x32xbf16>, %k: tensor<1x2x37x32xbf16>, %v: tensor<1x2x37x48xbf16>, %g: tensor<1x2x37xf32>) -> tensor<1x2x37x48xbf16> {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x37x32xbf16> -> tensor<1x2x37x32xbf16>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x37x32xbf16> -> tensor<1x2x37x32xbf16>
  %o = attn.linear_attention scalar %fq, %fk, %v gate(%g : tensor<1x2x37xf32>) {normalize} : tensor<1x2x37x32xbf16>, tensor<1x2x37x32xbf16>, tensor<1x2x37x48xbf16> -> tensor<1x2x37x48xbf16>
  return %o : tensor<1x2x37x48xbf16>
}
