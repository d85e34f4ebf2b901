//===- AttnDialect.cpp - attn dialect registration ------------------------===//
//
// This file implements the attn dialect class and its generated enums and
// attributes.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/IR/Builders.h"

using namespace mlir;
using namespace attn;

#include "attn/Dialect/Attn/AttnOpsDialect.cpp.inc"
#include "attn/Dialect/Attn/AttnEnums.cpp.inc"

void AttnDialect::initialize() {
  addOperations<
#define GET_OP_LIST
#include "attn/Dialect/Attn/AttnOps.cpp.inc"
      >();
}
