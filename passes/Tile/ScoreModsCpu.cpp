//===- ScoreModsCpu.cpp - score/mask mods and masks in the CPU kernels ----===//
//
// The flash and decode kernels score 16 keys at a time; an attn.attention's
// score_mod and mask_mod regions and its mask tensor are applied to those
// 16 lanes where the scores are made, so they never need an [Lq, Lk]
// buffer. A region whose ops are all elementwise (arith, math) is cloned
// once with every value widened to vector<16x...> (block arguments b, h, i
// broadcast, j the lanes' key indices, values from outside broadcast);
// anything else (loads from captured tensors, nested regions) is cloned
// once per lane on scalars.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/IR/IRMapping.h"
#include "mlir/IR/OpDefinition.h"

#include <limits>

using namespace mlir;
using namespace attn;

/// Whether every op of the region's block maps elementwise onto vectors.
static bool isVectorisable(Region &region) {
  for (Operation &op : region.front().without_terminator()) {
    if (op.getNumRegions() || op.getNumResults() != 1)
      return false;
    if (!isa<arith::ConstantOp>(op) && !op.hasTrait<OpTrait::Elementwise>())
      return false;
    auto scalar = [](Type t) { return t.isIntOrIndexOrFloat(); };
    if (!llvm::all_of(op.getOperandTypes(), scalar) ||
        !llvm::all_of(op.getResultTypes(), scalar))
      return false;
  }
  return true;
}

/// Emits `region` on `args` (vector<16x...> when `vectorise`, else
/// scalars) and returns what it yields.
static Value emitRegion(ImplicitLocOpBuilder &b, Region &region,
                        ArrayRef<Value> args, bool vectorise) {
  Block &block = region.front();
  IRMapping map;
  for (auto [arg, value] : llvm::zip(block.getArguments(), args))
    map.map(arg, value);
  auto widen = [&](Type t) { return VectorType::get({kLanes}, t); };
  for (Operation &op : block.without_terminator()) {
    if (!vectorise) {
      b.clone(op, map);
      continue;
    }
    if (auto cst = dyn_cast<arith::ConstantOp>(op)) {
      auto type = widen(cst.getType());
      map.map(cst.getResult(), arith::ConstantOp::create(
                                   b, DenseElementsAttr::get(type, cst.getValue())));
      continue;
    }
    SmallVector<Value> operands;
    for (Value operand : op.getOperands()) {
      Value mapped = map.lookupOrNull(operand);
      // A scalar from outside the region: the same for every lane.
      if (!mapped)
        mapped = vector::BroadcastOp::create(b, widen(operand.getType()), operand);
      operands.push_back(mapped);
    }
    OperationState state(op.getLoc(), op.getName());
    state.addOperands(operands);
    state.addAttributes(op.getAttrs());
    state.addTypes(widen(op.getResult(0).getType()));
    map.map(op.getResult(0), b.create(state)->getResult(0));
  }
  return map.lookupOrDefault(cast<YieldOp>(block.getTerminator()).getValue());
}

/// The region on 16 lanes: scalar arguments `uniform` (the same for every
/// lane) and `perLane` vectors; vectorised or lane by lane.
static Value applyRegion(ImplicitLocOpBuilder &b, Region &region,
                         ArrayRef<Value> perLaneFirst, ArrayRef<Value> uniform,
                         Value jLanes) {
  // Block arguments: [score,] b, h, i, j; `perLaneFirst` holds the score
  // vector for score_mod and nothing for mask_mod.
  if (isVectorisable(region)) {
    SmallVector<Value> args(perLaneFirst);
    for (Value u : uniform)
      args.push_back(vector::BroadcastOp::create(
          b, VectorType::get({kLanes}, u.getType()), u));
    args.push_back(jLanes);
    Value y = emitRegion(b, region, args, /*vectorise=*/true);
    // The yield may name a value from outside the region (constants the
    // greedy driver hoisted): the same for every lane.
    if (!isa<VectorType>(y.getType()))
      y = vector::BroadcastOp::create(b, VectorType::get({kLanes}, y.getType()), y);
    return y;
  }
  Type resultType = cast<YieldOp>(region.front().getTerminator()).getValue().getType();
  auto vecType = VectorType::get({kLanes}, resultType);
  Value result = arith::ConstantOp::create(
      b, resultType.isInteger(1)
             ? DenseElementsAttr::get(vecType, false)
             : DenseElementsAttr::get(vecType, b.getF32FloatAttr(0.0f)));
  for (int64_t lane = 0; lane < kLanes; ++lane) {
    SmallVector<Value> args;
    for (Value v : perLaneFirst)
      args.push_back(vector::ExtractOp::create(b, v, lane));
    args.append(uniform.begin(), uniform.end());
    args.push_back(vector::ExtractOp::create(b, jLanes, lane));
    Value y = emitRegion(b, region, args, /*vectorise=*/false);
    result = vector::InsertOp::create(b, y, result, lane);
  }
  return result;
}

