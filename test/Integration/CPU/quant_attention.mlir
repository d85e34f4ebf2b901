// attn.quant_attention compiled for the CPU and checked against the fp64
// reference on random codes (any byte), scales in [0.002, 0.02] and zero
// points in [-1, 1]. Group size 7 makes every group axis ragged.
// RUN: attn-run %s --random --seed 17 --check | FileCheck %s
// RUN: attn-run %s --random --seed 18 --check | FileCheck %s

// int8, signed codes (no zero points), decode: Lq = 1, Lk = 37, D = 96,
// Dv = 40, G = 7; group 7 gives ceil(37/7) = 6 key scale rows and
// ceil(40/7) = 6 value groups; lse.
// CHECK: int8_symmetric_decode {{.*}} PASS
// CHECK: int8_symmetric_decode {{.*}} PASS
func.func @int8_symmetric_decode(%q: tensor<2x7x1x96xf32>, %kc: tensor<2x1x37x96xi8>,
                                 %ks: tensor<2x1x6x96xf32>, %vc: tensor<2x1x37x40xi8>,
                                 %vs: tensor<2x1x37x6xf32>)
    -> (tensor<2x7x1x40xf32>, tensor<2x7x1xf32>) {
  %o, %l = attn.quant_attention %q,
      key(%kc, %ks : tensor<2x1x37x96xi8>, tensor<2x1x6x96xf32>)
      value(%vc, %vs : tensor<2x1x37x40xi8>, tensor<2x1x37x6xf32>)
      {bits = 8 : i64, group_size = 7 : i64, causal}
      : tensor<2x7x1x96xf32> -> tensor<2x7x1x40xf32>, tensor<2x7x1xf32>
  return %o, %l : tensor<2x7x1x40xf32>, tensor<2x7x1xf32>
}

// int8 with zero points (unsigned codes 0..255), f16 queries, prefill
// Lq = Lk = 37, causal, group 7.
// CHECK: int8_zeros_half {{.*}} f16 {{.*}} PASS
func.func @int8_zeros_half(%q: tensor<1x4x37x96xf16>, %kc: tensor<1x2x37x96xi8>,
                           %ks: tensor<1x2x6x96xf32>, %kz: tensor<1x2x6x96xf32>,
                           %vc: tensor<1x2x37x96xi8>, %vs: tensor<1x2x37x14xf32>,
                           %vz: tensor<1x2x37x14xf32>) -> tensor<1x4x37x96xf16> {
  %o = attn.quant_attention %q,
      key(%kc, %ks, zero %kz : tensor<1x2x37x96xi8>, tensor<1x2x6x96xf32>, tensor<1x2x6x96xf32>)
      value(%vc, %vs, zero %vz : tensor<1x2x37x96xi8>, tensor<1x2x37x14xf32>, tensor<1x2x37x14xf32>)
      {bits = 8 : i64, group_size = 7 : i64, causal}
      : tensor<1x4x37x96xf16> -> tensor<1x4x37x96xf16>
  return %o : tensor<1x4x37x96xf16>
}

// int4, signed nibbles (-8..7, low nibble first), bf16 queries, D = 96 in
// 48-byte rows, Dv = 40 in 20-byte rows, G = 7, group 7.
// CHECK: int4_symmetric_bf16 {{.*}} bf16 {{.*}} PASS
func.func @int4_symmetric_bf16(%q: tensor<1x7x5x96xbf16>, %kc: tensor<1x1x37x48xi8>,
                               %ks: tensor<1x1x6x96xf32>, %vc: tensor<1x1x37x20xi8>,
                               %vs: tensor<1x1x37x6xf32>) -> tensor<1x7x5x40xbf16> {
  %o = attn.quant_attention %q,
      key(%kc, %ks : tensor<1x1x37x48xi8>, tensor<1x1x6x96xf32>)
      value(%vc, %vs : tensor<1x1x37x20xi8>, tensor<1x1x37x6xf32>)
      {bits = 4 : i64, group_size = 7 : i64, causal}
      : tensor<1x7x5x96xbf16> -> tensor<1x7x5x40xbf16>
  return %o : tensor<1x7x5x40xbf16>
}

