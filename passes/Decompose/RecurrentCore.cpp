//===- RecurrentCore.cpp - pieces shared by the recurrent decompositions --===//
//
// This file implements the token slices, the delta-rule transition, the
// Fenwick level, the l2 normalisation and the result cast that
// RecurrentDecompose.cpp and LogLinearDecompose.cpp share.
//
//===----------------------------------------------------------------------===//

#include "RecurrentCore.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace attn;

Value attn::tokenAt(NaiveBuilder &n, Value tensor, Value t) {
  ImplicitLocOpBuilder &b = n.builder();
  int64_t rank = cast<RankedTensorType>(tensor.getType()).getRank();
  SmallVector<OpFoldResult> offsets(rank, b.getIndexAttr(0));
  SmallVector<OpFoldResult> sizes = n.sizes(tensor);
  SmallVector<OpFoldResult> strides(rank, b.getIndexAttr(1));
  offsets[2] = t;
  sizes[2] = b.getIndexAttr(1);
  return tensor::ExtractSliceOp::create(b, tensor, offsets, sizes, strides);
}

AffineMap attn::tokenMap(NaiveBuilder &n, unsigned numLoops,
                         ArrayRef<AffineExpr> exprs) {
  SmallVector<AffineExpr> withToken(exprs.begin(), exprs.end());
  withToken.insert(withToken.begin() + 2,
                   getAffineConstantExpr(0, n.builder().getContext()));
  return n.map(numLoops, withToken);
}

Value attn::zeroedTokenSlot(NaiveBuilder &n, Value out, Value t) {
  Value slot = tokenAt(n, out, t);
  return linalg::FillOp::create(n.builder(), n.f32(0.0), slot).getResult(0);
}

Value attn::insertToken(NaiveBuilder &n, Value slice, Value out, Value t) {
  int64_t rank = cast<RankedTensorType>(out.getType()).getRank();
  SmallVector<Value> offsets(rank, Value());
  offsets[2] = t;
  return n.insertAt(slice, out, offsets);
}

Value attn::buildDeltaStep(NaiveBuilder &n, Value state, Value key, Value value,
                           Value beta, Value logDecay, bool levels) {
  // Loops b, h, [l,] d, e: the state's own axes.
  unsigned rank = levels ? 5 : 4;
  unsigned dAxis = rank - 2, eAxis = rank - 1;
  SmallVector<AffineExpr> all, row;
  for (unsigned i = 0; i < rank; ++i)
    all.push_back(n.d(i));
  row = {n.d(0), n.d(1)};
  if (levels)
    row.push_back(n.d(2));
  row.push_back(n.d(eAxis));
  AffineMap id = n.map(rank, all);
  AffineMap rowMap = n.map(rank, row); // [B,H,(NLEV,)Dv]
  AffineMap tokenScalar = tokenMap(n, rank, {n.d(0), n.d(1)}); // [B,H,1]
  AffineMap keyMap = tokenMap(n, rank, {n.d(0), n.d(1), n.d(dAxis)});
  AffineMap valueMap = tokenMap(n, rank, {n.d(0), n.d(1), n.d(eAxis)});

  // recalled[.., e] = sum_d k[d] S[d, e]: the value stored under key k.
  SmallVector<OpFoldResult> stateSizes = n.sizes(state);
  SmallVector<OpFoldResult> rowSizes(stateSizes.begin(), stateSizes.end());
  rowSizes.erase(rowSizes.begin() + dAxis);
  Value recalled = n.generic(
      n.filled(rowSizes, 0.0), {key, state}, {keyMap, id, rowMap}, rank,
      {dAxis}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value prod = arith::MulFOp::create(nb, m.toF32(a[0]), a[1]);
        return arith::AddFOp::create(nb, a[2], prod).getResult();
      });

  // S[d, e] <- a (S[d, e] - beta k[d] recalled[e]) + beta k[d] v[e], in
  // place: the generic's init is the state, read as its output element.
  SmallVector<Value> inputs = {recalled, key, value, beta};
  SmallVector<AffineMap> maps = {rowMap, keyMap, valueMap, tokenScalar};
  if (logDecay) {
    inputs.push_back(logDecay);
    maps.push_back(tokenScalar);
  }
  maps.push_back(id);
  return n.generic(
      state, inputs, maps, rank, {},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
        NaiveBuilder m(nb);
        Value old = a.back();
        Value betaK = arith::MulFOp::create(nb, a[3], m.toF32(a[1]));
        Value erased = arith::SubFOp::create(
            nb, old, arith::MulFOp::create(nb, betaK, a[0]));
        Value kept = erased;
        if (logDecay)
          kept =
              arith::MulFOp::create(nb, math::ExpOp::create(nb, a[4]), erased);
        Value written = arith::AddFOp::create(
            nb, kept, arith::MulFOp::create(nb, betaK, m.toF32(a[2])));
        if (!levels)
          return written;
        // Only level 0 takes the new token; the others only decay.
        Value isLevel0 = arith::CmpIOp::create(nb, arith::CmpIPredicate::eq,
                                               ivs[2], m.index(0));
        return arith::SelectOp::create(nb, isLevel0, written, kept).getResult();
      });
}

