// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s

// Naive decompositions of the compressed-KV ops: quant_attention's
// dequantisation (8 and 4 bits, with and without zero points) feeding the
// softmax core, pq_encode's nearest centroid and nibble packing,
// pq_attention's code-to-centroid gather, and pq_fit's k-means++ / Lloyd
// loops on the splitmix64 stream. No attn op may survive.

// int8 without zero points: signed codes, x = scale * code. Group 3: keys
// read scale row j floordiv 3, values scale column c floordiv 3.
// CHECK-DAG: #[[$ID:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-DAG: #[[$KSCALE:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2 floordiv 3, d3)>
// CHECK-DAG: #[[$VSCALE:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 floordiv 3)>
// CHECK-LABEL: func.func @int8_symmetric
// CHECK-SAME: %[[Q:[a-zA-Z0-9_-]+]]: tensor<1x2x3x4xf32>, %[[KC:[a-zA-Z0-9_-]+]]: tensor<1x1x5x4xi8>, %[[KS:[a-zA-Z0-9_-]+]]: tensor<1x1x2x4xf32>, %[[VC:[a-zA-Z0-9_-]+]]: tensor<1x1x5x6xi8>, %[[VS:[a-zA-Z0-9_-]+]]: tensor<1x1x5x2xf32>
// CHECK: %[[K:[a-zA-Z0-9_-]+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$KSCALE]], #[[$ID]]], {{.*}} ins(%[[KC]], %[[KS]] : {{.*}}) outs(%{{.*}} : tensor<1x1x5x4xf32>)
// CHECK-NEXT: ^bb0(%[[CODE:[a-zA-Z0-9_-]+]]: i8, %[[SCALE:[a-zA-Z0-9_-]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[F:[a-zA-Z0-9_-]+]] = arith.sitofp %[[CODE]] : i8 to f32
// CHECK-NEXT: %[[X:[a-zA-Z0-9_-]+]] = arith.mulf %[[SCALE]], %[[F]] : f32
// CHECK-NEXT: linalg.yield %[[X]]
// CHECK: %[[V:[a-zA-Z0-9_-]+]] = linalg.generic {indexing_maps = [#[[$ID]], #[[$VSCALE]], #[[$ID]]], {{.*}} ins(%[[VC]], %[[VS]] : {{.*}}) outs(%{{.*}} : tensor<1x1x5x6xf32>)
// CHECK: arith.sitofp %{{.*}} : i8 to f32
// CHECK: linalg.generic {{.*}} ins(%[[Q]], %[[K]] :
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[V]] :
// CHECK-NOT: attn.
func.func @int8_symmetric(%q: tensor<1x2x3x4xf32>, %kc: tensor<1x1x5x4xi8>, %ks: tensor<1x1x2x4xf32>, %vc: tensor<1x1x5x6xi8>, %vs: tensor<1x1x5x2xf32>) -> tensor<1x2x3x6xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x1x5x4xi8>, tensor<1x1x2x4xf32>) value(%vc, %vs : tensor<1x1x5x6xi8>, tensor<1x1x5x2xf32>) {bits = 8 : i64, group_size = 3 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x6xf32>
  return %o : tensor<1x2x3x6xf32>
}

// -----

