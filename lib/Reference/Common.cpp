//===- Common.cpp - Validation and softmax helpers --------------*- C++ -*-===//
//
// This file implements the helpers declared in Internal.h: error messages
// that name the argument, the q/k/v shape relations shared by the softmax
// family, and the softmax of one query row that every softmax-style op ends
// in.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>
#include <stdexcept>

namespace attn {
namespace reference {

void throwIndexError(const char *message) { throw std::out_of_range(message); }

namespace detail {

std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) {
    if (i)
      s += ",";
    s += shape[i] < 0 ? std::string("*") : std::to_string(shape[i]);
  }
  return s + "]";
}

void fail(const char *op, const std::string &message) {
  throw std::invalid_argument(std::string(op) + ": " + message);
}

void checkQkv(const char *op, const RefTensor &q, const RefTensor &k,
              const RefTensor &v) {
  checkRank(op, "q", q, 4);
  checkRank(op, "k", k, 4);
  checkRank(op, "v", v, 4);
  int64_t batch = q.dim(0), hq = q.dim(1), d = q.dim(3);
  checkShape(op, "k", k, {batch, -1, -1, d});
  int64_t hkv = k.dim(1);
  if (hkv == 0 || hq % hkv != 0)
    fail(op, "'k' has " + std::to_string(hkv) +
                 " heads, which must divide the " + std::to_string(hq) +
                 " query heads of 'q'");
  checkShape(op, "v", v, {batch, hkv, k.dim(2), -1});
}

double softmaxRow(const std::vector<double> &scores, const double *values,
                  int64_t dv, const double *sink, double *out) {
  std::fill(out, out + dv, 0.0);
  // The max includes the sink so that exp never overflows whichever side of
  // the denominator dominates; the result does not depend on the shift.
  double m = sink ? *sink : -kInf;
  for (double s : scores)
    m = std::max(m, s);
  if (m == -kInf)
    return -kInf;
  double den = sink ? std::exp(*sink - m) : 0.0;
  for (size_t j = 0; j < scores.size(); ++j) {
    if (scores[j] == -kInf)
      continue;
    double p = std::exp(scores[j] - m);
    den += p;
    const double *vj = values + static_cast<int64_t>(j) * dv;
    for (int64_t c = 0; c < dv; ++c)
      out[c] += p * vj[c];
  }
  for (int64_t c = 0; c < dv; ++c)
    out[c] /= den;
  return m + std::log(den);
}

void checkKvLens(const char *op, const IndexTensor *kvLens, int64_t batch) {
  if (kvLens)
    checkShape(op, "kv_lens", *kvLens, {batch});
}

AttentionResult denseAttention(const char *op, const RefTensor &q,
                               const RefTensor &k, const RefTensor &v,
                               double scale, bool causal,
                               const IndexTensor *kvLens) {
  checkQkv(op, q, k, v);
  int64_t batch = q.dim(0), hq = q.dim(1), lq = q.dim(2), d = q.dim(3);
  int64_t hkv = k.dim(1), lk = k.dim(2), dv = v.dim(3);
  int64_t group = hq / hkv;
  checkKvLens(op, kvLens, batch);
  AttentionResult r{RefTensor({batch, hq, lq, dv}), RefTensor({batch, hq, lq})};
  std::vector<double> scores(static_cast<size_t>(lk));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hq; ++h)
      for (int64_t i = 0; i < lq; ++i) {
        const double *qi = row4(q, b, h, i);
        int64_t n = keyCount(kvLens, b, lk);
        for (int64_t j = 0; j < lk; ++j)
          scores[j] = j >= n || (causal && j > i + n - lq)
                          ? -kInf
                          : scale * dot(qi, row4(k, b, h / group, j), d);
        r.lse.data[off3(r.lse.shape, b, h, i)] =
            softmaxRow(scores, row4(v, b, h / group, 0), dv, nullptr,
                       row4(r.out, b, h, i));
      }
  return r;
}

} // namespace detail
} // namespace reference
} // namespace attn
