//===- RecurrentTest.cpp - Tests of the recurrent reference ops -------------===//
//
// feature_map, linear_attention, delta_rule, log_linear and lolcats_hybrid:
// quadratic and recurrent forms written here, chunked equals one call, and
// log-linear with unit lambdas equals its base op.
// Inputs are random and non-zero, shapes odd (L = 1, L = 37, D = 96, G = 7).
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

using namespace attn::reference;
using namespace attn::reference::testing;

namespace {

//===----------------------------------------------------------------------===//
// feature_map, linear_attention
//===----------------------------------------------------------------------===//

TEST(FeatureMap, ElementwiseKinds) {
  Random rng(11);
  RefTensor x = rng.tensor({1, 2, 3, 5}, -2.0, 2.0);
  RefTensor id = featureMap(x, {FeatureMapKind::Identity}).out;
  RefTensor elu = featureMap(x, {FeatureMapKind::EluPlusOne}).out;
  RefTensor relu = featureMap(x, {FeatureMapKind::Relu}).out;
  for (size_t i = 0; i < x.data.size(); ++i) {
    double e = x.data[i];
    EXPECT_EQ(id.data[i], e);
    EXPECT_DOUBLE_EQ(elu.data[i], e > 0 ? e + 1 : std::exp(e));
    EXPECT_EQ(relu.data[i], e > 0 ? e : 0.0);
  }
}

// Hedgehog: [softmax(x W) || softmax(-x W)] per head, F = 2 * F/2.
TEST(FeatureMap, HedgehogIsTwoSoftmaxes) {
  Random rng(12);
  int64_t H = 2, D = 5, half = 3;
  RefTensor x = rng.tensor({1, H, 4, D}), w = rng.tensor({H, D, half});
  FeatureMapParams p{FeatureMapKind::Hedgehog, &w};
  RefTensor f = featureMap(x, p).out;
  ASSERT_EQ(f.shape, (std::vector<int64_t>{1, H, 4, 2 * half}));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < 4; ++t) {
      double y[3], sp = 0, sn = 0;
      for (int64_t a = 0; a < half; ++a) {
        y[a] = 0;
        for (int64_t d = 0; d < D; ++d)
          y[a] += x(0, h, t, d) * w(h, d, a);
        sp += std::exp(y[a]);
        sn += std::exp(-y[a]);
      }
      for (int64_t a = 0; a < half; ++a) {
        EXPECT_NEAR(f(0, h, t, a), std::exp(y[a]) / sp, 1e-14);
        EXPECT_NEAR(f(0, h, t, half + a), std::exp(-y[a]) / sn, 1e-14);
      }
    }
}

/// Quadratic form of causal linear attention with scalar log decay g (or
/// none): out_t = sum_{s<=t} exp(sum_{r=s+1..t} g_r) (scale q_t.k_s) v_s, and
/// the same sum over k_s for the normaliser.
RefTensor quadraticLinear(const RefTensor &q, const RefTensor &k,
                          const RefTensor &v, const RefTensor *g, double scale,
                          bool normalize, double eps) {
  int64_t B = q.dim(0), H = q.dim(1), L = q.dim(2), F = q.dim(3), Dv = v.dim(3);
  RefTensor out({B, H, L, Dv});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < L; ++t) {
        double den = 0;
        for (int64_t s = 0; s <= t; ++s) {
          double decay = 0;
          for (int64_t r = s + 1; r <= t && g; ++r)
            decay += (*g)(b, h, r);
          double w = 0;
          for (int64_t f = 0; f < F; ++f)
            w += scale * q(b, h, t, f) * k(b, h, s, f);
          w *= std::exp(decay);
          den += w;
          for (int64_t c = 0; c < Dv; ++c)
            out(b, h, t, c) += w * v(b, h, s, c);
        }
        if (normalize)
          for (int64_t c = 0; c < Dv; ++c)
            out(b, h, t, c) /= den + eps;
      }
  return out;
}