// int8 with zero points: unsigned codes 0..255, x = scale * code + zero;
// causal; lse returned; the bf16 output is rounded from f32.
// CHECK-LABEL: func.func @int8_zeros
// CHECK-SAME: %[[KC:[a-zA-Z0-9_-]+]]: tensor<1x1x5x4xi8>, %[[KS:[a-zA-Z0-9_-]+]]: tensor<1x1x2x4xf32>, %[[KZ:[a-zA-Z0-9_-]+]]: tensor<1x1x2x4xf32>
// CHECK: linalg.generic {{.*}} ins(%[[KC]], %[[KS]], %[[KZ]] : {{.*}}) outs(%{{.*}} : tensor<1x1x5x4xf32>)
// CHECK-NEXT: ^bb0(%[[CODE:[a-zA-Z0-9_-]+]]: i8, %[[SCALE:[a-zA-Z0-9_-]+]]: f32, %[[ZERO:[a-zA-Z0-9_-]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[F:[a-zA-Z0-9_-]+]] = arith.uitofp %[[CODE]] : i8 to f32
// CHECK-NEXT: %[[S:[a-zA-Z0-9_-]+]] = arith.mulf %[[SCALE]], %[[F]] : f32
// CHECK-NEXT: %[[X:[a-zA-Z0-9_-]+]] = arith.addf %[[S]], %[[ZERO]] : f32
// CHECK-NEXT: linalg.yield %[[X]]
// CHECK: arith.uitofp %{{.*}} : i8 to f32
// CHECK: arith.cmpi sle
// CHECK: %[[OUT:[a-zA-Z0-9_-]+]] = linalg.generic
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %{{.*}}, %{{.*}} : tensor<1x2x3x6xbf16>, tensor<1x2x3xf32>
// CHECK-NOT: attn.
func.func @int8_zeros(%q: tensor<1x2x3x4xbf16>, %kc: tensor<1x1x5x4xi8>, %ks: tensor<1x1x2x4xf32>, %kz: tensor<1x1x2x4xf32>, %vc: tensor<1x1x5x6xi8>, %vs: tensor<1x1x5x2xf32>, %vz: tensor<1x1x5x2xf32>) -> (tensor<1x2x3x6xbf16>, tensor<1x2x3xf32>) {
  %o, %l = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<1x1x5x4xi8>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) value(%vc, %vs, zero %vz : tensor<1x1x5x6xi8>, tensor<1x1x5x2xf32>, tensor<1x1x5x2xf32>) {bits = 8 : i64, group_size = 3 : i64, causal} : tensor<1x2x3x4xbf16> -> tensor<1x2x3x6xbf16>, tensor<1x2x3xf32>
  return %o, %l : tensor<1x2x3x6xbf16>, tensor<1x2x3xf32>
}

// -----

// int4 without zero points: channel c lives in byte c floordiv 2, low nibble
// first; shift = 4 (c mod 2); the signed nibble is (byte << (4 - shift))
// >>s 4, so 0xF reads -1.
// CHECK-DAG: #[[$BYTE:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 floordiv 2)>
// CHECK-LABEL: func.func @int4_symmetric
// CHECK-SAME: %[[KC:[a-zA-Z0-9_-]+]]: tensor<1x1x5x2xi8>
// CHECK-DAG: %[[FOUR:[a-zA-Z0-9_-]+]] = arith.constant 4 : i8
// CHECK-DAG: %[[TWO:[a-zA-Z0-9_-]+]] = arith.constant 2 : index
// CHECK: linalg.generic {indexing_maps = [#[[$BYTE]], {{.*}} ins(%[[KC]], %{{.*}} : {{.*}}) outs(%{{.*}} : tensor<1x1x5x4xf32>)
// CHECK-NEXT: ^bb0(%[[BYTEV:[a-zA-Z0-9_-]+]]: i8, %[[SCALE:[a-zA-Z0-9_-]+]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[C:[a-zA-Z0-9_-]+]] = linalg.index 3 : index
// CHECK-NEXT: %[[ODD:[a-zA-Z0-9_-]+]] = arith.remui %[[C]], %[[TWO]] : index
// CHECK-NEXT: %[[ODD8:[a-zA-Z0-9_-]+]] = arith.index_cast %[[ODD]] : index to i8
// CHECK-NEXT: %[[SHIFT:[a-zA-Z0-9_-]+]] = arith.muli %[[ODD8]], %[[FOUR]] : i8
// CHECK-NEXT: %[[UP:[a-zA-Z0-9_-]+]] = arith.subi %[[FOUR]], %[[SHIFT]] : i8
// CHECK-NEXT: %[[TOP:[a-zA-Z0-9_-]+]] = arith.shli %[[BYTEV]], %[[UP]] : i8
// CHECK-NEXT: %[[NIB:[a-zA-Z0-9_-]+]] = arith.shrsi %[[TOP]], %[[FOUR]] : i8
// CHECK-NEXT: %[[F:[a-zA-Z0-9_-]+]] = arith.sitofp %[[NIB]] : i8 to f32
// CHECK-NEXT: arith.mulf %[[SCALE]], %[[F]] : f32
// CHECK: arith.shrsi
// CHECK-NOT: attn.
func.func @int4_symmetric(%q: tensor<1x2x3x4xf32>, %kc: tensor<1x1x5x2xi8>, %ks: tensor<1x1x2x4xf32>, %vc: tensor<1x1x5x3xi8>, %vs: tensor<1x1x5x2xf32>) -> tensor<1x2x3x6xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x1x5x2xi8>, tensor<1x1x2x4xf32>) value(%vc, %vs : tensor<1x1x5x3xi8>, tensor<1x1x5x2xf32>) {bits = 4 : i64, group_size = 4 : i64} : tensor<1x2x3x4xf32> -> tensor<1x2x3x6xf32>
  return %o : tensor<1x2x3x6xf32>
}

