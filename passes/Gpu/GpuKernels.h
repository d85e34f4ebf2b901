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
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "llvm/ADT/STLFunctionalExtras.h"
#include "llvm/ADT/StringMap.h"
#include "llvm/ADT/StringRef.h"

#include <algorithm>

namespace attn {

/// The dictionary attribute on kernel calls: {kernel = "flash", ...}.
inline constexpr llvm::StringLiteral kGpuKernelAttr = "attn.gpu_kernel";

/// Marks an op inside an expanded kernel: after outlining,
/// attn-gpu-launch-bounds gives the kernel launch bounds for this many
/// blocks a multiprocessor.
inline constexpr llvm::StringLiteral kMinBlocksPerSmAttr = "attn.min_blocks_per_sm";

/// Builds the gpu.launch of a kernel call before it and erases the call.
mlir::LogicalResult expandGpuKernelCall(mlir::func::CallOp call);

/// Replaces `op` by a call of a fresh private declaration `__attn_gpu_KERNEL_N`
/// on read-only buffers of the non-null `inputs` and fresh buffers for the
/// op's results (named by `resultRoles`, one per result); the call carries
/// `params` plus kernel = KERNEL and operands = the role of each operand.
mlir::LogicalResult
replaceByKernelCall(mlir::PatternRewriter &rewriter, mlir::Operation *op,
                    llvm::StringRef kernel,
                    llvm::ArrayRef<std::pair<llvm::StringRef, mlir::Value>> inputs,
                    llvm::ArrayRef<llvm::StringRef> resultRoles,
                    llvm::SmallVector<mlir::NamedAttribute> params);

/// The operands of a call written by replaceByKernelCall by role. Fails
/// with a diagnostic on the call when the roles do not name every operand
/// once, a role is not in `known`, or an operand is not a static memref
/// with the identity layout.
mlir::FailureOr<llvm::StringMap<mlir::Value>>
kernelOperandsByRole(mlir::func::CallOp call, llvm::ArrayRef<llvm::StringRef> known);

/// The error of a kernel call that attn-gpu-map cannot expand.
mlir::InFlightDiagnostic malformedKernelCall(mlir::func::CallOp call);

/// How many splits split-KV decode cuts `keyTiles` key tiles into when each
/// split runs `blocksPerSplit` blocks: about four blocks a multiprocessor of
/// an H100 (132), whole tiles a split, and no split without tiles.
inline int64_t splitKvSplits(int64_t blocksPerSplit, int64_t keyTiles) {
  constexpr int64_t wanted = 4 * 132;
  int64_t splits = std::clamp<int64_t>((wanted + blocksPerSplit - 1) / blocksPerSplit, 1,
                                       keyTiles);
  int64_t tilesPerSplit = (keyTiles + splits - 1) / splits;
  return (keyTiles + tilesPerSplit - 1) / tilesPerSplit;
}

/// The launch that merges split-KV partials oPart [S, B, H, Lq, Dv] and
/// lsePart [S, B, H, Lq] (f32, each partial normalised; an empty split has
/// lse = -inf) into out [B, H, Lq, Dv] (its element type) and, when given,
/// lse [B, H, Lq]: one thread per output element.
struct SplitMergeShape {
  int64_t splits, batch, heads, lq, dv;
};
void emitSplitMerge(mlir::ImplicitLocOpBuilder &b, const SplitMergeShape &shape,
                    mlir::Value out, mlir::Value lse, mlir::Value oPart,
                    mlir::Value lsePart);

/// Emits a split-KV kernel before `call` and erases the call: `emit` gets
/// partial buffers oPart [S, B, H, Lq, Dv] and lsePart [S, B, H, Lq] (f32,
/// device allocations freed after it) when `shape` has more than one
/// split, null ones otherwise.
void expandSplitKvCall(
    mlir::func::CallOp call, const SplitMergeShape &shape,
    llvm::function_ref<void(mlir::ImplicitLocOpBuilder &b, mlir::Value oPart,
                            mlir::Value lsePart)>
        emit);
/// Keys of batch row `batch` inside a kernel: kv_lens[batch] clamped to
/// [0, lk], or lk without kv_lens.
mlir::Value keyCount(mlir::ImplicitLocOpBuilder &b, mlir::Value kvLens, mlir::Value batch,
                     int64_t lk);

/// `n` elements of memref `m` at `indices` (the last one a multiple of n)
/// as one vector load, aligned as far as that and the row length allow
/// (buffers start 16-byte aligned).
mlir::Value loadVector(mlir::ImplicitLocOpBuilder &b, mlir::Value m, mlir::ValueRange indices,
                       int64_t n);
/// The elements of a vector as f32 scalars.
llvm::SmallVector<mlir::Value> scalarsF32(mlir::ImplicitLocOpBuilder &b, mlir::Value vec);

/// The end of a split-KV decode block whose `parts` partial softmax states
/// (lane groups or warps, each over its own keys) are in shared memory:
/// m at sm[mAt + p R + r], l at sm[lAt + p R + r] and the unnormalised o at
/// sm[oAt + (p R + r) Dv + c] for part p, block row r < R (`rows`). One
/// thread a (row, channel) rescales them to a common maximum and writes
/// the normalised row: into oPart [S, B, H, Lq, Dv] and lsePart [S, B, H,
/// Lq] at `split` when given (the merge launch follows), else into out and
/// lse. `rowPlace` maps a block row to its head and query row and says
/// whether it exists (the last block of rows may be partly padding).
struct PartialsCombine {
  mlir::Value sm;
  int64_t mAt, lAt, oAt, parts, rows, dv, threads;
  mlir::Value tid, split, batch;
  llvm::function_ref<void(mlir::Value row, mlir::Value &head, mlir::Value &query,
                          mlir::Value &valid)>
      rowPlace;
  mlir::Value out, lse, oPart, lsePart;
};
void emitPartialsCombine(mlir::ImplicitLocOpBuilder &b, const PartialsCombine &c);

/// attn.linear_attention / attn.delta_rule -> kernel = "chunkwise" calls
/// (ChunkwiseGpu.cpp), and their expansion.
void populateGpuChunkwisePatterns(mlir::RewritePatternSet &patterns);
mlir::LogicalResult expandChunkwiseCall(mlir::func::CallOp call);

/// attn.quant_attention decode shapes -> kernel = "compressed_decode" calls
/// (CompressedDecodeGpu.cpp), and their expansion.
void populateGpuCompressedPatterns(mlir::RewritePatternSet &patterns);
mlir::LogicalResult expandCompressedDecodeCall(mlir::func::CallOp call);

/// attn.pq_attention decode shapes -> kernel = "pq_decode" calls
/// (PqDecodeGpu.cpp), and their expansion.
void populateGpuPqPatterns(mlir::RewritePatternSet &patterns);
mlir::LogicalResult expandPqDecodeCall(mlir::func::CallOp call);

/// attn.log_linear's streaming form -> kernel = "recurrent_step" calls
/// (RecurrentStepGpu.cpp), and their expansion.
void populateGpuRecurrentStepPatterns(mlir::RewritePatternSet &patterns);
mlir::LogicalResult expandRecurrentStepCall(mlir::func::CallOp call);

} // namespace attn

#endif // ATTN_PASSES_GPU_GPUKERNELS_H
