//===- ReferenceTest.cpp - Tests of the fp64 reference ops ------*- C++ -*-===//
//
// Each test proves an identity between the reference and something computed
// independently: a hand-evaluated formula, a naive loop written here, or
// another op under the conditions where the math says they agree (split KV
// merged equals full, GQA equals repeated MHA, chunked recurrences equal one
// call, log-linear with unit lambda equals its base op, ...). Inputs are
// random and non-zero, shapes odd (L = 1, L = 37, D = 96, G = 7, Dv != D).
//
//===----------------------------------------------------------------------===//

#include "attn/Reference/Reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>

using namespace attn::reference;

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// Deterministic uniform values in [lo, hi); never exactly zero in practice.
class Random {
public:
  explicit Random(uint64_t seed) : gen(seed) {}
  double uniform(double lo = -1.0, double hi = 1.0) {
    return lo + (hi - lo) * static_cast<double>(gen() >> 11) * 0x1.0p-53;
  }
  int64_t integer(int64_t lo, int64_t hi) { // inclusive
    return lo +
           static_cast<int64_t>(gen() % static_cast<uint64_t>(hi - lo + 1));
  }
  RefTensor tensor(std::vector<int64_t> shape, double lo = -1.0,
                   double hi = 1.0) {
    RefTensor t(std::move(shape));
    for (double &x : t.data)
      x = uniform(lo, hi);
    return t;
  }

private:
  std::mt19937_64 gen;
};

/// Max |a - b| relative to the magnitude of b; equal infinities match.
::testing::AssertionResult near(const RefTensor &a, const RefTensor &b,
                                double tol = 1e-11) {
  if (a.shape != b.shape)
    return ::testing::AssertionFailure() << "shapes differ";
  double scale = 1.0;
  for (double x : b.data)
    if (std::isfinite(x))
      scale = std::max(scale, std::fabs(x));
  for (size_t i = 0; i < a.data.size(); ++i) {
    if (std::isnan(a.data[i]) || std::isnan(b.data[i]))
      return ::testing::AssertionFailure() << "NaN at " << i;
    if (a.data[i] == b.data[i])
      continue;
    if (std::fabs(a.data[i] - b.data[i]) > tol * scale)
      return ::testing::AssertionFailure()
             << "element " << i << ": " << a.data[i] << " vs " << b.data[i];
  }
  return ::testing::AssertionSuccess();
}

/// Slice [lo, hi) of axis 2 of a rank-4 tensor.
RefTensor sliceTokens(const RefTensor &t, int64_t lo, int64_t hi) {
  RefTensor r({t.dim(0), t.dim(1), hi - lo, t.dim(3)});
  for (int64_t a = 0; a < t.dim(0); ++a)
    for (int64_t b = 0; b < t.dim(1); ++b)
      for (int64_t i = lo; i < hi; ++i)
        for (int64_t d = 0; d < t.dim(3); ++d)
          r(a, b, i - lo, d) = t(a, b, i, d);
  return r;
}

/// Slice [lo, hi) of axis 2 of a rank-3 tensor.
RefTensor sliceTokens3(const RefTensor &t, int64_t lo, int64_t hi) {
  RefTensor r({t.dim(0), t.dim(1), hi - lo});
  for (int64_t a = 0; a < t.dim(0); ++a)
    for (int64_t b = 0; b < t.dim(1); ++b)
      for (int64_t i = lo; i < hi; ++i)
        r(a, b, i - lo) = t(a, b, i);
  return r;
}

/// Concatenates two rank-4 tensors along axis 2.
RefTensor concatTokens(const RefTensor &x, const RefTensor &y) {
  RefTensor r({x.dim(0), x.dim(1), x.dim(2) + y.dim(2), x.dim(3)});
  for (int64_t a = 0; a < x.dim(0); ++a)
    for (int64_t b = 0; b < x.dim(1); ++b)
      for (int64_t d = 0; d < x.dim(3); ++d) {
        for (int64_t i = 0; i < x.dim(2); ++i)
          r(a, b, i, d) = x(a, b, i, d);
        for (int64_t i = 0; i < y.dim(2); ++i)
          r(a, b, x.dim(2) + i, d) = y(a, b, i, d);
      }
  return r;
}

/// Repeats each head `times` times along axis 1 (h -> h / times).
RefTensor repeatHeads(const RefTensor &t, int64_t times) {
  RefTensor r({t.dim(0), t.dim(1) * times, t.dim(2), t.dim(3)});
  for (int64_t a = 0; a < r.dim(0); ++a)
    for (int64_t h = 0; h < r.dim(1); ++h)
      for (int64_t i = 0; i < r.dim(2); ++i)
        for (int64_t d = 0; d < r.dim(3); ++d)
          r(a, h, i, d) = t(a, h / times, i, d);
  return r;
}

/// Runs `fn` and checks it throws std::invalid_argument mentioning `needle`.
template <typename Fn>
::testing::AssertionResult throwsNaming(Fn fn, const std::string &needle) {
  try {
    fn();
  } catch (const std::invalid_argument &e) {
    if (std::string(e.what()).find(needle) != std::string::npos)
      return ::testing::AssertionSuccess();
    return ::testing::AssertionFailure()
           << "message '" << e.what() << "' does not name " << needle;
  }
  return ::testing::AssertionFailure() << "no std::invalid_argument thrown";
}

//===----------------------------------------------------------------------===//
// A naive softmax attention written only here: explicit visibility, no max
// shift, one exp per visible score. Inputs are small, so exp cannot overflow.
//===----------------------------------------------------------------------===//

struct NaiveOptions {
  double scale = 1.0;
  bool causal = false;
  int64_t left = -1, right = -1; // window when left >= 0
  double softcap = 0.0;
  const BoolTensor *mask = nullptr;
  const RefTensor *bias = nullptr;
  const RefTensor *sinks = nullptr;
};

AttentionResult naiveAttention(const RefTensor &q, const RefTensor &k,
                               const RefTensor &v, const NaiveOptions &o) {
  int64_t B = q.dim(0), Hq = q.dim(1), Lq = q.dim(2), D = q.dim(3);
  int64_t Hkv = k.dim(1), Lk = k.dim(2), Dv = v.dim(3);
  AttentionResult r{RefTensor({B, Hq, Lq, Dv}), RefTensor({B, Hq, Lq})};
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < Lq; ++i) {
        int64_t kh = h * Hkv / Hq;
        double den = o.sinks ? std::exp((*o.sinks)(h)) : 0.0;
        std::vector<double> num(Dv, 0.0);
        for (int64_t j = 0; j < Lk; ++j) {
          int64_t dist = (i + Lk - Lq) - j;
          if (o.causal && dist < 0)
            continue;
          if (o.left >= 0 && (dist > o.left || dist < -o.right))
            continue;
          if (o.mask && !o.mask->at({o.mask->dim(0) == 1 ? 0 : b,
                                     o.mask->dim(1) == 1 ? 0 : h, i, j}))
            continue;
          double s = 0.0;
          for (int64_t d = 0; d < D; ++d)
            s += q(b, h, i, d) * k(b, kh, j, d);
          s *= o.scale;
          if (o.softcap > 0)
            s = o.softcap * std::tanh(s / o.softcap);
          if (o.bias)
            s += o.bias->at({o.bias->dim(0) == 1 ? 0 : b,
                             o.bias->dim(1) == 1 ? 0 : h, i, j});
          double p = std::exp(s);
          den += p;
          for (int64_t c = 0; c < Dv; ++c)
            num[c] += p * v(b, kh, j, c);
        }
        for (int64_t c = 0; c < Dv; ++c)
          r.out(b, h, i, c) = den > 0 ? num[c] / den : 0.0;
        r.lse(b, h, i) = den > 0 ? std::log(den) : -kInf;
      }
  return r;
}

