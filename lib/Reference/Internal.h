//===- Internal.h - Helpers shared by the reference ops ---------*- C++ -*-===//
//
// Argument validation, raw row access and the softmax of one query row, used
// by every file of lib/Reference. Not installed: the public API is
// attn/Reference/Reference.h.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_LIB_REFERENCE_INTERNAL_H
#define ATTN_LIB_REFERENCE_INTERNAL_H

#include "attn/Reference/Reference.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <vector>

namespace attn {
namespace reference {
namespace detail {

constexpr double kInf = std::numeric_limits<double>::infinity();

/// "[2,3,4]"; -1 entries print as "*".
std::string shapeString(const std::vector<int64_t> &shape);

/// Throws std::invalid_argument("<op>: <message>").
[[noreturn]] void fail(const char *op, const std::string &message);

/// Checks that the data size matches the shape, so raw indexing is safe.
template <typename T>
void checkData(const char *op, const char *name, const Tensor<T> &t) {
  for (int64_t s : t.shape)
    if (s < 0)
      fail(op, std::string("'") + name + "' has a negative extent in shape " +
                   shapeString(t.shape));
  if (static_cast<int64_t>(t.data.size()) != t.numel())
    fail(op, std::string("'") + name + "' holds " +
                 std::to_string(t.data.size()) + " elements but its shape " +
                 shapeString(t.shape) + " needs " + std::to_string(t.numel()));
}

/// Checks rank and data size.
template <typename T>
void checkRank(const char *op, const char *name, const Tensor<T> &t,
               int64_t rank) {
  if (t.rank() != rank)
    fail(op, std::string("'") + name + "' must have rank " +
                 std::to_string(rank) + ", got shape " + shapeString(t.shape));
  checkData(op, name, t);
}

/// Checks the full shape; -1 in `expected` accepts any extent.
template <typename T>
void checkShape(const char *op, const char *name, const Tensor<T> &t,
                const std::vector<int64_t> &expected) {
  bool ok = t.shape.size() == expected.size();
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = expected[i] < 0 || expected[i] == t.shape[i];
  if (!ok)
    fail(op, std::string("'") + name + "' has shape " + shapeString(t.shape) +
                 ", expected " + shapeString(expected));
  checkData(op, name, t);
}

/// Checks a shape whose leading `numBroadcast` axes may each be 1 or the
/// expected extent (masks and block lists broadcast over B and H).
template <typename T>
void checkBroadcastShape(const char *op, const char *name, const Tensor<T> &t,
                         const std::vector<int64_t> &expected,
                         size_t numBroadcast) {
  bool ok = t.shape.size() == expected.size();
  for (size_t i = 0; ok && i < expected.size(); ++i)
    ok = expected[i] < 0 || expected[i] == t.shape[i] ||
         (i < numBroadcast && t.shape[i] == 1);
  if (!ok) {
    std::string want = "[";
    for (size_t i = 0; i < expected.size(); ++i) {
      if (i)
        want += ",";
      want += i < numBroadcast ? std::to_string(expected[i]) + "|1"
                               : std::to_string(expected[i]);
    }
    fail(op, std::string("'") + name + "' has shape " + shapeString(t.shape) +
                 ", expected " + want + "]");
  }
  checkData(op, name, t);
}

/// Index along an axis that is either full-size or broadcast (extent 1).
inline int64_t bcast(int64_t index, int64_t extent) {
  return extent == 1 ? 0 : index;
}

/// Linear offset of (a, b, c) in a rank-3 shape, (a, b, c, d) in rank 4.
inline int64_t off3(const std::vector<int64_t> &s, int64_t a, int64_t b,
                    int64_t c) {
  return (a * s[1] + b) * s[2] + c;
}
inline int64_t off4(const std::vector<int64_t> &s, int64_t a, int64_t b,
                    int64_t c, int64_t d) {
  return ((a * s[1] + b) * s[2] + c) * s[3] + d;
}

/// Pointer to the innermost row t[a, b, c, :] of a rank-4 tensor.
inline const double *row4(const RefTensor &t, int64_t a, int64_t b, int64_t c) {
  return t.data.data() + off4(t.shape, a, b, c, 0);
}
inline double *row4(RefTensor &t, int64_t a, int64_t b, int64_t c) {
  return t.data.data() + off4(t.shape, a, b, c, 0);
}

inline double dot(const double *a, const double *b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i)
    s += a[i] * b[i];
  return s;
}

/// Checks that q/k/v have the [B,Hq,Lq,D] / [B,Hkv,Lk,D] / [B,Hkv,Lk,Dv]
/// relations with Hq % Hkv == 0.
void checkQkv(const char *op, const RefTensor &q, const RefTensor &k,
              const RefTensor &v);

/// The softmax of one query row. `scores[j]` is -inf for invisible keys;
/// `values` is the [n, dv] value matrix of the row's kv head. Writes
/// out[0..dv) and returns lse; a row with nothing visible (and no sink)
/// gives 0 and -inf. The sink joins the max and the denominator only.
double softmaxRow(const std::vector<double> &scores, const double *values,
                  int64_t dv, const double *sink, double *out);

/// Plain softmax attention over dense K/V with an optional bottom-right
/// causal rule and optional key counts; the core of the ops that only differ
/// in how K is produced.
AttentionResult denseAttention(const char *op, const RefTensor &q,
                               const RefTensor &k, const RefTensor &v,
                               double scale, bool causal,
                               const IndexTensor *kvLens = nullptr);

/// Checks kv_lens [B] when given.
void checkKvLens(const char *op, const IndexTensor *kvLens, int64_t batch);

/// The keys row b sees: clamp(kv_lens[b], 0, lk), or lk without kv_lens.
inline int64_t keyCount(const IndexTensor *kvLens, int64_t b, int64_t lk) {
  if (!kvLens)
    return lk;
  return std::clamp<int64_t>(kvLens->data[b], 0, lk);
}

/// ceil(a / b) for a >= 0, b > 0.
inline int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

} // namespace detail
} // namespace reference
} // namespace attn

#endif // ATTN_LIB_REFERENCE_INTERNAL_H