// -----

// int4 with zero points: unsigned nibble (byte >>u shift) & 15, then
// scale * code + zero; f16 queries.
// CHECK-LABEL: func.func @int4_zeros
// CHECK-DAG: %[[FIFTEEN:[a-zA-Z0-9_-]+]] = arith.constant 15 : i8
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x5x4xf32>)
// CHECK-NEXT: ^bb0(%[[BYTEV:[a-zA-Z0-9_-]+]]: i8, %[[SCALE:[a-zA-Z0-9_-]+]]: f32, %[[ZERO:[a-zA-Z0-9_-]+]]: f32, %{{.*}}: f32):
// CHECK: %[[SHIFT:[a-zA-Z0-9_-]+]] = arith.muli %{{.*}}, %{{.*}} : i8
// CHECK-NEXT: %[[DOWN:[a-zA-Z0-9_-]+]] = arith.shrui %[[BYTEV]], %[[SHIFT]] : i8
// CHECK-NEXT: %[[NIB:[a-zA-Z0-9_-]+]] = arith.andi %[[DOWN]], %[[FIFTEEN]] : i8
// CHECK-NEXT: %[[F:[a-zA-Z0-9_-]+]] = arith.uitofp %[[NIB]] : i8 to f32
// CHECK-NEXT: %[[S:[a-zA-Z0-9_-]+]] = arith.mulf %[[SCALE]], %[[F]] : f32
// CHECK-NEXT: arith.addf %[[S]], %[[ZERO]] : f32
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<1x1x5x6xf32>)
// CHECK: arith.shrui
// CHECK: arith.andi %{{.*}}, %[[FIFTEEN]] : i8
// CHECK-NOT: attn.
func.func @int4_zeros(%q: tensor<1x2x3x4xf16>, %kc: tensor<1x1x5x2xi8>, %ks: tensor<1x1x2x4xf32>, %kz: tensor<1x1x2x4xf32>, %vc: tensor<1x1x5x3xi8>, %vs: tensor<1x1x5x2xf32>, %vz: tensor<1x1x5x2xf32>) -> tensor<1x2x3x6xf16> {
  %o = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<1x1x5x2xi8>, tensor<1x1x2x4xf32>, tensor<1x1x2x4xf32>) value(%vc, %vs, zero %vz : tensor<1x1x5x3xi8>, tensor<1x1x5x2xf32>, tensor<1x1x5x2xf32>) {bits = 4 : i64, group_size = 4 : i64, causal} : tensor<1x2x3x4xf16> -> tensor<1x2x3x6xf16>
  return %o : tensor<1x2x3x6xf16>
}

// -----

