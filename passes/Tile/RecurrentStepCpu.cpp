//===- RecurrentStepCpu.cpp - token-by-token recurrent steps on the CPU ---===//
//
// This file implements the CPU kernel of the recurrences' decode steps:
// attn.linear_attention and attn.delta_rule over at most kStepMaxTokens
// tokens (one decode step, a speculative draft) and the streaming form of
// attn.log_linear (its level states with binary carries) at any length.
// The chunkwise kernel pads such calls to a 16-token chunk and keeps the
// whole state in a task of its own; a step is memory-bound instead: every
// element of the state is read and written once a token.
//
// One parallel task per (batch, head, up to 128 state columns) owns those
// columns of the state S [D, Dv] (every level's, for log_linear), so it
// reads whole rows of up to 512 bytes: each column of
// S_t depends only on the same column of S_{t-1}, so the tasks never
// share a write. A task walks the tokens in order; the first reads the
// state operand, the later ones the result buffer in place. Per token, with
// q and k packed once as f32 (scaled, feature-mapped, l2-normalised as the
// op says) and v the task's value channels:
//
//   linear:     S[f] <- a_f S[f] + k_f v                      (one pass)
//   delta rule: pred = sum_f k_f A_f S[f]   (A: KDA's row decay, else 1)
//               S[f] <- a (A_f S[f] - beta k_f pred) + beta k_f v
//                                          (a: Gated DeltaNet's decay)
//   out = sum_f q_f S[f]   (at least 4 accumulator chains)
//
// and log_linear, at absolute position p = start + t: the levels below
// c = bit_length(p XOR (p-1)) (capped at the last level; none at p = 0)
// merge into level c, every level takes the base's transition (mamba2 /
// linear: S_l <- a S_l; gated_deltanet: the delta rule with the level's
// own pred), level 0 also the new token, and out = sum_l lambda_l q^T S_l.
// Levels go from the last down, so level c reads the levels below it
// before they are cleared, also in place. The linear normaliser z [F] is
// kept per task (every task of a head computes it; the first stores it).
//
//===----------------------------------------------------------------------===//

#include "RegisterTiles.h"
#include "TilePatterns.h"

#include "../Decompose/RecurrentCore.h"
#include "../KernelBuffers.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace attn;

namespace {

enum class StepFamily { Linear, Delta, LogLinear };
using StepGate = RecurrentGate;

struct StepShape {
  int64_t batch, heads, len, d, dv;
  int64_t levels = 1; // log_linear: NL level states
  StepFamily family = StepFamily::Linear;
  StepGate gate = StepGate::None;
  bool deltaLevels = false; // log_linear's gated_deltanet base
  bool kda = false;         // rows decayed before the delta rule's erase
  bool normalize = false, l2norm = false;
  double scale = 1.0, eps = 0.0;
  std::optional<FeatureMapKind> qMap, kMap;
};

struct StepOperands {
  Value q, k, v, gate, beta, lambda, start, stateIn, normIn;
  Value out, stateOut, normOut;
};

/// The `width` vectors of one state row a task owns.
using RowVectors = SmallVector<Value, 8>;

class StepEmitter : public RegisterTileBuilder {
public:
  StepEmitter(ImplicitLocOpBuilder &b, const FlashShape &fs, const StepShape &c)
      : RegisterTileBuilder(b, fs), c(c), width(columnVectors(c.dv)) {}

  /// Vectors of 16 state columns a task owns: the largest divisor of
  /// Dv / 16 up to 8, so a task reads whole rows of up to 512 bytes.
  static int64_t columnVectors(int64_t dv) {
    int64_t n = dv / kLanes;
    for (int64_t w = std::min<int64_t>(8, n); w > 1; --w)
      if (n % w == 0)
        return w;
    return 1;
  }

