//===- CompressedRows.cpp - K/V rows of plain and quantised caches --------===//
//
// The loads the CPU kernels share for key and value rows: 16 channels as one
// vector<16xf32>, converted from f16/bf16 or dequantised from int8/int4
// codes in registers (x = scale * code [+ zero]), so a quantised cache is
// read in place and never expanded to floats in memory.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"

#include <functional>

using namespace mlir;
using namespace attn;

static SmallVector<Value> withChannel(ArrayRef<Value> row, Value channel) {
  SmallVector<Value> indices(row);
  indices.push_back(channel);
  return indices;
}

Value CpuKernelBuilder::loadFloatVector(Value rows, ArrayRef<Value> row,
                                        Value c0) {
  Type element = cast<MemRefType>(rows.getType()).getElementType();
  Value x = vector::LoadOp::create(b, VectorType::get({kLanes}, element), rows,
                                   withChannel(row, c0));
  return element.isF32() ? x : arith::ExtFOp::create(b, vec, x).getResult();
}

Value CpuKernelBuilder::codesAsF32(int64_t bits, Value codes,
                                   ArrayRef<Value> row, Value c0,
                                   bool isUnsigned) {
  auto i8 = b.getI8Type();
  Value x;
  if (bits == 8) {
    x = vector::LoadOp::create(b, VectorType::get({kLanes}, i8), codes,
                               withChannel(row, c0));
  } else {
    // Byte c0 / 2 holds channels c0 (low nibble) and c0 + 1 (high nibble).
    auto half = VectorType::get({kLanes / 2}, i8);
    Value bytes = vector::LoadOp::create(
        b, half, codes, withChannel(row, arith::DivUIOp::create(b, c0, idx(2))));
    auto splatI8 = [&](int64_t v) {
      return arith::ConstantOp::create(
          b, DenseElementsAttr::get(half, b.getIntegerAttr(i8, v)));
    };
    Value lo, hi;
    if (isUnsigned) {
      lo = arith::AndIOp::create(b, bytes, splatI8(15));
      hi = arith::ShRUIOp::create(b, bytes, splatI8(4));
    } else {
      lo = arith::ShRSIOp::create(b, arith::ShLIOp::create(b, bytes, splatI8(4)),
                                  splatI8(4));
      hi = arith::ShRSIOp::create(b, bytes, splatI8(4));
    }
    x = vector::InterleaveOp::create(b, lo, hi);
  }
  if (isUnsigned)
    return arith::UIToFPOp::create(b, vec, x);
  return arith::SIToFPOp::create(b, vec, x);
}

Value CpuKernelBuilder::loadKeyVector(const DecodeCache &cache, Value k,
                                      ArrayRef<Value> row, Value c0) {
  if (!cache.quant)
    return loadFloatVector(k, row, c0);
  const DecodeQuant &quant = *cache.quant;
  // Keys: a scale (and zero) per channel for each group of tokens.
  SmallVector<Value> groupRow(row);
  groupRow.back() = arith::DivUIOp::create(b, row.back(), idx(quant.group));
  Value x = arith::MulFOp::create(
      b, codesAsF32(quant.bits, k, row, c0, bool(quant.keyZero)),
      vector::LoadOp::create(b, vec, quant.keyScale, withChannel(groupRow, c0)));
  if (quant.keyZero)
    x = arith::AddFOp::create(
        b, x, vector::LoadOp::create(b, vec, quant.keyZero, withChannel(groupRow, c0)));
  return x;
}

Value CpuKernelBuilder::loadValueVector(const DecodeCache &cache, Value v,
                                        ArrayRef<Value> row, Value c0) {
  if (!cache.quant)
    return loadFloatVector(v, row, c0);
  const DecodeQuant &quant = *cache.quant;
  // Values: one scale (and zero) per token for each group of channels.
  // When a group holds whole vectors the 16 lanes share one; otherwise each
  // lane's group (c0 + lane) / g is gathered from the row's scales.
  std::function<Value(Value)> perChannel;
  if (quant.group % kLanes == 0) {
    Value g = arith::DivUIOp::create(b, c0, idx(quant.group));
    perChannel = [&, g](Value table) -> Value {
      return vector::BroadcastOp::create(
          b, vec, memref::LoadOp::create(b, table, withChannel(row, g)));
    };
  } else {
    auto i32 = b.getI32Type();
    auto ivec = i32Vec();
    Value lanes = laneIds();
    Value channel = arith::AddIOp::create(
        b, vector::BroadcastOp::create(b, ivec, arith::IndexCastOp::create(b, i32, c0)),
        lanes);
    Value groups = arith::DivUIOp::create(
        b, channel,
        arith::ConstantOp::create(
            b, DenseElementsAttr::get(ivec, b.getI32IntegerAttr(quant.group))));
    Value all = arith::ConstantOp::create(
        b, DenseElementsAttr::get(VectorType::get({kLanes}, b.getI1Type()), true));
    perChannel = [&, groups, all](Value table) -> Value {
      return vector::GatherOp::create(b, vec, table, withChannel(row, idx(0)),
                                      groups, all, splat(0.0));
    };
  }
  Value x = arith::MulFOp::create(
      b, codesAsF32(quant.bits, v, row, c0, bool(quant.valueZero)),
      perChannel(quant.valueScale));
  if (quant.valueZero)
    x = arith::AddFOp::create(b, x, perChannel(quant.valueZero));
  return x;
}
