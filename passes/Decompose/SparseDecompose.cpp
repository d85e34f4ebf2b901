//===- SparseDecompose.cpp - decompose sparse attention and selection -----===//
//
// This file implements the naive decompositions of attn.sparse_attention and
// of the selection ops topk_select, adamas_select, page_bounds, quest_select
// and dsa_indexer.
//
// sparse_attention marks the listed key blocks in an i1 tensor and hands it
// to the shared softmax core as its visibility. The selection ops build a
// score matrix with linalg and end in buildSelectionIndices. Their scores are
// computed in f64, summed in the reference's order: the indices they return
// are a discrete function of the scores, compared exactly with the fp64
// reference, and f32 scores would swap near-ties.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"
#include "Selection.h"
#include "SoftmaxCore.h"

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace attn;

static Value toF64(ImplicitLocOpBuilder &b, Value scalar) {
  if (scalar.getType().isF64())
    return scalar;
  return arith::ExtFOp::create(b, b.getF64Type(), scalar);
}

static Value f64(ImplicitLocOpBuilder &b, double value) {
  return arith::ConstantOp::create(b, b.getF64FloatAttr(value));
}

static Value indexValue(ImplicitLocOpBuilder &b, OpFoldResult ofr) {
  return getValueOrCreateConstantIndexOp(b, b.getLoc(), ofr);
}

/// out[b,h,i,j] = sum_e term(x[b,h,i,e], y[b,h/G,j,e]) in f64, e ascending.
/// x [B,H,Lx,E], y [B,H/G,Ly,E] -> [B,H,Lx,Ly].
static Value pairwiseF64(
    NaiveBuilder &n, Value x, Value y, int64_t group,
    const std::function<Value(ImplicitLocOpBuilder &, Value, Value)> &term) {
  auto d = [&](unsigned i) { return n.d(i); };
  SmallVector<OpFoldResult> shape = {n.size(x, 0), n.size(x, 1), n.size(x, 2),
                                     n.size(y, 2)};
  return n.generic(n.filled(shape, 0.0, n.builder().getF64Type()), {x, y},
                   {n.map(5, {d(0), d(1), d(2), d(4)}),
                    n.map(5, {d(0), d(1).floorDiv(group), d(3), d(4)}),
                    n.map(5, {d(0), d(1), d(2), d(3)})},
                   5, {4},
                   [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                     Value t = term(nb, toF64(nb, a[0]), toF64(nb, a[1]));
                     return arith::AddFOp::create(nb, a[2], t).getResult();
                   });
}

static Value dotTerm(ImplicitLocOpBuilder &b, Value x, Value y) {
  return arith::MulFOp::create(b, x, y);
}

/// The selection shared by the token-level ops: sink and local-window keys
/// forced, candidates limited by the causal rule.
template <typename SelectOp> static SelectionRule tokenRule(SelectOp op) {
  SelectionRule rule;
  rule.topk = op.getTopk();
  rule.causal = op.getCausal();
  rule.sinkTokens = op.getSinkTokens();
  rule.localWindow = op.getLocalWindow();
  return rule;
}

//===----------------------------------------------------------------------===//
// attn.sparse_attention
//===----------------------------------------------------------------------===//

