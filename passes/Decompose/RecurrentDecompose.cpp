//===- RecurrentDecompose.cpp - decompose feature maps and recurrences ----===//
//
// This file implements the naive decompositions of attn.feature_map,
// attn.linear_attention and attn.delta_rule. The recurrences are spelled as
// docs/Rationale.md defines them: one scf.for over tokens carrying the f32
// state (and the normaliser, and the output being filled), each step a few
// linalg.generic ops on token slices. They are the oracle the chunked forms
// are compared with, so they follow lib/Reference's order of operations.
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
#include "mlir/Dialect/Utils/StaticValueUtils.h"
#include "mlir/IR/TypeUtilities.h"

using namespace mlir;
using namespace attn;

/// Row statistics of a softmax over the last axis of f32 `x` [B,H,L,J] (of
/// `-x` when `negate`): the row max m and the row sum of exp(x - m).
static std::pair<Value, Value> buildSoftmaxStats(NaiveBuilder &n, Value x,
                                                 bool negate) {
  SmallVector<OpFoldResult> sizes = n.sizes(x);
  SmallVector<OpFoldResult> rowSizes = {sizes[0], sizes[1], sizes[2]};
  AffineMap id = n.map(4, {n.d(0), n.d(1), n.d(2), n.d(3)});
  AffineMap row = n.map(4, {n.d(0), n.d(1), n.d(2)});
  auto signedX = [&](ImplicitLocOpBuilder &nb, Value v) -> Value {
    return negate ? arith::NegFOp::create(nb, v).getResult() : v;
  };
  Value rowMax =
      n.generic(n.filled(rowSizes, -std::numeric_limits<double>::infinity()),
                {x}, {id, row}, 4, {3},
                [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                  return arith::MaximumFOp::create(nb, signedX(nb, a[0]), a[1])
                      .getResult();
                });
  Value rowSum =
      n.generic(n.filled(rowSizes, 0.0), {x, rowMax}, {id, row, row}, 4, {3},
                [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                  Value diff =
                      arith::SubFOp::create(nb, signedX(nb, a[0]), a[1]);
                  Value e = math::ExpOp::create(nb, diff);
                  return arith::AddFOp::create(nb, a[2], e).getResult();
                });
  return {rowMax, rowSum};
}

