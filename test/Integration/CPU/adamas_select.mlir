// attn.adamas_select compiled for the CPU; the indices must equal the fp64
// reference's exactly. D is a power of two (Hadamard transform), so D = 96
// is not a valid shape here; D = 1, 64 and 128 are.
// RUN: attn-run %s --random --seed 8 --check | FileCheck %s
// RUN: attn-run %s --random --seed 9 --check | FileCheck %s
// Exact level boundaries need chosen inputs: Inputs/adamas_boundary.py says
// which, and why the order of the result shows the rounding direction.
// RUN: rm -rf %t && mkdir -p %t && python3 %S/Inputs/adamas_boundary.py %t
// RUN: attn-run %s --entry boundary_rounds_up --input query=%t/query.npy --input key=%t/key.npy --check | FileCheck %s --check-prefix=BOUNDARY

// BOUNDARY: boundary_rounds_up {{.*}} PASS

// Decode: Lq = 1 against Lk = 37, D = 64, G = 7, 1 sink key and 2 local
// keys forced, topk = 8.
// CHECK: decode_gqa7 {{.*}} PASS
func.func @decode_gqa7(%q: tensor<2x7x1x64xf32>, %k: tensor<2x1x37x64xf32>)
    -> tensor<2x7x1x8xi32> {
  %i = attn.adamas_select %q, %k {topk = 8 : i64, causal, sink_tokens = 1 : i64, local_window = 2 : i64}
      : tensor<2x7x1x64xf32>, tensor<2x1x37x64xf32> -> tensor<2x7x1x8xi32>
  return %i : tensor<2x7x1x8xi32>
}

// Prefill with D = 128 in f16, causal, topk = 6.
// CHECK: half_prefill {{.*}} PASS
func.func @half_prefill(%q: tensor<1x4x37x128xf16>, %k: tensor<1x2x37x128xf16>)
    -> tensor<1x4x37x6xi32> {
  %i = attn.adamas_select %q, %k {topk = 6 : i64, causal}
      : tensor<1x4x37x128xf16>, tensor<1x2x37x128xf16> -> tensor<1x4x37x6xi32>
  return %i : tensor<1x4x37x6xi32>
}

// D = 1: the transform is the identity and each key quantises to +-1.5 s
// with s = |k| / 1.5; bf16 inputs; topk = 40 >= Lk = 37 pads with -1.
// CHECK: bf16_d1_topk_over_lk {{.*}} PASS
func.func @bf16_d1_topk_over_lk(%q: tensor<1x2x5x1xbf16>, %k: tensor<1x2x37x1xbf16>)
    -> tensor<1x2x5x40xi32> {
  %i = attn.adamas_select %q, %k {topk = 40 : i64, sink_tokens = 2 : i64, local_window = 2 : i64}
      : tensor<1x2x5x1xbf16>, tensor<1x2x37x1xbf16> -> tensor<1x2x5x40xi32>
  return %i : tensor<1x2x5x40xi32>
}

// D = 2 in f16, causal.
// CHECK: half_d2 {{.*}} PASS
func.func @half_d2(%q: tensor<1x1x4x2xf16>, %k: tensor<1x1x37x2xf16>)
    -> tensor<1x1x4x12xi32> {
  %i = attn.adamas_select %q, %k {topk = 12 : i64, causal}
      : tensor<1x1x4x2xf16>, tensor<1x1x37x2xf16> -> tensor<1x1x4x12xi32>
  return %i : tensor<1x1x4x12xi32>
}

// D = 4, two queries and four chosen keys (see the RUN line above): the
// reference answers [1, 0, 3, 2] and [3, 2, 1, 0]; rounding boundaries down
// would give [0, 1, 3, 2] for the first query.
// CHECK: boundary_rounds_up {{.*}} PASS
func.func @boundary_rounds_up(%q: tensor<1x1x2x4xf32>, %k: tensor<1x1x4x4xf32>)
    -> tensor<1x1x2x4xi32> {
  %i = attn.adamas_select %q, %k {topk = 4 : i64}
      : tensor<1x1x2x4xf32>, tensor<1x1x4x4xf32> -> tensor<1x1x2x4xi32>
  return %i : tensor<1x1x2x4xi32>
}
