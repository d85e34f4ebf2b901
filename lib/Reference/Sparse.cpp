//===- Sparse.cpp - Token-sparse attention and selection --------*- C++ -*-===//
//
// This file implements attn.sparse_attention and the selection ops that feed
// it: topk_select, adamas_select, page_bounds, quest_select and dsa_indexer.
// Every selection op scores all candidates of a query and sorts them, which
// is the exact answer approximate GPU top-k kernels are checked against.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <numeric>

namespace attn {
namespace reference {

using namespace detail;

//===----------------------------------------------------------------------===//
// attn.sparse_attention
//===----------------------------------------------------------------------===//

AttentionResult sparseAttention(const RefTensor &q, const RefTensor &k,
                                const RefTensor &v, const IndexTensor &indices,
                                const SparseAttentionParams &params) {
  const char *op = "sparse_attention";
  checkQkv(op, q, k, v);
  int64_t batch = q.dim(0), hq = q.dim(1), lq = q.dim(2), d = q.dim(3);
  int64_t hkv = k.dim(1), lk = k.dim(2), dv = v.dim(3);
  int64_t group = hq / hkv;
  if (params.queryBlock <= 0)
    fail(op, "'query_block' must be positive, got " +
                 std::to_string(params.queryBlock));
  if (params.keyBlock <= 0)
    fail(op, "'key_block' must be positive, got " +
                 std::to_string(params.keyBlock));
  checkRank(op, "indices", indices, 4);
  checkShape(op, "indices", indices,
             {batch, -1, ceilDiv(lq, params.queryBlock), -1});
  int64_t hi = indices.dim(1), width = indices.dim(3);
  if (hi != 1 && hi != hkv && hi != hq)
    fail(op, "'indices' has " + std::to_string(hi) +
                 " heads, expected 1, Hkv = " + std::to_string(hkv) +
                 " or Hq = " + std::to_string(hq));
  double scale = params.scale.value_or(1.0 / std::sqrt(static_cast<double>(d)));
  int64_t numKeyBlocks = ceilDiv(lk, params.keyBlock);

  AttentionResult r{RefTensor({batch, hq, lq, dv}), RefTensor({batch, hq, lq})};
  std::vector<uint8_t> selected(static_cast<size_t>(lk));
  std::vector<double> scores(static_cast<size_t>(lk));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < hq; ++h) {
      int64_t kvh = h / group;
      int64_t ih = hi == hq ? h : hi == hkv ? kvh : 0;
      for (int64_t i = 0; i < lq; ++i) {
        // A set, not a list: duplicate block ids select their keys once.
        std::fill(selected.begin(), selected.end(), 0);
        const int32_t *list =
            indices.data.data() +
            off4(indices.shape, b, ih, i / params.queryBlock, 0);
        for (int64_t n = 0; n < width; ++n) {
          int64_t blk = list[n];
          if (blk < 0 || blk >= numKeyBlocks)
            continue; // -1 pads; other ids outside the key axis are ignored.
          int64_t end = std::min(lk, (blk + 1) * params.keyBlock);
          for (int64_t j = blk * params.keyBlock; j < end; ++j)
            selected[j] = 1;
        }
        const double *qi = row4(q, b, h, i);
        for (int64_t j = 0; j < lk; ++j) {
          bool visible = selected[j] && (!params.causal || j <= i + lk - lq);
          scores[j] = visible ? scale * dot(qi, row4(k, b, kvh, j), d) : -kInf;
        }
        r.lse.data[off3(r.lse.shape, b, h, i)] = softmaxRow(
            scores, row4(v, b, kvh, 0), dv, nullptr, row4(r.out, b, h, i));
      }
    }
  }
  return r;
}

//===----------------------------------------------------------------------===//
// Selection
//===----------------------------------------------------------------------===//