TEST(LinearAttention, RecurrenceEqualsQuadraticForm) {
  Random rng(13);
  int64_t B = 2, H = 2, L = 37, F = 6, Dv = 5;
  RefTensor q = rng.tensor({B, H, L, F}, 0.1, 1.0),
            k = rng.tensor({B, H, L, F}, 0.1, 1.0),
            v = rng.tensor({B, H, L, Dv}), g = rng.tensor({B, H, L}, -0.3, 0.0);
  for (bool normalize : {false, true}) {
    LinearAttentionParams p;
    p.normalize = normalize;
    p.scale = 0.7;
    EXPECT_TRUE(near(linearAttention(q, k, v, p).out,
                     quadraticLinear(q, k, v, nullptr, 0.7, normalize, 1e-6)));
    p.decay = DecayKind::Scalar;
    p.g = &g;
    EXPECT_TRUE(near(linearAttention(q, k, v, p).out,
                     quadraticLinear(q, k, v, &g, 0.7, normalize, 1e-6)));
  }
}

// Prefill in two chunks (L = 17 then 20), carrying state and normaliser,
// equals one call over L = 37, for every decay kind.
TEST(LinearAttention, TwoChunksWithStateEqualOneCall) {
  Random rng(14);
  int64_t B = 1, H = 3, L = 37, F = 4, Dv = 6, cut = 17;
  RefTensor q = rng.tensor({B, H, L, F}), k = rng.tensor({B, H, L, F}),
            v = rng.tensor({B, H, L, Dv});
  RefTensor gConst = rng.tensor({H}, -0.2, 0.0),
            gScalar = rng.tensor({B, H, L}, -0.2, 0.0),
            gVector = rng.tensor({B, H, L, F}, -0.2, 0.0);
  for (DecayKind kind : {DecayKind::None, DecayKind::Constant,
                         DecayKind::Scalar, DecayKind::Vector}) {
    RefTensor g1, g2;
    const RefTensor *g = nullptr, *ga = nullptr, *gb = nullptr;
    if (kind == DecayKind::Constant)
      g = ga = gb = &gConst;
    if (kind == DecayKind::Scalar) {
      g = &gScalar;
      g1 = sliceTokens3(gScalar, 0, cut);
      g2 = sliceTokens3(gScalar, cut, L);
      ga = &g1;
      gb = &g2;
    }
    if (kind == DecayKind::Vector) {
      g = &gVector;
      g1 = sliceTokens(gVector, 0, cut);
      g2 = sliceTokens(gVector, cut, L);
      ga = &g1;
      gb = &g2;
    }
    LinearAttentionParams p;
    p.decay = kind;
    p.normalize = true;
    p.g = g;
    LinearAttentionResult whole = linearAttention(q, k, v, p);
    p.g = ga;
    LinearAttentionResult first =
        linearAttention(sliceTokens(q, 0, cut), sliceTokens(k, 0, cut),
                        sliceTokens(v, 0, cut), p);
    p.g = gb;
    p.stateIn = &first.stateOut;
    p.zIn = &first.zOut;
    LinearAttentionResult second =
        linearAttention(sliceTokens(q, cut, L), sliceTokens(k, cut, L),
                        sliceTokens(v, cut, L), p);
    EXPECT_TRUE(near(concatTokens(first.out, second.out), whole.out));
    EXPECT_TRUE(near(second.stateOut, whole.stateOut));
    EXPECT_TRUE(near(second.zOut, whole.zOut));
  }
}

// Vector decay whose channels are all equal is scalar decay; constant decay
// is scalar decay repeated over tokens.
TEST(LinearAttention, DecayKindsAgreeWhenEquivalent) {
  Random rng(15);
  int64_t B = 2, H = 2, L = 11, F = 5, Dv = 3;
  RefTensor q = rng.tensor({B, H, L, F}), k = rng.tensor({B, H, L, F}),
            v = rng.tensor({B, H, L, Dv}), g = rng.tensor({B, H, L}, -0.5, 0.0),
            gc = rng.tensor({H}, -0.5, 0.0);
  RefTensor gv({B, H, L, F}), gs({B, H, L});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t t = 0; t < L; ++t) {
        gs(b, h, t) = gc(h);
        for (int64_t f = 0; f < F; ++f)
          gv(b, h, t, f) = g(b, h, t);
      }
  LinearAttentionParams scalar, vector, constant, repeated;
  scalar.decay = repeated.decay = DecayKind::Scalar;
  vector.decay = DecayKind::Vector;
  constant.decay = DecayKind::Constant;
  scalar.g = &g;
  vector.g = &gv;
  constant.g = &gc;
  repeated.g = &gs;
  LinearAttentionResult a = linearAttention(q, k, v, scalar),
                        b = linearAttention(q, k, v, vector);
  EXPECT_TRUE(near(a.out, b.out, 0.0));
  EXPECT_TRUE(near(a.stateOut, b.stateOut, 0.0));
  EXPECT_TRUE(near(linearAttention(q, k, v, constant).out,
                   linearAttention(q, k, v, repeated).out, 0.0));
}

