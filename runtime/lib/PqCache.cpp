//===- PqCache.cpp - PQ key cache encoded on append -----------------------===//
//
// This file implements the attnrt_pq_* entry points. Keys are encoded as
// they arrive, exactly as attn.pq_encode does: per head and sub-space, the
// nearest centroid by squared distance (in double), ties to the lower index;
// one byte a code for Kc = 256, two codes a byte (low nibble first) for
// Kc = 16. Values are stored as given.
//
//===----------------------------------------------------------------------===//

#include "CacheSupport.h"

#include <algorithm>

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
  /// Keys are encoded through host staging this many tokens at a time.
  static constexpr size_t kStageTokens = 64;

  attnrt_pq_cache_desc desc = {};
  size_t subDim = 0; // head_dim / m
  int codeBits = 8;  // 8 for Kc = 256, 4 for Kc = 16
  RowArray codes, value;
  Buffer<float> codebooks;       // [kv_heads, m, Kc, subDim], host
  Buffer<float> deviceCodebooks; // the same on the device (CUDA caches)
  Mirror<int32_t> lengths;
  Buffer<uint8_t> stagedKeys;  // [kv_heads, kStageTokens, head_dim] f32
  Buffer<uint8_t> stagedCodes; // [kv_heads, kStageTokens, code bytes]
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
  desc.codebooks = codebooks.data(); // the caller's array may go away
  if (memory == Memory::Cuda) {
    if (attnrt_status s = allocate(fn, "the codebooks", deviceCodebooks,
                                   bookElements, Memory::Cuda))
      return s;
    copyBytes(memory, deviceCodebooks.data(), codebooks.data(),
              bookElements * sizeof(float));
  }
  size_t stageBytes = 0;
  if (attnrt_status s = checkedSize(
          fn, "the staging buffers",
          {heads, kStageTokens, size_t(d.head_dim), sizeof(float)}, stageBytes))
    return s;
  if (attnrt_status s =
          allocate(fn, "the staging buffers", stagedKeys, stageBytes))
    return s;
  if (attnrt_status s = allocate(fn, "the staging buffers", stagedCodes,
                                 heads * kStageTokens * codes.rowBytes()))
    return s;
  return lengths.allocate(*this, fn, "lengths", seqs);
}

void attnrt_pq_cache::encode(const float *key, size_t head, int8_t *out) const {
  size_t m = size_t(desc.subspaces), kc = size_t(desc.centroids);
  for (size_t s = 0; s < m; ++s) {
    const float *x = key + s * subDim;
    const float *book = codebooks.data() + (head * m + s) * kc * subDim;
    size_t best = 0;
    double bestDistance = 0.0;
    for (size_t c = 0; c < kc; ++c) {
      double distance = 0.0;
      for (size_t i = 0; i < subDim; ++i) {
        double diff = double(x[i]) - double(book[c * subDim + i]);
        distance += diff * diff;
      }
      // Strictly smaller: a tie keeps the lower index.
      if (c == 0 || distance < bestDistance) {
        best = c;
        bestDistance = distance;
      }
    }
    storeCode(out, s, int(best), codeBits);
  }
}

attnrt_status attnrt_pq_cache::checkAppendable(const char *fn, int32_t,
                                               int32_t tokens, const void *key,
                                               const void *) const {
  // Through the staging buffer (the caller's keys may be device memory);
  // element indices are those of the caller's array.
  size_t n = size_t(tokens), dim = size_t(desc.head_dim);
  for (size_t first = 0; first < n; first += kStageTokens) {
    size_t count = std::min(kStageTokens, n - first);
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
  size_t dim = size_t(desc.head_dim), codeBytes = codes.rowBytes();
  for (size_t first = 0; first < n; first += kStageTokens) {
    size_t count = std::min(kStageTokens, n - first);
    copyTokens(memory, stagedKeys.data(), key, size_t(desc.kv_heads), n, first,
               count, dim * sizeof(float));
    const auto *staged = reinterpret_cast<const float *>(stagedKeys.data());
    auto *out = reinterpret_cast<int8_t *>(stagedCodes.data());
    for (size_t h = 0; h < size_t(desc.kv_heads); ++h)
      for (size_t t = 0; t < count; ++t)
        encode(staged + (h * count + t) * dim, h,
               out + (h * count + t) * codeBytes);
    codes.store(s, start + first, out, count, 0, count);
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
