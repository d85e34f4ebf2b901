//===- CacheSupport.cpp - buffers, slots and checks the caches share ------===//
//
// This file implements the out-of-line parts of CacheSupport.h: aligned
// zeroed allocation with a running byte count, row copies, sequence slots,
// and the argument checks whose messages every cache entry point shares.
//
//===----------------------------------------------------------------------===//

#include "CacheSupport.h"
#include "CudaDriver.h"

#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <exception>
#include <new>

namespace attnrt {

//===----------------------------------------------------------------------===//
// Memory
//===----------------------------------------------------------------------===//

namespace {

using cuda::CUdeviceptr;
using cuda::CUresult;

/// Makes the driver usable on the calling thread; on failure sets a
/// message that starts with `prefix` and returns the status.
attnrt_status ready(const char *prefix) {
  cuda::Readiness r = cuda::ensureReady();
  if (r.status == ATTNRT_OK)
    return ATTNRT_OK;
  if (r.reason)
    return failf(r.status, "%s: %s", prefix, r.reason);
  return failf(r.status, "%s: cuCtxSetCurrent failed: %s", prefix,
               cuda::describe(r.result).text);
}

/// ready, throwing DeviceFailure.
void readyOrThrow(const char *what) {
  if (attnrt_status status = ready(what))
    throw DeviceFailure{status};
}

void checkOrThrow(const char *what, CUresult result) {
  if (result == cuda::CUDA_SUCCESS)
    return;
  failf(ATTNRT_DEVICE_ERROR, "cache %s failed: %s", what,
        cuda::describe(result).text);
  throw DeviceFailure{ATTNRT_DEVICE_ERROR};
}

CUdeviceptr address(const void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

/// Fills one side of a 2D copy: device memory (cuMemAlloc'd or managed) by
/// address, anything else (pageable or pinned host memory) as host memory.
void describeSide(const void *p, unsigned &type, const void *&hostPtr,
                  CUdeviceptr &devicePtr) {
  unsigned kind = 0;
  CUresult r = cuda::driver().cuPointerGetAttribute(
      &kind, cuda::CU_POINTER_ATTRIBUTE_MEMORY_TYPE, address(p));
  if (r == cuda::CUDA_SUCCESS && kind == cuda::CU_MEMORYTYPE_DEVICE) {
    type = cuda::CU_MEMORYTYPE_DEVICE;
    devicePtr = address(p);
  } else {
    type = cuda::CU_MEMORYTYPE_HOST;
    hostPtr = p;
  }
}

} // namespace

attnrt_status checkMemory(const char *fn, const attnrt_memory &field,
                          Memory &memory) {
  int32_t value = rawEnum(field);
  if (value == ATTNRT_MEMORY_HOST) {
    memory = Memory::Host;
    return ATTNRT_OK;
  }
  if (value != ATTNRT_MEMORY_CUDA)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: memory %d is not ATTNRT_MEMORY_HOST (0) or "
                 "ATTNRT_MEMORY_CUDA (1)",
                 fn, value);
  char prefix[256];
  std::snprintf(prefix, sizeof(prefix), "%s: a CUDA cache needs the driver",
                fn);
  if (attnrt_status status = ready(prefix))
    return status;
  memory = Memory::Cuda;
  return ATTNRT_OK;
}

namespace {
/// Copies queued on the calling thread's stream since the last
/// finishCopies (sources the caller passed may still be read by them).
thread_local bool copiesPending = false;
} // namespace

void finishCopies() {
  if (!copiesPending)
    return;
  copiesPending = false;
  checkOrThrow("cuStreamSynchronize",
               cuda::driver().cuStreamSynchronize(cuda::currentStream()));
}

void copyBlock(Memory memory, void *dst, size_t dstPitch, const void *src,
               size_t srcPitch, size_t width, size_t height) {
  if (width == 0 || height == 0)
    return;
  if (memory == Memory::Host) {
    for (size_t r = 0; r < height; ++r)
      std::memcpy(static_cast<uint8_t *>(dst) + r * dstPitch,
                  static_cast<const uint8_t *>(src) + r * srcPitch, width);
    return;
  }
  readyOrThrow("cache copy");
  cuda::CUDA_MEMCPY2D copy = {};
  const void *ignored = nullptr;
  describeSide(src, copy.srcMemoryType, copy.srcHost, copy.srcDevice);
  describeSide(dst, copy.dstMemoryType, ignored, copy.dstDevice);
  bool toHost = copy.dstMemoryType == cuda::CU_MEMORYTYPE_HOST;
  if (toHost)
    copy.dstHost = dst;
  copy.srcPitch = srcPitch;
  copy.dstPitch = dstPitch;
  copy.WidthInBytes = width;
  copy.Height = height;
  checkOrThrow("cuMemcpy2DAsync",
               cuda::driver().cuMemcpy2DAsync(&copy, cuda::currentStream()));
  copiesPending = true;
  // The host reads what lands in host memory right away; copies into the
  // device only need to finish before the call returns.
  if (toHost)
    finishCopies();
}

void zeroBytes(Memory memory, void *dst, size_t bytes) {
  if (bytes == 0)
    return;
  if (memory == Memory::Host) {
    std::memset(dst, 0, bytes);
    return;
  }
  readyOrThrow("cache fill");
  checkOrThrow("cuMemsetD8Async", cuda::driver().cuMemsetD8Async(
                                      address(dst), 0, bytes,
                                      cuda::currentStream()));
  copiesPending = true;
}

void releaseBytes(Memory memory, void *p) noexcept {
  if (!p)
    return;
  if (memory == Memory::Host) {
    std::free(p);
    return;
  }
  // Destroy reports nothing; a failed free (a lost context) leaks.
  if (cuda::ensureReady().status == ATTNRT_OK)
    cuda::driver().cuMemFree(address(p));
}

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
  if (attnrt_status status =
          owner.allocate(fn, what, buffer, count, owner.memory))
    return status;
  heads = headCount;
  rowsPerHead = rows;
  bytesPerRow = rowBytes;
  return ATTNRT_OK;
}