// int4 with zero points (unsigned nibbles 0..15), Lq = 13, Lk = 37, D = 32,
// Dv = 24, G = 2, group 7, scale 0.3, lse.
// CHECK: int4_zeros_lse {{.*}} PASS
// CHECK: int4_zeros_lse {{.*}} PASS
func.func @int4_zeros_lse(%q: tensor<2x4x13x32xf32>, %kc: tensor<2x2x37x16xi8>,
                          %ks: tensor<2x2x6x32xf32>, %kz: tensor<2x2x6x32xf32>,
                          %vc: tensor<2x2x37x12xi8>, %vs: tensor<2x2x37x4xf32>,
                          %vz: tensor<2x2x37x4xf32>)
    -> (tensor<2x4x13x24xf32>, tensor<2x4x13xf32>) {
  %o, %l = attn.quant_attention %q,
      key(%kc, %ks, zero %kz : tensor<2x2x37x16xi8>, tensor<2x2x6x32xf32>, tensor<2x2x6x32xf32>)
      value(%vc, %vs, zero %vz : tensor<2x2x37x12xi8>, tensor<2x2x37x4xf32>, tensor<2x2x37x4xf32>)
      {bits = 4 : i64, group_size = 7 : i64, scale = 0.3 : f64}
      : tensor<2x4x13x32xf32> -> tensor<2x4x13x24xf32>, tensor<2x4x13xf32>
  return %o, %l : tensor<2x4x13x24xf32>, tensor<2x4x13xf32>
}

// Zero points on one side only: int8 keys with zeros and symmetric values,
// then int4 symmetric keys and values with zeros; group 1 (one scale per
// element).
// CHECK: int8_key_zero_only {{.*}} PASS
func.func @int8_key_zero_only(%q: tensor<1x2x9x16xf32>, %kc: tensor<1x2x37x16xi8>,
                              %ks: tensor<1x2x37x16xf32>, %kz: tensor<1x2x37x16xf32>,
                              %vc: tensor<1x2x37x8xi8>, %vs: tensor<1x2x37x8xf32>)
    -> tensor<1x2x9x8xf32> {
  %o = attn.quant_attention %q,
      key(%kc, %ks, zero %kz : tensor<1x2x37x16xi8>, tensor<1x2x37x16xf32>, tensor<1x2x37x16xf32>)
      value(%vc, %vs : tensor<1x2x37x8xi8>, tensor<1x2x37x8xf32>)
      {bits = 8 : i64, group_size = 1 : i64, causal}
      : tensor<1x2x9x16xf32> -> tensor<1x2x9x8xf32>
  return %o : tensor<1x2x9x8xf32>
}

// CHECK: int4_value_zero_only {{.*}} PASS
func.func @int4_value_zero_only(%q: tensor<1x2x9x16xf32>, %kc: tensor<1x2x37x8xi8>,
                                %ks: tensor<1x2x37x16xf32>, %vc: tensor<1x2x37x4xi8>,
                                %vs: tensor<1x2x37x8xf32>, %vz: tensor<1x2x37x8xf32>)
    -> tensor<1x2x9x8xf32> {
  %o = attn.quant_attention %q,
      key(%kc, %ks : tensor<1x2x37x8xi8>, tensor<1x2x37x16xf32>)
      value(%vc, %vs, zero %vz : tensor<1x2x37x4xi8>, tensor<1x2x37x8xf32>, tensor<1x2x37x8xf32>)
      {bits = 4 : i64, group_size = 1 : i64}
      : tensor<1x2x9x16xf32> -> tensor<1x2x9x8xf32>
  return %o : tensor<1x2x9x8xf32>
}
