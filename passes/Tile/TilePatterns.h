//===- TilePatterns.h - attn-tile rewrite patterns ---------------*- C++ -*-===//
//
// The fast forms of attn ops, by target. Ops a pattern does not take keep
// their attn form and reach attn-decompose's naive lowering.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_TILE_TILEPATTERNS_H
#define ATTN_PASSES_TILE_TILEPATTERNS_H

#include "mlir/IR/PatternMatch.h"

namespace attn {

/// Flash-style CPU kernels; blockQ is the query rows per task and head.
void populateCpuTilingPatterns(mlir::RewritePatternSet &patterns,
                               int64_t blockQ);

/// attn.quant_attention and attn.pq_attention on the split-KV decode kernel
/// (dequantisation or PQ table lookups fused into it) and, for prefill, on
/// the flash kernel (codes decoded as its K/V tiles are packed).
/// With `avx512`, 4-bit PQ codes are scored by vpermps table lookups.
void populateCpuCompressedPatterns(mlir::RewritePatternSet &patterns,
                                   int64_t blockQ, bool avx512);

/// attn.linear_attention (every decay) and attn.delta_rule (DeltaNet, Gated
/// DeltaNet, KDA) in their chunkwise-parallel forms.
void populateCpuChunkwisePatterns(mlir::RewritePatternSet &patterns);

/// Decode steps of the recurrences: attn.linear_attention and
/// attn.delta_rule over a few tokens, attn.log_linear's streaming form; the
/// state's columns split over tasks, each element read and written once a
/// token (preferred over the chunkwise patterns).
void populateCpuRecurrentStepPatterns(mlir::RewritePatternSet &patterns);

/// attn.diff_attention: its two softmax attentions on the flash / decode
/// kernels (f32 halves), then the difference and RMS norm per row.
void populateCpuDiffAttentionPatterns(mlir::RewritePatternSet &patterns,
                                      int64_t blockQ);

/// attn.merge: the partials' weights once per row, rows on vectors.
void populateCpuMergePatterns(mlir::RewritePatternSet &patterns);

/// attn.sparse_attention: each list's distinct keys gathered in groups of
/// 16 (top-k tokens, pages), O(Lq K kb) work.
void populateCpuSparsePatterns(mlir::RewritePatternSet &patterns);

/// attn.topk_select, attn.dsa_indexer, attn.quest_select: f64 scores of 8
/// candidates a vector (summed as the reference sums them), then the
/// forced items and an insertion-sorted buffer of the best others.
void populateCpuSelectionPatterns(mlir::RewritePatternSet &patterns);

/// attn.feature_map hedgehog: the projection on register tiles, then the
/// two softmaxes per token.
void populateCpuFeatureMapPatterns(mlir::RewritePatternSet &patterns);

/// attn.pq_encode: nearest centroids from f64 distances of 8 centroids a
/// vector, summed in the reference's order.
void populateCpuPqEncodePatterns(mlir::RewritePatternSet &patterns);

/// attn.lolcats_hybrid: window softmax and linear terms in one pass.
void populateCpuLolcatsPatterns(mlir::RewritePatternSet &patterns);

/// attn.lolcats_decode: the eviction, the ring copies, the window scores
/// and the linear terms of one token, a task per (batch, head).
void populateCpuLolcatsDecodePatterns(mlir::RewritePatternSet &patterns);

} // namespace attn

#endif // ATTN_PASSES_TILE_TILEPATTERNS_H
