//===- CachePqTest.cpp - unit tests of the PQ key cache -------------------===//
//
// attnrt_pq_* against a brute-force nearest-centroid search: codes of every
// key (Kc = 256, one byte read as unsigned; Kc = 16, two codes a byte, low
// nibble first), a constructed tie that the lower index wins, values stored
// as given, codebooks copied at create, truncate and fork, and refused calls
// that change nothing. 3 kv heads, value_dim 10, sub-spaces of 2, 3 and 5.
//
//===----------------------------------------------------------------------===//

#include "CacheTestSupport.h"

#include <algorithm>
#include <map>

using namespace cachetest;

namespace {

constexpr int32_t kHeads = 3, kValueDim = 10, kCapacity = 20;

struct PqConfig {
  int32_t headDim, subspaces, centroids;
  attnrt_dtype valueDtype;
};

std::string configName(const PqConfig &c) {
  return "D" + std::to_string(c.headDim) + "_m" + std::to_string(c.subspaces) +
         "_Kc" + std::to_string(c.centroids) + "_" + dtypeName(c.valueDtype);
}

void PrintTo(const PqConfig &c, std::ostream *os) { *os << configName(c); }

std::vector<float> randomFloats(size_t count, std::mt19937 &rng) {
  Bytes b = randomElements(ATTNRT_F32, count, rng);
  std::vector<float> out(count);
  std::memcpy(out.data(), b.data(), b.size());
  return out;
}

/// A PQ cache, its codebooks and the keys and values of its live sequences.
class PqHarness {
public:
  PqHarness(const PqConfig &c, std::vector<float> books, int32_t maxSeqs = 3,
            int32_t capacity = kCapacity)
      : config(c), codebooks(std::move(books)), capacity(size_t(capacity)) {
    desc.value_dtype = c.valueDtype;
    desc.max_seqs = maxSeqs;
    desc.kv_heads = kHeads;
    desc.head_dim = c.headDim;
    desc.value_dim = kValueDim;
    desc.capacity = capacity;
    desc.subspaces = c.subspaces;
    desc.centroids = c.centroids;
    desc.codebooks = codebooks.data();
    EXPECT_OK(attnrt_pq_cache_create(&desc, &cache));
  }
  PqHarness(const PqConfig &c, std::mt19937 &rng, int32_t capacity = kCapacity)
      : PqHarness(c, randomFloats(size_t(kHeads * c.centroids * c.headDim), rng), 3,
                  capacity) {}
  ~PqHarness() { attnrt_pq_cache_destroy(cache); }
  PqHarness(const PqHarness &) = delete;
  PqHarness &operator=(const PqHarness &) = delete;

  size_t subDim() const { return size_t(config.headDim / config.subspaces); }
  size_t codeBytes() const {
    return size_t(config.centroids == 256 ? config.subspaces
                                          : config.subspaces / 2);
  }
  size_t valueRow() const { return kValueDim * elementSize(config.valueDtype); }

  /// Tokens whose keys are f32 ([heads, head_dim]) and values valueDtype.
  TokenModel random(size_t count, std::mt19937 &rng) const {
    return randomTokens(count, ATTNRT_F32, size_t(kHeads * config.headDim),
                        config.valueDtype, kHeads * kValueDim, rng);
  }
  int32_t create() {
    int32_t seq = -1;
    EXPECT_OK(attnrt_pq_seq_create(cache, &seq));
    model[seq] = {};
    return seq;
  }
  attnrt_status append(int32_t seq, const TokenModel &t, size_t first,
                       size_t count) {
    return appendPacked(model[seq], t, first, count, kHeads,
                        [&](int32_t n, const void *k, const void *v) {
                          return attnrt_pq_append(
                              cache, seq, n, static_cast<const float *>(k), v);
                        });
  }
  attnrt_pq_view view() const {
    attnrt_pq_view v = {};
    EXPECT_OK(attnrt_pq_view_get(cache, &v));
    return v;
  }
  attnrt_cache_memory memory() const {
    attnrt_cache_memory m = {};
    EXPECT_OK(attnrt_pq_memory(cache, &m));
    return m;
  }

