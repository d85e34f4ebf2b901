//===- InputGenerator.h - random inputs that respect each role ---*- C++ -*-===//
//
// attn-run --random draws every input from a seeded generator. Most tensors
// are uniform in [-1, 1] (never all zero), but several roles have a domain:
// block and token indices must name real blocks, counts must fit their
// lists, scales and lambdas are positive, betas lie in (0, 1), log-space
// gates are negative so decays stay below one, and delta-rule keys are small
// enough that the recurrence stays bounded.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TOOLS_ATTNRUN_INPUTGENERATOR_H
#define ATTN_TOOLS_ATTNRUN_INPUTGENERATOR_H

#include "attn/Support/HostTensor.h"

#include "mlir/IR/Value.h"

#include <random>

namespace attn {

/// Fills `tensor` (dtype and shape set) for function argument `arg` (may be
/// null when only the manifest is known, then `role` alone decides).
void drawInput(HostTensor &tensor, mlir::Value arg, const std::string &role,
               std::mt19937_64 &rng);

} // namespace attn

#endif // ATTN_TOOLS_ATTNRUN_INPUTGENERATOR_H