Value attn::freshCopy(NaiveBuilder &n, Value tensor) {
  ImplicitLocOpBuilder &b = n.builder();
  auto type = cast<RankedTensorType>(tensor.getType());
  Value init = n.empty(n.sizes(tensor), type.getElementType());
  return linalg::CopyOp::create(b, TypeRange{init.getType()},
                                ValueRange{tensor}, ValueRange{init})
      .getResult(0);
}

Value attn::buildL2Normalize(NaiveBuilder &n, Value x) {
  ImplicitLocOpBuilder &b = n.builder();
  SmallVector<OpFoldResult> sizes = n.sizes(x);
  AffineMap id = n.map(4, {n.d(0), n.d(1), n.d(2), n.d(3)});
  AffineMap token = n.map(4, {n.d(0), n.d(1), n.d(2)});
  Value sumSq = n.generic(
      n.filled({sizes[0], sizes[1], sizes[2]}, 0.0), {x}, {id, token}, 4, {3},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value e = m.toF32(a[0]);
        Value sq = arith::MulFOp::create(nb, e, e);
        return arith::AddFOp::create(nb, a[1], sq).getResult();
      });
  // x * (1 / sqrt(sum + eps)), the reference's order of operations.
  return n.generic(
      n.empty(sizes, b.getF32Type()), {x, sumSq}, {id, token, id}, 4, {},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value norm = math::SqrtOp::create(
            nb, arith::AddFOp::create(nb, a[1], m.f32(1e-6)));
        Value inv = arith::DivFOp::create(nb, m.f32(1.0), norm);
        return arith::MulFOp::create(nb, m.toF32(a[0]), inv).getResult();
      });
}

Value attn::buildFenwickLevel(ImplicitLocOpBuilder &b, Value t, Value s) {
  // bit_length(x) = 64 - ctlz(x) on i64; ctlz(0) = 64 gives level 0.
  Type i64 = b.getI64Type();
  Value x = arith::XOrIOp::create(b, arith::IndexCastOp::create(b, i64, t),
                                  arith::IndexCastOp::create(b, i64, s));
  Value zeros = math::CountLeadingZerosOp::create(b, x);
  Value bits = arith::SubIOp::create(
      b, arith::ConstantOp::create(b, b.getI64IntegerAttr(64)), zeros);
  return arith::IndexCastOp::create(b, b.getIndexType(), bits);
}

Value attn::toResultType(NaiveBuilder &n, Value tensor, Type resultType) {
  auto type = cast<RankedTensorType>(resultType);
  Value cast = n.castTensor(tensor, type.getElementType());
  if (cast.getType() == type)
    return cast;
  return tensor::CastOp::create(n.builder(), type, cast);
}