  /// The nearest centroid of sub-space `s` of a key of head `h`, by brute
  /// force over the test's own copy of the codebooks: the first minimum.
  int nearest(const float *key, size_t h, size_t s) const {
    std::vector<double> distances;
    for (size_t c = 0; c < size_t(config.centroids); ++c) {
      const float *centroid =
          &codebooks[((h * config.subspaces + s) * config.centroids + c) *
                     subDim()];
      double sum = 0.0;
      for (size_t i = 0; i < subDim(); ++i) {
        double diff = double(key[s * subDim() + i]) - double(centroid[i]);
        sum += diff * diff;
      }
      distances.push_back(sum);
    }
    return int(std::min_element(distances.begin(), distances.end()) -
               distances.begin());
  }
  /// Code of sub-space `s` in a row of codes, read as pq_attention reads it.
  int codeAt(const int8_t *row, size_t s) const {
    if (config.centroids == 256)
      return uint8_t(row[s]);
    int byte = uint8_t(row[s / 2]);
    return s % 2 ? byte >> 4 : byte & 0xf;
  }
  const int8_t *codeRow(const attnrt_pq_view &v, int32_t seq, size_t h,
                        size_t token) const {
    return v.codes +
           ((size_t(seq) * kHeads + h) * capacity + token) * codeBytes();
  }

  /// Length, every code against `nearest` and every value byte for byte.
  void check(int32_t seq) const {
    const TokenModel &m = model.at(seq);
    attnrt_pq_view v = view();
    ASSERT_EQ(v.lengths[seq], int32_t(m.size()));
    auto *values = static_cast<const uint8_t *>(v.value);
    for (size_t t = 0; t < m.size(); ++t)
      for (size_t h = 0; h < kHeads; ++h) {
        auto *key = reinterpret_cast<const float *>(m.key[t].data()) +
                    h * config.headDim;
        for (size_t s = 0; s < size_t(config.subspaces); ++s)
          ASSERT_EQ(codeAt(codeRow(v, seq, h, t), s), nearest(key, h, s))
              << "token " << t << " head " << h << " sub-space " << s;
        ASSERT_EQ(0, std::memcmp(
                         values + ((size_t(seq) * kHeads + h) * capacity + t) *
                                      valueRow(),
                         &m.value[t][h * valueRow()], valueRow()));
      }
  }

  Bytes snapshot() const {
    attnrt_pq_view v = view();
    size_t slabs = size_t(desc.max_seqs) * kHeads;
    Bytes out;
    auto add = [&](const void *p, size_t bytes) {
      auto *b = static_cast<const uint8_t *>(p);
      out.insert(out.end(), b, b + bytes);
    };
    add(v.codes, slabs * capacity * codeBytes());
    add(v.value, slabs * capacity * valueRow());
    add(v.lengths, size_t(desc.max_seqs) * 4);
    attnrt_cache_memory m = memory();
    add(&m, sizeof(m));
    return out;
  }

