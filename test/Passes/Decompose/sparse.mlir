// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s

// Naive decompositions of attn.sparse_attention and the selection ops: the
// listed-block visibility tensor, the f64 score matrices (q.k, Hadamard and
// 2-bit Manhattan, Quest bound, DSA relu sum), page min/max, and the
// selection loop that orders candidates. No attn op may survive.

// Query blocks of 2, key blocks of 4 over Lk = 10 (NKB = 3), indices per kv
// head (Hi = Hkv = 2, G = 2), causal: selected[b, h/2, i/2, j/4] and
// j + Lq <= i + Lk, then the softmax core (scale 1/sqrt(8) = 0.3535...).
// CHECK-LABEL: func.func @sparse_blocks
// CHECK-SAME: %[[Q:[a-zA-Z0-9_-]+]]: tensor<1x4x6x8xf32>, %[[K:[a-zA-Z0-9_-]+]]: tensor<1x2x10x8xf32>, %[[V:[a-zA-Z0-9_-]+]]: tensor<1x2x10x4xf32>, %[[I:[a-zA-Z0-9_-]+]]: tensor<1x2x3x2xi32>
// CHECK-DAG: %[[TRUE:[a-zA-Z0-9_-]+]] = arith.constant true
// CHECK-DAG: %[[FALSE:[a-zA-Z0-9_-]+]] = arith.constant false
// CHECK-DAG: %[[NKB:[a-zA-Z0-9_-]+]] = arith.constant 3 : index
// CHECK: %[[NONE:[a-zA-Z0-9_-]+]] = linalg.fill ins(%[[FALSE]] : i1) outs(%{{.*}} : tensor<1x2x3x3xi1>)
// CHECK: %[[SEL:[a-zA-Z0-9_-]+]] = scf.for %[[B:[a-zA-Z0-9_-]+]] = {{.*}} iter_args(%{{.*}} = %[[NONE]])
// CHECK: scf.for %[[H:[a-zA-Z0-9_-]+]] =
// CHECK: scf.for %[[QB:[a-zA-Z0-9_-]+]] =
// CHECK: scf.for %[[N:[a-zA-Z0-9_-]+]] = {{.*}} iter_args(%[[ACC:[a-zA-Z0-9_-]+]] =
// CHECK: %[[ID:[a-zA-Z0-9_-]+]] = tensor.extract %[[I]][%[[B]], %[[H]], %[[QB]], %[[N]]]
// CHECK: %[[KB:[a-zA-Z0-9_-]+]] = arith.index_cast %[[ID]] : i32 to index
// CHECK-DAG: arith.cmpi slt, %[[KB]], %[[NKB]]
// CHECK-DAG: arith.cmpi sge, %[[KB]], %{{.*}}
// CHECK: scf.if
// CHECK: tensor.insert %[[TRUE]] into %[[ACC]][%[[B]], %[[H]], %[[QB]], %[[KB]]]
// CHECK: linalg.generic {{.*}} ins(%[[Q]], %[[K]] :
// CHECK: linalg.generic
// CHECK: %[[VH:[a-zA-Z0-9_-]+]] = arith.divui %{{.*}}, %c2 : index
// CHECK: %[[VQB:[a-zA-Z0-9_-]+]] = arith.divui %{{.*}}, %c2 : index
// CHECK: %[[VKB:[a-zA-Z0-9_-]+]] = arith.divui %{{.*}}, %c4 : index
// CHECK: %[[VIS:[a-zA-Z0-9_-]+]] = tensor.extract %[[SEL]][%{{.*}}, %[[VH]], %[[VQB]], %[[VKB]]] : tensor<1x2x3x3xi1>
// CHECK: %[[CAUSAL:[a-zA-Z0-9_-]+]] = arith.cmpi sle
// CHECK: %[[BOTH:[a-zA-Z0-9_-]+]] = arith.andi %[[VIS]], %[[CAUSAL]]
// CHECK: arith.select %[[BOTH]]
// CHECK: math.exp
// CHECK: math.log
// CHECK-NOT: attn.
func.func @sparse_blocks(%q: tensor<1x4x6x8xf32>, %k: tensor<1x2x10x8xf32>, %v: tensor<1x2x10x4xf32>, %i: tensor<1x2x3x2xi32>) -> (tensor<1x4x6x4xf32>, tensor<1x4x6xf32>) {
  %o, %l = attn.sparse_attention %q, %k, %v, %i : tensor<1x2x3x2xi32> {query_block = 2 : i64, key_block = 4 : i64, causal} : tensor<1x4x6x8xf32>, tensor<1x2x10x8xf32>, tensor<1x2x10x4xf32> -> tensor<1x4x6x4xf32>, tensor<1x4x6xf32>
  return %o, %l : tensor<1x4x6x4xf32>, tensor<1x4x6xf32>
}

