//===- RecurrentCore.h - shared pieces of the recurrences ------*- C++ -*-===//
//
// linear_attention, delta_rule and log_linear are spelled as scf.for loops
// over tokens that carry f32 states. They share the token slices of the
// loop bodies, the delta-rule transition (delta_rule and the gated_deltanet
// base of log_linear), the Fenwick level of two positions (both log_linear
// forms), the per-token l2 normalisation, and the step that turns an f32
// result back into the op's result type.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_DECOMPOSE_RECURRENTCORE_H
#define ATTN_PASSES_DECOMPOSE_RECURRENTCORE_H

#include "NaiveBuilder.h"

namespace attn {

/// Token `t` of a per-token operand with the token axis kept as a unit
/// axis ([B,H,L] -> [B,H,1], [B,H,L,X] -> [B,H,1,X]). Keeping the axis avoids
/// rank-reducing slices: with B = 1 they are ambiguous, and MLIR 22's
/// extract_slice/insert_slice canonicalisers rebuild an ambiguous slice with
/// the wrong sizes once its offset folds to a constant (L = 1).
mlir::Value tokenAt(NaiveBuilder &n, mlir::Value tensor, mlir::Value t);

/// The indexing map of a tokenAt slice in `numLoops` loops: `exprs` index
/// the axes other than the token axis, which is read at 0.
mlir::AffineMap tokenMap(NaiveBuilder &n, unsigned numLoops,
                         llvm::ArrayRef<mlir::AffineExpr> exprs);

/// The zero-filled slot of token `t` in the carried output `out` [B,H,L,Dv]
/// ([B,H,1,Dv]). Per-token results are computed into it and inserted back at
/// the same place (insertToken), which bufferises to writes straight into
/// the output: inserting a separate tensor would be a strided copy, for
/// which the CPU runtime has no library function.
mlir::Value zeroedTokenSlot(NaiveBuilder &n, mlir::Value out, mlir::Value t);

/// Inserts a tokenAt-shaped `slice` into `out` at token `t`.
mlir::Value insertToken(NaiveBuilder &n, mlir::Value slice, mlir::Value out,
                        mlir::Value t);

/// One delta-rule transition, in place, on every [D, Dv] matrix of `state`:
///
///     S <- a (S - beta k (k^T S)) + beta k v^T
///
/// `state` is f32 [B,H,D,Dv], or with `levels` f32 [B,H,NLEV,D,Dv] of which
/// only level 0 receives the write beta k v^T (every level sees the
/// transition). `key` [B,H,1,D] and `value` [B,H,1,Dv] are tokenAt slices
/// of any float type; `beta` is [B,H,1]; `logDecay` is [B,H,1]
/// (a = exp(logDecay)) or null (a = 1). The operations follow
/// lib/Reference/DeltaRule.cpp's deltaStep.
mlir::Value buildDeltaStep(NaiveBuilder &n, mlir::Value state, mlir::Value key,
                           mlir::Value value, mlir::Value beta,
                           mlir::Value logDecay, bool levels);

/// A copy of `tensor` in a new tensor. The recurrences update their carried
/// state in place (scf.for bufferises only when each step yields the buffer
/// it received), so a state that starts from an operand starts from a copy
/// rather than from the caller's buffer.
mlir::Value freshCopy(NaiveBuilder &n, mlir::Value tensor);

/// x / sqrt(sum_d x^2 + 1e-6) over the last axis of a [B,H,L,D] tensor, in
/// f32 (the reference's l2norm, eps inside the square root).
mlir::Value buildL2Normalize(NaiveBuilder &n, mlir::Value x);

/// bit_length(t XOR s) of two indices: the Fenwick level lev(t, s) of
/// log-linear attention (0 when t == s).
mlir::Value buildFenwickLevel(mlir::ImplicitLocOpBuilder &b, mlir::Value t,
                              mlir::Value s);

/// Rounds an f32 tensor to the element type of `resultType` and casts its
/// shape to `resultType` where one of them is dynamic and the other is not.
mlir::Value toResultType(NaiveBuilder &n, mlir::Value tensor,
                         mlir::Type resultType);

} // namespace attn

#endif // ATTN_PASSES_DECOMPOSE_RECURRENTCORE_H