namespace {

/// attn.feature_map -> one elementwise generic (identity, elu_plus_one,
/// relu), or for hedgehog the projection x W, two softmaxes over F/2 and
/// their concatenation [softmax(xW) || softmax(-xW)].
struct DecomposeFeatureMap : OpRewritePattern<FeatureMapOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(FeatureMapOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    Value x = op.getInput();
    SmallVector<OpFoldResult> sizes = n.sizes(x);
    AffineMap id = n.map(4, {d(0), d(1), d(2), d(3)});
    FeatureMapKind kind = op.getKind();

    if (kind != FeatureMapKind::hedgehog) {
      Value mapped = n.generic(
          n.empty(sizes, b.getF32Type()), {x}, {id, id}, 4, {},
          [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) -> Value {
            NaiveBuilder m(nb);
            Value e = m.toF32(a[0]);
            switch (kind) {
            case FeatureMapKind::elu_plus_one: {
              Value positive = arith::CmpFOp::create(
                  nb, arith::CmpFPredicate::OGT, e, m.f32(0.0));
              Value shifted = arith::AddFOp::create(nb, e, m.f32(1.0));
              Value exp = math::ExpOp::create(nb, e);
              return arith::SelectOp::create(nb, positive, shifted, exp);
            }
            case FeatureMapKind::relu:
              return arith::MaximumFOp::create(nb, e, m.f32(0.0));
            default:
              return e;
            }
          });
      rewriter.replaceOp(op, toResultType(n, mapped, op.getOutput().getType()));
      return success();
    }

    // proj[b,h,l,j] = sum_d x[b,h,l,d] W[h,d,j]           loops b,h,l,j,d
    Value weight = op.getWeight();
    OpFoldResult half = n.size(weight, 2);
    Value proj = n.generic(
        n.filled({sizes[0], sizes[1], sizes[2], half}, 0.0), {x, weight},
        {n.map(5, {d(0), d(1), d(2), d(4)}), n.map(5, {d(1), d(4), d(3)}),
         n.map(5, {d(0), d(1), d(2), d(3)})},
        5, {4}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          NaiveBuilder m(nb);
          Value prod = arith::MulFOp::create(nb, m.toF32(a[0]), m.toF32(a[1]));
          return arith::AddFOp::create(nb, a[2], prod).getResult();
        });
    // [softmax(xW) || softmax(-xW)] along the feature axis, F = 2 * F/2:
    // feature f < F/2 is exp(p_f - m+) / sum+, feature F/2 + j is
    // exp(-p_j - m-) / sum-.                            loops b,h,l,f
    auto [maxPos, sumPos] = buildSoftmaxStats(n, proj, /*negate=*/false);
    auto [maxNeg, sumNeg] = buildSoftmaxStats(n, proj, /*negate=*/true);
    Value halfV = getValueOrCreateConstantIndexOp(b, b.getLoc(), half);
    OpFoldResult feat;
    if (std::optional<int64_t> h = getConstantIntValue(half))
      feat = b.getIndexAttr(2 * *h);
    else
      feat = arith::MulIOp::create(b, halfV, n.index(2)).getResult();
    AffineMap row = n.map(4, {d(0), d(1), d(2)});
    Value concat = n.generic(
        n.empty({sizes[0], sizes[1], sizes[2], feat}, b.getF32Type()),
        {maxPos, sumPos, maxNeg, sumNeg}, {row, row, row, row, id}, 4, {},
        [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
          Value f = ivs[3];
          Value second =
              arith::CmpIOp::create(nb, arith::CmpIPredicate::uge, f, halfV);
          Value j = arith::SelectOp::create(
              nb, second, arith::SubIOp::create(nb, f, halfV), f);
          Value p = tensor::ExtractOp::create(
              nb, proj, ValueRange{ivs[0], ivs[1], ivs[2], j});
          Value x = arith::SelectOp::create(nb, second,
                                            arith::NegFOp::create(nb, p), p);
          Value m = arith::SelectOp::create(nb, second, a[2], a[0]);
          Value sum = arith::SelectOp::create(nb, second, a[3], a[1]);
          Value e = math::ExpOp::create(nb, arith::SubFOp::create(nb, x, m));
          return arith::DivFOp::create(nb, e, sum).getResult();
        });
    rewriter.replaceOp(op, toResultType(n, concat, op.getOutput().getType()));
    return success();
  }
};

/// Decay a_t of linear attention at step t: the gate slice to read and its
/// map in loops whose first axes are b, h (and f at `featureAxis`).
struct DecayOperand {
  Value gate;
  AffineMap map;
};

static DecayOperand decayOperandAt(NaiveBuilder &n, LinearAttentionOp op,
                                   Value t, unsigned numLoops,
                                   unsigned featureAxis) {
  Value gate = op.getGate();
  switch (op.getDecay()) {
  case DecayKind::none:
    return {};
  case DecayKind::constant: // g [H]
    return {gate, n.map(numLoops, {n.d(1)})};
  case DecayKind::scalar: // g_t [B,H,1]
    return {tokenAt(n, gate, t), tokenMap(n, numLoops, {n.d(0), n.d(1)})};
  case DecayKind::vector: // g_t [B,H,1,F], one decay per row f
    return {tokenAt(n, gate, t),
            tokenMap(n, numLoops, {n.d(0), n.d(1), n.d(featureAxis)})};
  }
  llvm_unreachable("unknown decay kind");
}

