//===- Selection.h - top-k selection loop of the selection ops --*- C++ -*-===//
//
// topk_select, adamas_select, quest_select and dsa_indexer differ only in how
// they score candidates. Given the scores, buildSelectionIndices writes the
// order docs/Rationale.md and lib/Reference fix: forced items first in
// ascending index, then the other candidates by descending score with ties to
// the lower index, then -1 padding.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_DECOMPOSE_SELECTION_H
#define ATTN_PASSES_DECOMPOSE_SELECTION_H

#include "NaiveBuilder.h"

namespace attn {

/// Which items a query may select and which it must.
struct SelectionRule {
  int64_t topk = 1;
  /// Bottom-right causal rule: query i sees keys j <= i + Lk - Lq.
  bool causal = false;
  /// The first `sinkTokens` keys and the last `localWindow` visible keys are
  /// forced into the selection.
  int64_t sinkTokens = 0;
  int64_t localWindow = 0;
  /// Keys per item: 1 when items are keys, the page size for Quest pages
  /// (a page is a candidate when its first key is visible, and is forced
  /// when it holds a forced key).
  int64_t keysPerItem = 1;
};

/// `scores` is f64 [B, H, Lq, N] over N items covering `lk` keys (index
/// values `lq` and `lk`). Returns the i32 [B, H, Lq, topk] selection.
mlir::Value buildSelectionIndices(NaiveBuilder &n, mlir::Value scores,
                                  mlir::Value lq, mlir::Value lk,
                                  const SelectionRule &rule);

} // namespace attn

#endif // ATTN_PASSES_DECOMPOSE_SELECTION_H
