// attn.lolcats_hybrid compiled for the CPU (the quadratic form of its naive
// decomposition) and checked against the fp64 reference on random inputs:
// sliding and terrace windows of 1 key, a few keys, exactly L and more than
// L, L = 1, L = 37, D = 96, Dv != D, f32, f16 and bf16. The features come
// from attn.feature_map (hedgehog as in LoLCATs, or elu+1) inside each
// function, so the shared normaliser is positive, as it is in a model.
// RUN: attn-run %s --random --seed 14 --check | FileCheck %s
// RUN: attn-run %s --random --seed 15 --check | FileCheck %s

// CHECK-NOT: FAIL

// Sliding window of 1 key (only the query's own key is softmax, every older
// key is linear), hedgehog features F = 2 * 16, D = 96, Dv = 40.
// CHECK: lc_sliding_w1_d96 {{.*}} PASS
func.func @lc_sliding_w1_d96(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %w: tensor<2x96x16xf32>, %gam: tensor<2xf32>) -> tensor<1x2x37x40xf32> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<2x96x16xf32>) : tensor<1x2x37x96xf32> -> tensor<1x2x37x32xf32>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<2x96x16xf32>) : tensor<1x2x37x96xf32> -> tensor<1x2x37x32xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x37x32xf32>) gamma(%gam : tensor<2xf32>) {window = 1} : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>
  return %o : tensor<1x2x37x40xf32>
}

// Sliding window of 8 keys with scale 0.2, elu+1 features F = D = 24.
// CHECK: lc_sliding_w8 {{.*}} PASS
func.func @lc_sliding_w8(%q: tensor<2x3x37x24xf32>, %k: tensor<2x3x37x24xf32>, %v: tensor<2x3x37x16xf32>, %gam: tensor<3xf32>) -> tensor<2x3x37x16xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<2x3x37x24xf32> -> tensor<2x3x37x24xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<2x3x37x24xf32> -> tensor<2x3x37x24xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<2x3x37x24xf32>) gamma(%gam : tensor<3xf32>) {window = 8, scale = 0.2} : tensor<2x3x37x24xf32>, tensor<2x3x37x24xf32>, tensor<2x3x37x16xf32> -> tensor<2x3x37x16xf32>
  return %o : tensor<2x3x37x16xf32>
}

// Sliding window of 64 >= L = 37: no key is ever linear (plain causal
// softmax, gamma cancels).
// CHECK: lc_sliding_w64 {{.*}} PASS
func.func @lc_sliding_w64(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %gam: tensor<2xf32>) -> tensor<1x2x37x40xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x37x96xf32> -> tensor<1x2x37x96xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x37x96xf32> -> tensor<1x2x37x96xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x37x96xf32>) gamma(%gam : tensor<2xf32>) : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>
  return %o : tensor<1x2x37x40xf32>
}

// Terrace window of 1: the previous 1-block plus the query itself.
// CHECK: lc_terrace_w1 {{.*}} PASS
func.func @lc_terrace_w1(%q: tensor<1x2x37x32xf32>, %k: tensor<1x2x37x32xf32>, %v: tensor<1x2x37x20xf32>, %w: tensor<2x32x8xf32>, %gam: tensor<2xf32>) -> tensor<1x2x37x20xf32> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<2x32x8xf32>) : tensor<1x2x37x32xf32> -> tensor<1x2x37x16xf32>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<2x32x8xf32>) : tensor<1x2x37x32xf32> -> tensor<1x2x37x16xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x37x16xf32>) gamma(%gam : tensor<2xf32>) mode terrace {window = 1} : tensor<1x2x37x32xf32>, tensor<1x2x37x32xf32>, tensor<1x2x37x20xf32> -> tensor<1x2x37x20xf32>
  return %o : tensor<1x2x37x20xf32>
}

// Terrace window of 5 (37 is not a multiple: the last block is ragged), D = 96.
// CHECK: lc_terrace_w5_d96 {{.*}} PASS
func.func @lc_terrace_w5_d96(%q: tensor<1x2x37x96xf32>, %k: tensor<1x2x37x96xf32>, %v: tensor<1x2x37x40xf32>, %w: tensor<2x96x24xf32>, %gam: tensor<2xf32>) -> tensor<1x2x37x40xf32> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<2x96x24xf32>) : tensor<1x2x37x96xf32> -> tensor<1x2x37x48xf32>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<2x96x24xf32>) : tensor<1x2x37x96xf32> -> tensor<1x2x37x48xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x37x48xf32>) gamma(%gam : tensor<2xf32>) mode terrace {window = 5} : tensor<1x2x37x96xf32>, tensor<1x2x37x96xf32>, tensor<1x2x37x40xf32> -> tensor<1x2x37x40xf32>
  return %o : tensor<1x2x37x40xf32>
}

// Terrace window of exactly L = 37: one block, no key is ever linear.
// CHECK: lc_terrace_w37 {{.*}} PASS
func.func @lc_terrace_w37(%q: tensor<1x2x37x16xf32>, %k: tensor<1x2x37x16xf32>, %v: tensor<1x2x37x8xf32>, %gam: tensor<2xf32>) -> tensor<1x2x37x8xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x37x16xf32> -> tensor<1x2x37x16xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x37x16xf32> -> tensor<1x2x37x16xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x37x16xf32>) gamma(%gam : tensor<2xf32>) mode terrace {window = 37} : tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>, tensor<1x2x37x8xf32> -> tensor<1x2x37x8xf32>
  return %o : tensor<1x2x37x8xf32>
}

