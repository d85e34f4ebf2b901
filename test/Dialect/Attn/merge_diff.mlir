// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// Roundtrip of attn.merge (log-sum-exp combination of split-KV partials) and
// attn.diff_attention (differential attention, with and without the per-head
// RMS norm weight).

// Split-KV decode: N = 4 partials of [B, H, L, Dv] = [1, 8, 1, 128] merged into one.
// CHECK-LABEL: func.func @merge_split_kv
// CHECK-SAME: %[[OUTS:[a-zA-Z0-9_]+]]: tensor<4x1x8x1x128xf32>, %[[LSES:[a-zA-Z0-9_]+]]: tensor<4x1x8x1xf32>
// CHECK: %[[O:[a-zA-Z0-9_]+]], %[[L:[a-zA-Z0-9_]+]] = attn.merge %[[OUTS]], %[[LSES]] : tensor<4x1x8x1x128xf32>, tensor<4x1x8x1xf32> -> tensor<1x8x1x128xf32>, tensor<1x8x1xf32>
// CHECK: return %[[O]], %[[L]]
func.func @merge_split_kv(%outs: tensor<4x1x8x1x128xf32>, %lses: tensor<4x1x8x1xf32>) -> (tensor<1x8x1x128xf32>, tensor<1x8x1xf32>) {
  %o, %l = attn.merge %outs, %lses : tensor<4x1x8x1x128xf32>, tensor<4x1x8x1xf32> -> tensor<1x8x1x128xf32>, tensor<1x8x1xf32>
  return %o, %l : tensor<1x8x1x128xf32>, tensor<1x8x1xf32>
}

// bf16 partials (N = 2, ring attention's two halves); lse stays f32.
// CHECK-LABEL: func.func @merge_bf16
// CHECK: attn.merge %{{.*}}, %{{.*}} : tensor<2x2x16x64x64xbf16>, tensor<2x2x16x64xf32> -> tensor<2x16x64x64xbf16>, tensor<2x16x64xf32>
func.func @merge_bf16(%outs: tensor<2x2x16x64x64xbf16>, %lses: tensor<2x2x16x64xf32>) -> (tensor<2x16x64x64xbf16>, tensor<2x16x64xf32>) {
  %o, %l = attn.merge %outs, %lses : tensor<2x2x16x64x64xbf16>, tensor<2x2x16x64xf32> -> tensor<2x16x64x64xbf16>, tensor<2x16x64xf32>
  return %o, %l : tensor<2x16x64x64xbf16>, tensor<2x16x64xf32>
}

// Dynamic partial count N and length L.
// CHECK-LABEL: func.func @merge_dynamic
// CHECK: attn.merge %{{.*}}, %{{.*}} : tensor<?x1x4x?x32xf16>, tensor<?x1x4x?xf32> -> tensor<1x4x?x32xf16>, tensor<1x4x?xf32>
func.func @merge_dynamic(%outs: tensor<?x1x4x?x32xf16>, %lses: tensor<?x1x4x?xf32>) -> (tensor<1x4x?x32xf16>, tensor<1x4x?xf32>) {
  %o, %l = attn.merge %outs, %lses : tensor<?x1x4x?x32xf16>, tensor<?x1x4x?xf32> -> tensor<1x4x?x32xf16>, tensor<1x4x?xf32>
  return %o, %l : tensor<1x4x?x32xf16>, tensor<1x4x?xf32>
}

// Differential attention without norm weight: D = 64, Dv = 2 D = 128, lambda_init = 0.8 - 0.6 exp(0) = 0.2 (layer 1).
// CHECK-LABEL: func.func @diff_no_norm
// CHECK-SAME: %[[Q1:[a-zA-Z0-9_]+]]: tensor<1x8x128x64xf32>, %[[K1:[a-zA-Z0-9_]+]]: tensor<1x8x128x64xf32>, %[[Q2:[a-zA-Z0-9_]+]]: tensor<1x8x128x64xf32>, %[[K2:[a-zA-Z0-9_]+]]: tensor<1x8x128x64xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x8x128x128xf32>, %[[LAM:[a-zA-Z0-9_]+]]: tensor<8xf32>
// CHECK: attn.diff_attention(%[[Q1]], %[[K1]]), (%[[Q2]], %[[K2]]), %[[V]] lambda(%[[LAM]] : tensor<8xf32>) {lambda_init = 2.000000e-01 : f64} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x128xf32> -> tensor<1x8x128x128xf32>
func.func @diff_no_norm(%q1: tensor<1x8x128x64xf32>, %k1: tensor<1x8x128x64xf32>, %q2: tensor<1x8x128x64xf32>, %k2: tensor<1x8x128x64xf32>, %v: tensor<1x8x128x128xf32>, %lam: tensor<8xf32>) -> tensor<1x8x128x128xf32> {
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) {lambda_init = 0.2} : tensor<1x8x128x64xf32>, tensor<1x8x128x64xf32>, tensor<1x8x128x128xf32> -> tensor<1x8x128x128xf32>
  return %o : tensor<1x8x128x128xf32>
}