// -----

// Indices shared by all heads (Hi = 1): every query head reads index head 0.
// f16 output cast back from the f32 softmax.
// CHECK-LABEL: func.func @sparse_shared_half
// CHECK: %[[SEL:[a-zA-Z0-9_-]+]] = scf.for
// CHECK: linalg.generic
// CHECK: tensor.extract %[[SEL]][%{{.*}}, %c0, %{{.*}}, %{{.*}}] : tensor<1x1x3x5xi1>
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK-NOT: attn.
func.func @sparse_shared_half(%q: tensor<1x4x3x8xf16>, %k: tensor<1x2x5x8xf16>, %v: tensor<1x2x5x8xf16>, %i: tensor<1x1x3x2xi32>) -> tensor<1x4x3x8xf16> {
  %o = attn.sparse_attention %q, %k, %v, %i : tensor<1x1x3x2xi32> : tensor<1x4x3x8xf16>, tensor<1x2x5x8xf16>, tensor<1x2x5x8xf16> -> tensor<1x4x3x8xf16>
  return %o : tensor<1x4x3x8xf16>
}

// -----

// Exact top-2 of Lk = 5 keys per query, GQA 4 over 2, causal, 1 sink key:
// f64 scores sum_d q.k (f16 inputs extended, exact), then per (b, h, i) a
// slot loop of topk = 2 iterations, each scanning the `count` candidates
// (keys j <= i + Lk - Lq) for the first item after the previous pick.
// CHECK-DAG: #[[$KV:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 2, d3, d4)>
// CHECK-LABEL: func.func @topk
// CHECK-SAME: %[[Q:[a-zA-Z0-9_-]+]]: tensor<1x4x3x8xf16>, %[[K:[a-zA-Z0-9_-]+]]: tensor<1x2x5x8xf16>
// CHECK-DAG: %[[PAD:[a-zA-Z0-9_-]+]] = arith.constant -1 : i32
// CHECK-DAG: %[[TOPK:[a-zA-Z0-9_-]+]] = arith.constant 2 : index
// CHECK: %[[SCORES:[a-zA-Z0-9_-]+]] = linalg.generic {indexing_maps = [#{{.*}}, #[[$KV]], #{{.*}}], {{.*}} ins(%[[Q]], %[[K]] : {{.*}}) outs(%{{.*}} : tensor<1x4x3x5xf64>)
// CHECK: arith.extf %{{.*}} : f16 to f64
// CHECK: arith.mulf %{{.*}}, %{{.*}} : f64
// CHECK: arith.addf %{{.*}}, %{{.*}} : f64
// CHECK: %[[INIT:[a-zA-Z0-9_-]+]] = linalg.fill ins(%[[PAD]] : i32) outs(%{{.*}} : tensor<1x4x3x2xi32>)
// CHECK: scf.for %[[B:[a-zA-Z0-9_-]+]] = {{.*}} iter_args(%{{.*}} = %[[INIT]])
// CHECK: scf.for %[[H:[a-zA-Z0-9_-]+]] =
// CHECK: scf.for %[[I:[a-zA-Z0-9_-]+]] =
// CHECK: %[[LAST:[a-zA-Z0-9_-]+]] = arith.minsi
// CHECK: %[[COUNT:[a-zA-Z0-9_-]+]] = arith.select %{{.*}}, %{{.*}}, %{{.*}} : index
// CHECK: %[[SLOTS:[a-zA-Z0-9_-]+]]:4 = scf.for %[[SLOT:[a-zA-Z0-9_-]+]] = %{{.*}} to %[[TOPK]] {{.*}} iter_args(%[[ACC:[a-zA-Z0-9_-]+]] = %{{.*}}, %{{.*}} = %c-1, %{{.*}} = %{{.*}}, %{{.*}} = %false) -> (tensor<1x4x3x2xi32>, index, f64, i1)
// CHECK: %[[BEST:[a-zA-Z0-9_-]+]]:3 = scf.for %[[J:[a-zA-Z0-9_-]+]] = %{{.*}} to %[[COUNT]] {{.*}} -> (index, f64, i1)
// CHECK: %[[S:[a-zA-Z0-9_-]+]] = tensor.extract %[[SCORES]][%[[B]], %[[H]], %[[I]], %[[J]]] : tensor<1x4x3x5xf64>
// CHECK: arith.cmpf ogt, %{{.*}}, %[[S]] : f64
// CHECK: arith.cmpf oeq, %{{.*}}, %[[S]] : f64
// CHECK: arith.cmpf ogt, %[[S]], %{{.*}} : f64
// CHECK: %[[ID:[a-zA-Z0-9_-]+]] = arith.index_cast %[[BEST]]#0 : index to i32
// CHECK: tensor.insert %[[ID]] into %[[ACC]][%[[B]], %[[H]], %[[I]], %[[SLOT]]]
// CHECK-NOT: attn.
func.func @topk(%q: tensor<1x4x3x8xf16>, %k: tensor<1x2x5x8xf16>) -> tensor<1x4x3x2xi32> {
  %i = attn.topk_select %q, %k {topk = 2 : i64, causal, sink_tokens = 1 : i64} : tensor<1x4x3x8xf16>, tensor<1x2x5x8xf16> -> tensor<1x4x3x2xi32>
  return %i : tensor<1x4x3x2xi32>
}

