// The one-pass CPU kernel of attn.lolcats_hybrid (passes/Tile/LolcatsHybridCpu.cpp)
// against the fp64 reference on random inputs: sliding and terrace windows
// of 16, 32, 64 and 128 keys, one short block (L = 5), exactly one block
// (L = 64) and one key past it (L = 65), ragged last blocks (L = 77, 100,
// 150, 200, 300, 333), Dv != D, B and H > 1, f16 and bf16. Features come
// from attn.feature_map (hedgehog or elu+1), positive as in a model. D, Dv,
// F and the window are multiples of 16 (the kernel's rule, window <= 128);
// lolcats-hybrid.mlir keeps the other shapes on the naive path.
// RUN: attn-run %s --random --seed 51 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 52 --check | FileCheck %s
// A kernel whose outputs are off by 1e-3 fails the same check.
// RUN: not attn-run %s --entry lc_sliding_w64_l333 --random --seed 51 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// The op really takes the one-pass kernel: no [L, L] weights are built.
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR

// CHECK-NOT: FAIL
// BROKEN: lc_sliding_w64_l333 {{.*}} FAIL
// IR-NOT: attn.lolcats_hybrid
// IR: vector.reduction <maximumf>
// IR-NOT: attn.lolcats_hybrid

// CHECK: lc_sliding_w16_l100 {{.*}} PASS
func.func @lc_sliding_w16_l100(%q: tensor<2x2x100x32xf32>, %k: tensor<2x2x100x32xf32>, %v: tensor<2x2x100x48xf32>, %w: tensor<2x32x16xf32>, %gam: tensor<2xf32>) -> tensor<2x2x100x48xf32> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<2x32x16xf32>) : tensor<2x2x100x32xf32> -> tensor<2x2x100x32xf32>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<2x32x16xf32>) : tensor<2x2x100x32xf32> -> tensor<2x2x100x32xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<2x2x100x32xf32>) gamma(%gam : tensor<2xf32>) {window = 16} : tensor<2x2x100x32xf32>, tensor<2x2x100x32xf32>, tensor<2x2x100x48xf32> -> tensor<2x2x100x48xf32>
  return %o : tensor<2x2x100x48xf32>
}

// CHECK: lc_sliding_w64_l333 {{.*}} PASS
func.func @lc_sliding_w64_l333(%q: tensor<1x2x333x64xf32>, %k: tensor<1x2x333x64xf32>, %v: tensor<1x2x333x64xf32>, %gam: tensor<2xf32>) -> tensor<1x2x333x64xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x333x64xf32> -> tensor<1x2x333x64xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x333x64xf32> -> tensor<1x2x333x64xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x333x64xf32>) gamma(%gam : tensor<2xf32>) {window = 64, scale = 0.1} : tensor<1x2x333x64xf32>, tensor<1x2x333x64xf32>, tensor<1x2x333x64xf32> -> tensor<1x2x333x64xf32>
  return %o : tensor<1x2x333x64xf32>
}

// CHECK: lc_sliding_w128_l300 {{.*}} PASS
func.func @lc_sliding_w128_l300(%q: tensor<1x1x300x32xf32>, %k: tensor<1x1x300x32xf32>, %v: tensor<1x1x300x16xf32>, %w: tensor<1x32x32xf32>, %gam: tensor<1xf32>) -> tensor<1x1x300x16xf32> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<1x32x32xf32>) : tensor<1x1x300x32xf32> -> tensor<1x1x300x64xf32>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<1x32x32xf32>) : tensor<1x1x300x32xf32> -> tensor<1x1x300x64xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x1x300x64xf32>) gamma(%gam : tensor<1xf32>) {window = 128} : tensor<1x1x300x32xf32>, tensor<1x1x300x32xf32>, tensor<1x1x300x16xf32> -> tensor<1x1x300x16xf32>
  return %o : tensor<1x1x300x16xf32>
}

// CHECK: lc_sliding_l5 {{.*}} PASS
func.func @lc_sliding_l5(%q: tensor<1x3x5x16xf32>, %k: tensor<1x3x5x16xf32>, %v: tensor<1x3x5x16xf32>, %gam: tensor<3xf32>) -> tensor<1x3x5x16xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x3x5x16xf32> -> tensor<1x3x5x16xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x3x5x16xf32> -> tensor<1x3x5x16xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x3x5x16xf32>) gamma(%gam : tensor<3xf32>) {window = 64} : tensor<1x3x5x16xf32>, tensor<1x3x5x16xf32>, tensor<1x3x5x16xf32> -> tensor<1x3x5x16xf32>
  return %o : tensor<1x3x5x16xf32>
}

