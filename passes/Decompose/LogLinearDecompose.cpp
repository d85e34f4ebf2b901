//===- LogLinearDecompose.cpp - naive decompositions (placeholder) -------------===//

#include "Patterns.h"

using namespace mlir;

void attn::populateLogLinearDecompositions(RewritePatternSet &patterns) {}