// Differential attention with norm weight [Dv = 128], causal, eps 1e-6, scale 1/sqrt(64) = 0.125, lambda_init 0.8.
// CHECK-LABEL: func.func @diff_norm
// CHECK-SAME: %[[W:[a-zA-Z0-9_]+]]: tensor<128xf32>
// CHECK: attn.diff_attention(%{{.*}}, %{{.*}}), (%{{.*}}, %{{.*}}), %{{.*}} lambda(%{{.*}} : tensor<8xf32>) norm(%[[W]] : tensor<128xf32>) {causal, eps = 9.99999{{[0-9]*}}E-7 : f64, lambda_init = 8.000000e-01 : f64, scale = 1.250000e-01 : f64}
func.func @diff_norm(%q1: tensor<1x8x128x64xbf16>, %k1: tensor<1x8x128x64xbf16>, %q2: tensor<1x8x128x64xbf16>, %k2: tensor<1x8x128x64xbf16>, %v: tensor<1x8x128x128xbf16>, %lam: tensor<8xf32>, %w: tensor<128xf32>) -> tensor<1x8x128x128xbf16> {
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<8xf32>) norm(%w : tensor<128xf32>) {lambda_init = 0.8, eps = 1.0e-6, scale = 0.125, causal} : tensor<1x8x128x64xbf16>, tensor<1x8x128x64xbf16>, tensor<1x8x128x128xbf16> -> tensor<1x8x128x128xbf16>
  return %o : tensor<1x8x128x128xbf16>
}

// GQA differential attention: 16 query heads over 4 kv heads (G = 4), lambda has Hq = 16 entries.
// CHECK-LABEL: func.func @diff_gqa
// CHECK: attn.diff_attention(%{{.*}}, %{{.*}}), (%{{.*}}, %{{.*}}), %{{.*}} lambda(%{{.*}} : tensor<16xf32>) norm(%{{.*}} : tensor<64xf32>) {lambda_init = 5.000000e-01 : f64} : tensor<2x16x32x64xf16>, tensor<2x4x48x64xf16>, tensor<2x4x48x64xf16> -> tensor<2x16x32x64xf16>
func.func @diff_gqa(%q1: tensor<2x16x32x64xf16>, %k1: tensor<2x4x48x64xf16>, %q2: tensor<2x16x32x64xf16>, %k2: tensor<2x4x48x64xf16>, %v: tensor<2x4x48x64xf16>, %lam: tensor<16xf32>, %w: tensor<64xf32>) -> tensor<2x16x32x64xf16> {
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<16xf32>) norm(%w : tensor<64xf32>) {lambda_init = 0.5} : tensor<2x16x32x64xf16>, tensor<2x4x48x64xf16>, tensor<2x4x48x64xf16> -> tensor<2x16x32x64xf16>
  return %o : tensor<2x16x32x64xf16>
}

// lambda_init = 0 is the lower end of [0, 1); dynamic lengths.
// CHECK-LABEL: func.func @diff_dynamic
// CHECK: attn.diff_attention(%{{.*}}, %{{.*}}), (%{{.*}}, %{{.*}}), %{{.*}} lambda(%{{.*}} : tensor<4xf32>) {lambda_init = 0.000000e+00 : f64} : tensor<1x4x?x32xf32>, tensor<1x4x?x32xf32>, tensor<1x4x?x32xf32> -> tensor<1x4x?x32xf32>
func.func @diff_dynamic(%q1: tensor<1x4x?x32xf32>, %k1: tensor<1x4x?x32xf32>, %q2: tensor<1x4x?x32xf32>, %k2: tensor<1x4x?x32xf32>, %v: tensor<1x4x?x32xf32>, %lam: tensor<4xf32>) -> tensor<1x4x?x32xf32> {
  %o = attn.diff_attention (%q1, %k1), (%q2, %k2), %v lambda(%lam : tensor<4xf32>) {lambda_init = 0.0} : tensor<1x4x?x32xf32>, tensor<1x4x?x32xf32>, tensor<1x4x?x32xf32> -> tensor<1x4x?x32xf32>
  return %o : tensor<1x4x?x32xf32>
}
