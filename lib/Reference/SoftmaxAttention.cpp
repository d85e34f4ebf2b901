//===- SoftmaxAttention.cpp - Softmax-family reference ops ------*- C++ -*-===//
//
// This file implements attn.attention, attn.merge and attn.diff_attention in
// fp64, straight from the definitions: every score of a row is formed, the
// visibility predicate is evaluated per element, and the row is normalised
// once. No tiling, no online rescaling: this is what tiled kernels are
// compared against.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>

namespace attn {
namespace reference {

using namespace detail;

namespace {

/// Which key blocks the kv and full block lists make visible to one query
/// block of one (b, h).
class BlockVisibility {
public:
  BlockVisibility(const AttentionParams &params, int64_t lk)
      : params(params), active(params.kvNumBlocks || params.fullKvNumBlocks),
        numKeyBlocks(active ? ceilDiv(lk, params.blockK) : 0) {}

  bool isActive() const { return active; }

  /// Marks the key blocks listed for query block `qb` of (b, h).
  void fill(int64_t b, int64_t h, int64_t qb,
            std::vector<uint8_t> &listed) const {
    listed.assign(static_cast<size_t>(numKeyBlocks), 0);
    if (params.kvNumBlocks)
      addList("kv_num_blocks", *params.kvNumBlocks, *params.kvIndices, b, h, qb,
              listed);
    if (params.fullKvNumBlocks)
      addList("full_kv_num_blocks", *params.fullKvNumBlocks,
              *params.fullKvIndices, b, h, qb, listed);
  }

private:
  void addList(const char *name, const IndexTensor &num,
               const IndexTensor &indices, int64_t b, int64_t h, int64_t qb,
               std::vector<uint8_t> &listed) const {
    int64_t nb = bcast(b, num.dim(0)), nh = bcast(h, num.dim(1));
    // Counts are clamped to [0, MB] (Rationale.md): a kernel has no way to
    // report a bad count at run time, so the meaning is defined instead.
    int64_t count = num.data[off3(num.shape, nb, nh, qb)];
    count = std::clamp<int64_t>(count, 0, indices.dim(3));
    int64_t ib = bcast(b, indices.dim(0)), ih = bcast(h, indices.dim(1));
    const int32_t *list =
        indices.data.data() + off4(indices.shape, ib, ih, qb, 0);
    for (int64_t n = 0; n < count; ++n)
      // Out-of-range block ids are ignored, as Rationale.md specifies.
      if (list[n] >= 0 && list[n] < numKeyBlocks)
        listed[list[n]] = 1;
  }

