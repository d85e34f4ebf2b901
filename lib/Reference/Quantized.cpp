//===- Quantized.cpp - Quantised KV and product quantisation ----*- C++ -*-===//
//
// This file implements attn.quant_attention (int8/int4 keys and values with
// scales and optional zero points) and the LOOKAT product-quantisation ops
// pq_fit, pq_encode and pq_attention. The quantised attention dequantises the
// whole cache first, which the compiled kernels must never do but which is
// the plainest statement of what they compute.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>

namespace attn {
namespace reference {

using namespace detail;

namespace {

/// Code `index` along a row of codes: a byte for 8 bits, a nibble (low
/// nibble first) for 4. Unsigned with zero points, two's complement without.
int64_t readCode(const int8_t *row, int64_t index, int64_t bits,
                 bool isUnsigned) {
  if (bits == 8)
    return isUnsigned ? static_cast<int64_t>(static_cast<uint8_t>(row[index]))
                      : static_cast<int64_t>(row[index]);
  uint8_t byte = static_cast<uint8_t>(row[index / 2]);
  int64_t nibble = (index % 2) ? (byte >> 4) : (byte & 0xF);
  return isUnsigned || nibble < 8 ? nibble : nibble - 16;
}

void checkQuantParams(const char *op, const QuantParams &p) {
  if (p.bits != 4 && p.bits != 8)
    fail(op, "'bits' must be 4 or 8, got " + std::to_string(p.bits));
  if (p.groupSize <= 0)
    fail(op,
         "'group_size' must be positive, got " + std::to_string(p.groupSize));
}

/// Number of code columns holding `width` channels.
int64_t packedWidth(const char *op, const char *name, int64_t width,
                    int64_t bits) {
  if (bits == 8)
    return width;
  if (width % 2)
    fail(op, std::string("'") + name + "' describes " + std::to_string(width) +
                 " channels; 4-bit codes pack two per byte and need an even "
                 "count");
  return width / 2;
}

RefTensor dequantizeKeysImpl(const char *op, const CodeTensor &codes,
                             const RefTensor &scale, const QuantParams &p) {
  checkQuantParams(op, p);
  checkRank(op, "k_scale", scale, 4);
  checkRank(op, "k_codes", codes, 4);
  int64_t batch = scale.dim(0), hkv = scale.dim(1), d = scale.dim(3);
  int64_t lk = codes.dim(2);
  checkShape(op, "k_codes", codes,
             {batch, hkv, -1, packedWidth(op, "k_scale", d, p.bits)});
  checkShape(op, "k_scale", scale, {batch, hkv, ceilDiv(lk, p.groupSize), d});
  if (p.kZero)
    checkShape(op, "k_zero", *p.kZero, scale.shape);
  RefTensor out({batch, hkv, lk, d});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hkv; ++h)
      for (int64_t j = 0; j < lk; ++j) {
        const int8_t *row = codes.data.data() + off4(codes.shape, b, h, j, 0);
        // Keys are scaled per channel, one scale per group of tokens.
        int64_t sOff = off4(scale.shape, b, h, j / p.groupSize, 0);
        for (int64_t e = 0; e < d; ++e) {
          double x =
              scale.data[sOff + e] *
              static_cast<double>(readCode(row, e, p.bits, p.kZero != nullptr));
          if (p.kZero)
            x += p.kZero->data[sOff + e];
          out.data[off4(out.shape, b, h, j, e)] = x;
        }
      }
  return out;
}

RefTensor dequantizeValuesImpl(const char *op, const CodeTensor &codes,
                               const RefTensor &scale, const QuantParams &p) {
  checkQuantParams(op, p);
  checkRank(op, "v_codes", codes, 4);
  int64_t batch = codes.dim(0), hkv = codes.dim(1), lk = codes.dim(2);
  int64_t dv = p.bits == 8 ? codes.dim(3) : 2 * codes.dim(3);
  checkShape(op, "v_scale", scale, {batch, hkv, lk, ceilDiv(dv, p.groupSize)});
  if (p.vZero)
    checkShape(op, "v_zero", *p.vZero, scale.shape);
  RefTensor out({batch, hkv, lk, dv});
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hkv; ++h)
      for (int64_t j = 0; j < lk; ++j) {
        const int8_t *row = codes.data.data() + off4(codes.shape, b, h, j, 0);
        // Values are scaled per token, one scale per group of channels.
        int64_t sOff = off4(scale.shape, b, h, j, 0);
        for (int64_t c = 0; c < dv; ++c) {
          int64_t s = sOff + c / p.groupSize;
          double x =
              scale.data[s] *
              static_cast<double>(readCode(row, c, p.bits, p.vZero != nullptr));
          if (p.vZero)
            x += p.vZero->data[s];
          out.data[off4(out.shape, b, h, j, c)] = x;
        }
      }
  return out;
}

/// splitmix64 (Steele, Lea, Flood 2014): tiny, fully specified and identical
/// on every platform, unlike the std:: distributions.
class SplitMix64 {
public:
  explicit SplitMix64(uint64_t seed) : state(seed) {}
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }
  /// Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }
  /// Uniform in [0, n).
  int64_t index(int64_t n) {
    return std::min<int64_t>(
        n - 1, static_cast<int64_t>(uniform() * static_cast<double>(n)));
  }

private:
  uint64_t state;
};

