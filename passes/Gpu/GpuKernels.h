//===- GpuKernels.h - attn's hand-built GPU kernels --------------*- C++ -*-===//
//
// attn-gpu-tile replaces the ops it has a GPU kernel for by a call of a
// private declaration that carries the kernel's parameters; the
// bufferisation and deallocation passes treat it as an opaque call on
// buffers. attn-gpu-map then expands each such call into the kernel's
// gpu.launch (whose barriers and intrinsics those passes could not analyse).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_GPU_GPUKERNELS_H
#define ATTN_PASSES_GPU_GPUKERNELS_H

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/StringRef.h"

namespace attn {

/// The dictionary attribute on kernel calls: {kernel = "flash", ...}.
inline constexpr llvm::StringLiteral kGpuKernelAttr = "attn.gpu_kernel";

/// Marks an op inside an expanded kernel: after outlining,
/// attn-gpu-launch-bounds gives the kernel launch bounds for this many
/// blocks a multiprocessor.
inline constexpr llvm::StringLiteral kMinBlocksPerSmAttr = "attn.min_blocks_per_sm";

/// Builds the gpu.launch of a kernel call before it and erases the call.
mlir::LogicalResult expandGpuKernelCall(mlir::func::CallOp call);

/// attn.linear_attention / attn.delta_rule -> kernel = "chunkwise" calls
/// (ChunkwiseGpu.cpp), and their expansion.
void populateGpuChunkwisePatterns(mlir::RewritePatternSet &patterns);
mlir::LogicalResult expandChunkwiseCall(mlir::func::CallOp call);

} // namespace attn

#endif // ATTN_PASSES_GPU_GPUKERNELS_H