  void emit(const StepOperands &ops) {
    parallel({c.batch, c.heads, c.dv / (width * kLanes)}, [&](ValueRange ivs) {
      b0 = ivs[0];
      h = ivs[1];
      j0 = mul(ivs[2], idx(width * kLanes));
      qs = alloc({c.d});
      ks = alloc({c.d});
      as = c.gate == StepGate::PerChannel ? alloc({c.d}) : Value();
      ob = c.family == StepFamily::LogLinear ? alloc({width * kLanes}) : Value();
      // Without a state result the columns live in a scratch of their own.
      Value dst = ops.stateOut ? ops.stateOut : alloc({c.levels, c.d, width * kLanes});
      if (c.normalize) {
        zs = alloc({c.d});
        forLoop(idx(0), idx(c.d), kLanes, {}, [&](Value f, ValueRange) {
          vstore(ops.normIn ? vload(ops.normIn, {b0, h, f}) : splat(0.0), zs, {f});
          return SmallVector<Value>{};
        });
      }
      token(ops, idx(0), ops.stateIn, dst);
      if (c.len > 1)
        forLoop(idx(1), idx(c.len), 1, {}, [&](Value t, ValueRange) {
          token(ops, t, dst, dst);
          return SmallVector<Value>{};
        });
      if (ops.normOut)
        when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, j0, idx(0)), [&] {
          forLoop(idx(0), idx(c.d), kLanes, {}, [&](Value f, ValueRange) {
            vstore(vload(zs, {f}), ops.normOut, {b0, h, f});
            return SmallVector<Value>{};
          });
        });
    });
  }

