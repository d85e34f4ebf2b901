//===- PqCache.cpp - PQ key cache encoded on append -----------------------===//
//
// This file implements the attnrt_pq_* entry points. Keys are encoded as
// they arrive, exactly as attn.pq_encode does: per head and sub-space, the
// nearest centroid by squared distance (in double), ties to the lower index;
// one byte a code for Kc = 256, two codes a byte (low nibble first) for
// Kc = 16. Values are stored as given.
//
// Encoding is the cost of an append (D x Kc squared differences a key and
// head): the distances to all centroids of a sub-space are one loop over
// the centroids a dimension, on codebooks transposed to [head][s][dim][c]
// in double (the same sums in the same order as the op's, so the same
// codes), compiled for AVX-512, AVX2 and the baseline and picked at load
// time; appends of many tokens encode on all cores.
//
//===----------------------------------------------------------------------===//

#include "CacheSupport.h"

#include <algorithm>
#include <limits>
#include <system_error>
#include <thread>
#include <vector>

using namespace attnrt;

struct ATTNRT_INTERNAL attnrt_pq_cache : CacheBase {
  attnrt_status init(const char *fn, const attnrt_pq_cache_desc &desc);

  int32_t sequenceLength(int32_t seq) const { return lengths[size_t(seq)]; }
  void clearSequence(int32_t seq) { lengths[size_t(seq)] = 0; }
  void copySequence(int32_t from, int32_t to);
  size_t usedBytes() const;
  int32_t freePages() const { return -1; }
  void publish(int32_t seq) const { lengths.publish(size_t(seq), 1); }

  attnrt_status checkAppendable(const char *fn, int32_t seq, int32_t tokens,
                                const void *key, const void *value) const;
  void append(int32_t seq, int32_t tokens, const void *key, const void *value);
  attnrt_status truncateTo(const char *, int32_t seq, int32_t length) {
    lengths[size_t(seq)] = length;
    return ATTNRT_OK;
  }
  /// Writes the codes of one key of head `head` into `codes`.
  void encode(const float *key, size_t head, int8_t *codes) const;
  /// Encodes `count` staged tokens of every head [kv_heads, count, head_dim]
  /// into stagedCodes, on several threads when there are many.
  void encodeStaged(size_t count);
  /// Keys are encoded through host staging this many tokens at a time
  /// (1024, or the capacity when smaller).
  size_t stageTokens = 1;

  attnrt_pq_cache_desc desc = {};
  size_t subDim = 0; // head_dim / m
  int codeBits = 8;  // 8 for Kc = 256, 4 for Kc = 16
  RowArray codes, value;
  Buffer<float> codebooks;       // [kv_heads, m, Kc, subDim], host
  std::vector<double> transposed; // [kv_heads, m, subDim, Kc], for encoding
  Buffer<float> deviceCodebooks; // the same on the device (CUDA caches)
  Mirror<int32_t> lengths;
  Buffer<uint8_t> stagedKeys;  // [kv_heads, stageTokens, head_dim] f32
  Buffer<uint8_t> stagedCodes; // [kv_heads, stageTokens, code bytes]
};

namespace {

attnrt_status checkDesc(const char *fn, const attnrt_pq_cache_desc &d) {
  if (attnrt_status s = checkDtype(fn, "value_dtype", d.value_dtype))
    return s;
  if (attnrt_status s = checkPositive(fn, {{"kv_heads", d.kv_heads},
                                           {"head_dim", d.head_dim},
                                           {"value_dim", d.value_dim},
                                           {"capacity", d.capacity},
                                           {"subspaces", d.subspaces}}))
    return s;
  if (d.centroids != 16 && d.centroids != 256)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: centroids (Kc) must be 16 or 256, got %d", fn,
                 d.centroids);
  if (attnrt_status s =
          checkMultiple(fn, "head_dim", d.head_dim, "subspaces", d.subspaces))
    return s;
  if (d.centroids == 16 && d.subspaces % 2 != 0)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: 4-bit codes (Kc = 16) pack two sub-spaces a byte; "
                 "subspaces %d must be even",
                 fn, d.subspaces);
  return checkNotNull(fn, "codebooks", d.codebooks);
}

} // namespace