//===----------------------------------------------------------------------===//
// delta_rule
//===----------------------------------------------------------------------===//

// One token against the matrix formulas of Rationale.md with a non-zero
// state_in, D = 3, Dv = 2:
//   gated: S1 = a (I - b k k^T) S0 + b k v^T
//   kda:   S1 = (I - b k k^T) Diag(a) S0 + b k v^T   (Diag inside!)
//   out = S1^T (scale q)
TEST(DeltaRule, SingleStepMatchesMatrixFormula) {
  Random rng(16);
  int64_t D = 3, Dv = 2;
  RefTensor q = rng.tensor({1, 1, 1, D}), k = rng.tensor({1, 1, 1, D}),
            v = rng.tensor({1, 1, 1, Dv}),
            beta = rng.tensor({1, 1, 1}, 0.2, 0.9),
            s0 = rng.tensor({1, 1, D, Dv}),
            gs = rng.tensor({1, 1, 1}, -1.0, 0.0),
            gk = rng.tensor({1, 1, 1, D}, -1.0, 0.0);
  double b = beta(0, 0, 0);
  for (DeltaRuleKind kind :
       {DeltaRuleKind::DeltaNet, DeltaRuleKind::Gated, DeltaRuleKind::Kda}) {
    // A = diag of per-row decays applied before the projection for KDA,
    // scalar after it for gated; P = I - b k k^T.
    double a = kind == DeltaRuleKind::Gated ? std::exp(gs(0, 0, 0)) : 1.0;
    double sa[3][2], s1[3][2];
    for (int64_t r = 0; r < D; ++r)
      for (int64_t c = 0; c < Dv; ++c)
        sa[r][c] =
            s0(0, 0, r, c) *
            (kind == DeltaRuleKind::Kda ? std::exp(gk(0, 0, 0, r)) : 1.0);
    for (int64_t r = 0; r < D; ++r)
      for (int64_t c = 0; c < Dv; ++c) {
        double ps = 0;
        for (int64_t m = 0; m < D; ++m)
          ps += ((r == m ? 1.0 : 0.0) - b * k(0, 0, 0, r) * k(0, 0, 0, m)) *
                sa[m][c];
        s1[r][c] = a * ps + b * k(0, 0, 0, r) * v(0, 0, 0, c);
      }
    DeltaRuleParams p;
    p.kind = kind;
    p.scale = 0.5;
    p.stateIn = &s0;
    p.g = kind == DeltaRuleKind::Gated ? &gs
          : kind == DeltaRuleKind::Kda ? &gk
                                       : nullptr;
    DeltaRuleResult r = deltaRule(q, k, v, beta, p);
    for (int64_t c = 0; c < Dv; ++c) {
      double o = 0;
      for (int64_t m = 0; m < D; ++m) {
        o += s1[m][c] * 0.5 * q(0, 0, 0, m);
        EXPECT_NEAR(r.stateOut(0, 0, m, c), s1[m][c], 1e-14);
      }
      EXPECT_NEAR(r.out(0, 0, 0, c), o, 1e-14);
    }
  }
}

