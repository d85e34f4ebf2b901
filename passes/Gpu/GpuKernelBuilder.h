//===- GpuKernelBuilder.h - short spellings for GPU kernel emitters -*- C++ -*-===//
//
// The hand-built CUDA kernels (FlashAttentionGpu.cpp, ChunkwiseGpu.cpp) are
// emitted op by op inside a gpu.launch; this base holds the index and f32
// spellings they share.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_GPU_GPUKERNELBUILDER_H
#define ATTN_PASSES_GPU_GPUKERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace attn {

class GpuKernelBuilder {
protected:
  using Value = mlir::Value;

  explicit GpuKernelBuilder(mlir::ImplicitLocOpBuilder &b) : b(b) {}

  Value idx(int64_t v) { return mlir::arith::ConstantIndexOp::create(b, v); }
  Value f32(double v) {
    return mlir::arith::ConstantOp::create(b, b.getF32FloatAttr(static_cast<float>(v)));
  }
  Value add(Value x, Value y) { return mlir::arith::AddIOp::create(b, x, y); }
  Value mul(Value x, Value y) { return mlir::arith::MulIOp::create(b, x, y); }
  Value minI(Value x, Value y) { return mlir::arith::MinSIOp::create(b, x, y); }
  Value lt(Value x, Value y) {
    return mlir::arith::CmpIOp::create(b, mlir::arith::CmpIPredicate::slt, x, y);
  }

  mlir::ImplicitLocOpBuilder &b;
};

} // namespace attn

#endif // ATTN_PASSES_GPU_GPUKERNELBUILDER_H
