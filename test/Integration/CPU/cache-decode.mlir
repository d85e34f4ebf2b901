// Kernels that read runtime caches in place (docs/Caches.md): key counts
// per batch row (kv_lens; random counts from 0, an empty row, to all keys)
// and paged K/V pools through a block table (random page ids, pages shared
// between rows), on the split-KV decode kernel (f32, bf16, GQA, causal and
// window rules aligned at each row's count, lse) and on the naive path
// (odd D, a prefill chunk of several queries, quantised and PQ caches),
// all against the fp64 reference. Quantised decode with groups of 16 or 32
// takes the decode kernel with dequantisation fused into its loads (int8
// signed, int4 with zero points on keys only, so keys are unsigned nibbles
// and values signed ones), the others the naive path.
// Prefill chunks of more than 16 queries against a cache take the flash
// kernel, which reads the same layouts: counts align the causal/window
// diagonal per row, tiles past a row's count are neither packed nor read,
// pages are looked up as tiles are packed.
// RUN: attn-run %s --random --seed 7 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 8 --check | FileCheck %s
// CHECK-NOT: FAIL

// CHECK: lens_decode_f32{{.*}}PASS
// CHECK: lens_decode_f32{{.*}}PASS
func.func @lens_decode_f32(%q: tensor<5x4x1x64xf32>, %k: tensor<5x2x300x64xf32>,
                           %v: tensor<5x2x300x64xf32>, %n: tensor<5xi32>)
    -> (tensor<5x4x1x64xf32>, tensor<5x4x1xf32>) {
  %o, %l = attn.attention %q, %k, %v kv_lens(%n : tensor<5xi32>)
      : tensor<5x4x1x64xf32>, tensor<5x2x300x64xf32>, tensor<5x2x300x64xf32>
      -> tensor<5x4x1x64xf32>, tensor<5x4x1xf32>
  return %o, %l : tensor<5x4x1x64xf32>, tensor<5x4x1xf32>
}

// CHECK: paged_decode_bf16{{.*}}PASS
func.func @paged_decode_bf16(%q: tensor<3x6x2x128xbf16>, %k: tensor<11x3x16x128xbf16>,
                             %v: tensor<11x3x16x128xbf16>, %n: tensor<3xi32>,
                             %t: tensor<3x7xi32>) -> tensor<3x6x2x128xbf16> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>)
      block_table(%t : tensor<3x7xi32>) {causal}
      : tensor<3x6x2x128xbf16>, tensor<11x3x16x128xbf16>, tensor<11x3x16x128xbf16>
      -> tensor<3x6x2x128xbf16>
  return %o : tensor<3x6x2x128xbf16>
}

// CHECK: paged_window_f32{{.*}}PASS
func.func @paged_window_f32(%q: tensor<2x2x1x32xf32>, %k: tensor<9x2x5x32xf32>,
                            %v: tensor<9x2x5x32xf32>, %n: tensor<2xi32>,
                            %t: tensor<2x6xi32>) -> tensor<2x2x1x32xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<2xi32>)
      block_table(%t : tensor<2x6xi32>) {window = array<i64: 7, 0>}
      : tensor<2x2x1x32xf32>, tensor<9x2x5x32xf32>, tensor<9x2x5x32xf32>
      -> tensor<2x2x1x32xf32>
  return %o : tensor<2x2x1x32xf32>
}

// Odd D and a chunk of 9 queries: the naive path reads the same layout.
// CHECK: paged_prefill_chunk{{.*}}PASS
func.func @paged_prefill_chunk(%q: tensor<2x3x9x10xf32>, %k: tensor<6x3x4x10xf32>,
                               %v: tensor<6x3x4x6xf32>, %n: tensor<2xi32>,
                               %t: tensor<2x5xi32>) -> tensor<2x3x9x6xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<2xi32>)
      block_table(%t : tensor<2x5xi32>) {causal}
      : tensor<2x3x9x10xf32>, tensor<6x3x4x10xf32>, tensor<6x3x4x6xf32>
      -> tensor<2x3x9x6xf32>
  return %o : tensor<2x3x9x6xf32>
}

// CHECK: quant_lens{{.*}}PASS
// CHECK: quant_lens{{.*}}PASS
func.func @quant_lens(%q: tensor<3x4x1x16xf32>, %kc: tensor<3x2x24x8xi8>,
                      %ks: tensor<3x2x4x16xf32>, %vc: tensor<3x2x24x8xi8>,
                      %vs: tensor<3x2x24x3xf32>, %n: tensor<3xi32>)
    -> (tensor<3x4x1x16xf32>, tensor<3x4x1xf32>) {
  %o, %l = attn.quant_attention %q, key(%kc, %ks : tensor<3x2x24x8xi8>, tensor<3x2x4x16xf32>)
      value(%vc, %vs : tensor<3x2x24x8xi8>, tensor<3x2x24x3xf32>)
      kv_lens(%n : tensor<3xi32>) {bits = 4 : i64, group_size = 6 : i64, causal}
      : tensor<3x4x1x16xf32> -> tensor<3x4x1x16xf32>, tensor<3x4x1xf32>
  return %o, %l : tensor<3x4x1x16xf32>, tensor<3x4x1xf32>
}

