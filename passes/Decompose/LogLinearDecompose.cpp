//===- LogLinearDecompose.cpp - decompose log_linear and lolcats_hybrid ---===//
//
// This file implements the naive decompositions of attn.log_linear and
// attn.lolcats_hybrid. Both are written the way docs/Rationale.md defines
// them: the linear and mamba2 bases of log_linear, and lolcats_hybrid, as
// quadratic [L, L] weight matrices; the gated_deltanet base of log_linear,
// which has no quadratic form, as the per-level recurrence with binary
// carries. lib/Reference computes the same things the same ways.
//
//===----------------------------------------------------------------------===//

#include "Patterns.h"
#include "RecurrentCore.h"

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

#include <cmath>

using namespace mlir;
using namespace attn;

/// scores[b,h,i,j] = sum_d x[b,h,i,d] y[b,h,j,d] in f32.  loops b,h,i,j,d
static Value buildTokenDots(NaiveBuilder &n, Value x, Value y) {
  auto d = [&](unsigned i) { return n.d(i); };
  return n.generic(
      n.filled({n.size(x, 0), n.size(x, 1), n.size(x, 2), n.size(y, 2)}, 0.0),
      {x, y},
      {n.map(5, {d(0), d(1), d(2), d(4)}), n.map(5, {d(0), d(1), d(3), d(4)}),
       n.map(5, {d(0), d(1), d(2), d(3)})},
      5, {4}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value prod = arith::MulFOp::create(nb, m.toF32(a[0]), m.toF32(a[1]));
        return arith::AddFOp::create(nb, a[2], prod).getResult();
      });
}

/// out[b,h,i,e] = sum_j w[b,h,i,j] v[b,h,j,e] in f32.      loops b,h,i,e,j
static Value buildWeightedValues(NaiveBuilder &n, Value weights, Value value) {
  auto d = [&](unsigned i) { return n.d(i); };
  return n.generic(
      n.filled({n.size(weights, 0), n.size(weights, 1), n.size(weights, 2),
                n.size(value, 3)},
               0.0),
      {weights, value},
      {n.map(5, {d(0), d(1), d(2), d(4)}), n.map(5, {d(0), d(1), d(4), d(3)}),
       n.map(5, {d(0), d(1), d(2), d(3)})},
      5, {4}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
        NaiveBuilder m(nb);
        Value prod = arith::MulFOp::create(nb, a[0], m.toF32(a[1]));
        return arith::AddFOp::create(nb, a[2], prod).getResult();
      });
}

namespace {

/// attn.log_linear, linear and mamba2 bases -> the quadratic formula
///
///     out_t = sum_{s<=t} lambda[t, lev(t,s)] (scale q_t.k_s) decay(t,s) v_s
///
/// with lev(t,s) = bit_length(t XOR s) and, for mamba2,
/// decay(t,s) = exp(sum_{r=s+1..t} g_r); gated_deltanet -> the recurrent
/// level form: states [B,H,NLEV,D,Dv] carried over tokens, binary carries,
/// the delta-rule transition on every level, the token written into level 0,
/// out_t = sum_l lambda[t,l] S_l^T (scale q_t). The streaming form (states in
/// or out, start positions) takes the recurrent form for every base.
struct DecomposeLogLinear : OpRewritePattern<LogLinearOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LogLinearOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    if (op.getBase() != LogLinearBase::gated_deltanet && !op.isStreaming()) {
      Value out = buildQuadratic(n, op);
      rewriter.replaceOp(op, toResultType(n, out, op.getOut().getType()));
      return success();
    }
    auto [out, states] = buildRecurrent(n, op);
    SmallVector<Value> results = {toResultType(n, out, op.getOut().getType())};
    if (Value stateOut = op.getStateOut())
      results.push_back(toResultType(n, states, stateOut.getType()));
    rewriter.replaceOp(op, results);
    return success();
  }

