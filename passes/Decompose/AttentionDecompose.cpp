//===- AttentionDecompose.cpp - decompose attention, merge, diff_attention ===//
//
// This file implements the naive decompositions of the softmax ops that read
// plain K/V: attn.attention (all its masks, block lists, mods and sinks),
// attn.merge and attn.diff_attention.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"
#include "SoftmaxCore.h"

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace attn;

FailureOr<int64_t> attn::staticDim(PatternRewriter &rewriter, Operation *op,
                                   Value value, int64_t axis, StringRef what) {
  int64_t size = cast<RankedTensorType>(value.getType()).getDimSize(axis);
  if (ShapedType::isDynamic(size))
    return rewriter.notifyMatchFailure(op, what + " must be static to decompose");
  return size;
}

/// Clones the single block of `region` with its arguments bound to `args` and
/// returns the value its attn.yield yields.
static Value inlineModRegion(ImplicitLocOpBuilder &b, Region &region,
                             ValueRange args) {
  Block &block = region.front();
  IRMapping mapping;
  mapping.map(block.getArguments(), args);
  for (Operation &op : block.without_terminator())
    b.clone(op, mapping);
  auto yield = cast<YieldOp>(block.getTerminator());
  return mapping.lookupOrDefault(yield.getValue());
}

/// vis[b,h,qb,kb] (i1, [B,Hq,NQB,NKB]): key block kb is listed for query
/// block qb in any of the (counts, indices) pairs. Indices outside
/// [0, NKB) and entries past the count are ignored.
static Value buildBlockVisibility(NaiveBuilder &n,
                                  ArrayRef<std::pair<Value, Value>> lists,
                                  Value query, int64_t nqb, int64_t nkb) {
  ImplicitLocOpBuilder &b = n.builder();
  SmallVector<OpFoldResult> shape = {n.size(query, 0), n.size(query, 1),
                                     b.getIndexAttr(nqb), b.getIndexAttr(nkb)};
  Value falseVal = arith::ConstantOp::create(b, b.getBoolAttr(false));
  Value vis = linalg::FillOp::create(b, falseVal, n.empty(shape, b.getI1Type()))
                  .getResult(0);
  Value zero = n.index(0);
  auto ub = [&](OpFoldResult ofr) {
    return getValueOrCreateConstantIndexOp(b, b.getLoc(), ofr);
  };
  for (auto [counts, indices] : lists) {
    Value maxBlocks = ub(n.size(indices, 3));
    vis = n.loop(zero, ub(shape[0]), vis, [&](ImplicitLocOpBuilder &b0, Value bi,
                                             ValueRange a0) {
      NaiveBuilder n0(b0);
      return SmallVector<Value>{n0.loop(zero, ub(shape[1]), a0, [&](ImplicitLocOpBuilder &b1, Value hi, ValueRange a1) {
        NaiveBuilder n1(b1);
        return SmallVector<Value>{n1.loop(zero, n1.index(nqb), a1, [&](ImplicitLocOpBuilder &b2, Value qb, ValueRange a2) {
          NaiveBuilder n2(b2);
          Value count = extractBroadcast(b2, counts, {bi, hi, qb}, {0, 1});
          Value countIdx = arith::IndexCastOp::create(b2, b2.getIndexType(), count);
          return SmallVector<Value>{n2.loop(zero, maxBlocks, a2, [&](ImplicitLocOpBuilder &b3, Value e, ValueRange a3) {
            Value kb32 = extractBroadcast(b3, indices, {bi, hi, qb, e}, {0, 1});
            Value kb = arith::IndexCastOp::create(b3, b3.getIndexType(), kb32);
            Value inCount = arith::CmpIOp::create(b3, arith::CmpIPredicate::slt, e, countIdx);
            Value nonNeg = arith::CmpIOp::create(b3, arith::CmpIPredicate::sge, kb, zero);
            Value below = arith::CmpIOp::create(
                b3, arith::CmpIPredicate::slt, kb,
                arith::ConstantIndexOp::create(b3, nkb));
            Value valid = arith::AndIOp::create(
                b3, inCount, arith::AndIOp::create(b3, nonNeg, below));
            auto ifOp = scf::IfOp::create(
                b3, valid,
                [&](OpBuilder &tb, Location loc) {
                  Value t = arith::ConstantOp::create(tb, loc, tb.getBoolAttr(true));
                  Value ins = tensor::InsertOp::create(tb, loc, t, a3[0],
                                                       ValueRange{bi, hi, qb, kb});
                  scf::YieldOp::create(tb, loc, ins);
                },
                [&](OpBuilder &eb, Location loc) {
                  scf::YieldOp::create(eb, loc, a3[0]);
                });
            return SmallVector<Value>{ifOp.getResult(0)};
          })[0]};
        })[0]};
      })[0]};
    })[0];
  }
  return vis;
}

