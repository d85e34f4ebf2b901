// attn.pq_attention decode shapes at the sizes and layouts the CUDA PQ
// decode kernel (passes/Gpu/PqDecodeGpu.cpp) treats differently: many
// splits, 8-bit and 4-bit codes, code rows of 16-byte, 8-byte and odd
// widths, row blocks padded in the table vectors, tables too big for all
// rows of a head at once, value channels 1 to 4 a lane, causal rows and
// random per-row key counts (an empty row included), checked against the
// fp64 reference on random codes and codebooks. On the CPU they take the
// generic path; bench/gpu/prepare.sh runs the same file on the GPU.
// RUN: attn-run %s --random --seed 29 --check | FileCheck %s
// CHECK-NOT: FAIL

// Kc = 256, m = 32 (32-byte code rows), bf16, D = Dv = 128, G = 4, 2000
// keys: a handful of blocks a split, so many splits.
// CHECK: pq8_bf16_long {{.*}} PASS
func.func @pq8_bf16_long(%q: tensor<2x8x1x128xbf16>, %c: tensor<2x2x2000x32xi8>,
                         %cb: tensor<2x32x256x4xf32>, %v: tensor<2x2x2000x128xbf16>,
                         %n: tensor<2xi32>)
    -> (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>) {
  %o, %l = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<2xi32>)
      : tensor<2x8x1x128xbf16>, tensor<2x2x2000x32xi8>, tensor<2x32x256x4xf32>,
        tensor<2x2x2000x128xbf16> -> tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
  return %o, %l : tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
}

// Kc = 16 (packed nibbles, 8-byte code rows), f16, D = 64, Dv = 96 (3
// channels a lane), G = 3 and two queries: 6 rows padded to 8 in the
// table vectors, causal at each row's count.
// CHECK: pq4_f16_causal_rows6 {{.*}} PASS
func.func @pq4_f16_causal_rows6(%q: tensor<3x3x2x64xf16>, %c: tensor<3x1x333x8xi8>,
                                %cb: tensor<1x16x16x4xf32>, %v: tensor<3x1x333x96xf16>,
                                %n: tensor<3xi32>) -> tensor<3x3x2x96xf16> {
  %o = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<3xi32>) {causal}
      : tensor<3x3x2x64xf16>, tensor<3x1x333x8xi8>, tensor<1x16x16x4xf32>,
        tensor<3x1x333x96xf16> -> tensor<3x3x2x96xf16>
  return %o : tensor<3x3x2x96xf16>
}

// f32, one query a kv head (MHA), D = 96 in m = 24 sub-spaces (24-byte
// code rows: 8-byte loads), Dv = 64, an explicit scale, lse.
// CHECK: pq8_f32_mha {{.*}} PASS
func.func @pq8_f32_mha(%q: tensor<1x3x1x96xf32>, %c: tensor<1x3x77x24xi8>,
                       %cb: tensor<3x24x256x4xf32>, %v: tensor<1x3x77x64xf32>)
    -> (tensor<1x3x1x64xf32>, tensor<1x3x1xf32>) {
  %o, %l = attn.pq_attention %q, %c, %cb, %v {scale = 0.3 : f64}
      : tensor<1x3x1x96xf32>, tensor<1x3x77x24xi8>, tensor<3x24x256x4xf32>,
        tensor<1x3x77x64xf32> -> tensor<1x3x1x64xf32>, tensor<1x3x1xf32>
  return %o, %l : tensor<1x3x1x64xf32>, tensor<1x3x1xf32>
}

// bf16, D = 48 in m = 6 sub-spaces of 8 (6-byte code rows, read byte by
// byte), Dv = 32 (a channel a lane), G = 2.
// CHECK: pq8_bf16_odd_rows {{.*}} PASS
func.func @pq8_bf16_odd_rows(%q: tensor<2x4x1x48xbf16>, %c: tensor<2x2x100x6xi8>,
                             %cb: tensor<2x6x256x8xf32>, %v: tensor<2x2x100x32xbf16>,
                             %n: tensor<2xi32>) -> tensor<2x4x1x32xbf16> {
  %o = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<2xi32>)
      : tensor<2x4x1x48xbf16>, tensor<2x2x100x6xi8>, tensor<2x6x256x8xf32>,
        tensor<2x2x100x32xbf16> -> tensor<2x4x1x32xbf16>
  return %o : tensor<2x4x1x32xbf16>
}

// f16, D = 128 in m = 64 sub-spaces of 2: a row's table is 64 KB, so a
// block takes 2 of the 4 rows of a head (two row blocks).
// CHECK: pq8_f16_two_row_blocks {{.*}} PASS
func.func @pq8_f16_two_row_blocks(%q: tensor<1x8x1x128xf16>, %c: tensor<1x2x500x64xi8>,
                                  %cb: tensor<2x64x256x2xf32>, %v: tensor<1x2x500x128xf16>,
                                  %n: tensor<1xi32>)
    -> (tensor<1x8x1x128xf16>, tensor<1x8x1xf32>) {
  %o, %l = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<1xi32>)
      : tensor<1x8x1x128xf16>, tensor<1x2x500x64xi8>, tensor<2x64x256x2xf32>,
        tensor<1x2x500x128xf16> -> tensor<1x8x1x128xf16>, tensor<1x8x1xf32>
  return %o, %l : tensor<1x8x1x128xf16>, tensor<1x8x1xf32>
}
