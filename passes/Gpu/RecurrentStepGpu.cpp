//===- RecurrentStepGpu.cpp - log_linear streaming steps for CUDA ---------===//
//
// The streaming form of attn.log_linear (level states in and out, start
// positions; decode steps and prefill chunks) becomes a kernel call
// (GpuKernels.h, kernel = "recurrent_step") that attn-gpu-map expands into
// one launch of the token recurrence with the level states in registers
// (the math of passes/Tile/RecurrentStepCpu.cpp):
//
//   grid (Dv / 32, H, B), 256 threads. Each column of a level's state
//   S_l [D, Dv] depends only on the same column before (also the delta
//   rule's pred = k^T S_l), so a block owns 32 columns of every level: lane
//   = column (a warp reads 128 contiguous bytes of a row), warp w the rows
//   f = w + 8 i, so a thread holds D / 8 values of a level. Per token the
//   block stages q (scaled) and k in shared memory; at position p = start +
//   t the levels below c = bit_length(p XOR (p-1)) (capped at the last; none
//   at p = 0) merge into level c, and the levels go from the last down
//   (above c: the level's rows; at c: its rows plus the levels below,
//   summed from level 0; below c: zero), so level c reads the levels below
//   it before they are cleared, also in place (a thread only ever touches
//   its own elements). Each level takes the base's transition (mamba2 /
//   linear: S_l = a S_l; gated_deltanet: the delta rule with pred_l summed
//   across the warps in shared memory), level 0 also the token, and each
//   thread sums lambda_l q_f S_l[f] over its rows; the warps' sums meet in
//   shared memory for the output.
//
// Token 0 reads the state operand, later tokens the state result in place.
// Every state element is read and written once a token (the carried level
// c reads the ones below it a second time).
//
//===----------------------------------------------------------------------===//

#include "GpuKernelBuilder.h"
#include "GpuKernels.h"

#include "../Decompose/RecurrentCore.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

#include <cmath>

using namespace mlir;
using namespace attn;

namespace {

constexpr int64_t kThreads = 256;
constexpr int64_t kWarps = kThreads / 32;
constexpr int64_t kCols = 32; // state columns a block: one a lane
constexpr int64_t kMaxD = 256; // D / 8 state values a thread and level

struct StepShape {
  int64_t batch, heads, len, d, dv, levels;
  bool delta = false, gate = false;
  double scale = 1.0;
  /// Shared floats: q [D], k [D], the warps' partial sums [8, 32].
  int64_t sharedFloats() const { return 2 * d + kWarps * kCols; }
};

struct StepOperands {
  Value q, k, v, lambda, gate, beta, stateIn, start, out, stateOut;
};

class StepEmitter : GpuKernelBuilder {
public:
  StepEmitter(ImplicitLocOpBuilder &b, const StepShape &s) : GpuKernelBuilder(b), s(s) {}

  void emit(const StepOperands &ops) {
    MLIRContext *ctx = b.getContext();
    auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
    Value one = idx(1);
    auto launch = gpu::LaunchOp::create(
        b, idx(s.dv / kCols), idx(s.heads), idx(s.batch), idx(kThreads), one, one,
        arith::ConstantOp::create(b, b.getI32IntegerAttr(s.sharedFloats() * 4)));
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value raw = gpu::DynamicSharedMemoryOp::create(
        b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), AffineMap(), workgroup));
    sm = memref::ViewOp::create(
        b, MemRefType::get({s.sharedFloats()}, b.getF32Type(), AffineMap(), workgroup), raw,
        idx(0), ValueRange{});
    batch = launch.getBlockIds().z;
    head = launch.getBlockIds().y;
    tid = launch.getThreadIds().x;
    warp = divU(tid, 32);
    lane = remU(tid, 32);
    col = add(mul(launch.getBlockIds().x, idx(kCols)), lane);
    Value start = idx(0);
    if (ops.start) {
      Value s0 = arith::MaxSIOp::create(b, memref::LoadOp::create(b, ops.start, ValueRange{batch}),
                                        i32(0));
      start = arith::IndexCastOp::create(b, b.getIndexType(), s0);
    }
    token(ops, idx(0), start, ops.stateIn);
    if (s.len > 1)
      scf::ForOp::create(b, one, idx(s.len), one, ValueRange{},
                         [&](OpBuilder &nb, Location, Value t, ValueRange) {
                           OpBuilder::InsertionGuard ig(b);
                           b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
                           token(ops, t, start, ops.stateOut);
                           scf::YieldOp::create(b);
                         });
    gpu::TerminatorOp::create(b);
  }

