//===- NearestCentroid.h - nearest PQ centroid ------------------*- C++ -*-===//
//
// pq_encode and pq_fit both assign points to their nearest centroid by
// squared distance with ties to the lower index (lib/Reference's `nearest`).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_DECOMPOSE_NEARESTCENTROID_H
#define ATTN_PASSES_DECOMPOSE_NEARESTCENTROID_H

#include "NaiveBuilder.h"

namespace attn {

/// `dist` is f64 [..., Kc] (squared distances to Kc centroids). Returns the
/// i32 [...] index of the first minimum: a min over the last axis, then the
/// lowest index that attains it.
mlir::Value buildNearestCentroid(NaiveBuilder &n, mlir::Value dist);

} // namespace attn

#endif // ATTN_PASSES_DECOMPOSE_NEARESTCENTROID_H
