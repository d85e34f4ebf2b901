// attn.log_linear compiled for the CPU and checked against the fp64
// reference on random inputs: the linear and mamba2 bases (quadratic
// Fenwick-level formula) and the gated_deltanet base (per-level recurrence
// with binary carries), at L = 1, a power of two (L = 16, the top level
// full) and lengths that are not (L = 17, L = 37), D = 96, Dv != D, f32,
// f16 and bf16. lambda has ceil(log2 L) + 1 levels: 1 (L = 1), 5 (L = 16),
// 6 (L = 17), 7 (L = 37).
// RUN: attn-run %s --random --seed 12 --check | FileCheck %s
// RUN: attn-run %s --random --seed 13 --check | FileCheck %s

// CHECK-NOT: FAIL

// linear base, L = 37, D = 96, Dv = 40.
// CHECK: ll_linear_l37_d96 {{.*}} PASS
func.func @ll_linear_l37_d96(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %lam: tensor<1x2x37x7xf32>) -> tensor<1x2x37x40xf32> {
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x37x7xf32> : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>
  return %o : tensor<1x2x37x40xf32>
}

// linear base, one token (one level).
// CHECK: ll_linear_l1 {{.*}} PASS
func.func @ll_linear_l1(%q: tensor<2x2x1x16xf32>, %k: tensor<2x2x1x16xf32>, %v: tensor<2x2x1x8xf32>, %lam: tensor<2x2x1x1xf32>) -> tensor<2x2x1x8xf32> {
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<2x2x1x1xf32> : tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>, tensor<2x2x1x8xf32> -> tensor<2x2x1x8xf32>
  return %o : tensor<2x2x1x8xf32>
}

// mamba2 base, L = 37, D = 96, scale 0.125.
// CHECK: ll_mamba2_l37_d96 {{.*}} PASS
func.func @ll_mamba2_l37_d96(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %lam: tensor<1x2x37x7xf32>, %g: tensor<1x2x37xf32>) -> tensor<1x2x37x40xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x37x7xf32> gate(%g : tensor<1x2x37xf32>) {scale = 0.125} : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>
  return %o : tensor<1x2x37x40xf32>
}

// mamba2 base, L = 16 (a power of two), B = 2, H = 3.
// CHECK: ll_mamba2_l16 {{.*}} PASS
func.func @ll_mamba2_l16(%q: tensor<2x3x16x8xf32>, %k: tensor<2x3x16x8xf32>, %v: tensor<2x3x16x12xf32>, %lam: tensor<2x3x16x5xf32>, %g: tensor<2x3x16xf32>) -> tensor<2x3x16x12xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<2x3x16x5xf32> gate(%g : tensor<2x3x16xf32>) : tensor<2x3x16x8xf32>, tensor<2x3x16x8xf32>, tensor<2x3x16x12xf32> -> tensor<2x3x16x12xf32>
  return %o : tensor<2x3x16x12xf32>
}

// mamba2 base, one token.
// CHECK: ll_mamba2_l1 {{.*}} PASS
func.func @ll_mamba2_l1(%q: tensor<1x2x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x4xf32>, %lam: tensor<1x2x1x1xf32>, %g: tensor<1x2x1xf32>) -> tensor<1x2x1x4xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x1x1xf32> gate(%g : tensor<1x2x1xf32>) : tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x4xf32> -> tensor<1x2x1x4xf32>
  return %o : tensor<1x2x1x4xf32>
}

// gated_deltanet base, L = 37, D = 96, Dv = 40: 7 levels of [96, 40].
// CHECK: ll_gdn_l37_d96 {{.*}} PASS
func.func @ll_gdn_l37_d96(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %lam: tensor<1x2x37x7xf32>, %g: tensor<1x2x37xf32>, %b: tensor<1x2x37xf32>) -> tensor<1x2x37x40xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x37x7xf32> gate(%g : tensor<1x2x37xf32>) beta(%b : tensor<1x2x37xf32>) : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>
  return %o : tensor<1x2x37x40xf32>
}