private:
  static Value buildQuadratic(NaiveBuilder &n, LogLinearOp op) {
    ImplicitLocOpBuilder &b = n.builder();
    auto d = [&](unsigned i) { return n.d(i); };
    Value q = op.getQuery(), k = op.getKey(), lambda = op.getLambda();
    Value gate = op.getGate();
    double scale = op.getScale().convertToDouble();
    Value scores = buildTokenDots(n, q, k);
    SmallVector<OpFoldResult> square = n.sizes(scores);
    AffineMap id4 = n.map(4, {d(0), d(1), d(2), d(3)});

    // logDecay[b,h,t,s] = sum_{r=s+1..t} g[b,h,r], summed as written (a
    // difference of prefix sums would cancel)         loops b,h,t,s,r
    Value logDecay;
    if (gate)
      logDecay = n.generic(
          n.filled(square, 0.0), {gate},
          {n.map(5, {d(0), d(1), d(4)}), n.map(5, {d(0), d(1), d(2), d(3)})}, 5,
          {4}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
            Value t = ivs[2], s = ivs[3], r = ivs[4];
            Value after =
                arith::CmpIOp::create(nb, arith::CmpIPredicate::ult, s, r);
            Value upTo =
                arith::CmpIOp::create(nb, arith::CmpIPredicate::ule, r, t);
            Value inRange = arith::AndIOp::create(nb, after, upTo);
            Value sum = arith::AddFOp::create(nb, a[1], a[0]);
            return arith::SelectOp::create(nb, inRange, sum, a[1]).getResult();
          });

    // w[b,h,t,s] = lambda[b,h,t,lev(t,s)] scale score decay, 0 for s > t.
    SmallVector<Value> ins = {scores};
    if (logDecay)
      ins.push_back(logDecay);
    SmallVector<AffineMap> maps(ins.size() + 1, id4);
    Value weights = n.generic(
        n.empty(square, b.getF32Type()), ins, maps, 4, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
          NaiveBuilder m(nb);
          Value t = ivs[2], s = ivs[3];
          Value causal =
              arith::CmpIOp::create(nb, arith::CmpIPredicate::ule, s, t);
          // Levels of s > t are never read; index level 0 there so the
          // load stays inside lambda.
          Value level = arith::SelectOp::create(
              nb, causal, buildFenwickLevel(nb, t, s), m.index(0));
          Value lam = tensor::ExtractOp::create(
              nb, lambda, ValueRange{ivs[0], ivs[1], t, level});
          Value w = arith::MulFOp::create(
              nb, arith::MulFOp::create(nb, lam, m.f32(scale)), a[0]);
          if (logDecay)
            w = arith::MulFOp::create(nb, w, math::ExpOp::create(nb, a[1]));
          return arith::SelectOp::create(nb, causal, w, m.f32(0.0)).getResult();
        });
    return buildWeightedValues(n, weights, op.getValue());
  }

  /// The recurrent level form; returns (out, final level states).
  static std::pair<Value, Value> buildRecurrent(NaiveBuilder &n, LogLinearOp op) {
    ImplicitLocOpBuilder &b = n.builder();
    auto d = [&](unsigned i) { return n.d(i); };
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    Value lambda = op.getLambda(), start = op.getStart();
    double scale = op.getScale().convertToDouble();
    OpFoldResult batch = n.size(q, 0), heads = n.size(q, 1), dk = n.size(q, 3),
                 dv = n.size(v, 3), levels = n.size(lambda, 3);
    Value len = getValueOrCreateConstantIndexOp(b, b.getLoc(), n.size(q, 2));
    Value lastLevel = arith::SubIOp::create(
        b, getValueOrCreateConstantIndexOp(b, b.getLoc(), levels), n.index(1));
    AffineMap id5 = n.map(5, {d(0), d(1), d(2), d(3), d(4)});
    AffineMap matrix = n.map(5, {d(0), d(1), d(3), d(4)});

    Value initStates = op.getStateIn()
                           ? freshCopy(n, op.getStateIn())
                           : n.filled({batch, heads, levels, dk, dv}, 0.0);
    SmallVector<Value> init = {n.filled(n.sizes(v), 0.0), initStates};
    ValueRange final = n.loop(
        n.index(0), len, init,
        [&](ImplicitLocOpBuilder &lb, Value t, ValueRange carried) {
          NaiveBuilder m(lb);
          Value states = carried[1];
          // Binary carry at absolute position p = start[b] + t: for p >= 1,
          // c = bit_length(p XOR (p-1)) (capped at the last level) and the
          // levels below c merge into level c; at p = 0 nothing carries.
          auto levelAt = [&](ImplicitLocOpBuilder &nb, Value row) -> Value {
            NaiveBuilder mm(nb);
            Value pos = t;
            if (start) {
              Value s0 = tensor::ExtractOp::create(nb, start, ValueRange{row});
              s0 = arith::MaxSIOp::create(nb, s0, arith::ConstantIntOp::create(nb, 0, 32));
              pos = arith::AddIOp::create(
                  nb, t, arith::IndexCastOp::create(nb, nb.getIndexType(), s0));
            }
            Value first = arith::CmpIOp::create(nb, arith::CmpIPredicate::eq, pos,
                                                mm.index(0));
            Value prev = arith::SubIOp::create(nb, pos, mm.index(1));
            Value c = arith::SelectOp::create(nb, first, mm.index(0),
                                              buildFenwickLevel(nb, pos, prev));
            // Only the streaming form can run past its levels.
            if (op.isStreaming())
              c = arith::MinSIOp::create(nb, c, lastLevel);
            return c;
          };
          // Without start positions every batch row carries alike: once per
          // token, outside the level loops.
          Value shared = start ? Value() : levelAt(lb, Value());
          auto carryLevel = [&](ImplicitLocOpBuilder &nb, Value row) -> Value {
            return shared ? shared : levelAt(nb, row);
          };
          // below[d,e] = sum_{l<c} S_l[d,e]                  loops b,h,l,d,e
          Value below = m.generic(
              m.filled({batch, heads, dk, dv}, 0.0), {states}, {id5, matrix}, 5,
              {2}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
                Value c = carryLevel(nb, ivs[0]);
                Value under = arith::CmpIOp::create(
                    nb, arith::CmpIPredicate::ult, ivs[2], c);
                Value sum = arith::AddFOp::create(nb, a[1], a[0]);
                return arith::SelectOp::create(nb, under, sum, a[1])
                    .getResult();
              });
          // S_l = 0 for l < c, S_c + below for l = c, S_l above; in place.
          states = m.generic(
              states, {below}, {matrix, id5}, 5, {},
              [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
                NaiveBuilder mm(nb);
                Value l = ivs[2], c = carryLevel(nb, ivs[0]);
                Value under =
                    arith::CmpIOp::create(nb, arith::CmpIPredicate::ult, l, c);
                Value atC =
                    arith::CmpIOp::create(nb, arith::CmpIPredicate::eq, l, c);
                Value merged = arith::AddFOp::create(nb, a[1], a[0]);
                Value kept = arith::SelectOp::create(nb, atC, merged, a[1]);
                return arith::SelectOp::create(nb, under, mm.f32(0.0), kept)
                    .getResult();
              });

          Value kT = tokenAt(m, k, t), vT = tokenAt(m, v, t);
          Value gT = op.getGate() ? tokenAt(m, op.getGate(), t) : Value();
          if (op.getBase() == LogLinearBase::gated_deltanet) {
            states = buildDeltaStep(m, states, kT, vT, tokenAt(m, op.getBeta(), t),
                                    gT, /*levels=*/true);
          } else {
            // S_l <- a S_l on every level, S_0 += k v^T (a = exp(g) or 1).
            SmallVector<Value> ins = {kT, vT};
            SmallVector<AffineMap> maps = {tokenMap(m, 5, {d(0), d(1), d(3)}),
                                           tokenMap(m, 5, {d(0), d(1), d(4)})};
            if (gT) {
              ins.push_back(gT);
              maps.push_back(tokenMap(m, 5, {d(0), d(1)}));
            }
            maps.push_back(id5);
            states = m.generic(
                states, ins, maps, 5, {},
                [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
                  NaiveBuilder mm(nb);
                  Value s = a.back();
                  if (gT)
                    s = arith::MulFOp::create(nb, s, math::ExpOp::create(nb, a[2]));
                  Value kv = arith::MulFOp::create(nb, mm.toF32(a[0]), mm.toF32(a[1]));
                  Value level0 = arith::CmpIOp::create(nb, arith::CmpIPredicate::eq,
                                                       ivs[2], mm.index(0));
                  Value written = arith::AddFOp::create(nb, s, kv);
                  return arith::SelectOp::create(nb, level0, written, s).getResult();
                });
          }

          // out_t[e] = sum_{l,d} lambda[t,l] (scale q_t[d]) S_l[d,e]
          //                                                  loops b,h,l,d,e
          Value outT = m.generic(
              zeroedTokenSlot(m, carried[0], t),
              {tokenAt(m, lambda, t), tokenAt(m, q, t), states},
              {tokenMap(m, 5, {d(0), d(1), d(2)}),
               tokenMap(m, 5, {d(0), d(1), d(3)}), id5,
               tokenMap(m, 5, {d(0), d(1), d(4)})},
              5, {2, 3},
              [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                NaiveBuilder mm(nb);
                Value w = arith::MulFOp::create(
                    nb, arith::MulFOp::create(nb, a[0], mm.f32(scale)),
                    mm.toF32(a[1]));
                Value prod = arith::MulFOp::create(nb, w, a[2]);
                return arith::AddFOp::create(nb, a[3], prod).getResult();
              });
          Value out = insertToken(m, outT, carried[0], t);
          return SmallVector<Value>{out, states};
        });
    return {final[0], final[1]};
  }
};

