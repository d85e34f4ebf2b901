//===- LaunchBounds.cpp - the attn-gpu-launch-bounds pass -----------------===//
//
// Kernels that attn-gpu-map expanded may ask for several blocks a
// multiprocessor (their shared memory allows it, their registers might
// not): after outlining, such a kernel gets NVVM launch bounds.
//
//===----------------------------------------------------------------------===//

#include "GpuKernels.h"

#include "attn/Passes/Passes.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"

namespace attn {
#define GEN_PASS_DEF_ATTNGPULAUNCHBOUNDS
#include "attn/Passes/Passes.h.inc"
} // namespace attn

using namespace mlir;

namespace {
struct AttnGpuLaunchBoundsPass
    : attn::impl::AttnGpuLaunchBoundsBase<AttnGpuLaunchBoundsPass> {
  void runOnOperation() override {
    getOperation().walk([&](gpu::GPUFuncOp func) {
      if (!func.isKernel())
        return;
      int64_t blocks = 0;
      func.walk([&](Operation *op) {
        if (auto attr = op->getAttrOfType<IntegerAttr>(attn::kMinBlocksPerSmAttr)) {
          blocks = std::max<int64_t>(blocks, attr.getInt());
          op->removeAttr(attn::kMinBlocksPerSmAttr);
        }
      });
      if (blocks < 1)
        return;
      Builder b(func.getContext());
      if (auto known = func.getKnownBlockSizeAttr())
        func->setAttr(NVVM::NVVMDialect::getMaxntidAttrName(), known);
      func->setAttr(NVVM::NVVMDialect::getMinctasmAttrName(),
                    b.getI32IntegerAttr(static_cast<int32_t>(blocks)));
    });
  }
};
} // namespace