// The delta rule is associative memory: with beta = 1 and orthonormal keys
// reading key k_s returns the last value written under it; writing the same
// key twice overwrites instead of adding.
TEST(DeltaRule, BetaOneOverwritesOrthonormalKeys) {
  Random rng(17);
  int64_t D = 4, Dv = 3, L = 6;
  int64_t keyOf[] = {2, 0, 3, 2, 1, 0};
  RefTensor k({1, 1, L, D}, 0.0), v = rng.tensor({1, 1, L, Dv}),
                                  beta({1, 1, L}, 1.0);
  for (int64_t t = 0; t < L; ++t)
    k(0, 0, t, keyOf[t]) = 1.0;
  DeltaRuleResult r = deltaRule(k, k, v, beta);
  for (int64_t t = 0; t < L; ++t)
    for (int64_t c = 0; c < Dv; ++c)
      EXPECT_NEAR(r.out(0, 0, t, c), v(0, 0, t, c), 1e-15);
  // Final state row key holds the last value written under that key.
  int64_t lastWrite[] = {5, 4, 3, 2};
  for (int64_t key = 0; key < D; ++key)
    for (int64_t c = 0; c < Dv; ++c)
      EXPECT_NEAR(r.stateOut(0, 0, key, c), v(0, 0, lastWrite[key], c), 1e-15);
}

// Chunked (17 + 20 tokens with state) equals one call, every kind, l2norm on.
TEST(DeltaRule, TwoChunksWithStateEqualOneCall) {
  Random rng(18);
  int64_t B = 2, H = 2, L = 37, D = 8, Dv = 5, cut = 17;
  RefTensor q = rng.tensor({B, H, L, D}), k = rng.tensor({B, H, L, D}),
            v = rng.tensor({B, H, L, Dv}),
            beta = rng.tensor({B, H, L}, 0.0, 1.0),
            gs = rng.tensor({B, H, L}, -0.3, 0.0),
            gk = rng.tensor({B, H, L, D}, -0.3, 0.0);
  for (DeltaRuleKind kind :
       {DeltaRuleKind::DeltaNet, DeltaRuleKind::Gated, DeltaRuleKind::Kda}) {
    const RefTensor *g = kind == DeltaRuleKind::Gated ? &gs
                         : kind == DeltaRuleKind::Kda ? &gk
                                                      : nullptr;
    RefTensor g1, g2;
    if (kind == DeltaRuleKind::Gated) {
      g1 = sliceTokens3(gs, 0, cut);
      g2 = sliceTokens3(gs, cut, L);
    } else if (kind == DeltaRuleKind::Kda) {
      g1 = sliceTokens(gk, 0, cut);
      g2 = sliceTokens(gk, cut, L);
    }
    DeltaRuleParams p;
    p.kind = kind;
    p.l2norm = true;
    p.scale = 0.35;
    p.g = g;
    DeltaRuleResult whole = deltaRule(q, k, v, beta, p);
    p.g = g ? &g1 : nullptr;
    DeltaRuleResult first =
        deltaRule(sliceTokens(q, 0, cut), sliceTokens(k, 0, cut),
                  sliceTokens(v, 0, cut), sliceTokens3(beta, 0, cut), p);
    p.g = g ? &g2 : nullptr;
    p.stateIn = &first.stateOut;
    DeltaRuleResult second =
        deltaRule(sliceTokens(q, cut, L), sliceTokens(k, cut, L),
                  sliceTokens(v, cut, L), sliceTokens3(beta, cut, L), p);
    EXPECT_TRUE(near(concatTokens(first.out, second.out), whole.out));
    EXPECT_TRUE(near(second.stateOut, whole.stateOut));
  }
}

// gated with g = 0 is deltanet; kda with equal channels is gated.
TEST(DeltaRule, KindsAgreeWhenEquivalent) {
  Random rng(19);
  int64_t B = 1, H = 3, L = 13, D = 6, Dv = 7;
  RefTensor q = rng.tensor({B, H, L, D}), k = rng.tensor({B, H, L, D}),
            v = rng.tensor({B, H, L, Dv}),
            beta = rng.tensor({B, H, L}, 0.0, 1.0),
            g = rng.tensor({B, H, L}, -0.5, 0.0), zero({B, H, L}, 0.0);
  RefTensor gk({B, H, L, D});
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < L; ++t)
      for (int64_t d = 0; d < D; ++d)
        gk(0, h, t, d) = g(0, h, t);
  DeltaRuleParams net, gatedZero, gated, kda;
  net.l2norm = gatedZero.l2norm = gated.l2norm = kda.l2norm = true;
  gatedZero.kind = gated.kind = DeltaRuleKind::Gated;
  kda.kind = DeltaRuleKind::Kda;
  gatedZero.g = &zero;
  gated.g = &g;
  kda.g = &gk;
  EXPECT_TRUE(near(deltaRule(q, k, v, beta, net).out,
                   deltaRule(q, k, v, beta, gatedZero).out, 0.0));
  EXPECT_TRUE(near(deltaRule(q, k, v, beta, gated).out,
                   deltaRule(q, k, v, beta, kda).out, 1e-13));
}

