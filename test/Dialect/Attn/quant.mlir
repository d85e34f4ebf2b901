// RUN: attn-opt %s | attn-opt | FileCheck %s
// RUN: attn-opt %s --mlir-print-op-generic | attn-opt | FileCheck %s

// Roundtrip of quantised-KV attention: attn.quant_attention (int8 and packed
// int4 codes, symmetric and with zero points, lse) and product quantisation
// (attn.pq_fit, attn.pq_encode with Kc = 256 bytes and Kc = 16 nibbles,
// attn.pq_attention).

// int8 symmetric: keys per channel in groups of 128 tokens (4096 / 128 = 32 scale rows), values per token in one group of 128 channels.
// CHECK-LABEL: func.func @int8_symmetric
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x32x1x128xf16>, %[[KC:[a-zA-Z0-9_]+]]: tensor<1x8x4096x128xi8>, %[[KS:[a-zA-Z0-9_]+]]: tensor<1x8x32x128xf32>, %[[VC:[a-zA-Z0-9_]+]]: tensor<1x8x4096x128xi8>, %[[VS:[a-zA-Z0-9_]+]]: tensor<1x8x4096x1xf32>
// CHECK: attn.quant_attention %[[Q]], key(%[[KC]], %[[KS]] : tensor<1x8x4096x128xi8>, tensor<1x8x32x128xf32>) value(%[[VC]], %[[VS]] : tensor<1x8x4096x128xi8>, tensor<1x8x4096x1xf32>) {bits = 8 : i64, group_size = 128 : i64} : tensor<1x32x1x128xf16> -> tensor<1x32x1x128xf16>
func.func @int8_symmetric(%q: tensor<1x32x1x128xf16>, %kc: tensor<1x8x4096x128xi8>, %ks: tensor<1x8x32x128xf32>, %vc: tensor<1x8x4096x128xi8>, %vs: tensor<1x8x4096x1xf32>) -> tensor<1x32x1x128xf16> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x8x4096x128xi8>, tensor<1x8x32x128xf32>) value(%vc, %vs : tensor<1x8x4096x128xi8>, tensor<1x8x4096x1xf32>) {bits = 8, group_size = 128} : tensor<1x32x1x128xf16> -> tensor<1x32x1x128xf16>
  return %o : tensor<1x32x1x128xf16>
}

// int8 with zero points (unsigned codes, x = scale * code + zero), group 32: 64 / 32 = 2 key scale rows, 64 / 32 = 2 value groups.
// CHECK-LABEL: func.func @int8_zeros
// CHECK-SAME: %[[KZ:[a-zA-Z0-9_]+]]: tensor<2x8x2x64xf32>, %[[VC:[a-zA-Z0-9_]+]]: tensor<2x8x64x64xi8>, %[[VS:[a-zA-Z0-9_]+]]: tensor<2x8x64x2xf32>, %[[VZ:[a-zA-Z0-9_]+]]: tensor<2x8x64x2xf32>
// CHECK: attn.quant_attention %{{.*}}, key(%{{.*}}, %{{.*}}, zero %[[KZ]] : tensor<2x8x64x64xi8>, tensor<2x8x2x64xf32>, tensor<2x8x2x64xf32>) value(%[[VC]], %[[VS]], zero %[[VZ]] : tensor<2x8x64x64xi8>, tensor<2x8x64x2xf32>, tensor<2x8x64x2xf32>) {bits = 8 : i64, causal, group_size = 32 : i64} : tensor<2x8x64x64xbf16> -> tensor<2x8x64x64xbf16>
func.func @int8_zeros(%q: tensor<2x8x64x64xbf16>, %kc: tensor<2x8x64x64xi8>, %ks: tensor<2x8x2x64xf32>, %kz: tensor<2x8x2x64xf32>, %vc: tensor<2x8x64x64xi8>, %vs: tensor<2x8x64x2xf32>, %vz: tensor<2x8x64x2xf32>) -> tensor<2x8x64x64xbf16> {
  %o = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<2x8x64x64xi8>, tensor<2x8x2x64xf32>, tensor<2x8x2x64xf32>) value(%vc, %vs, zero %vz : tensor<2x8x64x64xi8>, tensor<2x8x64x2xf32>, tensor<2x8x64x2xf32>) {bits = 8, group_size = 32, causal} : tensor<2x8x64x64xbf16> -> tensor<2x8x64x64xbf16>
  return %o : tensor<2x8x64x64xbf16>
}