// pq_encode with Kc = 256, m = 2 sub-spaces of 4 dims: f64 squared distance
// of k[.., 4 s + e] to centroid [h, s, c, e], the first c at the minimum
// (init Kc = 256, min over "dist == min ? c : 256"), one byte per code.
// CHECK-DAG: #[[$SUBK:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d0, d1, d2, d3 * 4 + d5)>
// CHECK-DAG: #[[$CENT:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3, d4, d5) -> (d1, d3, d4, d5)>
// CHECK-LABEL: func.func @encode_256
// CHECK-SAME: %[[K:[a-zA-Z0-9_-]+]]: tensor<1x2x3x8xf16>, %[[CB:[a-zA-Z0-9_-]+]]: tensor<2x2x256x4xf32>
// CHECK-DAG: %[[KC:[a-zA-Z0-9_-]+]] = arith.constant 256 : i32
// CHECK: %[[DIST:[a-zA-Z0-9_-]+]] = linalg.generic {indexing_maps = [#[[$SUBK]], #[[$CENT]], #{{.*}}], {{.*}} ins(%[[K]], %[[CB]] : {{.*}}) outs(%{{.*}} : tensor<1x2x3x2x256xf64>)
// CHECK: %[[D:[a-zA-Z0-9_-]+]] = arith.subf %{{.*}}, %{{.*}} : f64
// CHECK: %[[SQ:[a-zA-Z0-9_-]+]] = arith.mulf %[[D]], %[[D]] : f64
// CHECK: %[[MIN:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[DIST]] : {{.*}}) outs(%{{.*}} : tensor<1x2x3x2xf64>)
// CHECK: arith.minimumf
// CHECK: %[[FIRST:[a-zA-Z0-9_-]+]] = linalg.fill ins(%[[KC]] : i32)
// CHECK: %[[NEAREST:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[DIST]], %[[MIN]] : {{.*}}) outs(%[[FIRST]] : tensor<1x2x3x2xi32>)
// CHECK: %[[AT:[a-zA-Z0-9_-]+]] = arith.cmpf oeq
// CHECK: %[[CAND:[a-zA-Z0-9_-]+]] = arith.select %[[AT]], %{{.*}}, %[[KC]] : i32
// CHECK: arith.minsi %{{.*}}, %[[CAND]] : i32
// CHECK: linalg.generic {{.*}} ins(%[[NEAREST]] : {{.*}}) outs(%{{.*}} : tensor<1x2x3x2xi8>)
// CHECK: arith.trunci %{{.*}} : i32 to i8
// CHECK-NOT: attn.
func.func @encode_256(%k: tensor<1x2x3x8xf16>, %cb: tensor<2x2x256x4xf32>) -> tensor<1x2x3x2xi8> {
  %c = attn.pq_encode %k, %cb : tensor<1x2x3x8xf16>, tensor<2x2x256x4xf32> -> tensor<1x2x3x2xi8>
  return %c : tensor<1x2x3x2xi8>
}

// -----

// pq_encode with Kc = 16: codes 2t and 2t + 1 share byte t, low nibble first.
// CHECK-DAG: #[[$LOW:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 * 2)>
// CHECK-DAG: #[[$HIGH:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 * 2 + 1)>
// CHECK-LABEL: func.func @encode_16
// CHECK-DAG: %[[FOUR:[a-zA-Z0-9_-]+]] = arith.constant 4 : i32
// CHECK: %[[NEAREST:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} outs(%{{.*}} : tensor<1x2x3x4xi32>)
// CHECK: linalg.generic {indexing_maps = [#[[$LOW]], #[[$HIGH]], #{{.*}}], {{.*}} ins(%[[NEAREST]], %[[NEAREST]] : {{.*}}) outs(%{{.*}} : tensor<1x2x3x2xi8>)
// CHECK-NEXT: ^bb0(%[[LO:[a-zA-Z0-9_-]+]]: i32, %[[HI:[a-zA-Z0-9_-]+]]: i32, %{{.*}}: i8):
// CHECK-NEXT: %[[UP:[a-zA-Z0-9_-]+]] = arith.shli %[[HI]], %[[FOUR]] : i32
// CHECK-NEXT: %[[BOTH:[a-zA-Z0-9_-]+]] = arith.ori %[[LO]], %[[UP]] : i32
// CHECK-NEXT: arith.trunci %[[BOTH]] : i32 to i8
// CHECK-NOT: attn.
func.func @encode_16(%k: tensor<1x2x3x8xf32>, %cb: tensor<2x4x16x2xf32>) -> tensor<1x2x3x2xi8> {
  %c = attn.pq_encode %k, %cb : tensor<1x2x3x8xf32>, tensor<2x4x16x2xf32> -> tensor<1x2x3x2xi8>
  return %c : tensor<1x2x3x2xi8>
}

// -----

