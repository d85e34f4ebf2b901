//===- GpuMap.cpp - the attn-gpu-map pass ----------------------------------===//
//
// This file implements attn-gpu-map: bufferised host code whose linalg ops
// are scf.parallel loops becomes host code that allocates device buffers and
// launches kernels. It is the GPU path for every op without a dedicated GPU
// kernel: correct on any shape, one thread per parallel iteration.
//
//===----------------------------------------------------------------------===//

#include "GpuKernels.h"

#include "attn/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/IRMapping.h"
#include "mlir/Interfaces/ViewLikeInterface.h"

#include "llvm/ADT/TypeSwitch.h"

namespace attn {
#define GEN_PASS_DEF_ATTNGPUMAP
#include "attn/Passes/Passes.h.inc"
} // namespace attn

using namespace mlir;

namespace {

/// Ops that may stay on the host: they compute scalars or describe buffers
/// without reading or writing their contents.
bool isHostOp(Operation *op) {
  if (isa<memref::AllocOp, memref::DeallocOp, memref::DimOp,
          memref::ExtractStridedMetadataOp, ViewLikeOpInterface>(op))
    return true;
  for (Value operand : op->getOperands())
    if (isa<BaseMemRefType>(operand.getType()))
      return false;
  for (Region &region : op->getRegions())
    for (Operation &nested : region.getOps())
      if (!isHostOp(&nested))
        return false;
  return true;
}

bool launchesKernels(Operation *op) {
  return op->walk([](scf::ParallelOp) { return WalkResult::interrupt(); })
      .wasInterrupted();
}

Value indexConst(OpBuilder &b, Location loc, int64_t v) {
  return arith::ConstantIndexOp::create(b, loc, v);
}

/// A synchronous gpu.launch of `blocks` x `threads` whose body is filled by
/// `fill` (called with the builder inside the body and the launch).
void buildLaunch(OpBuilder &b, Location loc, Value blocks, Value threads,
                 function_ref<void(OpBuilder &, gpu::LaunchOp)> fill) {
  Value one = indexConst(b, loc, 1);
  auto launch = gpu::LaunchOp::create(b, loc, blocks, one, one, threads, one, one);
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  fill(b, launch);
  gpu::TerminatorOp::create(b, loc);
}

struct AttnGpuMapPass : attn::impl::AttnGpuMapBase<AttnGpuMapPass> {
  using AttnGpuMapBase::AttnGpuMapBase;

  void runOnOperation() override {
    ModuleOp module = getOperation();
    if (blockSize < 1 || blockSize > 1024) {
      module.emitError("attn-gpu-map: block-size must be in [1, 1024], got ")
          << blockSize;
      return signalPassFailure();
    }
    for (auto func : module.getOps<func::FuncOp>()) {
      if (func.isExternal())
        continue;
      for (Block &block : func.getBody())
        if (failed(mapBlock(block)))
          return signalPassFailure();
      func.walk([](gpu::LaunchOp launch) { useIntrinsics(launch); });
    }
    // The kernel declarations attn-gpu-tile added have no callers left.
    for (auto decl : llvm::make_early_inc_range(module.getOps<func::FuncOp>()))
      if (decl.isExternal() && decl.isPrivate() &&
          decl.getSymName().starts_with("__attn_gpu_") &&
          SymbolTable::symbolKnownUseEmpty(decl, module))
        decl.erase();
  }

