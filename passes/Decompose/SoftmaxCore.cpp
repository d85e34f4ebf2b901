//===- SoftmaxCore.cpp - naive softmax attention shared by the ops --------===//
//
// This file implements the textbook softmax attention every softmax-family
// decomposition ends in: the full [B,Hq,Lq,Lk] score matrix, masked with
// -inf, a max and a sum over keys, then the product with V.
//
//===----------------------------------------------------------------------===//

#include "SoftmaxCore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace attn;

Value attn::causalVisible(ImplicitLocOpBuilder &b, Value i, Value j, Value lq,
                          Value lk) {
  // j <= i + Lk - Lq, written as j + Lq <= i + Lk to stay in unsigned range.
  Value lhs = arith::AddIOp::create(b, j, lq);
  Value rhs = arith::AddIOp::create(b, i, lk);
  return arith::CmpIOp::create(b, arith::CmpIPredicate::sle, lhs, rhs);
}

Value attn::extractBroadcast(ImplicitLocOpBuilder &b, Value tensor,
                             ArrayRef<Value> ivs,
                             ArrayRef<unsigned> broadcastable) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<Value> indices(ivs.begin(), ivs.end());
  Value zero = arith::ConstantIndexOp::create(b, 0);
  for (unsigned axis : broadcastable)
    if (type.getDimSize(axis) == 1)
      indices[axis] = zero;
  return tensor::ExtractOp::create(b, tensor, indices);
}

