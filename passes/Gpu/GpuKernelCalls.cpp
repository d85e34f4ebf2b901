//===- GpuKernelCalls.cpp - kernel calls and the split-KV merge launch -----===//
//
// What the hand-built kernels share outside their bodies: the opaque call
// attn-gpu-tile leaves for attn-gpu-map (operands named by role), reading
// such a call back, the end of a split-KV block (its partial softmax states
// combined) and the launch that merges split-KV partials.
//
//===----------------------------------------------------------------------===//

#include "GpuKernelBuilder.h"
#include "GpuKernels.h"

#include "../KernelBuffers.h"

#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/SymbolTable.h"

#include <limits>

using namespace mlir;
using namespace attn;

LogicalResult attn::replaceByKernelCall(PatternRewriter &rewriter, Operation *op,
                                        StringRef kernel,
                                        ArrayRef<std::pair<StringRef, Value>> inputs,
                                        ArrayRef<StringRef> resultRoles,
                                        SmallVector<NamedAttribute> params) {
  assert(resultRoles.size() == op->getNumResults() && "one role a result");
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);
  SmallVector<Value> args;
  SmallVector<Attribute> roles;
  for (auto [role, value] : inputs) {
    if (!value)
      continue;
    args.push_back(readOnlyBuffer(b, value));
    roles.push_back(b.getStringAttr(role));
  }
  SmallVector<Value> outs;
  for (auto [role, result] : llvm::zip(resultRoles, op->getResults())) {
    outs.push_back(freshBuffer(b, result.getType(), 256));
    args.push_back(outs.back());
    roles.push_back(b.getStringAttr(role));
  }
  // A private declaration per call site, named uniquely in the module.
  auto module = op->getParentOfType<ModuleOp>();
  func::FuncOp decl;
  {
    std::string name;
    for (int n = 0; name.empty() || module.lookupSymbol(name); ++n)
      name = ("__attn_gpu_" + kernel + "_" + Twine(n)).str();
    OpBuilder::InsertionGuard g(rewriter);
    rewriter.setInsertionPointToStart(module.getBody());
    decl = func::FuncOp::create(rewriter, op->getLoc(), name,
                                b.getFunctionType(ValueRange(args).getTypes(), {}));
    decl.setPrivate();
  }
  params.push_back(b.getNamedAttr("kernel", b.getStringAttr(kernel)));
  params.push_back(b.getNamedAttr("operands", b.getArrayAttr(roles)));
  auto call = func::CallOp::create(b, decl, args);
  call->setAttr(kGpuKernelAttr, b.getDictionaryAttr(params));
  SmallVector<Value> results;
  for (auto [buffer, result] : llvm::zip(outs, op->getResults()))
    results.push_back(resultTensor(b, buffer, result.getType()));
  rewriter.replaceOp(op, results);
  return success();
}

InFlightDiagnostic attn::malformedKernelCall(func::CallOp call) {
  return call.emitError("attn-gpu-map: malformed ") << kGpuKernelAttr << " call: ";
}

FailureOr<llvm::StringMap<Value>>
attn::kernelOperandsByRole(func::CallOp call, ArrayRef<StringRef> known) {
  auto params = call->getAttrOfType<DictionaryAttr>(kGpuKernelAttr);
  auto roles = params ? params.getAs<ArrayAttr>("operands") : ArrayAttr();
  if (!roles || roles.size() != call.getNumOperands()) {
    malformedKernelCall(call) << "operands must name every operand of the call";
    return failure();
  }
  llvm::StringMap<Value> byRole;
  for (auto [role, value] : llvm::zip(roles, call.getOperands())) {
    auto name = dyn_cast<StringAttr>(role);
    if (!name || !llvm::is_contained(known, name.getValue()) ||
        !byRole.try_emplace(name.getValue(), value).second) {
      malformedKernelCall(call) << "unknown or repeated operand role "
                                << (name ? name.getValue() : StringRef("?"));
      return failure();
    }
    auto type = dyn_cast<MemRefType>(value.getType());
    if (!type || !type.hasStaticShape() || !type.getLayout().isIdentity()) {
      malformedKernelCall(call) << "operand '" << name.getValue()
                                << "' must be a static identity memref";
      return failure();
    }
  }
  return byRole;
}

namespace {

class MergeEmitter : GpuKernelBuilder {
public:
  MergeEmitter(ImplicitLocOpBuilder &b, const SplitMergeShape &s)
      : GpuKernelBuilder(b), s(s) {}