  /// convert-gpu-to-nvvm sends floor, sqrt, fabs and fma to libdevice,
  /// which needs the CUDA toolkit at compile time; the NVPTX backend selects
  /// the LLVM intrinsics natively (cvt.rmi, sqrt.rn, abs, fma.rn), so call
  /// those instead.
  static void useIntrinsics(gpu::LaunchOp launch) {
    SmallVector<std::pair<Operation *, StringRef>> ops;
    launch.walk([&](Operation *op) {
      if (op->getNumResults() != 1 ||
          !isa<Float32Type, Float64Type>(op->getResult(0).getType()))
        return;
      StringRef name = llvm::TypeSwitch<Operation *, StringRef>(op)
                           .Case<math::FloorOp>([](auto) { return "floor"; })
                           .Case<math::CeilOp>([](auto) { return "ceil"; })
                           .Case<math::SqrtOp>([](auto) { return "sqrt"; })
                           .Case<math::AbsFOp>([](auto) { return "fabs"; })
                           .Case<math::FmaOp>([](auto) { return "fma"; })
                           .Default([](auto) { return ""; });
      if (!name.empty())
        ops.push_back({op, name});
    });
    for (auto [op, name] : ops) {
      OpBuilder b(op);
      Type type = op->getResult(0).getType();
      std::string intrinsic =
          ("llvm." + name + (type.isF32() ? ".f32" : ".f64")).str();
      auto call = LLVM::CallIntrinsicOp::create(b, op->getLoc(), type,
                                                b.getStringAttr(intrinsic),
                                                op->getOperands());
      op->getResult(0).replaceAllUsesWith(call.getResult(0));
      op->erase();
    }
  }

  LogicalResult mapBlock(Block &block) {
    SmallVector<Operation *> ops;
    for (Operation &op : block.without_terminator())
      ops.push_back(&op);
    for (Operation *op : ops)
      if (failed(mapOp(op)))
        return failure();
    return success();
  }

  LogicalResult mapOp(Operation *op) {
    if (auto call = dyn_cast<func::CallOp>(op))
      if (call->hasAttr(attn::kGpuKernelAttr))
        return attn::expandGpuKernelCall(call);
    if (auto par = dyn_cast<scf::ParallelOp>(op))
      return mapParallel(par);
    if (auto alloc = dyn_cast<memref::AllocOp>(op))
      return mapAlloc(alloc);
    if (auto dealloc = dyn_cast<memref::DeallocOp>(op))
      return mapDealloc(dealloc);
    if (auto copy = dyn_cast<memref::CopyOp>(op))
      return mapCopy(copy);
    if (isa<memref::AllocaOp>(op))
      return op->emitError("attn-gpu-map: stack allocation in host code has "
                           "no device counterpart");
    if (isHostOp(op))
      return success();
    if (launchesKernels(op)) {
      // A host loop or branch around kernels: its own operands are host
      // values (anything read from device memory was rejected before).
      for (Region &region : op->getRegions())
        for (Block &block : region)
          if (failed(mapBlock(block)))
            return failure();
      return success();
    }
    return runOnOneThread(op);
  }

  /// Serial code that touches device memory runs on one GPU thread.
  LogicalResult runOnOneThread(Operation *op) {
    if (!op->use_empty())
      return op->emitError("attn-gpu-map: host code needs a value that is "
                           "read from device memory");
    OpBuilder b(op);
    Location loc = op->getLoc();
    Value one = indexConst(b, loc, 1);
    buildLaunch(b, loc, one, one, [&](OpBuilder &inner, gpu::LaunchOp) {
      inner.clone(*op);
    });
    op->erase();
    return success();
  }

