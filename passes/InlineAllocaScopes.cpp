//===- InlineAllocaScopes.cpp - the attn-inline-alloca-scopes pass ----------===//
//
// This file implements attn-inline-alloca-scopes: memref.alloca_scope ops
// without allocas (the ones scf-to-openmp wraps around parallel bodies) are
// inlined so the loops inside them can be lowered to control flow.
//
//===----------------------------------------------------------------------===//

#include "attn/Passes/Passes.h"

#include "mlir/Dialect/MemRef/IR/MemRef.h"

namespace attn {
#define GEN_PASS_DEF_ATTNINLINEALLOCASCOPES
#include "attn/Passes/Passes.h.inc"
} // namespace attn

using namespace mlir;

namespace {
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