/// First key of query n's softmax window: n - w + 1 (sliding) or the start
/// of the previous w-block (terrace), clamped at 0. Older keys are linear.
static Value windowStart(ImplicitLocOpBuilder &b, Value query, int64_t window,
                         HybridWindowKind mode) {
  NaiveBuilder n(b);
  Value start;
  if (mode == HybridWindowKind::sliding) {
    start = arith::SubIOp::create(b, query, n.index(window - 1));
  } else {
    Value block = arith::DivUIOp::create(b, query, n.index(window));
    start = arith::MulIOp::create(
        b, arith::SubIOp::create(b, block, n.index(1)), n.index(window));
  }
  return arith::MaxSIOp::create(b, start, n.index(0));
}

/// attn.lolcats_hybrid -> the quadratic form of OPS.md section 5: window
/// logits scale q.k with their max over the window, linear terms fq.fk
/// (unscaled by the max) over the older keys, one weight matrix p, and
/// out = (p V) / (sum p).
struct DecomposeLolcatsHybrid : OpRewritePattern<LolcatsHybridOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LolcatsHybridOp op,
                                PatternRewriter &rewriter) const override {
    double scale;
    if (std::optional<APFloat> given = op.getScale()) {
      scale = given->convertToDouble();
    } else {
      FailureOr<int64_t> dim = staticDim(rewriter, op, op.getQuery(), 3,
                                         "D (for the default scale)");
      if (failed(dim))
        return failure();
      scale = 1.0 / std::sqrt(double(*dim));
    }
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    int64_t window = op.getWindow();
    HybridWindowKind mode = op.getMode();

    Value logits = buildTokenDots(n, op.getQuery(), op.getKey());
    Value linear = buildTokenDots(n, op.getFeatureQuery(), op.getFeatureKey());
    SmallVector<OpFoldResult> square = n.sizes(logits);
    SmallVector<OpFoldResult> rows = {square[0], square[1], square[2]};
    AffineMap id4 = n.map(4, {d(0), d(1), d(2), d(3)});
    AffineMap row = n.map(4, {d(0), d(1), d(2)});
    // Key i is in query j's window when start(j) <= i <= j.
    auto inWindow = [&](ImplicitLocOpBuilder &nb, Value start, Value j,
                        Value i) -> Value {
      Value fromStart =
          arith::CmpIOp::create(nb, arith::CmpIPredicate::sle, start, i);
      Value causal = arith::CmpIOp::create(nb, arith::CmpIPredicate::sle, i, j);
      return arith::AndIOp::create(nb, fromStart, causal);
    };

    // c[b,h,j] = max over the window of scale q.k        loops b,h,j,i
    Value windowMax =
        n.generic(n.filled(rows, -std::numeric_limits<double>::infinity()),
                  {logits}, {id4, row}, 4, {3},
                  [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
                    NaiveBuilder m(nb);
                    Value j = ivs[2], i = ivs[3];
                    Value start = windowStart(nb, j, window, mode);
                    Value s = arith::MulFOp::create(nb, m.f32(scale), a[0]);
                    Value max = arith::MaximumFOp::create(nb, a[1], s);
                    return arith::SelectOp::create(
                               nb, inWindow(nb, start, j, i), max, a[1])
                        .getResult();
                  });

    // p = sigmoid(gamma[h]) exp(s - c) in the window, fq.fk for older keys,
    // 0 for future keys.                                   loops b,h,j,i
    Value weights = n.generic(
        n.empty(square, b.getF32Type()),
        {logits, linear, windowMax, op.getGamma()},
        {id4, id4, row, n.map(4, {d(1)}), id4}, 4, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
          NaiveBuilder m(nb);
          Value j = ivs[2], i = ivs[3];
          Value sigmoid = arith::DivFOp::create(
              nb, m.f32(1.0),
              arith::AddFOp::create(
                  nb, m.f32(1.0),
                  math::ExpOp::create(nb, arith::NegFOp::create(nb, a[3]))));
          Value s = arith::MulFOp::create(nb, m.f32(scale), a[0]);
          Value softmaxTerm = arith::MulFOp::create(
              nb, sigmoid,
              math::ExpOp::create(nb, arith::SubFOp::create(nb, s, a[2])));
          Value start = windowStart(nb, j, window, mode);
          Value older =
              arith::CmpIOp::create(nb, arith::CmpIPredicate::slt, i, start);
          Value other = arith::SelectOp::create(nb, older, a[1], m.f32(0.0));
          return arith::SelectOp::create(nb, inWindow(nb, start, j, i),
                                         softmaxTerm, other)
              .getResult();
        });

    Value num = buildWeightedValues(n, weights, op.getValue());
    Value den =
        n.generic(n.filled(rows, 0.0), {weights}, {id4, row}, 4, {3},
                  [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                    return arith::AddFOp::create(nb, a[1], a[0]).getResult();
                  });
    Value out = n.generic(
        n.empty(n.sizes(num), b.getF32Type()), {num, den}, {id4, row, id4}, 4,
        {}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          return arith::DivFOp::create(nb, a[0], a[1]).getResult();
        });
    rewriter.replaceOp(op, toResultType(n, out, op.getOut().getType()));
    return success();
  }
};

} // namespace