private:
  /// The indices of vector cc of row f of level l in a state buffer: the
  /// op's [B, H, (NL,) D, Dv] arrays or a task scratch [NL, D, width * 16].
  SmallVector<Value> rowAt(Value mem, Value l, Value f, int64_t cc) {
    if (cast<MemRefType>(mem.getType()).getRank() == 3)
      return {l, f, idx(cc * kLanes)};
    SmallVector<Value> at = {b0, h};
    if (c.family == StepFamily::LogLinear)
      at.push_back(l);
    at.append({f, add(j0, idx(cc * kLanes))});
    return at;
  }
  RowVectors loadRow(Value mem, Value l, Value f) {
    RowVectors x;
    for (int64_t cc = 0; cc < width; ++cc)
      x.push_back(vload(mem, rowAt(mem, l, f, cc)));
    return x;
  }
  RowVectors splatRow(double v) { return RowVectors(width, splat(v)); }

  /// dst[0, D) = factor * row t of src (through phi, l2-normalised).
  void pack(Value src, Value dst, Value t, double factor, bool l2norm,
            std::optional<FeatureMapKind> phi) {
    auto rowAtCol = [&](Value col) { return mappedVector(src, ValueRange{b0, h, t, col}, phi); };
    Value f = cf(factor);
    if (l2norm) {
      // x * (1 / sqrt(sum x^2 + 1e-6)), the reference's order.
      Value sq = forLoop(idx(0), idx(c.d), kLanes, {splat(0.0)}, [&](Value col, ValueRange a) {
        Value x = rowAtCol(col);
        return SmallVector<Value>{vector::FMAOp::create(b, x, x, a[0])};
      })[0];
      Value norm = math::SqrtOp::create(b, fadd(hsum(sq), cf(1e-6)));
      f = fmul(arith::DivFOp::create(b, cf(1.0), norm), f);
    }
    Value fv = bcast(f);
    forLoop(idx(0), idx(c.d), kLanes, {}, [&](Value col, ValueRange) {
      vstore(fmul(rowAtCol(col), fv), dst, {col});
      return SmallVector<Value>{};
    });
  }

  /// sum_{f < D} weight(f) * row(f): rows unrolled so that at least four
  /// accumulator chains run side by side.
  RowVectors rowSum(llvm::function_ref<Value(Value)> weight,
                    llvm::function_ref<RowVectors(Value)> row) {
    int64_t unroll = (4 + width - 1) / width; // 1, 2 or 4: divides D
    SmallVector<Value> zero(unroll * width, splat(0.0));
    ValueRange acc = forLoop(idx(0), idx(c.d), unroll, zero, [&](Value f0, ValueRange a) {
      SmallVector<Value> next;
      for (int64_t r = 0; r < unroll; ++r) {
        Value f = add(f0, idx(r));
        Value w = bcast(weight(f));
        RowVectors x = row(f);
        for (int64_t cc = 0; cc < width; ++cc)
          next.push_back(vector::FMAOp::create(b, w, x[cc], a[r * width + cc]));
      }
      return next;
    });
    RowVectors sum;
    for (int64_t cc = 0; cc < width; ++cc) {
      Value x = acc[cc];
      for (int64_t r = 1; r < unroll; ++r)
        x = fadd(x, acc[r * width + cc]);
      sum.push_back(x);
    }
    return sum;
  }

  /// One token's operands on the task's columns: its index, value vectors,
  /// scalar decay a (null: none or per channel), beta, the delta rule's
  /// pred, and `written` (log_linear: 1 on the level the token enters,
  /// else 0; null: always).
  struct Token {
    Value t, a, beta, written;
    RowVectors v, pred;
  };

  /// One pass over the rows of level l: row f's old value pre(f) becomes
  /// update(f, pre(f)) in dst; returns sum_f q_f of the new rows.
  RowVectors updateRows(Value dst, Value l, llvm::function_ref<RowVectors(Value)> pre,
                        llvm::function_ref<RowVectors(Value, RowVectors)> update) {
    return rowSum([&](Value f) { return load(qs, {f}); },
                  [&](Value f) {
                    RowVectors x = update(f, pre(f));
                    for (int64_t cc = 0; cc < width; ++cc)
                      vstore(x[cc], dst, rowAt(dst, l, f, cc));
                    return x;
                  });
  }

  /// The row decay of row f (per channel) or the scalar decay, as a
  /// broadcast factor; null without decay.
  Value decayOf(Value f, const Token &tk) {
    if (c.gate == StepGate::PerChannel)
      return bcast(load(as, {f}));
    return tk.a ? bcast(tk.a) : Value();
  }
  RowVectors scaled(Value factor, RowVectors x) {
    if (factor)
      for (Value &e : x)
        e = fmul(factor, e);
    return x;
  }

  /// The transition of one level (or the only state) from pre(f); returns
  /// sum_f q_f S'[f].
  RowVectors level(Value dst, Value l, const Token &tk0,
                   llvm::function_ref<RowVectors(Value)> pre) {
    Token tk = tk0;
    bool delta = c.family == StepFamily::Delta || c.deltaLevels;
    if (!delta)
      return updateRows(dst, l, pre, [&](Value f, RowVectors x) {
        // S[f] = a_f S[f] + k_f v (the token only into level 0).
        Value kf = load(ks, {f});
        if (tk.written)
          kf = fmul(kf, tk.written);
        Value kv = bcast(kf);
        x = scaled(decayOf(f, tk), x);
        for (int64_t cc = 0; cc < width; ++cc)
          x[cc] = vector::FMAOp::create(b, kv, tk.v[cc], x[cc]);
        return x;
      });
    // KDA decays the rows before the projection; Gated DeltaNet after.
    auto before = [&](Value f, RowVectors x) {
      return c.kda ? scaled(decayOf(f, tk), x) : x;
    };
    tk.pred = rowSum([&](Value f) { return load(ks, {f}); },
                     [&](Value f) { return before(f, pre(f)); });
    return updateRows(
        dst, l, [&](Value f) { return before(f, pre(f)); },
        [&](Value f, RowVectors x) {
          Value bk = fmul(tk.beta, load(ks, {f}));
          Value erase = bcast(arith::NegFOp::create(b, bk));
          for (int64_t cc = 0; cc < width; ++cc)
            x[cc] = vector::FMAOp::create(b, erase, tk.pred[cc], x[cc]);
          if (!c.kda)
            x = scaled(decayOf(f, tk), x);
          if (tk.written)
            bk = fmul(bk, tk.written);
          Value write = bcast(bk);
          for (int64_t cc = 0; cc < width; ++cc)
            x[cc] = vector::FMAOp::create(b, write, tk.v[cc], x[cc]);
          return x;
        });
  }

  void token(const StepOperands &ops, Value t, Value src, Value dst) {
    bool delta = c.family == StepFamily::Delta || c.deltaLevels;
    pack(ops.q, qs, t, c.scale, c.l2norm, c.qMap);
    pack(ops.k, ks, t, 1.0, c.l2norm, c.kMap);
    Token tk;
    tk.t = t;
    for (int64_t cc = 0; cc < width; ++cc)
      tk.v.push_back(mappedVector(ops.v, ValueRange{b0, h, t, add(j0, idx(cc * kLanes))},
                                  std::nullopt));
    switch (c.gate) {
    case StepGate::None:
      break;
    case StepGate::PerHead:
      tk.a = fexp(load(ops.gate, {h}));
      break;
    case StepGate::PerToken:
      tk.a = fexp(load(ops.gate, {b0, h, t}));
      break;
    case StepGate::PerChannel:
      forLoop(idx(0), idx(c.d), kLanes, {}, [&](Value f, ValueRange) {
        vstore(fexp(vload(ops.gate, {b0, h, t, f})), as, {f});
        return SmallVector<Value>{};
      });
      break;
    }
    if (delta)
      tk.beta = load(ops.beta, {b0, h, t});

    RowVectors o;
    if (c.family != StepFamily::LogLinear) {
      o = level(dst, idx(0), tk, [&](Value f) {
        return src ? loadRow(src, idx(0), f) : splatRow(0.0);
      });
      if (c.normalize) {
        // z = a z + k; out /= sum_f q_f z_f + eps.
        Value dot = forLoop(idx(0), idx(c.d), kLanes, {splat(0.0)}, [&](Value f, ValueRange a) {
          Value z = vload(zs, {f});
          if (c.gate == StepGate::PerChannel)
            z = fmul(vload(as, {f}), z);
          else if (tk.a)
            z = fmul(bcast(tk.a), z);
          z = fadd(z, vload(ks, {f}));
          vstore(z, zs, {f});
          return SmallVector<Value>{vector::FMAOp::create(b, vload(qs, {f}), z, a[0])};
        })[0];
        Value den = bcast(fadd(hsum(dot), cf(c.eps)));
        for (Value &x : o)
          x = arith::DivFOp::create(b, x, den);
      }
    } else {
      o = logLinearToken(ops, tk, src, dst);
    }
    for (int64_t cc = 0; cc < width; ++cc) {
      Value x = o[cc];
      if (!s.elementType.isF32())
        x = arith::TruncFOp::create(b, VectorType::get({kLanes}, s.elementType), x);
      vector::StoreOp::create(b, x, ops.out,
                              ValueRange{b0, h, t, add(j0, idx(cc * kLanes))});
    }
  }

  /// The carries and transitions of every level for one token; returns
  /// sum_l lambda_l q^T S_l on the task's columns.
  RowVectors logLinearToken(const StepOperands &ops, Token &tk, Value src, Value dst) {
    // Carry level c at p = max(start, 0) + t.
    Value p = tk.t;
    if (ops.start) {
      Value s0 = arith::MaxSIOp::create(b, load(ops.start, {b0}),
                                        arith::ConstantIntOp::create(b, 0, 32));
      p = add(p, arith::IndexCastOp::create(b, b.getIndexType(), s0));
    }
    Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, p, idx(0));
    Value fenwick = buildFenwickLevel(b, p, sub(maxI(p, idx(1)), idx(1)));
    Value carry = arith::SelectOp::create(b, first, idx(0), minI(fenwick, idx(c.levels - 1)));

    for (int64_t cc = 0; cc < width; ++cc)
      vstore(splat(0.0), ob, {idx(cc * kLanes)});
    forLoop(idx(0), idx(c.levels), 1, {}, [&](Value i, ValueRange) {
      Value l = sub(idx(c.levels - 1), i);
      tk.written = arith::SelectOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, l, idx(0)), cf(1.0), cf(0.0));
      Value lam = bcast(load(ops.lambda, {b0, h, tk.t, l}));
      auto accumulate = [&](const RowVectors &lo) {
        for (int64_t cc = 0; cc < width; ++cc)
          vstore(vector::FMAOp::create(b, lam, lo[cc], vload(ob, {idx(cc * kLanes)})), ob,
                 {idx(cc * kLanes)});
      };
      auto above = [&](Value f) { return src ? loadRow(src, l, f) : splatRow(0.0); };
      // Level c: its own rows plus every level below, summed from level 0.
      auto merged = [&](Value f) {
        if (!src)
          return splatRow(0.0);
        ValueRange below = forLoop(idx(0), carry, 1, SmallVector<Value>(width, splat(0.0)),
                                   [&](Value m, ValueRange a) {
                                     RowVectors r = loadRow(src, m, f);
                                     SmallVector<Value> next;
                                     for (int64_t cc = 0; cc < width; ++cc)
                                       next.push_back(fadd(a[cc], r[cc]));
                                     return next;
                                   });
        RowVectors own = loadRow(src, carry, f);
        for (int64_t cc = 0; cc < width; ++cc)
          own[cc] = fadd(own[cc], below[cc]);
        return own;
      };
      auto cleared = [&](Value) { return splatRow(0.0); };
      Value isAbove = arith::CmpIOp::create(b, arith::CmpIPredicate::ugt, l, carry);
      Value isCarry = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, l, carry);
      auto ifAbove = scf::IfOp::create(b, isAbove, /*withElseRegion=*/true);
      {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPointToStart(&ifAbove.getThenRegion().front());
        accumulate(level(dst, l, tk, above));
        b.setInsertionPointToStart(&ifAbove.getElseRegion().front());
        auto ifCarry = scf::IfOp::create(b, isCarry, /*withElseRegion=*/true);
        b.setInsertionPointToStart(&ifCarry.getThenRegion().front());
        accumulate(level(dst, l, tk, merged));
        b.setInsertionPointToStart(&ifCarry.getElseRegion().front());
        accumulate(level(dst, l, tk, cleared));
      }
      return SmallVector<Value>{};
    });
    RowVectors o;
    for (int64_t cc = 0; cc < width; ++cc)
      o.push_back(vload(ob, {idx(cc * kLanes)}));
    return o;
  }

  const StepShape &c;
  int64_t width; // vectors of 16 columns a task owns
  Value b0, h, j0, qs, ks, as, zs, ob;
};