  const AttentionParams &params;
  bool active;
  int64_t numKeyBlocks;
};

void checkBlockLists(const char *op, const AttentionParams &p, int64_t batch,
                     int64_t hq, int64_t lq) {
  if (!p.kvNumBlocks != !p.kvIndices)
    fail(op, "'kv_num_blocks' and 'kv_indices' must be given together");
  if (!p.fullKvNumBlocks != !p.fullKvIndices)
    fail(op,
         "'full_kv_num_blocks' and 'full_kv_indices' must be given together");
  if (!p.kvNumBlocks && !p.fullKvNumBlocks)
    return;
  if (p.blockQ <= 0)
    fail(op, "'block_q' must be positive, got " + std::to_string(p.blockQ));
  if (p.blockK <= 0)
    fail(op, "'block_k' must be positive, got " + std::to_string(p.blockK));
  int64_t nqb = ceilDiv(lq, p.blockQ);
  if (p.kvNumBlocks) {
    checkBroadcastShape(op, "kv_num_blocks", *p.kvNumBlocks, {batch, hq, nqb},
                        2);
    checkBroadcastShape(op, "kv_indices", *p.kvIndices, {batch, hq, nqb, -1},
                        2);
  }
  if (p.fullKvNumBlocks) {
    checkBroadcastShape(op, "full_kv_num_blocks", *p.fullKvNumBlocks,
                        {batch, hq, nqb}, 2);
    checkBroadcastShape(op, "full_kv_indices", *p.fullKvIndices,
                        {batch, hq, nqb, -1}, 2);
  }
}

/// The logical [B, Hkv, NP * PS, *] tensor of a page pool [P, Hkv, PS, *]
/// under `table` [B, NP]. Pages of the first `keyCount` keys of each row
/// must exist; later entries are not read (their rows stay 0).
RefTensor gatherPages(const char *op, const char *name, const RefTensor &pool,
                      const IndexTensor &table, const IndexTensor *kvLens) {
  checkRank(op, name, pool, 4);
  int64_t pages = pool.dim(0), heads = pool.dim(1), pageSize = pool.dim(2),
          width = pool.dim(3);
  if (pageSize <= 0)
    fail(op, std::string("'") + name + "' pages must hold at least one key");
  int64_t batch = table.dim(0), tablePages = table.dim(1), lk = tablePages * pageSize;
  RefTensor logical({batch, heads, lk, width});
  for (int64_t b = 0; b < batch; ++b) {
    int64_t n = keyCount(kvLens, b, lk);
    for (int64_t j = 0; j < n; ++j) {
      int32_t page = table.data[b * tablePages + j / pageSize];
      if (page < 0 || page >= pages)
        fail(op, "'block_table' names page " + std::to_string(page) +
                     " for key " + std::to_string(j) + " of batch row " +
                     std::to_string(b) + ", but the pool has " +
                     std::to_string(pages) + " pages");
      for (int64_t h = 0; h < heads; ++h)
        std::copy_n(row4(pool, page, h, j % pageSize), width,
                    row4(logical, b, h, j));
    }
  }
  return logical;
}

} // namespace

AttentionResult attention(const RefTensor &q, const RefTensor &kIn,
                          const RefTensor &vIn, const AttentionParams &params) {
  const char *op = "attention";
  checkRank(op, "q", q, 4);
  if (params.kvLens)
    checkShape(op, "kv_lens", *params.kvLens, {q.dim(0)});
  RefTensor pagedK, pagedV;
  if (params.blockTable) {
    checkRank(op, "block_table", *params.blockTable, 2);
    checkShape(op, "block_table", *params.blockTable, {q.dim(0), -1});
    pagedK = gatherPages(op, "k", kIn, *params.blockTable, params.kvLens);
    pagedV = gatherPages(op, "v", vIn, *params.blockTable, params.kvLens);
  }
  const RefTensor &k = params.blockTable ? pagedK : kIn;
  const RefTensor &v = params.blockTable ? pagedV : vIn;
  checkQkv(op, q, k, v);
  int64_t batch = q.dim(0), hq = q.dim(1), lq = q.dim(2), d = q.dim(3);
  int64_t hkv = k.dim(1), lk = k.dim(2), dv = v.dim(3);
  int64_t group = hq / hkv;
  double scale = params.scale.value_or(1.0 / std::sqrt(static_cast<double>(d)));

  if (params.window && (params.window->first < 0 || params.window->second < 0))
    fail(op, "'window' entries must be >= 0, got {" +
                 std::to_string(params.window->first) + "," +
                 std::to_string(params.window->second) + "}");
  if (params.softcap && !(*params.softcap > 0.0))
    fail(op, "'softcap' must be > 0");
  if (params.boolMask)
    checkBroadcastShape(op, "mask", *params.boolMask, {batch, hq, lq, lk}, 2);
  if (params.additiveMask)
    checkBroadcastShape(op, "mask", *params.additiveMask, {batch, hq, lq, lk},
                        2);
  checkBlockLists(op, params, batch, hq, lq);
  if (params.sinks)
    checkShape(op, "sinks", *params.sinks, {hq});

  BlockVisibility blocks(params, lk);
  std::vector<uint8_t> listed;
  AttentionResult r{RefTensor({batch, hq, lq, dv}), RefTensor({batch, hq, lq})};
  std::vector<double> scores(static_cast<size_t>(lk));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < hq; ++h) {
      int64_t kvh = h / group;
      for (int64_t i = 0; i < lq; ++i) {
        if (blocks.isActive() && i % params.blockQ == 0)
          blocks.fill(b, h, i / params.blockQ, listed);
        // Position of query i on the key axis under bottom-right alignment
        // at the row's key count.
        int64_t n = keyCount(params.kvLens, b, lk);
        int64_t pos = i + n - lq;
        const double *qi = row4(q, b, h, i);
        for (int64_t j = 0; j < lk; ++j) {
          bool visible = j < n && (!params.causal || j <= pos);
          if (visible && params.window)
            visible = pos - j >= -params.window->second &&
                      pos - j <= params.window->first;
          if (visible && params.boolMask) {
            const BoolTensor &m = *params.boolMask;
            visible = m.data[off4(m.shape, bcast(b, m.dim(0)),
                                  bcast(h, m.dim(1)), i, j)] != 0;
          }
          if (visible && blocks.isActive())
            visible = listed[j / params.blockK] != 0;
          if (visible && params.maskMod)
            visible = params.maskMod(b, h, i, j);
          if (!visible) {
            scores[j] = -kInf;
            continue;
          }
          double s = scale * dot(qi, row4(k, b, kvh, j), d);
          if (params.softcap)
            s = *params.softcap * std::tanh(s / *params.softcap);
          if (params.scoreMod)
            s = params.scoreMod(s, b, h, i, j);
          if (params.additiveMask) {
            const RefTensor &m = *params.additiveMask;
            s += m.data[off4(m.shape, bcast(b, m.dim(0)), bcast(h, m.dim(1)), i,
                             j)];
          }
          scores[j] = s;
        }
        const double *sink = params.sinks ? &params.sinks->data[h] : nullptr;
        r.lse.data[off3(r.lse.shape, b, h, i)] = softmaxRow(
            scores, row4(v, b, kvh, 0), dv, sink, row4(r.out, b, h, i));
      }
    }
  }
  return r;
}