//===----------------------------------------------------------------------===//
// attn.attention, merge, diff_attention
//===----------------------------------------------------------------------===//

// q = [1; 2], k = [1; 0], v = [1; 3], scale 1:
//   row 0 scores (1, 0): out = (e + 3) / (e + 1),      lse = log(e + 1)
//   row 1 scores (2, 0): out = (e^2 + 3) / (e^2 + 1),  lse = log(e^2 + 1)
// causal: row 0 sees only key 0: out = 1, lse = 1.
TEST(Attention, HandComputedTwoByTwo) {
  RefTensor q({1, 1, 2, 1}, {1.0, 2.0}), k({1, 1, 2, 1}, {1.0, 0.0}),
      v({1, 1, 2, 1}, {1.0, 3.0});
  AttentionParams p;
  p.scale = 1.0;
  AttentionResult r = attention(q, k, v, p);
  double e = std::exp(1.0), e2 = std::exp(2.0);
  EXPECT_NEAR(r.out(0, 0, 0, 0), (e + 3) / (e + 1), 1e-15);
  EXPECT_NEAR(r.out(0, 0, 1, 0), (e2 + 3) / (e2 + 1), 1e-15);
  EXPECT_NEAR(r.lse(0, 0, 0), std::log(e + 1), 1e-15);
  EXPECT_NEAR(r.lse(0, 0, 1), std::log(e2 + 1), 1e-15);
  p.causal = true;
  r = attention(q, k, v, p);
  EXPECT_NEAR(r.out(0, 0, 0, 0), 1.0, 1e-15);
  EXPECT_NEAR(r.lse(0, 0, 0), 1.0, 1e-15);
  EXPECT_NEAR(r.out(0, 0, 1, 0), (e2 + 3) / (e2 + 1), 1e-15);
}

// Every feature at once against the naive loop: G = 7, D = 96, Dv = 24,
// Lq != Lk, causal + window + broadcast bool mask + per-batch additive mask +
// softcap + sinks, default scale 1/sqrt(96).
TEST(Attention, MatchesNaiveLoopWithAllFeatures) {
  Random rng(1);
  int64_t B = 2, Hq = 7, Hkv = 1, Lq = 5, Lk = 37, D = 96, Dv = 24;
  RefTensor q = rng.tensor({B, Hq, Lq, D}), k = rng.tensor({B, Hkv, Lk, D}),
            v = rng.tensor({B, Hkv, Lk, Dv});
  BoolTensor mask({1, Hq, Lq, Lk});
  for (uint8_t &m : mask.data)
    m = rng.uniform() > -0.6;
  RefTensor bias = rng.tensor({B, 1, Lq, Lk}), sinks = rng.tensor({Hq});
  AttentionParams p;
  p.causal = true;
  p.window = std::make_pair<int64_t, int64_t>(20, 3);
  p.softcap = 0.3;
  p.boolMask = &mask;
  p.additiveMask = &bias;
  p.sinks = &sinks;
  NaiveOptions o;
  o.scale = 1.0 / std::sqrt(96.0);
  o.causal = true;
  o.left = 20;
  o.right = 3;
  o.softcap = 0.3;
  o.mask = &mask;
  o.bias = &bias;
  o.sinks = &sinks;
  AttentionResult got = attention(q, k, v, p),
                  want = naiveAttention(q, k, v, o);
  EXPECT_TRUE(near(got.out, want.out));
  EXPECT_TRUE(near(got.lse, want.lse));
}

// MLA absorbed decode shape: D = 576, Dv = 512, Hkv = 1, one query.
TEST(Attention, MlaShapeMatchesNaiveLoop) {
  Random rng(2);
  RefTensor q = rng.tensor({1, 4, 1, 576}), k = rng.tensor({1, 1, 9, 576}),
            v = rng.tensor({1, 1, 9, 512});
  AttentionParams p;
  p.causal = true;
  NaiveOptions o;
  o.scale = 1.0 / std::sqrt(576.0);
  o.causal = true;
  AttentionResult got = attention(q, k, v, p),
                  want = naiveAttention(q, k, v, o);
  EXPECT_TRUE(near(got.out, want.out));
  EXPECT_TRUE(near(got.lse, want.lse));
}

// Split-KV: attention over keys [0,17), [17,37) and an empty chunk, merged by
// lse, equals attention over all 37 keys.
TEST(Attention, SplitKvMergedEqualsFull) {
  Random rng(3);
  int64_t B = 1, Hq = 6, Hkv = 2, Lq = 3, Lk = 37, D = 16, Dv = 5;
  RefTensor q = rng.tensor({B, Hq, Lq, D}), k = rng.tensor({B, Hkv, Lk, D}),
            v = rng.tensor({B, Hkv, Lk, Dv});
  AttentionResult full = attention(q, k, v);
  AttentionResult a =
      attention(q, sliceTokens(k, 0, 17), sliceTokens(v, 0, 17));
  AttentionResult b =
      attention(q, sliceTokens(k, 17, 37), sliceTokens(v, 17, 37));
  AttentionResult empty =
      attention(q, sliceTokens(k, 0, 0), sliceTokens(v, 0, 0));
  for (double l : empty.lse.data)
    EXPECT_EQ(l, -kInf);
  RefTensor outs({3, B, Hq, Lq, Dv}), lses({3, B, Hq, Lq});
  const AttentionResult *parts[] = {&a, &empty, &b};
  for (int n = 0; n < 3; ++n) {
    std::copy(parts[n]->out.data.begin(), parts[n]->out.data.end(),
              outs.data.begin() + n * B * Hq * Lq * Dv);
    std::copy(parts[n]->lse.data.begin(), parts[n]->lse.data.end(),
              lses.data.begin() + n * B * Hq * Lq);
  }
  AttentionResult merged = merge(outs, lses);
  EXPECT_TRUE(near(merged.out, full.out));
  EXPECT_TRUE(near(merged.lse, full.lse));
}

TEST(Merge, AllMinusInfinityGivesZero) {
  RefTensor outs({2, 1, 1, 2, 3}, 0.0), lses({2, 1, 1, 2}, -kInf);
  outs.data[0] = std::nan(""); // an empty partial may hold anything
  AttentionResult r = merge(outs, lses);
  for (double x : r.out.data)
    EXPECT_EQ(x, 0.0);
  for (double l : r.lse.data)
    EXPECT_EQ(l, -kInf);
}

// GQA with G = 7 and G = 3 equals MHA with every K/V head repeated G times.
TEST(Attention, GqaEqualsMhaWithRepeatedHeads) {
  Random rng(4);
  for (auto [Hq, Hkv] : {std::pair<int64_t, int64_t>{7, 1}, {6, 2}}) {
    RefTensor q = rng.tensor({2, Hq, 4, 8}), k = rng.tensor({2, Hkv, 11, 8}),
              v = rng.tensor({2, Hkv, 11, 3});
    AttentionParams p;
    p.causal = true;
    AttentionResult gqa = attention(q, k, v, p);
    AttentionResult mha =
        attention(q, repeatHeads(k, Hq / Hkv), repeatHeads(v, Hq / Hkv), p);
    EXPECT_TRUE(near(gqa.out, mha.out, 0.0));
    EXPECT_TRUE(near(gqa.lse, mha.lse, 0.0));
  }
}

