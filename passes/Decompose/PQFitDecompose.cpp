//===- PQFitDecompose.cpp - decompose attn.pq_fit -------------------------===//
//
// This file implements the naive decomposition of attn.pq_fit: per head and
// sub-space, k-means++ seeding and Lloyd iterations as scf loops around
// linalg distance computations.
//
// Codebooks must be reproducible, so this follows lib/Reference/Quantized.cpp
// step for step: the same splitmix64 stream (i64 arithmetic, wrapping
// multiplies), every distance and running sum in f64 in the same order, the
// same comparisons. It then computes the reference's codebooks bit for bit
// before the final rounding to f32.
//
//===----------------------------------------------------------------------===//

#include "NearestCentroid.h"
#include "Patterns.h"

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/TypeUtilities.h"

#include <limits>

using namespace mlir;
using namespace attn;

/// splitmix64's increment, the golden ratio in 64 bits.
static constexpr uint64_t kGolden = 0x9E3779B97F4A7C15ULL;

static Value i64(ImplicitLocOpBuilder &b, uint64_t value) {
  return arith::ConstantOp::create(
      b, b.getI64IntegerAttr(static_cast<int64_t>(value)));
}

static Value f64(ImplicitLocOpBuilder &b, double value) {
  return arith::ConstantOp::create(b, b.getF64FloatAttr(value));
}

/// One splitmix64 step (Steele, Lea, Flood 2014) on an i64 state: returns
/// the new state and the output. Multiplies wrap, shifts are logical.
static std::pair<Value, Value> splitMix64(ImplicitLocOpBuilder &b,
                                          Value state) {
  auto mix = [&](Value z, int64_t shift, uint64_t mul) -> Value {
    Value x = arith::XOrIOp::create(
        b, z, arith::ShRUIOp::create(b, z, i64(b, shift)));
    return mul ? arith::MulIOp::create(b, x, i64(b, mul)).getResult() : x;
  };
  Value next = arith::AddIOp::create(b, state, i64(b, kGolden));
  Value z = mix(next, 30, 0xBF58476D1CE4E5B9ULL);
  z = mix(z, 27, 0x94D049BB133111EBULL);
  return {next, mix(z, 31, 0)};
}

/// A draw in [0, 1): the top 53 bits of `bits` times 2^-53.
static Value uniform(ImplicitLocOpBuilder &b, Value bits) {
  Value top = arith::ShRUIOp::create(b, bits, i64(b, 11));
  Value asDouble = arith::UIToFPOp::create(b, b.getF64Type(), top);
  return arith::MulFOp::create(b, asDouble, f64(b, 0x1.0p-53));
}

/// d2[i] = sum_e (points[i,e] - centroid[e])^2 for points [N,ds] and one
/// centroid [ds], in f64, e ascending.
static Value distancesTo(NaiveBuilder &n, Value points, Value centroid) {
  auto d = [&](unsigned i) { return n.d(i); };
  return n.generic(n.filled({n.size(points, 0)}, 0.0, n.builder().getF64Type()),
                   {points, centroid},
                   {n.map(2, {d(0), d(1)}), n.map(2, {d(1)}), n.map(2, {d(0)})},
                   2, {1},
                   [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                     Value diff = arith::SubFOp::create(nb, a[0], a[1]);
                     Value sq = arith::MulFOp::create(nb, diff, diff);
                     return arith::AddFOp::create(nb, a[2], sq).getResult();
                   });
}

