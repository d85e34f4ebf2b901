//===- Passes.h - passes of the attn compiler --------------------*- C++ -*-===//
//
// Declarations and registration of every attn pass.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_PASSES_H
#define ATTN_PASSES_PASSES_H

#include "mlir/Pass/Pass.h"

namespace attn {

#define GEN_PASS_DECL
#include "attn/Passes/Passes.h.inc"

#define GEN_PASS_REGISTRATION
#include "attn/Passes/Passes.h.inc"

} // namespace attn

#endif // ATTN_PASSES_PASSES_H