// int4 packed two per byte: D = Dv = 128 give 64-byte code rows; group 32 gives 256 / 32 = 8 key scale rows and 128 / 32 = 4 value groups; GQA 32 over 8; lse.
// CHECK-LABEL: func.func @int4_packed_lse
// CHECK: %[[O:[a-zA-Z0-9_]+]], %[[L:[a-zA-Z0-9_]+]] = attn.quant_attention %{{.*}}, key(%{{.*}}, %{{.*}}, zero %{{.*}} : tensor<1x8x256x64xi8>, tensor<1x8x8x128xf32>, tensor<1x8x8x128xf32>) value(%{{.*}}, %{{.*}}, zero %{{.*}} : tensor<1x8x256x64xi8>, tensor<1x8x256x4xf32>, tensor<1x8x256x4xf32>) {bits = 4 : i64, causal, group_size = 32 : i64, scale = 0.088388{{[0-9]*}} : f64} : tensor<1x32x16x128xf16> -> tensor<1x32x16x128xf16>, tensor<1x32x16xf32>
// CHECK: return %[[O]], %[[L]]
func.func @int4_packed_lse(%q: tensor<1x32x16x128xf16>, %kc: tensor<1x8x256x64xi8>, %ks: tensor<1x8x8x128xf32>, %kz: tensor<1x8x8x128xf32>, %vc: tensor<1x8x256x64xi8>, %vs: tensor<1x8x256x4xf32>, %vz: tensor<1x8x256x4xf32>) -> (tensor<1x32x16x128xf16>, tensor<1x32x16xf32>) {
  %o, %l = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<1x8x256x64xi8>, tensor<1x8x8x128xf32>, tensor<1x8x8x128xf32>) value(%vc, %vs, zero %vz : tensor<1x8x256x64xi8>, tensor<1x8x256x4xf32>, tensor<1x8x256x4xf32>) {bits = 4, group_size = 32, causal, scale = 0.08838834764831845} : tensor<1x32x16x128xf16> -> tensor<1x32x16x128xf16>, tensor<1x32x16xf32>
  return %o, %l : tensor<1x32x16x128xf16>, tensor<1x32x16xf32>
}

// int4 symmetric with Dv = 48 != D = 64 (codes 24 and 32 bytes) and ragged groups: ceil(100 / 32) = 4 key rows, ceil(48 / 32) = 2 value groups.
// CHECK-LABEL: func.func @int4_ragged_groups
// CHECK: attn.quant_attention %{{.*}}, key(%{{.*}}, %{{.*}} : tensor<1x2x100x32xi8>, tensor<1x2x4x64xf32>) value(%{{.*}}, %{{.*}} : tensor<1x2x100x24xi8>, tensor<1x2x100x2xf32>) {bits = 4 : i64, group_size = 32 : i64} : tensor<1x2x10x64xf32> -> tensor<1x2x10x48xf32>
func.func @int4_ragged_groups(%q: tensor<1x2x10x64xf32>, %kc: tensor<1x2x100x32xi8>, %ks: tensor<1x2x4x64xf32>, %vc: tensor<1x2x100x24xi8>, %vs: tensor<1x2x100x2xf32>) -> tensor<1x2x10x48xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x100x32xi8>, tensor<1x2x4x64xf32>) value(%vc, %vs : tensor<1x2x100x24xi8>, tensor<1x2x100x2xf32>) {bits = 4, group_size = 32} : tensor<1x2x10x64xf32> -> tensor<1x2x10x48xf32>
  return %o : tensor<1x2x10x48xf32>
}

// Zero points on keys only (asymmetric keys, symmetric values), int8, dynamic Lk.
// CHECK-LABEL: func.func @int8_key_zero_only
// CHECK: attn.quant_attention %{{.*}}, key(%{{.*}}, %{{.*}}, zero %{{.*}} : tensor<1x4x?x32xi8>, tensor<1x4x?x32xf32>, tensor<1x4x?x32xf32>) value(%{{.*}}, %{{.*}} : tensor<1x4x?x32xi8>, tensor<1x4x?x1xf32>) {bits = 8 : i64, group_size = 64 : i64}
func.func @int8_key_zero_only(%q: tensor<1x4x8x32xf32>, %kc: tensor<1x4x?x32xi8>, %ks: tensor<1x4x?x32xf32>, %kz: tensor<1x4x?x32xf32>, %vc: tensor<1x4x?x32xi8>, %vs: tensor<1x4x?x1xf32>) -> tensor<1x4x8x32xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<1x4x?x32xi8>, tensor<1x4x?x32xf32>, tensor<1x4x?x32xf32>) value(%vc, %vs : tensor<1x4x?x32xi8>, tensor<1x4x?x1xf32>) {bits = 8, group_size = 64} : tensor<1x4x8x32xf32> -> tensor<1x4x8x32xf32>
  return %o : tensor<1x4x8x32xf32>
}

// PQ fit with Kc = 256 centroids: D = 128 split into m = 16 sub-spaces of 8 dims, from N = 4096 >= 256 calibration keys.
// CHECK-LABEL: func.func @pq_fit_256
// CHECK-SAME: %[[KEYS:[a-zA-Z0-9_]+]]: tensor<8x4096x128xf32>
// CHECK: attn.pq_fit %[[KEYS]] : tensor<8x4096x128xf32> -> tensor<8x16x256x8xf32>
func.func @pq_fit_256(%keys: tensor<8x4096x128xf32>) -> tensor<8x16x256x8xf32> {
  %cb = attn.pq_fit %keys : tensor<8x4096x128xf32> -> tensor<8x16x256x8xf32>
  return %cb : tensor<8x16x256x8xf32>
}