/// selected[b,hi,qb,kb] (i1, [B,Hi,NQ,NKB]): some entry of indices[b,hi,qb,:]
/// names key block kb. -1 and other ids outside [0, NKB) name nothing, and a
/// duplicate sets the same element twice.
static Value buildSelectedBlocks(NaiveBuilder &n, Value indices,
                                 OpFoldResult numKeyBlocks) {
  ImplicitLocOpBuilder &b = n.builder();
  SmallVector<OpFoldResult> shape = n.sizes(indices);
  Value falseVal = arith::ConstantOp::create(b, b.getBoolAttr(false));
  Value init =
      linalg::FillOp::create(
          b, falseVal,
          n.empty({shape[0], shape[1], shape[2], numKeyBlocks}, b.getI1Type()))
          .getResult(0);
  SmallVector<Value> ubs;
  for (OpFoldResult s : shape)
    ubs.push_back(indexValue(b, s));
  Value numBlocks = indexValue(b, numKeyBlocks);
  return n.loopNest(
      ubs, init, [&](ImplicitLocOpBuilder &nb, ValueRange ivs, Value acc) {
        NaiveBuilder m(nb);
        Value id = tensor::ExtractOp::create(nb, indices, ivs);
        Value kb = arith::IndexCastOp::create(nb, nb.getIndexType(), id);
        Value valid = arith::AndIOp::create(
            nb,
            arith::CmpIOp::create(nb, arith::CmpIPredicate::sge, kb,
                                  m.index(0)),
            arith::CmpIOp::create(nb, arith::CmpIPredicate::slt, kb,
                                  numBlocks));
        auto ifOp = scf::IfOp::create(
            nb, valid,
            [&](OpBuilder &tb, Location loc) {
              Value t =
                  arith::ConstantOp::create(tb, loc, tb.getBoolAttr(true));
              Value ins = tensor::InsertOp::create(
                  tb, loc, t, acc, ValueRange{ivs[0], ivs[1], ivs[2], kb});
              scf::YieldOp::create(tb, loc, ins);
            },
            [&](OpBuilder &eb, Location loc) {
              scf::YieldOp::create(eb, loc, acc);
            });
        return ifOp.getResult(0);
      });
}

namespace {

/// attn.sparse_attention -> listed key blocks as visibility, softmax core.
struct DecomposeSparseAttention : OpRewritePattern<SparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> hq = staticDim(rewriter, op, op.getQuery(), 1, "Hq");
    FailureOr<int64_t> hkv = staticDim(rewriter, op, op.getKey(), 1, "Hkv");
    FailureOr<int64_t> dim = staticDim(rewriter, op, op.getQuery(), 3, "D");
    FailureOr<int64_t> hi =
        staticDim(rewriter, op, op.getIndices(), 1, "the index heads Hi");
    if (failed(hq) || failed(hkv) || failed(dim) || failed(hi))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    int64_t group = *hq / *hkv;
    int64_t queryBlock = op.getQueryBlock(), keyBlock = op.getKeyBlock();
    Value lq = indexValue(b, n.size(op.getQuery(), 2));
    Value lk = indexValue(b, n.size(op.getKey(), 2));
    // NKB = ceil(Lk / key_block), static when Lk is.
    OpFoldResult numKeyBlocks;
    if (auto keys = getConstantIntValue(n.size(op.getKey(), 2)))
      numKeyBlocks = b.getIndexAttr((*keys + keyBlock - 1) / keyBlock);
    else
      numKeyBlocks =
          arith::CeilDivSIOp::create(b, lk, n.index(keyBlock)).getResult();
    Value selected = buildSelectedBlocks(n, op.getIndices(), numKeyBlocks);

    SoftmaxSpec spec;
    spec.query = op.getQuery();
    spec.key = op.getKey();
    spec.value = op.getValue();
    spec.scale = op.getScale() ? op.getScale()->convertToDouble()
                               : 1.0 / std::sqrt(double(*dim));
    spec.group = group;
    spec.visible = [&](ImplicitLocOpBuilder &nb, ValueRange ivs) -> Value {
      NaiveBuilder m(nb);
      Value h = ivs[1], i = ivs[2], j = ivs[3];
      // Index head of query head h: itself, its kv head, or the shared one.
      Value ih = *hi == *hq    ? h
                 : *hi == *hkv ? arith::DivUIOp::create(nb, h, m.index(group))
                               : m.index(0);
      Value qb = arith::DivUIOp::create(nb, i, m.index(queryBlock));
      Value kb = arith::DivUIOp::create(nb, j, m.index(keyBlock));
      Value vis = tensor::ExtractOp::create(nb, selected,
                                            ValueRange{ivs[0], ih, qb, kb});
      if (op.getCausal())
        vis = arith::AndIOp::create(nb, vis, causalVisible(nb, i, j, lq, lk));
      return vis;
    };
    replaceWithSoftmaxAttention(rewriter, op, n, spec);
    return success();
  }
};

