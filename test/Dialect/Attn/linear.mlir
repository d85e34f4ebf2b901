// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// Roundtrip of attn.feature_map (all four kinds) and attn.linear_attention
// (all four decay kinds, the normaliser, and state / norm carried in and out
// across chunks).

// identity feature map keeps F = D = 64.
// CHECK-LABEL: func.func @fmap_identity
// CHECK-SAME: %[[X:[a-zA-Z0-9_]+]]: tensor<2x4x128x64xf32>
// CHECK: attn.feature_map identity %[[X]] : tensor<2x4x128x64xf32> -> tensor<2x4x128x64xf32>
func.func @fmap_identity(%x: tensor<2x4x128x64xf32>) -> tensor<2x4x128x64xf32> {
  %y = attn.feature_map identity %x : tensor<2x4x128x64xf32> -> tensor<2x4x128x64xf32>
  return %y : tensor<2x4x128x64xf32>
}

// elu_plus_one (Katharopoulos et al.) keeps F = D = 64, bf16 in and out.
// CHECK-LABEL: func.func @fmap_elu_plus_one
// CHECK: attn.feature_map elu_plus_one %{{.*}} : tensor<1x8x256x64xbf16> -> tensor<1x8x256x64xbf16>
func.func @fmap_elu_plus_one(%x: tensor<1x8x256x64xbf16>) -> tensor<1x8x256x64xbf16> {
  %y = attn.feature_map elu_plus_one %x : tensor<1x8x256x64xbf16> -> tensor<1x8x256x64xbf16>
  return %y : tensor<1x8x256x64xbf16>
}

// relu keeps F = D = 32, with a dynamic length.
// CHECK-LABEL: func.func @fmap_relu
// CHECK: attn.feature_map relu %{{.*}} : tensor<1x2x?x32xf16> -> tensor<1x2x?x32xf16>
func.func @fmap_relu(%x: tensor<1x2x?x32xf16>) -> tensor<1x2x?x32xf16> {
  %y = attn.feature_map relu %x : tensor<1x2x?x32xf16> -> tensor<1x2x?x32xf16>
  return %y : tensor<1x2x?x32xf16>
}

// hedgehog (LoLCATs): W [H = 8, D = 64, F/2 = 64] gives F = 2 * 64 = 128.
// CHECK-LABEL: func.func @fmap_hedgehog
// CHECK-SAME: %[[X:[a-zA-Z0-9_]+]]: tensor<1x8x128x64xf32>, %[[W:[a-zA-Z0-9_]+]]: tensor<8x64x64xf32>
// CHECK: attn.feature_map hedgehog %[[X]] weight(%[[W]] : tensor<8x64x64xf32>) : tensor<1x8x128x64xf32> -> tensor<1x8x128x128xf32>
func.func @fmap_hedgehog(%x: tensor<1x8x128x64xf32>, %w: tensor<8x64x64xf32>) -> tensor<1x8x128x128xf32> {
  %y = attn.feature_map hedgehog %x weight(%w : tensor<8x64x64xf32>) : tensor<1x8x128x64xf32> -> tensor<1x8x128x128xf32>
  return %y : tensor<1x8x128x128xf32>
}

// hedgehog with a smaller projection: F/2 = 16 of D = 64 gives F = 32.
// CHECK-LABEL: func.func @fmap_hedgehog_narrow
// CHECK: attn.feature_map hedgehog %{{.*}} weight(%{{.*}} : tensor<4x64x16xbf16>) : tensor<2x4x32x64xbf16> -> tensor<2x4x32x32xbf16>
func.func @fmap_hedgehog_narrow(%x: tensor<2x4x32x64xbf16>, %w: tensor<4x64x16xbf16>) -> tensor<2x4x32x32xbf16> {
  %y = attn.feature_map hedgehog %x weight(%w : tensor<4x64x16xbf16>) : tensor<2x4x32x64xbf16> -> tensor<2x4x32x32xbf16>
  return %y : tensor<2x4x32x32xbf16>
}

// decay none: plain causal linear attention, F = 64 feature dims, Dv = 128.
// CHECK-LABEL: func.func @linear_none
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<2x4x128x64xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<2x4x128x64xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<2x4x128x128xf32>
// CHECK: %[[O:[a-zA-Z0-9_]+]] = attn.linear_attention none %[[Q]], %[[K]], %[[V]] : tensor<2x4x128x64xf32>, tensor<2x4x128x64xf32>, tensor<2x4x128x128xf32> -> tensor<2x4x128x128xf32>
// CHECK: return %[[O]]
func.func @linear_none(%q: tensor<2x4x128x64xf32>, %k: tensor<2x4x128x64xf32>, %v: tensor<2x4x128x128xf32>) -> tensor<2x4x128x128xf32> {
  %o = attn.linear_attention none %q, %k, %v : tensor<2x4x128x64xf32>, tensor<2x4x128x64xf32>, tensor<2x4x128x128xf32> -> tensor<2x4x128x128xf32>
  return %o : tensor<2x4x128x128xf32>
}

