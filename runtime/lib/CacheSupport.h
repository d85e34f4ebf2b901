//===- CacheSupport.h - pieces every cache of libattnrt shares --*- C++ -*-===//
//
// Internal to libattnrt. The caches of attnrt_cache.h share their sequence
// slots, their 64-byte aligned zeroed buffers, the lock-and-catch wrapper
// around every C entry point, size arithmetic that reports overflow, argument
// checks with uniform messages, and the decoding of stored 16-bit floats.
//
// A cache type (struct attnrt_*_cache) derives from CacheBase and provides
//   attnrt_status init(const char *fn, const Desc &desc);
//   int32_t sequenceLength(int32_t seq) const;
//   void clearSequence(int32_t seq);             // back to an empty slot
//   void copySequence(int32_t from, int32_t to); // `to` is a free slot
//   size_t usedBytes() const;
//   int32_t freePages() const;                   // -1 unless paged
//   void publish(int32_t seq);  // copies seq's bookkeeping to the device
// and, for the token caches (a `desc.capacity`),
//   attnrt_status checkAppendable(fn, seq, tokens, key, value) const;
//   void append(int32_t seq, int32_t tokens, const void *key,
//               const void *value);
//   attnrt_status truncateTo(const char *fn, int32_t seq, int32_t length);
// The templates below turn those into the shared C entry points. Everything
// a call checks is checked before it changes anything, so a failed call
// leaves the cache as it was.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNRT_LIB_CACHESUPPORT_H
#define ATTNRT_LIB_CACHESUPPORT_H

#include "Status.h"
#include "attnrt_cache.h"

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <initializer_list>
#include <memory>
#include <mutex>

// Everything here is internal to libattnrt, and so are the cache structs
// built from it (declared ATTNRT_INTERNAL); each cache file exports its C
// entry points with `#pragma GCC visibility push(default)`.
#pragma GCC visibility push(hidden)