  PqConfig config;
  std::vector<float> codebooks;
  size_t capacity;
  attnrt_pq_cache_desc desc = {};
  attnrt_pq_cache *cache = nullptr;
  std::map<int32_t, TokenModel> model;
};

class PqCacheTest : public ::testing::TestWithParam<PqConfig> {};

// Keys appended in random chunks to two sequences encode to the brute-force
// nearest centroids; the codebooks are the cache's own copy.
TEST_P(PqCacheTest, CodesAreNearestCentroids) {
  std::mt19937 rng(61);
  PqHarness h(GetParam(), rng);
  int32_t a = h.create(), b = h.create();
  for (int32_t seq : {a, b, a, a, b}) {
    size_t count = 1 + rng() % 5;
    ASSERT_OK(h.append(seq, h.random(count, rng), 0, count));
  }
  ASSERT_NO_FATAL_FAILURE(h.check(a));
  ASSERT_NO_FATAL_FAILURE(h.check(b));
  attnrt_pq_view v = h.view();
  EXPECT_NE(v.codebooks, h.codebooks.data());
  EXPECT_EQ(0, std::memcmp(v.codebooks, h.codebooks.data(),
                           h.codebooks.size() * sizeof(float)));
  EXPECT_EQ(reinterpret_cast<uintptr_t>(v.codes) % 64, 0u);
  // The caller's codebooks may change or go away after create.
  std::vector<float> original = h.codebooks;
  std::fill(h.codebooks.begin(), h.codebooks.end(), 1000.0f);
  ASSERT_OK(h.append(a, h.random(2, rng), 0, 2));
  h.codebooks = original;
  ASSERT_NO_FATAL_FAILURE(h.check(a));
}

// A long prefill is encoded through the staging buffer 1024 tokens at a
// time, each chunk's keys split over threads: 2100 tokens (two chunk
// boundaries, a short last chunk) after a 5-token prefix encode to the
// same nearest centroids as a short append.
TEST_P(PqCacheTest, LongAppendEncodesInChunksOnThreads) {
  std::mt19937 rng(63);
  PqHarness h(GetParam(), rng, /*capacity=*/2200);
  int32_t a = h.create();
  ASSERT_OK(h.append(a, h.random(5, rng), 0, 5));
  ASSERT_OK(h.append(a, h.random(2100, rng), 0, 2100));
  ASSERT_NO_FATAL_FAILURE(h.check(a));
}

// Truncate drops the newest codes; fork copies and the two diverge.
TEST_P(PqCacheTest, TruncateAndFork) {
  std::mt19937 rng(62);
  PqHarness h(GetParam(), rng);
  int32_t a = h.create(), child = -1;
  ASSERT_OK(h.append(a, h.random(9, rng), 0, 9));
  ASSERT_OK(attnrt_pq_truncate(h.cache, a, 4));
  h.model[a].truncate(4);
  ASSERT_OK(h.append(a, h.random(3, rng), 0, 3));
  ASSERT_OK(attnrt_pq_fork(h.cache, a, &child));
  h.model[child] = h.model[a];
  ASSERT_OK(h.append(child, h.random(5, rng), 0, 5));
  ASSERT_OK(h.append(a, h.random(2, rng), 0, 2));
  ASSERT_NO_FATAL_FAILURE(h.check(a));
  ASSERT_NO_FATAL_FAILURE(h.check(child));
  attnrt_cache_memory m = h.memory();
  EXPECT_EQ(m.used_bytes, (9 + 12) * kHeads * (h.codeBytes() + h.valueRow()));
  EXPECT_EQ(m.free_pages, -1);
}

INSTANTIATE_TEST_SUITE_P(Configs, PqCacheTest,
                         ::testing::Values(PqConfig{10, 5, 256, ATTNRT_F16},
                                           PqConfig{12, 4, 16, ATTNRT_BF16},
                                           PqConfig{10, 2, 16, ATTNRT_F32}),
                         [](const auto &info) {
                           return configName(info.param);
                         });

/// Codebooks whose centroids all lie far from the keys (about 100 + c),
/// so that the centroids a test places near a key decide its codes.
std::vector<float> farCodebooks(const PqConfig &c) {
  std::vector<float> books(size_t(kHeads * c.centroids * c.headDim));
  for (size_t i = 0; i < books.size(); ++i)
    books[i] = 100.0f + float(i % size_t(c.centroids * 7));
  return books;
}

// Two centroids at exactly the same distance from a key sub-vector: the
// lower index wins; a strictly closer higher index still beats a lower one.
TEST(PqCache, TiesGoToTheLowerIndex) {
  for (PqConfig c :
       {PqConfig{10, 5, 256, ATTNRT_F32}, PqConfig{12, 4, 16, ATTNRT_F32}}) {
    SCOPED_TRACE(configName(c));
    std::vector<float> books = farCodebooks(c);
    size_t sub = size_t(c.headDim / c.subspaces);
    auto centroid = [&](size_t h, size_t s, size_t k) {
      return &books[((h * c.subspaces + s) * c.centroids + k) * sub];
    };
    // Head 1, sub-space 1: the key sub-vector is 0.5; centroids 3 and 9 sit
    // at 0.75 and 0.25 in every dimension (both at distance sub / 16).
    // Head 0, sub-space 0: centroid 9 at 0.5 + 1/8, centroid 3 at 0.5 - 1/4.
    std::fill(centroid(1, 1, 3), centroid(1, 1, 3) + sub, 0.75f);
    std::fill(centroid(1, 1, 9), centroid(1, 1, 9) + sub, 0.25f);
    std::fill(centroid(0, 0, 9), centroid(0, 0, 9) + sub, 0.625f);
    std::fill(centroid(0, 0, 3), centroid(0, 0, 3) + sub, 0.25f);
    PqHarness h(c, books);
    int32_t a = h.create();
    std::mt19937 rng(63);
    TokenModel t = h.random(1, rng);
    std::vector<float> key(size_t(kHeads * c.headDim), 0.5f);
    std::memcpy(t.key[0].data(), key.data(), key.size() * 4);
    ASSERT_OK(h.append(a, t, 0, 1));
    attnrt_pq_view v = h.view();
    EXPECT_EQ(h.codeAt(h.codeRow(v, a, 1, 0), 1), 3);
    EXPECT_EQ(h.codeAt(h.codeRow(v, a, 0, 0), 0), 9);
    ASSERT_NO_FATAL_FAILURE(h.check(a));
  }
}

// Keys that equal chosen centroids give known codes: bytes above 127 for
// Kc = 256, and (low, high) nibble pairs for Kc = 16.
TEST(PqCache, CodeBytesAndNibblePacking) {
  std::mt19937 rng(64);
  PqConfig wide{10, 5, 256, ATTNRT_F32}, narrow{12, 4, 16, ATTNRT_F32};
  for (PqConfig c : {wide, narrow}) {
    SCOPED_TRACE(configName(c));
    std::vector<float> books =
        randomFloats(size_t(kHeads * c.centroids * c.headDim), rng);
    std::vector<int> chosen = c.centroids == 256
                                  ? std::vector<int>{200, 7, 255, 128, 0}
                                  : std::vector<int>{5, 10, 15, 1};
    size_t sub = size_t(c.headDim / c.subspaces);
    TokenModel t;
    Bytes key(size_t(kHeads * c.headDim) * 4);
    for (size_t h = 0; h < kHeads; ++h)
      for (size_t s = 0; s < size_t(c.subspaces); ++s)
        std::memcpy(
            &key[(h * c.headDim + s * sub) * 4],
            &books[((h * c.subspaces + s) * c.centroids + size_t(chosen[s])) *
                   sub],
            sub * 4);
    t.key.push_back(key);
    t.value.push_back(randomElements(ATTNRT_F32, kHeads * kValueDim, rng));
    PqHarness h(c, books);
    int32_t a = h.create();
    ASSERT_OK(h.append(a, t, 0, 1));
    const auto *row =
        reinterpret_cast<const uint8_t *>(h.codeRow(h.view(), a, 2, 0));
    if (c.centroids == 256) {
      EXPECT_EQ(std::vector<int>(row, row + 5), chosen);
    } else {
      EXPECT_EQ(row[0], 0xa5);
      EXPECT_EQ(row[1], 0x1f);
    }
    ASSERT_NO_FATAL_FAILURE(h.check(a));
  }
}

TEST(PqCache, RefusedCallsChangeNothing) {
  std::mt19937 rng(65);
  PqHarness h({10, 5, 256, ATTNRT_BF16}, rng);
  int32_t a = h.create();
  ASSERT_OK(h.append(a, h.random(18, rng), 0, 18));
  TokenModel t = h.random(3, rng);
  Bytes k = packTokens(t.key, 0, 3, kHeads),
        v = packTokens(t.value, 0, 3, kHeads);
  auto *keys = reinterpret_cast<float *>(k.data());
  auto refused = [&](attnrt_status status, const char *fragment, auto call) {
    Bytes before = h.snapshot();
    EXPECT_EQ(call(), status);
    EXPECT_NE(std::string(attnrt_last_error()).find(fragment),
              std::string::npos)
        << attnrt_last_error();
    EXPECT_TRUE(h.snapshot() == before);
  };
  refused(ATTNRT_INVALID_ARGUMENT,
          "attnrt_pq_append: sequence 0 has 18 of 20 tokens; appending 3 "
          "would exceed the capacity",
          [&] { return attnrt_pq_append(h.cache, a, 3, keys, v.data()); });
  keys[7] = std::numeric_limits<float>::quiet_NaN();
  refused(ATTNRT_INVALID_ARGUMENT, "key element 7 is nan",
          [&] { return attnrt_pq_append(h.cache, a, 1, keys, v.data()); });
  refused(ATTNRT_INVALID_ARGUMENT, "NULL key",
          [&] { return attnrt_pq_append(h.cache, a, 1, nullptr, v.data()); });
  refused(ATTNRT_NOT_FOUND, "sequence 2 is not live",
          [&] { return attnrt_pq_append(h.cache, 2, 1, keys, v.data()); });
  refused(ATTNRT_INVALID_ARGUMENT, "of 18 tokens to 19",
          [&] { return attnrt_pq_truncate(h.cache, a, 19); });
  refused(ATTNRT_INVALID_ARGUMENT, "NULL view",
          [&] { return attnrt_pq_view_get(h.cache, nullptr); });
  ASSERT_NO_FATAL_FAILURE(h.check(a));
}

TEST(PqCache, CreateValidatesTheDescriptor) {
  std::vector<float> books(size_t(kHeads * 256 * 12), 0.5f);
  struct Case {
    void (*edit)(attnrt_pq_cache_desc &);
    const char *fragment;
  };
  const Case cases[] = {
      {[](attnrt_pq_cache_desc &d) { d.centroids = 32; },
       "centroids (Kc) must be 16 or 256, got 32"},
      {[](attnrt_pq_cache_desc &d) { d.subspaces = 5; },
       "head_dim 12 is not a multiple of subspaces 5"},
      {[](attnrt_pq_cache_desc &d) {
         d.centroids = 16;
         d.subspaces = 3;
       },
       "subspaces 3 must be even"},
      {[](attnrt_pq_cache_desc &d) { d.subspaces = 0; },
       "subspaces must be positive, got 0"},
      {[](attnrt_pq_cache_desc &d) { d.codebooks = nullptr; },
       "NULL codebooks"},
      {[](attnrt_pq_cache_desc &d) { setRawEnum(d.value_dtype, 9); },
       "value_dtype 9"},
      {[](attnrt_pq_cache_desc &d) { d.capacity = -4; },
       "capacity must be positive, got -4"},
  };
  for (const Case &c : cases) {
    attnrt_pq_cache_desc d = {ATTNRT_F16, 2, kHeads, 12,          kValueDim,
                              kCapacity,  4, 256,    books.data()};
    c.edit(d);
    attnrt_pq_cache *cache = nullptr;
    EXPECT_EQ(attnrt_pq_cache_create(&d, &cache), ATTNRT_INVALID_ARGUMENT);
    EXPECT_EQ(cache, nullptr);
    std::string message = attnrt_last_error();
    EXPECT_NE(message.find("attnrt_pq_cache_create: "), std::string::npos);
    EXPECT_NE(message.find(c.fragment), std::string::npos) << message;
  }
  books[100] = std::numeric_limits<float>::infinity();
  attnrt_pq_cache_desc d = {ATTNRT_F16, 2, kHeads, 12,          kValueDim,
                            kCapacity,  4, 256,    books.data()};
  attnrt_pq_cache *cache = nullptr;
  EXPECT_EQ(attnrt_pq_cache_create(&d, &cache), ATTNRT_INVALID_ARGUMENT);
  EXPECT_NE(
      std::string(attnrt_last_error()).find("codebooks element 100 is inf"),
      std::string::npos);
}

} // namespace