namespace {

/// attn.lolcats_decode -> the eviction into the linear terms, the ring slot
/// written, then the sliding hybrid's output over the valid window slots,
/// in the order lib/Reference/LinearAttention.cpp's lolcatsDecode uses.
struct DecomposeLolcatsDecode : OpRewritePattern<LolcatsDecodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LolcatsDecodeOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    Value position = op.getPosition();
    Value window = getValueOrCreateConstantIndexOp(
        b, b.getLoc(), n.size(op.getWindowKey(), 2));
    int64_t dim = op.getQuery().getType().getDimSize(3);
    double scale = op.getScale() ? op.getScale()->convertToDouble()
                                 : 1.0 / std::sqrt(double(dim));
    // Token p = max(position[b], 0) goes to slot p mod W; p - W leaves.
    struct Step {
      Value slot, evicts, count;
    };
    auto stepOf = [&](ImplicitLocOpBuilder &nb, Value row) {
      NaiveBuilder m(nb);
      Value raw = tensor::ExtractOp::create(nb, position, ValueRange{row});
      raw = arith::MaxSIOp::create(nb, raw, arith::ConstantIntOp::create(nb, 0, 32));
      Value p = arith::IndexCastOp::create(nb, nb.getIndexType(), raw);
      Value next = arith::AddIOp::create(nb, p, m.index(1));
      return Step{arith::RemUIOp::create(nb, p, window),
                  arith::CmpIOp::create(nb, arith::CmpIPredicate::uge, p, window),
                  arith::MinSIOp::create(nb, next, window)};
    };
    AffineMap id3 = n.map(3, {d(0), d(1), d(2)});
    AffineMap id4 = n.map(4, {d(0), d(1), d(2), d(3)});
    Value wk = op.getWindowKey(), wv = op.getWindowValue(),
          wf = op.getWindowFeature();

