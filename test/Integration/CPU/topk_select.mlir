// attn.topk_select compiled for the CPU; the indices must equal the fp64
// reference's exactly (order: forced keys ascending, then descending score,
// ties to the lower index, -1 padding).
// RUN: attn-run %s --random --seed 3 --check | FileCheck %s
// RUN: attn-run %s --random --seed 4 --check | FileCheck %s
// Indices off by anything fail: integer outputs are compared exactly.
// RUN: not attn-run %s --entry decode_gqa7 --random --seed 3 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN

// BROKEN: decode_gqa7 {{.*}} FAIL

// Decode: Lq = 1, Lk = 37, D = 96, 7 query heads over 1 kv head; 2 sink keys
// and the last 3 keys forced, then the 3 best of the remaining 32.
// CHECK: decode_gqa7 {{.*}} i32 {{.*}} PASS
func.func @decode_gqa7(%q: tensor<2x7x1x96xf32>, %k: tensor<2x1x37x96xf32>)
    -> tensor<2x7x1x8xi32> {
  %i = attn.topk_select %q, %k {topk = 8 : i64, causal, sink_tokens = 2 : i64, local_window = 3 : i64}
      : tensor<2x7x1x96xf32>, tensor<2x1x37x96xf32> -> tensor<2x7x1x8xi32>
  return %i : tensor<2x7x1x8xi32>
}

// Prefill, Lq = Lk = 37, causal: query i has i + 1 candidates, so early rows
// are all forced or -1 padded; forced sink + local (4 + 4) fill most of
// topk = 10 on the way.
// CHECK: prefill_sink_local {{.*}} PASS
func.func @prefill_sink_local(%q: tensor<1x4x37x32xf32>, %k: tensor<1x2x37x32xf32>)
    -> tensor<1x4x37x10xi32> {
  %i = attn.topk_select %q, %k {topk = 10 : i64, causal, sink_tokens = 4 : i64, local_window = 4 : i64}
      : tensor<1x4x37x32xf32>, tensor<1x2x37x32xf32> -> tensor<1x4x37x10xi32>
  return %i : tensor<1x4x37x10xi32>
}

// topk = 9 >= Lk = 6: every key is returned in score order, then -1; with
// causal and Lq = 8 > Lk the first two queries see nothing (all -1).
// CHECK: topk_at_least_lk {{.*}} PASS
func.func @topk_at_least_lk(%q: tensor<1x2x8x16xf32>, %k: tensor<1x2x6x16xf32>)
    -> tensor<1x2x8x9xi32> {
  %i = attn.topk_select %q, %k {topk = 9 : i64, causal}
      : tensor<1x2x8x16xf32>, tensor<1x2x6x16xf32> -> tensor<1x2x8x9xi32>
  return %i : tensor<1x2x8x9xi32>
}

// Forced keys fill topk exactly: sink 3 + local 5 = topk = 8, no causal
// rule, so no key is chosen by score.
// CHECK: forced_fill_topk {{.*}} PASS
func.func @forced_fill_topk(%q: tensor<1x1x3x8xf32>, %k: tensor<1x1x37x8xf32>)
    -> tensor<1x1x3x8xi32> {
  %i = attn.topk_select %q, %k {topk = 8 : i64, sink_tokens = 3 : i64, local_window = 5 : i64}
      : tensor<1x1x3x8xf32>, tensor<1x1x37x8xf32> -> tensor<1x1x3x8xi32>
  return %i : tensor<1x1x3x8xi32>
}

// Sink and local window overlap on Lk = 5 keys (sink 3, local 3): every key
// is forced once, in ascending order, then -1 padding up to topk = 6.
// CHECK: forced_overlap {{.*}} PASS
func.func @forced_overlap(%q: tensor<1x2x4x8xf32>, %k: tensor<1x2x5x8xf32>)
    -> tensor<1x2x4x6xi32> {
  %i = attn.topk_select %q, %k {topk = 6 : i64, sink_tokens = 3 : i64, local_window = 3 : i64}
      : tensor<1x2x4x8xf32>, tensor<1x2x5x8xf32> -> tensor<1x2x4x6xi32>
  return %i : tensor<1x2x4x6xi32>
}

// f16 and bf16 inputs: scores are exact in f64, so the indices still match.
// CHECK: half_gqa {{.*}} PASS
func.func @half_gqa(%q: tensor<1x6x9x64xf16>, %k: tensor<1x2x37x64xf16>)
    -> tensor<1x6x9x12xi32> {
  %i = attn.topk_select %q, %k {topk = 12 : i64, causal, local_window = 2 : i64}
      : tensor<1x6x9x64xf16>, tensor<1x2x37x64xf16> -> tensor<1x6x9x12xi32>
  return %i : tensor<1x6x9x12xi32>
}

// CHECK: bf16_decode {{.*}} PASS
func.func @bf16_decode(%q: tensor<2x7x1x96xbf16>, %k: tensor<2x7x37x96xbf16>)
    -> tensor<2x7x1x16xi32> {
  %i = attn.topk_select %q, %k {topk = 16 : i64, sink_tokens = 1 : i64}
      : tensor<2x7x1x96xbf16>, tensor<2x7x37x96xbf16> -> tensor<2x7x1x16xi32>
  return %i : tensor<2x7x1x16xi32>
}
