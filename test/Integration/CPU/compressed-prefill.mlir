// attn.quant_attention and attn.pq_attention prefill shapes (more than 16
// queries, or fewer than 4 keys per query) on the flash kernel, codes
// decoded as each K/V tile is packed, checked against the fp64 reference
// on random codes (any byte), scales in [0.002, 0.02], zero points in
// [-1, 1], random codebooks and key counts. Every case is ragged in Lq and
// Lk against the 64-key tiles and the query blocks.
// RUN: attn-run %s --random --seed 41 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 42 --check | FileCheck %s
// The check is live: a perturbed output fails.
// RUN: not attn-run %s --entry pq256_causal --random --seed 41 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// BROKEN: pq256_causal {{.*}} FAIL
// The kernels are the ones under test: no quant/PQ op reaches the naive
// decomposition (which would leave a linalg.generic).
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR

// IR-NOT: attn.quant_attention
// IR-NOT: attn.pq_attention
// IR-NOT: linalg.generic

// int8 signed, causal, Lq = Lk = 150, D = 96, Dv = 48, G = 3, group 7: the
// key scale rows and the value groups are both ragged (value scales
// gathered per lane); lse.
// CHECK: int8_causal_gqa {{.*}} PASS
// CHECK: int8_causal_gqa {{.*}} PASS
func.func @int8_causal_gqa(%q: tensor<1x6x150x96xf32>, %kc: tensor<1x2x150x96xi8>,
                           %ks: tensor<1x2x22x96xf32>, %vc: tensor<1x2x150x48xi8>,
                           %vs: tensor<1x2x150x7xf32>)
    -> (tensor<1x6x150x48xf32>, tensor<1x6x150xf32>) {
  %o, %l = attn.quant_attention %q,
      key(%kc, %ks : tensor<1x2x150x96xi8>, tensor<1x2x22x96xf32>)
      value(%vc, %vs : tensor<1x2x150x48xi8>, tensor<1x2x150x7xf32>)
      {bits = 8 : i64, group_size = 7 : i64, causal}
      : tensor<1x6x150x96xf32> -> tensor<1x6x150x48xf32>, tensor<1x6x150xf32>
  return %o, %l : tensor<1x6x150x48xf32>, tensor<1x6x150xf32>
}

// int8 with zero points (unsigned codes), f16 queries, non-causal, Lq = 77
// against Lk = 333, D = Dv = 64, group 32 (one scale per value vector).
// CHECK: int8_zeros_f16 {{.*}} f16 {{.*}} PASS
func.func @int8_zeros_f16(%q: tensor<2x2x77x64xf16>, %kc: tensor<2x2x333x64xi8>,
                          %ks: tensor<2x2x11x64xf32>, %kz: tensor<2x2x11x64xf32>,
                          %vc: tensor<2x2x333x64xi8>, %vs: tensor<2x2x333x2xf32>,
                          %vz: tensor<2x2x333x2xf32>) -> tensor<2x2x77x64xf16> {
  %o = attn.quant_attention %q,
      key(%kc, %ks, zero %kz : tensor<2x2x333x64xi8>, tensor<2x2x11x64xf32>, tensor<2x2x11x64xf32>)
      value(%vc, %vs, zero %vz : tensor<2x2x333x64xi8>, tensor<2x2x333x2xf32>, tensor<2x2x333x2xf32>)
      {bits = 8 : i64, group_size = 32 : i64}
      : tensor<2x2x77x64xf16> -> tensor<2x2x77x64xf16>
  return %o : tensor<2x2x77x64xf16>
}

// int4 signed nibbles, bf16 queries, causal, Lq = Lk = 65 (one key past the
// first tile), D = 32 in 16-byte rows, Dv = 16, group 16, MQA (G = 4).
// CHECK: int4_causal_bf16 {{.*}} bf16 {{.*}} PASS
func.func @int4_causal_bf16(%q: tensor<1x4x65x32xbf16>, %kc: tensor<1x1x65x16xi8>,
                            %ks: tensor<1x1x5x32xf32>, %vc: tensor<1x1x65x8xi8>,
                            %vs: tensor<1x1x65x1xf32>) -> tensor<1x4x65x16xbf16> {
  %o = attn.quant_attention %q,
      key(%kc, %ks : tensor<1x1x65x16xi8>, tensor<1x1x5x32xf32>)
      value(%vc, %vs : tensor<1x1x65x8xi8>, tensor<1x1x65x1xf32>)
      {bits = 4 : i64, group_size = 16 : i64, causal}
      : tensor<1x4x65x32xbf16> -> tensor<1x4x65x16xbf16>
  return %o : tensor<1x4x65x16xbf16>
}