// gated_deltanet base, L = 16 and L = 17 (one past a power of two: the
// carry into the top level happens at t = 16), scale 0.5.
// CHECK: ll_gdn_l16 {{.*}} PASS
func.func @ll_gdn_l16(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x8xf32>, %lam: tensor<1x2x16x5xf32>, %g: tensor<1x2x16xf32>, %b: tensor<1x2x16xf32>) -> tensor<1x2x16x8xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x16x5xf32> gate(%g : tensor<1x2x16xf32>) beta(%b : tensor<1x2x16xf32>) {scale = 0.5} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32> -> tensor<1x2x16x8xf32>
  return %o : tensor<1x2x16x8xf32>
}
// CHECK: ll_gdn_l17 {{.*}} PASS
func.func @ll_gdn_l17(%q: tensor<2x2x17x8xf32>, %k: tensor<2x2x17x8xf32>, %v: tensor<2x2x17x5xf32>, %lam: tensor<2x2x17x6xf32>, %g: tensor<2x2x17xf32>, %b: tensor<2x2x17xf32>) -> tensor<2x2x17x5xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<2x2x17x6xf32> gate(%g : tensor<2x2x17xf32>) beta(%b : tensor<2x2x17xf32>) {scale = 0.5} : tensor<2x2x17x8xf32>, tensor<2x2x17x8xf32>, tensor<2x2x17x5xf32> -> tensor<2x2x17x5xf32>
  return %o : tensor<2x2x17x5xf32>
}

// gated_deltanet base, one token (B = 1: the token slices are not
// rank-reduced, so constant offsets do not trip the slice canonicalisers).
// CHECK: ll_gdn_l1 {{.*}} PASS
func.func @ll_gdn_l1(%q: tensor<1x2x1x8xf32>, %k: tensor<1x2x1x8xf32>, %v: tensor<1x2x1x3xf32>, %lam: tensor<1x2x1x1xf32>, %g: tensor<1x2x1xf32>, %b: tensor<1x2x1xf32>) -> tensor<1x2x1x3xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x1x1xf32> gate(%g : tensor<1x2x1xf32>) beta(%b : tensor<1x2x1xf32>) : tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x3xf32> -> tensor<1x2x1x3xf32>
  return %o : tensor<1x2x1x3xf32>
}

// mamba2 on f16, L = 37.
// CHECK: ll_mamba2_f16 {{.*}} f16 {{.*}} PASS
func.func @ll_mamba2_f16(%q: tensor<1x2x37x64xf16>, %k: tensor<1x2x37x64xf16>, %v: tensor<1x2x37x32xf16>, %lam: tensor<1x2x37x7xf32>, %g: tensor<1x2x37xf32>) -> tensor<1x2x37x32xf16> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x37x7xf32> gate(%g : tensor<1x2x37xf32>) : tensor<1x2x37x64xf16>, tensor<1x2x37x64xf16>, tensor<1x2x37x32xf16> -> tensor<1x2x37x32xf16>
  return %o : tensor<1x2x37x32xf16>
}

// linear on bf16, L = 17.
// CHECK: ll_linear_bf16 {{.*}} bf16 {{.*}} PASS
func.func @ll_linear_bf16(%q: tensor<1x2x17x32xbf16>, %k: tensor<1x2x17x32xbf16>, %v: tensor<1x2x17x16xbf16>, %lam: tensor<1x2x17x6xf32>) -> tensor<1x2x17x16xbf16> {
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x17x6xf32> : tensor<1x2x17x32xbf16>, tensor<1x2x17x32xbf16>, tensor<1x2x17x16xbf16> -> tensor<1x2x17x16xbf16>
  return %o : tensor<1x2x17x16xbf16>
}