namespace {

/// attn.attention -> full score matrix, masks, softmax, PV.
struct DecomposeAttention : OpRewritePattern<AttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> hq = staticDim(rewriter, op, op.getQuery(), 1, "Hq");
    FailureOr<int64_t> hkv = staticDim(rewriter, op, op.getKey(), 1, "Hkv");
    FailureOr<int64_t> dim = staticDim(rewriter, op, op.getQuery(), 3, "D");
    if (failed(hq) || failed(hkv) || failed(dim))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);

    // A paged cache is first read into its logical [B, Hkv, Lk, *] form.
    Value key = op.getKey(), value = op.getValue();
    if (Value table = op.getBlockTable()) {
      key = gatherPages(n, key, table);
      value = gatherPages(n, value, table);
    }
    Value lqV = getValueOrCreateConstantIndexOp(b, b.getLoc(), n.size(op.getQuery(), 2));
    Value lkV = getValueOrCreateConstantIndexOp(b, b.getLoc(), n.size(key, 2));
    Value kvLens = op.getKvLens();

    Value blockVis;
    int64_t bq = op.getBlockQ().value_or(1), bk = op.getBlockK().value_or(1);
    SmallVector<std::pair<Value, Value>> lists;
    if (op.getKvNumBlocks())
      lists.push_back({op.getKvNumBlocks(), op.getKvIndices()});
    if (op.getFullKvNumBlocks())
      lists.push_back({op.getFullKvNumBlocks(), op.getFullKvIndices()});
    if (!lists.empty()) {
      FailureOr<int64_t> lq = staticDim(rewriter, op, op.getQuery(), 2, "Lq");
      FailureOr<int64_t> lk = staticDim(rewriter, op, key, 2, "Lk");
      if (failed(lq) || failed(lk))
        return failure();
      blockVis = buildBlockVisibility(n, lists, op.getQuery(),
                                      (*lq + bq - 1) / bq, (*lk + bk - 1) / bk);
    }

    Value mask = op.getMask();
    bool boolMask = mask && getElementTypeOrSelf(mask.getType()).isInteger(1);
    std::optional<double> softcap;
    if (auto cap = op.getSoftcap())
      softcap = cap->convertToDouble();

    SoftmaxSpec spec;
    spec.query = op.getQuery();
    spec.key = key;
    spec.value = value;
    spec.scale = op.getEffectiveScale();
    spec.group = *hq / *hkv;
    spec.sinks = op.getSinks();
    spec.scoreTransform = [&](ImplicitLocOpBuilder &nb, Value s,
                              ValueRange ivs) -> Value {
      NaiveBuilder m(nb);
      if (softcap) {
        Value inner = arith::DivFOp::create(nb, s, m.f32(*softcap));
        s = arith::MulFOp::create(nb, m.f32(*softcap),
                                  math::TanhOp::create(nb, inner));
      }
      if (!op.getScoreMod().empty())
        s = inlineModRegion(nb, op.getScoreMod(),
                            {s, ivs[0], ivs[1], ivs[2], ivs[3]});
      if (mask && !boolMask) {
        Value add = extractBroadcast(nb, mask, {ivs[0], ivs[1], ivs[2], ivs[3]}, {0, 1});
        s = arith::AddFOp::create(nb, s, m.toF32(add));
      }
      return s;
    };
    bool anyVisibilityRule = op.getCausal() || op.getWindow() || boolMask ||
                             blockVis || !op.getMaskMod().empty() || kvLens;
    if (anyVisibilityRule)
      spec.visible = [&](ImplicitLocOpBuilder &nb, ValueRange ivs) -> Value {
        Value vis = arith::ConstantOp::create(nb, nb.getBoolAttr(true));
        auto both = [&](Value c) { vis = arith::AndIOp::create(nb, vis, c); };
        Value i = ivs[2], j = ivs[3];
        // The diagonal rules align at the row's key count.
        Value count = lkV;
        if (kvLens) {
          count = keyCount(nb, kvLens, ivs[0], lkV);
          both(arith::CmpIOp::create(nb, arith::CmpIPredicate::slt, j, count));
        }
        if (op.getCausal())
          both(causalVisible(nb, i, j, lqV, count));
        if (auto window = op.getWindow()) {
          // delta = (i + Lk - Lq) - j must lie in [-right, left].
          Value delta = arith::SubIOp::create(
              nb, arith::AddIOp::create(nb, i, count),
              arith::AddIOp::create(nb, j, lqV));
          Value left = arith::ConstantIndexOp::create(nb, (*window)[0]);
          Value negRight = arith::ConstantIndexOp::create(nb, -(*window)[1]);
          both(arith::CmpIOp::create(nb, arith::CmpIPredicate::sle, delta, left));
          both(arith::CmpIOp::create(nb, arith::CmpIPredicate::sge, delta, negRight));
        }
        if (boolMask)
          both(extractBroadcast(nb, mask, {ivs[0], ivs[1], i, j}, {0, 1}));
        if (blockVis) {
          Value qb = arith::DivUIOp::create(nb, i, arith::ConstantIndexOp::create(nb, bq));
          Value kb = arith::DivUIOp::create(nb, j, arith::ConstantIndexOp::create(nb, bk));
          both(tensor::ExtractOp::create(nb, blockVis,
                                         ValueRange{ivs[0], ivs[1], qb, kb}));
        }
        if (!op.getMaskMod().empty())
          both(inlineModRegion(nb, op.getMaskMod(), {ivs[0], ivs[1], i, j}));
        return vis;
      };

    replaceWithSoftmaxAttention(rewriter, op, n, spec);
    return success();
  }
};