attnrt_status attnrt_pq_cache::init(const char *fn,
                                    const attnrt_pq_cache_desc &d) {
  if (attnrt_status s = checkDesc(fn, d))
    return s;
  size_t heads = size_t(d.kv_heads), m = size_t(d.subspaces);
  size_t bookElements = 0;
  // kv_heads * m * Kc * (head_dim / m) = kv_heads * Kc * head_dim.
  if (attnrt_status s = checkedSize(
          fn, "the codebooks", {heads, size_t(d.centroids), size_t(d.head_dim)},
          bookElements))
    return s;
  if (attnrt_status s =
          checkFinite(fn, "codebooks", d.codebooks, ATTNRT_F32, bookElements))
    return s;
  if (attnrt_status s = checkMemory(fn, d.memory, memory))
    return s;
  if (attnrt_status s = allocateSlots(fn, d.max_seqs))
    return s;
  desc = d;
  subDim = size_t(d.head_dim) / m;
  codeBits = d.centroids == 256 ? 8 : 4;
  size_t seqs = size_t(d.max_seqs), capacity = size_t(d.capacity);
  if (attnrt_status s = codes.allocate(*this, fn, "key codes", seqs, heads,
                                       capacity, m * size_t(codeBits) / 8))
    return s;
  if (attnrt_status s =
          value.allocate(*this, fn, "values", seqs, heads, capacity,
                         size_t(d.value_dim) * dtypeBytes(d.value_dtype)))
    return s;
  if (attnrt_status s = allocate(fn, "the codebooks", codebooks, bookElements))
    return s;
  std::memcpy(codebooks.data(), d.codebooks, bookElements * sizeof(float));
  try {
    transposed.resize(bookElements);
  } catch (const std::bad_alloc &) {
    return failf(ATTNRT_OUT_OF_MEMORY, "%s: cannot allocate the encoding tables (%zu bytes)",
                 fn, bookElements * sizeof(double));
  }
  size_t kc = size_t(d.centroids), sub = size_t(d.head_dim) / m;
  for (size_t book = 0; book < heads * m; ++book)
    for (size_t c = 0; c < kc; ++c)
      for (size_t i = 0; i < sub; ++i)
        transposed[(book * sub + i) * kc + c] = double(d.codebooks[(book * kc + c) * sub + i]);
  desc.codebooks = codebooks.data(); // the caller's array may go away
  if (memory == Memory::Cuda) {
    if (attnrt_status s = allocate(fn, "the codebooks", deviceCodebooks,
                                   bookElements, Memory::Cuda))
      return s;
    copyBytes(memory, deviceCodebooks.data(), codebooks.data(),
              bookElements * sizeof(float));
  }
  stageTokens = std::min<size_t>(1024, capacity);
  size_t stageBytes = 0;
  if (attnrt_status s = checkedSize(
          fn, "the staging buffers",
          {heads, stageTokens, size_t(d.head_dim), sizeof(float)}, stageBytes))
    return s;
  if (attnrt_status s =
          allocate(fn, "the staging buffers", stagedKeys, stageBytes))
    return s;
  if (attnrt_status s = allocate(fn, "the staging buffers", stagedCodes,
                                 heads * stageTokens * codes.rowBytes()))
    return s;
  return lengths.allocate(*this, fn, "lengths", seqs);
}

namespace {

/// The nearest centroid of a sub-space: the first c with the smallest
/// sum_i (x[i] - book[i][c])^2 (book transposed: [subDim][Kc], i summed in
/// order, no contraction into FMAs: see CMakeLists.txt). Eight centroids
/// at a time in the lanes of a vector, each lane keeping its first minimum;
/// the lanes' minima then meet, ties to the lower index.
typedef double Lanes __attribute__((vector_size(64)));

template <size_t Sub>
__attribute__((target_clones("avx512f", "avx2", "default"))) size_t
nearestCentroid(const float *__restrict x, const double *__restrict book, size_t subDim,
                size_t kc) {
  const size_t sub = Sub ? Sub : subDim;
  const double inf = std::numeric_limits<double>::infinity();
  Lanes best = {inf, inf, inf, inf, inf, inf, inf, inf};
  Lanes index = {0, 1, 2, 3, 4, 5, 6, 7}, at = index;
  for (size_t c0 = 0; c0 < kc; c0 += 8, at += 8) {
    Lanes d = {};
    for (size_t i = 0; i < sub; ++i) {
      Lanes row;
      std::memcpy(&row, book + i * kc + c0, sizeof(row));
      Lanes diff = double(x[i]) - row;
      d += diff * diff;
    }
    auto smaller = d < best;
    best = smaller ? d : best;
    index = smaller ? at : index;
  }
  size_t winner = 0;
  for (size_t j = 1; j < 8; ++j)
    if (best[j] < best[winner] || (best[j] == best[winner] && index[j] < index[winner]))
      winner = j;
  return size_t(index[winner]);
}

} // namespace

void attnrt_pq_cache::encode(const float *key, size_t head, int8_t *out) const {
  size_t m = size_t(desc.subspaces), kc = size_t(desc.centroids);
  for (size_t s = 0; s < m; ++s) {
    const float *x = key + s * subDim;
    const double *book = transposed.data() + (head * m + s) * subDim * kc;
    size_t best = subDim == 2   ? nearestCentroid<2>(x, book, subDim, kc)
                  : subDim == 4 ? nearestCentroid<4>(x, book, subDim, kc)
                  : subDim == 8 ? nearestCentroid<8>(x, book, subDim, kc)
                                : nearestCentroid<0>(x, book, subDim, kc);
    storeCode(out, s, int(best), codeBits);
  }
}