// One token: out = v whatever the window.
// CHECK: lc_sliding_l1 {{.*}} PASS
func.func @lc_sliding_l1(%q: tensor<2x2x1x16xf32>, %k: tensor<2x2x1x16xf32>, %v: tensor<2x2x1x8xf32>, %gam: tensor<2xf32>) -> tensor<2x2x1x8xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<2x2x1x16xf32> -> tensor<2x2x1x16xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<2x2x1x16xf32> -> tensor<2x2x1x16xf32>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<2x2x1x16xf32>) gamma(%gam : tensor<2xf32>) {window = 4} : tensor<2x2x1x16xf32>, tensor<2x2x1x16xf32>, tensor<2x2x1x8xf32> -> tensor<2x2x1x8xf32>
  return %o : tensor<2x2x1x8xf32>
}

// f16, sliding window of 6, hedgehog features.
// CHECK: lc_sliding_f16 {{.*}} f16 {{.*}} PASS
func.func @lc_sliding_f16(%q: tensor<1x2x37x64xf16>, %k: tensor<1x2x37x64xf16>, %v: tensor<1x2x37x32xf16>, %w: tensor<2x64x16xf16>, %gam: tensor<2xf32>) -> tensor<1x2x37x32xf16> {
  %fq = attn.feature_map hedgehog %q weight(%w : tensor<2x64x16xf16>) : tensor<1x2x37x64xf16> -> tensor<1x2x37x32xf16>
  %fk = attn.feature_map hedgehog %k weight(%w : tensor<2x64x16xf16>) : tensor<1x2x37x64xf16> -> tensor<1x2x37x32xf16>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x37x32xf16>) gamma(%gam : tensor<2xf32>) {window = 6} : tensor<1x2x37x64xf16>, tensor<1x2x37x64xf16>, tensor<1x2x37x32xf16> -> tensor<1x2x37x32xf16>
  return %o : tensor<1x2x37x32xf16>
}

// bf16, terrace window of 4, elu+1 features.
// CHECK: lc_terrace_bf16 {{.*}} bf16 {{.*}} PASS
func.func @lc_terrace_bf16(%q: tensor<1x2x37x32xbf16>, %k: tensor<1x2x37x32xbf16>, %v: tensor<1x2x37x24xbf16>, %gam: tensor<2xf32>) -> tensor<1x2x37x24xbf16> {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x37x32xbf16> -> tensor<1x2x37x32xbf16>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x37x32xbf16> -> tensor<1x2x37x32xbf16>
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x37x32xbf16>) gamma(%gam : tensor<2xf32>) mode terrace {window = 4} : tensor<1x2x37x32xbf16>, tensor<1x2x37x32xbf16>, tensor<1x2x37x24xbf16> -> tensor<1x2x37x24xbf16>
  return %o : tensor<1x2x37x24xbf16>
}

// One decode step over the streaming state (attn.lolcats_decode): random
// ring contents, linear terms and positions before, inside and past the
// first window (evictions, wrapped slots), the updated state checked too.
// CHECK: lolcats_decode_step {{.*}} PASS
// CHECK: lolcats_decode_step {{.*}} PASS
// CHECK: lolcats_decode_step {{.*}} PASS
// CHECK: lolcats_decode_step {{.*}} PASS
// CHECK: lolcats_decode_step {{.*}} PASS
// CHECK: lolcats_decode_step {{.*}} PASS
func.func @lolcats_decode_step(%q: tensor<3x2x1x16xf32>, %k: tensor<3x2x1x16xf32>, %v: tensor<3x2x1x8xf32>,
                               %fq: tensor<3x2x1x6xf32>, %fk: tensor<3x2x1x6xf32>, %g: tensor<2xf32>,
                               %p: tensor<3xi32>, %s: tensor<3x2x6x8xf32>, %z: tensor<3x2x6xf32>,
                               %wk: tensor<3x2x5x16xf32>, %wv: tensor<3x2x5x8xf32>, %wf: tensor<3x2x5x6xf32>)
    -> (tensor<3x2x1x8xf32>, tensor<3x2x6x8xf32>, tensor<3x2x6xf32>, tensor<3x2x5x16xf32>,
        tensor<3x2x5x8xf32>, tensor<3x2x5x6xf32>) {
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %k, %v
      features(%fq, %fk : tensor<3x2x1x6xf32>) gamma(%g : tensor<2xf32>)
      position(%p : tensor<3xi32>) state(%s, %z : tensor<3x2x6x8xf32>, tensor<3x2x6xf32>)
      window(%wk, %wv, %wf : tensor<3x2x5x16xf32>, tensor<3x2x5x8xf32>, tensor<3x2x5x6xf32>)
      : tensor<3x2x1x16xf32>, tensor<3x2x1x16xf32>, tensor<3x2x1x8xf32> -> tensor<3x2x1x8xf32>
  return %o, %s1, %z1, %wk1, %wv1, %wf1 : tensor<3x2x1x8xf32>, tensor<3x2x6x8xf32>, tensor<3x2x6xf32>,
      tensor<3x2x5x16xf32>, tensor<3x2x5x8xf32>, tensor<3x2x5x6xf32>
}