/// attn.merge -> max of the partial lse, weights exp(lse_n - lse), sum.
struct DecomposeMerge : OpRewritePattern<MergeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MergeOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    SmallVector<OpFoldResult> outShape = n.sizes(op.getOut());
    SmallVector<OpFoldResult> lseShape = n.sizes(op.getLse());
    double inf = std::numeric_limits<double>::infinity();

    // Loops n,b,h,l for the lse reductions.
    AffineMap partial = n.map(4, {d(0), d(1), d(2), d(3)});
    AffineMap row = n.map(4, {d(1), d(2), d(3)});
    Value maxLse = n.generic(n.filled(lseShape, -inf), {op.getLses()},
                             {partial, row}, 4, {0},
                             [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                               return arith::MaximumFOp::create(nb, a[0], a[1]).getResult();
                             });
    auto weight = [&](ImplicitLocOpBuilder &nb, Value lseN, Value ref) -> Value {
      NaiveBuilder m(nb);
      Value none = arith::CmpFOp::create(nb, arith::CmpFPredicate::OEQ, lseN, m.negInf());
      Value e = math::ExpOp::create(nb, arith::SubFOp::create(nb, lseN, ref));
      return arith::SelectOp::create(nb, none, m.f32(0.0), e);
    };
    Value sum = n.generic(n.filled(lseShape, 0.0), {op.getLses(), maxLse},
                          {partial, row, row}, 4, {0},
                          [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                            return arith::AddFOp::create(nb, a[2], weight(nb, a[0], a[1])).getResult();
                          });
    AffineMap id3 = n.map(3, {d(0), d(1), d(2)});
    Value lse = n.generic(n.empty(lseShape, b.getF32Type()), {maxLse, sum},
                          {id3, id3, id3}, 3, {},
                          [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                            NaiveBuilder m(nb);
                            Value none = arith::CmpFOp::create(nb, arith::CmpFPredicate::OLE, a[1], m.f32(0.0));
                            Value l = arith::AddFOp::create(nb, a[0], math::LogOp::create(nb, a[1]));
                            return arith::SelectOp::create(nb, none, m.negInf(), l).getResult();
                          });
    // Loops n,b,h,l,e: out[b,h,l,e] = sum_n w_n outs[n,b,h,l,e].
    Value out = n.generic(
        n.filled(outShape, 0.0), {op.getOuts(), op.getLses(), lse},
        {n.map(5, {d(0), d(1), d(2), d(3), d(4)}), n.map(5, {d(0), d(1), d(2), d(3)}),
         n.map(5, {d(1), d(2), d(3)}), n.map(5, {d(1), d(2), d(3), d(4)})},
        5, {0}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          NaiveBuilder m(nb);
          Value w = weight(nb, a[1], a[2]);
          Value prod = arith::MulFOp::create(nb, w, m.toF32(a[0]));
          return arith::AddFOp::create(nb, a[3], prod).getResult();
        });
    Type outElem = getElementTypeOrSelf(op.getOut().getType());
    rewriter.replaceOp(op, {n.castTensor(out, outElem), lse});
    return success();
  }
};