/// attn.linear_attention -> scf.for over tokens carrying S [B,H,F,Dv]
/// (and z [B,H,F]) in f32; each step decays and writes the state, then reads
/// it with the scaled query.
struct DecomposeLinearAttention : OpRewritePattern<LinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    bool normalize = op.getNormalize();
    double scale = op.getScale().convertToDouble();
    double eps = op.getEps().convertToDouble();
    OpFoldResult batch = n.size(q, 0), heads = n.size(q, 1),
                 feat = n.size(q, 3), dv = n.size(v, 3);
    Value len = getValueOrCreateConstantIndexOp(b, b.getLoc(), n.size(q, 2));

    SmallVector<Value> init = {n.filled(n.sizes(v), 0.0)};
    init.push_back(op.getStateIn() ? freshCopy(n, op.getStateIn())
                                   : n.filled({batch, heads, feat, dv}, 0.0));
    if (normalize)
      init.push_back(op.getNormIn() ? freshCopy(n, op.getNormIn())
                                    : n.filled({batch, heads, feat}, 0.0));

    ValueRange final = n.loop(
        n.index(0), len, init,
        [&](ImplicitLocOpBuilder &lb, Value t, ValueRange carried) {
          NaiveBuilder m(lb);
          Value out = carried[0], state = carried[1];
          Value qT = tokenAt(m, q, t), kT = tokenAt(m, k, t),
                vT = tokenAt(m, v, t);
          auto decayed = [&](ImplicitLocOpBuilder &nb, Value prev,
                             std::optional<Value> logDecay) -> Value {
            if (!logDecay)
              return prev;
            return arith::MulFOp::create(nb, math::ExpOp::create(nb, *logDecay),
                                         prev);
          };

          // S[f,e] = a_t[f] S[f,e] + k_t[f] v_t[e], in place  loops b,h,f,e
          DecayOperand gS = decayOperandAt(m, op, t, 4, 2);
          SmallVector<Value> ins = {kT, vT};
          SmallVector<AffineMap> maps = {tokenMap(m, 4, {d(0), d(1), d(2)}),
                                         tokenMap(m, 4, {d(0), d(1), d(3)})};
          if (gS.gate) {
            ins.push_back(gS.gate);
            maps.push_back(gS.map);
          }
          maps.push_back(m.map(4, {d(0), d(1), d(2), d(3)}));
          Value newState = m.generic(
              state, ins, maps, 4, {},
              [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                NaiveBuilder mm(nb);
                Value kept = decayed(
                    nb, a.back(), gS.gate ? std::optional(a[2]) : std::nullopt);
                Value kv =
                    arith::MulFOp::create(nb, mm.toF32(a[0]), mm.toF32(a[1]));
                return arith::AddFOp::create(nb, kept, kv).getResult();
              });

          // out_t[e] = sum_f (scale q_t[f]) S[f,e]           loops b,h,e,f
          Value outT = m.generic(
              zeroedTokenSlot(m, out, t), {qT, newState},
              {tokenMap(m, 4, {d(0), d(1), d(3)}),
               m.map(4, {d(0), d(1), d(3), d(2)}),
               tokenMap(m, 4, {d(0), d(1), d(2)})},
              4, {3}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                NaiveBuilder mm(nb);
                Value qs =
                    arith::MulFOp::create(nb, mm.f32(scale), mm.toF32(a[0]));
                Value prod = arith::MulFOp::create(nb, qs, a[1]);
                return arith::AddFOp::create(nb, a[2], prod).getResult();
              });

          SmallVector<Value> next = {Value(), newState};
          if (normalize) {
            // z[f] = a_t[f] z[f] + k_t[f], in place          loops b,h,f
            DecayOperand gZ = decayOperandAt(m, op, t, 3, 2);
            AffineMap id3 = m.map(3, {d(0), d(1), d(2)});
            AffineMap token3 = tokenMap(m, 3, {d(0), d(1), d(2)});
            AffineMap bh = m.map(3, {d(0), d(1)});
            SmallVector<Value> zIns = {kT};
            SmallVector<AffineMap> zMaps = {token3};
            if (gZ.gate) {
              zIns.push_back(gZ.gate);
              zMaps.push_back(gZ.map);
            }
            zMaps.push_back(id3);
            Value newNorm = m.generic(
                carried[2], zIns, zMaps, 3, {},
                [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                  NaiveBuilder mm(nb);
                  Value kept =
                      decayed(nb, a.back(),
                              gZ.gate ? std::optional(a[1]) : std::nullopt);
                  return arith::AddFOp::create(nb, kept, mm.toF32(a[0]))
                      .getResult();
                });
            // den = sum_f (scale q_t[f]) z[f] + eps          loops b,h,f
            Value dot = m.generic(
                m.filled({batch, heads}, 0.0), {qT, newNorm}, {token3, id3, bh},
                3, {2},
                [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                  NaiveBuilder mm(nb);
                  Value qs =
                      arith::MulFOp::create(nb, mm.f32(scale), mm.toF32(a[0]));
                  Value prod = arith::MulFOp::create(nb, qs, a[1]);
                  return arith::AddFOp::create(nb, a[2], prod).getResult();
                });
            outT = m.generic(
                outT, {dot}, {bh, token3}, 3, {},
                [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                  NaiveBuilder mm(nb);
                  Value den = arith::AddFOp::create(nb, a[0], mm.f32(eps));
                  return arith::DivFOp::create(nb, a[1], den).getResult();
                });
            next.push_back(newNorm);
          }
          next[0] = insertToken(m, outT, out, t);
          return next;
        });

    SmallVector<Value> results = {
        toResultType(n, final[0], op.getOut().getType())};
    if (Value stateOut = op.getStateOut())
      results.push_back(toResultType(n, final[1], stateOut.getType()));
    if (Value normOut = op.getNormOut())
      results.push_back(toResultType(n, final[2], normOut.getType()));
    rewriter.replaceOp(op, results);
    return success();
  }
};