private:
  Value loadF32(Value m, ValueRange at) {
    Value x = memref::LoadOp::create(b, m, at);
    return x.getType().isF32() ? x : arith::ExtFOp::create(b, b.getF32Type(), x).getResult();
  }
  Value smLoad(Value i) { return memref::LoadOp::create(b, sm, ValueRange{i}); }
  void smStore(Value x, Value i) { memref::StoreOp::create(b, x, sm, ValueRange{i}); }
  /// Row i of this thread: f = warp + 8 i.
  Value rowOf(int64_t i) { return add(warp, idx(kWarps * i)); }
  int64_t rowsPerThread() const { return s.d / kWarps; }
  SmallVector<Value> stateAt(Value l, Value f) { return {batch, head, l, f, col}; }

  /// x summed over the 8 warps of the thread's lane (every thread gets it).
  Value acrossWarps(Value x) {
    Value slot = add(idx(2 * s.d), add(mul(warp, idx(kCols)), lane));
    smStore(x, slot);
    gpu::BarrierOp::create(b);
    Value sum = smLoad(add(idx(2 * s.d), lane));
    for (int64_t w = 1; w < kWarps; ++w)
      sum = fadd(sum, smLoad(add(idx(2 * s.d + w * kCols), lane)));
    // Every thread has read the partials before they are written again.
    gpu::BarrierOp::create(b);
    return sum;
  }

  /// One token at position start + t, its states read from `src` (null:
  /// zero) and written to the state result.
  void token(const StepOperands &ops, Value t, Value start, Value src) {
    // q (scaled) and k into shared memory.
    for (int64_t pass = 0; pass < (s.d + kThreads - 1) / kThreads; ++pass) {
      Value e = add(tid, idx(pass * kThreads));
      when(lt(e, idx(s.d)), [&] {
        smStore(fmul(loadF32(ops.q, {batch, head, t, e}), f32(s.scale)), e);
        smStore(loadF32(ops.k, {batch, head, t, e}), add(e, idx(s.d)));
      });
    }
    gpu::BarrierOp::create(b);
    Value v = loadF32(ops.v, {batch, head, t, col});
    Value a = s.gate ? exp(loadF32(ops.gate, {batch, head, t})) : Value();
    Value beta = s.delta ? loadF32(ops.beta, {batch, head, t}) : Value();

    // The carry level at p = start + t.
    Value p = add(start, t);
    Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, p, idx(0));
    Value prev = arith::SubIOp::create(b, arith::MaxSIOp::create(b, p, idx(1)), idx(1));
    Value carry = arith::SelectOp::create(
        b, first, idx(0), minI(buildFenwickLevel(b, p, prev), idx(s.levels - 1)));

    auto levels = scf::ForOp::create(
        b, idx(0), idx(s.levels), idx(1), ValueRange{f32(0.0)},
        [&](OpBuilder &nb, Location, Value i, ValueRange acc) {
          OpBuilder::InsertionGuard ig(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value l = arith::SubIOp::create(b, idx(s.levels - 1), i);
          Value lam = loadF32(ops.lambda, {batch, head, t, l});
          Value written = arith::SelectOp::create(
              b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, l, idx(0)), f32(1.0),
              f32(0.0));
          // q_f and k_f from shared memory where they are used (held in
          // registers across the level loop they cost 2 D / 8 of them).
          auto qf = [&](int64_t r) { return smLoad(rowOf(r)); };
          auto kf = [&](int64_t r) { return smLoad(add(rowOf(r), idx(s.d))); };
          auto update = [&](ArrayRef<Value> pre) -> Value {
            Value pred;
            if (s.delta) {
              Value part = f32(0.0);
              for (int64_t r = 0; r < rowsPerThread(); ++r)
                part = fma(kf(r), pre[r], part);
              pred = acrossWarps(part);
            }
            Value dot = f32(0.0);
            for (int64_t r = 0; r < rowsPerThread(); ++r) {
              Value k = kf(r);
              Value y = pre[r], kw = fmul(k, written);
              if (s.delta) {
                Value bk = fmul(beta, k);
                y = fma(arith::NegFOp::create(b, bk), pred, y);
                kw = fmul(bk, written);
              }
              if (a)
                y = fmul(a, y);
              y = fma(kw, v, y);
              if (ops.stateOut)
                memref::StoreOp::create(b, y, ops.stateOut, stateAt(l, rowOf(r)));
              dot = fma(qf(r), y, dot);
            }
            return fmul(lam, dot);
          };
          auto rows = [&](llvm::function_ref<Value(Value)> pre) {
            SmallVector<Value> values;
            for (int64_t r = 0; r < rowsPerThread(); ++r)
              values.push_back(src ? pre(rowOf(r)) : f32(0.0));
            return values;
          };
          Value isAbove = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, l, carry);
          Value isCarry = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, l, carry);
          auto ifAbove = scf::IfOp::create(b, TypeRange{b.getF32Type()}, isAbove, true);
          {
            OpBuilder::InsertionGuard g2(b);
            b.setInsertionPointToStart(&ifAbove.getThenRegion().front());
            scf::YieldOp::create(b, update(rows([&](Value f) {
                                   return memref::LoadOp::create(b, src, stateAt(l, f));
                                 })));
            b.setInsertionPointToStart(&ifAbove.getElseRegion().front());
            auto ifCarry = scf::IfOp::create(b, TypeRange{b.getF32Type()}, isCarry, true);
            scf::YieldOp::create(b, ifCarry.getResult(0));
            b.setInsertionPointToStart(&ifCarry.getThenRegion().front());
            // Level c: its rows plus every level below, summed from level 0.
            scf::YieldOp::create(b, update(rows([&](Value f) {
                                   auto below = scf::ForOp::create(
                                       b, idx(0), carry, idx(1), ValueRange{f32(0.0)},
                                       [&](OpBuilder &mb, Location, Value m, ValueRange s2) {
                                         OpBuilder::InsertionGuard g3(b);
                                         b.setInsertionPoint(mb.getInsertionBlock(),
                                                             mb.getInsertionPoint());
                                         Value y = memref::LoadOp::create(b, src, stateAt(m, f));
                                         scf::YieldOp::create(b, fadd(s2[0], y));
                                       });
                                   return fadd(memref::LoadOp::create(b, src, stateAt(carry, f)),
                                               below.getResult(0));
                                 })));
            b.setInsertionPointToStart(&ifCarry.getElseRegion().front());
            SmallVector<Value> cleared(rowsPerThread(), f32(0.0));
            scf::YieldOp::create(b, update(cleared));
          }
          scf::YieldOp::create(b, fadd(acc[0], ifAbove.getResult(0)));
        });
    Value o = acrossWarps(levels.getResult(0));
    when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, warp, idx(0)), [&] {
      Type et = cast<MemRefType>(ops.out.getType()).getElementType();
      Value y = et.isF32() ? o : arith::TruncFOp::create(b, et, o).getResult();
      memref::StoreOp::create(b, y, ops.out, ValueRange{batch, head, t, col});
    });
  }

  const StepShape &s;
  Value sm, batch, head, tid, warp, lane, col;
};