void attnrt_pq_cache::encodeStaged(size_t count) {
  size_t dim = size_t(desc.head_dim), codeBytes = codes.rowBytes();
  size_t keys = size_t(desc.kv_heads) * count;
  const auto *staged = reinterpret_cast<const float *>(stagedKeys.data());
  auto *out = reinterpret_cast<int8_t *>(stagedCodes.data());
  auto run = [&](size_t first, size_t last) {
    for (size_t key = first; key < last; ++key)
      encode(staged + key * dim, key / count, out + key * codeBytes);
  };
  // A thread for every 64 keys, up to the cores; a decode step's keys
  // encode on the calling thread.
  size_t threads = std::min<size_t>(std::max(1u, std::thread::hardware_concurrency()),
                                    keys / 64);
  size_t per = threads > 1 ? (keys + threads - 1) / threads : keys;
  auto range = [&](size_t t) {
    run(std::min(keys, t * per), std::min(keys, (t + 1) * per));
  };
  std::vector<std::thread> pool;
  try {
    for (size_t t = 1; t < threads; ++t)
      pool.emplace_back(range, t);
  } catch (const std::system_error &) {
    // No more threads to be had: the calling thread takes their ranges.
  }
  range(0);
  for (size_t t = pool.size() + 1; t < threads; ++t)
    range(t);
  for (auto &worker : pool)
    worker.join();
}

attnrt_status attnrt_pq_cache::checkAppendable(const char *fn, int32_t,
                                               int32_t tokens, const void *key,
                                               const void *) const {
  // Through the staging buffer (the caller's keys may be device memory);
  // element indices are those of the caller's array.
  size_t n = size_t(tokens), dim = size_t(desc.head_dim);
  for (size_t first = 0; first < n; first += stageTokens) {
    size_t count = std::min(stageTokens, n - first);
    copyTokens(memory, stagedKeys.data(), key, size_t(desc.kv_heads), n, first,
               count, dim * sizeof(float));
    for (size_t h = 0; h < size_t(desc.kv_heads); ++h)
      if (attnrt_status s = checkFinite(
              fn, "key", stagedKeys.data() + h * count * dim * sizeof(float),
              ATTNRT_F32, count * dim, (h * n + first) * dim))
        return s;
  }
  return ATTNRT_OK;
}

void attnrt_pq_cache::append(int32_t seq, int32_t tokens, const void *key,
                             const void *v) {
  size_t s = size_t(seq), n = size_t(tokens), start = size_t(lengths[s]);
  size_t dim = size_t(desc.head_dim);
  for (size_t first = 0; first < n; first += stageTokens) {
    size_t count = std::min(stageTokens, n - first);
    copyTokens(memory, stagedKeys.data(), key, size_t(desc.kv_heads), n, first,
               count, dim * sizeof(float));
    encodeStaged(count);
    codes.store(s, start + first, stagedCodes.data(), count, 0, count);
  }
  value.store(s, start, v, n, 0, n);
  lengths[s] = int32_t(start + n);
}

void attnrt_pq_cache::copySequence(int32_t from, int32_t to) {
  size_t length = size_t(lengths[size_t(from)]);
  codes.copyRows(size_t(from), size_t(to), length);
  value.copyRows(size_t(from), size_t(to), length);
  lengths[size_t(to)] = int32_t(length);
}

size_t attnrt_pq_cache::usedBytes() const {
  size_t tokens = 0;
  for (int32_t s = 0; s < slotCount(); ++s)
    tokens += size_t(lengths[size_t(s)]);
  return tokens * size_t(desc.kv_heads) * (codes.rowBytes() + value.rowBytes());
}

//===----------------------------------------------------------------------===//
// C entry points
//===----------------------------------------------------------------------===//

#pragma GCC visibility push(default)

extern "C" {

ATTNRT_DEFINE_CACHE_ENTRY_POINTS(pq)
ATTNRT_DEFINE_TOKEN_ENTRY_POINTS(pq, float)

attnrt_status attnrt_pq_view_get(attnrt_pq_cache *cache, attnrt_pq_view *view) {
  const char *fn = "attnrt_pq_view_get";
  return withLock(fn, cache, [&] {
    if (attnrt_status s = checkNotNull(fn, "view", view))
      return s;
    view->codes = reinterpret_cast<int8_t *>(cache->codes.data());
    view->codebooks = cache->memory == Memory::Cuda
                          ? cache->deviceCodebooks.data()
                          : cache->codebooks.data();
    view->value = cache->value.data();
    view->lengths = cache->lengths.view();
    return ATTNRT_OK;
  });
}

} // extern "C"

#pragma GCC visibility pop
