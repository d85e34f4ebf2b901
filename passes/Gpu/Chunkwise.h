//===- Chunkwise.h - the chunkwise GPU kernels' shared description -*- C++ -*-===//
//
// ChunkwiseGpu.cpp expands a kernel = "chunkwise" call (attn.linear_attention,
// attn.delta_rule) into launches of the chunkwise-parallel form: the SIMT
// kernels of that file, or for f16/bf16 linear attention without a
// normaliser or per-channel decay the tensor-core kernels of
// ChunkwiseMmaGpu.cpp.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_GPU_CHUNKWISE_H
#define ATTN_PASSES_GPU_CHUNKWISE_H

#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/Value.h"

namespace attn {

inline constexpr int64_t kChunkTokens = 64; // tokens a chunk

enum class ChunkGate { None, PerHead, PerToken, PerChannel };

struct ChunkGpuShape {
  int64_t batch, heads, len, d, dv;
  double scale = 1.0, eps = 0.0;
  ChunkGate gate = ChunkGate::None;
  bool delta = false, normalize = false, l2norm = false;
};

/// The call's buffers by role (null when absent).
struct ChunkGpuOperands {
  mlir::Value q, k, v, gate, beta, stateIn, normIn, out, stateOut, normOut;
};

/// Whether the tensor-core form takes this call: f16/bf16 q, k, v and out,
/// linear attention with no, constant or scalar decay and no normaliser or
/// the delta rule without per-channel decay (DeltaNet, Gated DeltaNet), D
/// in {64, 128}, Dv a multiple of 32 up to 128, more than one chunk, and no
/// f32 state output where it would carry values rounded to the operand
/// type for the tensor cores (decayed values, the delta rule's new values).
bool chunkwiseMmaFits(const ChunkGpuShape &s, const ChunkGpuOperands &ops);

/// The delta rule's chunk-parallel first launch (ChunkwiseGpu.cpp, in the
/// operand type, rows padded to whole chunks): l2-normalised and scaled q,
/// normalised k [B, H, NC x 64, D], the UT transform's W [.., D] and U
/// [.., Dv].
struct ChunkDeltaInputs {
  mlir::Value q, k, w, u;
};

/// Emits the tensor-core form at b's insertion point: a state launch that
/// walks the chunks and writes every chunk's incoming state to scratch (the
/// delta rule's also its new values V' = U - W S), and a chunk-parallel
/// output launch on q, k and v (the delta rule's: delta->q, delta->k, V').
void emitChunkwiseMma(mlir::ImplicitLocOpBuilder &b, const ChunkGpuShape &s,
                      const ChunkGpuOperands &ops,
                      const ChunkDeltaInputs *delta = nullptr);

} // namespace attn

#endif // ATTN_PASSES_GPU_CHUNKWISE_H