// A window {left >= Lk, right = 0} is exactly the bottom-right causal rule.
TEST(Attention, WideWindowEqualsCausal) {
  Random rng(5);
  RefTensor q = rng.tensor({1, 2, 5, 8}), k = rng.tensor({1, 2, 37, 8}),
            v = rng.tensor({1, 2, 37, 4});
  AttentionParams causal, window;
  causal.causal = true;
  window.window = std::make_pair<int64_t, int64_t>(37, 0);
  AttentionResult a = attention(q, k, v, causal),
                  b = attention(q, k, v, window);
  EXPECT_TRUE(near(a.out, b.out, 0.0));
  EXPECT_TRUE(near(a.lse, b.lse, 0.0));
}

// Causal with Lq = 7 > Lk = 3: rows 0..3 see no key (i + Lk - Lq < 0); a
// mask row of all false does the same to row 5.
TEST(Attention, FullyMaskedRowsGiveZeroAndMinusInf) {
  Random rng(6);
  RefTensor q = rng.tensor({1, 1, 7, 4}), k = rng.tensor({1, 1, 3, 4}),
            v = rng.tensor({1, 1, 3, 2});
  BoolTensor mask({1, 1, 7, 3}, 1);
  for (int j = 0; j < 3; ++j)
    mask(0, 0, 5, j) = 0;
  AttentionParams p;
  p.causal = true;
  p.boolMask = &mask;
  AttentionResult r = attention(q, k, v, p);
  for (int64_t i = 0; i < 7; ++i) {
    bool empty = i <= 3 || i == 5;
    EXPECT_EQ(r.lse(0, 0, i) == -kInf, empty) << "row " << i;
    for (int c = 0; c < 2; ++c) {
      EXPECT_FALSE(std::isnan(r.out(0, 0, i, c)));
      if (empty) {
        EXPECT_EQ(r.out(0, 0, i, c), 0.0);
      }
    }
  }
}

// A sink only adds exp(sink) to the denominator:
//   out_sink = out * e^lse / (e^lse + e^sink),  lse_sink = log(e^lse + e^sink).
TEST(Attention, SinksChangeOnlyTheDenominator) {
  Random rng(7);
  RefTensor q = rng.tensor({2, 3, 6, 8}), k = rng.tensor({2, 3, 6, 8}),
            v = rng.tensor({2, 3, 6, 5}), sinks = rng.tensor({3}, -2.0, 2.0);
  AttentionParams p;
  p.causal = true;
  AttentionResult plain = attention(q, k, v, p);
  p.sinks = &sinks;
  AttentionResult withSink = attention(q, k, v, p);
  RefTensor wantOut = plain.out, wantLse = plain.lse;
  for (int64_t b = 0; b < 2; ++b)
    for (int64_t h = 0; h < 3; ++h)
      for (int64_t i = 0; i < 6; ++i) {
        double l = plain.lse(b, h, i), s = sinks(h);
        for (int64_t c = 0; c < 5; ++c)
          wantOut(b, h, i, c) *= std::exp(l) / (std::exp(l) + std::exp(s));
        wantLse(b, h, i) = std::log(std::exp(l) + std::exp(s));
      }
  EXPECT_TRUE(near(withSink.out, wantOut));
  EXPECT_TRUE(near(withSink.lse, wantLse));
}

// score_mod and mask_mod regions match the equivalent tensors, and softcap
// is applied before score_mod.
TEST(Attention, ModsMatchEquivalentTensors) {
  Random rng(8);
  int64_t B = 2, H = 3, L = 9;
  RefTensor q = rng.tensor({B, H, L, 8}), k = rng.tensor({B, H, L, 8}),
            v = rng.tensor({B, H, L, 4}), bias = rng.tensor({B, H, L, L});
  BoolTensor mask({B, H, L, L});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t i = 0; i < L; ++i)
        for (int64_t j = 0; j < L; ++j)
          mask(b, h, i, j) = (i + 2 * j + h + b) % 3 != 0;
  AttentionParams tensors, mods;
  tensors.softcap = mods.softcap = 0.5;
  tensors.additiveMask = &bias;
  tensors.boolMask = &mask;
  // A score_mod that sees the capped score: adding bias after the cap.
  mods.scoreMod = [&](double s, int64_t b, int64_t h, int64_t i, int64_t j) {
    EXPECT_LE(std::fabs(s), 0.5);
    return s + bias(b, h, i, j);
  };
  mods.maskMod = [&](int64_t b, int64_t h, int64_t i, int64_t j) {
    return (i + 2 * j + h + b) % 3 != 0;
  };
  AttentionResult a = attention(q, k, v, tensors), m = attention(q, k, v, mods);
  EXPECT_TRUE(near(a.out, m.out, 0.0));
  EXPECT_TRUE(near(a.lse, m.lse, 0.0));
}

// Block lists equal the boolean mask of their blocks: block_q = 4,
// block_k = 8 over Lq = 13, Lk = 37 (partial last blocks), partial and full
// lists, an out-of-range id that is ignored, lists broadcast over B.
TEST(Attention, BlockListsEqualBlockMask) {
  Random rng(9);
  int64_t B = 2, H = 2, Lq = 13, Lk = 37, NQB = 4, NKB = 5, MB = 3;
  RefTensor q = rng.tensor({B, H, Lq, 8}), k = rng.tensor({B, H, Lk, 8}),
            v = rng.tensor({B, H, Lk, 3});
  IndexTensor num({1, H, NQB}), idx({1, H, NQB, MB}, 0);
  IndexTensor fullNum({1, 1, NQB}), fullIdx({1, 1, NQB, 1});
  BoolTensor mask({1, H, Lq, Lk}, 0);
  for (int64_t h = 0; h < H; ++h)
    for (int64_t qb = 0; qb < NQB; ++qb) {
      num(0, h, qb) = static_cast<int32_t>((qb + h) % 3 + 1);
      for (int64_t n = 0; n < MB; ++n)
        idx(0, h, qb, n) = static_cast<int32_t>((qb * 2 + n * 3 + h) % 7);
      fullNum(0, 0, qb) = qb % 2;
      fullIdx(0, 0, qb, 0) = static_cast<int32_t>(NKB - 1 - qb);
    }
  for (int64_t h = 0; h < H; ++h)
    for (int64_t i = 0; i < Lq; ++i)
      for (int64_t j = 0; j < Lk; ++j) {
        int64_t qb = i / 4, kb = j / 8;
        bool listed = fullNum(0, 0, qb) && fullIdx(0, 0, qb, 0) == kb;
        for (int64_t n = 0; n < num(0, h, qb); ++n)
          listed |= idx(0, h, qb, n) == kb; // ids 5 and 6 name no block
        mask(0, h, i, j) = listed;
      }
  AttentionParams blocks, masked;
  blocks.kvNumBlocks = &num;
  blocks.kvIndices = &idx;
  blocks.fullKvNumBlocks = &fullNum;
  blocks.fullKvIndices = &fullIdx;
  blocks.blockQ = 4;
  blocks.blockK = 8;
  blocks.causal = masked.causal = true;
  masked.boolMask = &mask;
  AttentionResult a = attention(q, k, v, blocks),
                  b = attention(q, k, v, masked);
  EXPECT_TRUE(near(a.out, b.out, 0.0));
  EXPECT_TRUE(near(a.lse, b.lse, 0.0));
}

