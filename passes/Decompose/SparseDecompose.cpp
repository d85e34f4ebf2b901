//===- SparseDecompose.cpp - naive decompositions (placeholder) -------------===//

#include "Patterns.h"

using namespace mlir;

void attn::populateSparseDecompositions(RewritePatternSet &patterns) {}
