//===- ScalarEvaluator.cpp - evaluate score/mask mod regions --------------===//
//
// This file implements a double-precision interpreter for the scalar ops a
// score_mod or mask_mod region may hold.
//
//===----------------------------------------------------------------------===//

#include "ScalarEvaluator.h"

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>

using namespace mlir;
using namespace attn;

static bool known(Operation *op) {
  return isa<arith::ConstantOp, arith::AddFOp, arith::SubFOp, arith::MulFOp,
             arith::DivFOp, arith::NegFOp, arith::MaximumFOp, arith::MinimumFOp,
             arith::AddIOp, arith::SubIOp, arith::MulIOp, arith::DivSIOp,
             arith::RemSIOp, arith::IndexCastOp, arith::SIToFPOp,
             arith::UIToFPOp, arith::ExtFOp, arith::TruncFOp, arith::CmpIOp,
             arith::CmpFOp, arith::SelectOp, arith::AndIOp, arith::OrIOp,
             arith::XOrIOp, math::ExpOp, math::LogOp, math::TanhOp,
             math::SqrtOp, math::AbsFOp, tensor::ExtractOp, YieldOp>(op);
}

bool attn::canEvaluate(Region &region, std::string &error) {
  for (Operation &op : region.front())
    if (!known(&op)) {
      error = "the reference cannot evaluate '" +
              op.getName().getStringRef().str() + "' inside a mod region";
      return false;
    }
  return true;
}

static bool compareInt(arith::CmpIPredicate p, double a, double b) {
  using P = arith::CmpIPredicate;
  switch (p) {
  case P::eq: return a == b;
  case P::ne: return a != b;
  case P::slt: case P::ult: return a < b;
  case P::sle: case P::ule: return a <= b;
  case P::sgt: case P::ugt: return a > b;
  case P::sge: case P::uge: return a >= b;
  }
  return false;
}

static bool compareFloat(arith::CmpFPredicate p, double a, double b) {
  using P = arith::CmpFPredicate;
  bool unordered = std::isnan(a) || std::isnan(b);
  switch (p) {
  case P::AlwaysFalse: return false;
  case P::AlwaysTrue: return true;
  case P::OEQ: return !unordered && a == b;
  case P::OGT: return !unordered && a > b;
  case P::OGE: return !unordered && a >= b;
  case P::OLT: return !unordered && a < b;
  case P::OLE: return !unordered && a <= b;
  case P::ONE: return !unordered && a != b;
  case P::ORD: return !unordered;
  case P::UEQ: return unordered || a == b;
  case P::UGT: return unordered || a > b;
  case P::UGE: return unordered || a >= b;
  case P::ULT: return unordered || a < b;
  case P::ULE: return unordered || a <= b;
  case P::UNE: return unordered || a != b;
  case P::UNO: return unordered;
  }
  return false;
}

double attn::evaluateRegion(Region &region, ArrayRef<double> args,
                            const CapturedElement &captured) {
  Block &block = region.front();
  llvm::DenseMap<Value, double> env;
  for (auto [arg, value] : llvm::zip(block.getArguments(), args))
    env[arg] = value;
  auto get = [&](Value v) { return env.lookup(v); };
  for (Operation &op : block) {
    if (auto yield = dyn_cast<YieldOp>(op))
      return get(yield.getValue());
    double r = llvm::TypeSwitch<Operation *, double>(&op)
        .Case([&](arith::ConstantOp c) {
          Attribute a = c.getValue();
          if (auto f = dyn_cast<FloatAttr>(a))
            return f.getValueAsDouble();
          return static_cast<double>(cast<IntegerAttr>(a).getValue().getSExtValue());
        })
        .Case([&](arith::AddFOp o) { return get(o.getLhs()) + get(o.getRhs()); })
        .Case([&](arith::SubFOp o) { return get(o.getLhs()) - get(o.getRhs()); })
        .Case([&](arith::MulFOp o) { return get(o.getLhs()) * get(o.getRhs()); })
        .Case([&](arith::DivFOp o) { return get(o.getLhs()) / get(o.getRhs()); })
        .Case([&](arith::NegFOp o) { return -get(o.getOperand()); })
        .Case([&](arith::MaximumFOp o) { return std::fmax(get(o.getLhs()), get(o.getRhs())); })
        .Case([&](arith::MinimumFOp o) { return std::fmin(get(o.getLhs()), get(o.getRhs())); })
        .Case([&](arith::AddIOp o) { return get(o.getLhs()) + get(o.getRhs()); })
        .Case([&](arith::SubIOp o) { return get(o.getLhs()) - get(o.getRhs()); })
        .Case([&](arith::MulIOp o) { return get(o.getLhs()) * get(o.getRhs()); })
        .Case([&](arith::DivSIOp o) { return std::trunc(get(o.getLhs()) / get(o.getRhs())); })
        .Case([&](arith::RemSIOp o) { return std::fmod(get(o.getLhs()), get(o.getRhs())); })
        .Case([&](arith::IndexCastOp o) { return get(o.getIn()); })
        .Case([&](arith::SIToFPOp o) { return get(o.getIn()); })
        .Case([&](arith::UIToFPOp o) { return get(o.getIn()); })
        .Case([&](arith::ExtFOp o) { return get(o.getIn()); })
        .Case([&](arith::TruncFOp o) { return get(o.getIn()); })
        .Case([&](arith::CmpIOp o) {
          return compareInt(o.getPredicate(), get(o.getLhs()), get(o.getRhs())) ? 1.0 : 0.0;
        })
        .Case([&](arith::CmpFOp o) {
          return compareFloat(o.getPredicate(), get(o.getLhs()), get(o.getRhs())) ? 1.0 : 0.0;
        })
        .Case([&](arith::SelectOp o) {
          return get(o.getCondition()) != 0.0 ? get(o.getTrueValue()) : get(o.getFalseValue());
        })
        .Case([&](arith::AndIOp o) {
          return double(int64_t(get(o.getLhs())) & int64_t(get(o.getRhs())));
        })
        .Case([&](arith::OrIOp o) {
          return double(int64_t(get(o.getLhs())) | int64_t(get(o.getRhs())));
        })
        .Case([&](arith::XOrIOp o) {
          return double(int64_t(get(o.getLhs())) ^ int64_t(get(o.getRhs())));
        })
        .Case([&](math::ExpOp o) { return std::exp(get(o.getOperand())); })
        .Case([&](math::LogOp o) { return std::log(get(o.getOperand())); })
        .Case([&](math::TanhOp o) { return std::tanh(get(o.getOperand())); })
        .Case([&](math::SqrtOp o) { return std::sqrt(get(o.getOperand())); })
        .Case([&](math::AbsFOp o) { return std::fabs(get(o.getOperand())); })
        .Case([&](tensor::ExtractOp o) {
          SmallVector<int64_t> indices;
          for (Value i : o.getIndices())
            indices.push_back(static_cast<int64_t>(get(i)));
          return captured ? captured(o.getTensor(), indices) : std::nan("");
        })
        .Default([](Operation *) { return 0.0; });
    // i1 xor/and/or of booleans: keep them 0/1.
    if (op.getNumResults() == 1 && op.getResult(0).getType().isInteger(1))
      r = r != 0.0 ? 1.0 : 0.0;
    if (op.getNumResults() == 1)
      env[op.getResult(0)] = r;
  }
  return 0.0;
}