Value CpuKernelBuilder::applyScoreMods(const ScoreMods &mods, Value x, Value b0,
                                       Value h, Value row, Value j0) {
  auto indexVec = VectorType::get({kLanes}, b.getIndexType());
  auto i32Vec = VectorType::get({kLanes}, b.getI32Type());
  auto boolVec = VectorType::get({kLanes}, b.getI1Type());
  SmallVector<int64_t> ids;
  for (int64_t lane = 0; lane < kLanes; ++lane)
    ids.push_back(lane);
  Value lanes = arith::ConstantOp::create(
      b, DenseElementsAttr::get(indexVec, ArrayRef<int64_t>(ids)));
  Value j = arith::AddIOp::create(b, vector::BroadcastOp::create(b, indexVec, j0), lanes);
  // Region indices stay inside [0, Lq) x [0, Lk): padded rows and keys past
  // Lk are hidden by the caller's rules anyway.
  Value jClamped = arith::MinSIOp::create(
      b, j, vector::BroadcastOp::create(b, indexVec, idx(s.lk - 1)));
  Value i = minI(row, idx(s.lq - 1));
  SmallVector<Value> uniform = {b0, h, i};
  if (mods.scoreMod)
    x = applyRegion(b, *mods.scoreMod, {x}, uniform, jClamped);

  Value hidden;
  auto hide = [&](Value visible) {
    Value inv = arith::XOrIOp::create(
        b, visible, arith::ConstantOp::create(b, DenseElementsAttr::get(boolVec, true)));
    hidden = hidden ? arith::OrIOp::create(b, hidden, inv).getResult() : inv;
  };
  if (mods.mask) {
    auto type = cast<MemRefType>(mods.mask.getType());
    Value mb = type.getDimSize(0) == 1 ? idx(0) : b0;
    Value mh = type.getDimSize(1) == 1 ? idx(0) : h;
    // Lanes at or past Lk read nothing.
    Value inRange = arith::CmpIOp::create(
        b, arith::CmpIPredicate::slt, j,
        vector::BroadcastOp::create(b, indexVec, idx(s.lk)));
    Type elem = type.getElementType();
    if (elem.isInteger(1)) {
      // Byte-per-element i1 buffers are gathered (a vector<16xi1> load would
      // read 16 packed bits).
      Value offsets = arith::IndexCastOp::create(
          b, i32Vec,
          arith::SubIOp::create(b, jClamped, vector::BroadcastOp::create(b, indexVec, j0)));
      Value bits = vector::GatherOp::create(
          b, boolVec, mods.mask, ValueRange{mb, mh, i, j0}, offsets, inRange,
          arith::ConstantOp::create(b, DenseElementsAttr::get(boolVec, false)));
      hide(bits);
    } else {
      auto vecType = VectorType::get({kLanes}, elem);
      Value pass = arith::ConstantOp::create(
          b, DenseElementsAttr::get(vecType, b.getFloatAttr(elem, 0.0)));
      Value add = vector::MaskedLoadOp::create(b, vecType, mods.mask,
                                               ValueRange{mb, mh, i, j0}, inRange, pass);
      if (!elem.isF32())
        add = arith::ExtFOp::create(b, vec, add);
      x = arith::AddFOp::create(b, x, add);
    }
  }
  if (mods.maskMod)
    hide(applyRegion(b, *mods.maskMod, {}, uniform, jClamped));
  if (hidden)
    x = arith::SelectOp::create(b, hidden, splat(-std::numeric_limits<double>::infinity()), x);
  return x;
}