  /// One thread per iteration of the flattened iteration space.
  LogicalResult mapParallel(scf::ParallelOp par) {
    if (par.getNumResults() != 0)
      return par.emitError("attn-gpu-map: scf.parallel with reductions is "
                           "not mapped to the GPU");
    OpBuilder b(par);
    Location loc = par.getLoc();
    SmallVector<Value> counts;
    Value total = indexConst(b, loc, 1);
    for (auto [lb, ub, step] : llvm::zip(par.getLowerBound(),
                                         par.getUpperBound(), par.getStep())) {
      Value span = arith::SubIOp::create(b, loc, ub, lb);
      Value count = arith::CeilDivSIOp::create(b, loc, span, step);
      Value zero = indexConst(b, loc, 0);
      count = arith::MaxSIOp::create(b, loc, count, zero);
      counts.push_back(count);
      total = arith::MulIOp::create(b, loc, total, count);
    }
    Value threads = indexConst(b, loc, blockSize);
    Value blocks = arith::CeilDivSIOp::create(b, loc, total, threads);
    // A launch of zero blocks is an error for the driver: skip empty loops.
    Value nonEmpty = arith::CmpIOp::create(b, loc, arith::CmpIPredicate::sgt,
                                           total, indexConst(b, loc, 0));
    auto guard = scf::IfOp::create(b, loc, nonEmpty, /*withElse=*/false);
    b.setInsertionPointToStart(&guard.getThenRegion().front());
    buildLaunch(b, loc, blocks, threads, [&](OpBuilder &inner, gpu::LaunchOp launch) {
      Value linear = arith::AddIOp::create(
          inner, loc,
          arith::MulIOp::create(inner, loc, launch.getBlockIds().x, threads),
          launch.getThreadIds().x);
      Value inRange = arith::CmpIOp::create(inner, loc, arith::CmpIPredicate::slt,
                                            linear, total);
      auto ifOp = scf::IfOp::create(inner, loc, inRange, /*withElse=*/false);
      OpBuilder::InsertionGuard g(inner);
      inner.setInsertionPointToStart(&ifOp.getThenRegion().front());
      IRMapping mapping;
      Value rest = linear;
      size_t rank = counts.size();
      SmallVector<Value> ivs(rank);
      for (size_t d = rank; d-- > 0;) {
        Value idx = d == 0 ? rest
                           : arith::RemSIOp::create(inner, loc, rest, counts[d]);
        if (d != 0)
          rest = arith::DivSIOp::create(inner, loc, rest, counts[d]);
        Value scaled = arith::MulIOp::create(inner, loc, idx, par.getStep()[d]);
        ivs[d] = arith::AddIOp::create(inner, loc, par.getLowerBound()[d], scaled);
      }
      mapping.map(par.getInductionVars(), ivs);
      for (Operation &bodyOp : par.getBody()->without_terminator())
        inner.clone(bodyOp, mapping);
    });
    par.erase();
    return success();
  }

  /// Synchronous forms; gpu-async-region (after outlining) chains them and
  /// the launches on one stream with a single wait before the return.
  LogicalResult mapAlloc(memref::AllocOp alloc) {
    OpBuilder b(alloc);
    auto device = gpu::AllocOp::create(b, alloc.getLoc(), alloc.getType(),
                                       /*asyncToken=*/Type(), ValueRange{},
                                       alloc.getDynamicSizes(),
                                       alloc.getSymbolOperands(), /*hostShared=*/false);
    alloc.replaceAllUsesWith(device.getMemref());
    alloc.erase();
    return success();
  }

  LogicalResult mapDealloc(memref::DeallocOp dealloc) {
    OpBuilder b(dealloc);
    gpu::DeallocOp::create(b, dealloc.getLoc(), /*asyncToken=*/Type(), ValueRange{},
                           dealloc.getMemref());
    dealloc.erase();
    return success();
  }

  /// memref.copy between buffers of any layout: an element-wise parallel
  /// loop, mapped like the others.
  LogicalResult mapCopy(memref::CopyOp copy) {
    auto type = dyn_cast<MemRefType>(copy.getSource().getType());
    if (!type)
      return copy.emitError("attn-gpu-map: copy of an unranked memref");
    OpBuilder b(copy);
    Location loc = copy.getLoc();
    SmallVector<Value> lbs, ubs, steps;
    for (int64_t d = 0; d < type.getRank(); ++d) {
      lbs.push_back(indexConst(b, loc, 0));
      steps.push_back(indexConst(b, loc, 1));
      ubs.push_back(memref::DimOp::create(b, loc, copy.getSource(), d));
    }
    if (type.getRank() == 0) {
      lbs.push_back(indexConst(b, loc, 0));
      steps.push_back(indexConst(b, loc, 1));
      ubs.push_back(indexConst(b, loc, 1));
    }
    Value src = copy.getSource(), dst = copy.getTarget();
    bool scalar = type.getRank() == 0;
    auto par = scf::ParallelOp::create(
        b, loc, lbs, ubs, steps,
        [&](OpBuilder &nb, Location nloc, ValueRange ivs) {
          ValueRange idx = scalar ? ValueRange{} : ivs;
          Value v = memref::LoadOp::create(nb, nloc, src, idx);
          memref::StoreOp::create(nb, nloc, v, dst, idx);
        });
    copy.erase();
    return mapParallel(par);
  }
};

} // namespace