// -----

// Adamas with D = 4: H[e][c] = (-1)^popcount(e & c) applied as a sum, times
// 1/sqrt(4) = 0.5; s = max|k'| / 1.5; level = clamp(floor(k'/s + 2), 0, 3)
// - 1.5 (boundaries round up), 0 when s = 0; score = sum of -|q' - kq|.
// CHECK-LABEL: func.func @adamas
// CHECK-SAME: %[[Q:[a-zA-Z0-9_-]+]]: tensor<1x2x3x4xf32>, %[[K:[a-zA-Z0-9_-]+]]: tensor<1x1x5x4xf32>
// CHECK-DAG: %[[HALF:[a-zA-Z0-9_-]+]] = arith.constant 5.000000e-01 : f64
// CHECK-DAG: %[[ONEHALF:[a-zA-Z0-9_-]+]] = arith.constant 1.500000e+00 : f64
// CHECK-DAG: %[[TWO:[a-zA-Z0-9_-]+]] = arith.constant 2.000000e+00 : f64
// CHECK-DAG: %[[THREE:[a-zA-Z0-9_-]+]] = arith.constant 3.000000e+00 : f64
// CHECK-DAG: %[[ZERO:[a-zA-Z0-9_-]+]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[QSUM:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[Q]] : tensor<1x2x3x4xf32>)
// CHECK: %[[AND:[a-zA-Z0-9_-]+]] = arith.andi %{{.*}}, %{{.*}} : i64
// CHECK: %[[BITS:[a-zA-Z0-9_-]+]] = math.ctpop %[[AND]] : i64
// CHECK: %[[ODD:[a-zA-Z0-9_-]+]] = arith.trunci %[[BITS]] : i64 to i1
// CHECK: %[[X:[a-zA-Z0-9_-]+]] = arith.extf %{{.*}} : f32 to f64
// CHECK: %[[NEG:[a-zA-Z0-9_-]+]] = arith.negf %[[X]] : f64
// CHECK: arith.select %[[ODD]], %[[NEG]], %[[X]] : f64
// CHECK: %[[QT:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[QSUM]]
// CHECK: arith.mulf %{{.*}}, %[[HALF]] : f64
// CHECK: linalg.generic {{.*}} ins(%[[K]] : tensor<1x1x5x4xf32>)
// CHECK: %[[KT:[a-zA-Z0-9_-]+]] = linalg.generic
// CHECK: %[[AMAX:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[KT]] : tensor<1x1x5x4xf64>) outs(%{{.*}} : tensor<1x1x5xf64>)
// CHECK: math.absf
// CHECK: arith.maximumf
// CHECK: %[[KQ:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[KT]], %[[AMAX]] :
// CHECK-NEXT: ^bb0(%[[KV:[a-zA-Z0-9_-]+]]: f64, %[[MAXV:[a-zA-Z0-9_-]+]]: f64, %{{.*}}: f64):
// CHECK-NEXT: %[[S:[a-zA-Z0-9_-]+]] = arith.divf %[[MAXV]], %[[ONEHALF]] : f64
// CHECK-NEXT: %[[R:[a-zA-Z0-9_-]+]] = arith.divf %[[KV]], %[[S]] : f64
// CHECK-NEXT: %[[SHIFTED:[a-zA-Z0-9_-]+]] = arith.addf %[[R]], %[[TWO]] : f64
// CHECK-NEXT: %[[IDX:[a-zA-Z0-9_-]+]] = math.floor %[[SHIFTED]] : f64
// CHECK-NEXT: %[[LO:[a-zA-Z0-9_-]+]] = arith.maximumf %[[IDX]], %[[ZERO]] : f64
// CHECK-NEXT: %[[HI:[a-zA-Z0-9_-]+]] = arith.minimumf %[[LO]], %[[THREE]] : f64
// CHECK-NEXT: %[[LEVEL:[a-zA-Z0-9_-]+]] = arith.subf %[[HI]], %[[ONEHALF]] : f64
// CHECK-NEXT: %[[POS:[a-zA-Z0-9_-]+]] = arith.cmpf ogt, %[[S]], %[[ZERO]] : f64
// CHECK-NEXT: %[[CHOSEN:[a-zA-Z0-9_-]+]] = arith.select %[[POS]], %[[LEVEL]], %[[ZERO]] : f64
// CHECK-NEXT: %[[KQV:[a-zA-Z0-9_-]+]] = arith.mulf %[[CHOSEN]], %[[S]] : f64
// CHECK-NEXT: linalg.yield %[[KQV]]
// CHECK: %[[SCORES:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[QT]], %[[KQ]] :
// CHECK: %[[DIFF:[a-zA-Z0-9_-]+]] = arith.subf
// CHECK: %[[DIST:[a-zA-Z0-9_-]+]] = math.absf %[[DIFF]] : f64
// CHECK: arith.negf %[[DIST]] : f64
// CHECK: tensor.extract %[[SCORES]]
// CHECK-NOT: attn.
func.func @adamas(%q: tensor<1x2x3x4xf32>, %k: tensor<1x1x5x4xf32>) -> tensor<1x2x3x2xi32> {
  %i = attn.adamas_select %q, %k {topk = 2 : i64} : tensor<1x2x3x4xf32>, tensor<1x1x5x4xf32> -> tensor<1x2x3x2xi32>
  return %i : tensor<1x2x3x2xi32>
}

