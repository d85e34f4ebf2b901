//===- StreamingTest.cpp - prefill + decode through runtime caches --------===//
//
// A serving loop in miniature: sequences are prefilled in chunks and then
// decoded token by token through compiled kernels (Inputs/streaming.mlir)
// that read the runtime's caches in place. Every output is compared with the
// fp64 reference of one full prefill over the sequence's whole history, so
// "prefill n, decode m" must equal "prefill n + m". Forks, rollbacks and
// paged vs contiguous layouts run through the same loop. Inputs are random,
// lengths cross page (8), group (16) and chunk (5) boundaries.
//
// Built twice: attn-streaming-tests runs CPU kernels on host caches;
// attn-cuda-streaming-tests (ATTN_STREAMING_CUDA) runs the same loops on
// caches in device memory through kernels compiled for CUDA, which read the
// device views in place; the test's own host arrays (queries, outputs, gates)
// are copied to and from the device around each call, sized by the
// library's manifest. Without a driver or device those tests skip.
//
//===----------------------------------------------------------------------===//

#include "attn/Reference/Reference.h"
#include "attnrt.h"
#include "attnrt_cache.h"
#include "attnrt_cuda.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

namespace ref = attn::reference;

namespace {

#ifdef ATTN_STREAMING_CUDA
constexpr attnrt_memory kMemory = ATTNRT_MEMORY_CUDA;
#else
constexpr attnrt_memory kMemory = ATTNRT_MEMORY_HOST;
#endif

// The shapes Inputs/streaming.mlir was written for.
constexpr int32_t kSlots = 3, kHq = 4, kHkv = 2, kDim = 32, kCapacity = 64;
constexpr int32_t kPageSize = 8, kTablePages = 8, kPages = 20, kChunk = 5;
constexpr int32_t kGroup = 16, kSubspaces = 8, kCentroids = 256;
constexpr int32_t kHeads = 4, kFeat = 16; // recurrent kernels, one sequence
constexpr int32_t kLevels = 7;             // log-linear level states

/// One token of one sequence: its query, key and value rows per head.
struct Token {
  std::vector<float> q, k, v;
};

class Rng {
public:
  explicit Rng(uint64_t seed) : gen(seed) {}
  std::vector<float> uniform(size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> u(lo, hi);
    std::vector<float> x(n);
    for (float &e : x)
      e = u(gen);
    return x;
  }
  Token token(int32_t qHeads, int32_t kvHeads, int32_t dim) {
    return {uniform(size_t(qHeads) * dim), uniform(size_t(kvHeads) * dim),
            uniform(size_t(kvHeads) * dim)};
  }
  std::mt19937_64 gen;
};

/// Max |got - want| over max(1, max |want|).
double relError(const std::vector<float> &got, const std::vector<double> &want) {
  double scale = 1.0, err = 0.0;
  for (double w : want)
    scale = std::max(scale, std::fabs(w));
  for (size_t i = 0; i < want.size(); ++i)
    err = std::max(err, std::fabs(double(got[i]) - want[i]));
  return err / scale;
}

/// [1, heads, n, dim] from rows of `n` tokens, each [heads, dim].
ref::RefTensor stack(const std::vector<Token> &tokens, size_t begin, size_t end,
                     std::vector<float> Token::*field, int32_t heads) {
  int64_t n = int64_t(end - begin);
  int64_t dim = n ? int64_t((tokens[begin].*field).size()) / heads : 1;
  ref::RefTensor t({1, heads, n, dim});
  for (int64_t j = 0; j < n; ++j)
    for (int32_t h = 0; h < heads; ++h)
      for (int64_t d = 0; d < dim; ++d)
        t(0, h, j, d) = (tokens[begin + j].*field)[h * dim + d];
  return t;
}

/// The reference outputs of one causal prefill over `history`, rows
/// [first, end): what every chunk and decode step must reproduce.
std::vector<double> prefillRows(const std::vector<Token> &history, size_t first,
                                size_t end) {
  ref::AttentionParams p;
  p.causal = true;
  ref::AttentionResult r =
      ref::attention(stack(history, 0, end, &Token::q, kHq),
                     stack(history, 0, end, &Token::k, kHkv),
                     stack(history, 0, end, &Token::v, kHkv), p);
  std::vector<double> rows; // [rows][Hq][D]
  for (size_t i = first; i < end; ++i)
    for (int32_t h = 0; h < kHq; ++h)
      for (int32_t d = 0; d < kDim; ++d)
        rows.push_back(r.out(0, h, int64_t(i), d));
  return rows;
}

/// One argument of an entry, from the library's manifest.
struct ArgInfo {
  size_t bytes;
  bool out;
};

/// Entry name -> its arguments, read from the manifest's JSON (the format
/// attn-compile writes: one object per argument with "dtype", "shape" and
/// "direction").
std::map<std::string, std::vector<ArgInfo>> parseManifest(const std::string &json) {
  std::map<std::string, std::vector<ArgInfo>> entries;
  // The position just after `"key": ` (and after an opening quote or
  // bracket) within [at, end).
  auto field = [&](size_t at, const char *key, size_t end) {
    size_t k = json.find(std::string("\"") + key + "\": ", at);
    EXPECT_LT(k, end) << "manifest argument without " << key;
    return k + std::strlen(key) + 5;
  };
  for (size_t at = json.find("\"args\": ["); at != std::string::npos;
       at = json.find("\"args\": [", at + 1)) {
    size_t nameAt = json.rfind("\"name\": \"", at) + 9;
    std::string name = json.substr(nameAt, json.find('"', nameAt) - nameAt);
    size_t end = json.find("]}", at);
    std::vector<ArgInfo> args;
    for (size_t arg = json.find('{', at); arg < end; arg = json.find('{', arg + 1)) {
      size_t argEnd = json.find('}', arg);
      size_t d = field(arg, "dtype", argEnd);
      std::string dtype = json.substr(d, json.find('"', d) - d);
      size_t bytes = dtype == "f32" || dtype == "i32" ? 4
                     : dtype == "f16" || dtype == "bf16" ? 2
                     : dtype == "i64" || dtype == "f64" ? 8 : 1;
      size_t sh = field(arg, "shape", argEnd), close = json.find(']', sh);
      for (size_t p = sh; p < close; p = json.find_first_not_of(", ", json.find_first_of(",]", p)))
        bytes *= std::stoul(json.substr(p, close - p));
      size_t dir = field(arg, "direction", argEnd);
      args.push_back({bytes, json.compare(dir, 3, "out") == 0});
    }
    entries[name] = args;
  }
  return entries;
}

class Streaming : public ::testing::Test {
public:
  void SetUp() override {
#ifdef ATTN_STREAMING_CUDA
    if (attnrt_cuda_init() != ATTNRT_OK)
      GTEST_SKIP() << "no CUDA driver or device: " << attnrt_last_error();
#endif
    // The build's library unless the environment names a copy (a test binary
    // carried to another machine).
    const char *path = std::getenv("ATTN_STREAMING_KERNELS");
    ASSERT_EQ(attnrt_module_load(path && *path ? path : ATTN_STREAMING_KERNELS, &module),
              ATTNRT_OK)
        << attnrt_last_error();
    entries = parseManifest(attnrt_module_manifest(module));
  }
  void TearDown() override { attnrt_module_unload(module); }

