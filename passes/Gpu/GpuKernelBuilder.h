//===- GpuKernelBuilder.h - short spellings for GPU kernel emitters -*- C++ -*-===//
//
// The hand-built CUDA kernels (FlashAttentionGpu.cpp, ChunkwiseGpu.cpp,
// ChunkwiseMmaGpu.cpp) are emitted op by op inside a gpu.launch; this base
// holds the index and f32 spellings, exponentials and guarded regions they
// share.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_GPU_GPUKERNELBUILDER_H
#define ATTN_PASSES_GPU_GPUKERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>

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
  Value i32(int64_t v) { return mlir::arith::ConstantOp::create(b, b.getI32IntegerAttr(v)); }
  Value divU(Value x, int64_t y) { return mlir::arith::DivUIOp::create(b, x, idx(y)); }
  Value remU(Value x, int64_t y) { return mlir::arith::RemUIOp::create(b, x, idx(y)); }
  Value fma(Value x, Value y, Value z) { return mlir::math::FmaOp::create(b, x, y, z); }
  Value fmul(Value x, Value y) { return mlir::arith::MulFOp::create(b, x, y); }
  Value fadd(Value x, Value y) { return mlir::arith::AddFOp::create(b, x, y); }
  Value fmax(Value x, Value y) { return mlir::arith::MaximumFOp::create(b, x, y); }

  /// 2^x by ex2.approx (flush-to-zero).
  Value exp2(Value x) {
    return mlir::LLVM::CallIntrinsicOp::create(b, b.getF32Type(),
                                               b.getStringAttr("llvm.nvvm.ex2.approx.ftz.f"),
                                               mlir::ValueRange{x})
        .getResult(0);
  }
  /// e^x as 2^(x log2 e).
  Value exp(Value x) {
    return exp2(mlir::arith::MulFOp::create(b, x, f32(1.0 / std::log(2.0))));
  }
  /// Runs body under `cond`.
  void when(Value cond, llvm::function_ref<void()> body) {
    auto ifOp = mlir::scf::IfOp::create(b, cond, /*withElse=*/false);
    mlir::OpBuilder::InsertionGuard g(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  }

  mlir::ImplicitLocOpBuilder &b;
};

} // namespace attn

#endif // ATTN_PASSES_GPU_GPUKERNELBUILDER_H
