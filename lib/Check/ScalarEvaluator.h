//===- ScalarEvaluator.h - evaluate score/mask mod regions -------*- C++ -*-===//
//
// score_mod and mask_mod regions hold scalar arith/math ops. The reference
// check evaluates them in double precision with this small interpreter.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_CHECK_SCALAREVALUATOR_H
#define ATTN_LIB_CHECK_SCALAREVALUATOR_H

#include "mlir/IR/Region.h"

#include <functional>
#include <string>

namespace attn {

/// Element `indices` (row-major) of a tensor the region captures from its
/// function; NaN when the tensor is unknown or the indices are outside it.
using CapturedElement =
    std::function<double(mlir::Value tensor, llvm::ArrayRef<int64_t> indices)>;

/// Checks that every op of `region` is one the evaluator knows (arith/math
/// scalars, tensor.extract of captured tensors); otherwise names the first
/// that is not.
bool canEvaluate(mlir::Region &region, std::string &error);

/// Evaluates the single block of `region` with its arguments bound to `args`
/// and returns what attn.yield yields (i1 as 0/1, index as an integer).
/// Scalars from outside the region are not known (0); tensor.extract reads
/// through `captured`.
double evaluateRegion(mlir::Region &region, llvm::ArrayRef<double> args,
                      const CapturedElement &captured = {});

} // namespace attn

#endif // ATTN_LIB_CHECK_SCALAREVALUATOR_H
