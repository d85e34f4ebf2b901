//===- NearestCentroid.cpp - nearest centroid for PQ decompositions -------===//
//
// This file implements the first-minimum search over centroid distances that
// pq_encode and pq_fit's Lloyd iterations share.
//
//===----------------------------------------------------------------------===//

#include "NearestCentroid.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/IR/BuiltinTypes.h"

#include <limits>

using namespace mlir;
using namespace attn;

Value attn::buildNearestCentroid(NaiveBuilder &n, Value dist) {
  ImplicitLocOpBuilder &b = n.builder();
  auto type = cast<RankedTensorType>(dist.getType());
  unsigned rank = type.getRank();
  SmallVector<OpFoldResult> shape = n.sizes(dist);
  SmallVector<OpFoldResult> rowShape(shape.begin(), shape.end() - 1);
  SmallVector<AffineExpr> all, row;
  for (unsigned i = 0; i < rank; ++i) {
    all.push_back(n.d(i));
    if (i + 1 < rank)
      row.push_back(n.d(i));
  }
  AffineMap allMap = n.map(rank, all), rowMap = n.map(rank, row);
  Value minDist =
      n.generic(n.filled(rowShape, std::numeric_limits<double>::infinity(),
                         b.getF64Type()),
                {dist}, {allMap, rowMap}, rank, {rank - 1},
                [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                  return arith::MinimumFOp::create(nb, a[0], a[1]).getResult();
                });
  // The lowest c with dist == min; starts at Kc, which no index reaches.
  int64_t kc = type.getDimSize(rank - 1);
  Value init =
      linalg::FillOp::create(b, n.i32(kc), n.empty(rowShape, b.getI32Type()))
          .getResult(0);
  return n.generic(
      init, {dist, minDist}, {allMap, rowMap, rowMap}, rank, {rank - 1},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
        NaiveBuilder m(nb);
        Value c =
            arith::IndexCastOp::create(nb, nb.getI32Type(), ivs[rank - 1]);
        Value atMin =
            arith::CmpFOp::create(nb, arith::CmpFPredicate::OEQ, a[0], a[1]);
        Value cand = arith::SelectOp::create(nb, atMin, c, m.i32(kc));
        return arith::MinSIOp::create(nb, a[2], cand).getResult();
      });
}