// Each is one 2D copy: a row of the copy is one head's run of rows.

void RowArray::copyRows(size_t from, size_t to, size_t count) const {
  size_t pitch = rowsPerHead * bytesPerRow;
  copyBlock(memory(), row(to, 0, 0), pitch, row(from, 0, 0), pitch,
            count * bytesPerRow, heads);
}

void RowArray::store(size_t slab, size_t index, const void *src,
                     size_t srcTokens, size_t first, size_t count) const {
  copyBlock(memory(), row(slab, 0, index), rowsPerHead * bytesPerRow,
            static_cast<const uint8_t *>(src) + first * bytesPerRow,
            srcTokens * bytesPerRow, count * bytesPerRow, heads);
}

void RowArray::load(size_t slab, size_t index, void *dst, size_t dstTokens,
                    size_t first, size_t count) const {
  copyBlock(memory(), static_cast<uint8_t *>(dst) + first * bytesPerRow,
            dstTokens * bytesPerRow, row(slab, 0, index),
            rowsPerHead * bytesPerRow, count * bytesPerRow, heads);
}

//===----------------------------------------------------------------------===//
// CacheBase
//===----------------------------------------------------------------------===//

attnrt_status CacheBase::allocateBytes(const char *fn, const char *what,
                                       size_t bytes, Memory where, void *&p) {
  size_t rounded = 0;
  if (!alignUp(bytes, rounded) || reserved > SIZE_MAX - rounded)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: %zu bytes for %s overflow size_t", fn, bytes, what);
  if (rounded == 0)
    rounded = kCacheAlignment; // aligned_alloc(64, 0) may return NULL
  if (where == Memory::Host) {
    p = std::aligned_alloc(kCacheAlignment, rounded);
    if (!p)
      return failf(ATTNRT_OUT_OF_MEMORY,
                   "%s: cannot allocate %zu bytes for %s", fn, rounded, what);
    std::memset(p, 0, rounded);
  } else {
    // cuMemAlloc aligns to at least 256 bytes. init checked the driver.
    CUdeviceptr d = 0;
    if (CUresult r = cuda::driver().cuMemAlloc(&d, rounded))
      return failf(r == cuda::CUDA_ERROR_OUT_OF_MEMORY ? ATTNRT_OUT_OF_MEMORY
                                                       : ATTNRT_DEVICE_ERROR,
                   "%s: cannot allocate %zu bytes of device memory for %s: %s",
                   fn, rounded, what, cuda::describe(r).text);
    p = reinterpret_cast<void *>(static_cast<uintptr_t>(d));
    try {
      zeroBytes(Memory::Cuda, p, rounded);
      finishCopies();
    } catch (const DeviceFailure &failure) {
      cuda::driver().cuMemFree(d);
      return failure.status;
    }
  }
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
                          attnrt_dtype dtype, size_t count, size_t offset) {
  for (size_t i = 0; i < count; ++i) {
    float x = loadElement(data, dtype, i);
    if (!std::isfinite(x))
      return failf(ATTNRT_INVALID_ARGUMENT,
                   "%s: %s element %zu is %g, which cannot be quantised or "
                   "encoded",
                   fn, name, offset + i, double(x));
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
  } catch (const DeviceFailure &failure) {
    return failure.status; // the message is set
  } catch (const std::bad_alloc &) {
    return failf(ATTNRT_OUT_OF_MEMORY, "%s: out of memory", fn);
  } catch (const std::exception &e) {
    return failf(ATTNRT_OUT_OF_MEMORY, "%s: %s", fn, e.what());
  } catch (...) {
    return failf(ATTNRT_OUT_OF_MEMORY, "%s: unexpected exception", fn);
  }
}

} // namespace attnrt
