//===- RecurrentDecompose.cpp - naive decompositions (placeholder) -------------===//

#include "Patterns.h"

using namespace mlir;

void attn::populateRecurrentDecompositions(RewritePatternSet &patterns) {}
