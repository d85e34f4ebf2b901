//===- KernelBuffers.h - buffers of kernels emitted on tensors ---*- C++ -*-===//
//
// The tiling patterns (CPU and GPU) replace an op on tensors by a kernel on
// buffers before bufferisation: the operands' read-only buffers, fresh result
// buffers, and the results as tensors again (restrict, writable) so that
// one-shot bufferisation folds the round trip away.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_KERNELBUFFERS_H
#define ATTN_PASSES_KERNELBUFFERS_H

#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

namespace attn {

/// The identity-layout buffer of a ranked tensor operand, read only.
inline mlir::Value readOnlyBuffer(mlir::ImplicitLocOpBuilder &b, mlir::Value tensor) {
  auto type = mlir::cast<mlir::RankedTensorType>(tensor.getType());
  return mlir::bufferization::ToBufferOp::create(
      b, mlir::MemRefType::get(type.getShape(), type.getElementType()), tensor,
      /*read_only=*/true);
}

/// A fresh buffer for a result of ranked tensor type `type`.
inline mlir::Value freshBuffer(mlir::ImplicitLocOpBuilder &b, mlir::Type type,
                               int64_t alignment) {
  auto tensor = mlir::cast<mlir::RankedTensorType>(type);
  return mlir::memref::AllocOp::create(
      b, mlir::MemRefType::get(tensor.getShape(), tensor.getElementType()),
      b.getI64IntegerAttr(alignment));
}

/// A kernel's result buffer as the tensor the replaced op returned.
inline mlir::Value resultTensor(mlir::ImplicitLocOpBuilder &b, mlir::Value buffer,
                                mlir::Type type) {
  return mlir::bufferization::ToTensorOp::create(b, type, buffer, /*restrict=*/true,
                                                 /*writable=*/true);
}

} // namespace attn

#endif // ATTN_PASSES_KERNELBUFFERS_H