// CHECK: pq_lens{{.*}}PASS
func.func @pq_lens(%q: tensor<2x2x1x8xf32>, %c: tensor<2x1x13x4xi8>,
                   %cb: tensor<1x4x256x2xf32>, %v: tensor<2x1x13x5xf32>,
                   %n: tensor<2xi32>) -> tensor<2x2x1x5xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<2xi32>)
      : tensor<2x2x1x8xf32>, tensor<2x1x13x4xi8>, tensor<1x4x256x2xf32>,
        tensor<2x1x13x5xf32> -> tensor<2x2x1x5xf32>
  return %o : tensor<2x2x1x5xf32>
}

// CHECK: quant8_fused{{.*}}PASS
// CHECK: quant8_fused{{.*}}PASS
func.func @quant8_fused(%q: tensor<3x6x2x32xbf16>, %kc: tensor<3x2x160x32xi8>,
                        %ks: tensor<3x2x10x32xf32>, %vc: tensor<3x2x160x48xi8>,
                        %vs: tensor<3x2x160x3xf32>, %n: tensor<3xi32>)
    -> (tensor<3x6x2x48xbf16>, tensor<3x6x2xf32>) {
  %o, %l = attn.quant_attention %q, key(%kc, %ks : tensor<3x2x160x32xi8>, tensor<3x2x10x32xf32>)
      value(%vc, %vs : tensor<3x2x160x48xi8>, tensor<3x2x160x3xf32>)
      kv_lens(%n : tensor<3xi32>) {bits = 8 : i64, group_size = 16 : i64, causal}
      : tensor<3x6x2x32xbf16> -> tensor<3x6x2x48xbf16>, tensor<3x6x2xf32>
  return %o, %l : tensor<3x6x2x48xbf16>, tensor<3x6x2xf32>
}

// CHECK: quant4_fused_key_zeros{{.*}}PASS
func.func @quant4_fused_key_zeros(%q: tensor<2x4x1x64xf32>, %kc: tensor<2x4x300x32xi8>,
                                  %ks: tensor<2x4x10x64xf32>, %kz: tensor<2x4x10x64xf32>,
                                  %vc: tensor<2x4x300x16xi8>, %vs: tensor<2x4x300x1xf32>)
    -> tensor<2x4x1x32xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<2x4x300x32xi8>, tensor<2x4x10x64xf32>, tensor<2x4x10x64xf32>)
      value(%vc, %vs : tensor<2x4x300x16xi8>, tensor<2x4x300x1xf32>)
      {bits = 4 : i64, group_size = 32 : i64, scale = 0.3 : f64}
      : tensor<2x4x1x64xf32> -> tensor<2x4x1x32xf32>
  return %o : tensor<2x4x1x32xf32>
}

// PQ decode on the decode kernel: per-row tables of q . centroid, scores
// gathered through the codes (256 centroids, one byte per code; 16
// centroids, two nibble codes per byte), GQA, key counts, causal.
// CHECK: pq256_fused{{.*}}PASS
// CHECK: pq256_fused{{.*}}PASS
func.func @pq256_fused(%q: tensor<2x6x2x24xbf16>, %c: tensor<2x3x200x6xi8>,
                       %cb: tensor<3x6x256x4xf32>, %v: tensor<2x3x200x32xbf16>,
                       %n: tensor<2xi32>) -> (tensor<2x6x2x32xbf16>, tensor<2x6x2xf32>) {
  %o, %l = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<2xi32>) {causal}
      : tensor<2x6x2x24xbf16>, tensor<2x3x200x6xi8>, tensor<3x6x256x4xf32>,
        tensor<2x3x200x32xbf16> -> tensor<2x6x2x32xbf16>, tensor<2x6x2xf32>
  return %o, %l : tensor<2x6x2x32xbf16>, tensor<2x6x2xf32>
}

// CHECK: pq16_fused{{.*}}PASS
func.func @pq16_fused(%q: tensor<1x4x1x32xf32>, %c: tensor<1x2x333x4xi8>,
                      %cb: tensor<2x8x16x4xf32>, %v: tensor<1x2x333x16xf32>)
    -> tensor<1x4x1x16xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v {scale = 0.4 : f64}
      : tensor<1x4x1x32xf32>, tensor<1x2x333x4xi8>, tensor<2x8x16x4xf32>,
        tensor<1x2x333x16xf32> -> tensor<1x4x1x16xf32>
  return %o : tensor<1x4x1x16xf32>
}

