//===- NaiveBuilder.cpp - builders for the naive decompositions -----------===//
//
// This file implements the small builder the attn decompositions share.
//
//===----------------------------------------------------------------------===//

#include "NaiveBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <limits>

using namespace mlir;
using namespace attn;

Value NaiveBuilder::f32(double value) {
  return arith::ConstantOp::create(b, b.getF32FloatAttr(value));
}

Value NaiveBuilder::index(int64_t value) {
  return arith::ConstantIndexOp::create(b, value);
}

Value NaiveBuilder::i32(int64_t value) {
  return arith::ConstantOp::create(b, b.getI32IntegerAttr(value));
}

Value NaiveBuilder::negInf() {
  return f32(-std::numeric_limits<double>::infinity());
}

Value NaiveBuilder::toF32(Value scalar) {
  if (scalar.getType().isF32())
    return scalar;
  return arith::ExtFOp::create(b, b.getF32Type(), scalar);
}

Value NaiveBuilder::fromF32(Value scalar, Type type) {
  if (type.isF32())
    return scalar;
  return arith::TruncFOp::create(b, type, scalar);
}

SmallVector<OpFoldResult> NaiveBuilder::sizes(Value tensor) {
  return tensor::getMixedSizes(b, b.getLoc(), tensor);
}

OpFoldResult NaiveBuilder::size(Value tensor, int64_t axis) {
  return sizes(tensor)[axis];
}

Value NaiveBuilder::empty(ArrayRef<OpFoldResult> sizes, Type elementType) {
  return tensor::EmptyOp::create(b, sizes, elementType);
}

Value NaiveBuilder::filled(ArrayRef<OpFoldResult> sizes, double value,
                           Type elementType) {
  if (!elementType)
    elementType = b.getF32Type();
  Value init = empty(sizes, elementType);
  Value cst = arith::ConstantOp::create(b, b.getFloatAttr(elementType, value));
  return linalg::FillOp::create(b, cst, init).getResult(0);
}

AffineMap NaiveBuilder::map(unsigned numLoops, ArrayRef<AffineExpr> exprs) {
  return AffineMap::get(numLoops, 0, exprs, b.getContext());
}

Value NaiveBuilder::generic(Value init, ValueRange inputs,
                           ArrayRef<AffineMap> maps, unsigned numLoops,
                           ArrayRef<unsigned> reductions, const Body &body) {
  SmallVector<utils::IteratorType> iterators(numLoops,
                                             utils::IteratorType::parallel);
  for (unsigned r : reductions)
    iterators[r] = utils::IteratorType::reduction;
  auto op = linalg::GenericOp::create(
      b, TypeRange{init.getType()}, inputs, ValueRange{init}, maps, iterators,
      [&](OpBuilder &nested, Location loc, ValueRange args) {
        ImplicitLocOpBuilder nb(loc, nested);
        SmallVector<Value> ivs;
        for (unsigned i = 0; i < numLoops; ++i)
          ivs.push_back(linalg::IndexOp::create(nb, i));
        Value result = body(nb, args, ivs);
        linalg::YieldOp::create(nb, result);
      });
  return op.getResult(0);
}

Value NaiveBuilder::extractAt(Value tensor, ArrayRef<Value> offsets) {
  auto type = cast<RankedTensorType>(tensor.getType());
  SmallVector<OpFoldResult> offs, szs, strides;
  SmallVector<int64_t> resultShape;
  SmallVector<OpFoldResult> all = sizes(tensor);
  for (auto [axis, off] : llvm::enumerate(offsets)) {
    strides.push_back(b.getIndexAttr(1));
    if (off) {
      offs.push_back(off);
      szs.push_back(b.getIndexAttr(1));
    } else {
      offs.push_back(b.getIndexAttr(0));
      szs.push_back(all[axis]);
      resultShape.push_back(type.getDimSize(axis));
    }
  }
  auto resultType = RankedTensorType::get(resultShape, type.getElementType());
  return tensor::ExtractSliceOp::create(b, resultType, tensor, offs, szs,
                                        strides);
}

Value NaiveBuilder::insertAt(Value slice, Value dest, ArrayRef<Value> offsets) {
  SmallVector<OpFoldResult> offs, szs, strides;
  SmallVector<OpFoldResult> all = sizes(dest);
  for (auto [axis, off] : llvm::enumerate(offsets)) {
    strides.push_back(b.getIndexAttr(1));
    offs.push_back(off ? OpFoldResult(off) : OpFoldResult(b.getIndexAttr(0)));
    szs.push_back(off ? OpFoldResult(b.getIndexAttr(1)) : all[axis]);
  }
  return tensor::InsertSliceOp::create(b, slice, dest, offs, szs, strides);
}

ValueRange NaiveBuilder::loop(Value lb, Value ub, ValueRange iterArgs,
                              const LoopBody &body) {
  auto forOp = scf::ForOp::create(
      b, lb, ub, index(1), iterArgs,
      [&](OpBuilder &nested, Location loc, Value iv, ValueRange args) {
        ImplicitLocOpBuilder nb(loc, nested);
        SmallVector<Value> results = body(nb, iv, args);
        scf::YieldOp::create(nb, results);
      });
  return forOp.getResults();
}

Value NaiveBuilder::loopNest(ArrayRef<Value> ubs, Value init,
                             const NestBody &body) {
  SmallVector<Value> ivs;
  std::function<Value(ImplicitLocOpBuilder &, unsigned, Value)> nest =
      [&](ImplicitLocOpBuilder &nb, unsigned depth, Value acc) -> Value {
    if (depth == ubs.size())
      return body(nb, ivs, acc);
    NaiveBuilder m(nb);
    return m.loop(m.index(0), ubs[depth], acc,
                  [&](ImplicitLocOpBuilder &inner, Value iv, ValueRange args) {
                    ivs.push_back(iv);
                    Value next = nest(inner, depth + 1, args[0]);
                    ivs.pop_back();
                    return SmallVector<Value>{next};
                  })[0];
  };
  return nest(b, 0, init);
}

Value NaiveBuilder::castTensor(Value tensor, Type elementType) {
  auto type = cast<RankedTensorType>(tensor.getType());
  if (type.getElementType() == elementType)
    return tensor;
  unsigned rank = type.getRank();
  AffineMap id = AffineMap::getMultiDimIdentityMap(rank, b.getContext());
  return generic(empty(sizes(tensor), elementType), {tensor}, {id, id}, rank,
                 {}, [&](ImplicitLocOpBuilder &nb, ValueRange args, ValueRange) {
                   NaiveBuilder n(nb);
                   return n.fromF32(n.toF32(args[0]), elementType);
                 });
}