double squaredDistance(const double *a, const double *b, int64_t n) {
  double s = 0.0;
  for (int64_t i = 0; i < n; ++i)
    s += (a[i] - b[i]) * (a[i] - b[i]);
  return s;
}

/// Nearest centroid by squared distance; ties go to the lower index.
int64_t nearest(const double *x, const double *centroids, int64_t kc,
                int64_t ds) {
  int64_t best = 0;
  double bestDist = kInf;
  for (int64_t c = 0; c < kc; ++c) {
    double dist = squaredDistance(x, centroids + c * ds, ds);
    if (dist < bestDist) {
      bestDist = dist;
      best = c;
    }
  }
  return best;
}

/// k-means++ seeding then `iters` Lloyd iterations over `points` [n, ds];
/// writes [kc, ds] centroids.
void kmeans(const std::vector<double> &points, int64_t n, int64_t ds,
            int64_t kc, int64_t iters, SplitMix64 &rng, double *centroids) {
  std::vector<double> dist2(static_cast<size_t>(n), kInf);
  for (int64_t c = 0; c < kc; ++c) {
    int64_t pick = 0;
    double total = 0.0;
    for (int64_t i = 0; c > 0 && i < n; ++i)
      total += dist2[i];
    if (c == 0 || !(total > 0.0)) {
      // First centroid, or every point already coincides with a centroid.
      pick = rng.index(n);
    } else {
      // Draw with probability proportional to D(x)^2; rounding at the top
      // end falls back to the last point with positive weight.
      double target = rng.uniform() * total, cumulative = 0.0;
      pick = -1;
      for (int64_t i = 0; i < n; ++i) {
        if (dist2[i] <= 0.0)
          continue;
        cumulative += dist2[i];
        pick = i;
        if (cumulative > target)
          break;
      }
    }
    std::copy_n(points.begin() + pick * ds, ds, centroids + c * ds);
    for (int64_t i = 0; i < n; ++i)
      dist2[i] = std::min(
          dist2[i], squaredDistance(&points[i * ds], centroids + c * ds, ds));
  }

  std::vector<int64_t> assign(static_cast<size_t>(n), -1);
  std::vector<double> sums(static_cast<size_t>(kc * ds));
  std::vector<int64_t> counts(static_cast<size_t>(kc));
  for (int64_t it = 0; it < iters; ++it) {
    bool changed = false;
    for (int64_t i = 0; i < n; ++i) {
      int64_t a = nearest(&points[i * ds], centroids, kc, ds);
      changed |= a != assign[i];
      assign[i] = a;
    }
    // A fixed point stays one: further iterations would change nothing.
    if (!changed)
      break;
    std::fill(sums.begin(), sums.end(), 0.0);
    std::fill(counts.begin(), counts.end(), 0);
    for (int64_t i = 0; i < n; ++i) {
      ++counts[assign[i]];
      for (int64_t e = 0; e < ds; ++e)
        sums[assign[i] * ds + e] += points[i * ds + e];
    }
    // An empty cluster keeps its previous centroid.
    for (int64_t c = 0; c < kc; ++c)
      if (counts[c])
        for (int64_t e = 0; e < ds; ++e)
          centroids[c * ds + e] =
              sums[c * ds + e] / static_cast<double>(counts[c]);
  }
}