namespace {

void checkSelection(const char *op, const SelectionParams &p) {
  if (p.topk <= 0)
    fail(op, "'topk' must be positive, got " + std::to_string(p.topk));
  if (p.sinkTokens < 0)
    fail(op, "'sink_tokens' must be >= 0, got " + std::to_string(p.sinkTokens));
  if (p.localWindow < 0)
    fail(op,
         "'local_window' must be >= 0, got " + std::to_string(p.localWindow));
}

/// The last key query i may select: bottom-right causal, or the last key.
/// Negative when the query sees nothing.
int64_t lastVisibleKey(const SelectionParams &p, int64_t i, int64_t lq,
                       int64_t lk) {
  return p.causal ? std::min(i + lk - lq, lk - 1) : lk - 1;
}

/// Writes the selection of one query into out[0..topk): forced items first
/// (as if their score were +inf, so ascending index among themselves), then
/// the other candidates by descending score, ties to the lower index, then
/// -1 padding. Items are [0, scores.size()); all of them are candidates.
void selectRow(const std::vector<double> &scores,
               const std::vector<uint8_t> &forced, int64_t topk, int32_t *out) {
  std::vector<int64_t> order(scores.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) {
    if (forced[a] != forced[b])
      return forced[a] > forced[b];
    if (forced[a])
      return false; // Both forced: the stable sort keeps index order.
    return scores[a] > scores[b];
  });
  for (int64_t n = 0; n < topk; ++n)
    out[n] = n < static_cast<int64_t>(order.size())
                 ? static_cast<int32_t>(order[n])
                 : -1;
}

/// Token-level selection: `score(b, h, i, j)` over the visible keys of each
/// query, sink and local-window keys forced.
template <typename ScoreFn>
SelectionResult selectTokens(const SelectionParams &p, int64_t batch,
                             int64_t heads, int64_t lq, int64_t lk,
                             ScoreFn score) {
  SelectionResult r{IndexTensor({batch, heads, lq, p.topk}, -1)};
  std::vector<double> scores;
  std::vector<uint8_t> forced;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t i = 0; i < lq; ++i) {
        int64_t last = lastVisibleKey(p, i, lq, lk);
        int64_t count = std::max<int64_t>(last + 1, 0);
        scores.resize(static_cast<size_t>(count));
        forced.assign(static_cast<size_t>(count), 0);
        for (int64_t j = 0; j < count; ++j) {
          scores[j] = score(b, h, i, j);
          forced[j] = j < p.sinkTokens || j > last - p.localWindow;
        }
        selectRow(scores, forced, p.topk,
                  r.indices.data.data() + off4(r.indices.shape, b, h, i, 0));
      }
  return r;
}

/// In-place Sylvester Hadamard transform (H[i][j] = (-1)^popcount(i & j))
/// divided by sqrt(n), which makes it orthonormal.
void hadamard(std::vector<double> &x) {
  size_t n = x.size();
  for (size_t len = 1; len < n; len <<= 1)
    for (size_t i = 0; i < n; i += 2 * len)
      for (size_t j = i; j < i + len; ++j) {
        double a = x[j], b = x[j + len];
        x[j] = a + b;
        x[j + len] = a - b;
      }
  double inv = 1.0 / std::sqrt(static_cast<double>(n));
  for (double &e : x)
    e *= inv;
}

} // namespace

SelectionResult topkSelect(const RefTensor &q, const RefTensor &k,
                           const SelectionParams &params) {
  const char *op = "topk_select";
  checkSelection(op, params);
  checkRank(op, "q", q, 4);
  checkRank(op, "k", k, 4);
  int64_t batch = q.dim(0), hq = q.dim(1), lq = q.dim(2), d = q.dim(3);
  checkShape(op, "k", k, {batch, -1, -1, d});
  int64_t hkv = k.dim(1), lk = k.dim(2);
  if (hkv == 0 || hq % hkv != 0)
    fail(op, "'k' has " + std::to_string(hkv) +
                 " heads, which must divide the " + std::to_string(hq) +
                 " query heads of 'q'");
  int64_t group = hq / hkv;
  return selectTokens(params, batch, hq, lq, lk,
                      [&](int64_t b, int64_t h, int64_t i, int64_t j) {
                        return dot(row4(q, b, h, i), row4(k, b, h / group, j),
                                   d);
                      });
}