namespace attnrt {

//===----------------------------------------------------------------------===//
// Sizes and element types
//===----------------------------------------------------------------------===//

/// Every buffer a cache owns starts on a cache line (and an AVX-512 vector).
constexpr size_t kCacheAlignment = 64;

/// `bytes` rounded up to kCacheAlignment; false when that overflows.
inline bool alignUp(size_t bytes, size_t &out) {
  if (bytes > SIZE_MAX - (kCacheAlignment - 1))
    return false;
  out = (bytes + kCacheAlignment - 1) / kCacheAlignment * kCacheAlignment;
  return true;
}

/// The product of `factors` (all non-negative); false when it overflows.
inline bool checkedProduct(std::initializer_list<size_t> factors, size_t &out) {
  size_t product = 1;
  for (size_t f : factors)
    if (__builtin_mul_overflow(product, f, &product))
      return false;
  out = product;
  return true;
}

/// The integer a C caller stored in an enum field. Reading the field as the
/// enum would be undefined behaviour in C++ when the value is not one of
/// the enumerators, and rejecting such values is the point.
template <typename Enum> int32_t rawEnum(const Enum &field) {
  static_assert(sizeof(Enum) == sizeof(int32_t), "C enums are int-sized");
  int32_t value;
  std::memcpy(&value, &field, sizeof(value));
  return value;
}

/// Bytes of one element of a valid `dtype` (checkDtype).
inline size_t dtypeBytes(attnrt_dtype dtype) {
  return dtype == ATTNRT_F32 ? 4 : 2;
}

inline float floatFromBits(uint32_t bits) {
  float f;
  std::memcpy(&f, &bits, sizeof(f));
  return f;
}

/// bf16 is the upper half of an f32.
inline float bf16ToFloat(uint16_t bits) {
  return floatFromBits(uint32_t(bits) << 16);
}

/// IEEE binary16 to binary32, exact: subnormals are normalised, infinities
/// and NaNs (payload kept) map to their f32 counterparts.
inline float f16ToFloat(uint16_t half) {
  uint32_t sign = uint32_t(half & 0x8000u) << 16;
  uint32_t exponent = (half >> 10) & 0x1fu;
  uint32_t mantissa = half & 0x3ffu;
  if (exponent == 0x1f)
    return floatFromBits(sign | 0x7f800000u | (mantissa << 13));
  if (exponent != 0)
    return floatFromBits(sign | ((exponent + 127 - 15) << 23) |
                         (mantissa << 13));
  if (mantissa == 0)
    return floatFromBits(sign);
  // Subnormal: mantissa * 2^-24. Shift the leading one into the implicit
  // bit; every shift halves the exponent of 2^-14.
  uint32_t biased = 127 - 14;
  while (!(mantissa & 0x400u)) {
    mantissa <<= 1;
    --biased;
  }
  return floatFromBits(sign | (biased << 23) | ((mantissa & 0x3ffu) << 13));
}

/// Element `index` of an array of `dtype` values, as a float.
inline float loadElement(const void *data, attnrt_dtype dtype, size_t index) {
  if (dtype == ATTNRT_F32)
    return static_cast<const float *>(data)[index];
  uint16_t bits = static_cast<const uint16_t *>(data)[index];
  return dtype == ATTNRT_F16 ? f16ToFloat(bits) : bf16ToFloat(bits);
}

/// Writes code `index` of a row of codes: a byte for 8 bits, a nibble (low
/// nibble first) for 4. Negative 4-bit codes are stored in two's complement.
inline void storeCode(int8_t *row, size_t index, int code, int bits) {
  if (bits == 8) {
    row[index] = static_cast<int8_t>(static_cast<uint8_t>(code));
    return;
  }
  auto *byte = reinterpret_cast<uint8_t *>(row) + index / 2;
  unsigned shift = (index % 2) * 4;
  unsigned nibble = static_cast<unsigned>(code) & 0xfu;
  *byte = static_cast<uint8_t>((*byte & ~(0xfu << shift)) | (nibble << shift));
}

class CacheBase;

//===----------------------------------------------------------------------===//
// Memory: where a cache's arrays live
//===----------------------------------------------------------------------===//

/// A cache's arrays are in host memory or in the CUDA device's memory
/// (attnrt_cache.h); bookkeeping and staging buffers are always on the host.
enum class Memory { Host, Cuda };

/// Thrown by the CUDA copies below when the driver fails; the message is
/// already set. withLock (failFromException) returns its status.
struct DeviceFailure {
  attnrt_status status;
};

/// Reads an attnrt_memory field; for ATTNRT_MEMORY_CUDA also makes sure the
/// driver and device are usable (ATTNRT_UNAVAILABLE otherwise).
attnrt_status checkMemory(const char *fn, const attnrt_memory &field,
                          Memory &memory);

/// Copies `height` rows of `width` bytes, row r from src + r * srcPitch to
/// dst + r * dstPitch. With Memory::Cuda either side may be host or device
/// memory; the copy is queued on the calling thread's stream and has
/// finished on return only when its destination is host memory: the rest
/// finish at finishCopies, which every entry point of a CUDA cache calls
/// before it returns (withLock). Throws DeviceFailure.
void copyBlock(Memory memory, void *dst, size_t dstPitch, const void *src,
               size_t srcPitch, size_t width, size_t height);
inline void copyBytes(Memory memory, void *dst, const void *src,
                      size_t bytes) {
  copyBlock(memory, dst, bytes, src, bytes, bytes, 1);
}
/// Copies tokens [first, first + count) of a token array `src` ([heads,
/// tokens, rowBytes]) to `dst` as [heads, count, rowBytes] (host staging).
inline void copyTokens(Memory memory, void *dst, const void *src,
                       size_t heads, size_t tokens, size_t first, size_t count,
                       size_t rowBytes) {
  copyBlock(memory, dst, count * rowBytes,
            static_cast<const uint8_t *>(src) + first * rowBytes,
            tokens * rowBytes, count * rowBytes, heads);
}
/// Zeroes `bytes` bytes of an array in `memory` (queued like copyBlock).
/// Throws DeviceFailure.
void zeroBytes(Memory memory, void *dst, size_t bytes);
/// Waits for the copies and fills the calling thread queued; throws
/// DeviceFailure. Does nothing when none are pending.
void finishCopies();

//===----------------------------------------------------------------------===//
// Argument checks shared by the caches; each returns ATTNRT_OK or a failf
// status whose message names `fn`, the value and the limit.
//===----------------------------------------------------------------------===//

attnrt_status checkNotNull(const char *fn, const char *name,
                           const void *pointer);
attnrt_status checkPositive(const char *fn, const char *name, int64_t value);
struct NamedValue {
  const char *name;
  int64_t value;
};
/// checkPositive on each of `values`, in order.
attnrt_status checkPositive(const char *fn,
                            std::initializer_list<NamedValue> values);
/// `field` holds an attnrt_dtype enumerator.
attnrt_status checkDtype(const char *fn, const char *name,
                         const attnrt_dtype &field);
/// `value` must be a multiple of the positive `divisor`.
attnrt_status checkMultiple(const char *fn, const char *name, int64_t value,
                            const char *divisorName, int64_t divisor);
/// The sequence and token arrays of an append or a read.
attnrt_status checkTokenArguments(const char *fn, const CacheBase &cache,
                                  int32_t seq, const void *key,
                                  const void *value);
/// Appending `tokens` to a sequence of `length` tokens: tokens > 0 and the
/// result within `capacity`.
attnrt_status checkAppend(const char *fn, int32_t seq, int32_t length,
                          int32_t tokens, int32_t capacity);
/// Truncating a sequence of `length` tokens to `target`: 0 <= target <=
/// length.
attnrt_status checkTruncate(const char *fn, int32_t seq, int32_t length,
                            int32_t target);
/// Every one of the `count` elements of `data` (host memory) is finite
/// (caches that quantise or encode cannot represent the others). `data` is
/// the caller's array from element `offset` on, which messages count in.
attnrt_status checkFinite(const char *fn, const char *name, const void *data,
                          attnrt_dtype dtype, size_t count, size_t offset = 0);
/// The product of `dims` (the size of `what`), failing on overflow.
attnrt_status checkedSize(const char *fn, const char *what,
                          std::initializer_list<size_t> dims, size_t &size);

/// The status for the exception being handled: OUT_OF_MEMORY (no other
/// exception is expected; whatever it is, it does not cross the C ABI).
attnrt_status failFromException(const char *fn) noexcept;

//===----------------------------------------------------------------------===//
// Buffers
//===----------------------------------------------------------------------===//

/// Frees what CacheBase::allocate allocated in `memory`.
void releaseBytes(Memory memory, void *p) noexcept;

/// A zero-initialised, 64-byte aligned array that a cache allocates at
/// create time (through CacheBase::allocate) and frees when destroyed. Only
/// host buffers may be indexed.
template <typename T> class Buffer {
public:
  Buffer() = default;
  Buffer(const Buffer &) = delete;
  Buffer &operator=(const Buffer &) = delete;
  ~Buffer() { releaseBytes(where, elements); }

  T *data() const { return elements; }
  T &operator[](size_t index) const { return elements[index]; }
  Memory memory() const { return where; }

private:
  friend class CacheBase;
  T *elements = nullptr;
  Memory where = Memory::Host;
};

/// Rows of `rowBytes` bytes laid out [slabs, heads, rows]: a slab is a
/// sequence slot (or a page of a paged cache), and the rows of one head are
/// contiguous, as in the ops' [B, H, L, D] layout. Token arrays passed in and
/// out are [heads, tokens, row].
class RowArray {
public:
  /// In the owner's memory.
  attnrt_status allocate(CacheBase &owner, const char *fn, const char *what,
                         size_t slabs, size_t headCount, size_t rows,
                         size_t rowBytes);