  /// Calls a kernel entry; a failure fails the test. For CUDA, arguments in
  /// host memory are copied to device buffers first (outputs back after).
  void call(const char *entry, std::vector<void *> args) {
#ifdef ATTN_STREAMING_CUDA
    const std::vector<ArgInfo> &info = entries[entry];
    ASSERT_EQ(info.size(), args.size()) << entry;
    std::vector<void *> device(args.size());
    std::vector<void *> owned;
    for (size_t i = 0; i < args.size(); ++i) {
      int isDevice = 0;
      ASSERT_EQ(attnrt_cuda_pointer_is_device(args[i], &isDevice), ATTNRT_OK)
          << attnrt_last_error();
      if (isDevice) {
        device[i] = args[i];
        continue;
      }
      ASSERT_EQ(attnrt_cuda_malloc(info[i].bytes, &device[i]), ATTNRT_OK)
          << attnrt_last_error();
      owned.push_back(device[i]);
      if (!info[i].out) {
        ASSERT_EQ(attnrt_cuda_memcpy_htod(device[i], args[i], info[i].bytes), ATTNRT_OK)
            << attnrt_last_error();
      }
    }
    ASSERT_EQ(attnrt_call(module, entry, device.data(), int32_t(device.size())),
              ATTNRT_OK)
        << entry << ": " << attnrt_last_error();
    ASSERT_EQ(attnrt_cuda_synchronize(), ATTNRT_OK) << entry << ": " << attnrt_last_error();
    for (size_t i = 0; i < args.size(); ++i)
      if (device[i] != args[i] && info[i].out) {
        ASSERT_EQ(attnrt_cuda_memcpy_dtoh(args[i], device[i], info[i].bytes), ATTNRT_OK)
            << attnrt_last_error();
      }
    for (void *p : owned)
      attnrt_cuda_free(p);
#else
    ASSERT_EQ(attnrt_call(module, entry, args.data(), int32_t(args.size())),
              ATTNRT_OK)
        << entry << ": " << attnrt_last_error();
#endif
  }

  attnrt_module *module = nullptr;
  std::map<std::string, std::vector<ArgInfo>> entries;
};

/// View arrays the test reads on the host: the arrays themselves for host
/// caches, copies for caches in device memory. Copies live as long as this.
class HostCopies {
public:
  template <typename T> const T *operator()(const T *p, size_t count) {
    if (kMemory == ATTNRT_MEMORY_HOST || !p)
      return p;
    keep.emplace_back(count * sizeof(T));
    EXPECT_EQ(attnrt_cuda_memcpy_dtoh(keep.back().data(), p, count * sizeof(T)),
              ATTNRT_OK)
        << attnrt_last_error();
    return reinterpret_cast<const T *>(keep.back().data());
  }

private:
  std::vector<std::vector<uint8_t>> keep;
};

//===----------------------------------------------------------------------===//
// KV caches: contiguous and paged
//===----------------------------------------------------------------------===//

/// Drives one KV cache through a scripted serving loop and checks every
/// output; records the outputs so two layouts can be compared.
class KvLoop {
public:
  KvLoop(Streaming &test, attnrt_kv_layout layout) : test(test), layout(layout) {
    attnrt_kv_cache_desc desc{};
    desc.layout = layout;
    desc.dtype = ATTNRT_F32;
    desc.max_seqs = kSlots;
    desc.kv_heads = kHkv;
    desc.head_dim = kDim;
    desc.value_dim = kDim;
    desc.capacity = kCapacity;
    desc.memory = kMemory;
    if (layout == ATTNRT_KV_PAGED) {
      desc.page_size = kPageSize;
      desc.num_pages = kPages;
    }
    EXPECT_EQ(attnrt_kv_cache_create(&desc, &cache), ATTNRT_OK)
        << attnrt_last_error();
  }
  ~KvLoop() { attnrt_kv_cache_destroy(cache); }

  int32_t open() {
    int32_t seq = -1;
    EXPECT_EQ(attnrt_kv_seq_create(cache, &seq), ATTNRT_OK) << attnrt_last_error();
    history[seq];
    return seq;
  }
  int32_t fork(int32_t parent) {
    int32_t child = -1;
    EXPECT_EQ(attnrt_kv_fork(cache, parent, &child), ATTNRT_OK)
        << attnrt_last_error();
    history[child] = history[parent];
    return child;
  }
  void truncate(int32_t seq, int32_t length) {
    EXPECT_EQ(attnrt_kv_truncate(cache, seq, length), ATTNRT_OK)
        << attnrt_last_error();
    history[seq].resize(size_t(length));
  }

