//===- AttnTile.cpp - the attn-tile and attn-approximate-math passes ------===//
//
// This file implements attn-tile, which rewrites the attn ops it has a fast
// form for, attn-approximate-math, which replaces exp/log/tanh by polynomial
// approximations so they stay in vector registers on the CPU, and
// attn-inline-alloca-scopes, which removes the empty stack scopes OpenMP
// lowering leaves around parallel bodies.
//
//===----------------------------------------------------------------------===//

#include "TilePatterns.h"

#include "attn/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Math/Transforms/Passes.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace attn {
#define GEN_PASS_DEF_ATTNTILE
#define GEN_PASS_DEF_ATTNAPPROXIMATEMATH
#define GEN_PASS_DEF_ATTNINLINEALLOCASCOPES
#include "attn/Passes/Passes.h.inc"
} // namespace attn

using namespace mlir;

namespace {
struct AttnTilePass : attn::impl::AttnTileBase<AttnTilePass> {
  using AttnTileBase::AttnTileBase;
  void runOnOperation() override {
    if (blockQ < 4 || blockQ % 4) {
      getOperation()->emitError() << "attn-tile: block-q must be a positive "
                                     "multiple of 4, got "
                                  << blockQ;
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    attn::populateCpuTilingPatterns(patterns, blockQ);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

struct AttnApproximateMathPass
    : attn::impl::AttnApproximateMathBase<AttnApproximateMathPass> {
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    // exp, log and tanh become polynomials (a few ulp in f32) that vectorise;
    // as libm calls every lane of a vector would be a separate call.
    auto approximated = [](StringRef name) {
      return name == math::ExpOp::getOperationName() ||
             name == math::LogOp::getOperationName() ||
             name == math::TanhOp::getOperationName();
    };
    populateMathPolynomialApproximationPatterns(patterns, approximated);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

struct AttnInlineAllocaScopesPass
    : attn::impl::AttnInlineAllocaScopesBase<AttnInlineAllocaScopesPass> {
  void runOnOperation() override {
    SmallVector<memref::AllocaScopeOp> scopes;
    getOperation()->walk([&](memref::AllocaScopeOp scope) {
      bool hasAlloca = false;
      scope.walk([&](memref::AllocaOp) { hasAlloca = true; });
      if (!hasAlloca && scope.getNumResults() == 0 &&
          scope.getBodyRegion().hasOneBlock())
        scopes.push_back(scope);
    });
    for (memref::AllocaScopeOp scope : scopes) {
      Block &body = scope.getBodyRegion().front();
      Operation *terminator = body.getTerminator();
      terminator->erase();
      scope->getBlock()->getOperations().splice(
          scope->getIterator(), body.getOperations());
      scope.erase();
    }
  }
};
} // namespace