// decay none with the normaliser (Katharopoulos: out / (q.z + eps)), eps 1e-5, scale 1/sqrt(64) = 0.125.
// CHECK-LABEL: func.func @linear_normalized
// CHECK: attn.linear_attention none %{{.*}}, %{{.*}}, %{{.*}} {eps = 1.000000e-05 : f64, normalize, scale = 1.250000e-01 : f64}
func.func @linear_normalized(%q: tensor<1x4x64x64xf16>, %k: tensor<1x4x64x64xf16>, %v: tensor<1x4x64x64xf16>) -> tensor<1x4x64x64xf16> {
  %o = attn.linear_attention none %q, %k, %v {normalize, eps = 1.0e-5, scale = 0.125} : tensor<1x4x64x64xf16>, tensor<1x4x64x64xf16>, tensor<1x4x64x64xf16> -> tensor<1x4x64x64xf16>
  return %o : tensor<1x4x64x64xf16>
}

// decay constant (RetNet): one log-decay per head, gate [H = 8].
// CHECK-LABEL: func.func @linear_constant
// CHECK-SAME: %[[G:[a-zA-Z0-9_]+]]: tensor<8xf32>
// CHECK: attn.linear_attention constant %{{.*}}, %{{.*}}, %{{.*}} gate(%[[G]] : tensor<8xf32>) : tensor<1x8x256x32xbf16>, tensor<1x8x256x32xbf16>, tensor<1x8x256x64xbf16> -> tensor<1x8x256x64xbf16>
func.func @linear_constant(%q: tensor<1x8x256x32xbf16>, %k: tensor<1x8x256x32xbf16>, %v: tensor<1x8x256x64xbf16>, %g: tensor<8xf32>) -> tensor<1x8x256x64xbf16> {
  %o = attn.linear_attention constant %q, %k, %v gate(%g : tensor<8xf32>) : tensor<1x8x256x32xbf16>, tensor<1x8x256x32xbf16>, tensor<1x8x256x64xbf16> -> tensor<1x8x256x64xbf16>
  return %o : tensor<1x8x256x64xbf16>
}

// decay scalar (Mamba2 / Lightning): one log-decay per token, gate [B, H, L] = [2, 4, 64], with the final state [B, H, F, Dv].
// CHECK-LABEL: func.func @linear_scalar_state_out
// CHECK-SAME: %[[G:[a-zA-Z0-9_]+]]: tensor<2x4x64xf32>
// CHECK: %[[O:[a-zA-Z0-9_]+]], %[[S:[a-zA-Z0-9_]+]] = attn.linear_attention scalar %{{.*}}, %{{.*}}, %{{.*}} gate(%[[G]] : tensor<2x4x64xf32>) : {{.*}} -> tensor<2x4x64x16xf32>, state tensor<2x4x32x16xf32>
// CHECK: return %[[O]], %[[S]]
func.func @linear_scalar_state_out(%q: tensor<2x4x64x32xf32>, %k: tensor<2x4x64x32xf32>, %v: tensor<2x4x64x16xf32>, %g: tensor<2x4x64xf32>) -> (tensor<2x4x64x16xf32>, tensor<2x4x32x16xf32>) {
  %o, %s = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<2x4x64xf32>) : tensor<2x4x64x32xf32>, tensor<2x4x64x32xf32>, tensor<2x4x64x16xf32> -> tensor<2x4x64x16xf32>, state tensor<2x4x32x16xf32>
  return %o, %s : tensor<2x4x64x16xf32>, tensor<2x4x32x16xf32>
}

// decay vector (GLA): one log-decay per feature row, gate [B, H, L, F] = [1, 4, 64, 32].
// CHECK-LABEL: func.func @linear_vector
// CHECK: attn.linear_attention vector %{{.*}}, %{{.*}}, %{{.*}} gate(%{{.*}} : tensor<1x4x64x32xf32>) : tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16>, tensor<1x4x64x64xf16> -> tensor<1x4x64x64xf16>
func.func @linear_vector(%q: tensor<1x4x64x32xf16>, %k: tensor<1x4x64x32xf16>, %v: tensor<1x4x64x64xf16>, %g: tensor<1x4x64x32xf32>) -> tensor<1x4x64x64xf16> {
  %o = attn.linear_attention vector %q, %k, %v gate(%g : tensor<1x4x64x32xf32>) : tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16>, tensor<1x4x64x64xf16> -> tensor<1x4x64x64xf16>
  return %o : tensor<1x4x64x64xf16>
}