  /// Appends `tokens` (one new token per listed sequence for decode, a chunk
  /// of kChunk for prefill) and runs the matching kernel over all slots.
  void step(const std::map<int32_t, std::vector<Token>> &tokens, bool chunk) {
    int32_t lq = chunk ? kChunk : 1;
    std::vector<float> q(size_t(kSlots) * kHq * lq * kDim, 0.5f);
    for (const auto &[seq, toks] : tokens) {
      ASSERT_EQ(int32_t(toks.size()), lq);
      std::vector<float> k(size_t(kHkv) * lq * kDim), v(k.size());
      for (int32_t i = 0; i < lq; ++i)
        for (int32_t h = 0; h < kHkv; ++h)
          for (int32_t d = 0; d < kDim; ++d) {
            k[(size_t(h) * lq + i) * kDim + d] = toks[i].k[h * kDim + d];
            v[(size_t(h) * lq + i) * kDim + d] = toks[i].v[h * kDim + d];
          }
      for (int32_t i = 0; i < lq; ++i)
        for (int32_t h = 0; h < kHq; ++h)
          std::copy_n(&toks[i].q[h * kDim], kDim,
                      &q[((size_t(seq) * kHq + h) * lq + i) * kDim]);
      ASSERT_EQ(attnrt_kv_append(cache, seq, lq, k.data(), v.data()), ATTNRT_OK)
          << attnrt_last_error();
      auto &h = history[seq];
      h.insert(h.end(), toks.begin(), toks.end());
    }
    attnrt_kv_view view{};
    ASSERT_EQ(attnrt_kv_view_get(cache, &view), ATTNRT_OK) << attnrt_last_error();
    std::vector<float> out(q.size(), std::nanf(""));
    std::vector<void *> args = {q.data(), view.key, view.value,
                                const_cast<int32_t *>(view.lengths)};
    if (layout == ATTNRT_KV_PAGED)
      args.push_back(const_cast<int32_t *>(view.block_table));
    args.push_back(out.data());
    std::string entry = std::string(layout == ATTNRT_KV_PAGED ? "paged_" : "kv_") +
                        (chunk ? "chunk" : "decode");
    test.call(entry.c_str(), args);
    for (const auto &[seq, toks] : tokens) {
      const auto &h = history[seq];
      std::vector<double> want = prefillRows(h, h.size() - lq, h.size());
      std::vector<float> got; // [lq][Hq][D] from out [S, Hq, lq, D]
      for (int32_t i = 0; i < lq; ++i)
        for (int32_t hh = 0; hh < kHq; ++hh)
          for (int32_t d = 0; d < kDim; ++d)
            got.push_back(out[((size_t(seq) * kHq + hh) * lq + i) * kDim + d]);
      EXPECT_LT(relError(got, want), 1e-5)
          << entry << ": sequence " << seq << " at length " << h.size();
      outputs.insert(outputs.end(), got.begin(), got.end());
    }
  }

  Streaming &test;
  attnrt_kv_layout layout;
  attnrt_kv_cache *cache = nullptr;
  std::map<int32_t, std::vector<Token>> history;
  std::vector<float> outputs;
};

/// The scripted loop both layouts run: prefill in chunks, decode across page
/// boundaries, fork a sequence and let parent and child diverge, roll one
/// back (speculative decoding) and re-append, release and reuse a slot.
void runKvScript(KvLoop &loop, uint64_t seed) {
  Rng rng(seed);
  auto tokens = [&](int n) {
    std::vector<Token> t;
    for (int i = 0; i < n; ++i)
      t.push_back(rng.token(kHq, kHkv, kDim));
    return t;
  };
  int32_t a = loop.open(), b = loop.open();
  loop.step({{a, tokens(kChunk)}, {b, tokens(kChunk)}}, /*chunk=*/true);
  loop.step({{a, tokens(kChunk)}}, /*chunk=*/true);
  for (int i = 0; i < 9; ++i) // a: 10 -> 19, b: 5 -> 14 (pages 0..2)
    loop.step({{a, tokens(1)}, {b, tokens(1)}}, /*chunk=*/false);
  int32_t c = loop.fork(a); // shares a's 19 tokens
  for (int i = 0; i < 7; ++i)
    loop.step({{a, tokens(1)}, {c, tokens(1)}}, /*chunk=*/false);
  loop.truncate(c, 17); // rollback into a shared page
  for (int i = 0; i < 4; ++i)
    loop.step({{c, tokens(1)}, {b, tokens(1)}}, /*chunk=*/false);
  loop.step({{a, tokens(kChunk)}, {c, tokens(kChunk)}}, /*chunk=*/true);
  ASSERT_EQ(attnrt_kv_seq_release(loop.cache, b), ATTNRT_OK) << attnrt_last_error();
  loop.history.erase(b);
  int32_t d = loop.open();
  loop.step({{d, tokens(kChunk)}}, /*chunk=*/true);
  for (int i = 0; i < 6; ++i)
    loop.step({{a, tokens(1)}, {c, tokens(1)}, {d, tokens(1)}}, /*chunk=*/false);
}

TEST_F(Streaming, ContiguousKvPrefillThenDecodeEqualsFullPrefill) {
  KvLoop loop(*this, ATTNRT_KV_CONTIGUOUS);
  runKvScript(loop, 11);
}

TEST_F(Streaming, PagedKvEqualsContiguous) {
  KvLoop paged(*this, ATTNRT_KV_PAGED), contiguous(*this, ATTNRT_KV_CONTIGUOUS);
  runKvScript(paged, 12);
  runKvScript(contiguous, 12);
  ASSERT_EQ(paged.outputs.size(), contiguous.outputs.size());
  double err = 0.0;
  for (size_t i = 0; i < paged.outputs.size(); ++i)
    err = std::max(err, double(std::fabs(paged.outputs[i] - contiguous.outputs[i])));
  EXPECT_LT(err, 1e-6);
}

/// Rows past a sequence's length are stale, not cleared: here a released
/// sequence left infinities and NaNs in pages that the next sequence reuses,
/// and in the unused rows of its last page. No kernel may let them reach an
/// output (0 * inf is NaN): neither the split-KV kernel nor the naive form
/// that gathers whole pages (a prefill chunk of 17 queries on each).
TEST_F(Streaming, StaleCacheRowsNeverReachOutputs) {
  KvLoop loop(*this, ATTNRT_KV_PAGED);
  Rng rng(13);
  int32_t poisoned = loop.open();
  std::vector<float> bad(size_t(kHkv) * 40 * kDim, std::numeric_limits<float>::infinity());
  for (size_t i = 0; i < bad.size(); i += 3)
    bad[i] = std::nanf("");
  ASSERT_EQ(attnrt_kv_append(loop.cache, poisoned, 40, bad.data(), bad.data()),
            ATTNRT_OK);
  ASSERT_EQ(attnrt_kv_seq_release(loop.cache, poisoned), ATTNRT_OK);
  loop.history.erase(poisoned);
  int32_t seq = loop.open();
  std::vector<Token> prompt;
  for (int i = 0; i < 17; ++i)
    prompt.push_back(rng.token(kHq, kHkv, kDim));
  std::vector<float> k(size_t(kHkv) * 17 * kDim), v(k.size());
  std::vector<float> q(size_t(kSlots) * kHq * 17 * kDim, 0.5f);
  for (int32_t i = 0; i < 17; ++i) {
    for (int32_t h = 0; h < kHkv; ++h)
      for (int32_t d = 0; d < kDim; ++d) {
        k[(size_t(h) * 17 + i) * kDim + d] = prompt[i].k[h * kDim + d];
        v[(size_t(h) * 17 + i) * kDim + d] = prompt[i].v[h * kDim + d];
      }
    for (int32_t h = 0; h < kHq; ++h)
      std::copy_n(&prompt[i].q[h * kDim], kDim,
                  &q[((size_t(seq) * kHq + h) * 17 + i) * kDim]);
  }
  ASSERT_EQ(attnrt_kv_append(loop.cache, seq, 17, k.data(), v.data()), ATTNRT_OK);
  attnrt_kv_view view{};
  ASSERT_EQ(attnrt_kv_view_get(loop.cache, &view), ATTNRT_OK);
  std::vector<double> want = prefillRows(prompt, 0, 17);
  for (const char *entry : {"paged_chunk17", "paged_chunk17_mask_mod"}) {
    std::vector<float> out(q.size(), std::nanf(""));
    call(entry, {q.data(), view.key, view.value, const_cast<int32_t *>(view.lengths),
                 const_cast<int32_t *>(view.block_table), out.data()});
    std::vector<float> got;
    for (int32_t i = 0; i < 17; ++i)
      for (int32_t h = 0; h < kHq; ++h)
        for (int32_t d = 0; d < kDim; ++d)
          got.push_back(out[((size_t(seq) * kHq + h) * 17 + i) * kDim + d]);
    for (float x : got)
      ASSERT_TRUE(std::isfinite(x)) << entry;
    EXPECT_LT(relError(got, want), 1e-5) << entry;
  }
}

//===----------------------------------------------------------------------===//
// Quantised KV cache (KIVI residual window) and PQ key cache
//===----------------------------------------------------------------------===//

/// Sequence `seq`'s tokens [0, n) of a [S, H, C, W] view array as a
/// [1, H, n, W] tensor.
template <typename T, typename Out>
void sliceSeq(const T *data, int32_t seq, int32_t heads, int32_t cap,
              int32_t width, int32_t n, Out &t) {
  t = Out({1, heads, n, width});
  for (int32_t h = 0; h < heads; ++h)
    for (int32_t j = 0; j < n; ++j)
      for (int32_t w = 0; w < width; ++w)
        t(0, h, j, w) = data[((size_t(seq) * heads + h) * cap + j) * width + w];
}

class QuantLoop {
public:
  QuantLoop(Streaming &test, int32_t bits, bool zeros) : test(test), bits(bits), zeros(zeros) {
    attnrt_quant_cache_desc desc{};
    desc.dtype = ATTNRT_F32;
    desc.max_seqs = kSlots;
    desc.kv_heads = kHkv;
    desc.head_dim = kDim;
    desc.value_dim = kDim;
    desc.capacity = kCapacity;
    desc.bits = bits;
    desc.group_size = kGroup;
    desc.zero_points = zeros;
    desc.memory = kMemory;
    EXPECT_EQ(attnrt_quant_cache_create(&desc, &cache), ATTNRT_OK)
        << attnrt_last_error();
  }
  ~QuantLoop() { attnrt_quant_cache_destroy(cache); }

