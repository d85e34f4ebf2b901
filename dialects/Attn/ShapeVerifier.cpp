//===- ShapeVerifier.cpp - symbolic shape checks for attn verifiers -------===//
//
// This file implements the symbol binding behind every attn op verifier.
//
//===----------------------------------------------------------------------===//

#include "ShapeVerifier.h"

#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/StringExtras.h"

using namespace mlir;
using namespace attn;

LogicalResult ShapeVerifier::bind(StringRef sym, int64_t size, StringRef role,
                                  unsigned axis) {
  auto it = bindings.find(sym);
  if (it == bindings.end()) {
    bindings[sym] = {size, (role + " axis " + Twine(axis)).str()};
    return success();
  }
  if (it->second.size == size)
    return success();
  return op->emitOpError() << role << " axis " << axis << " (" << sym
                           << ") is " << size << ", but " << sym << " = "
                           << it->second.size << " from " << it->second.origin;
}

LogicalResult ShapeVerifier::derive(StringRef sym, std::optional<int64_t> size,
                                    StringRef origin) {
  if (!size)
    return success();
  auto it = bindings.find(sym);
  if (it == bindings.end()) {
    bindings[sym] = {*size, origin.str()};
    return success();
  }
  if (it->second.size == *size)
    return success();
  return op->emitOpError() << sym << " from " << it->second.origin << " is "
                           << it->second.size << ", but " << origin
                           << " requires " << *size;
}

std::optional<int64_t> ShapeVerifier::get(StringRef sym) const {
  auto it = bindings.find(sym);
  if (it == bindings.end())
    return std::nullopt;
  return it->second.size;
}

LogicalResult ShapeVerifier::operand(StringRef role, Type type,
                                     ArrayRef<StringRef> dims) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return op->emitOpError() << role << " must be a ranked tensor";
  if (tensor.getRank() != static_cast<int64_t>(dims.size())) {
    // "_" is an internal wildcard; users read "*".
    SmallVector<std::string> shown;
    for (StringRef dim : dims)
      shown.push_back(dim == "_" ? "*" : dim.str());
    std::string expected = "[" + llvm::join(shown, ", ") + "]";
    return op->emitOpError() << role << " must have rank " << dims.size() << " "
                             << expected << ", got " << tensor;
  }
  for (auto [axis, dimSpec] : llvm::enumerate(dims)) {
    StringRef spec = dimSpec;
    int64_t size = tensor.getDimSize(axis);
    if (ShapedType::isDynamic(size) || spec == "_")
      continue;
    int64_t literal;
    if (!spec.getAsInteger(10, literal)) {
      if (size != literal)
        return op->emitOpError() << role << " axis " << axis << " must be "
                                 << literal << ", got " << size;
      continue;
    }
    if (spec.consume_back("|1")) {
      if (size == 1)
        continue;
      std::optional<int64_t> bound = get(spec);
      if (bound && *bound != size)
        return op->emitOpError()
               << role << " axis " << axis << " is " << size
               << ", but it must be 1 or " << spec << " = " << *bound;
      if (failed(bind(spec, size, role, axis)))
        return failure();
      continue;
    }
    if (failed(bind(spec, size, role, axis)))
      return failure();
  }
  return success();
}

LogicalResult ShapeVerifier::sameElementType(
    ArrayRef<std::pair<StringRef, Type>> list) {
  if (list.empty())
    return success();
  Type first = getElementTypeOrSelf(list.front().second);
  for (auto [role, type] : list.drop_front()) {
    Type elem = getElementTypeOrSelf(type);
    if (elem != first)
      return op->emitOpError()
             << role << " element type " << elem << " must match "
             << list.front().first << " element type " << first;
  }
  return success();
}
