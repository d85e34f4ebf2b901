//===- GpuMmaBuilder.h - mma.sync fragments for GPU kernel emitters -*- C++ -*-===//
//
// The tensor-core kernels (FlashAttentionGpu.cpp, ChunkwiseMmaGpu.cpp) build
// f16/bf16 mma.sync m16n8k16 products on ldmatrix fragments. Fragment
// layouts (PTX ISA, mma.m16n8k16): lane = 4 g + c holds A rows g, g+8 at
// columns 2c, 2c+1 (+8), B column g at rows 2c, 2c+1 (+8), and C rows g,
// g+8 at columns 2c, 2c+1.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_GPU_GPUMMABUILDER_H
#define ATTN_PASSES_GPU_GPUMMABUILDER_H

#include "GpuKernelBuilder.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

namespace attn {

class GpuMmaBuilder : public GpuKernelBuilder {
protected:
  using Type = mlir::Type;

  /// `t`: the operand type, f16 or bf16.
  GpuMmaBuilder(mlir::ImplicitLocOpBuilder &b, Type t) : GpuKernelBuilder(b), t(t) {}

  Type fragA() { return mlir::VectorType::get({4, 2}, t); }
  Type fragB() { return mlir::VectorType::get({2, 2}, t); }
  Type fragC() { return mlir::VectorType::get({2, 2}, b.getF32Type()); }
  Value zeroFrag(Type type) {
    return mlir::arith::ConstantOp::create(b, type, b.getZeroAttr(type));
  }

  /// C + A B on one mma.sync m16n8k16 (row-major A, column-major B). The
  /// NVVM op takes registers: bf16 pairs as i32, f16 pairs as vector<2xf16>.
  /// B is rows bRow, bRow + 1 of `bf` (an x4 ldmatrix holds two B's).
  Value mma(Value a, Value bf, Value c, int64_t bRow = 0) {
    using namespace mlir;
    auto regs = [&](Value frag, int64_t first, int64_t n) {
      SmallVector<Value> r;
      for (int64_t i = first; i < first + n; ++i) {
        Value pair = vector::ExtractOp::create(b, frag, ArrayRef<int64_t>{i});
        if (t.isBF16()) {
          pair = vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), pair);
          pair = vector::ExtractOp::create(b, pair, ArrayRef<int64_t>{0});
        }
        r.push_back(pair);
      }
      return r;
    };
    SmallVector<Value> acc;
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t e = 0; e < 2; ++e)
        acc.push_back(vector::ExtractOp::create(b, c, ArrayRef<int64_t>{i, e}));
    Type f32Type = b.getF32Type();
    auto structType = LLVM::LLVMStructType::getLiteral(
        b.getContext(), {f32Type, f32Type, f32Type, f32Type});
    NVVM::MMATypes ptx = t.isBF16() ? NVVM::MMATypes::bf16 : NVVM::MMATypes::f16;
    Value d = NVVM::MmaOp::create(
        b, structType, regs(a, 0, 4), regs(bf, bRow, 2), acc, {16, 8, 16},
        std::nullopt, std::nullopt, std::array<NVVM::MMATypes, 2>{ptx, ptx},
        std::array<NVVM::MMALayout, 2>{NVVM::MMALayout::row, NVVM::MMALayout::col});
    Value result = zeroFrag(fragC());
    for (int64_t i = 0; i < 4; ++i) {
      Value x = LLVM::ExtractValueOp::create(b, d, ArrayRef<int64_t>{i});
      result = vector::InsertOp::create(b, x, result, ArrayRef<int64_t>{i / 2, i % 2});
    }
    return result;
  }
  /// `tiles` 8x8 matrices of a shared buffer by ldmatrix; lane l addresses
  /// row `at` of matrix l / 8 (the last two indices are row and column).
  Value ldmatrix(Value smem, mlir::ValueRange at, int tiles, bool transpose) {
    Type type = mlir::VectorType::get({tiles, 2}, t);
    return mlir::nvgpu::LdMatrixOp::create(b, type, smem, at, transpose, tiles);
  }

  Type t;
};

} // namespace attn

#endif // ATTN_PASSES_GPU_GPUMMABUILDER_H