/// attn.diff_attention -> two softmax attentions, difference, RMS norm.
struct DecomposeDiffAttention : OpRewritePattern<DiffAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DiffAttentionOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> hq = staticDim(rewriter, op, op.getQuery1(), 1, "Hq");
    FailureOr<int64_t> hkv = staticDim(rewriter, op, op.getKey1(), 1, "Hkv");
    FailureOr<int64_t> dim = staticDim(rewriter, op, op.getQuery1(), 3, "D");
    FailureOr<int64_t> dv = staticDim(rewriter, op, op.getValue(), 3, "Dv");
    if (failed(hq) || failed(hkv) || failed(dim) || failed(dv))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    std::optional<double> scale;
    if (op.getScale())
      scale = op.getScale()->convertToDouble();
    Value o1 = buildSoftmaxAttention(
                   n, plainSoftmaxSpec(n, op.getQuery1(), op.getKey1(),
                                       op.getValue(), scale, *hq / *hkv,
                                       op.getCausal()))
                   .out;
    Value o2 = buildSoftmaxAttention(
                   n, plainSoftmaxSpec(n, op.getQuery2(), op.getKey2(),
                                       op.getValue(), scale, *hq / *hkv,
                                       op.getCausal()))
                   .out;

    SmallVector<OpFoldResult> shape = n.sizes(o1);
    AffineMap id4 = n.map(4, {d(0), d(1), d(2), d(3)});
    Value diff = n.generic(n.empty(shape, b.getF32Type()), {o1, o2, op.getLambda()},
                           {id4, id4, n.map(4, {d(1)}), id4}, 4, {},
                           [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                             Value scaled = arith::MulFOp::create(nb, a[2], a[1]);
                             return arith::SubFOp::create(nb, a[0], scaled).getResult();
                           });
    AffineMap row = n.map(4, {d(0), d(1), d(2)});
    Value sumSq = n.generic(n.filled({shape[0], shape[1], shape[2]}, 0.0), {diff},
                            {id4, row}, 4, {3},
                            [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                              Value sq = arith::MulFOp::create(nb, a[0], a[0]);
                              return arith::AddFOp::create(nb, a[1], sq).getResult();
                            });
    double eps = op.getEps().convertToDouble();
    double outScale = 1.0 - op.getLambdaInit().convertToDouble();
    Value weightT = op.getNormWeight();
    SmallVector<Value> ins = {diff, sumSq};
    SmallVector<AffineMap> maps = {id4, row};
    if (weightT) {
      ins.push_back(weightT);
      maps.push_back(n.map(4, {d(3)}));
    }
    maps.push_back(id4);
    Value out = n.generic(
        n.empty(shape, b.getF32Type()), ins, maps, 4, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          NaiveBuilder m(nb);
          Value mean = arith::DivFOp::create(nb, a[1], m.f32(double(*dv)));
          Value rms = math::SqrtOp::create(nb, arith::AddFOp::create(nb, mean, m.f32(eps)));
          Value r = arith::DivFOp::create(nb, a[0], rms);
          if (weightT)
            r = arith::MulFOp::create(nb, r, a[2]);
          return arith::MulFOp::create(nb, r, m.f32(outScale)).getResult();
        });
    Type outElem = getElementTypeOrSelf(op.getOut().getType());
    rewriter.replaceOp(op, n.castTensor(out, outElem));
    return success();
  }
};

} // namespace

void attn::populateSoftmaxDecompositions(RewritePatternSet &patterns) {
  patterns.add<DecomposeAttention, DecomposeMerge, DecomposeDiffAttention>(
      patterns.getContext());
}