  uint8_t *data() const { return buffer.data(); }
  size_t rowBytes() const { return bytesPerRow; }
  Memory memory() const { return buffer.memory(); }
  uint8_t *row(size_t slab, size_t head, size_t index) const {
    return buffer.data() +
           ((slab * heads + head) * rowsPerHead + index) * bytesPerRow;
  }

  /// Copies rows [0, count) of every head from slab `from` to slab `to`.
  void copyRows(size_t from, size_t to, size_t count) const;
  /// Copies tokens [first, first + count) of `src` ([heads, srcTokens, row])
  /// to rows [index, index + count) of `slab`. For a CUDA array `src` may be
  /// host or device memory. These three throw DeviceFailure.
  void store(size_t slab, size_t index, const void *src, size_t srcTokens,
             size_t first, size_t count) const;
  /// The reverse of store: rows of `slab` to tokens of `dst`.
  void load(size_t slab, size_t index, void *dst, size_t dstTokens,
            size_t first, size_t count) const;

private:
  Buffer<uint8_t> buffer;
  size_t heads = 0, rowsPerHead = 0, bytesPerRow = 0;
};

//===----------------------------------------------------------------------===//
// The common part of every cache
//===----------------------------------------------------------------------===//

/// The lock, the sequence slots and the byte count of what a cache
/// allocated.
class CacheBase {
public:
  /// Serialises every call on the cache (attnrt_cache.h, thread safety).
  std::mutex mutex;

