//===- CacheQuantTest.cpp - unit tests of the quantised KV cache ----------===//
//
// attnrt_quant_* against an fp64 re-derivation of attnrt_cache.h's rules:
// codes, scales and zero points of every complete group (int8/int4,
// symmetric and zero-point, f32/f16/bf16 inputs), dequantisation within half
// a scale, the residual window holding exactly the last len % group_size
// tokens in full precision, chunking that does not matter, truncate rules,
// fork, degenerate groups and refused calls that change nothing. Shapes: 3 kv
// heads, head_dim 6, value_dim 10 (value groups of 4 + 4 + 2 or 6 + 4).
//
//===----------------------------------------------------------------------===//

#include "CacheTestSupport.h"

#include <algorithm>
#include <map>

using namespace cachetest;

namespace {

constexpr int32_t kHeads = 3, kKeyDim = 6, kValueDim = 10, kCapacity = 24;

struct QuantConfig {
  attnrt_dtype dtype;
  int32_t bits, zeroPoints, groupSize;
};

std::string configName(const QuantConfig &c) {
  return std::string(dtypeName(c.dtype)) + "_int" + std::to_string(c.bits) +
         (c.zeroPoints ? "_zero" : "_sym") + "_g" + std::to_string(c.groupSize);
}

void PrintTo(const QuantConfig &c, std::ostream *os) { *os << configName(c); }

attnrt_quant_cache_desc quantDesc(const QuantConfig &c, int32_t maxSeqs = 3) {
  attnrt_quant_cache_desc d = {};
  d.dtype = c.dtype;
  d.max_seqs = maxSeqs;
  d.kv_heads = kHeads;
  d.head_dim = kKeyDim;
  d.value_dim = kValueDim;
  d.capacity = kCapacity;
  d.bits = c.bits;
  d.group_size = c.groupSize;
  d.zero_points = c.zeroPoints;
  return d;
}

/// The fp64 reading of attnrt_cache.h: scale (as stored, f32), zero and the
/// codes of one group.
struct RefGroup {
  float scale = 1.0f, zero = 0.0f;
  std::vector<int> codes;
};

RefGroup quantizeRef(const std::vector<double> &x, int bits, bool zeroPoints) {
  RefGroup g;
  double lo = *std::min_element(x.begin(), x.end());
  double hi = *std::max_element(x.begin(), x.end());
  double top =
      zeroPoints ? std::ldexp(1.0, bits) - 1 : std::ldexp(1.0, bits - 1) - 1;
  double bottom = zeroPoints ? 0.0 : -top;
  if (zeroPoints) {
    g.zero = float(lo);
    if (hi != lo)
      g.scale = float((hi - lo) / top);
  } else {
    double amax = std::max(std::fabs(lo), std::fabs(hi));
    if (amax != 0.0)
      g.scale = float(amax / top);
  }
  for (double v : x) // std::nearbyint rounds half to even by default
    g.codes.push_back(int(std::clamp(
        std::nearbyint((v - double(g.zero)) / double(g.scale)), bottom, top)));
  return g;
}

/// Code `index` of a row, read as quant_attention reads it.
int readCode(const int8_t *row, size_t index, int bits, bool unsignedCodes) {
  if (bits == 8)
    return unsignedCodes ? int(uint8_t(row[index])) : int(row[index]);
  int byte = uint8_t(row[index / 2]);
  int nibble = index % 2 ? byte >> 4 : byte & 0xf;
  return unsignedCodes || nibble < 8 ? nibble : nibble - 16;
}

/// A quantised cache and the full-precision tokens of its live sequences.
class QuantHarness {
public:
  explicit QuantHarness(const QuantConfig &c, int32_t maxSeqs = 3)
      : config(c), desc(quantDesc(c, maxSeqs)), element(elementSize(c.dtype)) {
    EXPECT_OK(attnrt_quant_cache_create(&desc, &cache));
  }
  ~QuantHarness() { attnrt_quant_cache_destroy(cache); }
  QuantHarness(const QuantHarness &) = delete;
  QuantHarness &operator=(const QuantHarness &) = delete;

