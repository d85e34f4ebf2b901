//===- CacheSupport.cpp - buffers, slots and checks the caches share ------===//
//
// This file implements the out-of-line parts of CacheSupport.h: aligned
// zeroed allocation with a running byte count, row copies, sequence slots,
// and the argument checks whose messages every cache entry point shares.
//
//===----------------------------------------------------------------------===//

#include "CacheSupport.h"

#include <cinttypes>
#include <cmath>
#include <exception>
#include <new>

namespace attnrt {

//===----------------------------------------------------------------------===//
// RowArray
//===----------------------------------------------------------------------===//

attnrt_status RowArray::allocate(CacheBase &owner, const char *fn,
                                 const char *what, size_t slabs,
                                 size_t headCount, size_t rows,
                                 size_t rowBytes) {
  size_t count = 0;
  if (attnrt_status status =
          checkedSize(fn, what, {slabs, headCount, rows, rowBytes}, count))
    return status;
  if (attnrt_status status = owner.allocate(fn, what, buffer, count))
    return status;
  heads = headCount;
  rowsPerHead = rows;
  bytesPerRow = rowBytes;
  return ATTNRT_OK;
}

void RowArray::copyRows(size_t from, size_t to, size_t count) const {
  if (count == 0)
    return;
  for (size_t h = 0; h < heads; ++h)
    std::memcpy(row(to, h, 0), row(from, h, 0), count * bytesPerRow);
}

void RowArray::store(size_t slab, size_t index, const void *src,
                     size_t srcTokens, size_t first, size_t count) const {
  const auto *bytes = static_cast<const uint8_t *>(src);
  for (size_t h = 0; h < heads; ++h)
    std::memcpy(row(slab, h, index),
                bytes + (h * srcTokens + first) * bytesPerRow,
                count * bytesPerRow);
}

void RowArray::load(size_t slab, size_t index, void *dst, size_t dstTokens,
                    size_t first, size_t count) const {
  auto *bytes = static_cast<uint8_t *>(dst);
  for (size_t h = 0; h < heads; ++h)
    std::memcpy(bytes + (h * dstTokens + first) * bytesPerRow,
                row(slab, h, index), count * bytesPerRow);
}

//===----------------------------------------------------------------------===//
// CacheBase
//===----------------------------------------------------------------------===//

attnrt_status CacheBase::allocateBytes(const char *fn, const char *what,
                                       size_t bytes, void *&p) {
  size_t rounded = 0;
  if (!alignUp(bytes, rounded) || reserved > SIZE_MAX - rounded)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: %zu bytes for %s overflow size_t", fn, bytes, what);
  if (rounded == 0)
    rounded = kCacheAlignment; // aligned_alloc(64, 0) may return NULL
  p = std::aligned_alloc(kCacheAlignment, rounded);
  if (!p)
    return failf(ATTNRT_OUT_OF_MEMORY, "%s: cannot allocate %zu bytes for %s",
                 fn, rounded, what);
  std::memset(p, 0, rounded);
  reserved += rounded;
  return ATTNRT_OK;
}

attnrt_status CacheBase::allocateSlots(const char *fn, int32_t maxSeqs) {
  if (attnrt_status status = checkPositive(fn, "max_seqs", maxSeqs))
    return status;
  if (attnrt_status status =
          allocate(fn, "sequence slots", live, size_t(maxSeqs)))
    return status;
  numSlots = maxSeqs;
  return ATTNRT_OK;
}

attnrt_status CacheBase::checkSequence(const char *fn, int32_t seq) const {
  if (seq < 0 || seq >= numSlots)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: sequence %d is outside [0, %d) (max_seqs)", fn, seq,
                 numSlots);
  if (!isLive(seq))
    return failf(ATTNRT_NOT_FOUND,
                 "%s: sequence %d is not live (never created or released)", fn,
                 seq);
  return ATTNRT_OK;
}