// Unnormalised chunk with state carried in and out: state [B, H, F, Dv] = [1, 2, 16, 8].
// CHECK-LABEL: func.func @linear_state_in_out
// CHECK-SAME: %[[S0:[a-zA-Z0-9_]+]]: tensor<1x2x16x8xf32>
// CHECK: %{{.*}}, %[[S1:[a-zA-Z0-9_]+]] = attn.linear_attention vector %{{.*}}, %{{.*}}, %{{.*}} gate(%{{.*}} : tensor<1x2x32x16xf32>) state(%[[S0]] : tensor<1x2x16x8xf32>) : {{.*}} -> tensor<1x2x32x8xf32>, state tensor<1x2x16x8xf32>
// CHECK: return %{{.*}}, %[[S1]]
func.func @linear_state_in_out(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x8xf32>, %g: tensor<1x2x32x16xf32>, %s0: tensor<1x2x16x8xf32>) -> (tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>) {
  %o, %s1 = attn.linear_attention vector %q, %k, %v gate(%g : tensor<1x2x32x16xf32>) state(%s0 : tensor<1x2x16x8xf32>) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x8xf32>, state tensor<1x2x16x8xf32>
  return %o, %s1 : tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>
}

// State in only (last chunk, final state not needed).
// CHECK-LABEL: func.func @linear_state_in_only
// CHECK: attn.linear_attention none %{{.*}}, %{{.*}}, %{{.*}} state(%{{.*}} : tensor<1x2x16x8xf32>) : {{.*}} -> tensor<1x2x32x8xf32>{{$}}
func.func @linear_state_in_only(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x8xf32>, %s0: tensor<1x2x16x8xf32>) -> tensor<1x2x32x8xf32> {
  %o = attn.linear_attention none %q, %k, %v state(%s0 : tensor<1x2x16x8xf32>) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x8xf32>
  return %o : tensor<1x2x32x8xf32>
}

// Normalised chunk carrying state [1, 2, 16, 8] and normaliser z [B, H, F] = [1, 2, 16] in and out.
// CHECK-LABEL: func.func @linear_normalized_carry
// CHECK-SAME: %[[S0:[a-zA-Z0-9_]+]]: tensor<1x2x16x8xf32>, %[[Z0:[a-zA-Z0-9_]+]]: tensor<1x2x16xf32>
// CHECK: %[[O:[a-zA-Z0-9_]+]], %[[S1:[a-zA-Z0-9_]+]], %[[Z1:[a-zA-Z0-9_]+]] = attn.linear_attention scalar %{{.*}}, %{{.*}}, %{{.*}} gate(%{{.*}} : tensor<1x2x32xf32>) state(%[[S0]] : tensor<1x2x16x8xf32>) norm(%[[Z0]] : tensor<1x2x16xf32>) {normalize} : {{.*}} -> tensor<1x2x32x8xf32>, state tensor<1x2x16x8xf32>, norm tensor<1x2x16xf32>
// CHECK: return %[[O]], %[[S1]], %[[Z1]]
func.func @linear_normalized_carry(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x8xf32>, %g: tensor<1x2x32xf32>, %s0: tensor<1x2x16x8xf32>, %z0: tensor<1x2x16xf32>) -> (tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) {
  %o, %s1, %z1 = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x2x32xf32>) state(%s0 : tensor<1x2x16x8xf32>) norm(%z0 : tensor<1x2x16xf32>) {normalize} : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x8xf32>, state tensor<1x2x16x8xf32>, norm tensor<1x2x16xf32>
  return %o, %s1, %z1 : tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>
}

// Normalised first chunk: no state in, state and norm out.
// CHECK-LABEL: func.func @linear_normalized_first_chunk
// CHECK: attn.linear_attention none %{{.*}}, %{{.*}}, %{{.*}} {normalize} : {{.*}} -> tensor<1x2x32x8xf32>, state tensor<1x2x16x8xf32>, norm tensor<1x2x16xf32>
func.func @linear_normalized_first_chunk(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x8xf32>) -> (tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) {
  %o, %s1, %z1 = attn.linear_attention none %q, %k, %v {normalize} : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x8xf32>, state tensor<1x2x16x8xf32>, norm tensor<1x2x16xf32>
  return %o, %s1, %z1 : tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>
}

// Dynamic batch and length with a scalar gate [?, 4, ?].
// CHECK-LABEL: func.func @linear_dynamic
// CHECK: attn.linear_attention scalar %{{.*}}, %{{.*}}, %{{.*}} gate(%{{.*}} : tensor<?x4x?xf32>) : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16> -> tensor<?x4x?x32xbf16>
func.func @linear_dynamic(%q: tensor<?x4x?x32xbf16>, %k: tensor<?x4x?x32xbf16>, %v: tensor<?x4x?x32xbf16>, %g: tensor<?x4x?xf32>) -> tensor<?x4x?x32xbf16> {
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<?x4x?xf32>) : tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16>, tensor<?x4x?x32xbf16> -> tensor<?x4x?x32xbf16>
  return %o : tensor<?x4x?x32xbf16>
}