  int32_t g() const { return desc.group_size; }
  size_t keyCodeBytes() const { return size_t(kKeyDim * config.bits / 8); }
  size_t valueCodeBytes() const { return size_t(kValueDim * config.bits / 8); }
  size_t valueGroups() const { return size_t((kValueDim + g() - 1) / g()); }

  TokenModel random(size_t count, std::mt19937 &rng,
                    bool subnormals = false) const {
    return randomTokens(count, desc.dtype, kHeads * kKeyDim, desc.dtype,
                        kHeads * kValueDim, rng, subnormals);
  }
  int32_t create() {
    int32_t seq = -1;
    EXPECT_OK(attnrt_quant_seq_create(cache, &seq));
    model[seq] = {};
    return seq;
  }
  attnrt_status append(int32_t seq, const TokenModel &t, size_t first,
                       size_t count) {
    return appendPacked(model[seq], t, first, count, kHeads,
                        [&](int32_t n, const void *k, const void *v) {
                          return attnrt_quant_append(cache, seq, n, k, v);
                        });
  }
  /// Appends all of `t` in random chunks of 1 to 7 tokens.
  void appendChunked(int32_t seq, const TokenModel &t, std::mt19937 &rng) {
    for (size_t next = 0; next < t.size();) {
      size_t count = std::min<size_t>(1 + rng() % 7, t.size() - next);
      ASSERT_OK(append(seq, t, next, count));
      next += count;
    }
  }
  attnrt_quant_view view() const {
    attnrt_quant_view v = {};
    EXPECT_OK(attnrt_quant_view_get(cache, &v));
    return v;
  }
  attnrt_cache_memory memory() const {
    attnrt_cache_memory m = {};
    EXPECT_OK(attnrt_quant_memory(cache, &m));
    return m;
  }

  double keyAt(const TokenModel &m, size_t token, size_t h, size_t d) const {
    return decode(m.key[token].data(), desc.dtype, h * kKeyDim + d);
  }
  double valueAt(const TokenModel &m, size_t token, size_t h, size_t c) const {
    return decode(m.value[token].data(), desc.dtype, h * kValueDim + c);
  }