// l2norm normalises q and k per token as x / sqrt(sum x^2 + 1e-6) before
// the scale; doing that by hand gives the same result.
TEST(DeltaRule, L2NormIsPerTokenNormalisation) {
  Random rng(41);
  int64_t B = 1, H = 2, L = 9, D = 5, Dv = 3;
  RefTensor q = rng.tensor({B, H, L, D}, -0.01, 0.01),
            k = rng.tensor({B, H, L, D}), v = rng.tensor({B, H, L, Dv}),
            beta = rng.tensor({B, H, L}, 0.0, 1.0);
  RefTensor qn = q, kn = k;
  for (RefTensor *t : {&qn, &kn})
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < L; ++i) {
        double ss = 0;
        for (int64_t d = 0; d < D; ++d)
          ss += (*t)(0, h, i, d) * (*t)(0, h, i, d);
        for (int64_t d = 0; d < D; ++d)
          (*t)(0, h, i, d) /= std::sqrt(ss + 1e-6);
      }
  DeltaRuleParams normed, plain;
  normed.l2norm = true;
  normed.scale = plain.scale = 0.6;
  EXPECT_TRUE(near(deltaRule(q, k, v, beta, normed).out,
                   deltaRule(qn, kn, v, beta, plain).out, 1e-13));
}

//===----------------------------------------------------------------------===//
// log_linear
//===----------------------------------------------------------------------===//

TEST(LogLinear, LevelsAndLevelCount) {
  EXPECT_EQ(logLinearLevelCount(1), 1);
  EXPECT_EQ(logLinearLevelCount(2), 2);
  EXPECT_EQ(logLinearLevelCount(3), 3);
  EXPECT_EQ(logLinearLevelCount(4), 3);
  EXPECT_EQ(logLinearLevelCount(5), 4);
  EXPECT_EQ(logLinearLevelCount(37), 7);
  EXPECT_EQ(logLinearLevel(5, 5), 0);
  EXPECT_EQ(logLinearLevel(5, 4), 1); // 101 ^ 100 = 001
  EXPECT_EQ(logLinearLevel(4, 3), 3); // 100 ^ 011 = 111
  EXPECT_EQ(logLinearLevel(6, 0), 3);
  // Level l >= 1 of query t holds 2^(l-1) keys when t has that many before
  // its Fenwick block, and every level fits in ceil(log2 L) + 1.
  for (int64_t t = 0; t < 64; ++t) {
    std::vector<int64_t> count(8, 0);
    for (int64_t s = 0; s <= t; ++s)
      ++count[logLinearLevel(t, s)];
    EXPECT_EQ(count[0], 1);
    for (int64_t l = 1; l < 8; ++l)
      EXPECT_TRUE(count[l] == 0 || count[l] == (int64_t(1) << (l - 1)));
    for (int64_t s = 0; s <= t; ++s)
      EXPECT_LT(logLinearLevel(t, s), logLinearLevelCount(t + 1));
  }
}