/// attn.delta_rule -> l2norm of q and k (when asked), then scf.for over
/// tokens carrying S [B,H,D,Dv] in f32: the KDA row decay, the delta-rule
/// transition and write, and out_t = S_t^T (scale q_t).
struct DecomposeDeltaRule : OpRewritePattern<DeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(DeltaRuleOp op,
                                PatternRewriter &rewriter) const override {
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    Value q = op.getQuery(), k = op.getKey(), v = op.getValue();
    Value beta = op.getBeta(), gate = op.getGate();
    DeltaKind kind = op.getKind();
    double scale = op.getScale().convertToDouble();
    OpFoldResult batch = n.size(q, 0), heads = n.size(q, 1), dk = n.size(q, 3),
                 dv = n.size(v, 3);
    Value len = getValueOrCreateConstantIndexOp(b, b.getLoc(), n.size(q, 2));
    if (op.getL2norm()) {
      q = buildL2Normalize(n, q);
      k = buildL2Normalize(n, k);
    }

    SmallVector<Value> init = {n.filled(n.sizes(v), 0.0)};
    init.push_back(op.getStateIn() ? freshCopy(n, op.getStateIn())
                                   : n.filled({batch, heads, dk, dv}, 0.0));
    ValueRange final = n.loop(
        n.index(0), len, init,
        [&](ImplicitLocOpBuilder &lb, Value t, ValueRange carried) {
          NaiveBuilder m(lb);
          Value state = carried[1];
          Value qT = tokenAt(m, q, t), kT = tokenAt(m, k, t),
                vT = tokenAt(m, v, t), betaT = tokenAt(m, beta, t);
          AffineMap id4 = m.map(4, {d(0), d(1), d(2), d(3)});
          if (kind == DeltaKind::kda) {
            // KDA decays the rows of S before the projection:
            // S[d,e] = exp(g_t[d]) S[d,e], in place          loops b,h,d,e
            state = m.generic(
                state, {tokenAt(m, gate, t)},
                {tokenMap(m, 4, {d(0), d(1), d(2)}), id4}, 4, {},
                [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                  Value decay = math::ExpOp::create(nb, a[0]);
                  return arith::MulFOp::create(nb, decay, a[1]).getResult();
                });
          }
          Value logDecay =
              kind == DeltaKind::gated ? tokenAt(m, gate, t) : Value();
          state = buildDeltaStep(m, state, kT, vT, betaT, logDecay,
                                 /*levels=*/false);

          // out_t[e] = sum_d (scale q_t[d]) S[d,e]           loops b,h,e,d
          Value outT = m.generic(
              zeroedTokenSlot(m, carried[0], t), {qT, state},
              {tokenMap(m, 4, {d(0), d(1), d(3)}),
               m.map(4, {d(0), d(1), d(3), d(2)}),
               tokenMap(m, 4, {d(0), d(1), d(2)})},
              4, {3}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
                NaiveBuilder mm(nb);
                Value sq =
                    arith::MulFOp::create(nb, mm.f32(scale), mm.toF32(a[0]));
                Value prod = arith::MulFOp::create(nb, sq, a[1]);
                return arith::AddFOp::create(nb, a[2], prod).getResult();
              });
          Value out = insertToken(m, outT, carried[0], t);
          return SmallVector<Value>{out, state};
        });

    SmallVector<Value> results = {
        toResultType(n, final[0], op.getOut().getType())};
    if (Value stateOut = op.getStateOut())
      results.push_back(toResultType(n, final[1], stateOut.getType()));
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void attn::populateRecurrentDecompositions(RewritePatternSet &patterns) {
  patterns
      .add<DecomposeFeatureMap, DecomposeLinearAttention, DecomposeDeltaRule>(
          patterns.getContext());
}