SoftmaxResult attn::buildSoftmaxAttention(NaiveBuilder &n,
                                          const SoftmaxSpec &spec) {
  ImplicitLocOpBuilder &b = n.builder();
  auto d = [&](unsigned i) { return n.d(i); };
  OpFoldResult batch = n.size(spec.query, 0), heads = n.size(spec.query, 1),
               lq = n.size(spec.query, 2), lk = n.size(spec.key, 2),
               dv = n.size(spec.value, 3);
  AffineExpr kvHead = d(1).floorDiv(spec.group);

  // scores[b,h,i,j] = sum_d q[b,h,i,d] k[b,h/G,j,d]           loops b,h,i,j,d
  Value scores = n.generic(
      n.filled({batch, heads, lq, lk}, 0.0), {spec.query, spec.key},
      {n.map(5, {d(0), d(1), d(2), d(4)}), n.map(5, {d(0), kvHead, d(3), d(4)}),
       n.map(5, {d(0), d(1), d(2), d(3)})},
      5, {4}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value prod = arith::MulFOp::create(nb, m.toF32(a[0]), m.toF32(a[1]));
        return arith::AddFOp::create(nb, a[2], prod).getResult();
      });

  // Scale, transform, and mask invisible scores with -inf.    loops b,h,i,j
  AffineMap id4 = n.map(4, {d(0), d(1), d(2), d(3)});
  Value masked = n.generic(
      n.empty({batch, heads, lq, lk}, b.getF32Type()), {scores}, {id4, id4}, 4,
      {}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
        NaiveBuilder m(nb);
        Value s = arith::MulFOp::create(nb, a[0], m.f32(spec.scale));
        if (spec.scoreTransform)
          s = spec.scoreTransform(nb, s, ivs);
        if (!spec.visible)
          return s;
        Value vis = spec.visible(nb, ivs);
        return arith::SelectOp::create(nb, vis, s, m.negInf()).getResult();
      });

  // Row max over keys, joined by the sink logit.              loops b,h,i,j
  AffineMap row4 = n.map(4, {d(0), d(1), d(2)});
  Value rowMax = n.generic(
      n.filled({batch, heads, lq}, -std::numeric_limits<double>::infinity()),
      {masked}, {id4, row4}, 4, {3},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        return arith::MaximumFOp::create(nb, a[0], a[1]).getResult();
      });
  AffineMap id3 = n.map(3, {d(0), d(1), d(2)});
  if (spec.sinks)
    rowMax = n.generic(
        n.empty({batch, heads, lq}, b.getF32Type()), {rowMax, spec.sinks},
        {id3, n.map(3, {d(1)}), id3}, 3, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          return arith::MaximumFOp::create(nb, a[0], a[1]).getResult();
        });

  // p = exp(s - max) for visible scores, 0 for masked ones.   loops b,h,i,j
  Value probs = n.generic(
      n.empty({batch, heads, lq, lk}, b.getF32Type()), {masked, rowMax},
      {id4, row4, id4}, 4, {},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value isMasked = arith::CmpFOp::create(nb, arith::CmpFPredicate::OEQ,
                                               a[0], m.negInf());
        Value diff = arith::SubFOp::create(nb, a[0], a[1]);
        Value e = math::ExpOp::create(nb, diff);
        return arith::SelectOp::create(nb, isMasked, m.f32(0.0), e).getResult();
      });

  // Denominator: sum of p plus the sink's exp(sink - max).
  Value rowSum = n.generic(n.filled({batch, heads, lq}, 0.0), {probs},
                           {id4, row4}, 4, {3},
                           [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                             return arith::AddFOp::create(nb, a[0], a[1]).getResult();
                           });
  if (spec.sinks)
    rowSum = n.generic(
        n.empty({batch, heads, lq}, b.getF32Type()),
        {rowSum, spec.sinks, rowMax}, {id3, n.map(3, {d(1)}), id3, id3}, 3, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          Value diff = arith::SubFOp::create(nb, a[1], a[2]);
          Value e = math::ExpOp::create(nb, diff);
          return arith::AddFOp::create(nb, a[0], e).getResult();
        });

  // acc[b,h,i,e] = sum_j p[b,h,i,j] v[b,h/G,j,e]              loops b,h,i,e,j
  // Keys with p = 0 (invisible ones) are skipped, not multiplied: a cache
  // holds stale rows past its lengths, and 0 * inf would poison the row.
  Value acc = n.generic(
      n.filled({batch, heads, lq, dv}, 0.0), {probs, spec.value},
      {n.map(5, {d(0), d(1), d(2), d(4)}), n.map(5, {d(0), kvHead, d(4), d(3)}),
       n.map(5, {d(0), d(1), d(2), d(3)})},
      5, {4}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value prod = arith::MulFOp::create(nb, a[0], m.toF32(a[1]));
        Value sum = arith::AddFOp::create(nb, a[2], prod);
        Value skip = arith::CmpFOp::create(nb, arith::CmpFPredicate::OEQ, a[0],
                                           m.f32(0.0));
        return arith::SelectOp::create(nb, skip, a[2], sum).getResult();
      });

  // out = acc / sum, 0 where the row saw nothing.             loops b,h,i,e
  Value out = n.generic(
      n.empty({batch, heads, lq, dv}, b.getF32Type()), {acc, rowSum},
      {id4, row4, id4}, 4, {},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value empty = arith::CmpFOp::create(nb, arith::CmpFPredicate::OLE,
                                            a[1], m.f32(0.0));
        Value q = arith::DivFOp::create(nb, a[0], a[1]);
        return arith::SelectOp::create(nb, empty, m.f32(0.0), q).getResult();
      });

  // lse = max + log(sum), -inf where the row saw nothing.
  Value lse = n.generic(
      n.empty({batch, heads, lq}, b.getF32Type()), {rowMax, rowSum},
      {id3, id3, id3}, 3, {},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value empty = arith::CmpFOp::create(nb, arith::CmpFPredicate::OLE,
                                            a[1], m.f32(0.0));
        Value l = arith::AddFOp::create(nb, a[0], math::LogOp::create(nb, a[1]));
        return arith::SelectOp::create(nb, empty, m.negInf(), l).getResult();
      });
  return {out, lse};
}