// -----

// Pages of 4 over Lk = 10 (P = 3): keys gathered as [B,H,P,4,D] with the key
// index clamped to Lk - 1 = 9 (the ragged page repeats its last key), then a
// min from +inf and a max from -inf over the page axis.
// CHECK-LABEL: func.func @page_bounds
// CHECK-SAME: %[[K:[a-zA-Z0-9_-]+]]: tensor<1x2x10x8xbf16>
// CHECK-DAG: %[[NEGINF:[a-zA-Z0-9_-]+]] = arith.constant 0xFF800000 : f32
// CHECK-DAG: %[[INF:[a-zA-Z0-9_-]+]] = arith.constant 0x7F800000 : f32
// CHECK-DAG: %[[PAGE:[a-zA-Z0-9_-]+]] = arith.constant 4 : index
// CHECK: %[[LAST:[a-zA-Z0-9_-]+]] = arith.subi %c10, %c1 : index
// CHECK: %[[PAGED:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2x3x4x8xf32>)
// CHECK: %[[FIRST:[a-zA-Z0-9_-]+]] = arith.muli %{{.*}}, %[[PAGE]] : index
// CHECK: %[[J:[a-zA-Z0-9_-]+]] = arith.addi %[[FIRST]], %{{.*}} : index
// CHECK: %[[CLAMPED:[a-zA-Z0-9_-]+]] = arith.minsi %[[J]], %[[LAST]] : index
// CHECK: tensor.extract %[[K]][%{{.*}}, %{{.*}}, %[[CLAMPED]], %{{.*}}] : tensor<1x2x10x8xbf16>
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[MININIT:[a-zA-Z0-9_-]+]] = linalg.fill ins(%[[INF]] : f32)
// CHECK: %[[MIN:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction", "parallel"]} ins(%[[PAGED]] : {{.*}}) outs(%[[MININIT]] :
// CHECK: arith.minimumf
// CHECK: %[[MAXINIT:[a-zA-Z0-9_-]+]] = linalg.fill ins(%[[NEGINF]] : f32)
// CHECK: %[[MAX:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[PAGED]] : {{.*}}) outs(%[[MAXINIT]] :
// CHECK: arith.maximumf
// CHECK: return %[[MIN]], %[[MAX]]
func.func @page_bounds(%k: tensor<1x2x10x8xbf16>) -> (tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>) {
  %mn, %mx = attn.page_bounds %k {page_size = 4 : i64} : tensor<1x2x10x8xbf16> -> tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>
  return %mn, %mx : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>
}