  /// Appends one token to each listed sequence and runs the decode kernel.
  /// Checks the output against the reference over the cache's dequantised
  /// prefix (read back with the reference's own dequantiser) plus the
  /// full-precision window, and returns its error against exact attention
  /// over the unquantised history.
  double step(const std::map<int32_t, Token> &tokens) {
    std::vector<float> q(size_t(kSlots) * kHq * kDim, 0.5f);
    for (const auto &[seq, tok] : tokens) {
      EXPECT_EQ(attnrt_quant_append(cache, seq, 1, tok.k.data(), tok.v.data()),
                ATTNRT_OK)
          << attnrt_last_error();
      std::copy(tok.q.begin(), tok.q.end(), &q[size_t(seq) * kHq * kDim]);
      history[seq].push_back(tok);
    }
    attnrt_quant_view view{};
    EXPECT_EQ(attnrt_quant_view_get(cache, &view), ATTNRT_OK) << attnrt_last_error();
    std::vector<float> out(q.size(), std::nanf(""));
    std::vector<void *> args = {q.data(), view.key_codes, view.key_scale};
    if (zeros)
      args.push_back(view.key_zero);
    args.insert(args.end(), {view.value_codes, view.value_scale});
    if (zeros)
      args.push_back(view.value_zero);
    args.insert(args.end(), {const_cast<int32_t *>(view.quantized_lengths),
                             view.residual_key, view.residual_value,
                             const_cast<int32_t *>(view.residual_lengths),
                             out.data()});
    const char *entry = bits == 8 ? "quant8_decode" : "quant4z_decode";
    test.call(entry, args);

    double worst = 0.0;
    int32_t width = bits == 8 ? kDim : kDim / 2;
    // The arrays read below, on the host.
    HostCopies host;
    size_t rows = size_t(kSlots) * kHkv * kCapacity, groups = rows / kGroup;
    view.key_codes = const_cast<int8_t *>(host(view.key_codes, rows * width));
    view.value_codes = const_cast<int8_t *>(host(view.value_codes, rows * width));
    view.key_scale = const_cast<float *>(host(view.key_scale, groups * kDim));
    view.key_zero = const_cast<float *>(host(view.key_zero, groups * kDim));
    view.value_scale = const_cast<float *>(host(view.value_scale, rows * kDim / kGroup));
    view.value_zero = const_cast<float *>(host(view.value_zero, rows * kDim / kGroup));
    size_t window = size_t(kSlots) * kHkv * kGroup * kDim;
    view.residual_key = const_cast<float *>(host(static_cast<const float *>(view.residual_key), window));
    view.residual_value = const_cast<float *>(host(static_cast<const float *>(view.residual_value), window));
    view.quantized_lengths = host(view.quantized_lengths, kSlots);
    view.residual_lengths = host(view.residual_lengths, kSlots);
    for (const auto &[seq, tok] : tokens) {
      const auto &h = history[seq];
      int32_t n = int32_t(h.size());
      int32_t nq = view.quantized_lengths[seq], nr = view.residual_lengths[seq];
      EXPECT_EQ(nq + nr, n);
      EXPECT_EQ(nq % kGroup, 0);
      // The reference reads the quantised prefix from the cache's arrays.
      ref::CodeTensor kc, vc;
      ref::RefTensor ks, vs, kz, vz, rk, rv;
      sliceSeq(view.key_codes, seq, kHkv, kCapacity, width, nq, kc);
      sliceSeq(view.value_codes, seq, kHkv, kCapacity, width, nq, vc);
      sliceSeq(view.key_scale, seq, kHkv, kCapacity / kGroup, kDim, nq / kGroup, ks);
      sliceSeq(view.value_scale, seq, kHkv, kCapacity, kDim / kGroup, nq, vs);
      ref::QuantParams qp;
      qp.bits = bits;
      qp.groupSize = kGroup;
      if (zeros) {
        sliceSeq(view.key_zero, seq, kHkv, kCapacity / kGroup, kDim, nq / kGroup, kz);
        sliceSeq(view.value_zero, seq, kHkv, kCapacity, kDim / kGroup, nq, vz);
        qp.kZero = &kz;
        qp.vZero = &vz;
      }
      sliceSeq(static_cast<const float *>(view.residual_key), seq, kHkv, kGroup,
               kDim, nr, rk);
      sliceSeq(static_cast<const float *>(view.residual_value), seq, kHkv,
               kGroup, kDim, nr, rv);
      ref::RefTensor keys = nq ? ref::dequantizeKeys(kc, ks, qp) : ref::RefTensor({1, kHkv, 0, kDim});
      ref::RefTensor values = nq ? ref::dequantizeValues(vc, vs, qp) : ref::RefTensor({1, kHkv, 0, kDim});
      // The residual window holds exactly the newest tokens, unquantised.
      for (int32_t j = 0; j < nr; ++j)
        for (int32_t hh = 0; hh < kHkv; ++hh)
          for (int32_t d = 0; d < kDim; ++d) {
            EXPECT_EQ(rk(0, hh, j, d), h[nq + j].k[hh * kDim + d]);
            EXPECT_EQ(rv(0, hh, j, d), h[nq + j].v[hh * kDim + d]);
          }
      ref::RefTensor allK({1, kHkv, n, kDim}), allV({1, kHkv, n, kDim});
      for (int32_t hh = 0; hh < kHkv; ++hh)
        for (int32_t j = 0; j < n; ++j)
          for (int32_t d = 0; d < kDim; ++d) {
            allK(0, hh, j, d) = j < nq ? keys(0, hh, j, d) : rk(0, hh, j - nq, d);
            allV(0, hh, j, d) = j < nq ? values(0, hh, j, d) : rv(0, hh, j - nq, d);
          }
      ref::RefTensor qt = stack(h, n - 1, n, &Token::q, kHq);
      ref::AttentionResult want = ref::attention(qt, allK, allV);
      std::vector<float> got(out.begin() + size_t(seq) * kHq * kDim,
                             out.begin() + size_t(seq + 1) * kHq * kDim);
      EXPECT_LT(relError(got, want.out.data), 1e-5)
          << entry << ": sequence " << seq << " at length " << n;
      worst = std::max(worst, relError(got, prefillRows(h, n - 1, n)));
    }
    return worst;
  }

