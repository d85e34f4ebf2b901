// attn-tile's selection kernel (passes/Tile/SelectionCpu.cpp): a task per
// (batch, kv head, block of the kv head's G x Lq query rows), so the four
// query heads of a GQA group share one task and its f64 transposes of 8
// keys at a time; each row's 8 key scores are one vector<8xf64> chain over
// the channels; the selection keeps a heap (scf.while sift loops). No
// linalg.generic (the naive scores and rescans) is left.
// RUN: attn-opt %s --attn-tile | FileCheck %s --implicit-check-not=linalg.generic

// CHECK-LABEL: func.func @topk_gqa
// CHECK-NOT: attn.topk_select
// CHECK: scf.parallel (%{{.*}}, %{{.*}}, %{{.*}}) = (%c0, %c0, %c0) to (%c2, %c2, %c1)
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<4x104xf64>
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<64x8xf64>
// CHECK: scf.for {{.*}} -> (vector<8xf64>, vector<8xf64>, vector<8xf64>, vector<8xf64>)
// CHECK: vector.fma %{{.*}}, %{{.*}}, %{{.*}} : vector<8xf64>
// CHECK: scf.while
// CHECK: scf.while
func.func @topk_gqa(%q: tensor<2x8x1x64xbf16>, %k: tensor<2x2x100x64xbf16>) -> tensor<2x8x1x16xi32> {
  %i = attn.topk_select %q, %k {topk = 16 : i64, sink_tokens = 2 : i64}
      : tensor<2x8x1x64xbf16>, tensor<2x2x100x64xbf16> -> tensor<2x8x1x16xi32>
  return %i : tensor<2x8x1x16xi32>
}
