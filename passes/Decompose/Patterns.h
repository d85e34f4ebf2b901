//===- Patterns.h - attn-decompose rewrite patterns --------------*- C++ -*-===//
//
// Each file of passes/Decompose adds the patterns of one op family.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_DECOMPOSE_PATTERNS_H
#define ATTN_PASSES_DECOMPOSE_PATTERNS_H

#include "mlir/IR/PatternMatch.h"

namespace attn {

void populateSoftmaxDecompositions(mlir::RewritePatternSet &patterns);
void populateCompressedKVDecompositions(mlir::RewritePatternSet &patterns);
/// attn.pq_fit alone; populateCompressedKVDecompositions includes it.
void populatePQFitDecomposition(mlir::RewritePatternSet &patterns);
void populateSparseDecompositions(mlir::RewritePatternSet &patterns);
void populateRecurrentDecompositions(mlir::RewritePatternSet &patterns);
void populateLogLinearDecompositions(mlir::RewritePatternSet &patterns);

/// The static size of `axis` of `value`'s tensor type, or failure with a
/// match-failure note naming what needs to be static.
mlir::FailureOr<int64_t> staticDim(mlir::PatternRewriter &rewriter,
                                   mlir::Operation *op, mlir::Value value,
                                   int64_t axis, llvm::StringRef what);

} // namespace attn

#endif // ATTN_PASSES_DECOMPOSE_PATTERNS_H