// The required test: with every lambda = 1 each base equals its base op:
// linear -> linear_attention (no decay), mamba2 -> linear_attention with
// scalar decay, gated_deltanet -> delta_rule gated.
TEST(LogLinear, UnitLambdaEqualsBaseOp) {
  Random rng(20);
  for (int64_t L : {1, 2, 37}) {
    int64_t B = 2, H = 2, D = 6, Dv = 4, nlev = logLinearLevelCount(L);
    RefTensor q = rng.tensor({B, H, L, D}), k = rng.tensor({B, H, L, D}),
              v = rng.tensor({B, H, L, Dv}), ones({B, H, L, nlev}, 1.0),
              g = rng.tensor({B, H, L}, -0.4, 0.0),
              beta = rng.tensor({B, H, L}, 0.0, 1.0);
    LogLinearParams p;
    p.scale = 0.8;
    LinearAttentionParams lp;
    lp.scale = 0.8;
    EXPECT_TRUE(
        near(logLinear(q, k, v, ones, p).out, linearAttention(q, k, v, lp).out))
        << "L=" << L;
    p.base = LogLinearBase::Mamba2;
    p.g = &g;
    lp.decay = DecayKind::Scalar;
    lp.g = &g;
    EXPECT_TRUE(
        near(logLinear(q, k, v, ones, p).out, linearAttention(q, k, v, lp).out))
        << "L=" << L;
    p.base = LogLinearBase::GatedDeltaNet;
    p.beta = &beta;
    DeltaRuleParams dp;
    dp.kind = DeltaRuleKind::Gated;
    dp.g = &g;
    dp.scale = 0.8;
    EXPECT_TRUE(
        near(logLinear(q, k, v, ones, p).out, deltaRule(q, k, v, beta, dp).out))
        << "L=" << L;
  }
}

/// The recurrent level form of Rationale.md for the linear/mamba2 bases
/// (transition = scalar decay, no delta projection), written independently
/// of the library's delta-rule code.
RefTensor recurrentLogLinear(const RefTensor &q, const RefTensor &k,
                             const RefTensor &v, const RefTensor &lambda,
                             const RefTensor *g, double scale) {
  int64_t B = q.dim(0), H = q.dim(1), L = q.dim(2), D = q.dim(3), Dv = v.dim(3),
          nlev = lambda.dim(3);
  RefTensor out({B, H, L, Dv});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h) {
      std::vector<std::vector<double>> S(nlev,
                                         std::vector<double>(D * Dv, 0.0));
      for (int64_t t = 0; t < L; ++t) {
        if (t > 0) {
          int64_t c = 0;
          for (int64_t x = t ^ (t - 1); x; x >>= 1)
            ++c;
          for (int64_t l = 0; l < c; ++l)
            for (int64_t e = 0; e < D * Dv; ++e) {
              S[c][e] += S[l][e];
              S[l][e] = 0;
            }
        }
        double a = g ? std::exp((*g)(b, h, t)) : 1.0;
        for (auto &level : S)
          for (double &e : level)
            e *= a;
        for (int64_t d = 0; d < D; ++d)
          for (int64_t c = 0; c < Dv; ++c)
            S[0][d * Dv + c] += k(b, h, t, d) * v(b, h, t, c);
        for (int64_t l = 0; l < nlev; ++l)
          for (int64_t d = 0; d < D; ++d)
            for (int64_t c = 0; c < Dv; ++c)
              out(b, h, t, c) +=
                  lambda(b, h, t, l) * scale * q(b, h, t, d) * S[l][d * Dv + c];
      }
    }
  return out;
}

TEST(LogLinear, QuadraticFormEqualsRecurrentLevelForm) {
  Random rng(21);
  int64_t B = 1, H = 2, L = 37, D = 5, Dv = 3, nlev = logLinearLevelCount(L);
  RefTensor q = rng.tensor({B, H, L, D}), k = rng.tensor({B, H, L, D}),
            v = rng.tensor({B, H, L, Dv}),
            lambda = rng.tensor({B, H, L, nlev}, 0.0, 2.0),
            g = rng.tensor({B, H, L}, -0.3, 0.0);
  LogLinearParams p;
  p.scale = 1.3;
  EXPECT_TRUE(near(logLinear(q, k, v, lambda, p).out,
                   recurrentLogLinear(q, k, v, lambda, nullptr, 1.3)));
  p.base = LogLinearBase::Mamba2;
  p.g = &g;
  EXPECT_TRUE(near(logLinear(q, k, v, lambda, p).out,
                   recurrentLogLinear(q, k, v, lambda, &g, 1.3)));
}

