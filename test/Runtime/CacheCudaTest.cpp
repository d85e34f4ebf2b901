//===- CacheCudaTest.cpp - caches in CUDA device memory -------------------===//
//
// Needs a CUDA driver and a device; without them every test skips and says
// why. Each test drives a cache in device memory and the same cache in host
// memory (whose behaviour the host tests pin down) through one random
// sequence of calls: creates, appends of random sizes from host and from
// device arrays, truncates, forks, releases, reads and calls that must fail.
// After every call both return the same status and every array of the two
// views is byte for byte the same (device arrays read back), so the device
// cache keeps the host cache's contents, lengths, block tables and error
// behaviour exactly.
//
//===----------------------------------------------------------------------===//

#include "CacheTestSupport.h"
#include "attnrt_cuda.h"

#include <functional>
#include <map>
#include <memory>
#include <set>

using namespace cachetest;

namespace {

/// Device memory from attnrt_cuda_malloc, freed at scope exit.
class DeviceBytes {
public:
  explicit DeviceBytes(size_t bytes) : size(bytes) {
    EXPECT_OK(attnrt_cuda_malloc(bytes, &pointer));
  }
  ~DeviceBytes() { attnrt_cuda_free(pointer); }
  DeviceBytes(const DeviceBytes &) = delete;
  DeviceBytes &operator=(const DeviceBytes &) = delete;
  void *get() const { return pointer; }

private:
  void *pointer = nullptr;
  size_t size;
};

/// The bytes of `count` bytes at `p`, read back from device memory.
Bytes download(const void *p, size_t count) {
  Bytes out(count);
  if (count) {
    EXPECT_OK(attnrt_cuda_memcpy_dtoh(out.data(), p, count));
  }
  return out;
}

/// A device copy of `data` (for appends from device memory).
std::unique_ptr<DeviceBytes> upload(const Bytes &data) {
  auto d = std::make_unique<DeviceBytes>(data.size());
  if (!data.empty()) {
    EXPECT_OK(attnrt_cuda_memcpy_htod(d->get(), data.data(), data.size()));
  }
  return d;
}

class CacheCuda : public ::testing::Test {
protected:
  void SetUp() override {
    if (attnrt_cuda_init() != ATTNRT_OK)
      GTEST_SKIP() << "no CUDA driver or device: " << attnrt_last_error();
  }
};

/// One view array: its pointer in the host and in the device cache and its
/// size in bytes.
struct Array {
  const char *name;
  const void *host, *device;
  size_t bytes;
};

void expectSameArrays(const std::vector<Array> &arrays, const std::string &when) {
  for (const Array &a : arrays) {
    if (!a.host) { // an array this configuration does not have
      EXPECT_EQ(a.device, nullptr) << a.name;
      continue;
    }
    ASSERT_NE(a.device, a.host) << a.name;
    Bytes device = download(a.device, a.bytes);
    Bytes host(static_cast<const uint8_t *>(a.host),
               static_cast<const uint8_t *>(a.host) + a.bytes);
    EXPECT_TRUE(device == host) << a.name << " differs " << when;
  }
}

/// Token arrays [heads, tokens, dim] for one append; with `onDevice` the
/// same bytes in device memory.
struct Tokens {
  Bytes key, value;
  std::unique_ptr<DeviceBytes> deviceKey, deviceValue;
  const void *k(bool onDevice) const {
    return onDevice ? deviceKey->get() : key.data();
  }
  const void *v(bool onDevice) const {
    return onDevice ? deviceValue->get() : value.data();
  }
};

Tokens makeTokens(attnrt_dtype keyType, size_t keyCount, attnrt_dtype valueType,
                  size_t valueCount, std::mt19937 &rng, bool poison) {
  Tokens t;
  t.key = randomElements(keyType, keyCount, rng);
  t.value = randomElements(valueType, valueCount, rng);
  if (poison) { // a NaN that quantising and encoding caches must refuse
    float nan = std::nanf("");
    if (keyType == ATTNRT_F32)
      std::memcpy(t.key.data() + 4 * (keyCount / 2), &nan, 4);
    else
      t.key[2 * (keyCount / 2) + 1] = 0x7f; // 0x7fff: NaN in f16 and bf16
    if (keyType != ATTNRT_F32)
      t.key[2 * (keyCount / 2)] = 0xff;
  }
  t.deviceKey = upload(t.key);
  t.deviceValue = upload(t.value);
  return t;
}

/// The operations every token cache has, bound to one cache.
struct TokenOps {
  std::function<attnrt_status(int32_t *)> create, fork0;
  std::function<attnrt_status(int32_t)> release;
  std::function<attnrt_status(int32_t, int32_t, const void *, const void *)>
      append;
  std::function<attnrt_status(int32_t, int32_t)> truncate;
  std::function<attnrt_status(int32_t, int32_t *)> length;
  std::function<attnrt_status(attnrt_cache_memory *)> memory;
};

/// The TokenOps of cache `c` of kind `prefix` (kv, quant, pq); fork0 forks
/// the lowest live sequence (slot 0 may have been released).
#define TOKEN_OPS(prefix, c, KeyType)                                          \
  [](auto *cache) {                                                            \
    TokenOps o;                                                                \
    o.create = [cache](int32_t *s) { return attnrt_##prefix##_seq_create(cache, s); }; \
    o.release = [cache](int32_t s) { return attnrt_##prefix##_seq_release(cache, s); }; \
    o.append = [cache](int32_t s, int32_t n, const void *k, const void *v) {  \
      return attnrt_##prefix##_append(cache, s, n, static_cast<const KeyType *>(k), v); \
    };                                                                         \
    o.truncate = [cache](int32_t s, int32_t n) {                               \
      return attnrt_##prefix##_truncate(cache, s, n);                          \
    };                                                                         \
    o.length = [cache](int32_t s, int32_t *n) {                                \
      return attnrt_##prefix##_length(cache, s, n);                            \
    };                                                                         \
    o.memory = [cache](attnrt_cache_memory *m) {                               \
      return attnrt_##prefix##_memory(cache, m);                               \
    };                                                                         \
    o.fork0 = [cache](int32_t *child) {                                        \
      int32_t n = 0, s = 0;                                                    \
      while (s < 63 && attnrt_##prefix##_length(cache, s, &n) != ATTNRT_OK)    \
        ++s;                                                                   \
      return attnrt_##prefix##_fork(cache, s, child);                          \
    };                                                                         \
    return o;                                                                  \
  }(c)

/// Random calls on both caches; `arrays()` lists the views' arrays,
/// `tokenCounts(n)` the key and value element counts of n tokens, `fork` is
/// the fork call (or null) and `allowedTruncate` picks a truncation target.
void runRandomCalls(TokenOps host, TokenOps device,
                    const std::function<std::vector<Array>()> &arrays,
                    attnrt_dtype keyType, attnrt_dtype valueType,
                    const std::function<std::pair<size_t, size_t>(int32_t)> &
                        tokenCounts,
                    int32_t capacity, bool poisonable, uint64_t seed,
                    int steps) {
  std::mt19937 rng{uint32_t(seed)};
  std::set<int32_t> live;
  auto pick = [&](int n) { return int(std::uniform_int_distribution<int>(0, n - 1)(rng)); };
  for (int step = 0; step < steps; ++step) {
    std::string when = "after step " + std::to_string(step);
    int op = pick(10);
    attnrt_status hs = ATTNRT_OK, ds = ATTNRT_OK;
    if (op == 0 || live.empty()) {
      int32_t a = -1, b = -1;
      hs = host.create(&a);
      ds = device.create(&b);
      EXPECT_EQ(a, b) << when;
      if (hs == ATTNRT_OK)
        live.insert(a);
      when += " (create)";
    } else {
      int32_t seq = *std::next(live.begin(), pick(int(live.size())));
      if (pick(9) == 0)
        seq = pick(2) ? seq + 100 : -1; // an id that is not there
      int32_t length = 0;
      host.length(seq, &length);
      if (op <= 5) { // append from host or device memory
        int32_t n = pick(4) == 0 ? 1 + pick(40) : 1 + pick(3);
        if (pick(12) == 0)
          n = capacity - length + 1; // past the capacity
        n = std::max(n, 1);
        auto [kc, vc] = tokenCounts(n);
        bool poison = poisonable && pick(10) == 0;
        Tokens t = makeTokens(keyType, kc, valueType, vc, rng, poison);
        bool onDevice = pick(2);
        hs = host.append(seq, n, t.k(false), t.v(false));
        ds = device.append(seq, n, t.k(onDevice), t.v(onDevice));
        when += " (append " + std::to_string(n) + " to " + std::to_string(seq) +
                (onDevice ? " from device memory)" : " from host memory)");
      } else if (op == 6) {
        int32_t target = length ? pick(length + 1) : 0;
        hs = host.truncate(seq, target);
        ds = device.truncate(seq, target);
        when += " (truncate " + std::to_string(seq) + " to " +
                std::to_string(target) + ")";
      } else if (op == 7 && host.fork0) {
        int32_t a = -1, b = -1;
        hs = host.fork0(&a);
        ds = device.fork0(&b);
        EXPECT_EQ(a, b) << when;
        if (hs == ATTNRT_OK)
          live.insert(a);
        when += " (fork)";
      } else if (op == 8) {
        hs = host.release(seq);
        ds = device.release(seq);
        if (hs == ATTNRT_OK)
          live.erase(seq);
        when += " (release " + std::to_string(seq) + ")";
      } else {
        int32_t a = -7, b = -7;
        hs = host.length(seq, &a);
        ds = device.length(seq, &b);
        EXPECT_EQ(a, b) << when;
      }
    }
    ASSERT_EQ(hs, ds) << when << ": " << attnrt_last_error();
    attnrt_cache_memory hm{}, dm{};
    ASSERT_OK(host.memory(&hm));
    ASSERT_OK(device.memory(&dm));
    EXPECT_EQ(hm.used_bytes, dm.used_bytes) << when;
    EXPECT_EQ(hm.free_pages, dm.free_pages) << when;
    expectSameArrays(arrays(), when);
    if (::testing::Test::HasFailure())
      return;
  }
}

//===----------------------------------------------------------------------===//
// KV caches
//===----------------------------------------------------------------------===//

struct KvPair {
  explicit KvPair(attnrt_kv_cache_desc desc) : desc(desc) {
    desc.memory = ATTNRT_MEMORY_HOST;
    EXPECT_OK(attnrt_kv_cache_create(&desc, &host));
    desc.memory = ATTNRT_MEMORY_CUDA;
    EXPECT_OK(attnrt_kv_cache_create(&desc, &device));
  }
  ~KvPair() {
    attnrt_kv_cache_destroy(host);
    attnrt_kv_cache_destroy(device);
  }
  TokenOps ops(attnrt_kv_cache *c) { return TOKEN_OPS(kv, c, void); }
  std::vector<Array> arrays() {
    attnrt_kv_view h{}, d{};
    EXPECT_OK(attnrt_kv_view_get(host, &h));
    EXPECT_OK(attnrt_kv_view_get(device, &d));
    bool paged = desc.layout == ATTNRT_KV_PAGED;
    size_t slabs = size_t(paged ? desc.num_pages : desc.max_seqs);
    size_t rows = size_t(paged ? desc.page_size : desc.capacity);
    size_t el = elementSize(desc.dtype);
    std::vector<Array> a = {
        {"key", h.key, d.key, slabs * desc.kv_heads * rows * desc.head_dim * el},
        {"value", h.value, d.value,
         slabs * desc.kv_heads * rows * desc.value_dim * el},
        {"lengths", h.lengths, d.lengths, size_t(desc.max_seqs) * 4}};
    if (paged)
      a.push_back({"block_table", h.block_table, d.block_table,
                   size_t(desc.max_seqs) * (desc.capacity / desc.page_size) * 4});
    return a;
  }
  attnrt_kv_cache_desc desc;
  attnrt_kv_cache *host = nullptr, *device = nullptr;
};

TEST_F(CacheCuda, KvCachesMatchTheHostCacheCallForCall) {
  for (attnrt_kv_layout layout : {ATTNRT_KV_CONTIGUOUS, ATTNRT_KV_PAGED})
    for (attnrt_dtype dtype : {ATTNRT_F32, ATTNRT_BF16}) {
      SCOPED_TRACE(std::string(layout == ATTNRT_KV_PAGED ? "paged " : "contiguous ") +
                   dtypeName(dtype));
      attnrt_kv_cache_desc desc{};
      desc.layout = layout;
      desc.dtype = dtype;
      desc.max_seqs = 5;
      desc.kv_heads = 3;
      desc.head_dim = 24;
      desc.value_dim = 40;
      desc.capacity = 96;
      if (layout == ATTNRT_KV_PAGED) {
        desc.page_size = 8;
        desc.num_pages = 37; // too few for every slot: CACHE_FULL happens
      }
      KvPair pair(desc);
      ASSERT_NE(pair.device, nullptr);
      runRandomCalls(pair.ops(pair.host), pair.ops(pair.device),
                     [&] { return pair.arrays(); }, dtype, dtype,
                     [&](int32_t n) {
                       return std::make_pair(size_t(n) * 3 * 24, size_t(n) * 3 * 40);
                     },
                     desc.capacity, false, 101 + layout * 2 + dtype, 220);
    }
}

TEST_F(CacheCuda, KvReadCopiesOutToHostAndDeviceMemory) {
  attnrt_kv_cache_desc desc{};
  desc.layout = ATTNRT_KV_PAGED;
  desc.dtype = ATTNRT_F16;
  desc.max_seqs = 2;
  desc.kv_heads = 2;
  desc.head_dim = 16;
  desc.value_dim = 8;
  desc.capacity = 64;
  desc.page_size = 16;
  desc.num_pages = 8;
  desc.memory = ATTNRT_MEMORY_CUDA;
  attnrt_kv_cache *cache = nullptr;
  ASSERT_OK(attnrt_kv_cache_create(&desc, &cache));
  std::mt19937 rng(7);
  int32_t seq = -1;
  ASSERT_OK(attnrt_kv_seq_create(cache, &seq));
  Bytes k = randomElements(ATTNRT_F16, 2 * 37 * 16, rng);
  Bytes v = randomElements(ATTNRT_F16, 2 * 37 * 8, rng);
  ASSERT_OK(attnrt_kv_append(cache, seq, 37, k.data(), v.data()));
  // Tokens [5, 30) cross a page boundary; read them to host and to device.
  Bytes hk(2 * 25 * 16 * 2), hv(2 * 25 * 8 * 2);
  ASSERT_OK(attnrt_kv_read(cache, seq, 5, 25, hk.data(), hv.data()));
  DeviceBytes dk(hk.size()), dv(hv.size());
  ASSERT_OK(attnrt_kv_read(cache, seq, 5, 25, dk.get(), dv.get()));
  for (int h = 0; h < 2; ++h) {
    EXPECT_EQ(0, std::memcmp(&hk[h * 25 * 32], &k[(h * 37 + 5) * 32], 25 * 32));
    EXPECT_EQ(0, std::memcmp(&hv[h * 25 * 16], &v[(h * 37 + 5) * 16], 25 * 16));
  }
  EXPECT_TRUE(download(dk.get(), hk.size()) == hk);
  EXPECT_TRUE(download(dv.get(), hv.size()) == hv);
  attnrt_kv_cache_destroy(cache);
}

//===----------------------------------------------------------------------===//
// Quantised and PQ caches
//===----------------------------------------------------------------------===//

TEST_F(CacheCuda, QuantCachesMatchTheHostCacheCallForCall) {
  struct Config {
    int bits, zeros;
    attnrt_dtype dtype;
  };
  for (Config cfg : {Config{8, 0, ATTNRT_F32}, Config{4, 1, ATTNRT_BF16},
                     Config{4, 0, ATTNRT_F16}}) {
    SCOPED_TRACE("int" + std::to_string(cfg.bits) + (cfg.zeros ? " zero points " : " ") +
                 dtypeName(cfg.dtype));
    attnrt_quant_cache_desc desc{};
    desc.dtype = cfg.dtype;
    desc.max_seqs = 4;
    desc.kv_heads = 2;
    desc.head_dim = 20;
    desc.value_dim = 14; // value groups of 12 and 2
    desc.capacity = 96;
    desc.bits = cfg.bits;
    desc.group_size = 12;
    desc.zero_points = cfg.zeros;
    attnrt_quant_cache *host = nullptr, *device = nullptr;
    ASSERT_OK(attnrt_quant_cache_create(&desc, &host));
    desc.memory = ATTNRT_MEMORY_CUDA;
    ASSERT_OK(attnrt_quant_cache_create(&desc, &device));
    auto ops = [](attnrt_quant_cache *c) { return TOKEN_OPS(quant, c, void); };
    auto arrays = [&] {
      attnrt_quant_view h{}, d{};
      EXPECT_OK(attnrt_quant_view_get(host, &h));
      EXPECT_OK(attnrt_quant_view_get(device, &d));
      size_t s = 4, hh = 2, cap = 96, g = 12, per = cfg.bits == 4 ? 2 : 1;
      size_t el = elementSize(cfg.dtype), vg = 2;
      return std::vector<Array>{
          {"key_codes", h.key_codes, d.key_codes, s * hh * cap * 20 / per},
          {"key_scale", h.key_scale, d.key_scale, s * hh * cap / g * 20 * 4},
          {"key_zero", h.key_zero, d.key_zero, s * hh * cap / g * 20 * 4},
          {"value_codes", h.value_codes, d.value_codes, s * hh * cap * 14 / per},
          {"value_scale", h.value_scale, d.value_scale, s * hh * cap * vg * 4},
          {"value_zero", h.value_zero, d.value_zero, s * hh * cap * vg * 4},
          {"residual_key", h.residual_key, d.residual_key, s * hh * g * 20 * el},
          {"residual_value", h.residual_value, d.residual_value, s * hh * g * 14 * el},
          {"quantized_lengths", h.quantized_lengths, d.quantized_lengths, s * 4},
          {"residual_lengths", h.residual_lengths, d.residual_lengths, s * 4}};
    };
    runRandomCalls(ops(host), ops(device), arrays, cfg.dtype, cfg.dtype,
                   [](int32_t n) {
                     return std::make_pair(size_t(n) * 2 * 20, size_t(n) * 2 * 14);
                   },
                   96, true, 200 + cfg.bits + cfg.zeros, 200);
    attnrt_quant_cache_destroy(host);
    attnrt_quant_cache_destroy(device);
  }
}

TEST_F(CacheCuda, PqCachesMatchTheHostCacheCallForCall) {
  for (int32_t kc : {256, 16}) {
    SCOPED_TRACE("Kc = " + std::to_string(kc));
    std::mt19937 rng{uint32_t(kc)};
    attnrt_pq_cache_desc desc{};
    desc.value_dtype = ATTNRT_BF16;
    desc.max_seqs = 3;
    desc.kv_heads = 2;
    desc.head_dim = 24;
    desc.value_dim = 12;
    desc.capacity = 200; // appends of up to 41 tokens cross the 64-key staging
    desc.subspaces = 6;
    desc.centroids = kc;
    Bytes books = randomElements(ATTNRT_F32, size_t(2) * kc * 24, rng);
    desc.codebooks = reinterpret_cast<const float *>(books.data());
    attnrt_pq_cache *host = nullptr, *device = nullptr;
    ASSERT_OK(attnrt_pq_cache_create(&desc, &host));
    desc.memory = ATTNRT_MEMORY_CUDA;
    ASSERT_OK(attnrt_pq_cache_create(&desc, &device));
    auto ops = [](attnrt_pq_cache *c) { return TOKEN_OPS(pq, c, float); };
    size_t codeBytes = kc == 256 ? 6 : 3;
    auto arrays = [&] {
      attnrt_pq_view h{}, d{};
      EXPECT_OK(attnrt_pq_view_get(host, &h));
      EXPECT_OK(attnrt_pq_view_get(device, &d));
      return std::vector<Array>{
          {"codes", h.codes, d.codes, size_t(3) * 2 * 200 * codeBytes},
          {"codebooks", h.codebooks, d.codebooks, books.size()},
          {"value", h.value, d.value, size_t(3) * 2 * 200 * 12 * 2},
          {"lengths", h.lengths, d.lengths, size_t(3) * 4}};
    };
    runRandomCalls(ops(host), ops(device), arrays, ATTNRT_F32, ATTNRT_BF16,
                   [](int32_t n) {
                     return std::make_pair(size_t(n) * 2 * 24, size_t(n) * 2 * 12);
                   },
                   200, true, 300 + kc, 160);
    attnrt_pq_cache_destroy(host);
    attnrt_pq_cache_destroy(device);
  }
}

//===----------------------------------------------------------------------===//
// Recurrent-state caches
//===----------------------------------------------------------------------===//

TEST_F(CacheCuda, StateCachesHandOutDeviceBuffersAndMatchTheHostCache) {
  attnrt_state_cache_desc desc{};
  desc.max_seqs = 3;
  desc.num_tensors = 2;
  desc.tensor_elements[0] = 4 * 16 * 12; // S
  desc.tensor_elements[1] = 4 * 16;      // z
  desc.checkpoints = 2;
  attnrt_state_cache *host = nullptr, *device = nullptr;
  ASSERT_OK(attnrt_state_cache_create(&desc, &host));
  desc.memory = ATTNRT_MEMORY_CUDA;
  ASSERT_OK(attnrt_state_cache_create(&desc, &device));
  std::mt19937 rng(5);
  auto pick = [&](int n) { return int(std::uniform_int_distribution<int>(0, n - 1)(rng)); };
  std::set<int32_t> live;
  std::map<int32_t, bool> open;
  for (int step = 0; step < 300; ++step) {
    std::string when = "after step " + std::to_string(step);
    attnrt_status hs = ATTNRT_OK, ds = ATTNRT_OK;
    int op = pick(8);
    int32_t seq = live.empty() ? 0 : *std::next(live.begin(), pick(int(live.size())));
    if (op == 0 || live.empty()) {
      int32_t a = -1, b = -1;
      hs = attnrt_state_seq_create(host, &a);
      ds = attnrt_state_seq_create(device, &b);
      EXPECT_EQ(a, b);
      if (hs == ATTNRT_OK)
        live.insert(a);
    } else if (op <= 3) { // a step: the "kernel" writes random states
      int32_t n = 1 + pick(5);
      float *hin[ATTNRT_STATE_MAX_TENSORS] = {}, *hout[ATTNRT_STATE_MAX_TENSORS] = {};
      float *din[ATTNRT_STATE_MAX_TENSORS] = {}, *dout[ATTNRT_STATE_MAX_TENSORS] = {};
      hs = attnrt_state_step_begin(host, seq, n, hin, hout);
      ds = attnrt_state_step_begin(device, seq, n, din, dout);
      if (hs == ATTNRT_OK && ds == ATTNRT_OK) {
        for (int i = 0; i < 2; ++i) {
          size_t bytes = size_t(desc.tensor_elements[i]) * 4;
          // The current state handed out equals the host cache's.
          Bytes in = download(din[i], bytes);
          EXPECT_EQ(0, std::memcmp(in.data(), hin[i], bytes)) << when;
          Bytes next = randomElements(ATTNRT_F32, size_t(desc.tensor_elements[i]), rng);
          std::memcpy(hout[i], next.data(), bytes);
          ASSERT_OK(attnrt_cuda_memcpy_htod(dout[i], next.data(), bytes));
        }
        bool commit = pick(4) != 0;
        hs = commit ? attnrt_state_step_commit(host, seq) : attnrt_state_step_abort(host, seq);
        ds = commit ? attnrt_state_step_commit(device, seq)
                    : attnrt_state_step_abort(device, seq);
      }
    } else if (op == 4) {
      int32_t length = 0;
      attnrt_state_length(host, seq, &length);
      int32_t target = length - pick(12);
      hs = attnrt_state_truncate(host, seq, target);
      ds = attnrt_state_truncate(device, seq, target);
    } else if (op == 5) {
      int32_t a = -1, b = -1;
      hs = attnrt_state_fork(host, seq, &a);
      ds = attnrt_state_fork(device, seq, &b);
      EXPECT_EQ(a, b);
      if (hs == ATTNRT_OK)
        live.insert(a);
    } else if (op == 6) {
      hs = attnrt_state_reset(host, seq);
      ds = attnrt_state_reset(device, seq);
    } else {
      hs = attnrt_state_seq_release(host, seq);
      ds = attnrt_state_seq_release(device, seq);
      if (hs == ATTNRT_OK)
        live.erase(seq);
    }
    ASSERT_EQ(hs, ds) << when << ": " << attnrt_last_error();
    for (int32_t s : live) {
      int32_t a = -1, b = -2;
      ASSERT_OK(attnrt_state_length(host, s, &a));
      ASSERT_OK(attnrt_state_length(device, s, &b));
      EXPECT_EQ(a, b) << when;
      for (int32_t i = 0; i < 2; ++i) {
        size_t n = size_t(desc.tensor_elements[i]);
        std::vector<float> hv(n), dv(n, -1.0f);
        ASSERT_OK(attnrt_state_read(host, s, i, hv.data()));
        ASSERT_OK(attnrt_state_read(device, s, i, dv.data()));
        EXPECT_TRUE(hv == dv) << "tensor " << i << " of sequence " << s << " " << when;
      }
    }
    attnrt_cache_memory hm{}, dm{};
    ASSERT_OK(attnrt_state_memory(host, &hm));
    ASSERT_OK(attnrt_state_memory(device, &dm));
    EXPECT_EQ(hm.used_bytes, dm.used_bytes) << when;
    if (HasFailure())
      break;
  }
  attnrt_state_cache_destroy(host);
  attnrt_state_cache_destroy(device);
}

TEST(CacheMemory, BadMemoryKindIsRefused) {
  attnrt_kv_cache_desc desc{};
  desc.dtype = ATTNRT_F32;
  desc.max_seqs = 1;
  desc.kv_heads = 1;
  desc.head_dim = 4;
  desc.value_dim = 4;
  desc.capacity = 4;
  setRawEnum(desc.memory, 2);
  attnrt_kv_cache *cache = nullptr;
  EXPECT_EQ(attnrt_kv_cache_create(&desc, &cache), ATTNRT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attnrt_last_error()).find("memory 2"), std::string::npos)
      << attnrt_last_error();
  EXPECT_EQ(cache, nullptr);
}

} // namespace
