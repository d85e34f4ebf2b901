// Linear attention and the delta rule with f16/bf16 operands at the shapes
// that the CUDA pipeline runs on tensor cores (passes/Gpu/ChunkwiseMmaGpu.cpp:
// no, constant or scalar decay, no normaliser, DeltaNet and Gated DeltaNet,
// D in {64, 128}, Dv a multiple of 32, more than one chunk; a state output
// only for linear attention without decay), against
// the fp64 reference of the token recurrence on random inputs. Here they
// check the CPU chunkwise kernel; bench/gpu/prepare.sh carries this file to
// the GPU sweep, where they check the tensor-core kernels: ragged last
// chunks (150 = 2 x 64 + 22, 129 = 2 x 64 + 1, 333), state in and out,
// Dv != D, B and H > 1.
// RUN: attn-run %s --random --seed 41 --check | FileCheck %s
// A kernel whose outputs are off by 1e-2 fails the same check.
// RUN: not attn-run %s --entry la_scalar_bf16_d128 --random --seed 41 --check --perturb-output 0.02 | FileCheck %s --check-prefix=BROKEN

// CHECK-NOT: FAIL
// BROKEN: la_scalar_bf16_d128 {{.*}} FAIL

// decay none, bf16, 150 tokens, state in and out (f32), scale 1/8.
// CHECK: la_none_bf16_state {{.*}} bf16 {{.*}} PASS
// CHECK: la_none_bf16_state {{.*}} f32 {{.*}} PASS
func.func @la_none_bf16_state(%q: tensor<2x3x150x64xbf16>, %k: tensor<2x3x150x64xbf16>, %v: tensor<2x3x150x64xbf16>, %s0: tensor<2x3x64x64xf32>) -> (tensor<2x3x150x64xbf16>, tensor<2x3x64x64xf32>) {
  %o, %s = attn.linear_attention none %q, %k, %v state(%s0 : tensor<2x3x64x64xf32>) {scale = 0.125} : tensor<2x3x150x64xbf16>, tensor<2x3x150x64xbf16>, tensor<2x3x150x64xbf16> -> tensor<2x3x150x64xbf16>, state tensor<2x3x64x64xf32>
  return %o, %s : tensor<2x3x150x64xbf16>, tensor<2x3x64x64xf32>
}

// decay scalar, bf16, D = Dv = 128, 333 tokens, state in.
// CHECK: la_scalar_bf16_d128 {{.*}} PASS
func.func @la_scalar_bf16_d128(%q: tensor<1x2x333x128xbf16>, %k: tensor<1x2x333x128xbf16>, %v: tensor<1x2x333x128xbf16>, %g: tensor<1x2x333xf32>, %s0: tensor<1x2x128x128xf32>) -> tensor<1x2x333x128xbf16> {
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x2x333xf32>) state(%s0 : tensor<1x2x128x128xf32>) {scale = 0.08838834764831845} : tensor<1x2x333x128xbf16>, tensor<1x2x333x128xbf16>, tensor<1x2x333x128xbf16> -> tensor<1x2x333x128xbf16>
  return %o : tensor<1x2x333x128xbf16>
}

// decay constant, f16, Dv = 96 != D = 64, 200 tokens.
// CHECK: la_constant_f16 {{.*}} PASS
func.func @la_constant_f16(%q: tensor<2x2x200x64xf16>, %k: tensor<2x2x200x64xf16>, %v: tensor<2x2x200x96xf16>, %g: tensor<2xf32>) -> tensor<2x2x200x96xf16> {
  %o = attn.linear_attention constant %q, %k, %v gate(%g : tensor<2xf32>) {scale = 0.125} : tensor<2x2x200x64xf16>, tensor<2x2x200x64xf16>, tensor<2x2x200x96xf16> -> tensor<2x2x200x96xf16>
  return %o : tensor<2x2x200x96xf16>
}

// decay scalar, bf16, D = 128, Dv = 32, 129 tokens (a last chunk of one).
// CHECK: la_scalar_bf16_dv32 {{.*}} PASS
func.func @la_scalar_bf16_dv32(%q: tensor<1x3x129x128xbf16>, %k: tensor<1x3x129x128xbf16>, %v: tensor<1x3x129x32xbf16>, %g: tensor<1x3x129xf32>) -> tensor<1x3x129x32xbf16> {
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x3x129xf32>) {scale = 0.08838834764831845} : tensor<1x3x129x128xbf16>, tensor<1x3x129x128xbf16>, tensor<1x3x129x32xbf16> -> tensor<1x3x129x32xbf16>
  return %o : tensor<1x3x129x32xbf16>
}

// Gated DeltaNet, bf16, l2norm, D = Dv = 128, 333 tokens, state in.
// CHECK: gdn_bf16_d128 {{.*}} PASS
func.func @gdn_bf16_d128(%q: tensor<1x2x333x128xbf16>, %k: tensor<1x2x333x128xbf16>, %v: tensor<1x2x333x128xbf16>, %b: tensor<1x2x333xf32>, %g: tensor<1x2x333xf32>, %s0: tensor<1x2x128x128xf32>) -> tensor<1x2x333x128xbf16> {
  %o = attn.delta_rule gated %q, %k, %v, %b : tensor<1x2x333xf32> gate(%g : tensor<1x2x333xf32>) state(%s0 : tensor<1x2x128x128xf32>) {l2norm, scale = 0.08838834764831845} : tensor<1x2x333x128xbf16>, tensor<1x2x333x128xbf16>, tensor<1x2x333x128xbf16> -> tensor<1x2x333x128xbf16>
  return %o : tensor<1x2x333x128xbf16>
}

// DeltaNet, f16, l2norm, Dv = 96 != D = 64, 150 tokens, B and H > 1.
// CHECK: deltanet_f16 {{.*}} PASS
func.func @deltanet_f16(%q: tensor<2x2x150x64xf16>, %k: tensor<2x2x150x64xf16>, %v: tensor<2x2x150x96xf16>, %b: tensor<2x2x150xf32>) -> tensor<2x2x150x96xf16> {
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<2x2x150xf32> {l2norm} : tensor<2x2x150x64xf16>, tensor<2x2x150x64xf16>, tensor<2x2x150x96xf16> -> tensor<2x2x150x96xf16>
  return %o : tensor<2x2x150x96xf16>
}

// Gated DeltaNet, bf16, q and k as given (no l2norm), Dv = 32, 129 tokens.
// CHECK: gdn_bf16_raw {{.*}} PASS
func.func @gdn_bf16_raw(%q: tensor<1x3x129x64xbf16>, %k: tensor<1x3x129x64xbf16>, %v: tensor<1x3x129x32xbf16>, %b: tensor<1x3x129xf32>, %g: tensor<1x3x129xf32>) -> tensor<1x3x129x32xbf16> {
  %o = attn.delta_rule gated %q, %k, %v, %b : tensor<1x3x129xf32> gate(%g : tensor<1x3x129xf32>) {scale = 0.125} : tensor<1x3x129x64xbf16>, tensor<1x3x129x64xbf16>, tensor<1x3x129x32xbf16> -> tensor<1x3x129x32xbf16>
  return %o : tensor<1x3x129x32xbf16>
}
