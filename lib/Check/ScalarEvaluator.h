//===- ScalarEvaluator.h - evaluate score/mask mod regions -------*- C++ -*-===//
//
// score_mod and mask_mod regions hold scalar arith/math ops. The reference
// check evaluates them in double precision with this small interpreter.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CHECK_SCALAREVALUATOR_H
#define ATTN_LIB_CHECK_SCALAREVALUATOR_H

#include "mlir/IR/Region.h"

#include <string>

namespace attn {

/// Checks that every op of `region` is one the evaluator knows; otherwise
/// names the first that is not.
bool canEvaluate(mlir::Region &region, std::string &error);

/// Evaluates the single block of `region` with its arguments bound to `args`
/// and returns what attn.yield yields (i1 as 0/1, index as an integer).
double evaluateRegion(mlir::Region &region, llvm::ArrayRef<double> args);

} // namespace attn

#endif // ATTN_LIB_CHECK_SCALAREVALUATOR_H
