//===- QuantizedTest.cpp - Tests of the quantised-KV reference ops ----------===//
//
// quant_attention and product quantisation: exact codes equal dequantised
// attention, nibble order, encoding of centroids, k-means determinism.
// Inputs are random and non-zero, shapes odd (L = 1, L = 37, D = 96, G = 7).
//
//===----------------------------------------------------------------------===//

#include "TestSupport.h"

using namespace attn::reference;
using namespace attn::reference::testing;

namespace {

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

} // namespace
