//===- AttnDialect.h - the attn dialect --------------------------*- C++ -*-===//
//
// Public header of the attn dialect: the dialect class, its enums and its ops.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNDIALECT_H
#define ATTN_DIALECT_ATTN_ATTNDIALECT_H

#include "mlir/Bytecode/BytecodeOpInterface.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Dialect.h"
#include "mlir/IR/OpDefinition.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/Interfaces/SideEffectInterfaces.h"

#include "attn/Dialect/Attn/AttnOpsDialect.h.inc"
#include "attn/Dialect/Attn/AttnEnums.h.inc"

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/AttnOps.h.inc"

#endif // ATTN_DIALECT_ATTN_ATTNDIALECT_H