attnrt_status CacheBase::findFreeSlot(const char *fn, int32_t &seq) const {
  for (int32_t s = 0; s < numSlots; ++s)
    if (!isLive(s)) {
      seq = s;
      return ATTNRT_OK;
    }
  return failf(ATTNRT_CACHE_FULL,
               "%s: all %d sequence slots (max_seqs) are in use", fn, numSlots);
}

//===----------------------------------------------------------------------===//
// Argument checks
//===----------------------------------------------------------------------===//

attnrt_status checkNotNull(const char *fn, const char *name,
                           const void *pointer) {
  if (!pointer)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL %s", fn, name);
  return ATTNRT_OK;
}

attnrt_status checkPositive(const char *fn, const char *name, int64_t value) {
  if (value <= 0)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: %s must be positive, got %" PRId64, fn, name, value);
  return ATTNRT_OK;
}

attnrt_status checkPositive(const char *fn,
                            std::initializer_list<NamedValue> values) {
  for (const NamedValue &v : values)
    if (attnrt_status status = checkPositive(fn, v.name, v.value))
      return status;
  return ATTNRT_OK;
}

attnrt_status checkTokenArguments(const char *fn, const CacheBase &cache,
                                  int32_t seq, const void *key,
                                  const void *value) {
  if (attnrt_status status = cache.checkSequence(fn, seq))
    return status;
  if (attnrt_status status = checkNotNull(fn, "key", key))
    return status;
  return checkNotNull(fn, "value", value);
}

attnrt_status checkDtype(const char *fn, const char *name,
                         const attnrt_dtype &field) {
  int32_t value = rawEnum(field);
  if (value < ATTNRT_F32 || value > ATTNRT_BF16)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: %s %d is not ATTNRT_F32 (0), ATTNRT_F16 (1) or "
                 "ATTNRT_BF16 (2)",
                 fn, name, value);
  return ATTNRT_OK;
}

attnrt_status checkMultiple(const char *fn, const char *name, int64_t value,
                            const char *divisorName, int64_t divisor) {
  if (value % divisor != 0)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: %s %" PRId64 " is not a multiple of %s %" PRId64, fn,
                 name, value, divisorName, divisor);
  return ATTNRT_OK;
}

attnrt_status checkAppend(const char *fn, int32_t seq, int32_t length,
                          int32_t tokens, int32_t capacity) {
  if (tokens <= 0)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: tokens must be positive, got %d",
                 fn, tokens);
  if (tokens > capacity - length)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: sequence %d has %d of %d tokens; appending %d would "
                 "exceed the capacity",
                 fn, seq, length, capacity, tokens);
  return ATTNRT_OK;
}

attnrt_status checkTruncate(const char *fn, int32_t seq, int32_t length,
                            int32_t target) {
  if (target < 0 || target > length)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: cannot truncate sequence %d of %d tokens to %d (must be "
                 "in [0, %d])",
                 fn, seq, length, target, length);
  return ATTNRT_OK;
}

attnrt_status checkFinite(const char *fn, const char *name, const void *data,
                          attnrt_dtype dtype, size_t count) {
  for (size_t i = 0; i < count; ++i) {
    float x = loadElement(data, dtype, i);
    if (!std::isfinite(x))
      return failf(ATTNRT_INVALID_ARGUMENT,
                   "%s: %s element %zu is %g, which cannot be quantised or "
                   "encoded",
                   fn, name, i, double(x));
  }
  return ATTNRT_OK;
}

attnrt_status checkedSize(const char *fn, const char *what,
                          std::initializer_list<size_t> dims, size_t &size) {
  if (!checkedProduct(dims, size))
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: the size of %s overflows size_t",
                 fn, what);
  return ATTNRT_OK;
}

attnrt_status failFromException(const char *fn) noexcept {
  try {
    throw;
  } catch (const std::bad_alloc &) {
    return failf(ATTNRT_OUT_OF_MEMORY, "%s: out of memory", fn);
  } catch (const std::exception &e) {
    return failf(ATTNRT_OUT_OF_MEMORY, "%s: %s", fn, e.what());
  } catch (...) {
    return failf(ATTNRT_OUT_OF_MEMORY, "%s: unexpected exception", fn);
  }
}

} // namespace attnrt