// With orthonormal keys (k_t = e_t, D >= L) the projection I - b k_t k_t^T
// only touches row t of each level state, which is still empty when token t
// arrives; the gated_deltanet base then reduces to mamba2 with v_s scaled by
// beta_s, for any lambda.
TEST(LogLinear, GatedDeltaNetWithOrthonormalKeysIsMamba2) {
  Random rng(22);
  int64_t B = 1, H = 2, L = 13, D = 16, Dv = 3, nlev = logLinearLevelCount(L);
  RefTensor q = rng.tensor({B, H, L, D}), k({B, H, L, D}, 0.0),
            v = rng.tensor({B, H, L, Dv}),
            lambda = rng.tensor({B, H, L, nlev}, 0.0, 2.0),
            g = rng.tensor({B, H, L}, -0.3, 0.0),
            beta = rng.tensor({B, H, L}, 0.1, 1.0);
  RefTensor bv = v;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t t = 0; t < L; ++t) {
      k(0, h, t, (t * 5 + h) % D) = 1.0; // distinct basis vector per token
      for (int64_t c = 0; c < Dv; ++c)
        bv(0, h, t, c) *= beta(0, h, t);
    }
  LogLinearParams gdn, mamba;
  gdn.base = LogLinearBase::GatedDeltaNet;
  gdn.g = mamba.g = &g;
  gdn.beta = &beta;
  mamba.base = LogLinearBase::Mamba2;
  EXPECT_TRUE(near(logLinear(q, k, v, lambda, gdn).out,
                   logLinear(q, k, bv, lambda, mamba).out));
}

//===----------------------------------------------------------------------===//
// lolcats_hybrid
//===----------------------------------------------------------------------===//

/// OPS.md section 5 evaluated per query with explicit sums over W_n and L_n.
RefTensor naiveLolcats(const RefTensor &q, const RefTensor &k,
                       const RefTensor &v, const RefTensor &fq,
                       const RefTensor &fk, const RefTensor &gamma, int64_t w,
                       bool terrace, double scale) {
  int64_t B = q.dim(0), H = q.dim(1), L = q.dim(2), D = q.dim(3), Dv = v.dim(3),
          F = fq.dim(3);
  RefTensor out({B, H, L, Dv});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t n = 0; n < L; ++n) {
        auto inWindow = [&](int64_t i) {
          if (i > n)
            return false;
          return terrace ? i / w >= n / w - 1 : i > n - w;
        };
        auto score = [&](int64_t i) {
          double s = 0;
          for (int64_t d = 0; d < D; ++d)
            s += q(b, h, n, d) * k(b, h, i, d);
          return s * scale;
        };
        double c = -kInf;
        for (int64_t i = 0; i <= n; ++i)
          if (inWindow(i))
            c = std::max(c, score(i));
        double gam = 1 / (1 + std::exp(-gamma(h))), den = 0;
        std::vector<double> num(Dv, 0.0);
        for (int64_t i = 0; i <= n; ++i) {
          double weight;
          if (inWindow(i)) {
            weight = gam * std::exp(score(i) - c);
          } else {
            weight = 0;
            for (int64_t f = 0; f < F; ++f)
              weight += fq(b, h, n, f) * fk(b, h, i, f);
          }
          den += weight;
          for (int64_t e = 0; e < Dv; ++e)
            num[e] += weight * v(b, h, i, e);
        }
        for (int64_t e = 0; e < Dv; ++e)
          out(b, h, n, e) = num[e] / den;
      }
  return out;
}

TEST(Lolcats, MatchesNaiveFormula) {
  Random rng(23);
  int64_t B = 1, H = 2, L = 37, D = 8, Dv = 5, F = 6;
  RefTensor q = rng.tensor({B, H, L, D}), k = rng.tensor({B, H, L, D}),
            v = rng.tensor({B, H, L, Dv}),
            fq = rng.tensor({B, H, L, F}, 0.0, 1.0),
            fk = rng.tensor({B, H, L, F}, 0.0, 1.0), gamma = rng.tensor({H});
  for (LolcatsMode mode : {LolcatsMode::Sliding, LolcatsMode::Terrace}) {
    LolcatsParams p;
    p.window = 5;
    p.mode = mode;
    EXPECT_TRUE(
        near(lolcatsHybrid(q, k, v, fq, fk, gamma, p).out,
             naiveLolcats(q, k, v, fq, fk, gamma, 5,
                          mode == LolcatsMode::Terrace, 1 / std::sqrt(8.0))));
  }
}