  Streaming &test;
  int32_t bits;
  bool zeros;
  attnrt_quant_cache *cache = nullptr;
  std::map<int32_t, std::vector<Token>> history;
};

void runQuantScript(QuantLoop &loop, uint64_t seed, double fidelity) {
  Rng rng(seed);
  int32_t a = -1, b = -1;
  ASSERT_EQ(attnrt_quant_seq_create(loop.cache, &a), ATTNRT_OK);
  ASSERT_EQ(attnrt_quant_seq_create(loop.cache, &b), ATTNRT_OK);
  double worst = 0.0;
  for (int i = 0; i < 23; ++i) { // a's group completes at 16
    std::map<int32_t, Token> step = {{a, rng.token(kHq, kHkv, kDim)}};
    if (i % 3 != 1)
      step[b] = rng.token(kHq, kHkv, kDim);
    worst = std::max(worst, loop.step(step));
  }
  // Roll a back into its residual window and on to a group boundary, then
  // decode on: the cache must behave as if those tokens never came.
  ASSERT_EQ(attnrt_quant_truncate(loop.cache, a, 21), ATTNRT_OK) << attnrt_last_error();
  loop.history[a].resize(21);
  ASSERT_EQ(attnrt_quant_truncate(loop.cache, a, 16), ATTNRT_OK) << attnrt_last_error();
  loop.history[a].resize(16);
  for (int i = 0; i < 6; ++i)
    worst = std::max(worst, loop.step({{a, rng.token(kHq, kHkv, kDim)}}));
  // Against exact attention the quantised cache stays within its precision.
  EXPECT_LT(worst, fidelity);
}

TEST_F(Streaming, Int8KvDecodeReadsQuantisedPrefixAndWindow) {
  QuantLoop loop(*this, 8, /*zeros=*/false);
  // int8 steps are at most 1/254 of a group's range.
  runQuantScript(loop, 21, 2e-2);
}

TEST_F(Streaming, Int4ZeroPointKvDecodeReadsQuantisedPrefixAndWindow) {
  QuantLoop loop(*this, 4, /*zeros=*/true);
  // int4 steps are 1/15 of a group's range: only a coarse agreement.
  runQuantScript(loop, 22, 0.25);
}

TEST_F(Streaming, PqKeyCacheEncodesOnAppendLikePqEncode) {
  Rng rng(31);
  int32_t sub = kDim / kSubspaces;
  std::vector<float> codebooks =
      rng.uniform(size_t(kHkv) * kSubspaces * kCentroids * sub);
  attnrt_pq_cache_desc desc{};
  desc.value_dtype = ATTNRT_F32;
  desc.max_seqs = kSlots;
  desc.kv_heads = kHkv;
  desc.head_dim = kDim;
  desc.value_dim = kDim;
  desc.capacity = kCapacity;
  desc.subspaces = kSubspaces;
  desc.centroids = kCentroids;
  desc.codebooks = codebooks.data();
  desc.memory = kMemory;
  attnrt_pq_cache *cache = nullptr;
  ASSERT_EQ(attnrt_pq_cache_create(&desc, &cache), ATTNRT_OK) << attnrt_last_error();
  ref::RefTensor cb({kHkv, kSubspaces, kCentroids, sub});
  std::copy(codebooks.begin(), codebooks.end(), cb.data.begin());

  std::map<int32_t, std::vector<Token>> history;
  int32_t a = -1, b = -1;
  ASSERT_EQ(attnrt_pq_seq_create(cache, &a), ATTNRT_OK);
  ASSERT_EQ(attnrt_pq_seq_create(cache, &b), ATTNRT_OK);
  // A prefill of 9 tokens for a, then decode steps for both.
  for (int i = 0; i < 9; ++i) {
    Token t = rng.token(kHq, kHkv, kDim);
    ASSERT_EQ(attnrt_pq_append(cache, a, 1, t.k.data(), t.v.data()), ATTNRT_OK);
    history[a].push_back(t);
  }
  for (int step = 0; step < 12; ++step) {
    std::vector<float> q(size_t(kSlots) * kHq * kDim, 0.5f);
    for (int32_t seq : {a, b}) {
      Token t = rng.token(kHq, kHkv, kDim);
      ASSERT_EQ(attnrt_pq_append(cache, seq, 1, t.k.data(), t.v.data()), ATTNRT_OK)
          << attnrt_last_error();
      std::copy(t.q.begin(), t.q.end(), &q[size_t(seq) * kHq * kDim]);
      history[seq].push_back(t);
    }
    attnrt_pq_view view{};
    ASSERT_EQ(attnrt_pq_view_get(cache, &view), ATTNRT_OK);
    std::vector<float> out(q.size(), std::nanf(""));
    call("pq_decode", {q.data(), view.codes, const_cast<float *>(view.codebooks),
                       view.value, const_cast<int32_t *>(view.lengths), out.data()});
    for (int32_t seq : {a, b}) {
      const auto &h = history[seq];
      int64_t n = int64_t(h.size());
      // Encode the whole history with the reference, independently.
      ref::RefTensor keys = stack(h, 0, h.size(), &Token::k, kHkv);
      ref::PqEncodeResult enc = ref::pqEncode(keys, cb);
      ref::CodeTensor cached;
      HostCopies host;
      sliceSeq(host(view.codes, size_t(kSlots) * kHkv * kCapacity * kSubspaces), seq,
               kHkv, kCapacity, kSubspaces, int32_t(n), cached);
      EXPECT_EQ(cached.data, enc.codes.data) << "sequence " << seq;
      ref::AttentionResult want =
          ref::pqAttention(stack(h, n - 1, n, &Token::q, kHq), enc.codes, cb,
                           stack(h, 0, h.size(), &Token::v, kHkv));
      std::vector<float> got(out.begin() + size_t(seq) * kHq * kDim,
                             out.begin() + size_t(seq + 1) * kHq * kDim);
      EXPECT_LT(relError(got, want.out.data), 1e-5)
          << "sequence " << seq << " at length " << n;
    }
  }
  attnrt_pq_cache_destroy(cache);
}

//===----------------------------------------------------------------------===//
// Recurrent-state caches: linear attention (S, z) and Gated DeltaNet (S)
//===----------------------------------------------------------------------===//

/// A recurrent token: q, k, v [H, F], the log gate and beta per head, the
/// log-linear level weights [H, kLevels] and KDA's per-channel log gates
/// [H, F].
struct RecToken {
  std::vector<float> q, k, v, g, beta, lambda, gv;
};

enum class Kind { Linear, GatedDeltaNet, Kda, LogLinearMamba2, LogLinearGdn };

struct Family {
  const char *step, *chunk;
  Kind kind;
};

class RecurrentLoop {
public:
  RecurrentLoop(Streaming &test, Family family) : test(test), family(family) {
    attnrt_state_cache_desc desc{};
    desc.max_seqs = kSlots;
    desc.num_tensors = linear() ? 2 : 1;
    desc.tensor_elements[0] = int64_t(kHeads) * kFeat * kFeat * (logLinear() ? kLevels : 1);
    desc.tensor_elements[1] = int64_t(kHeads) * kFeat;
    desc.checkpoints = 4;
    desc.memory = kMemory;
    EXPECT_EQ(attnrt_state_cache_create(&desc, &cache), ATTNRT_OK)
        << attnrt_last_error();
  }
  ~RecurrentLoop() { attnrt_state_cache_destroy(cache); }