  /// Allocates `count` zeroed elements into `buffer` and counts them in
  /// reservedBytes; fails with OUT_OF_MEMORY (INVALID_ARGUMENT when the size
  /// overflows) naming `fn` and `what`.
  /// `memory` is where the buffer lives: the host (bookkeeping, staging)
  /// unless told otherwise.
  template <typename T>
  attnrt_status allocate(const char *fn, const char *what, Buffer<T> &buffer,
                         size_t count, Memory memory = Memory::Host) {
    size_t bytes = 0;
    void *p = nullptr;
    if (attnrt_status status = checkedSize(fn, what, {count, sizeof(T)}, bytes))
      return status;
    if (attnrt_status status = allocateBytes(fn, what, bytes, memory, p))
      return status;
    buffer.elements = static_cast<T *>(p);
    buffer.where = memory;
    return ATTNRT_OK;
  }
  /// The slots; call once from init.
  attnrt_status allocateSlots(const char *fn, int32_t maxSeqs);

  int32_t slotCount() const { return numSlots; }
  bool isLive(int32_t seq) const { return live[size_t(seq)] != 0; }
  void setLive(int32_t seq, bool value) { live[size_t(seq)] = value ? 1 : 0; }
  /// ATTNRT_INVALID_ARGUMENT for an id outside [0, max_seqs), NOT_FOUND for
  /// a free slot.
  attnrt_status checkSequence(const char *fn, int32_t seq) const;
  /// The lowest free slot; OUT_OF_MEMORY when every slot is taken.
  attnrt_status findFreeSlot(const char *fn, int32_t &seq) const;

  size_t reservedBytes() const { return reserved; }

  /// Where the cache's arrays (everything a view points at) live; set by
  /// init (checkMemory) before it allocates them.
  Memory memory = Memory::Host;

private:
  attnrt_status allocateBytes(const char *fn, const char *what, size_t bytes,
                              Memory where, void *&p);