/// k-means++ seeding of `kc` centroids from points [N,ds] (f64), drawing one
/// number per centroid from the splitmix64 stream starting at `state`.
static Value seedCentroids(NaiveBuilder &n, Value points, int64_t kc,
                           Value state) {
  ImplicitLocOpBuilder &b = n.builder();
  auto d = [&](unsigned i) { return n.d(i); };
  OpFoldResult numPoints = n.size(points, 0), subDim = n.size(points, 1);
  Value count = getValueOrCreateConstantIndexOp(b, b.getLoc(), numPoints);
  Value centroids = n.empty({b.getIndexAttr(kc), subDim}, b.getF64Type());
  // D(x)^2: squared distance to the nearest chosen centroid, +inf at first.
  Value dist2 = n.filled({numPoints}, std::numeric_limits<double>::infinity(),
                         b.getF64Type());
  ValueRange seeded = n.loop(
      n.index(0), n.index(kc), {centroids, dist2, state},
      [&](ImplicitLocOpBuilder &lb, Value c, ValueRange args) {
        NaiveBuilder l(lb);
        Value weights = args[1];
        Value total = l.generic(
            l.filled({}, 0.0, lb.getF64Type()), {weights},
            {l.map(1, {d(0)}), l.map(1, {})}, 1, {0},
            [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
              return arith::AddFOp::create(nb, a[1], a[0]).getResult();
            });
        total = tensor::ExtractOp::create(lb, total, ValueRange{});
        auto [nextState, bits] = splitMix64(lb, args[2]);
        Value u = uniform(lb, bits);
        // The first centroid, or all points already on a centroid: point
        // floor(u N) (clamped to N - 1).
        Value first =
            arith::CmpIOp::create(lb, arith::CmpIPredicate::eq, c, l.index(0));
        Value noWeight = arith::CmpFOp::create(lb, arith::CmpFPredicate::ULE,
                                               total, f64(lb, 0.0));
        Value byIndex = arith::OrIOp::create(lb, first, noWeight);
        auto pickOp = scf::IfOp::create(
            lb, byIndex,
            [&](OpBuilder &tb, Location loc) {
              ImplicitLocOpBuilder ib(loc, tb);
              Value n64 =
                  arith::IndexCastOp::create(ib, ib.getI64Type(), count);
              Value scaled = arith::MulFOp::create(
                  ib, u, arith::SIToFPOp::create(ib, ib.getF64Type(), n64));
              Value floor =
                  arith::FPToSIOp::create(ib, ib.getI64Type(), scaled);
              Value last = arith::SubIOp::create(ib, n64, i64(ib, 1));
              Value idx = arith::MinSIOp::create(ib, last, floor);
              scf::YieldOp::create(ib, ValueRange{arith::IndexCastOp::create(
                                           ib, ib.getIndexType(), idx)});
            },
            [&](OpBuilder &eb, Location loc) {
              ImplicitLocOpBuilder ib(loc, eb);
              NaiveBuilder e(ib);
              // The first point whose running sum of positive D(x)^2 exceeds
              // u * total; points with D(x)^2 = 0 are skipped.
              Value target = arith::MulFOp::create(ib, u, total);
              Value no = arith::ConstantOp::create(ib, ib.getBoolAttr(false));
              ValueRange scan = e.loop(
                  e.index(0), count, {f64(ib, 0.0), e.index(-1), no},
                  [&](ImplicitLocOpBuilder &sb, Value i, ValueRange s) {
                    Value w =
                        tensor::ExtractOp::create(sb, weights, ValueRange{i});
                    Value positive = arith::CmpFOp::create(
                        sb, arith::CmpFPredicate::UGT, w, f64(sb, 0.0));
                    Value notDone = arith::XOrIOp::create(
                        sb, s[2],
                        arith::ConstantOp::create(sb, sb.getBoolAttr(true)));
                    Value active = arith::AndIOp::create(sb, notDone, positive);
                    Value sum = arith::SelectOp::create(
                        sb, active, arith::AddFOp::create(sb, s[0], w), s[0]);
                    Value pick = arith::SelectOp::create(sb, active, i, s[1]);
                    Value past = arith::CmpFOp::create(
                        sb, arith::CmpFPredicate::OGT, sum, target);
                    Value done = arith::OrIOp::create(
                        sb, s[2], arith::AndIOp::create(sb, active, past));
                    return SmallVector<Value>{sum, pick, done};
                  });
              scf::YieldOp::create(ib, ValueRange{scan[1]});
            });
        Value pick = pickOp.getResult(0);
        // centroid c = point pick; then D(x)^2 = min(D(x)^2, |x - c|^2).
        auto rowType = RankedTensorType::get(
            {cast<RankedTensorType>(points.getType()).getDimSize(1)},
            lb.getF64Type());
        Value row = tensor::ExtractSliceOp::create(
            lb, rowType, points,
            ArrayRef<OpFoldResult>{pick, lb.getIndexAttr(0)},
            ArrayRef<OpFoldResult>{lb.getIndexAttr(1), subDim},
            ArrayRef<OpFoldResult>{lb.getIndexAttr(1), lb.getIndexAttr(1)});
        Value placed = l.insertAt(row, args[0], {c, nullptr});
        Value toNew = distancesTo(l, points, row);
        // Updated in place: scf.for needs its results to stay in the
        // buffers of its iteration arguments.
        AffineMap id1 = l.map(1, {d(0)});
        Value nearer = l.generic(
            weights, {toNew}, {id1, id1}, 1, {},
            [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
              return arith::MinimumFOp::create(nb, a[1], a[0]).getResult();
            });
        return SmallVector<Value>{placed, nearer, nextState};
      });
  return seeded[0];
}