//===----------------------------------------------------------------------===//
// The rewrites
//===----------------------------------------------------------------------===//

/// Calls with at most this many tokens take the step kernel (longer ones the
/// chunkwise kernel; log_linear's streaming form takes it at any length).
constexpr int64_t kStepMaxTokens = 16;

LogicalResult stepShapeOf(PatternRewriter &rewriter, Operation *op, Value query,
                          Value value, StepShape &c) {
  return recurrentSizes(rewriter, op, query, value, c);
}

void emitAndReplace(PatternRewriter &rewriter, Operation *op, const StepShape &c,
                    StepOperands &ops, Value out) {
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);
  for (Value *operand : {&ops.q, &ops.k, &ops.v, &ops.gate, &ops.beta, &ops.lambda,
                         &ops.start, &ops.stateIn, &ops.normIn})
    if (*operand)
      *operand = readOnlyBuffer(b, *operand);
  SmallVector<Value> buffers;
  for (Value result : op->getResults())
    buffers.push_back(freshBuffer(b, result.getType(), 64));
  ops.out = buffers[0];
  if (buffers.size() > 1)
    ops.stateOut = buffers[1];
  if (buffers.size() > 2)
    ops.normOut = buffers[2];
  FlashShape fs{};
  fs.elementType = cast<RankedTensorType>(out.getType()).getElementType();
  StepEmitter(b, fs, c).emit(ops);
  SmallVector<Value> tensors;
  for (auto [buffer, result] : llvm::zip(buffers, op->getResults()))
    tensors.push_back(resultTensor(b, buffer, result.getType()));
  rewriter.replaceOp(op, tensors);
}

