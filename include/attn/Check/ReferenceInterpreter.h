//===- ReferenceInterpreter.h - run a func with the fp64 reference -*- C++ -*-===//
//
// attn-run --check compares a compiled kernel with the fp64 reference on the
// same inputs. The kernel is a whole function (feature maps feeding linear
// attention, two attentions and a merge, ...), so the check interprets the
// function's body op by op: attn ops call lib/Reference, the few tensor ops
// that glue them (empty, insert_slice, extract_slice) are evaluated here, and
// score_mod/mask_mod regions run through a scalar evaluator.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_CHECK_REFERENCEINTERPRETER_H
#define ATTN_CHECK_REFERENCEINTERPRETER_H

#include "attn/Support/HostTensor.h"

#include <string>
#include <vector>

namespace mlir {
namespace func {
class FuncOp;
} // namespace func
} // namespace mlir

namespace attn {

/// Runs `fn` on `inputs` (argument order) with the fp64 reference and fills
/// `outputs` (result order; dtype = the result's element type, values not
/// rounded). Returns false with a message naming the op that has no
/// reference or that the reference rejected.
bool interpretWithReference(mlir::func::FuncOp fn,
                            const std::vector<HostTensor> &inputs,
                            std::vector<HostTensor> &outputs,
                            std::string &error);

} // namespace attn

#endif // ATTN_CHECK_REFERENCEINTERPRETER_H