/// One Lloyd iteration: assign every point to its nearest centroid (ties to
/// the lower index), then move each centroid to the mean of its points; an
/// empty cluster keeps its centroid. Sums run over points in ascending order,
/// as in the reference.
static Value lloydStep(NaiveBuilder &n, Value points, Value centroids) {
  ImplicitLocOpBuilder &b = n.builder();
  auto d = [&](unsigned i) { return n.d(i); };
  OpFoldResult numPoints = n.size(points, 0), subDim = n.size(points, 1);
  OpFoldResult kc = n.size(centroids, 0);
  // dist[i,c] = sum_e (points[i,e] - centroids[c,e])^2       loops i,c,e
  Value dist = n.generic(
      n.filled({numPoints, kc}, 0.0, b.getF64Type()), {points, centroids},
      {n.map(3, {d(0), d(2)}), n.map(3, {d(1), d(2)}), n.map(3, {d(0), d(1)})},
      3, {2}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        Value diff = arith::SubFOp::create(nb, a[0], a[1]);
        Value sq = arith::MulFOp::create(nb, diff, diff);
        return arith::AddFOp::create(nb, a[2], sq).getResult();
      });
  Value assign = buildNearestCentroid(n, dist);
  auto isMember = [&](ImplicitLocOpBuilder &nb, Value cluster, Value c) {
    Value c32 = arith::IndexCastOp::create(nb, nb.getI32Type(), c);
    return arith::CmpIOp::create(nb, arith::CmpIPredicate::eq, cluster, c32);
  };
  // sums[c,e] = sum over points i of cluster c of points[i,e]  loops c,e,i
  Value sums = n.generic(
      n.filled({kc, subDim}, 0.0, b.getF64Type()), {assign, points},
      {n.map(3, {d(2)}), n.map(3, {d(2), d(1)}), n.map(3, {d(0), d(1)})}, 3,
      {2}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
        Value add = arith::AddFOp::create(nb, a[2], a[1]);
        return arith::SelectOp::create(nb, isMember(nb, a[0], ivs[0]), add,
                                       a[2])
            .getResult();
      });
  // counts[c] = number of points in cluster c                 loops c,i
  Value zero = arith::ConstantOp::create(b, b.getI64IntegerAttr(0));
  Value counts =
      n.generic(linalg::FillOp::create(b, zero, n.empty({kc}, b.getI64Type()))
                    .getResult(0),
                {assign}, {n.map(2, {d(1)}), n.map(2, {d(0)})}, 2, {1},
                [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
                  Value one = arith::AddIOp::create(nb, a[1], i64(nb, 1));
                  return arith::SelectOp::create(nb, isMember(nb, a[0], ivs[0]),
                                                 one, a[1])
                      .getResult();
                });
  // New centroids, written over the old ones (the loop's iteration
  // argument): the mean, or the old centroid for an empty cluster.
  AffineMap id2 = n.map(2, {d(0), d(1)});
  return n.generic(
      centroids, {sums, counts}, {id2, n.map(2, {d(0)}), id2}, 2, {},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        Value empty = arith::CmpIOp::create(nb, arith::CmpIPredicate::eq, a[1],
                                            i64(nb, 0));
        Value mean = arith::DivFOp::create(
            nb, a[0], arith::SIToFPOp::create(nb, nb.getF64Type(), a[1]));
        return arith::SelectOp::create(nb, empty, a[2], mean).getResult();
      });
}

