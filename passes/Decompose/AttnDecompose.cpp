//===- AttnDecompose.cpp - the attn-decompose pass ------------------------===//
//
// This file implements attn-decompose: it applies every family's naive
// decomposition and fails, naming the op, if any attn op is left.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"

#include "attn/Dialect/Attn/AttnDialect.h"
#include "attn/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace attn {
#define GEN_PASS_DEF_ATTNDECOMPOSE
#include "attn/Passes/Passes.h.inc"
} // namespace attn

using namespace mlir;
using namespace attn;

namespace {
struct AttnDecomposePass : attn::impl::AttnDecomposeBase<AttnDecomposePass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    populateSoftmaxDecompositions(patterns);
    populateCompressedKVDecompositions(patterns);
    populateSparseDecompositions(patterns);
    populateRecurrentDecompositions(patterns);
    populateLogLinearDecompositions(patterns);
    GreedyRewriteConfig config;
    config.enableFolding(false);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns), config)))
      return signalPassFailure();
    // An attn op that survives had a pattern refuse it (dynamic head counts,
    // say): report it rather than hand it to a lowering that cannot cope.
    WalkResult left = getOperation()->walk([](Operation *op) {
      if (isa<AttnDialect>(op->getDialect()) && !isa<YieldOp>(op)) {
        op->emitError() << "attn-decompose cannot decompose this op: its head "
                           "counts and feature sizes must be static";
        return WalkResult::interrupt();
      }
      return WalkResult::advance();
    });
    if (left.wasInterrupted())
      signalPassFailure();
  }
};
} // namespace