// -----

// Quest over P = 3 pages of 4 keys, key_length 10, causal decode, local
// window of 1 key: bound = sum_d max(q m, q M) in f64; page p is a candidate
// when p <= last / 4 and forced when 4 (p + 1) > first local key.
// CHECK-LABEL: func.func @quest
// CHECK-SAME: %[[Q:[a-zA-Z0-9_-]+]]: tensor<1x4x1x8xf32>, %[[MIN:[a-zA-Z0-9_-]+]]: tensor<1x2x3x8xf32>, %[[MAX:[a-zA-Z0-9_-]+]]: tensor<1x2x3x8xf32>
// CHECK-DAG: %[[PAGE:[a-zA-Z0-9_-]+]] = arith.constant 4 : index
// CHECK: %[[BOUND:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[Q]], %[[MIN]], %[[MAX]] : {{.*}}) outs(%{{.*}} : tensor<1x4x1x3xf64>)
// CHECK: %[[QD:[a-zA-Z0-9_-]+]] = arith.extf %{{.*}} : f32 to f64
// CHECK: %[[LO:[a-zA-Z0-9_-]+]] = arith.mulf %[[QD]], %{{.*}} : f64
// CHECK: %[[HI:[a-zA-Z0-9_-]+]] = arith.mulf %[[QD]], %{{.*}} : f64
// CHECK: %[[BEST:[a-zA-Z0-9_-]+]] = arith.maximumf %[[LO]], %[[HI]] : f64
// CHECK: arith.addf %{{.*}}, %[[BEST]] : f64
// CHECK: %[[LAST:[a-zA-Z0-9_-]+]] = arith.minsi
// CHECK: %[[PAGES:[a-zA-Z0-9_-]+]] = arith.divsi %[[LAST]], %[[PAGE]] : index
// CHECK: scf.for
// CHECK: scf.for %[[P:[a-zA-Z0-9_-]+]] =
// CHECK: tensor.extract %[[BOUND]]
// CHECK: %[[FIRSTKEY:[a-zA-Z0-9_-]+]] = arith.muli %[[P]], %[[PAGE]] : index
// CHECK: %[[END:[a-zA-Z0-9_-]+]] = arith.addi %[[FIRSTKEY]], %[[PAGE]] : index
// CHECK: arith.cmpi sgt, %[[END]], %{{.*}} : index
// CHECK-NOT: attn.
func.func @quest(%q: tensor<1x4x1x8xf32>, %mn: tensor<1x2x3x8xf32>, %mx: tensor<1x2x3x8xf32>) -> tensor<1x4x1x2xi32> {
  %i = attn.quest_select %q, %mn, %mx {page_size = 4 : i64, key_length = 10 : i64, topk = 2 : i64, causal, local_window = 1 : i64} : tensor<1x4x1x8xf32>, tensor<1x2x3x8xf32> -> tensor<1x4x1x2xi32>
  return %i : tensor<1x4x1x2xi32>
}