// Block-list counts are clamped to [0, MB]: a count above the list width
// reads the whole list, a negative one reads none (Rationale.md).
TEST(Attention, BlockCountsAreClamped) {
  Random rng(31);
  int64_t H = 2, L = 12, D = 4;
  RefTensor q = rng.tensor({1, H, L, D}), k = rng.tensor({1, H, L, D}),
            v = rng.tensor({1, H, L, D});
  IndexTensor idx({1, 1, 3, 2}, 0), over({1, 1, 3}, 5), full({1, 1, 3}, 2),
      negative({1, 1, 3}, -4), zero({1, 1, 3}, 0);
  for (int64_t qb = 0; qb < 3; ++qb) {
    idx(0, 0, qb, 0) = static_cast<int32_t>(qb);
    idx(0, 0, qb, 1) = static_cast<int32_t>((qb + 1) % 3);
  }
  auto run = [&](const IndexTensor &counts) {
    AttentionParams p;
    p.kvNumBlocks = &counts;
    p.kvIndices = &idx;
    p.blockQ = 4;
    p.blockK = 4;
    return attention(q, k, v, p);
  };
  AttentionResult a = run(over), b = run(full), c = run(negative), d = run(zero);
  EXPECT_TRUE(near(a.out, b.out, 0.0));
  EXPECT_TRUE(near(c.out, d.out, 0.0));
  EXPECT_TRUE(near(c.lse, d.lse, 0.0));
}

// Differential attention with lambda = 0 is RMSNorm(attention(q1, k1, v)) *
// norm_weight * (1 - lambda_init); with lambda != 0 the difference of the two
// attentions goes through the same norm.
TEST(DiffAttention, MatchesNormalisedAttentionDifference) {
  Random rng(10);
  int64_t B = 1, Hq = 4, Hkv = 2, L = 7, D = 8, Dv = 6;
  RefTensor q1 = rng.tensor({B, Hq, L, D}), q2 = rng.tensor({B, Hq, L, D}),
            k1 = rng.tensor({B, Hkv, L, D}), k2 = rng.tensor({B, Hkv, L, D}),
            v = rng.tensor({B, Hkv, L, Dv}), w = rng.tensor({Dv}),
            lambda = rng.tensor({Hq});
  DiffAttentionParams p;
  p.lambdaInit = 0.2;
  p.causal = true;
  p.normWeight = &w;
  AttentionParams ap;
  ap.causal = true;
  RefTensor a1 = attention(q1, k1, v, ap).out,
            a2 = attention(q2, k2, v, ap).out;
  for (bool zero : {true, false}) {
    RefTensor lam = zero ? RefTensor({Hq}, 0.0) : lambda;
    RefTensor want(a1.shape);
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < L; ++i) {
        double ms = 0.0;
        for (int64_t c = 0; c < Dv; ++c) {
          double o = a1(0, h, i, c) - lam(h) * a2(0, h, i, c);
          ms += o * o / Dv;
        }
        for (int64_t c = 0; c < Dv; ++c)
          want(0, h, i, c) = (a1(0, h, i, c) - lam(h) * a2(0, h, i, c)) /
                             std::sqrt(ms + 1e-5) * w(c) * 0.8;
      }
    EXPECT_TRUE(near(diffAttention(q1, k1, q2, k2, v, lam, p).out, want));
  }
}

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

//===----------------------------------------------------------------------===//
// sparse_attention and the selection ops
//===----------------------------------------------------------------------===//

/// Keys [0, Lk) as blocks of `keyBlock`, in a scrambled order with -1
/// padding and duplicates, for every (b, head, query block).
IndexTensor allBlocks(int64_t B, int64_t heads, int64_t nq, int64_t lk,
                      int64_t keyBlock) {
  int64_t nb = (lk + keyBlock - 1) / keyBlock;
  IndexTensor idx({B, heads, nq, nb + 3}, -1);
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < nq; ++i) {
        for (int64_t n = 0; n < nb; ++n)
          idx(b, h, i, n + 1) =
              static_cast<int32_t>((i + h) % 2 ? nb - 1 - n : n);
        idx(b, h, i, nb + 2) = 0; // duplicate of a listed block
      }
  return idx;
}

// Every key listed (with padding and duplicates) equals dense attention,
// whichever index head count, key block and query block is used.
TEST(SparseAttention, AllIndicesEqualDense) {
  Random rng(27);
  int64_t B = 2, Hq = 6, Hkv = 2, Lq = 5, Lk = 37, D = 8, Dv = 3;
  RefTensor q = rng.tensor({B, Hq, Lq, D}), k = rng.tensor({B, Hkv, Lk, D}),
            v = rng.tensor({B, Hkv, Lk, Dv});
  for (bool causal : {false, true}) {
    AttentionParams ap;
    ap.causal = causal;
    AttentionResult dense = attention(q, k, v, ap);
    for (int64_t heads : {int64_t(1), Hkv, Hq})
      for (auto [qb, kb] :
           {std::pair<int64_t, int64_t>{1, 1}, {2, 8}, {5, 37}}) {
        SparseAttentionParams p;
        p.causal = causal;
        p.queryBlock = qb;
        p.keyBlock = kb;
        IndexTensor idx = allBlocks(B, heads, (Lq + qb - 1) / qb, Lk, kb);
        AttentionResult r = sparseAttention(q, k, v, idx, p);
        EXPECT_TRUE(near(r.out, dense.out)) << heads << " " << qb << " " << kb;
        EXPECT_TRUE(near(r.lse, dense.lse));
      }
  }
}

// A random selection of key blocks equals attention with the boolean mask of
// the selected keys; per-query-head indices (Hi = Hq), query_block = 2.
TEST(SparseAttention, SubsetEqualsMaskedAttention) {
  Random rng(28);
  int64_t B = 1, Hq = 4, Hkv = 2, Lq = 7, Lk = 37, kb = 4, nb = 10, K = 5;
  RefTensor q = rng.tensor({B, Hq, Lq, 8}), k = rng.tensor({B, Hkv, Lk, 8}),
            v = rng.tensor({B, Hkv, Lk, 6});
  IndexTensor idx({B, Hq, 4, K});
  BoolTensor mask({B, Hq, Lq, Lk}, 0);
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t qb = 0; qb < 4; ++qb)
      for (int64_t n = 0; n < K; ++n) {
        int32_t id = static_cast<int32_t>(rng.integer(-1, nb - 1));
        idx(0, h, qb, n) = id;
        for (int64_t i = qb * 2; i < std::min<int64_t>(Lq, qb * 2 + 2); ++i)
          for (int64_t j = 0; j < Lk && id >= 0; ++j)
            if (j / kb == id)
              mask(0, h, i, j) = 1;
      }
  SparseAttentionParams p;
  p.queryBlock = 2;
  p.keyBlock = kb;
  p.causal = true;
  AttentionParams ap;
  ap.boolMask = &mask;
  ap.causal = true;
  AttentionResult a = sparseAttention(q, k, v, idx, p),
                  b = attention(q, k, v, ap);
  EXPECT_TRUE(near(a.out, b.out, 0.0));
  EXPECT_TRUE(near(a.lse, b.lse, 0.0));
}