  bool linear() const { return family.kind == Kind::Linear; }
  bool logLinear() const {
    return family.kind == Kind::LogLinearMamba2 || family.kind == Kind::LogLinearGdn;
  }
  bool hasBeta() const {
    return family.kind != Kind::Linear && family.kind != Kind::LogLinearMamba2;
  }

  /// Runs `tokens` (1 or kChunk) of `seq` through the cache and compares the
  /// outputs with the rows of one reference pass over the whole history.
  void step(int32_t seq, const std::vector<RecToken> &tokens) {
    int32_t n = int32_t(tokens.size());
    auto pack = [&](std::vector<float> RecToken::*field, int32_t width) {
      std::vector<float> x(size_t(kHeads) * n * width);
      for (int32_t i = 0; i < n; ++i)
        for (int32_t h = 0; h < kHeads; ++h)
          for (int32_t w = 0; w < width; ++w)
            x[(size_t(h) * n + i) * width + w] = (tokens[i].*field)[h * width + w];
      return x;
    };
    std::vector<float> q = pack(&RecToken::q, kFeat), k = pack(&RecToken::k, kFeat),
                       v = pack(&RecToken::v, kFeat), g = pack(&RecToken::g, 1),
                       beta = pack(&RecToken::beta, 1),
                       lambda = pack(&RecToken::lambda, kLevels),
                       gv = pack(&RecToken::gv, kFeat);
    int32_t start = 0;
    ASSERT_EQ(attnrt_state_length(cache, seq, &start), ATTNRT_OK);
    EXPECT_EQ(size_t(start), history[seq].size());
    float *in[ATTNRT_STATE_MAX_TENSORS] = {}, *out[ATTNRT_STATE_MAX_TENSORS] = {};
    ASSERT_EQ(attnrt_state_step_begin(cache, seq, n, in, out), ATTNRT_OK)
        << attnrt_last_error();
    std::vector<float> o(size_t(kHeads) * n * kFeat, std::nanf(""));
    const char *entry = n == 1 ? family.step : family.chunk;
    if (linear())
      test.call(entry, {q.data(), k.data(), v.data(), g.data(), in[0], in[1],
                        o.data(), out[0], out[1]});
    else if (family.kind == Kind::GatedDeltaNet || family.kind == Kind::Kda)
      test.call(entry, {q.data(), k.data(), v.data(), beta.data(),
                        family.kind == Kind::Kda ? gv.data() : g.data(), in[0],
                        o.data(), out[0]});
    else if (family.kind == Kind::LogLinearMamba2)
      test.call(entry, {q.data(), k.data(), v.data(), lambda.data(), g.data(),
                        in[0], &start, o.data(), out[0]});
    else
      test.call(entry, {q.data(), k.data(), v.data(), lambda.data(), g.data(),
                        beta.data(), in[0], &start, o.data(), out[0]});
    ASSERT_EQ(attnrt_state_step_commit(cache, seq), ATTNRT_OK) << attnrt_last_error();
    auto &h = history[seq];
    h.insert(h.end(), tokens.begin(), tokens.end());

    std::vector<double> want = reference(h);
    int32_t total = int32_t(h.size());
    std::vector<float> got;
    std::vector<double> rows;
    for (int32_t i = 0; i < n; ++i)
      for (int32_t hh = 0; hh < kHeads; ++hh)
        for (int32_t d = 0; d < kFeat; ++d) {
          got.push_back(o[(size_t(hh) * n + i) * kFeat + d]);
          rows.push_back(want[(size_t(hh) * total + total - n + i) * kFeat + d]);
        }
    EXPECT_LT(relError(got, rows), 1e-4)
        << entry << ": sequence " << seq << " at length " << total;
  }