  /// Checks `seq` against the model: lengths, every complete group against
  /// quantizeRef (bit-exact codes and scales, dequantised within half a
  /// scale), and the residual window byte for byte.
  void check(int32_t seq) const {
    const TokenModel &m = model.at(seq);
    attnrt_quant_view v = view();
    size_t n = m.size(), G = size_t(g()), s = size_t(seq);
    size_t quantized = n - n % G;
    ASSERT_EQ(v.quantized_lengths[seq], int32_t(quantized));
    ASSERT_EQ(v.residual_lengths[seq], int32_t(n % G));
    bool zeros = config.zeroPoints != 0;
    ASSERT_EQ(v.key_zero != nullptr, zeros);
    ASSERT_EQ(v.value_zero != nullptr, zeros);
    auto checkGroup = [&](const RefGroup &ref, float scale, float zero,
                          const std::vector<double> &x, auto codeAt) {
      ASSERT_EQ(scale, ref.scale);
      if (zeros) {
        ASSERT_EQ(zero, ref.zero);
      }
      for (size_t i = 0; i < x.size(); ++i) {
        int code = codeAt(i);
        ASSERT_EQ(code, ref.codes[i]) << "element " << i << " = " << x[i];
        double back = double(scale) * code + (zeros ? double(zero) : 0.0);
        ASSERT_LE(std::fabs(back - x[i]), double(scale) * (0.5 + 1e-6))
            << "element " << i;
      }
    };
    for (size_t h = 0; h < kHeads; ++h) {
      size_t slab = s * kHeads + h;
      for (size_t group = 0; group < quantized / G; ++group)
        for (size_t d = 0; d < kKeyDim; ++d) {
          SCOPED_TRACE("key group " + std::to_string(group) + " head " +
                       std::to_string(h) + " channel " + std::to_string(d));
          std::vector<double> x;
          for (size_t t = 0; t < G; ++t)
            x.push_back(keyAt(m, group * G + t, h, d));
          size_t at = (slab * (kCapacity / G) + group) * kKeyDim + d;
          checkGroup(quantizeRef(x, config.bits, zeros), v.key_scale[at],
                     zeros ? v.key_zero[at] : 0.0f, x, [&](size_t t) {
                       const int8_t *row =
                           v.key_codes +
                           (slab * kCapacity + group * G + t) * keyCodeBytes();
                       return readCode(row, d, config.bits, zeros);
                     });
          if (::testing::Test::HasFatalFailure())
            return;
        }
      for (size_t token = 0; token < quantized; ++token)
        for (size_t vg = 0; vg < valueGroups(); ++vg) {
          SCOPED_TRACE("value token " + std::to_string(token) + " head " +
                       std::to_string(h) + " group " + std::to_string(vg));
          std::vector<double> x;
          for (size_t c = vg * G; c < std::min(vg * G + G, size_t(kValueDim));
               ++c)
            x.push_back(valueAt(m, token, h, c));
          size_t at = (slab * kCapacity + token) * valueGroups() + vg;
          const int8_t *row =
              v.value_codes + (slab * kCapacity + token) * valueCodeBytes();
          checkGroup(quantizeRef(x, config.bits, zeros), v.value_scale[at],
                     zeros ? v.value_zero[at] : 0.0f, x, [&](size_t i) {
                       return readCode(row, vg * G + i, config.bits, zeros);
                     });
          if (::testing::Test::HasFatalFailure())
            return;
        }
      // The residual window: tokens [quantized, n) in full precision.
      auto *rk = static_cast<const uint8_t *>(v.residual_key);
      auto *rv = static_cast<const uint8_t *>(v.residual_value);
      size_t keyRow = kKeyDim * element, valueRow = kValueDim * element;
      for (size_t t = quantized; t < n; ++t) {
        ASSERT_EQ(0, std::memcmp(rk + (slab * G + t - quantized) * keyRow,
                                 &m.key[t][h * keyRow], keyRow))
            << "residual key " << t;
        ASSERT_EQ(0, std::memcmp(rv + (slab * G + t - quantized) * valueRow,
                                 &m.value[t][h * valueRow], valueRow))
            << "residual value " << t;
      }
    }
  }

  /// Every byte of every view array plus lengths and memory: what a failed
  /// call must leave alone.
  Bytes snapshot() const {
    attnrt_quant_view v = view();
    size_t S = size_t(desc.max_seqs), G = size_t(g());
    Bytes out;
    auto add = [&](const void *p, size_t bytes) {
      if (!p)
        return;
      auto *b = static_cast<const uint8_t *>(p);
      out.insert(out.end(), b, b + bytes);
    };
    size_t slabs = S * kHeads;
    add(v.key_codes, slabs * kCapacity * keyCodeBytes());
    add(v.key_scale, slabs * (kCapacity / G) * kKeyDim * 4);
    add(v.key_zero, slabs * (kCapacity / G) * kKeyDim * 4);
    add(v.value_codes, slabs * kCapacity * valueCodeBytes());
    add(v.value_scale, slabs * kCapacity * valueGroups() * 4);
    add(v.value_zero, slabs * kCapacity * valueGroups() * 4);
    add(v.residual_key, slabs * G * kKeyDim * element);
    add(v.residual_value, slabs * G * kValueDim * element);
    add(v.quantized_lengths, S * 4);
    add(v.residual_lengths, S * 4);
    attnrt_cache_memory m = memory();
    add(&m, sizeof(m));
    return out;
  }

