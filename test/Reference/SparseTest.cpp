//===- SparseTest.cpp - Tests of the token-sparse reference ops -------------===//
//
// sparse_attention and the selection ops against brute force: all indices
// equal dense attention, order and ties of the selections, Quest bounds.
// Inputs are random and non-zero, shapes odd (L = 1, L = 37, D = 96, G = 7).
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

using namespace attn::reference;
using namespace attn::reference::testing;

namespace {

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

} // namespace