  /// out [1, H, L, F] of one pass over `h` from a zero state (log-linear:
  /// the quadratic formula for mamba2, with the ceil(log2 L) + 1 levels a
  /// whole-sequence call has).
  std::vector<double> reference(const std::vector<RecToken> &h) {
    int64_t n = int64_t(h.size());
    auto tensor = [&](std::vector<float> RecToken::*field, int32_t width) {
      ref::RefTensor t = width == 1 ? ref::RefTensor({1, kHeads, n})
                                    : ref::RefTensor({1, kHeads, n, width});
      for (int64_t j = 0; j < n; ++j)
        for (int32_t hh = 0; hh < kHeads; ++hh)
          for (int32_t w = 0; w < width; ++w)
            t.data[(size_t(hh) * n + j) * width + w] = (h[j].*field)[hh * width + w];
      return t;
    };
    ref::RefTensor q = tensor(&RecToken::q, kFeat), k = tensor(&RecToken::k, kFeat),
                   v = tensor(&RecToken::v, kFeat), g = tensor(&RecToken::g, 1),
                   beta = tensor(&RecToken::beta, 1), gv = tensor(&RecToken::gv, kFeat);
    if (logLinear()) {
      int64_t nlev = ref::logLinearLevelCount(n);
      ref::RefTensor lambda({1, kHeads, n, nlev});
      for (int64_t j = 0; j < n; ++j)
        for (int32_t hh = 0; hh < kHeads; ++hh)
          for (int64_t l = 0; l < nlev; ++l)
            lambda(0, hh, j, l) = h[j].lambda[hh * kLevels + l];
      ref::LogLinearParams p;
      p.base = family.kind == Kind::LogLinearGdn ? ref::LogLinearBase::GatedDeltaNet
                                                 : ref::LogLinearBase::Mamba2;
      p.g = &g;
      if (hasBeta())
        p.beta = &beta;
      p.scale = 0.25;
      return ref::logLinear(q, k, v, lambda, p).out.data;
    }
    if (linear()) {
      ref::LinearAttentionParams p;
      p.decay = ref::DecayKind::Scalar;
      p.g = &g;
      p.normalize = true;
      p.scale = 0.25;
      return ref::linearAttention(q, k, v, p).out.data;
    }
    ref::DeltaRuleParams p;
    bool kda = family.kind == Kind::Kda;
    p.kind = kda ? ref::DeltaRuleKind::Kda : ref::DeltaRuleKind::Gated;
    p.g = kda ? &gv : &g;
    p.l2norm = true;
    p.scale = 0.25;
    return ref::deltaRule(q, k, v, beta, p).out.data;
  }