  // out[b, h, i, d] = sum_s w_s oPart[s, b, h, i, d] / sum_s w_s with
  // w_s = exp(lsePart[s] - max_s lsePart[s]); lse = max + log(sum w_s).
  void emit(Value out, Value lse, Value oPart, Value lsePart) {
    Type t = cast<MemRefType>(out.getType()).getElementType();
    int64_t total = s.batch * s.heads * s.lq * s.dv;
    int64_t threads = 256;
    Value one = idx(1);
    auto launch = gpu::LaunchOp::create(b, idx((total + threads - 1) / threads), one,
                                        one, idx(threads), one, one);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value id = add(mul(launch.getBlockIds().x, idx(threads)), launch.getThreadIds().x);
    auto inRange = scf::IfOp::create(b, lt(id, idx(total)), false);
    b.setInsertionPointToStart(&inRange.getThenRegion().front());
    Value d = arith::RemUIOp::create(b, id, idx(s.dv));
    Value rest = arith::DivUIOp::create(b, id, idx(s.dv));
    Value i = arith::RemUIOp::create(b, rest, idx(s.lq));
    rest = arith::DivUIOp::create(b, rest, idx(s.lq));
    Value h = arith::RemUIOp::create(b, rest, idx(s.heads));
    Value bb = arith::DivUIOp::create(b, rest, idx(s.heads));
    Value negInf = f32(-std::numeric_limits<double>::infinity());
    Value m = negInf;
    for (int64_t sp = 0; sp < s.splits; ++sp)
      m = arith::MaximumFOp::create(
          b, m, memref::LoadOp::create(b, lsePart, ValueRange{idx(sp), bb, h, i}));
    Value isInf = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf);
    Value base = arith::SelectOp::create(b, isInf, f32(0.0), m);
    Value num = f32(0.0), den = f32(0.0);
    double log2e = 1.0 / std::log(2.0);
    for (int64_t sp = 0; sp < s.splits; ++sp) {
      Value l = memref::LoadOp::create(b, lsePart, ValueRange{idx(sp), bb, h, i});
      Value w = exp2(arith::MulFOp::create(b, arith::SubFOp::create(b, l, base), f32(log2e)));
      Value o = memref::LoadOp::create(b, oPart, ValueRange{idx(sp), bb, h, i, d});
      // An empty split has w = 0 and a 0 partial.
      num = arith::AddFOp::create(b, num, arith::MulFOp::create(b, w, o));
      den = arith::AddFOp::create(b, den, w);
    }
    Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OLE, den, f32(0.0));
    Value o = arith::SelectOp::create(b, empty, f32(0.0), arith::DivFOp::create(b, num, den));
    if (!t.isF32())
      o = arith::TruncFOp::create(b, t, o);
    memref::StoreOp::create(b, o, out, ValueRange{bb, h, i, d});
    if (lse) {
      auto first = scf::IfOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, d, idx(0)), false);
      b.setInsertionPointToStart(&first.getThenRegion().front());
      Value log2den = LLVM::CallIntrinsicOp::create(
                          b, b.getF32Type(), b.getStringAttr("llvm.nvvm.lg2.approx.f"),
                          ValueRange{den})
                          .getResult(0);
      Value val =
          arith::AddFOp::create(b, m, arith::MulFOp::create(b, log2den, f32(std::log(2.0))));
      memref::StoreOp::create(b, arith::SelectOp::create(b, empty, negInf, val), lse,
                              ValueRange{bb, h, i});
    }
    b.setInsertionPointToEnd(&launch.getBody().front());
    gpu::TerminatorOp::create(b);
  }

private:
  const SplitMergeShape &s;
};

} // namespace

void attn::emitSplitMerge(ImplicitLocOpBuilder &b, const SplitMergeShape &shape,
                          Value out, Value lse, Value oPart, Value lsePart) {
  MergeEmitter(b, shape).emit(out, lse, oPart, lsePart);
}

void attn::expandSplitKvCall(
    func::CallOp call, const SplitMergeShape &shape,
    function_ref<void(ImplicitLocOpBuilder &, Value, Value)> emit) {
  ImplicitLocOpBuilder b(call.getLoc(), call);
  Value oPart, lsePart;
  if (shape.splits > 1) {
    auto alloc = [&](ArrayRef<int64_t> dims) -> Value {
      return gpu::AllocOp::create(b, MemRefType::get(dims, b.getF32Type()),
                                  /*asyncToken=*/Type(), ValueRange{}, ValueRange{},
                                  ValueRange{}, /*hostShared=*/false)
          .getMemref();
    };
    oPart = alloc({shape.splits, shape.batch, shape.heads, shape.lq, shape.dv});
    lsePart = alloc({shape.splits, shape.batch, shape.heads, shape.lq});
  }
  emit(b, oPart, lsePart);
  for (Value part : {oPart, lsePart})
    if (part)
      gpu::DeallocOp::create(b, /*asyncToken=*/Type(), ValueRange{}, part);
  call.erase();
}

Value attn::keyCount(ImplicitLocOpBuilder &b, Value kvLens, Value batch, int64_t lk) {
  Value all = arith::ConstantIndexOp::create(b, lk);
  if (!kvLens)
    return all;
  Value n = arith::IndexCastOp::create(b, b.getIndexType(),
                                       memref::LoadOp::create(b, kvLens, ValueRange{batch}));
  return arith::MinSIOp::create(
      b, arith::MaxSIOp::create(b, n, arith::ConstantIndexOp::create(b, 0)), all);
}