/// Validates codebooks [H, m, Kc, D/m] against the head dim `d` and returns
/// Kc.
int64_t checkCodebooks(const char *op, const RefTensor &codebooks,
                       int64_t heads, int64_t d) {
  checkRank(op, "codebooks", codebooks, 4);
  int64_t m = codebooks.dim(1), kc = codebooks.dim(2);
  if (kc != 16 && kc != 256)
    fail(op, "'codebooks' has Kc = " + std::to_string(kc) +
                 " centroids, expected 16 or 256");
  if (m <= 0 || d % m != 0)
    fail(op, "'codebooks' has m = " + std::to_string(m) +
                 " sub-spaces, which must divide D = " + std::to_string(d));
  checkShape(op, "codebooks", codebooks, {heads, m, kc, d / m});
  if (kc == 16 && m % 2)
    fail(op, "'codebooks' has odd m = " + std::to_string(m) +
                 "; 4-bit codes pack two sub-spaces per byte");
  return kc;
}

} // namespace

RefTensor dequantizeKeys(const CodeTensor &kCodes, const RefTensor &kScale,
                         const QuantParams &params) {
  return dequantizeKeysImpl("dequantize_keys", kCodes, kScale, params);
}

RefTensor dequantizeValues(const CodeTensor &vCodes, const RefTensor &vScale,
                           const QuantParams &params) {
  return dequantizeValuesImpl("dequantize_values", vCodes, vScale, params);
}

AttentionResult quantAttention(const RefTensor &q, const CodeTensor &kCodes,
                               const RefTensor &kScale,
                               const CodeTensor &vCodes,
                               const RefTensor &vScale,
                               const QuantAttentionParams &params) {
  const char *op = "quant_attention";
  checkRank(op, "q", q, 4);
  int64_t batch = q.dim(0), hq = q.dim(1), d = q.dim(3);
  checkRank(op, "k_scale", kScale, 4);
  checkShape(op, "k_scale", kScale, {batch, -1, -1, d});
  RefTensor k = dequantizeKeysImpl(op, kCodes, kScale, params);
  int64_t hkv = k.dim(1), lk = k.dim(2);
  if (hkv == 0 || hq % hkv != 0)
    fail(op, "'k_codes' has " + std::to_string(hkv) +
                 " heads, which must divide the " + std::to_string(hq) +
                 " query heads of 'q'");
  checkRank(op, "v_codes", vCodes, 4);
  checkShape(op, "v_codes", vCodes, {batch, hkv, lk, -1});
  RefTensor v = dequantizeValuesImpl(op, vCodes, vScale, params);
  double scale = params.scale.value_or(1.0 / std::sqrt(static_cast<double>(d)));
  return denseAttention(op, q, k, v, scale, params.causal, params.kvLens);
}

PqFitResult pqFit(const RefTensor &keys, const PqFitParams &params) {
  const char *op = "pq_fit";
  checkRank(op, "keys", keys, 3);
  int64_t heads = keys.dim(0), n = keys.dim(1), d = keys.dim(2);
  int64_t m = params.m, kc = params.kc;
  if (kc != 16 && kc != 256)
    fail(op, "'kc' must be 16 or 256, got " + std::to_string(kc));
  if (m <= 0 || d % m != 0)
    fail(op, "'m' = " + std::to_string(m) + " must divide the key dim D = " +
                 std::to_string(d) + " of 'keys'");
  if (n < kc)
    fail(op, "'keys' has N = " + std::to_string(n) +
                 " calibration keys, fewer than Kc = " + std::to_string(kc));
  if (params.iters < 0)
    fail(op, "'iters' must be >= 0, got " + std::to_string(params.iters));
  int64_t ds = d / m;
  PqFitResult r{RefTensor({heads, m, kc, ds})};
  std::vector<double> points(static_cast<size_t>(n * ds));
  for (int64_t h = 0; h < heads; ++h)
    for (int64_t s = 0; s < m; ++s) {
      for (int64_t i = 0; i < n; ++i)
        std::copy_n(keys.data.begin() + off3(keys.shape, h, i, s * ds), ds,
                    points.begin() + i * ds);
      // One independent stream per (head, sub-space), so fitting a subset of
      // heads reproduces the same codebooks.
      SplitMix64 rng(params.seed ^ (0x9E3779B97F4A7C15ULL *
                                    static_cast<uint64_t>(h * m + s + 1)));
      kmeans(points, n, ds, kc, params.iters, rng,
             r.codebooks.data.data() + off4(r.codebooks.shape, h, s, 0, 0));
    }
  return r;
}