// topk_select with k >= Lk then sparse_attention is dense attention
// (decode Lq = 1 and prefill Lq = Lk, causal).
TEST(Selection, TopkWithAllKeysThenSparseEqualsDense) {
  Random rng(29);
  for (int64_t Lq : {1, 37}) {
    int64_t B = 1, Hq = 7, Hkv = 1, Lk = 37;
    RefTensor q = rng.tensor({B, Hq, Lq, 96}), k = rng.tensor({B, Hkv, Lk, 96}),
              v = rng.tensor({B, Hkv, Lk, 5});
    SelectionParams sp;
    sp.topk = 40;
    sp.causal = true;
    IndexTensor idx = topkSelect(q, k, sp).indices;
    SparseAttentionParams p;
    p.causal = true;
    AttentionParams ap;
    ap.causal = true;
    EXPECT_TRUE(
        near(sparseAttention(q, k, v, idx, p).out, attention(q, k, v, ap).out));
  }
}

/// Expected selection: forced keys first (ascending), then the others by
/// descending score, ties to the lower index, -1 padding.
std::vector<int32_t> expectedSelection(const std::vector<double> &score,
                                       int64_t last, int64_t sinks,
                                       int64_t local, int64_t topk) {
  std::vector<int32_t> forcedList, rest, out;
  for (int64_t j = 0; j <= last; ++j)
    (j < sinks || j > last - local ? forcedList : rest)
        .push_back(static_cast<int32_t>(j));
  std::stable_sort(rest.begin(), rest.end(),
                   [&](int32_t a, int32_t b) { return score[a] > score[b]; });
  out = forcedList;
  out.insert(out.end(), rest.begin(), rest.end());
  out.resize(static_cast<size_t>(topk), -1);
  return out;
}

// Integer-valued q and k make ties; the order, the causal candidate set,
// sinks and the local window are checked against a brute-force sort.
TEST(Selection, TopkOrderTiesSinksAndWindow) {
  Random rng(30);
  int64_t B = 1, Hq = 2, Hkv = 1, Lq = 6, Lk = 15, D = 3;
  RefTensor q({B, Hq, Lq, D}), k({B, Hkv, Lk, D});
  for (double &x : q.data)
    x = static_cast<double>(rng.integer(-2, 2));
  for (double &x : k.data)
    x = static_cast<double>(rng.integer(-1, 1));
  for (auto [sinks, local, topk] :
       {std::tuple<int64_t, int64_t, int64_t>{0, 0, 4},
        {2, 3, 7},
        {1, 0, 20},
        {5, 5, 3}}) {
    SelectionParams p;
    p.topk = topk;
    p.causal = true;
    p.sinkTokens = sinks;
    p.localWindow = local;
    IndexTensor got = topkSelect(q, k, p).indices;
    for (int64_t h = 0; h < Hq; ++h)
      for (int64_t i = 0; i < Lq; ++i) {
        int64_t last = i + Lk - Lq;
        std::vector<double> score(Lk);
        for (int64_t j = 0; j < Lk; ++j)
          for (int64_t d = 0; d < D; ++d)
            score[j] += q(0, h, i, d) * k(0, 0, j, d);
        std::vector<int32_t> want =
            expectedSelection(score, last, sinks, local, topk);
        for (int64_t n = 0; n < topk; ++n)
          EXPECT_EQ(got(0, h, i, n), want[n])
              << "h" << h << " i" << i << " n" << n;
      }
  }
}

// Adamas against a brute-force evaluation with the Hadamard matrix written
// as (-1)^popcount(i & j) and nearest-level quantisation by search.
TEST(Selection, AdamasMatchesBruteForce) {
  Random rng(31);
  int64_t B = 1, Hq = 2, Hkv = 2, Lq = 3, Lk = 21, D = 16, topk = 6;
  RefTensor q = rng.tensor({B, Hq, Lq, D}), k = rng.tensor({B, Hkv, Lk, D});
  auto transform = [&](const RefTensor &x, int64_t h, int64_t i) {
    std::vector<double> y(D, 0.0);
    for (int64_t a = 0; a < D; ++a)
      for (int64_t b = 0; b < D; ++b)
        y[a] += (__builtin_popcountll(a & b) % 2 ? -1.0 : 1.0) * x(0, h, i, b) /
                std::sqrt(double(D));
    return y;
  };
  SelectionParams p;
  p.topk = topk;
  p.causal = true;
  IndexTensor got = adamasSelect(q, k, p).indices;
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t i = 0; i < Lq; ++i) {
      std::vector<double> qt = transform(q, h, i), score(Lk);
      for (int64_t j = 0; j < Lk; ++j) {
        std::vector<double> kt = transform(k, h, j);
        double amax = 0;
        for (double x : kt)
          amax = std::max(amax, std::fabs(x));
        double s = amax / 1.5;
        for (int64_t d = 0; d < D; ++d) {
          double best = 0, bestDist = kInf;
          for (double level : {-1.5, -0.5, 0.5, 1.5})
            if (std::fabs(kt[d] - level * s) < bestDist) {
              bestDist = std::fabs(kt[d] - level * s);
              best = level * s;
            }
          score[j] -= std::fabs(qt[d] - best);
        }
      }
      std::vector<int32_t> want =
          expectedSelection(score, i + Lk - Lq, 0, 0, topk);
      for (int64_t n = 0; n < topk; ++n)
        EXPECT_EQ(got(0, h, i, n), want[n]);
    }
}

// page_bounds against brute force; Quest's bound really bounds q.k over
// its page; quest_select with every page then sparse_attention with
// key_block = page_size equals dense causal attention (partial last page,
// key_length = 37).
TEST(Selection, PageBoundsAndQuest) {
  Random rng(32);
  int64_t B = 1, Hq = 4, Hkv = 2, Lq = 3, Lk = 37, D = 8, page = 8, P = 5;
  RefTensor q = rng.tensor({B, Hq, Lq, D}), k = rng.tensor({B, Hkv, Lk, D}),
            v = rng.tensor({B, Hkv, Lk, 4});
  PageBoundsResult pb = pageBounds(k, page);
  ASSERT_EQ(pb.kmin.shape, (std::vector<int64_t>{B, Hkv, P, D}));
  for (int64_t h = 0; h < Hkv; ++h)
    for (int64_t p = 0; p < P; ++p)
      for (int64_t d = 0; d < D; ++d) {
        double lo = kInf, hi = -kInf;
        for (int64_t j = p * page; j < std::min(Lk, (p + 1) * page); ++j) {
          lo = std::min(lo, k(0, h, j, d));
          hi = std::max(hi, k(0, h, j, d));
        }
        EXPECT_EQ(pb.kmin(0, h, p, d), lo);
        EXPECT_EQ(pb.kmax(0, h, p, d), hi);
      }
  QuestParams qp;
  qp.pageSize = page;
  qp.keyLength = Lk;
  qp.topk = 2;
  IndexTensor two = questSelect(q, pb.kmin, pb.kmax, qp).indices;
  for (int64_t h = 0; h < Hq; ++h)
    for (int64_t i = 0; i < Lq; ++i) {
      std::vector<double> bound(P, 0.0);
      for (int64_t p = 0; p < P; ++p) {
        for (int64_t d = 0; d < D; ++d)
          bound[p] += std::max(q(0, h, i, d) * pb.kmin(0, h / 2, p, d),
                               q(0, h, i, d) * pb.kmax(0, h / 2, p, d));
        for (int64_t j = p * page; j < std::min(Lk, (p + 1) * page); ++j) {
          double s = 0;
          for (int64_t d = 0; d < D; ++d)
            s += q(0, h, i, d) * k(0, h / 2, j, d);
          EXPECT_LE(s, bound[p] + 1e-12);
        }
      }
      std::vector<int32_t> want = expectedSelection(bound, P - 1, 0, 0, 2);
      EXPECT_EQ(two(0, h, i, 0), want[0]);
      EXPECT_EQ(two(0, h, i, 1), want[1]);
    }
  qp.topk = P;
  qp.causal = true;
  IndexTensor all = questSelect(q, pb.kmin, pb.kmax, qp).indices;
  SparseAttentionParams sp;
  sp.keyBlock = page;
  sp.causal = true;
  AttentionParams ap;
  ap.causal = true;
  EXPECT_TRUE(
      near(sparseAttention(q, k, v, all, sp).out, attention(q, k, v, ap).out));
}

