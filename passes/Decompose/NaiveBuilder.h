//===- NaiveBuilder.h - builders for the naive decompositions ---*- C++ -*-===//
//
// The decompositions of attn-decompose spell the math of docs/Rationale.md
// as linalg.generic ops and scf loops on tensors. NaiveBuilder keeps those
// spellings short: constants, f32 casts, filled tensors, and a generic() that
// hands its body the loop indices beside the operand elements.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_DECOMPOSE_NAIVEBUILDER_H
#define ATTN_PASSES_DECOMPOSE_NAIVEBUILDER_H

#include "mlir/Dialect/Utils/StructuredOpsUtils.h"
#include "mlir/IR/AffineMap.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

#include <functional>

namespace attn {

class NaiveBuilder {
public:
  /// The body of a generic: the builder, the block arguments (inputs then
  /// the output's current value) and the loop indices; returns the value to
  /// yield.
  using Body = std::function<mlir::Value(mlir::ImplicitLocOpBuilder &,
                                         mlir::ValueRange args,
                                         mlir::ValueRange ivs)>;

  explicit NaiveBuilder(mlir::ImplicitLocOpBuilder &b) : b(b) {}

  mlir::ImplicitLocOpBuilder &builder() { return b; }

  mlir::Value f32(double value);
  mlir::Value index(int64_t value);
  mlir::Value i32(int64_t value);
  /// -inf and +inf as f32.
  mlir::Value negInf();

  /// Extends a f16/bf16/f32 scalar to f32.
  mlir::Value toF32(mlir::Value scalar);
  /// Rounds an f32 scalar to `type` (f32, f16 or bf16).
  mlir::Value fromF32(mlir::Value scalar, mlir::Type type);

  /// Sizes of a ranked tensor, static where known.
  llvm::SmallVector<mlir::OpFoldResult> sizes(mlir::Value tensor);
  mlir::OpFoldResult size(mlir::Value tensor, int64_t axis);
  /// An f32 tensor of `sizes` filled with `value`.
  mlir::Value filled(llvm::ArrayRef<mlir::OpFoldResult> sizes, double value,
                     mlir::Type elementType = {});
  mlir::Value empty(llvm::ArrayRef<mlir::OpFoldResult> sizes,
                    mlir::Type elementType);

  /// The map from `numLoops` loop dims to `exprs` (use d(i) to name loops).
  mlir::AffineMap map(unsigned numLoops, llvm::ArrayRef<mlir::AffineExpr> exprs);
  mlir::AffineExpr d(unsigned i) { return b.getAffineDimExpr(i); }

  /// One linalg.generic with one output `init`; `maps` holds the inputs'
  /// maps then the output's; loops in `reductions` are reductions.
  mlir::Value generic(mlir::Value init, mlir::ValueRange inputs,
                      llvm::ArrayRef<mlir::AffineMap> maps, unsigned numLoops,
                      llvm::ArrayRef<unsigned> reductions, const Body &body);

  /// Slices `tensor` at `offsets` (one per axis, nullptr = whole axis) and
  /// drops the axes that were fixed.
  mlir::Value extractAt(mlir::Value tensor, llvm::ArrayRef<mlir::Value> offsets);
  /// Inserts `slice` (rank reduced as extractAt makes it) back into `dest`.
  mlir::Value insertAt(mlir::Value slice, mlir::Value dest,
                       llvm::ArrayRef<mlir::Value> offsets);

  /// scf.for from lb to ub (index) carrying `iterArgs`; `body` returns the
  /// values to yield.
  using LoopBody = std::function<llvm::SmallVector<mlir::Value>(
      mlir::ImplicitLocOpBuilder &, mlir::Value iv, mlir::ValueRange iterArgs)>;
  mlir::ValueRange loop(mlir::Value lb, mlir::Value ub, mlir::ValueRange iterArgs,
                        const LoopBody &body);

  /// Nested scf.for loops from 0 to each of `ubs` (outermost first) carrying
  /// one tensor; `body` gets the induction variables and the tensor and
  /// returns its new value.
  using NestBody = std::function<mlir::Value(
      mlir::ImplicitLocOpBuilder &, mlir::ValueRange ivs, mlir::Value acc)>;
  mlir::Value loopNest(llvm::ArrayRef<mlir::Value> ubs, mlir::Value init,
                       const NestBody &body);

  /// Casts a whole tensor elementwise from f32 to `type`'s element type.
  mlir::Value castTensor(mlir::Value tensor, mlir::Type elementType);

private:
  mlir::ImplicitLocOpBuilder &b;
};

} // namespace attn

#endif // ATTN_PASSES_DECOMPOSE_NAIVEBUILDER_H