//===----------------------------------------------------------------------===//
// Selection ops
//===----------------------------------------------------------------------===//

/// attn.topk_select -> f64 q.k scores, selection loop.
struct DecomposeTopkSelect : OpRewritePattern<TopkSelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(TopkSelectOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> hq = staticDim(rewriter, op, op.getQuery(), 1, "Hq");
    FailureOr<int64_t> hkv = staticDim(rewriter, op, op.getKey(), 1, "Hkv");
    if (failed(hq) || failed(hkv))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    Value scores =
        pairwiseF64(n, op.getQuery(), op.getKey(), *hq / *hkv, dotTerm);
    Value lq = indexValue(b, n.size(op.getQuery(), 2));
    Value lk = indexValue(b, n.size(op.getKey(), 2));
    rewriter.replaceOp(op,
                       buildSelectionIndices(n, scores, lq, lk, tokenRule(op)));
    return success();
  }
};

/// y = H x / sqrt(D) in f64 with the Sylvester Hadamard matrix
/// H[e][c] = (-1)^popcount(e & c), over the last axis of a rank-4 tensor.
static Value hadamardF64(NaiveBuilder &n, Value x, int64_t dim) {
  ImplicitLocOpBuilder &b = n.builder();
  auto d = [&](unsigned i) { return n.d(i); };
  SmallVector<OpFoldResult> shape = n.sizes(x);
  // sums[.., e] = sum_c +-x[.., c]                          loops b,h,l,e,c
  Value sums = n.generic(
      n.filled(shape, 0.0, b.getF64Type()), {x},
      {n.map(5, {d(0), d(1), d(2), d(4)}), n.map(5, {d(0), d(1), d(2), d(3)})},
      5, {4}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
        Value e = arith::IndexCastOp::create(nb, nb.getI64Type(), ivs[3]);
        Value c = arith::IndexCastOp::create(nb, nb.getI64Type(), ivs[4]);
        Value bits = math::CtPopOp::create(nb, arith::AndIOp::create(nb, e, c));
        Value odd = arith::TruncIOp::create(nb, nb.getI1Type(), bits);
        Value v = toF64(nb, a[0]);
        Value term =
            arith::SelectOp::create(nb, odd, arith::NegFOp::create(nb, v), v);
        return arith::AddFOp::create(nb, a[1], term).getResult();
      });
  AffineMap id4 = n.map(4, {d(0), d(1), d(2), d(3)});
  double inv = 1.0 / std::sqrt(double(dim));
  return n.generic(
      n.empty(shape, b.getF64Type()), {sums}, {id4, id4}, 4, {},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        return arith::MulFOp::create(nb, a[0], f64(nb, inv)).getResult();
      });
}