// The other code kinds on the fused kernel: int8 with zero points on both
// sides (unsigned bytes), int4 without (signed nibbles on both sides).
// CHECK: quant8_zeros_fused{{.*}}PASS
func.func @quant8_zeros_fused(%q: tensor<2x2x1x16xf32>, %kc: tensor<2x1x100x16xi8>,
                              %ks: tensor<2x1x7x16xf32>, %kz: tensor<2x1x7x16xf32>,
                              %vc: tensor<2x1x100x32xi8>, %vs: tensor<2x1x100x2xf32>,
                              %vz: tensor<2x1x100x2xf32>, %n: tensor<2xi32>)
    -> tensor<2x2x1x32xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<2x1x100x16xi8>, tensor<2x1x7x16xf32>, tensor<2x1x7x16xf32>)
      value(%vc, %vs, zero %vz : tensor<2x1x100x32xi8>, tensor<2x1x100x2xf32>, tensor<2x1x100x2xf32>)
      kv_lens(%n : tensor<2xi32>) {bits = 8 : i64, group_size = 16 : i64}
      : tensor<2x2x1x16xf32> -> tensor<2x2x1x32xf32>
  return %o : tensor<2x2x1x32xf32>
}

// CHECK: quant4_signed_fused{{.*}}PASS
func.func @quant4_signed_fused(%q: tensor<1x4x3x32xf32>, %kc: tensor<1x2x90x16xi8>,
                               %ks: tensor<1x2x3x32xf32>, %vc: tensor<1x2x90x16xi8>,
                               %vs: tensor<1x2x90x1xf32>) -> tensor<1x4x3x32xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x2x90x16xi8>, tensor<1x2x3x32xf32>)
      value(%vc, %vs : tensor<1x2x90x16xi8>, tensor<1x2x90x1xf32>)
      {bits = 4 : i64, group_size = 32 : i64, causal}
      : tensor<1x4x3x32xf32> -> tensor<1x4x3x32xf32>
  return %o : tensor<1x4x3x32xf32>
}

// Flash kernel: a chunk of 150 queries (3 query blocks, so K/V tiles are
// packed once for all of them), GQA 6/2, causal, paged pool of 40 pages of
// 16 keys, 20 pages a row (320 keys), random counts (0 to past the end).
// CHECK: paged_prefill_flash{{.*}}PASS
// CHECK: paged_prefill_flash{{.*}}PASS
func.func @paged_prefill_flash(%q: tensor<3x6x150x64xf32>, %k: tensor<40x2x16x64xf32>,
                               %v: tensor<40x2x16x48xf32>, %n: tensor<3xi32>,
                               %t: tensor<3x20xi32>)
    -> (tensor<3x6x150x48xf32>, tensor<3x6x150xf32>) {
  %o, %l = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>)
      block_table(%t : tensor<3x20xi32>) {causal}
      : tensor<3x6x150x64xf32>, tensor<40x2x16x64xf32>, tensor<40x2x16x48xf32>
      -> tensor<3x6x150x48xf32>, tensor<3x6x150xf32>
  return %o, %l : tensor<3x6x150x48xf32>, tensor<3x6x150xf32>
}

// Flash kernel, one query block of 40 rows: contiguous cache with counts,
// sliding window [24, 0], bf16.
// CHECK: lens_prefill_window_bf16{{.*}}PASS
func.func @lens_prefill_window_bf16(%q: tensor<4x4x40x32xbf16>, %k: tensor<4x4x200x32xbf16>,
                                    %v: tensor<4x4x200x32xbf16>, %n: tensor<4xi32>)
    -> tensor<4x4x40x32xbf16> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<4xi32>) {causal, window = array<i64: 24, 0>}
      : tensor<4x4x40x32xbf16>, tensor<4x4x200x32xbf16>, tensor<4x4x200x32xbf16>
      -> tensor<4x4x40x32xbf16>
  return %o : tensor<4x4x40x32xbf16>
}

// bf16, D = 64: on CUDA the tensor-core flash kernel reads the pages and
// counts in place (its cp.async copies look rows up in the table); here the
// CPU flash kernel. 70 queries, GQA 4/2, causal, 12 pages of 16 a row.
// CHECK: paged_prefill_bf16{{.*}}PASS
func.func @paged_prefill_bf16(%q: tensor<2x4x70x64xbf16>, %k: tensor<30x2x16x64xbf16>,
                              %v: tensor<30x2x16x64xbf16>, %n: tensor<2xi32>,
                              %t: tensor<2x12xi32>) -> tensor<2x4x70x64xbf16> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<2xi32>)
      block_table(%t : tensor<2x12xi32>) {causal}
      : tensor<2x4x70x64xbf16>, tensor<30x2x16x64xbf16>, tensor<30x2x16x64xbf16>
      -> tensor<2x4x70x64xbf16>
  return %o : tensor<2x4x70x64xbf16>
}
