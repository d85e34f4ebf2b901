//===- OperandRoles.h - names of attn op operands ----------------*- C++ -*-===//
//
// The role an SSA value plays for the attn op that uses it ("query",
// "kv_indices", ...): the ODS operand name. attn-compile records it in the
// manifest and attn-run uses it to draw valid random inputs.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_OPERANDROLES_H
#define ATTN_DIALECT_ATTN_OPERANDROLES_H

#include "mlir/IR/Value.h"

#include <string>

namespace attn {

/// The ODS name of operand `number` of attn op `op`, or "" for other ops.
llvm::StringRef getOperandRole(mlir::Operation *op, unsigned number);

/// "<op>.<operand>" for the first attn op that uses `value` (e.g.
/// "attention.query"), or "" when no attn op uses it directly.
std::string getValueRole(mlir::Value value);

} // namespace attn

#endif // ATTN_DIALECT_ATTN_OPERANDROLES_H
