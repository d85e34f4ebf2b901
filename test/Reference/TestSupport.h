//===- TestSupport.h - helpers of the reference tests ------------*- C++ -*-===//
//
// Random non-zero tensors, tolerance checks, token/head reshaping and the
// exception check the per-family reference tests share.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TEST_REFERENCE_TESTSUPPORT_H
#define ATTN_TEST_REFERENCE_TESTSUPPORT_H

#include "attn/Reference/Reference.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <random>
#include <set>
#include <string>

namespace attn::reference::testing {

inline constexpr double kInf = std::numeric_limits<double>::infinity();

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
inline ::testing::AssertionResult near(const RefTensor &a, const RefTensor &b,
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
inline RefTensor sliceTokens(const RefTensor &t, int64_t lo, int64_t hi) {
  RefTensor r({t.dim(0), t.dim(1), hi - lo, t.dim(3)});
  for (int64_t a = 0; a < t.dim(0); ++a)
    for (int64_t b = 0; b < t.dim(1); ++b)
      for (int64_t i = lo; i < hi; ++i)
        for (int64_t d = 0; d < t.dim(3); ++d)
          r(a, b, i - lo, d) = t(a, b, i, d);
  return r;
}

/// Slice [lo, hi) of axis 2 of a rank-3 tensor.
inline RefTensor sliceTokens3(const RefTensor &t, int64_t lo, int64_t hi) {
  RefTensor r({t.dim(0), t.dim(1), hi - lo});
  for (int64_t a = 0; a < t.dim(0); ++a)
    for (int64_t b = 0; b < t.dim(1); ++b)
      for (int64_t i = lo; i < hi; ++i)
        r(a, b, i - lo) = t(a, b, i);
  return r;
}

/// Concatenates two rank-4 tensors along axis 2.
inline RefTensor concatTokens(const RefTensor &x, const RefTensor &y) {
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
inline RefTensor repeatHeads(const RefTensor &t, int64_t times) {
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


} // namespace attn::reference::testing

#endif // ATTN_TEST_REFERENCE_TESTSUPPORT_H