/// Why the kernel does not take a streaming log_linear of these sizes, or
/// empty when it does.
std::string unsupported(const StepShape &s, bool hasStateOut) {
  if (s.d == 0 || s.d % kWarps || s.d > kMaxD)
    return "D must be a multiple of 8 up to 256";
  if (s.dv == 0 || s.dv % kCols)
    return "Dv must be a multiple of 32";
  if (s.len == 0 || s.batch == 0 || s.heads == 0 || s.levels == 0)
    return "empty tensors take the generic path";
  if (!hasStateOut && s.len > 1)
    return "more than one token needs the state result to carry the levels";
  return "";
}

struct LogLinearStepForGpu : OpRewritePattern<LogLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LogLinearOp op, PatternRewriter &rewriter) const override {
    if (!op.isStreaming())
      return rewriter.notifyMatchFailure(op, "the whole-sequence form takes the generic path");
    for (Value v : op->getOperands())
      if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic shapes take the generic path");
    auto q = op.getQuery().getType();
    StepShape s;
    s.batch = q.getDimSize(0);
    s.heads = q.getDimSize(1);
    s.len = q.getDimSize(2);
    s.d = q.getDimSize(3);
    s.dv = op.getValue().getType().getDimSize(3);
    s.levels = op.getLambda().getType().getDimSize(3);
    std::string why = unsupported(s, static_cast<bool>(op.getStateOut()));
    if (!why.empty())
      return rewriter.notifyMatchFailure(op, why);
    Builder b(op.getContext());
    SmallVector<NamedAttribute> params = {
        b.getNamedAttr("scale", b.getF64FloatAttr(op.getScale().convertToDouble())),
        b.getNamedAttr("base", b.getStringAttr(stringifyLogLinearBase(op.getBase())))};
    SmallVector<StringRef> results = {"out"};
    if (op.getStateOut())
      results.push_back("state_out");
    return replaceByKernelCall(rewriter, op, "recurrent_step",
                               {{"q", op.getQuery()},
                                {"k", op.getKey()},
                                {"v", op.getValue()},
                                {"lambda", op.getLambda()},
                                {"gate", op.getGate()},
                                {"beta", op.getBeta()},
                                {"state_in", op.getStateIn()},
                                {"start", op.getStart()}},
                               results, params);
  }
};

} // namespace