  QuantConfig config;
  attnrt_quant_cache_desc desc;
  size_t element;
  attnrt_quant_cache *cache = nullptr;
  std::map<int32_t, TokenModel> model;
};

template <typename Call>
void expectRefused(QuantHarness &h, attnrt_status status, const char *fragment,
                   Call &&call) {
  Bytes before = h.snapshot();
  EXPECT_EQ(call(), status);
  EXPECT_NE(std::string(attnrt_last_error()).find(fragment), std::string::npos)
      << attnrt_last_error();
  EXPECT_TRUE(h.snapshot() == before) << "the failed call changed the cache";
}

class QuantCacheTest : public ::testing::TestWithParam<QuantConfig> {};

// Two sequences appended in random chunks; every complete group of both
// matches the fp64 re-derivation and the residual windows hold the rest.
TEST_P(QuantCacheTest, GroupsMatchTheReference) {
  std::mt19937 rng(41 + GetParam().bits * 7 + GetParam().groupSize);
  QuantHarness h(GetParam());
  int32_t a = h.create(), b = h.create();
  ASSERT_NO_FATAL_FAILURE(h.appendChunked(a, h.random(23, rng, true), rng));
  ASSERT_NO_FATAL_FAILURE(h.appendChunked(b, h.random(13, rng, true), rng));
  ASSERT_NO_FATAL_FAILURE(h.check(a));
  ASSERT_NO_FATAL_FAILURE(h.check(b));
  attnrt_quant_view v = h.view();
  for (const void *p : std::initializer_list<const void *>{
           v.key_codes, v.key_scale, v.value_codes, v.value_scale,
           v.residual_key, v.residual_value})
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
}

// Groups completed across chunk boundaries equal one big append: the whole
// view (every array, byte for byte) is the same.
TEST_P(QuantCacheTest, ChunkingDoesNotMatter) {
  std::mt19937 rng(43);
  QuantHarness whole(GetParam()), chunked(GetParam());
  TokenModel t = whole.random(22, rng);
  int32_t a = whole.create(), b = chunked.create();
  ASSERT_OK(whole.append(a, t, 0, t.size()));
  ASSERT_NO_FATAL_FAILURE(chunked.appendChunked(b, t, rng));
  EXPECT_TRUE(whole.snapshot() == chunked.snapshot());
}

// Truncate within the residual window, to a group boundary, and (refused)
// into the middle of a quantised group; re-appending after a truncate
// equals never having appended the dropped tokens.
TEST_P(QuantCacheTest, TruncateRules) {
  std::mt19937 rng(44);
  QuantHarness h(GetParam());
  const int32_t G = h.g();
  int32_t a = h.create(), b = h.create();
  TokenModel t = h.random(size_t(3 * G + 2), rng), more = h.random(9, rng);
  ASSERT_OK(h.append(a, t, 0, t.size())); // 3 groups + 2 in the window
  int32_t length = -1;
  // Within the window.
  ASSERT_OK(attnrt_quant_truncate(h.cache, a, 3 * G + 1));
  ASSERT_OK(attnrt_quant_length(h.cache, a, &length));
  EXPECT_EQ(length, 3 * G + 1);
  EXPECT_EQ(h.view().residual_lengths[a], 1);
  // Into a quantised group: its full-precision tokens are gone.
  expectRefused(h, ATTNRT_INVALID_ARGUMENT,
                "falls inside the quantised prefix of sequence 0",
                [&] { return attnrt_quant_truncate(h.cache, a, 2 * G + 1); });
  expectRefused(h, ATTNRT_INVALID_ARGUMENT, "to 100",
                [&] { return attnrt_quant_truncate(h.cache, a, 100); });
  // To a group boundary below the quantised length.
  ASSERT_OK(attnrt_quant_truncate(h.cache, a, G));
  EXPECT_EQ(h.view().quantized_lengths[a], G);
  EXPECT_EQ(h.view().residual_lengths[a], 0);
  h.model[a].truncate(size_t(G));
  ASSERT_OK(h.append(a, more, 0, more.size()));
  ASSERT_OK(h.append(b, t, 0, size_t(G)));
  ASSERT_OK(h.append(b, more, 0, more.size()));
  ASSERT_NO_FATAL_FAILURE(h.check(a));
  ASSERT_NO_FATAL_FAILURE(h.check(b));
  ASSERT_OK(attnrt_quant_truncate(h.cache, a, 0));
  EXPECT_EQ(h.view().quantized_lengths[a], 0);
  h.model[a] = {};
  ASSERT_NO_FATAL_FAILURE(h.check(a));
}

// A fork copies the quantised prefix and the window; the two then diverge
// without touching each other.
TEST_P(QuantCacheTest, ForkCopiesThenDiverges) {
  std::mt19937 rng(45);
  QuantHarness h(GetParam());
  int32_t parent = h.create(), child = -1;
  ASSERT_OK(h.append(parent, h.random(size_t(2 * h.g() + 3), rng), 0,
                     size_t(2 * h.g() + 3)));
  ASSERT_OK(attnrt_quant_fork(h.cache, parent, &child));
  h.model[child] = h.model[parent];
  ASSERT_NO_FATAL_FAILURE(h.check(child));
  TokenModel x = h.random(5, rng), y = h.random(7, rng);
  ASSERT_OK(h.append(child, x, 0, x.size()));
  ASSERT_OK(h.append(parent, y, 0, y.size()));
  ASSERT_NO_FATAL_FAILURE(h.check(parent));
  ASSERT_NO_FATAL_FAILURE(h.check(child));
}

// used_bytes counts the codes, scales and zeros of quantised tokens and the
// window's full-precision rows.
TEST_P(QuantCacheTest, MemoryAccounting) {
  std::mt19937 rng(46);
  QuantHarness h(GetParam());
  int32_t a = h.create();
  size_t n = size_t(2 * h.g() + 3);
  ASSERT_OK(h.append(a, h.random(n, rng), 0, n));
  attnrt_cache_memory m = h.memory();
  size_t scalars = GetParam().zeroPoints ? 8 : 4, g = size_t(h.g());
  size_t perHead = 2 * g * (h.keyCodeBytes() + h.valueCodeBytes()) +
                   2 * kKeyDim * scalars + 2 * g * h.valueGroups() * scalars +
                   3 * (kKeyDim + kValueDim) * h.element;
  EXPECT_EQ(m.used_bytes, kHeads * perHead);
  EXPECT_EQ(m.free_pages, -1);
  EXPECT_GE(m.reserved_bytes, h.snapshot().size() - sizeof(m));
}

INSTANTIATE_TEST_SUITE_P(
    Configs, QuantCacheTest, ::testing::ValuesIn([] {
      std::vector<QuantConfig> configs;
      for (attnrt_dtype dtype : {ATTNRT_F32, ATTNRT_F16, ATTNRT_BF16})
        for (int32_t bits : {8, 4})
          for (int32_t zero : {0, 1})
            for (int32_t g : {4, 6})
              configs.push_back({dtype, bits, zero, g});
      return configs;
    }()),
    [](const auto &info) { return configName(info.param); });

// Degenerate groups: a key channel whose tokens are all equal, and an
// all-zero channel. With zero points both get scale 1, zero = the value and
// codes 0; without, the non-zero one gets |v| / qmax and codes +-qmax, the
// zero one scale 1 and codes 0.
TEST(QuantCache, ConstantAndZeroGroups) {
  for (int32_t zero : {0, 1})
    for (int32_t bits : {8, 4}) {
      SCOPED_TRACE("bits " + std::to_string(bits) + " zero " +
                   std::to_string(zero));
      QuantHarness h({ATTNRT_F32, bits, zero, 4});
      int32_t a = h.create();
      TokenModel t;
      std::mt19937 rng(47);
      for (int i = 0; i < 4; ++i) {
        Bytes k = randomElements(ATTNRT_F32, kHeads * kKeyDim, rng);
        Bytes v = randomElements(ATTNRT_F32, kHeads * kValueDim, rng);
        float constant = -0.75f, nothing = 0.0f;
        std::memcpy(&k[0], &constant, 4); // head 0 channel 0
        std::memcpy(&k[4], &nothing, 4);  // head 0 channel 1
        for (int c = 0; c < 4; ++c)       // head 0, value group 0
          std::memcpy(&v[4 * c], &constant, 4);
        t.key.push_back(k);
        t.value.push_back(v);
      }
      ASSERT_OK(h.append(a, t, 0, 4));
      ASSERT_NO_FATAL_FAILURE(h.check(a)); // against the reference rules
      attnrt_quant_view v = h.view();
      int qmax = (1 << (bits - 1)) - 1;
      if (zero) {
        EXPECT_EQ(v.key_scale[0], 1.0f);
        EXPECT_EQ(v.key_zero[0], -0.75f);
        EXPECT_EQ(v.key_scale[1], 1.0f);
        EXPECT_EQ(v.key_zero[1], 0.0f);
        EXPECT_EQ(v.value_scale[0], 1.0f);
        EXPECT_EQ(v.value_zero[0], -0.75f);
      } else {
        EXPECT_EQ(v.key_scale[0], float(0.75 / qmax));
        EXPECT_EQ(readCode(v.key_codes, 0, bits, false), -qmax);
        EXPECT_EQ(v.key_scale[1], 1.0f);
        EXPECT_EQ(readCode(v.key_codes, 1, bits, false), 0);
        EXPECT_EQ(v.value_scale[0], float(0.75 / qmax));
      }
    }
}

// Codes round half to even: groups built so that the scale is exactly 1 and
// x / scale (or x - zero) lands on .5.
TEST(QuantCache, RoundsHalfToEven) {
  for (int32_t zero : {0, 1})
    for (int32_t bits : {8, 4}) {
      SCOPED_TRACE("bits " + std::to_string(bits) + " zero " +
                   std::to_string(zero));
      float top = float((1 << (zero ? bits : bits - 1)) - 1);
      // Symmetric: max |x| = qmax; zero points: min -1, max 2^bits - 2.
      std::vector<float> channel =
          zero ? std::vector<float>{-1.0f, top - 1.0f, 1.5f, 2.5f}
               : std::vector<float>{top, 2.5f, 3.5f, -2.5f};
      std::vector<int> expected = zero ? std::vector<int>{0, int(top), 2, 4}
                                       : std::vector<int>{int(top), 2, 4, -2};
      QuantHarness h({ATTNRT_F32, bits, zero, 4});
      int32_t a = h.create();
      std::mt19937 rng(50);
      TokenModel t = h.random(4, rng);
      for (size_t i = 0; i < 4; ++i)
        std::memcpy(&t.key[i][0], &channel[i], 4); // head 0 channel 0
      ASSERT_OK(h.append(a, t, 0, 4));
      ASSERT_NO_FATAL_FAILURE(h.check(a));
      attnrt_quant_view v = h.view();
      EXPECT_EQ(v.key_scale[0], 1.0f);
      for (size_t i = 0; i < 4; ++i)
        EXPECT_EQ(readCode(v.key_codes + i * h.keyCodeBytes(), 0, bits, zero),
                  expected[i])
            << "token " << i;
    }
}

// Non-finite inputs cannot be quantised: refused before anything changes
// (the f16 decoder's infinity and NaN paths).
TEST(QuantCache, NonFiniteInputsAreRefused) {
  std::mt19937 rng(48);
  QuantHarness h({ATTNRT_F16, 4, 1, 4});
  int32_t a = h.create();
  ASSERT_OK(h.append(a, h.random(3, rng), 0, 3));
  TokenModel t = h.random(2, rng);
  uint16_t inf = 0x7c00, nan = 0x7e01;
  std::memcpy(&t.key[1][2 * 7], &inf, 2);
  Bytes k = packTokens(t.key, 0, 2, kHeads),
        v = packTokens(t.value, 0, 2, kHeads);
  expectRefused(h, ATTNRT_INVALID_ARGUMENT, "key element", [&] {
    return attnrt_quant_append(h.cache, a, 2, k.data(), v.data());
  });
  k = packTokens(h.random(2, rng).key, 0, 2, kHeads);
  std::memcpy(&v[2 * 29], &nan, 2);
  expectRefused(h, ATTNRT_INVALID_ARGUMENT, "value element 29 is nan", [&] {
    return attnrt_quant_append(h.cache, a, 2, k.data(), v.data());
  });
  ASSERT_NO_FATAL_FAILURE(h.check(a));
}

TEST(QuantCache, RefusedCallsChangeNothing) {
  std::mt19937 rng(49);
  QuantHarness h({ATTNRT_BF16, 8, 0, 4}, 2);
  int32_t a = h.create(), b = -1;
  ASSERT_OK(h.append(a, h.random(22, rng), 0, 22));
  TokenModel t = h.random(3, rng);
  Bytes k = packTokens(t.key, 0, 3, kHeads),
        v = packTokens(t.value, 0, 3, kHeads);
  attnrt_quant_cache *c = h.cache;
  expectRefused(
      h, ATTNRT_INVALID_ARGUMENT,
      "attnrt_quant_append: sequence 0 has 22 of 24 tokens; "
      "appending 3 would exceed the capacity",
      [&] { return attnrt_quant_append(c, a, 3, k.data(), v.data()); });
  expectRefused(h, ATTNRT_INVALID_ARGUMENT, "tokens must be positive", [&] {
    return attnrt_quant_append(c, a, 0, k.data(), v.data());
  });
  expectRefused(h, ATTNRT_INVALID_ARGUMENT, "NULL value", [&] {
    return attnrt_quant_append(c, a, 1, k.data(), nullptr);
  });
  expectRefused(h, ATTNRT_NOT_FOUND, "sequence 1 is not live", [&] {
    return attnrt_quant_append(c, 1, 1, k.data(), v.data());
  });
  expectRefused(h, ATTNRT_NOT_FOUND, "attnrt_quant_seq_release",
                [&] { return attnrt_quant_seq_release(c, 1); });
  ASSERT_OK(attnrt_quant_fork(c, a, &b));
  h.model[b] = h.model[a];
  expectRefused(h, ATTNRT_CACHE_FULL, "all 2 sequence slots",
                [&] { return attnrt_quant_fork(c, a, &b); });
  expectRefused(h, ATTNRT_INVALID_ARGUMENT, "NULL view",
                [&] { return attnrt_quant_view_get(c, nullptr); });
  ASSERT_NO_FATAL_FAILURE(h.check(a));
  ASSERT_NO_FATAL_FAILURE(h.check(b));
}

TEST(QuantCache, CreateValidatesTheDescriptor) {
  struct Case {
    void (*edit)(attnrt_quant_cache_desc &);
    const char *fragment;
  };
  const Case cases[] = {
      {[](attnrt_quant_cache_desc &d) { d.bits = 3; },
       "bits must be 4 or 8, got 3"},
      {[](attnrt_quant_cache_desc &d) { d.zero_points = 2; },
       "zero_points must be 0 or 1, got 2"},
      {[](attnrt_quant_cache_desc &d) { d.head_dim = 7; },
       "head_dim 7 and value_dim 10 must be even"},
      {[](attnrt_quant_cache_desc &d) { d.value_dim = 5; }, "value_dim 5"},
      {[](attnrt_quant_cache_desc &d) { d.group_size = 5; },
       "capacity 24 is not a multiple of group_size 5"},
      {[](attnrt_quant_cache_desc &d) { d.group_size = 0; },
       "group_size must be positive, got 0"},
      {[](attnrt_quant_cache_desc &d) { d.max_seqs = -1; },
       "max_seqs must be positive, got -1"},
      {[](attnrt_quant_cache_desc &d) { setRawEnum(d.dtype, 3); }, "dtype 3"},
      {[](attnrt_quant_cache_desc &d) { d.kv_heads = 0; }, "kv_heads"},
  };
  for (const Case &c : cases) {
    attnrt_quant_cache_desc d = quantDesc({ATTNRT_F16, 4, 1, 4});
    c.edit(d);
    attnrt_quant_cache *cache = nullptr;
    EXPECT_EQ(attnrt_quant_cache_create(&d, &cache), ATTNRT_INVALID_ARGUMENT);
    EXPECT_EQ(cache, nullptr);
    std::string message = attnrt_last_error();
    EXPECT_NE(message.find("attnrt_quant_cache_create: "), std::string::npos);
    EXPECT_NE(message.find(c.fragment), std::string::npos) << message;
  }
}

} // namespace
