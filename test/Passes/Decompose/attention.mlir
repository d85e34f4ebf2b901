// attn-decompose on the softmax ops: the naive form builds the whole score
// matrix with linalg.generic, masks invisible scores with -inf, and divides
// by the row sum only where a row saw a key.
// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s

// GQA with G = 4: the key/value head is the query head floordiv 4 in the
// indexing maps; causal visibility compares j + Lq with i + Lk (both 64 here);
// scale 1/sqrt(32) = 0.1767767.
// CHECK-DAG: #[[QMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[KMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d3, d4)>
// CHECK-DAG: #[[VMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 4, d4, d3)>
// CHECK-LABEL: func.func @gqa_causal
// CHECK-SAME: (%[[Q:.*]]: tensor<1x8x64x32xf32>, %[[K:.*]]: tensor<1x2x64x32xf32>, %[[V:.*]]: tensor<1x2x64x32xf32>)
// CHECK-NOT: attn.attention
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.176776692 : f32
// CHECK: %[[S:.*]] = linalg.generic {indexing_maps = [#[[QMAP]], #[[KMAP]], {{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]], %[[K]] :
// CHECK: linalg.generic {{.*}} ins(%[[S]] :
// CHECK:   arith.mulf %{{.*}}, %[[SCALE]] : f32
// CHECK:   arith.cmpi sle
// CHECK:   arith.select %{{.*}}, %{{.*}}, %[[NEGINF]] : f32
// CHECK: arith.maximumf
// CHECK: math.exp
// CHECK: linalg.generic {indexing_maps = [#[[QMAP]], #[[VMAP]], {{.*}}]{{.*}} ins(%{{.*}}, %[[V]] :
// CHECK: arith.divf
// CHECK: math.log
func.func @gqa_causal(%q: tensor<1x8x64x32xf32>, %k: tensor<1x2x64x32xf32>,
                      %v: tensor<1x2x64x32xf32>) -> (tensor<1x8x64x32xf32>, tensor<1x8x64xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal}
      : tensor<1x8x64x32xf32>, tensor<1x2x64x32xf32>, tensor<1x2x64x32xf32>
      -> tensor<1x8x64x32xf32>, tensor<1x8x64xf32>
  return %o, %l : tensor<1x8x64x32xf32>, tensor<1x8x64xf32>
}

// -----

// bf16 inputs are extended to f32 for the products and the output is
// truncated back to bf16 at the end.
// CHECK-LABEL: func.func @bf16_inputs
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %{{.*}} : tensor<1x1x4x8xbf16>
func.func @bf16_inputs(%q: tensor<1x1x4x8xbf16>, %k: tensor<1x1x4x8xbf16>,
                       %v: tensor<1x1x4x8xbf16>) -> tensor<1x1x4x8xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<1x1x4x8xbf16>, tensor<1x1x4x8xbf16>, tensor<1x1x4x8xbf16>
      -> tensor<1x1x4x8xbf16>
  return %o : tensor<1x1x4x8xbf16>
}

// -----

// Softcap 30: s = 30 * tanh(s / 30); the score_mod region is inlined into
// the score generic with its block arguments bound to the score and indices.
// CHECK-LABEL: func.func @softcap_and_score_mod
// CHECK-DAG: %[[CAP:.*]] = arith.constant 3.000000e+01 : f32
// CHECK-DAG: %[[BIAS:.*]] = arith.constant 2.500000e-01 : f32
// CHECK: arith.divf %{{.*}}, %[[CAP]] : f32
// CHECK: math.tanh
// CHECK: arith.addf %{{.*}}, %[[BIAS]] : f32
func.func @softcap_and_score_mod(%q: tensor<1x1x4x8xf32>, %k: tensor<1x1x4x8xf32>,
                                 %v: tensor<1x1x4x8xf32>) -> tensor<1x1x4x8xf32> {
  %o = attn.attention %q, %k, %v score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %c = arith.constant 0.25 : f32
    %r = arith.addf %s, %c : f32
    attn.yield %r : f32
  } {softcap = 30.0 : f64}
      : tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32>, tensor<1x1x4x8xf32> -> tensor<1x1x4x8xf32>
  return %o : tensor<1x1x4x8xf32>
}

// -----