// Quest forces the pages holding sink tokens and the local window; with
// key_length = 37 and page 8, query 0 of Lq = 3 sees keys 0..34 (pages 0-4);
// local_window 6 covers keys 29..34 = pages 3 and 4; sink_tokens 9 covers
// keys 0..8 = pages 0 and 1.
TEST(Selection, QuestForcedPages) {
  Random rng(33);
  RefTensor q = rng.tensor({1, 1, 3, 4}), k = rng.tensor({1, 1, 37, 4});
  PageBoundsResult pb = pageBounds(k, 8);
  QuestParams qp;
  qp.pageSize = 8;
  qp.keyLength = 37;
  qp.topk = 5;
  qp.causal = true;
  qp.sinkTokens = 9;
  qp.localWindow = 6;
  IndexTensor r = questSelect(q, pb.kmin, pb.kmax, qp).indices;
  EXPECT_EQ(r(0, 0, 0, 0), 0);
  EXPECT_EQ(r(0, 0, 0, 1), 1);
  EXPECT_EQ(r(0, 0, 0, 2), 3);
  EXPECT_EQ(r(0, 0, 0, 3), 4);
  EXPECT_EQ(r(0, 0, 0, 4), 2);
}

// DSA indexer scores against brute force, and with k >= Lk its [B,1,Lq,k]
// selection feeds sparse_attention (Hi = 1) to give dense attention.
TEST(Selection, DsaIndexer) {
  Random rng(34);
  int64_t B = 2, Hi = 3, Lq = 4, Lk = 11, Di = 5;
  RefTensor qi = rng.tensor({B, Hi, Lq, Di}), ki = rng.tensor({B, 1, Lk, Di}),
            w = rng.tensor({B, Hi, Lq}, 0.0, 1.0);
  SelectionParams p;
  p.topk = 3;
  p.causal = true;
  p.sinkTokens = 1;
  IndexTensor got = dsaIndexer(qi, ki, w, p).indices;
  ASSERT_EQ(got.shape, (std::vector<int64_t>{B, 1, Lq, 3}));
  for (int64_t b = 0; b < B; ++b)
    for (int64_t i = 0; i < Lq; ++i) {
      std::vector<double> score(Lk, 0.0);
      for (int64_t j = 0; j < Lk; ++j)
        for (int64_t h = 0; h < Hi; ++h) {
          double s = 0;
          for (int64_t d = 0; d < Di; ++d)
            s += qi(b, h, i, d) * ki(b, 0, j, d);
          score[j] += w(b, h, i) * std::max(s, 0.0);
        }
      std::vector<int32_t> want =
          expectedSelection(score, i + Lk - Lq, 1, 0, 3);
      for (int64_t n = 0; n < 3; ++n)
        EXPECT_EQ(got(b, 0, i, n), want[n]);
    }
  p.topk = Lk;
  p.sinkTokens = 0;
  IndexTensor all = dsaIndexer(qi, ki, w, p).indices;
  RefTensor q = rng.tensor({B, 4, Lq, 6}), k = rng.tensor({B, 2, Lk, 6}),
            v = rng.tensor({B, 2, Lk, 3});
  SparseAttentionParams sp;
  sp.causal = true;
  AttentionParams ap;
  ap.causal = true;
  EXPECT_TRUE(
      near(sparseAttention(q, k, v, all, sp).out, attention(q, k, v, ap).out));
}

//===----------------------------------------------------------------------===//
// quant_attention
//===----------------------------------------------------------------------===//

/// Random codes with power-of-two scales (and zero points on a 1/16 grid),
/// so every dequantised value is exact in fp64; the test decodes them itself.
struct QuantCase {
  CodeTensor kCodes, vCodes;
  RefTensor kScale, vScale, kZero, vZero, k, v;
};

QuantCase makeQuantCase(Random &rng, int64_t B, int64_t H, int64_t Lk,
                        int64_t D, int64_t Dv, int64_t bits, int64_t g,
                        bool zero) {
  QuantCase c;
  int64_t perByte = bits == 8 ? 1 : 2;
  c.kCodes = CodeTensor({B, H, Lk, D / perByte});
  c.vCodes = CodeTensor({B, H, Lk, Dv / perByte});
  for (int8_t &x : c.kCodes.data)
    x = static_cast<int8_t>(rng.integer(-128, 127));
  for (int8_t &x : c.vCodes.data)
    x = static_cast<int8_t>(rng.integer(-128, 127));
  c.kScale = RefTensor({B, H, (Lk + g - 1) / g, D});
  c.vScale = RefTensor({B, H, Lk, (Dv + g - 1) / g});
  for (RefTensor *s : {&c.kScale, &c.vScale})
    for (double &x : s->data)
      x = std::ldexp(1.0, static_cast<int>(rng.integer(-9, -4)));
  c.kZero = RefTensor(c.kScale.shape);
  c.vZero = RefTensor(c.vScale.shape);
  for (RefTensor *z : {&c.kZero, &c.vZero})
    for (double &x : z->data)
      x = static_cast<double>(rng.integer(-16, 16)) / 16.0;
  auto decode = [&](const CodeTensor &codes, int64_t b, int64_t h, int64_t j,
                    int64_t e) -> double {
    uint8_t byte = static_cast<uint8_t>(codes(b, h, j, e / perByte));
    int64_t u = bits == 8 ? byte : (e % 2 ? byte >> 4 : byte & 15);
    if (zero)
      return static_cast<double>(u);
    int64_t half = int64_t(1) << (bits - 1);
    return static_cast<double>(u >= half ? u - 2 * half : u);
  };
  c.k = RefTensor({B, H, Lk, D});
  c.v = RefTensor({B, H, Lk, Dv});
  for (int64_t b = 0; b < B; ++b)
    for (int64_t h = 0; h < H; ++h)
      for (int64_t j = 0; j < Lk; ++j) {
        for (int64_t e = 0; e < D; ++e)
          c.k(b, h, j, e) =
              c.kScale(b, h, j / g, e) * decode(c.kCodes, b, h, j, e) +
              (zero ? c.kZero(b, h, j / g, e) : 0.0);
        for (int64_t e = 0; e < Dv; ++e)
          c.v(b, h, j, e) =
              c.vScale(b, h, j, e / g) * decode(c.vCodes, b, h, j, e) +
              (zero ? c.vZero(b, h, j, e / g) : 0.0);
      }
  return c;
}