void attn::populateGpuRecurrentStepPatterns(RewritePatternSet &patterns) {
  patterns.add<LogLinearStepForGpu>(patterns.getContext());
}

LogicalResult attn::expandRecurrentStepCall(func::CallOp call) {
  auto fail = [&](const Twine &why) { return malformedKernelCall(call) << why; };
  auto params = call->getAttrOfType<DictionaryAttr>(kGpuKernelAttr);
  auto byRole = kernelOperandsByRole(
      call, {"q", "k", "v", "lambda", "gate", "beta", "state_in", "start", "out", "state_out"});
  if (failed(byRole))
    return failure();
  StepOperands ops;
  auto role = [&](StringRef name) { return byRole->lookup(name); };
  ops.q = role("q");
  ops.k = role("k");
  ops.v = role("v");
  ops.lambda = role("lambda");
  ops.gate = role("gate");
  ops.beta = role("beta");
  ops.stateIn = role("state_in");
  ops.start = role("start");
  ops.out = role("out");
  ops.stateOut = role("state_out");
  if (!ops.q || !ops.k || !ops.v || !ops.lambda || !ops.out)
    return fail("q, k, v, lambda and out are required");
  auto scale = params.getAs<FloatAttr>("scale");
  if (!scale || !std::isfinite(scale.getValueAsDouble()))
    return fail("scale must be a finite float");
  auto base = params.getAs<StringAttr>("base");
  std::optional<LogLinearBase> kind =
      base ? symbolizeLogLinearBase(base.getValue()) : std::nullopt;
  if (!kind)
    return fail("base must be linear, mamba2 or gated_deltanet");
  auto type = [](Value v) { return v ? cast<MemRefType>(v.getType()) : MemRefType(); };
  MemRefType qType = type(ops.q);
  if (qType.getRank() != 4 || type(ops.lambda).getRank() != 4 || type(ops.v).getRank() != 4)
    return fail("q, v and lambda must be rank 4");
  StepShape s;
  s.batch = qType.getDimSize(0);
  s.heads = qType.getDimSize(1);
  s.len = qType.getDimSize(2);
  s.d = qType.getDimSize(3);
  s.dv = type(ops.v).getDimSize(3);
  s.levels = type(ops.lambda).getDimSize(3);
  s.scale = scale.getValueAsDouble();
  s.gate = *kind != LogLinearBase::linear;
  s.delta = *kind == LogLinearBase::gated_deltanet;
  MLIRContext *ctx = call.getContext();
  Type f32 = Float32Type::get(ctx), et = qType.getElementType();
  auto is = [&](Value v, ArrayRef<int64_t> shape, Type element) {
    return !v || (type(v).getShape() == shape && type(v).getElementType() == element);
  };
  SmallVector<int64_t> tokens = {s.batch, s.heads, s.len};
  if (!isa<FloatType>(et) || !is(ops.k, qType.getShape(), et) ||
      !is(ops.v, {s.batch, s.heads, s.len, s.dv}, et) ||
      !is(ops.out, {s.batch, s.heads, s.len, s.dv}, et) ||
      !is(ops.lambda, {s.batch, s.heads, s.len, s.levels}, f32) ||
      !is(ops.gate, tokens, f32) || !is(ops.beta, tokens, f32) ||
      !is(ops.stateIn, {s.batch, s.heads, s.levels, s.d, s.dv}, f32) ||
      !is(ops.stateOut, {s.batch, s.heads, s.levels, s.d, s.dv}, f32) ||
      !is(ops.start, {s.batch}, IntegerType::get(ctx, 32)))
    return fail("shapes must be q, k [B, H, L, D], v and out [B, H, L, Dv] of one float "
                "type, lambda f32 [B, H, L, NL], gate and beta f32 [B, H, L], states f32 "
                "[B, H, NL, D, Dv], start i32 [B]");
  if (s.gate != static_cast<bool>(ops.gate) || s.delta != static_cast<bool>(ops.beta))
    return fail("the gate goes with the mamba2 and gated_deltanet bases, beta with "
                "gated_deltanet");
  std::string why = unsupported(s, static_cast<bool>(ops.stateOut));
  if (!why.empty())
    return fail(why);
  ImplicitLocOpBuilder b(call.getLoc(), call);
  StepEmitter(b, s).emit(ops);
  call.erase();
  return success();
}