// Block lists: a [B, Hq, NQB, NKB] i1 table is filled by loops over the
// lists (ceil(20 / 8) = 3 query blocks, ceil(20 / 4) = 5 key blocks) and read
// at (i floordiv 8, j floordiv 4) for each score.
// CHECK-LABEL: func.func @block_lists
// CHECK: tensor.empty() : tensor<1x2x3x5xi1>
// CHECK: scf.for
// CHECK: scf.if
// CHECK: tensor.insert %{{.*}} into %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : tensor<1x2x3x5xi1>
// CHECK: arith.divui %{{.*}}, %c8
// CHECK: arith.divui %{{.*}}, %c4
// CHECK: tensor.extract %{{.*}} : tensor<1x2x3x5xi1>
func.func @block_lists(%q: tensor<1x2x20x8xf32>, %k: tensor<1x2x20x8xf32>,
                       %v: tensor<1x2x20x8xf32>, %n: tensor<1x2x3xi32>,
                       %i: tensor<1x2x3x2xi32>) -> tensor<1x2x20x8xf32> {
  %o = attn.attention %q, %k, %v blocks(%n, %i : tensor<1x2x3xi32>, tensor<1x2x3x2xi32>)
      {block_q = 8 : i64, block_k = 4 : i64}
      : tensor<1x2x20x8xf32>, tensor<1x2x20x8xf32>, tensor<1x2x20x8xf32> -> tensor<1x2x20x8xf32>
  return %o : tensor<1x2x20x8xf32>
}

// -----

// merge: weights exp(lse_n - max) skip partials whose lse is -inf.
// CHECK-LABEL: func.func @merge
// CHECK-NOT: attn.merge
// CHECK: arith.maximumf
// CHECK: arith.cmpf oeq, %{{.*}}, %{{.*}} : f32
// CHECK: math.exp
// CHECK: math.log
func.func @merge(%o: tensor<3x1x2x5x8xf32>, %l: tensor<3x1x2x5xf32>)
    -> (tensor<1x2x5x8xf32>, tensor<1x2x5xf32>) {
  %out, %lse = attn.merge %o, %l : tensor<3x1x2x5x8xf32>, tensor<3x1x2x5xf32>
      -> tensor<1x2x5x8xf32>, tensor<1x2x5xf32>
  return %out, %lse : tensor<1x2x5x8xf32>, tensor<1x2x5xf32>
}


// -----

// A paged cache: K and V are read through the block table into their logical
// [B, Hkv, NP * PS, *] form (page = table[b, j / 4] clamped into [0, 8], row
// j % 4); the key count clamp(kv_lens[b], 0, 12) hides keys past it and is
// where the causal rule aligns (j + Lq <= i + count).
// CHECK-LABEL: func.func @paged_cache
// CHECK-SAME: %[[K:[a-zA-Z0-9_]+]]: tensor<9x2x4x16xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<9x2x4x8xf32>, %[[N:[a-zA-Z0-9_]+]]: tensor<2xi32>, %[[T:[a-zA-Z0-9_]+]]: tensor<2x3xi32>
// CHECK: %[[LK:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2x12x16xf32>)
// CHECK:   arith.divui %{{.*}}, %c4
// CHECK:   arith.remui %{{.*}}, %c4
// CHECK:   tensor.extract %[[T]]
// CHECK:   arith.maxsi
// CHECK:   arith.minsi
// CHECK:   tensor.extract %[[K]]
// CHECK: %[[LV:.*]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<2x2x12x8xf32>)
// CHECK:   tensor.extract %[[V]]
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[LK]] :
// CHECK: linalg.generic
// CHECK:   %[[RAW:.*]] = tensor.extract %[[N]]
// CHECK:   %[[POS:.*]] = arith.maxsi %[[RAW]], %c0_i32
// CHECK:   %[[IDX:.*]] = arith.index_cast %[[POS]] : i32 to index
// CHECK:   %[[COUNT:.*]] = arith.minsi %[[IDX]], %c12
// CHECK:   arith.cmpi slt, %{{.*}}, %[[COUNT]]
// CHECK:   arith.addi %{{.*}}, %[[COUNT]]
// CHECK:   arith.cmpi sle
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[LV]] :
func.func @paged_cache(%q: tensor<2x4x3x16xf32>, %k: tensor<9x2x4x16xf32>, %v: tensor<9x2x4x8xf32>, %n: tensor<2xi32>, %t: tensor<2x3xi32>) -> tensor<2x4x3x8xf32> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<2xi32>) block_table(%t : tensor<2x3xi32>) {causal} : tensor<2x4x3x16xf32>, tensor<9x2x4x16xf32>, tensor<9x2x4x8xf32> -> tensor<2x4x3x8xf32>
  return %o : tensor<2x4x3x8xf32>
}