void attn::replaceWithSoftmaxAttention(PatternRewriter &rewriter, Operation *op,
                                       NaiveBuilder &n, const SoftmaxSpec &spec) {
  SoftmaxResult r = buildSoftmaxAttention(n, spec);
  Type outElem = getElementTypeOrSelf(op->getResult(0).getType());
  SmallVector<Value> results = {n.castTensor(r.out, outElem)};
  if (op->getNumResults() > 1)
    results.push_back(r.lse);
  rewriter.replaceOp(op, results);
}

Value attn::keyCount(ImplicitLocOpBuilder &b, Value kvLens, Value batch,
                     Value lk) {
  Value raw = tensor::ExtractOp::create(b, kvLens, ValueRange{batch});
  Value zero = arith::ConstantIntOp::create(b, 0, 32);
  Value n = arith::MaxSIOp::create(b, raw, zero);
  n = arith::IndexCastOp::create(b, b.getIndexType(), n);
  return arith::MinSIOp::create(b, n, lk);
}

Value attn::gatherPages(NaiveBuilder &n, Value pool, Value table) {
  ImplicitLocOpBuilder &b = n.builder();
  auto poolType = cast<RankedTensorType>(pool.getType());
  auto tableType = cast<RankedTensorType>(table.getType());
  int64_t pageSize = poolType.getDimSize(2);
  SmallVector<OpFoldResult> shape = {n.size(table, 0), n.size(pool, 1),
                                     b.getIndexAttr(tableType.getDimSize(1) * pageSize),
                                     n.size(pool, 3)};
  Value lastPage = arith::SubIOp::create(
      b, getValueOrCreateConstantIndexOp(b, b.getLoc(), n.size(pool, 0)),
      n.index(1));
  auto d = [&](unsigned i) { return n.d(i); };
  return n.generic(
      n.empty(shape, poolType.getElementType()), {}, {n.map(4, {d(0), d(1), d(2), d(3)})},
      4, {}, [&](ImplicitLocOpBuilder &nb, ValueRange, ValueRange ivs) {
        Value ps = arith::ConstantIndexOp::create(nb, pageSize);
        Value slot = arith::DivUIOp::create(nb, ivs[2], ps);
        Value row = arith::RemUIOp::create(nb, ivs[2], ps);
        Value page = tensor::ExtractOp::create(nb, table, ValueRange{ivs[0], slot});
        Value index = arith::IndexCastOp::create(nb, nb.getIndexType(), page);
        index = arith::MaxSIOp::create(nb, index, arith::ConstantIndexOp::create(nb, 0));
        index = arith::MinSIOp::create(nb, index, lastPage);
        return tensor::ExtractOp::create(nb, pool, ValueRange{index, ivs[1], row, ivs[3]})
            .getResult();
      });
}

SoftmaxSpec attn::plainSoftmaxSpec(NaiveBuilder &n, Value query, Value key,
                                   Value value, std::optional<double> scale,
                                   int64_t group, bool causal, Value kvLens) {
  ImplicitLocOpBuilder &b = n.builder();
  int64_t dim = cast<RankedTensorType>(query.getType()).getDimSize(3);
  SoftmaxSpec spec;
  spec.query = query;
  spec.key = key;
  spec.value = value;
  spec.scale = scale ? *scale : 1.0 / std::sqrt(double(dim));
  spec.group = group;
  if (causal || kvLens) {
    Value lq = getValueOrCreateConstantIndexOp(b, b.getLoc(), n.size(query, 2));
    Value lk = getValueOrCreateConstantIndexOp(b, b.getLoc(), n.size(key, 2));
    spec.visible = [lq, lk, causal, kvLens](ImplicitLocOpBuilder &nb,
                                            ValueRange ivs) -> Value {
      if (!kvLens)
        return causalVisible(nb, ivs[2], ivs[3], lq, lk);
      Value count = keyCount(nb, kvLens, ivs[0], lk);
      Value vis = arith::CmpIOp::create(nb, arith::CmpIPredicate::slt, ivs[3], count);
      if (causal)
        vis = arith::AndIOp::create(nb, vis, causalVisible(nb, ivs[2], ivs[3], lq, count));
      return vis;
    };
  }
  return spec;
}