// -----

// DSA indexer with 3 indexer heads: f64 dots qi_h . k_j against the single
// key head (h floordiv 3 = 0), then score = sum_h w[b,h,i] relu(dot) reduced
// over the head loop, selected into [B, 1, Lq, topk].
// CHECK-DAG: #[[$ONEKV:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1 floordiv 3, d3, d4)>
// CHECK-DAG: #[[$W:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2)>
// CHECK-DAG: #[[$DOTS:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d4, d2, d3)>
// CHECK-LABEL: func.func @dsa
// CHECK-SAME: %[[QI:[a-zA-Z0-9_-]+]]: tensor<1x3x5x8xbf16>, %[[KI:[a-zA-Z0-9_-]+]]: tensor<1x1x5x8xbf16>, %[[W:[a-zA-Z0-9_-]+]]: tensor<1x3x5xf32>
// CHECK-DAG: %[[ZERO:[a-zA-Z0-9_-]+]] = arith.constant 0.000000e+00 : f64
// CHECK: %[[DOT:[a-zA-Z0-9_-]+]] = linalg.generic {indexing_maps = [#{{.*}}, #[[$ONEKV]], #{{.*}}], {{.*}} ins(%[[QI]], %[[KI]] : {{.*}}) outs(%{{.*}} : tensor<1x3x5x5xf64>)
// CHECK: %[[SCORES:[a-zA-Z0-9_-]+]] = linalg.generic {indexing_maps = [#[[$W]], #[[$DOTS]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[W]], %[[DOT]] : {{.*}}) outs(%{{.*}} : tensor<1x1x5x5xf64>)
// CHECK-NEXT: ^bb0(%[[WV:[a-zA-Z0-9_-]+]]: f32, %[[DV:[a-zA-Z0-9_-]+]]: f64, %[[ACC:[a-zA-Z0-9_-]+]]: f64):
// CHECK-NEXT: %[[RELU:[a-zA-Z0-9_-]+]] = arith.maximumf %[[DV]], %[[ZERO]] : f64
// CHECK-NEXT: %[[WD:[a-zA-Z0-9_-]+]] = arith.extf %[[WV]] : f32 to f64
// CHECK-NEXT: %[[TERM:[a-zA-Z0-9_-]+]] = arith.mulf %[[WD]], %[[RELU]] : f64
// CHECK-NEXT: arith.addf %[[ACC]], %[[TERM]] : f64
// CHECK: scf.for
// CHECK: tensor.extract %[[SCORES]]
// CHECK: tensor.insert %{{.*}} : tensor<1x1x5x2xi32>
// CHECK-NOT: attn.
func.func @dsa(%qi: tensor<1x3x5x8xbf16>, %ki: tensor<1x1x5x8xbf16>, %w: tensor<1x3x5xf32>) -> tensor<1x1x5x2xi32> {
  %i = attn.dsa_indexer %qi, %ki, %w {topk = 2 : i64, causal} : tensor<1x3x5x8xbf16>, tensor<1x1x5x8xbf16>, tensor<1x3x5xf32> -> tensor<1x1x5x2xi32>
  return %i : tensor<1x1x5x2xi32>
}