// With exact codes the op equals attention on the dequantised tensors:
// 8 and 4 bits, with and without zero points, group sizes 1 and 3 over
// Lk = 37 and Dv = 10 (partial last groups), GQA, causal.
TEST(QuantAttention, ExactCodesEqualAttentionOnDequantised) {
  Random rng(35);
  int64_t B = 1, Hq = 6, Hkv = 2, Lq = 4, Lk = 37, D = 8, Dv = 10;
  RefTensor q = rng.tensor({B, Hq, Lq, D});
  for (int64_t bits : {8, 4})
    for (bool zero : {false, true})
      for (int64_t g : {1, 3}) {
        QuantCase c = makeQuantCase(rng, B, Hkv, Lk, D, Dv, bits, g, zero);
        QuantAttentionParams p;
        p.bits = bits;
        p.groupSize = g;
        p.causal = true;
        if (zero) {
          p.kZero = &c.kZero;
          p.vZero = &c.vZero;
        }
        AttentionParams ap;
        ap.causal = true;
        AttentionResult got =
            quantAttention(q, c.kCodes, c.kScale, c.vCodes, c.vScale, p);
        AttentionResult want = attention(q, c.k, c.v, ap);
        EXPECT_TRUE(near(got.out, want.out, 0.0)) << bits << zero << g;
        EXPECT_TRUE(near(got.lse, want.lse, 0.0));
      }
}

// Nibble order and sign: byte 0x8F holds low nibble 0xF (-1 signed, 15
// unsigned) then high nibble 0x8 (-8 signed, 8 unsigned).
TEST(QuantAttention, NibbleDecoding) {
  CodeTensor codes({1, 1, 1, 1}, static_cast<int8_t>(0x8F));
  RefTensor scale({1, 1, 1, 2}, 1.0), zero({1, 1, 1, 2}, 0.5);
  QuantParams p;
  p.bits = 4;
  RefTensor s = dequantizeKeys(codes, scale, p);
  EXPECT_EQ(s(0, 0, 0, 0), -1.0);
  EXPECT_EQ(s(0, 0, 0, 1), -8.0);
  p.kZero = &zero;
  RefTensor u = dequantizeKeys(codes, scale, p);
  EXPECT_EQ(u(0, 0, 0, 0), 15.5);
  EXPECT_EQ(u(0, 0, 0, 1), 8.5);
}

//===----------------------------------------------------------------------===//
// Product quantisation
//===----------------------------------------------------------------------===//

// Encoding keys that are centroids returns their own indices (Kc = 256
// bytes, read unsigned; Kc = 16 packed low nibble first).
TEST(ProductQuantization, EncodingCentroidsReturnsTheirIndices) {
  Random rng(36);
  for (int64_t kc : {256, 16}) {
    int64_t H = 2, m = 4, ds = 3, L = 37;
    RefTensor books = rng.tensor({H, m, kc, ds});
    RefTensor k({1, H, L, m * ds});
    std::vector<int64_t> chosen;
    for (int64_t h = 0; h < H; ++h)
      for (int64_t j = 0; j < L; ++j)
        for (int64_t s = 0; s < m; ++s) {
          int64_t c = rng.integer(0, kc - 1);
          chosen.push_back(c);
          for (int64_t e = 0; e < ds; ++e)
            k(0, h, j, s * ds + e) = books(h, s, c, e);
        }
    CodeTensor codes = pqEncode(k, books).codes;
    ASSERT_EQ(codes.dim(3), kc == 256 ? m : m / 2);
    size_t n = 0;
    for (int64_t h = 0; h < H; ++h)
      for (int64_t j = 0; j < L; ++j)
        for (int64_t s = 0; s < m; ++s, ++n) {
          uint8_t byte =
              static_cast<uint8_t>(codes(0, h, j, kc == 256 ? s : s / 2));
          int64_t code = kc == 256 ? byte : (s % 2 ? byte >> 4 : byte & 15);
          EXPECT_EQ(code, chosen[n]);
        }
  }
}

// m = D (one-dimensional sub-spaces) with codebooks holding exactly the key
// values: encoding is lossless and pq_attention equals attention.
TEST(ProductQuantization, ExactCodebooksGiveExactAttention) {
  Random rng(37);
  int64_t B = 1, Hq = 7, Hkv = 1, Lq = 3, Lk = 37, D = 6, Dv = 4;
  RefTensor q = rng.tensor({B, Hq, Lq, D}), k = rng.tensor({B, Hkv, Lk, D}),
            v = rng.tensor({B, Hkv, Lk, Dv});
  RefTensor books({Hkv, D, 256, 1});
  for (int64_t s = 0; s < D; ++s)
    for (int64_t c = 0; c < 256; ++c)
      books(0, s, c, 0) = c < Lk ? k(0, 0, c, s) : 10.0 + c; // far fillers
  CodeTensor codes = pqEncode(k, books).codes;
  PqAttentionParams p;
  p.causal = true;
  AttentionParams ap;
  ap.causal = true;
  AttentionResult got = pqAttention(q, codes, books, v, p),
                  want = attention(q, k, v, ap);
  EXPECT_TRUE(near(got.out, want.out));
  EXPECT_TRUE(near(got.lse, want.lse));
}

// With N = Kc distinct points k-means++ must pick every point once (chosen
// points have zero weight) and Lloyd keeps them; the fit is a function of
// the seed alone.
TEST(ProductQuantization, FitIsDeterministicAndExactWhenNEqualsKc) {
  Random rng(38);
  int64_t H = 2, N = 16, D = 4, m = 2;
  RefTensor keys = rng.tensor({H, N, D});
  PqFitParams p;
  p.m = m;
  p.kc = 16;
  p.seed = 42;
  RefTensor a = pqFit(keys, p).codebooks, b = pqFit(keys, p).codebooks;
  EXPECT_TRUE(near(a, b, 0.0));
  for (int64_t h = 0; h < H; ++h)
    for (int64_t s = 0; s < m; ++s) {
      std::set<std::pair<double, double>> points, centroids;
      for (int64_t i = 0; i < N; ++i)
        points.insert({keys(h, i, s * 2), keys(h, i, s * 2 + 1)});
      for (int64_t c = 0; c < 16; ++c)
        centroids.insert({a(h, s, c, 0), a(h, s, c, 1)});
      EXPECT_EQ(points, centroids);
    }
  p.seed = 43;
  EXPECT_FALSE(near(pqFit(keys, p).codebooks, a, 0.0)); // another order
}

// iters = 0 returns the k-means++ seeds; they follow the documented
// contract: splitmix64 seeded with seed ^ (0x9E3779B97F4A7C15 * (h*m+s+1)),
// u = (next >> 11) * 2^-53, first seed floor(u N), then the first point whose
// cumulative D^2 exceeds u * sum D^2. Written out here independently.
TEST(ProductQuantization, SeedingFollowsDocumentedPrng) {
  Random rng(42);
  int64_t H = 2, N = 40, D = 6, m = 3, ds = 2, kc = 16;
  RefTensor keys = rng.tensor({H, N, D});
  PqFitParams p;
  p.m = m;
  p.kc = kc;
  p.iters = 0;
  p.seed = 0x1234;
  RefTensor books = pqFit(keys, p).codebooks;
  for (int64_t h = 0; h < H; ++h)
    for (int64_t s = 0; s < m; ++s) {
      uint64_t state =
          p.seed ^ (0x9E3779B97F4A7C15ULL * uint64_t(h * m + s + 1));
      auto uniform = [&] {
        uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
        z ^= z >> 31;
        return double(z >> 11) * 0x1.0p-53;
      };
      auto point = [&](int64_t i, int64_t e) { return keys(h, i, s * ds + e); };
      std::vector<int64_t> picks{int64_t(uniform() * N)};
      while (int64_t(picks.size()) < kc) {
        std::vector<double> d2(N, kInf);
        double total = 0;
        for (int64_t i = 0; i < N; ++i) {
          for (int64_t c : picks) {
            double dd = 0;
            for (int64_t e = 0; e < ds; ++e)
              dd += (point(i, e) - point(c, e)) * (point(i, e) - point(c, e));
            d2[i] = std::min(d2[i], dd);
          }
          total += d2[i];
        }
        double target = uniform() * total, cum = 0;
        int64_t pick = 0;
        for (int64_t i = 0; i < N; ++i) {
          cum += d2[i];
          if (cum > target) {
            pick = i;
            break;
          }
        }
        picks.push_back(pick);
      }
      for (int64_t c = 0; c < kc; ++c)
        for (int64_t e = 0; e < ds; ++e)
          EXPECT_EQ(books(h, s, c, e), point(picks[c], e)) << h << s << c;
    }
}