struct StepLinearAttentionForCpu : OpRewritePattern<LinearAttentionOp> {
  StepLinearAttentionForCpu(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    StepShape c;
    if (failed(stepShapeOf(rewriter, op, op.getQuery(), op.getValue(), c)))
      return failure();
    if (c.len > kStepMaxTokens)
      return rewriter.notifyMatchFailure(op, "long calls take the chunkwise kernel");
    c.gate = gateOf(op.getDecay());
    c.scale = op.getScale().convertToDouble();
    c.normalize = op.getNormalize();
    c.eps = op.getEps().convertToDouble();
    StepOperands ops;
    ops.q = op.getQuery();
    ops.k = op.getKey();
    fuseFeatureMap(ops.q, c.qMap);
    fuseFeatureMap(ops.k, c.kMap);
    ops.v = op.getValue();
    ops.gate = op.getGate();
    ops.stateIn = op.getStateIn();
    ops.normIn = op.getNormIn();
    emitAndReplace(rewriter, op, c, ops, op.getOut());
    return success();
  }
};

struct StepDeltaRuleForCpu : OpRewritePattern<DeltaRuleOp> {
  StepDeltaRuleForCpu(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(DeltaRuleOp op,
                                PatternRewriter &rewriter) const override {
    StepShape c;
    if (failed(stepShapeOf(rewriter, op, op.getQuery(), op.getValue(), c)))
      return failure();
    if (c.len > kStepMaxTokens)
      return rewriter.notifyMatchFailure(op, "long calls take the chunkwise kernel");
    c.family = StepFamily::Delta;
    c.gate = gateOf(op.getKind());
    c.kda = op.getKind() == DeltaKind::kda;
    c.l2norm = op.getL2norm();
    c.scale = op.getScale().convertToDouble();
    StepOperands ops;
    ops.q = op.getQuery();
    ops.k = op.getKey();
    ops.v = op.getValue();
    ops.gate = op.getGate();
    ops.beta = op.getBeta();
    ops.stateIn = op.getStateIn();
    emitAndReplace(rewriter, op, c, ops, op.getOut());
    return success();
  }
};

struct StepLogLinearForCpu : OpRewritePattern<LogLinearOp> {
  StepLogLinearForCpu(MLIRContext *ctx) : OpRewritePattern(ctx, /*benefit=*/2) {}
  LogicalResult matchAndRewrite(LogLinearOp op,
                                PatternRewriter &rewriter) const override {
    if (!op.isStreaming())
      return rewriter.notifyMatchFailure(op, "the whole-sequence form takes the chunkwise kernel");
    StepShape c;
    if (failed(stepShapeOf(rewriter, op, op.getQuery(), op.getValue(), c)))
      return failure();
    c.family = StepFamily::LogLinear;
    c.levels = op.getLambda().getType().getDimSize(3);
    c.gate = op.getBase() == LogLinearBase::linear ? StepGate::None : StepGate::PerToken;
    c.deltaLevels = op.getBase() == LogLinearBase::gated_deltanet;
    c.scale = op.getScale().convertToDouble();
    StepOperands ops;
    ops.q = op.getQuery();
    ops.k = op.getKey();
    ops.v = op.getValue();
    ops.gate = op.getGate();
    ops.beta = op.getBeta();
    ops.lambda = op.getLambda();
    ops.start = op.getStart();
    ops.stateIn = op.getStateIn();
    emitAndReplace(rewriter, op, c, ops, op.getOut());
    return success();
  }
};

} // namespace

void attn::populateCpuRecurrentStepPatterns(RewritePatternSet &patterns) {
  patterns.add<StepLinearAttentionForCpu, StepDeltaRuleForCpu, StepLogLinearForCpu>(
      patterns.getContext());
}