// window >= L: L_n is empty and gamma cancels between num and den, so the
// hybrid is causal softmax attention (same scale) in both modes.
TEST(Lolcats, WideWindowEqualsCausalSoftmax) {
  Random rng(24);
  int64_t B = 2, H = 3, L = 9, D = 8, Dv = 4, F = 5;
  RefTensor q = rng.tensor({B, H, L, D}), k = rng.tensor({B, H, L, D}),
            v = rng.tensor({B, H, L, Dv}), fq = rng.tensor({B, H, L, F}),
            fk = rng.tensor({B, H, L, F}), gamma = rng.tensor({H}, -3.0, 3.0);
  AttentionParams ap;
  ap.causal = true;
  RefTensor want = attention(q, k, v, ap).out;
  for (LolcatsMode mode : {LolcatsMode::Sliding, LolcatsMode::Terrace}) {
    LolcatsParams p;
    p.window = L;
    p.mode = mode;
    EXPECT_TRUE(near(lolcatsHybrid(q, k, v, fq, fk, gamma, p).out, want));
  }
}

// window = 1 (sliding): W_n = {n}, so with sigma = sigmoid(gamma)
//   out_n = (sigma v_n + U_n - (fq_n.fk_n) v_n) / (sigma + Z_n - fq_n.fk_n)
// where U = linear_attention(fq, fk, v), Z = linear_attention(fq, fk, 1).
TEST(Lolcats, UnitWindowIsLinearAttentionPlusCurrentToken) {
  Random rng(25);
  int64_t B = 1, H = 2, L = 12, D = 4, Dv = 3, F = 5;
  RefTensor q = rng.tensor({B, H, L, D}), k = rng.tensor({B, H, L, D}),
            v = rng.tensor({B, H, L, Dv}),
            fq = rng.tensor({B, H, L, F}, 0.0, 1.0),
            fk = rng.tensor({B, H, L, F}, 0.0, 1.0), gamma = rng.tensor({H}),
            ones({B, H, L, 1}, 1.0);
  RefTensor u = linearAttention(fq, fk, v).out,
            z = linearAttention(fq, fk, ones).out;
  RefTensor want({B, H, L, Dv});
  for (int64_t h = 0; h < H; ++h)
    for (int64_t n = 0; n < L; ++n) {
      double sigma = 1 / (1 + std::exp(-gamma(h))), self = 0;
      for (int64_t f = 0; f < F; ++f)
        self += fq(0, h, n, f) * fk(0, h, n, f);
      for (int64_t c = 0; c < Dv; ++c)
        want(0, h, n, c) =
            (sigma * v(0, h, n, c) + u(0, h, n, c) - self * v(0, h, n, c)) /
            (sigma + z(0, h, n, 0) - self);
    }
  LolcatsParams p;
  p.window = 1;
  EXPECT_TRUE(near(lolcatsHybrid(q, k, v, fq, fk, gamma, p).out, want));
}

// Row n of terrace(w) sees keys from the start of the previous w-block, i.e.
// the last w + n % w + 1 keys: it equals row n of sliding(w + n % w + 1).
TEST(Lolcats, TerraceRowEqualsSlidingOfMatchingWidth) {
  Random rng(26);
  int64_t B = 1, H = 1, L = 23, D = 4, Dv = 2, F = 3, w = 4;
  RefTensor q = rng.tensor({B, H, L, D}), k = rng.tensor({B, H, L, D}),
            v = rng.tensor({B, H, L, Dv}),
            fq = rng.tensor({B, H, L, F}, 0.0, 1.0),
            fk = rng.tensor({B, H, L, F}, 0.0, 1.0), gamma = rng.tensor({H});
  LolcatsParams terrace;
  terrace.window = w;
  terrace.mode = LolcatsMode::Terrace;
  RefTensor t = lolcatsHybrid(q, k, v, fq, fk, gamma, terrace).out;
  for (int64_t n = 0; n < L; ++n) {
    LolcatsParams sliding;
    sliding.window = w + n % w + 1;
    RefTensor s = lolcatsHybrid(q, k, v, fq, fk, gamma, sliding).out;
    for (int64_t c = 0; c < Dv; ++c)
      EXPECT_NEAR(t(0, 0, n, c), s(0, 0, n, c), 1e-13) << "row " << n;
  }
}

} // namespace