Value attn::loadVector(ImplicitLocOpBuilder &b, Value m, ValueRange indices, int64_t n) {
  auto type = cast<MemRefType>(m.getType());
  int64_t bytes = type.getElementTypeBitWidth() / 8;
  int64_t chunk = n * bytes, row = type.getShape().back() * bytes, align = 16;
  while (align > 1 && (chunk % align || row % align))
    align /= 2;
  auto op = vector::LoadOp::create(b, VectorType::get({n}, type.getElementType()), m, indices);
  op.setAlignment(align);
  return op;
}

SmallVector<Value> attn::scalarsF32(ImplicitLocOpBuilder &b, Value vec) {
  auto type = cast<VectorType>(vec.getType());
  if (!type.getElementType().isF32())
    vec = arith::ExtFOp::create(b, VectorType::get(type.getShape(), b.getF32Type()), vec);
  SmallVector<Value> out;
  for (int64_t i = 0; i < type.getNumElements(); ++i)
    out.push_back(vector::ExtractOp::create(b, vec, ArrayRef<int64_t>{i}));
  return out;
}

namespace {

class CombineEmitter : GpuKernelBuilder {
public:
  CombineEmitter(ImplicitLocOpBuilder &b, const PartialsCombine &c)
      : GpuKernelBuilder(b), c(c) {}

  void emit() {
    Type outType = cast<MemRefType>(c.out.getType()).getElementType();
    Value negInf = f32(-std::numeric_limits<double>::infinity());
    int64_t outputs = c.rows * c.dv;
    for (int64_t pass = 0; pass * c.threads < outputs; ++pass) {
      Value id = add(c.tid, idx(pass * c.threads));
      when(lt(id, idx(outputs)), [&] {
        Value r = arith::DivUIOp::create(b, id, idx(c.dv));
        Value ch = arith::RemUIOp::create(b, id, idx(c.dv));
        Value head, query, valid;
        c.rowPlace(r, head, query, valid);
        when(valid, [&] {
          auto slotOf = [&](Value p) { return add(mul(p, idx(c.rows)), r); };
          auto at = [&](int64_t base, Value offset) {
            return memref::LoadOp::create(b, c.sm, ValueRange{add(idx(base), offset)})
                .getResult();
          };
          Value m = overParts({negInf}, [&](Value p, ValueRange acc) {
                      return SmallVector<Value>{
                          arith::MaximumFOp::create(b, acc[0], at(c.mAt, slotOf(p)))};
                    })[0];
          // Every part empty: m = -inf, subtract 0 (each weight is then 0).
          Value base = arith::SelectOp::create(
              b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, m, negInf), f32(0.0),
              m);
          auto sums = overParts({f32(0.0), f32(0.0)}, [&](Value p, ValueRange acc) {
            Value slot = slotOf(p);
            Value w = exp2(arith::SubFOp::create(b, at(c.mAt, slot), base));
            Value og = at(c.oAt, add(mul(slot, idx(c.dv)), ch));
            return SmallVector<Value>{math::FmaOp::create(b, w, at(c.lAt, slot), acc[0]),
                                      math::FmaOp::create(b, w, og, acc[1])};
          });
          Value l = sums[0];
          Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OLE, l, f32(0.0));
          Value o = arith::SelectOp::create(b, empty, f32(0.0),
                                            arith::DivFOp::create(b, sums[1], l));
          Value log2l = LLVM::CallIntrinsicOp::create(
                            b, b.getF32Type(), b.getStringAttr("llvm.nvvm.lg2.approx.f"),
                            ValueRange{l})
                            .getResult(0);
          Value lse = arith::SelectOp::create(
              b, empty, negInf,
              arith::MulFOp::create(b, arith::AddFOp::create(b, m, log2l),
                                    f32(std::log(2.0))));
          Value firstChannel = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, ch, idx(0));
          if (c.oPart) {
            memref::StoreOp::create(b, o, c.oPart, ValueRange{c.split, c.batch, head, query, ch});
            when(firstChannel, [&] {
              memref::StoreOp::create(b, lse, c.lsePart, ValueRange{c.split, c.batch, head, query});
            });
            return;
          }
          if (!outType.isF32())
            o = arith::TruncFOp::create(b, outType, o);
          memref::StoreOp::create(b, o, c.out, ValueRange{c.batch, head, query, ch});
          if (c.lse)
            when(firstChannel, [&] {
              memref::StoreOp::create(b, lse, c.lse, ValueRange{c.batch, head, query});
            });
        });
      });
    }
  }

private:
  /// A loop over the parts carrying `init`.
  SmallVector<Value> overParts(ValueRange init,
                               function_ref<SmallVector<Value>(Value, ValueRange)> body) {
    auto loop = scf::ForOp::create(b, idx(0), idx(c.parts), idx(1), init,
                                   [&](OpBuilder &nb, Location, Value p, ValueRange acc) {
                                     OpBuilder::InsertionGuard ig(b);
                                     b.setInsertionPoint(nb.getInsertionBlock(),
                                                         nb.getInsertionPoint());
                                     scf::YieldOp::create(b, body(p, acc));
                                   });
    return loop.getResults();
  }

  const PartialsCombine &c;
};

} // namespace

void attn::emitPartialsCombine(ImplicitLocOpBuilder &b, const PartialsCombine &c) {
  CombineEmitter(b, c).emit();
}