// After Lloyd converges every centroid is the mean of the points nearest to
// it, and encoding with the fitted codebooks beats a random codebook.
TEST(ProductQuantization, FitReachesLloydFixedPoint) {
  Random rng(39);
  int64_t N = 200, D = 4, m = 2, ds = 2;
  RefTensor keys = rng.tensor({1, N, D});
  PqFitParams p;
  p.m = m;
  p.kc = 16;
  p.iters = 500;
  p.seed = 7;
  RefTensor books = pqFit(keys, p).codebooks;
  for (int64_t s = 0; s < m; ++s) {
    std::vector<double> sum(16 * ds, 0.0);
    std::vector<int64_t> count(16, 0);
    for (int64_t i = 0; i < N; ++i) {
      int64_t best = 0;
      double bestDist = kInf;
      for (int64_t c = 0; c < 16; ++c) {
        double dist = 0;
        for (int64_t e = 0; e < ds; ++e)
          dist += std::pow(keys(0, i, s * ds + e) - books(0, s, c, e), 2);
        if (dist < bestDist) {
          bestDist = dist;
          best = c;
        }
      }
      ++count[best];
      for (int64_t e = 0; e < ds; ++e)
        sum[best * ds + e] += keys(0, i, s * ds + e);
    }
    for (int64_t c = 0; c < 16; ++c) {
      ASSERT_GT(count[c], 0);
      for (int64_t e = 0; e < ds; ++e)
        EXPECT_NEAR(books(0, s, c, e), sum[c * ds + e] / count[c], 1e-12);
    }
  }
}

//===----------------------------------------------------------------------===//
// Argument validation
//===----------------------------------------------------------------------===//

TEST(Validation, ErrorsNameTheArgument) {
  Random rng(40);
  RefTensor q = rng.tensor({1, 4, 3, 8}), k = rng.tensor({1, 2, 5, 8}),
            v = rng.tensor({1, 2, 5, 6});
  EXPECT_TRUE(throwsNaming(
      [&] {
        attention(q, k, rng.tensor({1, 2, 4, 6}));
      },
      "'v'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        attention(q, rng.tensor({1, 3, 5, 8}), v);
      },
      "'k'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        attention(q, rng.tensor({1, 2, 5, 7}), v);
      },
      "'k'"));
  RefTensor broken = q;
  broken.data.pop_back();
  EXPECT_TRUE(throwsNaming([&] { attention(broken, k, v); }, "'q'"));
  BoolTensor mask({2, 4, 3, 5});
  AttentionParams mp;
  mp.boolMask = &mask;
  EXPECT_TRUE(throwsNaming([&] { attention(q, k, v, mp); }, "'mask'"));
  RefTensor sinks({3});
  AttentionParams sp;
  sp.sinks = &sinks;
  EXPECT_TRUE(throwsNaming([&] { attention(q, k, v, sp); }, "'sinks'"));
  IndexTensor num({1, 1, 1}, 1);
  AttentionParams bp;
  bp.kvNumBlocks = &num;
  EXPECT_TRUE(throwsNaming([&] { attention(q, k, v, bp); }, "'kv_indices'"));
  AttentionParams wp;
  wp.window = std::make_pair<int64_t, int64_t>(-1, 0);
  EXPECT_TRUE(throwsNaming([&] { attention(q, k, v, wp); }, "'window'"));

  EXPECT_TRUE(throwsNaming(
      [&] {
        merge(RefTensor({2, 1, 1, 3, 4}), RefTensor({2, 1, 1, 4}));
      },
      "'lses'"));

  RefTensor lq = rng.tensor({1, 2, 5, 4}), lv = rng.tensor({1, 2, 5, 3});
  LinearAttentionParams lp;
  RefTensor badState({1, 2, 3, 4});
  lp.stateIn = &badState;
  EXPECT_TRUE(
      throwsNaming([&] { linearAttention(lq, lq, lv, lp); }, "'state_in'"));
  LinearAttentionParams gp;
  gp.decay = DecayKind::Vector;
  EXPECT_TRUE(throwsNaming([&] { linearAttention(lq, lq, lv, gp); }, "'g'"));

  EXPECT_TRUE(throwsNaming(
      [&] {
        deltaRule(lq, lq, lv, RefTensor({1, 2, 4}));
      },
      "'beta'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        logLinear(lq, lq, lv, RefTensor({1, 2, 5, 3}));
      },
      "'lambda'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        lolcatsHybrid(lq, lq, lv, lq, lq, RefTensor({3}), LolcatsParams{});
      },
      "'gamma'"));

  EXPECT_TRUE(throwsNaming(
      [&] {
        sparseAttention(q, k, v, IndexTensor({1, 3, 3, 2}));
      },
      "'indices'"));
  SelectionParams zero;
  zero.topk = 0;
  EXPECT_TRUE(throwsNaming([&] { topkSelect(q, k, zero); }, "'topk'"));
  SelectionParams one;
  EXPECT_TRUE(throwsNaming(
      [&] {
        adamasSelect(rng.tensor({1, 1, 2, 6}), rng.tensor({1, 1, 2, 6}), one);
      },
      "'q'"));
  QuestParams qp;
  qp.pageSize = 2;
  qp.keyLength = 9;
  EXPECT_TRUE(throwsNaming(
      [&] {
        questSelect(q, RefTensor({1, 2, 4, 8}), RefTensor({1, 2, 4, 8}), qp);
      },
      "'key_length'"));

  QuantAttentionParams quant;
  quant.groupSize = 2;
  EXPECT_TRUE(throwsNaming(
      [&] {
        quantAttention(q, CodeTensor({1, 2, 5, 8}), RefTensor({1, 2, 2, 8}),
                       CodeTensor({1, 2, 5, 6}), RefTensor({1, 2, 5, 3}),
                       quant);
      },
      "'k_scale'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        quantAttention(q, CodeTensor({1, 2, 5, 8}), RefTensor({1, 2, 3, 8}),
                       CodeTensor({1, 2, 4, 6}), RefTensor({1, 2, 4, 3}),
                       quant);
      },
      "'v_codes'"));
  EXPECT_TRUE(throwsNaming(
      [&] {
        pqEncode(rng.tensor({1, 2, 5, 8}), RefTensor({2, 3, 256, 2}));
      },
      "'codebooks'"));
  PqFitParams fp;
  fp.kc = 256;
  EXPECT_TRUE(throwsNaming(
      [&] {
        pqFit(rng.tensor({1, 100, 8}), fp);
      },
      "'keys'"));
}

} // namespace
