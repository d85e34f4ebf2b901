// attn.quant_attention decode shapes at the sizes the CUDA decode kernel
// (passes/Gpu/CompressedDecodeGpu.cpp) cuts into many splits, checked
// against the fp64 reference on random codes, scales and zero points, with
// random per-row key counts. On the CPU they take the fused decode kernel;
// bench/gpu/prepare.sh runs the same file on the GPU.
// RUN: attn-run %s --random --seed 23 --check | FileCheck %s
// CHECK-NOT: FAIL

// int4 with zero points on keys and values, bf16, D = Dv = 128, G = 4,
// 2000 keys (32 tiles of 64: one split a tile on the GPU), groups of 64.
// CHECK: int4_zeros_bf16_long {{.*}} PASS
func.func @int4_zeros_bf16_long(%q: tensor<2x8x1x128xbf16>, %kc: tensor<2x2x2000x64xi8>,
                                %ks: tensor<2x2x32x128xf32>, %kz: tensor<2x2x32x128xf32>,
                                %vc: tensor<2x2x2000x64xi8>, %vs: tensor<2x2x2000x2xf32>,
                                %vz: tensor<2x2x2000x2xf32>, %n: tensor<2xi32>)
    -> (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>) {
  %o, %l = attn.quant_attention %q,
      key(%kc, %ks, zero %kz : tensor<2x2x2000x64xi8>, tensor<2x2x32x128xf32>, tensor<2x2x32x128xf32>)
      value(%vc, %vs, zero %vz : tensor<2x2x2000x64xi8>, tensor<2x2x2000x2xf32>, tensor<2x2x2000x2xf32>)
      kv_lens(%n : tensor<2xi32>) {bits = 4 : i64, group_size = 64 : i64}
      : tensor<2x8x1x128xbf16> -> tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
  return %o, %l : tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
}

// int8 signed, f32, three queries a head (G x Lq = 12 rows), causal at
// each row's count, groups of 48 (token groups straddle the 64-key tiles).
// CHECK: int8_causal_three_queries {{.*}} PASS
func.func @int8_causal_three_queries(%q: tensor<1x4x3x64xf32>, %kc: tensor<1x1x700x64xi8>,
                                     %ks: tensor<1x1x15x64xf32>, %vc: tensor<1x1x700x64xi8>,
                                     %vs: tensor<1x1x700x2xf32>, %n: tensor<1xi32>)
    -> (tensor<1x4x3x64xf32>, tensor<1x4x3xf32>) {
  %o, %l = attn.quant_attention %q,
      key(%kc, %ks : tensor<1x1x700x64xi8>, tensor<1x1x15x64xf32>)
      value(%vc, %vs : tensor<1x1x700x64xi8>, tensor<1x1x700x2xf32>)
      kv_lens(%n : tensor<1xi32>) {bits = 8 : i64, group_size = 48 : i64, causal}
      : tensor<1x4x3x64xf32> -> tensor<1x4x3x64xf32>, tensor<1x4x3xf32>
  return %o, %l : tensor<1x4x3x64xf32>, tensor<1x4x3xf32>
}

// int8 with value zero points only, f16, groups of 12: a lane's 8 value
// channels span two channel groups (scales gathered per channel), key
// groups of 12 tokens.
// CHECK: int8_value_groups_12 {{.*}} PASS
func.func @int8_value_groups_12(%q: tensor<1x8x1x128xf16>, %kc: tensor<1x2x300x128xi8>,
                                %ks: tensor<1x2x25x128xf32>, %vc: tensor<1x2x300x128xi8>,
                                %vs: tensor<1x2x300x11xf32>, %vz: tensor<1x2x300x11xf32>)
    -> tensor<1x8x1x128xf16> {
  %o = attn.quant_attention %q,
      key(%kc, %ks : tensor<1x2x300x128xi8>, tensor<1x2x25x128xf32>)
      value(%vc, %vs, zero %vz : tensor<1x2x300x128xi8>, tensor<1x2x300x11xf32>, tensor<1x2x300x11xf32>)
      {bits = 8 : i64, group_size = 12 : i64}
      : tensor<1x8x1x128xf16> -> tensor<1x8x1x128xf16>
  return %o : tensor<1x8x1x128xf16>
}