// PQ fit with Kc = 16 and N = 16 (the fewest keys k-means accepts), m = 32 sub-spaces of 2 dims, 10 iterations, seed 42.
// CHECK-LABEL: func.func @pq_fit_16
// CHECK: attn.pq_fit %{{.*}} {iters = 10 : i64, seed = 42 : i64} : tensor<4x16x64xbf16> -> tensor<4x32x16x2xf32>
func.func @pq_fit_16(%keys: tensor<4x16x64xbf16>) -> tensor<4x32x16x2xf32> {
  %cb = attn.pq_fit %keys {iters = 10, seed = 42} : tensor<4x16x64xbf16> -> tensor<4x32x16x2xf32>
  return %cb : tensor<4x32x16x2xf32>
}

// PQ encode with Kc = 256: one byte per sub-space, m = 16 bytes per token.
// CHECK-LABEL: func.func @pq_encode_256
// CHECK-SAME: %[[K:[a-zA-Z0-9_]+]]: tensor<1x8x1024x128xf16>, %[[CB:[a-zA-Z0-9_]+]]: tensor<8x16x256x8xf32>
// CHECK: attn.pq_encode %[[K]], %[[CB]] : tensor<1x8x1024x128xf16>, tensor<8x16x256x8xf32> -> tensor<1x8x1024x16xi8>
func.func @pq_encode_256(%k: tensor<1x8x1024x128xf16>, %cb: tensor<8x16x256x8xf32>) -> tensor<1x8x1024x16xi8> {
  %c = attn.pq_encode %k, %cb : tensor<1x8x1024x128xf16>, tensor<8x16x256x8xf32> -> tensor<1x8x1024x16xi8>
  return %c : tensor<1x8x1024x16xi8>
}

// PQ encode with Kc = 16: two 4-bit codes per byte, m = 32 sub-spaces pack into 32 / 2 = 16 bytes per token.
// CHECK-LABEL: func.func @pq_encode_16_packed
// CHECK: attn.pq_encode %{{.*}}, %{{.*}} : tensor<1x8x1024x128xf16>, tensor<8x32x16x4xf32> -> tensor<1x8x1024x16xi8>
func.func @pq_encode_16_packed(%k: tensor<1x8x1024x128xf16>, %cb: tensor<8x32x16x4xf32>) -> tensor<1x8x1024x16xi8> {
  %c = attn.pq_encode %k, %cb : tensor<1x8x1024x128xf16>, tensor<8x32x16x4xf32> -> tensor<1x8x1024x16xi8>
  return %c : tensor<1x8x1024x16xi8>
}

// LOOKAT decode: 32 query heads over 8 PQ-coded kv heads (Kc = 256, m = 16), float values, lse.
// CHECK-LABEL: func.func @pq_attention_256
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x32x1x128xf16>, %[[C:[a-zA-Z0-9_]+]]: tensor<1x8x4096x16xi8>, %[[CB:[a-zA-Z0-9_]+]]: tensor<8x16x256x8xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x8x4096x128xf16>
// CHECK: %[[O:[a-zA-Z0-9_]+]], %[[L:[a-zA-Z0-9_]+]] = attn.pq_attention %[[Q]], %[[C]], %[[CB]], %[[V]] : tensor<1x32x1x128xf16>, tensor<1x8x4096x16xi8>, tensor<8x16x256x8xf32>, tensor<1x8x4096x128xf16> -> tensor<1x32x1x128xf16>, tensor<1x32x1xf32>
// CHECK: return %[[O]], %[[L]]
func.func @pq_attention_256(%q: tensor<1x32x1x128xf16>, %c: tensor<1x8x4096x16xi8>, %cb: tensor<8x16x256x8xf32>, %v: tensor<1x8x4096x128xf16>) -> (tensor<1x32x1x128xf16>, tensor<1x32x1xf32>) {
  %o, %l = attn.pq_attention %q, %c, %cb, %v : tensor<1x32x1x128xf16>, tensor<1x8x4096x16xi8>, tensor<8x16x256x8xf32>, tensor<1x8x4096x128xf16> -> tensor<1x32x1x128xf16>, tensor<1x32x1xf32>
  return %o, %l : tensor<1x32x1x128xf16>, tensor<1x32x1xf32>
}

// LOOKAT prefill with Kc = 16 nibble codes (m = 8 -> 4 bytes), D = 64, Dv = 32, causal, scale 0.125.
// CHECK-LABEL: func.func @pq_attention_16
// CHECK: attn.pq_attention %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}} {causal, scale = 1.250000e-01 : f64} : tensor<2x4x64x64xf32>, tensor<2x4x64x4xi8>, tensor<4x8x16x8xf32>, tensor<2x4x64x32xf32> -> tensor<2x4x64x32xf32>
func.func @pq_attention_16(%q: tensor<2x4x64x64xf32>, %c: tensor<2x4x64x4xi8>, %cb: tensor<4x8x16x8xf32>, %v: tensor<2x4x64x32xf32>) -> tensor<2x4x64x32xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v {causal, scale = 0.125} : tensor<2x4x64x64xf32>, tensor<2x4x64x4xi8>, tensor<4x8x16x8xf32>, tensor<2x4x64x32xf32> -> tensor<2x4x64x32xf32>
  return %o : tensor<2x4x64x32xf32>
}
