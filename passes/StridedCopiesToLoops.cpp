//===- StridedCopiesToLoops.cpp - the attn-strided-copies-to-loops pass ---===//
//
// memref.copy between buffers that are not both contiguous would lower to a
// call of MLIR's C runner `memrefCopy`; attn's kernels do not link that
// library, so such copies become linalg.copy (and then loops) instead.
//
//===----------------------------------------------------------------------===//

#include "attn/Passes/Passes.h"

#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/Builders.h"

namespace attn {
#define GEN_PASS_DEF_ATTNSTRIDEDCOPIESTOLOOPS
#include "attn/Passes/Passes.h.inc"
} // namespace attn

using namespace mlir;

namespace {
struct AttnStridedCopiesToLoopsPass
    : attn::impl::AttnStridedCopiesToLoopsBase<AttnStridedCopiesToLoopsPass> {
  void runOnOperation() override {
    SmallVector<memref::CopyOp> strided;
    getOperation()->walk([&](memref::CopyOp copy) {
      auto contiguous = [](Type t) {
        auto type = dyn_cast<MemRefType>(t);
        return type && type.getLayout().isIdentity();
      };
      if (!contiguous(copy.getSource().getType()) ||
          !contiguous(copy.getTarget().getType()))
        strided.push_back(copy);
    });
    for (memref::CopyOp copy : strided) {
      OpBuilder b(copy);
      linalg::CopyOp::create(b, copy.getLoc(), copy.getSource(), copy.getTarget());
      copy.erase();
    }
  }
};
} // namespace