// int4 with zero points (unsigned nibbles), a prefill chunk against a cache
// with per-row key counts (random, 0 to Lk): Lq = 20, Lk = 70, causal
// aligned at each row's count, D = 16, Dv = 32, group 5, scale 0.4, lse.
// CHECK: int4_zeros_lens {{.*}} PASS
// CHECK: int4_zeros_lens {{.*}} PASS
func.func @int4_zeros_lens(%q: tensor<3x2x20x16xf32>, %kc: tensor<3x2x70x8xi8>,
                           %ks: tensor<3x2x14x16xf32>, %kz: tensor<3x2x14x16xf32>,
                           %vc: tensor<3x2x70x16xi8>, %vs: tensor<3x2x70x7xf32>,
                           %vz: tensor<3x2x70x7xf32>, %n: tensor<3xi32>)
    -> (tensor<3x2x20x32xf32>, tensor<3x2x20xf32>) {
  %o, %l = attn.quant_attention %q,
      key(%kc, %ks, zero %kz : tensor<3x2x70x8xi8>, tensor<3x2x14x16xf32>, tensor<3x2x14x16xf32>)
      value(%vc, %vs, zero %vz : tensor<3x2x70x16xi8>, tensor<3x2x70x7xf32>, tensor<3x2x70x7xf32>)
      kv_lens(%n : tensor<3xi32>)
      {bits = 4 : i64, group_size = 5 : i64, scale = 0.4 : f64, causal}
      : tensor<3x2x20x16xf32> -> tensor<3x2x20x32xf32>, tensor<3x2x20xf32>
  return %o, %l : tensor<3x2x20x32xf32>, tensor<3x2x20xf32>
}

// PQ, Kc = 256 (byte codes read unsigned), m = 8 sub-spaces of 12 dims,
// D = 96, Dv = 32, causal, Lq = Lk = 150, G = 2, lse.
// CHECK: pq256_causal {{.*}} PASS
// CHECK: pq256_causal {{.*}} PASS
func.func @pq256_causal(%q: tensor<1x4x150x96xf32>, %c: tensor<1x2x150x8xi8>,
                        %cb: tensor<2x8x256x12xf32>, %v: tensor<1x2x150x32xf32>)
    -> (tensor<1x4x150x32xf32>, tensor<1x4x150xf32>) {
  %o, %l = attn.pq_attention %q, %c, %cb, %v {causal}
      : tensor<1x4x150x96xf32>, tensor<1x2x150x8xi8>, tensor<2x8x256x12xf32>,
        tensor<1x2x150x32xf32> -> tensor<1x4x150x32xf32>, tensor<1x4x150xf32>
  return %o, %l : tensor<1x4x150x32xf32>, tensor<1x4x150xf32>
}

// PQ, Kc = 16 (nibbles, sub-space 2t low), m = 16 sub-spaces of 2 dims,
// f16, Lq = 37 against Lk = 333 with key counts, G = 3.
// CHECK: pq16_lens_f16 {{.*}} f16 {{.*}} PASS
func.func @pq16_lens_f16(%q: tensor<2x3x37x32xf16>, %c: tensor<2x1x333x8xi8>,
                         %cb: tensor<1x16x16x2xf32>, %v: tensor<2x1x333x16xf16>,
                         %n: tensor<2xi32>) -> tensor<2x3x37x16xf16> {
  %o = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<2xi32>) {causal}
      : tensor<2x3x37x32xf16>, tensor<2x1x333x8xi8>, tensor<1x16x16x2xf32>,
        tensor<2x1x333x16xf16> -> tensor<2x3x37x16xf16>
  return %o : tensor<2x3x37x16xf16>
}

// A decode shape (16 queries, G = 16) whose lookup tables (16 x 16 rows x
// m = 64 x 256 floats = 16 MiB) pass the decode kernel's 4 MiB limit: the
// flash kernel with rebuilt keys takes it. bf16, Lk = 100.
// CHECK: pq_big_tables_bf16 {{.*}} bf16 {{.*}} PASS
func.func @pq_big_tables_bf16(%q: tensor<1x16x16x64xbf16>, %c: tensor<1x1x100x64xi8>,
                              %cb: tensor<1x64x256x1xf32>, %v: tensor<1x1x100x16xbf16>)
    -> tensor<1x16x16x16xbf16> {
  %o = attn.pq_attention %q, %c, %cb, %v
      : tensor<1x16x16x64xbf16>, tensor<1x1x100x64xi8>, tensor<1x64x256x1xf32>,
        tensor<1x1x100x16xbf16> -> tensor<1x16x16x16xbf16>
  return %o : tensor<1x16x16x16xbf16>
}
