//===- SoftmaxCore.h - naive softmax attention shared by the ops -*- C++ -*-===//
//
// attention, sparse_attention, quant_attention, pq_attention and
// diff_attention all end in the same computation: scores q.k^T, a per-element
// score transform and visibility, a softmax over visible keys, a product with
// V and the log-sum-exp. buildSoftmaxAttention spells it once.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_DECOMPOSE_SOFTMAXCORE_H
#define ATTN_PASSES_DECOMPOSE_SOFTMAXCORE_H

#include "NaiveBuilder.h"

#include <optional>

namespace attn {

struct SoftmaxSpec {
  /// q [B,Hq,Lq,D], k [B,Hkv,Lk,D], v [B,Hkv,Lk,Dv]; any float types.
  mlir::Value query, key, value;
  double scale = 1.0;
  /// Hq / Hkv.
  int64_t group = 1;
  /// Transforms the scaled score (f32) at loop indices (b, h, i, j).
  std::function<mlir::Value(mlir::ImplicitLocOpBuilder &, mlir::Value score,
                            mlir::ValueRange ivs)>
      scoreTransform;
  /// Visibility (i1) at (b, h, i, j); everything is visible when unset.
  std::function<mlir::Value(mlir::ImplicitLocOpBuilder &, mlir::ValueRange ivs)>
      visible;
  /// Optional per-head sink logits [Hq] f32.
  mlir::Value sinks;
};

struct SoftmaxResult {
  mlir::Value out; ///< f32 [B,Hq,Lq,Dv]; 0 for rows without visible keys
  mlir::Value lse; ///< f32 [B,Hq,Lq]; -inf for rows without visible keys
};

SoftmaxResult buildSoftmaxAttention(NaiveBuilder &n, const SoftmaxSpec &spec);

/// The spec of plain softmax attention over q, k, v: `scale` or 1/sqrt(D)
/// (D static), Hq / Hkv = `group`, and the bottom-right causal rule when
/// `causal`.
SoftmaxSpec plainSoftmaxSpec(NaiveBuilder &n, mlir::Value query,
                             mlir::Value key, mlir::Value value,
                             std::optional<double> scale, int64_t group,
                             bool causal, mlir::Value kvLens = {});

/// The key count of batch row `batch`: clamp(kv_lens[batch], 0, lk) as an
/// index (kv_lens [B] i32).
mlir::Value keyCount(mlir::ImplicitLocOpBuilder &b, mlir::Value kvLens,
                     mlir::Value batch, mlir::Value lk);

/// The logical [B, H, NP * PS, W] tensor of a page pool [P, H, PS, W] under
/// `table` [B, NP] (i32). Page indices are clamped into [0, P) so that a
/// stale entry past a row's key count never reads outside the pool.
mlir::Value gatherPages(NaiveBuilder &n, mlir::Value pool, mlir::Value table);

/// Replaces `op`, whose results are (out[, lse]), by the softmax attention of
/// `spec`: out cast to its element type, lse when the op returns it.
void replaceWithSoftmaxAttention(mlir::PatternRewriter &rewriter,
                                 mlir::Operation *op, NaiveBuilder &n,
                                 const SoftmaxSpec &spec);

/// The bottom-right causal rule j <= i + (Lk - Lq) as an i1.
mlir::Value causalVisible(mlir::ImplicitLocOpBuilder &b, mlir::Value i,
                          mlir::Value j, mlir::Value lq, mlir::Value lk);

/// Loads element `ivs` of `tensor`, reading index 0 on axes of size 1 that
/// broadcast (axes listed in `broadcastable`).
mlir::Value extractBroadcast(mlir::ImplicitLocOpBuilder &b, mlir::Value tensor,
                             llvm::ArrayRef<mlir::Value> ivs,
                             llvm::ArrayRef<unsigned> broadcastable);

} // namespace attn

#endif // ATTN_PASSES_DECOMPOSE_SOFTMAXCORE_H