  Buffer<uint8_t> live;
  int32_t numSlots = 0;
  size_t reserved = 0;
};

/// Bookkeeping that kernels read (lengths, block tables): the host array is
/// the truth; a CUDA cache also keeps a device copy, which publish updates
/// and view() hands out.
template <typename T> class Mirror {
public:
  attnrt_status allocate(CacheBase &owner, const char *fn, const char *what,
                         size_t count) {
    if (attnrt_status status = owner.allocate(fn, what, host, count))
      return status;
    if (owner.memory == Memory::Cuda)
      return owner.allocate(fn, what, device, count, Memory::Cuda);
    return ATTNRT_OK;
  }
  T *data() const { return host.data(); }
  T &operator[](size_t index) const { return host[index]; }
  /// What a view points at.
  T *view() const { return device.data() ? device.data() : host.data(); }
  /// Copies elements [first, first + count) to the device copy, if any.
  void publish(size_t first, size_t count) const {
    if (device.data() && count)
      copyBytes(Memory::Cuda, device.data() + first, host.data() + first,
                count * sizeof(T));
  }

private:
  Buffer<T> host, device;
};

//===----------------------------------------------------------------------===//
// Entry-point templates
//===----------------------------------------------------------------------===//

/// Runs `body` under the cache's lock; OK becomes succeed() (clearing the
/// message), and no exception escapes.
template <typename Cache, typename Body>
attnrt_status withLock(const char *fn, Cache *cache, Body &&body) noexcept {
  if (!cache)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL cache", fn);
  try {
    std::lock_guard<std::mutex> lock(cache->mutex);
    attnrt_status status = body();
    finishCopies(); // the caller may reuse its arrays once we return
    return status == ATTNRT_OK ? succeed() : status;
  } catch (...) {
    return failFromException(fn);
  }
}

template <typename Cache, typename Desc>
attnrt_status createCache(const char *fn, const Desc *desc,
                          Cache **cache) noexcept {
  if (!desc || !cache)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL %s", fn,
                 desc ? "cache" : "desc");
  try {
    auto created = std::make_unique<Cache>();
    attnrt_status status = created->init(fn, *desc);
    finishCopies();
    if (status)
      return status;
    *cache = created.release();
    return succeed();
  } catch (...) {
    return failFromException(fn);
  }
}

template <typename Cache>
attnrt_status createSequence(const char *fn, Cache *cache,
                             int32_t *seq) noexcept {
  return withLock(fn, cache, [&] {
    if (attnrt_status status = checkNotNull(fn, "seq", seq))
      return status;
    int32_t slot = 0;
    if (attnrt_status status = cache->findFreeSlot(fn, slot))
      return status;
    cache->setLive(slot, true);
    *seq = slot;
    return ATTNRT_OK;
  });
}

template <typename Cache>
attnrt_status releaseSequence(const char *fn, Cache *cache,
                              int32_t seq) noexcept {
  return withLock(fn, cache, [&] {
    if (attnrt_status status = cache->checkSequence(fn, seq))
      return status;
    cache->clearSequence(seq);
    cache->setLive(seq, false);
    cache->publish(seq);
    return ATTNRT_OK;
  });
}

template <typename Cache>
attnrt_status forkSequence(const char *fn, Cache *cache, int32_t parent,
                           int32_t *child) noexcept {
  return withLock(fn, cache, [&] {
    if (attnrt_status status = checkNotNull(fn, "child", child))
      return status;
    if (attnrt_status status = cache->checkSequence(fn, parent))
      return status;
    int32_t slot = 0;
    if (attnrt_status status = cache->findFreeSlot(fn, slot))
      return status;
    cache->copySequence(parent, slot);
    cache->publish(slot);
    cache->setLive(slot, true);
    *child = slot;
    return ATTNRT_OK;
  });
}

template <typename Cache>
attnrt_status appendTokens(const char *fn, Cache *cache, int32_t seq,
                           int32_t tokens, const void *key,
                           const void *value) noexcept {
  return withLock(fn, cache, [&] {
    if (attnrt_status status = checkTokenArguments(fn, *cache, seq, key, value))
      return status;
    if (attnrt_status status = checkAppend(fn, seq, cache->sequenceLength(seq),
                                           tokens, cache->desc.capacity))
      return status;
    if (attnrt_status status =
            cache->checkAppendable(fn, seq, tokens, key, value))
      return status;
    cache->append(seq, tokens, key, value);
    cache->publish(seq);
    return ATTNRT_OK;
  });
}

/// Checks 0 <= length <= the sequence's length; the cache's truncateTo may
/// refuse more (and then must not have changed anything).
template <typename Cache>
attnrt_status truncateSequence(const char *fn, Cache *cache, int32_t seq,
                               int32_t length) noexcept {
  return withLock(fn, cache, [&] {
    if (attnrt_status status = cache->checkSequence(fn, seq))
      return status;
    if (attnrt_status status =
            checkTruncate(fn, seq, cache->sequenceLength(seq), length))
      return status;
    if (attnrt_status status = cache->truncateTo(fn, seq, length))
      return status;
    cache->publish(seq);
    return ATTNRT_OK;
  });
}