    // state[b,h,f,e] += phi_k v^T of the evicted slot.       loops b,h,f,e
    Value state = n.generic(
        n.empty(n.sizes(op.getState()), b.getF32Type()), {op.getState()},
        {id4, id4}, 4, {}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
          Step s = stepOf(nb, ivs[0]);
          Value fo = tensor::ExtractOp::create(nb, wf, ValueRange{ivs[0], ivs[1], s.slot, ivs[2]});
          Value vo = tensor::ExtractOp::create(nb, wv, ValueRange{ivs[0], ivs[1], s.slot, ivs[3]});
          Value add = arith::AddFOp::create(nb, a[0], arith::MulFOp::create(nb, fo, vo));
          return arith::SelectOp::create(nb, s.evicts, add, a[0]).getResult();
        });
    // norm[b,h,f] += phi_k of the evicted slot.                loops b,h,f
    Value norm = n.generic(
        n.empty(n.sizes(op.getNorm()), b.getF32Type()), {op.getNorm()}, {id3, id3}, 3,
        {}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
          Step s = stepOf(nb, ivs[0]);
          Value fo = tensor::ExtractOp::create(nb, wf, ValueRange{ivs[0], ivs[1], s.slot, ivs[2]});
          Value add = arith::AddFOp::create(nb, a[0], fo);
          return arith::SelectOp::create(nb, s.evicts, add, a[0]).getResult();
        });
    // The ring slot takes the new token.                       loops b,h,j,x
    auto write = [&](Value ring, Value token) {
      return n.generic(
          n.empty(n.sizes(ring), b.getF32Type()), {ring}, {id4, id4}, 4, {},
          [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
            NaiveBuilder m(nb);
            Step s = stepOf(nb, ivs[0]);
            Value here = arith::CmpIOp::create(nb, arith::CmpIPredicate::eq, ivs[2], s.slot);
            Value x = tensor::ExtractOp::create(nb, token,
                                                ValueRange{ivs[0], ivs[1], m.index(0), ivs[3]});
            return arith::SelectOp::create(nb, here, m.toF32(x), a[0]).getResult();
          });
    };
    wk = write(wk, op.getKey());
    wv = write(wv, op.getValue());
    wf = write(wf, op.getFeatureKey());

    // s[b,h,j] = scale q . k_j, -inf past the valid slots.   loops b,h,j,d
    OpFoldResult batch = n.size(wk, 0), heads = n.size(wk, 1), slots = n.size(wk, 2);
    Value dots = n.generic(
        n.filled({batch, heads, slots}, 0.0), {op.getQuery(), wk},
        {tokenMap(n, 4, {d(0), d(1), d(3)}), id4, n.map(4, {d(0), d(1), d(2)})}, 4,
        {3}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          NaiveBuilder m(nb);
          return arith::AddFOp::create(
                     nb, a[2], arith::MulFOp::create(nb, m.toF32(a[0]), a[1]))
              .getResult();
        });
    Value scores = n.generic(
        n.empty({batch, heads, slots}, b.getF32Type()), {dots}, {id3, id3}, 3, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
          NaiveBuilder m(nb);
          Step s = stepOf(nb, ivs[0]);
          Value valid = arith::CmpIOp::create(nb, arith::CmpIPredicate::ult, ivs[2], s.count);
          Value x = arith::MulFOp::create(nb, a[0], m.f32(scale));
          return arith::SelectOp::create(nb, valid, x, m.negInf()).getResult();
        });
    AffineMap row3 = n.map(3, {d(0), d(1)});
    Value cmax = n.generic(
        n.filled({batch, heads}, -std::numeric_limits<double>::infinity()), {scores},
        {id3, row3}, 3, {2}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          return arith::MaximumFOp::create(nb, a[0], a[1]).getResult();
        });
    // p_j = sigmoid(gamma[h]) exp(s_j - max), 0 past the valid slots.
    auto windowWeight = [&](ImplicitLocOpBuilder &nb, Value sj, Value mx, Value g) {
      NaiveBuilder m(nb);
      Value masked = arith::CmpFOp::create(nb, arith::CmpFPredicate::OEQ, sj, m.negInf());
      Value sig = arith::DivFOp::create(
          nb, m.f32(1.0),
          arith::AddFOp::create(nb, m.f32(1.0),
                                math::ExpOp::create(nb, arith::NegFOp::create(nb, g))));
      Value e = math::ExpOp::create(nb, arith::SubFOp::create(nb, sj, mx));
      return arith::SelectOp::create(nb, masked, m.f32(0.0),
                                     arith::MulFOp::create(nb, sig, e))
          .getResult();
    };
    // num[b,h,e] = sum_j p_j v_j + sum_f phi_q[f] state[f,e]  loops b,h,e,j|f
    Value numW = n.generic(
        n.filled({batch, heads, n.size(wv, 3)}, 0.0), {scores, cmax, op.getGamma(), wv},
        {n.map(4, {d(0), d(1), d(3)}), n.map(4, {d(0), d(1)}), n.map(4, {d(1)}),
         n.map(4, {d(0), d(1), d(3), d(2)}), n.map(4, {d(0), d(1), d(2)})},
        4, {3}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          Value w = windowWeight(nb, a[0], a[1], a[2]);
          return arith::AddFOp::create(nb, a[4], arith::MulFOp::create(nb, w, a[3]))
              .getResult();
        });
    Value num = n.generic(
        numW, {op.getFeatureQuery(), state},
        {tokenMap(n, 4, {d(0), d(1), d(3)}), n.map(4, {d(0), d(1), d(3), d(2)}),
         n.map(4, {d(0), d(1), d(2)})},
        4, {3}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          NaiveBuilder m(nb);
          return arith::AddFOp::create(
                     nb, a[2], arith::MulFOp::create(nb, m.toF32(a[0]), a[1]))
              .getResult();
        });
    // den[b,h] = sum_j p_j + sum_f phi_q[f] norm[f]          loops b,h,j|f
    Value denW = n.generic(
        n.filled({batch, heads}, 0.0), {scores, cmax, op.getGamma()},
        {id3, row3, n.map(3, {d(1)}), row3}, 3, {2},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          return arith::AddFOp::create(nb, a[3], windowWeight(nb, a[0], a[1], a[2]))
              .getResult();
        });
    Value den = n.generic(
        denW, {op.getFeatureQuery(), norm},
        {tokenMap(n, 3, {d(0), d(1), d(2)}), id3, row3}, 3, {2},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          NaiveBuilder m(nb);
          return arith::AddFOp::create(
                     nb, a[2], arith::MulFOp::create(nb, m.toF32(a[0]), a[1]))
              .getResult();
        });
    // out[b,h,0,e] = num / den.                            loops b,h,1,e
    Value out = n.generic(
        n.empty(n.sizes(op.getOut()), b.getF32Type()), {num, den},
        {n.map(4, {d(0), d(1), d(3)}), n.map(4, {d(0), d(1)}), id4}, 4, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          return arith::DivFOp::create(nb, a[0], a[1]).getResult();
        });
    rewriter.replaceOp(op, {toResultType(n, out, op.getOut().getType()), state, norm,
                            wk, wv, wf});
    return success();
  }
};

} // namespace

void attn::populateLogLinearDecompositions(RewritePatternSet &patterns) {
  patterns.add<DecomposeLogLinear, DecomposeLolcatsHybrid, DecomposeLolcatsDecode>(
      patterns.getContext());
}