SelectionResult adamasSelect(const RefTensor &q, const RefTensor &k,
                             const SelectionParams &params) {
  const char *op = "adamas_select";
  checkSelection(op, params);
  checkRank(op, "q", q, 4);
  checkRank(op, "k", k, 4);
  int64_t batch = q.dim(0), hq = q.dim(1), lq = q.dim(2), d = q.dim(3);
  checkShape(op, "k", k, {batch, -1, -1, d});
  int64_t hkv = k.dim(1), lk = k.dim(2);
  if (hkv == 0 || hq % hkv != 0)
    fail(op, "'k' has " + std::to_string(hkv) +
                 " heads, which must divide the " + std::to_string(hq) +
                 " query heads of 'q'");
  if (d <= 0 || (d & (d - 1)) != 0)
    fail(op, "'q' head dim D = " + std::to_string(d) +
                 " must be a power of two for the Hadamard transform");
  int64_t group = hq / hkv;

  // Transform and quantise every key once: levels {-1.5,-0.5,0.5,1.5} * s
  // with s = max|k'| / 1.5; a value on a boundary between two levels goes
  // to the upper one.
  RefTensor kq(k.shape);
  std::vector<double> x(static_cast<size_t>(d));
  for (int64_t row = 0; row < batch * hkv * lk; ++row) {
    std::copy_n(k.data.begin() + row * d, d, x.begin());
    hadamard(x);
    double amax = 0.0;
    for (double e : x)
      amax = std::max(amax, std::fabs(e));
    double s = amax / 1.5;
    for (int64_t e = 0; e < d; ++e) {
      double level = 0.0;
      if (s > 0.0) {
        double idx = std::floor(x[e] / s + 2.0);
        level = std::min(std::max(idx, 0.0), 3.0) - 1.5;
      }
      kq.data[row * d + e] = level * s;
    }
  }
  RefTensor qt(q.shape);
  for (int64_t row = 0; row < batch * hq * lq; ++row) {
    std::copy_n(q.data.begin() + row * d, d, x.begin());
    hadamard(x);
    std::copy(x.begin(), x.end(), qt.data.begin() + row * d);
  }
  return selectTokens(params, batch, hq, lq, lk,
                      [&](int64_t b, int64_t h, int64_t i, int64_t j) {
                        const double *a = row4(qt, b, h, i),
                                     *c = row4(kq, b, h / group, j);
                        double dist = 0.0;
                        for (int64_t e = 0; e < d; ++e)
                          dist += std::fabs(a[e] - c[e]);
                        return -dist;
                      });
}

PageBoundsResult pageBounds(const RefTensor &k, int64_t pageSize) {
  const char *op = "page_bounds";
  checkRank(op, "k", k, 4);
  if (pageSize <= 0)
    fail(op, "'page_size' must be positive, got " + std::to_string(pageSize));
  int64_t batch = k.dim(0), hkv = k.dim(1), lk = k.dim(2), d = k.dim(3);
  int64_t pages = ceilDiv(lk, pageSize);
  PageBoundsResult r{RefTensor({batch, hkv, pages, d}, kInf),
                     RefTensor({batch, hkv, pages, d}, -kInf)};
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hkv; ++h)
      for (int64_t j = 0; j < lk; ++j) {
        const double *kj = row4(k, b, h, j);
        double *lo = row4(r.kmin, b, h, j / pageSize);
        double *hi = row4(r.kmax, b, h, j / pageSize);
        for (int64_t e = 0; e < d; ++e) {
          lo[e] = std::min(lo[e], kj[e]);
          hi[e] = std::max(hi[e], kj[e]);
        }
      }
  return r;
}

