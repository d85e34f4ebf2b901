//===- CompressedKVDecompose.cpp - naive decompositions (placeholder) -------------===//

#include "Patterns.h"

using namespace mlir;

void attn::populateCompressedKVDecompositions(RewritePatternSet &patterns) {}