  Streaming &test;
  Family family;
  attnrt_state_cache *cache = nullptr;
  std::map<int32_t, std::vector<RecToken>> history;
};

void runRecurrentScript(RecurrentLoop &loop, uint64_t seed) {
  Rng rng(seed);
  auto tokens = [&](int n) {
    std::vector<RecToken> t;
    for (int i = 0; i < n; ++i) {
      // Feature-mapped inputs are positive (the normaliser stays away from 0).
      float lo = loop.linear() ? 0.05f : -1.0f;
      // Log-linear GDN keys stay small: without l2norm its per-level
      // delta states are bounded only for beta |k|^2 < 2.
      float kHi = loop.family.kind == Kind::LogLinearGdn ? 0.25f : 1.0f;
      t.push_back({rng.uniform(kHeads * kFeat, lo, 1.0f),
                   rng.uniform(kHeads * kFeat, loop.linear() ? lo : -kHi, kHi),
                   rng.uniform(kHeads * kFeat), rng.uniform(kHeads, -0.5f, -0.01f),
                   rng.uniform(kHeads, 0.05f, 0.95f),
                   rng.uniform(kHeads * kLevels, 0.1f, 1.0f),
                   rng.uniform(kHeads * kFeat, -0.5f, -0.01f)});
    }
    return t;
  };
  int32_t a = -1;
  ASSERT_EQ(attnrt_state_seq_create(loop.cache, &a), ATTNRT_OK);
  loop.history[a];
  loop.step(a, tokens(kChunk));
  loop.step(a, tokens(kChunk));
  for (int i = 0; i < 7; ++i)
    loop.step(a, tokens(1)); // length 17
  // Fork: the child continues from a copy of the state.
  int32_t b = -1;
  ASSERT_EQ(attnrt_state_fork(loop.cache, a, &b), ATTNRT_OK) << attnrt_last_error();
  loop.history[b] = loop.history[a];
  for (int i = 0; i < 3; ++i) {
    loop.step(a, tokens(1));
    loop.step(b, tokens(1));
  }
  // Rollback of a by two tokens (both checkpointed), then a new path.
  ASSERT_EQ(attnrt_state_truncate(loop.cache, a, 18), ATTNRT_OK) << attnrt_last_error();
  loop.history[a].resize(18);
  loop.step(a, tokens(kChunk));
  for (int i = 0; i < 4; ++i)
    loop.step(a, tokens(1));
  loop.step(b, tokens(kChunk));
}

TEST_F(Streaming, LinearAttentionStateCachePrefillThenDecode) {
  RecurrentLoop loop(*this, {"linear_step", "linear_chunk", Kind::Linear});
  runRecurrentScript(loop, 41);
}

TEST_F(Streaming, GatedDeltaNetStateCachePrefillThenDecode) {
  RecurrentLoop loop(*this, {"delta_step", "delta_chunk", Kind::GatedDeltaNet});
  runRecurrentScript(loop, 42);
}

TEST_F(Streaming, KimiDeltaAttentionStateCachePrefillThenDecode) {
  RecurrentLoop loop(*this, {"kda_step", "kda_chunk", Kind::Kda});
  runRecurrentScript(loop, 45);
}

/// Log-linear decode keeps one state per Fenwick level and carries them at
/// absolute positions (start = the cache's length); chunks and single steps
/// must reproduce the whole-sequence formula (mamba2) or recurrence (GDN),
/// across forks and rollbacks, at lengths up to 32 (levels 0..5).
TEST_F(Streaming, LogLinearMamba2LevelStatesPrefillThenDecode) {
  RecurrentLoop loop(*this, {"loglinear_mamba2_step", "loglinear_mamba2_chunk",
                             Kind::LogLinearMamba2});
  runRecurrentScript(loop, 43);
}

TEST_F(Streaming, LogLinearGatedDeltaNetLevelStatesPrefillThenDecode) {
  RecurrentLoop loop(*this, {"loglinear_gdn_step", "loglinear_gdn_chunk",
                             Kind::LogLinearGdn});
  runRecurrentScript(loop, 44);
}

/// LoLCATs: the state cache holds the linear terms and a ring of the last W
/// tokens; each step's kernel evicts the token leaving the window into the
/// linear terms. Token by token, across a fork and a rollback, every output
/// equals the sliding hybrid over the sequence's whole history.
TEST_F(Streaming, LolcatsWindowAndLinearStatePrefillThenDecode) {
  constexpr int32_t kWindow = 6;
  attnrt_state_cache_desc desc{};
  desc.max_seqs = kSlots;
  desc.num_tensors = 5;
  const int64_t ring = int64_t(kHeads) * kWindow * kFeat;
  const int64_t sizes[] = {int64_t(kHeads) * kFeat * kFeat, int64_t(kHeads) * kFeat,
                           ring, ring, ring};
  std::copy(std::begin(sizes), std::end(sizes), desc.tensor_elements);
  desc.checkpoints = 3;
  desc.memory = kMemory;
  attnrt_state_cache *cache = nullptr;
  ASSERT_EQ(attnrt_state_cache_create(&desc, &cache), ATTNRT_OK) << attnrt_last_error();
  Rng rng(46);
  std::vector<float> gamma = rng.uniform(kHeads, -1.0f, 1.0f);
  struct Tok {
    std::vector<float> q, k, v, fq, fk;
  };
  std::map<int32_t, std::vector<Tok>> history;
  auto step = [&](int32_t seq) {
    size_t hf = size_t(kHeads) * kFeat;
    Tok t{rng.uniform(hf), rng.uniform(hf), rng.uniform(hf),
          rng.uniform(hf, 0.05f, 1.0f), rng.uniform(hf, 0.05f, 1.0f)};
    int32_t position = 0;
    ASSERT_EQ(attnrt_state_length(cache, seq, &position), ATTNRT_OK);
    float *in[ATTNRT_STATE_MAX_TENSORS] = {}, *out[ATTNRT_STATE_MAX_TENSORS] = {};
    ASSERT_EQ(attnrt_state_step_begin(cache, seq, 1, in, out), ATTNRT_OK)
        << attnrt_last_error();
    std::vector<float> o(hf, std::nanf(""));
    call("lolcats_step", {t.q.data(), t.k.data(), t.v.data(), t.fq.data(), t.fk.data(),
                          gamma.data(), &position, in[0], in[1], in[2], in[3], in[4],
                          o.data(), out[0], out[1], out[2], out[3], out[4]});
    ASSERT_EQ(attnrt_state_step_commit(cache, seq), ATTNRT_OK);
    auto &h = history[seq];
    h.push_back(t);
    int64_t n = int64_t(h.size());
    auto stack = [&](std::vector<float> Tok::*field) {
      ref::RefTensor x({1, kHeads, n, kFeat});
      for (int64_t j = 0; j < n; ++j)
        for (int32_t hh = 0; hh < kHeads; ++hh)
          for (int32_t e = 0; e < kFeat; ++e)
            x(0, hh, j, e) = (h[j].*field)[hh * kFeat + e];
      return x;
    };
    ref::RefTensor g({kHeads});
    std::copy(gamma.begin(), gamma.end(), g.data.begin());
    ref::LolcatsParams p;
    p.window = kWindow;
    ref::RefTensor want = ref::lolcatsHybrid(stack(&Tok::q), stack(&Tok::k), stack(&Tok::v),
                                             stack(&Tok::fq), stack(&Tok::fk), g, p)
                              .out;
    std::vector<double> last;
    for (int32_t hh = 0; hh < kHeads; ++hh)
      for (int32_t e = 0; e < kFeat; ++e)
        last.push_back(want(0, hh, n - 1, e));
    std::vector<float> got; // o is [1, H, 1, F]
    for (size_t x = 0; x < hf; ++x)
      got.push_back(o[x]);
    EXPECT_LT(relError(got, last), 1e-5) << "sequence " << seq << " at length " << n;
  };
  int32_t a = -1, b = -1;
  ASSERT_EQ(attnrt_state_seq_create(cache, &a), ATTNRT_OK);
  for (int i = 0; i < 14; ++i) // the window fills, then tokens leave it
    step(a);
  ASSERT_EQ(attnrt_state_fork(cache, a, &b), ATTNRT_OK);
  history[b] = history[a];
  for (int i = 0; i < 4; ++i) {
    step(a);
    step(b);
  }
  // Back two tokens (checkpointed), then on: the ring and the linear terms
  // return with it.
  ASSERT_EQ(attnrt_state_truncate(cache, a, 16), ATTNRT_OK) << attnrt_last_error();
  history[a].resize(16);
  for (int i = 0; i < 3; ++i)
    step(a);
  attnrt_state_cache_destroy(cache);
}

} // namespace