template <typename Cache>
attnrt_status sequenceLength(const char *fn, Cache *cache, int32_t seq,
                             int32_t *length) noexcept {
  return withLock(fn, cache, [&] {
    if (attnrt_status status = checkNotNull(fn, "length", length))
      return status;
    if (attnrt_status status = cache->checkSequence(fn, seq))
      return status;
    *length = cache->sequenceLength(seq);
    return ATTNRT_OK;
  });
}

template <typename Cache>
attnrt_status cacheMemory(const char *fn, Cache *cache,
                          attnrt_cache_memory *memory) noexcept {
  return withLock(fn, cache, [&] {
    if (attnrt_status status = checkNotNull(fn, "memory", memory))
      return status;
    memory->reserved_bytes = cache->reservedBytes();
    memory->used_bytes = cache->usedBytes();
    memory->free_pages = cache->freePages();
    return ATTNRT_OK;
  });
}

} // namespace attnrt

#pragma GCC visibility pop

/// Defines the entry points that every cache `attnrt_<name>_*` has in the
/// same form: attnrt_<name>_cache_create, attnrt_<name>_cache_destroy,
/// attnrt_<name>_seq_create, attnrt_<name>_seq_release, attnrt_<name>_fork,
/// attnrt_<name>_length and attnrt_<name>_memory. Use it inside the extern
/// "C" block of the cache's file, where the cache struct is complete.
#define ATTNRT_DEFINE_CACHE_ENTRY_POINTS(name)                                 \
  attnrt_status attnrt_##name##_cache_create(                                  \
      const attnrt_##name##_cache_desc *desc, attnrt_##name##_cache **cache) { \
    return attnrt::createCache("attnrt_" #name "_cache_create", desc, cache);  \
  }                                                                            \
  void attnrt_##name##_cache_destroy(attnrt_##name##_cache *cache) {           \
    delete cache;                                                              \
  }                                                                            \
  attnrt_status attnrt_##name##_seq_create(attnrt_##name##_cache *cache,       \
                                           int32_t *seq) {                     \
    return attnrt::createSequence("attnrt_" #name "_seq_create", cache, seq);  \
  }                                                                            \
  attnrt_status attnrt_##name##_seq_release(attnrt_##name##_cache *cache,      \
                                            int32_t seq) {                     \
    return attnrt::releaseSequence("attnrt_" #name "_seq_release", cache,      \
                                   seq);                                       \
  }                                                                            \
  attnrt_status attnrt_##name##_fork(attnrt_##name##_cache *cache,             \
                                     int32_t parent, int32_t *child) {         \
    return attnrt::forkSequence("attnrt_" #name "_fork", cache, parent,        \
                                child);                                        \
  }                                                                            \
  attnrt_status attnrt_##name##_length(attnrt_##name##_cache *cache,           \
                                       int32_t seq, int32_t *length) {         \
    return attnrt::sequenceLength("attnrt_" #name "_length", cache, seq,       \
                                  length);                                     \
  }                                                                            \
  attnrt_status attnrt_##name##_memory(attnrt_##name##_cache *cache,           \
                                       attnrt_cache_memory *memory) {          \
    return attnrt::cacheMemory("attnrt_" #name "_memory", cache, memory);      \
  }

/// Defines attnrt_<name>_append (keys of `KeyType`) and
/// attnrt_<name>_truncate of a cache of tokens.
#define ATTNRT_DEFINE_TOKEN_ENTRY_POINTS(name, KeyType)                        \
  attnrt_status attnrt_##name##_append(                                        \
      attnrt_##name##_cache *cache, int32_t seq, int32_t tokens,               \
      const KeyType *key, const void *value) {                                 \
    return attnrt::appendTokens("attnrt_" #name "_append", cache, seq, tokens, \
                                key, value);                                   \
  }                                                                            \
  attnrt_status attnrt_##name##_truncate(attnrt_##name##_cache *cache,         \
                                         int32_t seq, int32_t length) {        \
    return attnrt::truncateSequence("attnrt_" #name "_truncate", cache, seq,   \
                                    length);                                   \
  }

#endif // ATTNRT_LIB_CACHESUPPORT_H