// gated_deltanet on bf16, L = 37.
// CHECK: ll_gdn_bf16 {{.*}} bf16 {{.*}} PASS
func.func @ll_gdn_bf16(%q: tensor<1x2x37x32xbf16>, %k: tensor<1x2x37x32xbf16>, %v: tensor<1x2x37x24xbf16>, %lam: tensor<1x2x37x7xf32>, %g: tensor<1x2x37xf32>, %b: tensor<1x2x37xf32>) -> tensor<1x2x37x24xbf16> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x37x7xf32> gate(%g : tensor<1x2x37xf32>) beta(%b : tensor<1x2x37xf32>) : tensor<1x2x37x32xbf16>, tensor<1x2x37x32xbf16>, tensor<1x2x37x24xbf16> -> tensor<1x2x37x24xbf16>
  return %o : tensor<1x2x37x24xbf16>
}

// The streaming form (decode through level states): states in and out and
// per-row start positions drawn up to 2^(NL-1), so some carries stay in the
// last level; every base runs the recurrent form. L = 3 with NL = 4; one
// decode token (L = 1) with NL = 6 and no state_in (zero states).
// CHECK: ll_stream_linear {{.*}} PASS
// CHECK: ll_stream_linear {{.*}} PASS
func.func @ll_stream_linear(%q: tensor<3x2x3x16xf32>, %k: tensor<3x2x3x16xf32>, %v: tensor<3x2x3x8xf32>, %lam: tensor<3x2x3x4xf32>, %s: tensor<3x2x4x16x8xf32>, %p: tensor<3xi32>) -> (tensor<3x2x3x8xf32>, tensor<3x2x4x16x8xf32>) {
  %o, %s1 = attn.log_linear linear %q, %k, %v, %lam : tensor<3x2x3x4xf32> state(%s : tensor<3x2x4x16x8xf32>) start(%p : tensor<3xi32>) : tensor<3x2x3x16xf32>, tensor<3x2x3x16xf32>, tensor<3x2x3x8xf32> -> tensor<3x2x3x8xf32>, state tensor<3x2x4x16x8xf32>
  return %o, %s1 : tensor<3x2x3x8xf32>, tensor<3x2x4x16x8xf32>
}

// CHECK: ll_stream_mamba2_decode {{.*}} PASS
// CHECK: ll_stream_mamba2_decode {{.*}} PASS
func.func @ll_stream_mamba2_decode(%q: tensor<2x3x1x8xf32>, %k: tensor<2x3x1x8xf32>, %v: tensor<2x3x1x8xf32>, %lam: tensor<2x3x1x6xf32>, %g: tensor<2x3x1xf32>, %p: tensor<2xi32>) -> (tensor<2x3x1x8xf32>, tensor<2x3x6x8x8xf32>) {
  %o, %s1 = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<2x3x1x6xf32> gate(%g : tensor<2x3x1xf32>) start(%p : tensor<2xi32>) : tensor<2x3x1x8xf32>, tensor<2x3x1x8xf32>, tensor<2x3x1x8xf32> -> tensor<2x3x1x8xf32>, state tensor<2x3x6x8x8xf32>
  return %o, %s1 : tensor<2x3x1x8xf32>, tensor<2x3x6x8x8xf32>
}

// CHECK: ll_stream_gdn {{.*}} PASS
// CHECK: ll_stream_gdn {{.*}} PASS
func.func @ll_stream_gdn(%q: tensor<1x2x5x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x16xf32>, %lam: tensor<1x2x5x5xf32>, %g: tensor<1x2x5xf32>, %b: tensor<1x2x5xf32>, %s: tensor<1x2x5x16x16xf32>, %p: tensor<1xi32>) -> (tensor<1x2x5x16xf32>, tensor<1x2x5x16x16xf32>) {
  %o, %s1 = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x5x5xf32> gate(%g : tensor<1x2x5xf32>) beta(%b : tensor<1x2x5xf32>) state(%s : tensor<1x2x5x16x16xf32>) start(%p : tensor<1xi32>) : tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32> -> tensor<1x2x5x16xf32>, state tensor<1x2x5x16x16xf32>
  return %o, %s1 : tensor<1x2x5x16xf32>, tensor<1x2x5x16x16xf32>
}