// CHECK: lc_terrace_w32_l150 {{.*}} PASS
func.func @lc_terrace_w32_l150(%q: tensor<1x2x150x16xf32>, %k: tensor<1x2x150x16xf32>, %v: tensor<1x2x150x32xf32>, %gam: tensor<2xf32>) -> tensor<1x2x150x32xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x150x16xf32> -> tensor<1x2x150x16xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x150x16xf32> -> tensor<1x2x150x16xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x150x16xf32>) gamma(%gam : tensor<2xf32>) mode terrace {window = 32} : tensor<1x2x150x16xf32>, tensor<1x2x150x16xf32>, tensor<1x2x150x32xf32> -> tensor<1x2x150x32xf32>
  return %o : tensor<1x2x150x32xf32>
}

// CHECK: lc_terrace_w64_l64 {{.*}} PASS
func.func @lc_terrace_w64_l64(%q: tensor<2x1x64x32xf32>, %k: tensor<2x1x64x32xf32>, %v: tensor<2x1x64x32xf32>, %w: tensor<1x32x16xf32>, %gam: tensor<1xf32>) -> tensor<2x1x64x32xf32> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<1x32x16xf32>) : tensor<2x1x64x32xf32> -> tensor<2x1x64x32xf32>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<1x32x16xf32>) : tensor<2x1x64x32xf32> -> tensor<2x1x64x32xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<2x1x64x32xf32>) gamma(%gam : tensor<1xf32>) mode terrace {window = 64} : tensor<2x1x64x32xf32>, tensor<2x1x64x32xf32>, tensor<2x1x64x32xf32> -> tensor<2x1x64x32xf32>
  return %o : tensor<2x1x64x32xf32>
}

// CHECK: lc_terrace_w64_l65 {{.*}} PASS
func.func @lc_terrace_w64_l65(%q: tensor<1x2x65x32xf32>, %k: tensor<1x2x65x32xf32>, %v: tensor<1x2x65x32xf32>, %w: tensor<2x32x16xf32>, %gam: tensor<2xf32>) -> tensor<1x2x65x32xf32> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<2x32x16xf32>) : tensor<1x2x65x32xf32> -> tensor<1x2x65x32xf32>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<2x32x16xf32>) : tensor<1x2x65x32xf32> -> tensor<1x2x65x32xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x65x32xf32>) gamma(%gam : tensor<2xf32>) mode terrace {window = 64, scale = 0.3} : tensor<1x2x65x32xf32>, tensor<1x2x65x32xf32>, tensor<1x2x65x32xf32> -> tensor<1x2x65x32xf32>
  return %o : tensor<1x2x65x32xf32>
}

// CHECK: lc_sliding_bf16 {{.*}} bf16 {{.*}} PASS
func.func @lc_sliding_bf16(%q: tensor<1x2x200x64xbf16>, %k: tensor<1x2x200x64xbf16>, %v: tensor<1x2x200x32xbf16>, %gam: tensor<2xf32>) -> tensor<1x2x200x32xbf16> {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x200x64xbf16> -> tensor<1x2x200x64xbf16>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x200x64xbf16> -> tensor<1x2x200x64xbf16>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x200x64xbf16>) gamma(%gam : tensor<2xf32>) {window = 64} : tensor<1x2x200x64xbf16>, tensor<1x2x200x64xbf16>, tensor<1x2x200x32xbf16> -> tensor<1x2x200x32xbf16>
  return %o : tensor<1x2x200x32xbf16>
}

// CHECK: lc_terrace_f16 {{.*}} f16 {{.*}} PASS
func.func @lc_terrace_f16(%q: tensor<1x2x77x32xf16>, %k: tensor<1x2x77x32xf16>, %v: tensor<1x2x77x16xf16>, %w: tensor<2x32x16xf16>, %gam: tensor<2xf32>) -> tensor<1x2x77x16xf16> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<2x32x16xf16>) : tensor<1x2x77x32xf16> -> tensor<1x2x77x32xf16>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<2x32x16xf16>) : tensor<1x2x77x32xf16> -> tensor<1x2x77x32xf16>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x77x32xf16>) gamma(%gam : tensor<2xf32>) mode terrace {window = 16} : tensor<1x2x77x32xf16>, tensor<1x2x77x32xf16>, tensor<1x2x77x16xf16> -> tensor<1x2x77x16xf16>
  return %o : tensor<1x2x77x16xf16>
}