/// attn.adamas_select -> Hadamard transforms, 2-bit keys, negative Manhattan
/// distance, selection loop.
struct DecomposeAdamasSelect : OpRewritePattern<AdamasSelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(AdamasSelectOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> hq = staticDim(rewriter, op, op.getQuery(), 1, "Hq");
    FailureOr<int64_t> hkv = staticDim(rewriter, op, op.getKey(), 1, "Hkv");
    FailureOr<int64_t> dim = staticDim(rewriter, op, op.getQuery(), 3, "D");
    if (failed(hq) || failed(hkv) || failed(dim))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    Value qt = hadamardF64(n, op.getQuery(), *dim);
    Value kt = hadamardF64(n, op.getKey(), *dim);

    // s = max_e |k'| / 1.5 per key.                           loops b,h,j,e
    SmallVector<OpFoldResult> kShape = n.sizes(kt);
    AffineMap id4 = n.map(4, {d(0), d(1), d(2), d(3)});
    AffineMap perKey = n.map(4, {d(0), d(1), d(2)});
    Value amax = n.generic(
        n.filled({kShape[0], kShape[1], kShape[2]}, 0.0, b.getF64Type()), {kt},
        {id4, perKey}, 4, {3},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          Value mag = math::AbsFOp::create(nb, a[0]);
          return arith::MaximumFOp::create(nb, a[1], mag).getResult();
        });
    // kq = level * s, level = clamp(floor(k'/s + 2), 0, 3) - 1.5, so a value
    // on a boundary between two levels takes the upper one; 0 when s = 0.
    Value kq = n.generic(
        n.empty(kShape, b.getF64Type()), {kt, amax}, {id4, perKey, id4}, 4, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          Value s = arith::DivFOp::create(nb, a[1], f64(nb, 1.5));
          Value idx = math::FloorOp::create(
              nb, arith::AddFOp::create(nb, arith::DivFOp::create(nb, a[0], s),
                                        f64(nb, 2.0)));
          Value clamped = arith::MinimumFOp::create(
              nb, arith::MaximumFOp::create(nb, idx, f64(nb, 0.0)),
              f64(nb, 3.0));
          Value level = arith::SubFOp::create(nb, clamped, f64(nb, 1.5));
          Value positive = arith::CmpFOp::create(nb, arith::CmpFPredicate::OGT,
                                                 s, f64(nb, 0.0));
          Value chosen =
              arith::SelectOp::create(nb, positive, level, f64(nb, 0.0));
          return arith::MulFOp::create(nb, chosen, s).getResult();
        });
    // score = -sum_e |q'_e - kq_e|, accumulated as a sum of negated terms
    // (negation commutes exactly with rounding).
    Value scores = pairwiseF64(
        n, qt, kq, *hq / *hkv, [](ImplicitLocOpBuilder &nb, Value x, Value y) {
          Value dist =
              math::AbsFOp::create(nb, arith::SubFOp::create(nb, x, y));
          return arith::NegFOp::create(nb, dist).getResult();
        });
    Value lq = indexValue(b, n.size(op.getQuery(), 2));
    Value lk = indexValue(b, n.size(op.getKey(), 2));
    rewriter.replaceOp(op,
                       buildSelectionIndices(n, scores, lq, lk, tokenRule(op)));
    return success();
  }
};

/// attn.page_bounds -> keys gathered as [B,H,P,page,D] pages, min and max
/// over each page.
struct DecomposePageBounds : OpRewritePattern<PageBoundsOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PageBoundsOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    int64_t page = op.getPageSize();
    Value keys = op.getKey();
    SmallVector<OpFoldResult> kShape = n.sizes(keys);
    SmallVector<OpFoldResult> outShape = n.sizes(op.getKmin());
    Value lastKey =
        arith::SubIOp::create(b, indexValue(b, kShape[2]), n.index(1));
    // paged[b,h,p,r,e] = k[b,h,min(p page + r, Lk - 1),e]: the ragged last
    // page repeats its own last key, which changes neither its min nor its
    // max.                                                   loops b,h,p,r,e
    Value paged = n.generic(
        n.empty({kShape[0], kShape[1], outShape[2], b.getIndexAttr(page),
                 kShape[3]},
                b.getF32Type()),
        {}, {n.map(5, {d(0), d(1), d(2), d(3), d(4)})}, 5, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange, ValueRange ivs) {
          NaiveBuilder m(nb);
          Value j = arith::AddIOp::create(
              nb, arith::MulIOp::create(nb, ivs[2], m.index(page)), ivs[3]);
          Value key = arith::MinSIOp::create(nb, j, lastKey);
          Value x = tensor::ExtractOp::create(
              nb, keys, ValueRange{ivs[0], ivs[1], key, ivs[4]});
          return m.toF32(x);
        });
    // out[b,h,p,e] = min/max over r of paged[b,h,p,r,e]     loops b,h,p,r,e
    auto reduce = [&](double identity, bool isMin) {
      return n.generic(
          n.filled(outShape, identity), {paged},
          {n.map(5, {d(0), d(1), d(2), d(3), d(4)}),
           n.map(5, {d(0), d(1), d(2), d(4)})},
          5, {3}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
            if (isMin)
              return arith::MinimumFOp::create(nb, a[0], a[1]).getResult();
            return arith::MaximumFOp::create(nb, a[0], a[1]).getResult();
          });
    };
    double inf = std::numeric_limits<double>::infinity();
    Value kmin = reduce(inf, /*isMin=*/true);
    Value kmax = reduce(-inf, /*isMin=*/false);
    rewriter.replaceOp(op, {kmin, kmax});
    return success();
  }
};