SelectionResult questSelect(const RefTensor &q, const RefTensor &kmin,
                            const RefTensor &kmax, const QuestParams &params) {
  const char *op = "quest_select";
  checkSelection(op, params);
  if (params.pageSize <= 0)
    fail(op, "'page_size' must be positive, got " +
                 std::to_string(params.pageSize));
  checkRank(op, "q", q, 4);
  checkRank(op, "kmin", kmin, 4);
  int64_t batch = q.dim(0), hq = q.dim(1), lq = q.dim(2), d = q.dim(3);
  checkShape(op, "kmin", kmin, {batch, -1, -1, d});
  checkShape(op, "kmax", kmax, kmin.shape);
  int64_t hkv = kmin.dim(1), pages = kmin.dim(2);
  if (hkv == 0 || hq % hkv != 0)
    fail(op, "'kmin' has " + std::to_string(hkv) +
                 " heads, which must divide the " + std::to_string(hq) +
                 " query heads of 'q'");
  int64_t lk = params.keyLength.value_or(pages * params.pageSize);
  if (lk < 0 || ceilDiv(lk, params.pageSize) != pages)
    fail(op, "'key_length' " + std::to_string(lk) + " needs ceil(" +
                 std::to_string(lk) + "/" + std::to_string(params.pageSize) +
                 ") pages but 'kmin' has " + std::to_string(pages));
  int64_t group = hq / hkv, page = params.pageSize;

  SelectionResult r{IndexTensor({batch, hq, lq, params.topk}, -1)};
  std::vector<double> scores;
  std::vector<uint8_t> forced;
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hq; ++h)
      for (int64_t i = 0; i < lq; ++i) {
        int64_t last = lastVisibleKey(params, i, lq, lk);
        // Candidate pages hold at least one visible key; forced pages hold a
        // sink key or one of the last local_window visible keys.
        int64_t count = last < 0 ? 0 : last / page + 1;
        scores.resize(static_cast<size_t>(count));
        forced.assign(static_cast<size_t>(count), 0);
        int64_t firstLocal =
            std::max<int64_t>(0, last - params.localWindow + 1);
        const double *qi = row4(q, b, h, i);
        for (int64_t p = 0; p < count; ++p) {
          const double *lo = row4(kmin, b, h / group, p),
                       *hi = row4(kmax, b, h / group, p);
          double bound = 0.0;
          for (int64_t e = 0; e < d; ++e)
            bound += std::max(qi[e] * lo[e], qi[e] * hi[e]);
          scores[p] = bound;
          bool sink = p * page < std::min(params.sinkTokens, last + 1);
          bool local = params.localWindow > 0 && (p + 1) * page > firstLocal;
          forced[p] = sink || local;
        }
        selectRow(scores, forced, params.topk,
                  r.indices.data.data() + off4(r.indices.shape, b, h, i, 0));
      }
  return r;
}

SelectionResult dsaIndexer(const RefTensor &qi, const RefTensor &ki,
                           const RefTensor &w, const SelectionParams &params) {
  const char *op = "dsa_indexer";
  checkSelection(op, params);
  checkRank(op, "qi", qi, 4);
  int64_t batch = qi.dim(0), hi = qi.dim(1), lq = qi.dim(2), di = qi.dim(3);
  checkShape(op, "ki", ki, {batch, 1, -1, di});
  checkShape(op, "w", w, {batch, hi, lq});
  int64_t lk = ki.dim(2);
  return selectTokens(params, batch, 1, lq, lk,
                      [&](int64_t b, int64_t, int64_t i, int64_t j) {
                        const double *kj = row4(ki, b, 0, j);
                        double s = 0.0;
                        for (int64_t h = 0; h < hi; ++h)
                          s += w.data[off3(w.shape, b, h, i)] *
                               std::max(0.0, dot(row4(qi, b, h, i), kj, di));
                        return s;
                      });
}

} // namespace reference
} // namespace attn