namespace {

/// attn.pq_fit -> per (head, sub-space): f64 points, k-means++ seeding,
/// `iters` Lloyd iterations, f32 codebook.
struct DecomposePQFit : OpRewritePattern<PQFitOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PQFitOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> m = staticDim(rewriter, op, op.getCodebooks(), 1, "m");
    FailureOr<int64_t> kc = staticDim(rewriter, op, op.getCodebooks(), 2, "Kc");
    FailureOr<int64_t> ds =
        staticDim(rewriter, op, op.getCodebooks(), 3, "the sub-space dim D/m");
    if (failed(m) || failed(kc) || failed(ds))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    Value keys = op.getKeys();
    OpFoldResult numPoints = n.size(keys, 1);
    Value heads =
        getValueOrCreateConstantIndexOp(b, b.getLoc(), n.size(keys, 0));
    Value result = n.empty(n.sizes(op.getCodebooks()), b.getF32Type());
    int64_t iters = op.getIters(), seed = op.getSeed(), subDim = *ds;

    Value fitted = n.loopNest(
        {heads, n.index(*m)}, result,
        [&](ImplicitLocOpBuilder &lb, ValueRange hs, Value acc) -> Value {
          NaiveBuilder l(lb);
          Value h = hs[0], s = hs[1];
          // points[i,e] = keys[h, i, s ds + e] in f64.
          auto sliceType = RankedTensorType::get(
              {cast<RankedTensorType>(keys.getType()).getDimSize(1), subDim},
              getElementTypeOrSelf(keys.getType()));
          Value offset = arith::MulIOp::create(lb, s, l.index(subDim));
          Value slice = tensor::ExtractSliceOp::create(
              lb, sliceType, keys,
              ArrayRef<OpFoldResult>{h, lb.getIndexAttr(0), offset},
              ArrayRef<OpFoldResult>{lb.getIndexAttr(1), numPoints,
                                     lb.getIndexAttr(subDim)},
              ArrayRef<OpFoldResult>{lb.getIndexAttr(1), lb.getIndexAttr(1),
                                     lb.getIndexAttr(1)});
          AffineMap id2 = l.map(2, {d(0), d(1)});
          Value points = l.generic(
              l.empty({numPoints, lb.getIndexAttr(subDim)}, lb.getF64Type()),
              {slice}, {id2, id2}, 2, {},
              [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                return arith::ExtFOp::create(nb, nb.getF64Type(), a[0])
                    .getResult();
              });
          // One stream per (head, sub-space):
          // seed ^ (0x9E3779B97F4A7C15 * (h m + s + 1)), wrapping.
          Value stream = arith::AddIOp::create(
              lb,
              arith::AddIOp::create(
                  lb, arith::MulIOp::create(lb, h, l.index(*m)), s),
              l.index(1));
          Value stream64 =
              arith::IndexCastOp::create(lb, lb.getI64Type(), stream);
          Value state = arith::XOrIOp::create(
              lb, i64(lb, static_cast<uint64_t>(seed)),
              arith::MulIOp::create(lb, i64(lb, kGolden), stream64));
          Value centroids = seedCentroids(l, points, *kc, state);
          // Iterating past a fixed point reproduces it bit for bit (the same
          // assignment gives the same sums in the same order), so running
          // all `iters` iterations equals the reference's early stop.
          centroids =
              l.loop(l.index(0), l.index(iters), centroids,
                     [&](ImplicitLocOpBuilder &ib, Value, ValueRange c) {
                       NaiveBuilder it(ib);
                       return SmallVector<Value>{lloydStep(it, points, c[0])};
                     })[0];
          Value rounded = l.generic(
              l.empty({lb.getIndexAttr(*kc), lb.getIndexAttr(subDim)},
                      lb.getF32Type()),
              {centroids}, {id2, id2}, 2, {},
              [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                return arith::TruncFOp::create(nb, nb.getF32Type(), a[0])
                    .getResult();
              });
          return l.insertAt(rounded, acc, {h, s, nullptr, nullptr});
        });
    rewriter.replaceOp(op, fitted);
    return success();
  }
};

} // namespace

void attn::populatePQFitDecomposition(RewritePatternSet &patterns) {
  patterns.add<DecomposePQFit>(patterns.getContext());
}