// pq_attention with Kc = 256, sub-spaces of 4 dims: channel e of key j is
// codebooks[h, e / 4, code, e mod 4] with code = byte e / 4 read unsigned;
// those keys go through the softmax core (scale 1/sqrt(8)), GQA 4 over 2.
// CHECK-DAG: #[[$CODE:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 floordiv 4)>
// CHECK-LABEL: func.func @attention_256
// CHECK-SAME: %[[Q:[a-zA-Z0-9_-]+]]: tensor<1x4x3x8xf32>, %[[C:[a-zA-Z0-9_-]+]]: tensor<1x2x5x2xi8>, %[[CB:[a-zA-Z0-9_-]+]]: tensor<2x2x256x4xf32>, %[[V:[a-zA-Z0-9_-]+]]: tensor<1x2x5x4xf32>
// CHECK-DAG: %[[DS:[a-zA-Z0-9_-]+]] = arith.constant 4 : index
// CHECK: %[[K:[a-zA-Z0-9_-]+]] = linalg.generic {indexing_maps = [#[[$CODE]], #{{.*}}], {{.*}} ins(%[[C]] : tensor<1x2x5x2xi8>) outs(%{{.*}} : tensor<1x2x5x8xf32>)
// CHECK-NEXT: ^bb0(%[[BYTE:[a-zA-Z0-9_-]+]]: i8, %{{.*}}: f32):
// CHECK-NEXT: %[[H:[a-zA-Z0-9_-]+]] = linalg.index 1 : index
// CHECK-NEXT: %[[E:[a-zA-Z0-9_-]+]] = linalg.index 3 : index
// CHECK-NEXT: %[[SUB:[a-zA-Z0-9_-]+]] = arith.divui %[[E]], %[[DS]] : index
// CHECK-NEXT: %[[WITHIN:[a-zA-Z0-9_-]+]] = arith.remui %[[E]], %[[DS]] : index
// CHECK-NEXT: %[[CODEIDX:[a-zA-Z0-9_-]+]] = arith.index_castui %[[BYTE]] : i8 to index
// CHECK-NEXT: %[[CENTROID:[a-zA-Z0-9_-]+]] = tensor.extract %[[CB]][%[[H]], %[[SUB]], %[[CODEIDX]], %[[WITHIN]]] : tensor<2x2x256x4xf32>
// CHECK-NEXT: linalg.yield %[[CENTROID]]
// CHECK: linalg.generic {{.*}} ins(%[[Q]], %[[K]] :
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[V]] :
// CHECK-NOT: attn.
func.func @attention_256(%q: tensor<1x4x3x8xf32>, %c: tensor<1x2x5x2xi8>, %cb: tensor<2x2x256x4xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x4x3x4xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v : tensor<1x4x3x8xf32>, tensor<1x2x5x2xi8>, tensor<2x2x256x4xf32>, tensor<1x2x5x4xf32> -> tensor<1x4x3x4xf32>
  return %o : tensor<1x4x3x4xf32>
}

// -----

// pq_attention with Kc = 16, sub-spaces of 2 dims: sub-space s = e / 2 is a
// nibble of byte e / 4, low for even s; causal.
// CHECK-DAG: #[[$NIBBLEBYTE:[a-zA-Z0-9_-]+]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3 floordiv 4)>
// CHECK-LABEL: func.func @attention_16
// CHECK-SAME: %[[C:[a-zA-Z0-9_-]+]]: tensor<1x2x5x2xi8>, %[[CB:[a-zA-Z0-9_-]+]]: tensor<2x4x16x2xf32>
// CHECK-DAG: %[[TWO:[a-zA-Z0-9_-]+]] = arith.constant 2 : index
// CHECK-DAG: %[[FOUR:[a-zA-Z0-9_-]+]] = arith.constant 4 : i8
// CHECK-DAG: %[[FIFTEEN:[a-zA-Z0-9_-]+]] = arith.constant 15 : i8
// CHECK: linalg.generic {indexing_maps = [#[[$NIBBLEBYTE]], #{{.*}}], {{.*}} ins(%[[C]] : tensor<1x2x5x2xi8>) outs(%{{.*}} : tensor<1x2x5x8xf32>)
// CHECK-NEXT: ^bb0(%[[BYTE:[a-zA-Z0-9_-]+]]: i8, %{{.*}}: f32):
// CHECK-NEXT: %[[H:[a-zA-Z0-9_-]+]] = linalg.index 1 : index
// CHECK-NEXT: %[[E:[a-zA-Z0-9_-]+]] = linalg.index 3 : index
// CHECK-NEXT: %[[SUB:[a-zA-Z0-9_-]+]] = arith.divui %[[E]], %[[TWO]] : index
// CHECK-NEXT: %[[WITHIN:[a-zA-Z0-9_-]+]] = arith.remui %[[E]], %[[TWO]] : index
// CHECK-NEXT: %[[ODD:[a-zA-Z0-9_-]+]] = arith.remui %[[SUB]], %[[TWO]] : index
// CHECK-NEXT: %[[ODD8:[a-zA-Z0-9_-]+]] = arith.index_cast %[[ODD]] : index to i8
// CHECK-NEXT: %[[SHIFT:[a-zA-Z0-9_-]+]] = arith.muli %[[ODD8]], %[[FOUR]] : i8
// CHECK-NEXT: %[[DOWN:[a-zA-Z0-9_-]+]] = arith.shrui %[[BYTE]], %[[SHIFT]] : i8
// CHECK-NEXT: %[[NIB:[a-zA-Z0-9_-]+]] = arith.andi %[[DOWN]], %[[FIFTEEN]] : i8
// CHECK-NEXT: %[[CODEIDX:[a-zA-Z0-9_-]+]] = arith.index_castui %[[NIB]] : i8 to index
// CHECK-NEXT: tensor.extract %[[CB]][%[[H]], %[[SUB]], %[[CODEIDX]], %[[WITHIN]]] : tensor<2x4x16x2xf32>
// CHECK: arith.cmpi sle
// CHECK-NOT: attn.
func.func @attention_16(%q: tensor<1x4x3x8xf32>, %c: tensor<1x2x5x2xi8>, %cb: tensor<2x4x16x2xf32>, %v: tensor<1x2x5x4xf32>) -> tensor<1x4x3x4xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v {causal} : tensor<1x4x3x8xf32>, tensor<1x2x5x2xi8>, tensor<2x4x16x2xf32>, tensor<1x2x5x4xf32> -> tensor<1x4x3x4xf32>
  return %o : tensor<1x4x3x4xf32>
}