PqEncodeResult pqEncode(const RefTensor &k, const RefTensor &codebooks) {
  const char *op = "pq_encode";
  checkRank(op, "k", k, 4);
  int64_t batch = k.dim(0), heads = k.dim(1), len = k.dim(2), d = k.dim(3);
  int64_t kc = checkCodebooks(op, codebooks, heads, d);
  int64_t m = codebooks.dim(1), ds = d / m;
  PqEncodeResult r{CodeTensor({batch, heads, len, kc == 256 ? m : m / 2})};
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t j = 0; j < len; ++j) {
        int8_t *out = r.codes.data.data() + off4(r.codes.shape, b, h, j, 0);
        for (int64_t s = 0; s < m; ++s) {
          int64_t c =
              nearest(row4(k, b, h, j) + s * ds,
                      codebooks.data.data() + off4(codebooks.shape, h, s, 0, 0),
                      kc, ds);
          if (kc == 256)
            out[s] = static_cast<int8_t>(static_cast<uint8_t>(c));
          else
            out[s / 2] = static_cast<int8_t>(static_cast<uint8_t>(
                static_cast<uint8_t>(out[s / 2]) | (c << (4 * (s % 2)))));
        }
      }
  return r;
}

AttentionResult pqAttention(const RefTensor &q, const CodeTensor &codes,
                            const RefTensor &codebooks, const RefTensor &v,
                            const PqAttentionParams &params) {
  const char *op = "pq_attention";
  checkRank(op, "q", q, 4);
  checkRank(op, "v", v, 4);
  int64_t batch = q.dim(0), hq = q.dim(1), lq = q.dim(2), d = q.dim(3);
  int64_t hkv = v.dim(1), lk = v.dim(2), dv = v.dim(3);
  checkShape(op, "v", v, {batch, -1, -1, -1});
  if (hkv == 0 || hq % hkv != 0)
    fail(op, "'v' has " + std::to_string(hkv) +
                 " heads, which must divide the " + std::to_string(hq) +
                 " query heads of 'q'");
  int64_t kc = checkCodebooks(op, codebooks, hkv, d);
  int64_t m = codebooks.dim(1), ds = d / m, group = hq / hkv;
  checkShape(op, "codes", codes, {batch, hkv, lk, kc == 256 ? m : m / 2});
  checkKvLens(op, params.kvLens, batch);
  double scale = params.scale.value_or(1.0 / std::sqrt(static_cast<double>(d)));

  AttentionResult r{RefTensor({batch, hq, lq, dv}), RefTensor({batch, hq, lq})};
  std::vector<double> table(static_cast<size_t>(m * kc)),
      scores(static_cast<size_t>(lk));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < hq; ++h) {
      int64_t kvh = h / group;
      for (int64_t i = 0; i < lq; ++i) {
        // Asymmetric distance computation: T[s, c] = <q_s, centroid[s, c]>.
        const double *qi = row4(q, b, h, i);
        for (int64_t s = 0; s < m; ++s)
          for (int64_t c = 0; c < kc; ++c)
            table[s * kc + c] =
                dot(qi + s * ds, row4(codebooks, kvh, s, c), ds);
        int64_t n = keyCount(params.kvLens, b, lk);
        for (int64_t j = 0; j < lk; ++j) {
          if (j >= n || (params.causal && j > i + n - lq)) {
            scores[j] = -kInf;
            continue;
          }
          const int8_t *row =
              codes.data.data() + off4(codes.shape, b, kvh, j, 0);
          double s = 0.0;
          for (int64_t sub = 0; sub < m; ++sub)
            s += table[sub * kc + readCode(row, sub, kc == 256 ? 8 : 4,
                                           /*isUnsigned=*/true)];
          scores[j] = scale * s;
        }
        r.lse.data[off3(r.lse.shape, b, h, i)] = softmaxRow(
            scores, row4(v, b, kvh, 0), dv, nullptr, row4(r.out, b, h, i));
      }
    }
  return r;
}

} // namespace reference
} // namespace attn