AttentionResult merge(const RefTensor &outs, const RefTensor &lses) {
  const char *op = "merge";
  checkRank(op, "outs", outs, 5);
  int64_t n = outs.dim(0), batch = outs.dim(1), h = outs.dim(2),
          l = outs.dim(3), dv = outs.dim(4);
  checkShape(op, "lses", lses, {n, batch, h, l});
  int64_t rows = batch * h * l;
  AttentionResult r{RefTensor({batch, h, l, dv}), RefTensor({batch, h, l})};
  for (int64_t row = 0; row < rows; ++row) {
    double m = -kInf;
    for (int64_t p = 0; p < n; ++p)
      m = std::max(m, lses.data[p * rows + row]);
    if (m == -kInf) {
      r.lse.data[row] = -kInf;
      continue;
    }
    double sum = 0.0;
    for (int64_t p = 0; p < n; ++p)
      sum += std::exp(lses.data[p * rows + row] - m);
    double lse = m + std::log(sum);
    r.lse.data[row] = lse;
    double *out = r.out.data.data() + row * dv;
    for (int64_t p = 0; p < n; ++p) {
      double w = std::exp(lses.data[p * rows + row] - lse);
      if (w == 0.0)
        continue; // Also keeps a NaN partial of an empty row out.
      const double *part = outs.data.data() + (p * rows + row) * dv;
      for (int64_t c = 0; c < dv; ++c)
        out[c] += w * part[c];
    }
  }
  return r;
}

DiffAttentionResult diffAttention(const RefTensor &q1, const RefTensor &k1,
                                  const RefTensor &q2, const RefTensor &k2,
                                  const RefTensor &v, const RefTensor &lambda,
                                  const DiffAttentionParams &params) {
  const char *op = "diff_attention";
  checkQkv(op, q1, k1, v);
  checkShape(op, "q2", q2, q1.shape);
  checkShape(op, "k2", k2, k1.shape);
  int64_t hq = q1.dim(1), dv = v.dim(3);
  checkShape(op, "lambda", lambda, {hq});
  if (params.normWeight)
    checkShape(op, "norm_weight", *params.normWeight, {dv});
  if (!(params.eps >= 0.0))
    fail(op, "'eps' must be >= 0");
  double scale =
      params.scale.value_or(1.0 / std::sqrt(static_cast<double>(q1.dim(3))));
  AttentionResult a1 = denseAttention(op, q1, k1, v, scale, params.causal);
  AttentionResult a2 = denseAttention(op, q2, k2, v, scale, params.causal);

  DiffAttentionResult r{RefTensor(a1.out.shape)};
  int64_t rows = a1.out.numel() / std::max<int64_t>(dv, 1);
  int64_t rowsPerHead = q1.dim(2);
  std::vector<double> o(static_cast<size_t>(dv));
  for (int64_t row = 0; row < rows; ++row) {
    int64_t h = (row / rowsPerHead) % hq;
    double meanSquare = 0.0;
    for (int64_t c = 0; c < dv; ++c) {
      o[c] = a1.out.data[row * dv + c] -
             lambda.data[h] * a2.out.data[row * dv + c];
      meanSquare += o[c] * o[c];
    }
    meanSquare /= static_cast<double>(dv);
    double norm =
        (1.0 - params.lambdaInit) / std::sqrt(meanSquare + params.eps);
    for (int64_t c = 0; c < dv; ++c) {
      double w = params.normWeight ? params.normWeight->data[c] : 1.0;
      r.out.data[row * dv + c] = o[c] * norm * w;
    }
  }
  return r;
}

} // namespace reference
} // namespace attn