// -----

// pq_fit, 2 heads x 4 sub-spaces of 2 dims, Kc = 16, N = 20, seed 9, 3
// iterations. Per (h, s): the points in f64; the stream
// seed ^ (0x9E3779B97F4A7C15 * (4 h + s + 1)); 16 seeding steps, each one
// splitmix64 draw (constants 0xBF58476D1CE4E5B9 and 0x94D049BB133111EB as
// signed i64, shifts 30, 27, 31), u = (z >> 11) * 2^-53, point floor(u N)
// when c = 0 or sum D(x)^2 <= 0, else the D(x)^2-weighted scan; then 3
// Lloyd steps; the f64 centroids rounded to f32 into codebooks[h, s].
// CHECK-LABEL: func.func @fit
// CHECK-SAME: %[[KEYS:[a-zA-Z0-9_-]+]]: tensor<2x20x8xf32>
// CHECK-DAG: %[[GOLDEN:[a-zA-Z0-9_-]+]] = arith.constant -7046029254386353131 : i64
// CHECK-DAG: %[[MUL1:[a-zA-Z0-9_-]+]] = arith.constant -4658895280553007687 : i64
// CHECK-DAG: %[[MUL2:[a-zA-Z0-9_-]+]] = arith.constant -7723592293110705685 : i64
// CHECK-DAG: %[[SEED:[a-zA-Z0-9_-]+]] = arith.constant 9 : i64
// CHECK-DAG: %[[ULP:[a-zA-Z0-9_-]+]] = arith.constant 1.1102230246251565E-16 : f64
// CHECK-DAG: %[[ITERS:[a-zA-Z0-9_-]+]] = arith.constant 3 : index
// CHECK-DAG: %[[KC:[a-zA-Z0-9_-]+]] = arith.constant 16 : index
// CHECK: scf.for %[[H:[a-zA-Z0-9_-]+]] =
// CHECK: scf.for %[[S:[a-zA-Z0-9_-]+]] = {{.*}} iter_args(%[[BOOKS:[a-zA-Z0-9_-]+]] =
// CHECK: %[[SLICE:[a-zA-Z0-9_-]+]] = tensor.extract_slice %[[KEYS]][%[[H]], 0, %{{.*}}] [1, 20, 2] [1, 1, 1] : tensor<2x20x8xf32> to tensor<20x2xf32>
// CHECK: %[[POINTS:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} ins(%[[SLICE]] : {{.*}}) outs(%{{.*}} : tensor<20x2xf64>)
// CHECK: %[[STREAM:[a-zA-Z0-9_-]+]] = arith.index_cast %{{.*}} : index to i64
// CHECK: %[[MIX:[a-zA-Z0-9_-]+]] = arith.muli %[[GOLDEN]], %[[STREAM]] : i64
// CHECK: %[[STATE0:[a-zA-Z0-9_-]+]] = arith.xori %[[SEED]], %[[MIX]] : i64
// CHECK: %[[SEEDED:[a-zA-Z0-9_-]+]]:3 = scf.for %[[C:[a-zA-Z0-9_-]+]] = %{{.*}} to %[[KC]] {{.*}} iter_args(%{{.*}} = %{{.*}}, %[[W:[a-zA-Z0-9_-]+]] = %{{.*}}, %[[STATE:[a-zA-Z0-9_-]+]] = %[[STATE0]]) -> (tensor<16x2xf64>, tensor<20xf64>, i64)
// CHECK: %[[TOTALT:[a-zA-Z0-9_-]+]] = linalg.generic {{.*}} iterator_types = ["reduction"]} ins(%[[W]] : tensor<20xf64>)
// CHECK: %[[TOTAL:[a-zA-Z0-9_-]+]] = tensor.extract %[[TOTALT]][]
// CHECK: %[[NEXT:[a-zA-Z0-9_-]+]] = arith.addi %[[STATE]], %[[GOLDEN]] : i64
// CHECK: arith.shrui %[[NEXT]], %c30_i64 : i64
// CHECK: arith.muli %{{.*}}, %[[MUL1]] : i64
// CHECK: arith.shrui %{{.*}}, %c27_i64 : i64
// CHECK: arith.muli %{{.*}}, %[[MUL2]] : i64
// CHECK: arith.shrui %{{.*}}, %c31_i64 : i64
// CHECK: %[[Z:[a-zA-Z0-9_-]+]] = arith.xori
// CHECK: %[[TOP:[a-zA-Z0-9_-]+]] = arith.shrui %[[Z]], %c11_i64 : i64
// CHECK: %[[TOPF:[a-zA-Z0-9_-]+]] = arith.uitofp %[[TOP]] : i64 to f64
// CHECK: %[[U:[a-zA-Z0-9_-]+]] = arith.mulf %[[TOPF]], %[[ULP]] : f64
// CHECK: %[[FIRSTC:[a-zA-Z0-9_-]+]] = arith.cmpi eq, %[[C]], %c0 : index
// CHECK: %[[NOWEIGHT:[a-zA-Z0-9_-]+]] = arith.cmpf ule, %[[TOTAL]], %{{.*}} : f64
// CHECK: %[[BYINDEX:[a-zA-Z0-9_-]+]] = arith.ori %[[FIRSTC]], %[[NOWEIGHT]] : i1
// CHECK: %[[PICK:[a-zA-Z0-9_-]+]] = scf.if %[[BYINDEX]] -> (index) {
// CHECK: arith.mulf %[[U]], %{{.*}} : f64
// CHECK: arith.fptosi %{{.*}} : f64 to i64
// CHECK: arith.minsi
// CHECK: } else {
// CHECK: %[[TARGET:[a-zA-Z0-9_-]+]] = arith.mulf %[[U]], %[[TOTAL]] : f64
// CHECK: scf.for {{.*}} -> (f64, index, i1)
// CHECK: arith.cmpf ugt, %{{.*}}, %{{.*}} : f64
// CHECK: arith.cmpf ogt, %{{.*}}, %[[TARGET]] : f64
// CHECK: tensor.extract_slice %[[POINTS]][%[[PICK]], 0] [1, 2] [1, 1] : tensor<20x2xf64> to tensor<2xf64>
// CHECK: arith.minimumf
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[ITERS]] {{.*}} iter_args(%{{.*}} = %[[SEEDED]]#0) -> (tensor<16x2xf64>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<20x16xf64>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<20xi32>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<16x2xf64>)
// CHECK: linalg.generic {{.*}} outs(%{{.*}} : tensor<16xi64>)
// CHECK: arith.divf
// CHECK: arith.truncf %{{.*}} : f64 to f32
// CHECK: tensor.insert_slice %{{.*}} into %[[BOOKS]][%[[H]], %[[S]], 0, 0] [1, 1, 16, 2] [1, 1, 1, 1] : tensor<16x2xf32> into tensor<2x4x16x2xf32>
// CHECK-NOT: attn.
func.func @fit(%keys: tensor<2x20x8xf32>) -> tensor<2x4x16x2xf32> {
  %cb = attn.pq_fit %keys {iters = 3 : i64, seed = 9 : i64} : tensor<2x20x8xf32> -> tensor<2x4x16x2xf32>
  return %cb : tensor<2x4x16x2xf32>
}
