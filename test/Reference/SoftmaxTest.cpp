//===- SoftmaxTest.cpp - Tests of the softmax-family reference ops ----------===//
//
// attn.attention, attn.merge and attn.diff_attention: hand-evaluated cases, a
// naive loop written here, and identities between the ops (split KV merged
// equals full, GQA equals repeated MHA, block lists equal block masks).
// Inputs are random and non-zero, shapes odd (L = 1, L = 37, D = 96, G = 7).
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

using namespace attn::reference;
using namespace attn::reference::testing;

namespace {

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

/// A cache read through key counts and a page table is attention over each
/// row's prefix: row b of the paged result equals plain attention over the
/// first n_b keys of that row (causal and window aligned at n_b), including
/// an empty row (0, -inf) and a count past the table (clamped to Lk).
TEST(Attention, PagedCacheWithCountsEqualsPrefixAttention) {
  Random rng(21);
  int64_t B = 4, Hq = 6, Hkv = 2, Lq = 3, D = 10, Dv = 7, PS = 4, NP = 5,
          P = 23;
  int64_t Lk = NP * PS;
  RefTensor q = rng.tensor({B, Hq, Lq, D});
  RefTensor kPool = rng.tensor({P, Hkv, PS, D}), vPool = rng.tensor({P, Hkv, PS, Dv});
  // Distinct pages per row, in scrambled order; stale entries past a row's
  // count are out of range and must not be read.
  IndexTensor table({B, NP}), lens({B});
  std::vector<int32_t> pages;
  for (int32_t p = 0; p < P; ++p)
    pages.push_back((p * 7 + 3) % P);
  const int32_t counts[] = {0, 5, 13, 99};
  for (int64_t b = 0; b < B; ++b) {
    lens.data[b] = counts[b];
    int64_t used = (std::min<int64_t>(counts[b], Lk) + PS - 1) / PS;
    for (int64_t s = 0; s < NP; ++s)
      table.data[b * NP + s] = s < used ? pages[b * NP + s] : 1000 + int32_t(s);
  }
  for (bool causal : {false, true}) {
    AttentionParams p;
    p.causal = causal;
    p.window = std::make_pair(int64_t(6), int64_t(1));
    p.kvLens = &lens;
    p.blockTable = &table;
    AttentionResult paged = attention(q, kPool, vPool, p);
    for (int64_t b = 0; b < B; ++b) {
      int64_t n = std::min<int64_t>(counts[b], Lk);
      RefTensor qb({1, Hq, Lq, D}), kb({1, Hkv, n, D}), vb({1, Hkv, n, Dv});
      std::copy_n(q.data.begin() + b * Hq * Lq * D, Hq * Lq * D, qb.data.begin());
      for (int64_t h = 0; h < Hkv; ++h)
        for (int64_t j = 0; j < n; ++j) {
          int64_t page = table.data[b * NP + j / PS];
          for (int64_t d = 0; d < D; ++d)
            kb(0, h, j, d) = kPool(page, h, j % PS, d);
          for (int64_t d = 0; d < Dv; ++d)
            vb(0, h, j, d) = vPool(page, h, j % PS, d);
        }
      AttentionParams plain;
      plain.causal = causal;
      plain.window = p.window;
      AttentionResult want = attention(qb, kb, vb, plain);
      RefTensor gotOut({1, Hq, Lq, Dv}), gotLse({1, Hq, Lq});
      std::copy_n(paged.out.data.begin() + b * Hq * Lq * Dv, Hq * Lq * Dv,
                  gotOut.data.begin());
      std::copy_n(paged.lse.data.begin() + b * Hq * Lq, Hq * Lq, gotLse.data.begin());
      EXPECT_TRUE(near(gotOut, want.out)) << "row " << b << " causal " << causal;
      EXPECT_TRUE(near(gotLse, want.lse)) << "row " << b << " causal " << causal;
    }
  }
  // A page of a visible key outside the pool is an error naming the table.
  table.data[1 * NP + 0] = int32_t(P);
  AttentionParams bad;
  bad.kvLens = &lens;
  bad.blockTable = &table;
  EXPECT_TRUE(throwsNaming([&] { attention(q, kPool, vPool, bad); }, "'block_table'"));
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

} // namespace
