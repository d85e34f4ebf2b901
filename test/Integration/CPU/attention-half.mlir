// f16/bf16 attention with D = Dv in {64, 128}: the shapes the tensor-core
// kernel of attn-gpu-tile takes on CUDA (bench/gpu/sweep.py compiles this
// file for the GPU), checked here on the CPU path against the fp64
// reference: ragged query and key blocks (Lq, Lk not multiples of 64), more
// keys than queries (the causal diagonal moves right), GQA, windows on one
// and on both sides, a window that hides whole key blocks, rows with no
// visible key (output 0, lse -inf), the lse, and decode shapes (split-KV
// with a merge on CUDA).
// RUN: attn-run %s --random --seed 31 --check | FileCheck %s
// CHECK-NOT: FAIL

// CHECK: causal_gqa_bf16{{.*}}PASS
// CHECK: causal_gqa_bf16{{.*}}PASS
func.func @causal_gqa_bf16(%q: tensor<2x6x150x128xbf16>, %k: tensor<2x2x197x128xbf16>,
                           %v: tensor<2x2x197x128xbf16>)
    -> (tensor<2x6x150x128xbf16>, tensor<2x6x150xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal}
      : tensor<2x6x150x128xbf16>, tensor<2x2x197x128xbf16>, tensor<2x2x197x128xbf16>
      -> tensor<2x6x150x128xbf16>, tensor<2x6x150xf32>
  return %o, %l : tensor<2x6x150x128xbf16>, tensor<2x6x150xf32>
}

// CHECK: full_f16_d64{{.*}}PASS
func.func @full_f16_d64(%q: tensor<1x3x77x64xf16>, %k: tensor<1x3x333x64xf16>,
                        %v: tensor<1x3x333x64xf16>) -> tensor<1x3x77x64xf16> {
  %o = attn.attention %q, %k, %v {scale = 0.2 : f64}
      : tensor<1x3x77x64xf16>, tensor<1x3x333x64xf16>, tensor<1x3x333x64xf16>
      -> tensor<1x3x77x64xf16>
  return %o : tensor<1x3x77x64xf16>
}

// Window [70, 5], no causal: key blocks left of the band are skipped.
// CHECK: window_bf16{{.*}}PASS
func.func @window_bf16(%q: tensor<1x2x300x64xbf16>, %k: tensor<1x2x300x64xbf16>,
                       %v: tensor<1x2x300x64xbf16>) -> tensor<1x2x300x64xbf16> {
  %o = attn.attention %q, %k, %v {window = array<i64: 70, 5>}
      : tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>, tensor<1x2x300x64xbf16>
      -> tensor<1x2x300x64xbf16>
  return %o : tensor<1x2x300x64xbf16>
}

// More queries than keys under causal: the first 40 rows see no key.
// CHECK: causal_empty_rows{{.*}}PASS
// CHECK: causal_empty_rows{{.*}}PASS
func.func @causal_empty_rows(%q: tensor<1x2x100x128xbf16>, %k: tensor<1x2x60x128xbf16>,
                             %v: tensor<1x2x60x128xbf16>)
    -> (tensor<1x2x100x128xbf16>, tensor<1x2x100xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, window = array<i64: 20, 0>}
      : tensor<1x2x100x128xbf16>, tensor<1x2x60x128xbf16>, tensor<1x2x60x128xbf16>
      -> tensor<1x2x100x128xbf16>, tensor<1x2x100xf32>
  return %o, %l : tensor<1x2x100x128xbf16>, tensor<1x2x100xf32>
}

// One query (decode shape) against 1000 keys, MQA.
// CHECK: decode_mqa_bf16{{.*}}PASS
func.func @decode_mqa_bf16(%q: tensor<3x8x1x128xbf16>, %k: tensor<3x1x1000x128xbf16>,
                           %v: tensor<3x1x1000x128xbf16>) -> tensor<3x8x1x128xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<3x8x1x128xbf16>, tensor<3x1x1000x128xbf16>, tensor<3x1x1000x128xbf16>
      -> tensor<3x8x1x128xbf16>
  return %o : tensor<3x8x1x128xbf16>
}

// Speculative decode shape: 4 queries, G = 4 (16 rows of a kv head share
// the split-KV decode tile on CUDA), causal and a 300-key window, so splits
// left of the window see no key.
// CHECK: decode_causal_window{{.*}}PASS
// CHECK: decode_causal_window{{.*}}PASS
func.func @decode_causal_window(%q: tensor<2x8x4x64xf16>, %k: tensor<2x2x700x64xf16>,
                                %v: tensor<2x2x700x64xf16>)
    -> (tensor<2x8x4x64xf16>, tensor<2x8x4xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, window = array<i64: 300, 0>}
      : tensor<2x8x4x64xf16>, tensor<2x2x700x64xf16>, tensor<2x2x700x64xf16>
      -> tensor<2x8x4x64xf16>, tensor<2x8x4xf32>
  return %o, %l : tensor<2x8x4x64xf16>, tensor<2x8x4xf32>
}

// A negative scale (allowed by the verifier): on CUDA the generic path,
// since the tensor-core kernel folds the scale in after the row maximum.
// CHECK: negative_scale{{.*}}PASS
func.func @negative_scale(%q: tensor<1x2x70x64xbf16>, %k: tensor<1x2x90x64xbf16>,
                          %v: tensor<1x2x90x64xbf16>) -> tensor<1x2x70x64xbf16> {
  %o = attn.attention %q, %k, %v {scale = -0.25 : f64}
      : tensor<1x2x70x64xbf16>, tensor<1x2x90x64xbf16>, tensor<1x2x90x64xbf16>
      -> tensor<1x2x70x64xbf16>
  return %o : tensor<1x2x70x64xbf16>
}