/// attn.quest_select -> f64 page bounds sum_e max(q m, q M), selection over
/// pages.
struct DecomposeQuestSelect : OpRewritePattern<QuestSelectOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuestSelectOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> hq = staticDim(rewriter, op, op.getQuery(), 1, "Hq");
    FailureOr<int64_t> hkv = staticDim(rewriter, op, op.getKmin(), 1, "Hkv");
    if (failed(hq) || failed(hkv))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    int64_t group = *hq / *hkv;
    SmallVector<OpFoldResult> shape = {
        n.size(op.getQuery(), 0), n.size(op.getQuery(), 1),
        n.size(op.getQuery(), 2), n.size(op.getKmin(), 2)};
    AffineMap bound = n.map(5, {d(0), d(1).floorDiv(group), d(3), d(4)});
    // bound[b,h,i,p] = sum_e max(q_e m_e, q_e M_e)         loops b,h,i,p,e
    Value scores = n.generic(
        n.filled(shape, 0.0, b.getF64Type()),
        {op.getQuery(), op.getKmin(), op.getKmax()},
        {n.map(5, {d(0), d(1), d(2), d(4)}), bound, bound,
         n.map(5, {d(0), d(1), d(2), d(3)})},
        5, {4}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          Value q = toF64(nb, a[0]);
          Value lo = arith::MulFOp::create(nb, q, toF64(nb, a[1]));
          Value hi = arith::MulFOp::create(nb, q, toF64(nb, a[2]));
          Value best = arith::MaximumFOp::create(nb, lo, hi);
          return arith::AddFOp::create(nb, a[3], best).getResult();
        });
    SelectionRule rule = tokenRule(op);
    rule.keysPerItem = op.getPageSize();
    Value lq = indexValue(b, shape[2]);
    Value lk = n.index(op.getKeyLength());
    rewriter.replaceOp(op, buildSelectionIndices(n, scores, lq, lk, rule));
    return success();
  }
};

/// attn.dsa_indexer -> f64 per-head dots, relu-weighted sum over indexer
/// heads, selection loop.
struct DecomposeDsaIndexer : OpRewritePattern<DsaIndexerOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DsaIndexerOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> hi = staticDim(rewriter, op, op.getQuery(), 1, "Hi");
    if (failed(hi))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    // dots[b,h,i,j] = qi_h . k_j (one key head: group = Hi).
    Value dots = pairwiseF64(n, op.getQuery(), op.getKey(), *hi, dotTerm);
    // score[b,0,i,j] = sum_h w[b,h,i] relu(dots[b,h,i,j])  loops b,u,i,j,h
    SmallVector<OpFoldResult> shape = {n.size(dots, 0), b.getIndexAttr(1),
                                       n.size(dots, 2), n.size(dots, 3)};
    Value scores = n.generic(
        n.filled(shape, 0.0, b.getF64Type()), {op.getWeights(), dots},
        {n.map(5, {d(0), d(4), d(2)}), n.map(5, {d(0), d(4), d(2), d(3)}),
         n.map(5, {d(0), d(1), d(2), d(3)})},
        5, {4}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          Value relu = arith::MaximumFOp::create(nb, a[1], f64(nb, 0.0));
          Value term = arith::MulFOp::create(nb, toF64(nb, a[0]), relu);
          return arith::AddFOp::create(nb, a[2], term).getResult();
        });
    Value lq = indexValue(b, shape[2]);
    Value lk = indexValue(b, n.size(op.getKey(), 2));
    rewriter.replaceOp(op,
                       buildSelectionIndices(n, scores, lq, lk, tokenRule(op)));
    return success();
  }
};

} // namespace

void attn::populateSparseDecompositions(RewritePatternSet &patterns) {
  patterns
      .add<DecomposeSparseAttention, DecomposeTopkSelect, DecomposeAdamasSelect,
           DecomposePageBounds, DecomposeQuestSelect, DecomposeDsaIndexer>(
          patterns.getContext());
}
