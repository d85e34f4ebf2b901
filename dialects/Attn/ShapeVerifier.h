//===- ShapeVerifier.h - symbolic shape checks for attn verifiers -*- C++ -*-===//
//
// Every attn op states its operand shapes with the same symbols OPS.md uses
// ([B, Hq, Lq, D], ...). ShapeVerifier binds each symbol to the first static
// size it sees and reports any later disagreement with the operand and axis
// that disagree and the operand that fixed the symbol, so one helper gives
// every op the same precise diagnostics.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECTS_ATTN_SHAPEVERIFIER_H
#define ATTN_DIALECTS_ATTN_SHAPEVERIFIER_H

#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/Diagnostics.h"
#include "mlir/IR/Operation.h"
#include "llvm/ADT/StringMap.h"

#include <optional>
#include <string>

namespace attn {

class ShapeVerifier {
public:
  explicit ShapeVerifier(mlir::Operation *op) : op(op) {}

  /// Checks that `type` is a ranked tensor whose axes match `dims`. Each entry
  /// is a symbol ("B"), a literal size ("1"), "_" for any size, or "S|1" for a
  /// size that is either S or 1 (broadcast).
  mlir::LogicalResult operand(llvm::StringRef role, mlir::Type type,
                              llvm::ArrayRef<llvm::StringRef> dims);

  /// Binds `sym` to a size derived from others (`origin` says how, e.g.
  /// "ceil(Lq / block_q)"); a no-op for dynamic sizes.
  mlir::LogicalResult derive(llvm::StringRef sym, std::optional<int64_t> size,
                             llvm::StringRef origin);

  /// The static size bound to `sym`, if any.
  std::optional<int64_t> get(llvm::StringRef sym) const;

  /// Checks that all (role, type) pairs share one element type.
  mlir::LogicalResult
  sameElementType(llvm::ArrayRef<std::pair<llvm::StringRef, mlir::Type>> list);

  mlir::InFlightDiagnostic error() { return op->emitOpError(); }

private:
  struct Binding {
    int64_t size;
    std::string origin;
  };
  mlir::LogicalResult bind(llvm::StringRef sym, int64_t size,
                           llvm::StringRef role, unsigned axis);

  mlir::Operation *op;
  llvm::StringMap<Binding> bindings;
};

/// Ceiling division for positive static sizes.
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// Maps a possibly dynamic size to std::nullopt when dynamic.
inline std::optional<int64_t> staticSize(int64_t size) {
  if (mlir::ShapedType::isDynamic(size))
    return std::nullopt;
  return size;
}

} // namespace attn

#endif // ATTN_DIALECTS_ATTN_SHAPEVERIFIER_H
