//===- QuantCache.cpp - int8/int4 KV cache quantised on append ------------===//
//
// This file implements the attnrt_quant_* entry points. Appended tokens
// enter the residual window (full precision, KIVI); when the window holds
// group_size tokens it is quantised as one key group (per channel over the
// group's tokens) and group_size value rows (per token over groups of
// channels), and the window empties. Codes, scales and zero points follow
// attnrt_cache.h; the arithmetic is done in double from the stored f32 scale
// and zero, so the codes are what a kernel dequantising with those f32
// numbers should see.
//
//===----------------------------------------------------------------------===//

#include "CacheSupport.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace attnrt;

namespace {

/// Scale, zero point and codes of one group under the header's rules.
class GroupQuantizer {
public:
  GroupQuantizer(int bits, bool withZeroPoints)
      : zeroPoints(withZeroPoints),
        maxCode(withZeroPoints ? (1 << bits) - 1 : (1 << (bits - 1)) - 1) {}

  /// The scale and zero point of x[0, n).
  void fit(const float *x, size_t n, float &scale, float &zero) const {
    auto [lo, hi] = std::minmax_element(x, x + n);
    double range =
        zeroPoints ? double(*hi) - double(*lo)
                   : std::max(std::fabs(double(*lo)), std::fabs(double(*hi)));
    zero = zeroPoints ? *lo : 0.0f;
    scale = range == 0.0 ? 1.0f : storedScale(range / maxCode);
  }

  int encode(float x, float scale, float zero) const {
    double code = roundHalfEven((double(x) - double(zero)) / double(scale));
    double lo = zeroPoints ? 0.0 : -maxCode;
    return int(std::min(std::max(code, lo), double(maxCode)));
  }

private:
  /// A scale so small that it rounds to 0 in f32 would give infinite codes;
  /// the smallest positive f32 keeps the codes finite (and clamped).
  static float storedScale(double scale) {
    float f = float(scale);
    return f > 0.0f ? f : std::numeric_limits<float>::denorm_min();
  }

  static double roundHalfEven(double x) {
    double floor = std::floor(x), fraction = x - floor;
    if (fraction != 0.5)
      return fraction < 0.5 ? floor : floor + 1.0;
    return std::fmod(floor, 2.0) == 0.0 ? floor : floor + 1.0;
  }

  bool zeroPoints;
  int maxCode; // qmax, or 2^bits - 1 with zero points
};

attnrt_status checkDesc(const char *fn, const attnrt_quant_cache_desc &d) {
  if (attnrt_status s = checkDtype(fn, "dtype", d.dtype))
    return s;
  if (attnrt_status s = checkPositive(fn, {{"kv_heads", d.kv_heads},
                                           {"head_dim", d.head_dim},
                                           {"value_dim", d.value_dim},
                                           {"capacity", d.capacity},
                                           {"group_size", d.group_size}}))
    return s;
  if (d.bits != 4 && d.bits != 8)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: bits must be 4 or 8, got %d", fn,
                 d.bits);
  if (d.zero_points != 0 && d.zero_points != 1)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: zero_points must be 0 or 1, got %d", fn, d.zero_points);
  if (d.bits == 4 && (d.head_dim % 2 != 0 || d.value_dim % 2 != 0))
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: 4-bit codes pack two channels a byte; head_dim %d and "
                 "value_dim %d must be even",
                 fn, d.head_dim, d.value_dim);
  return checkMultiple(fn, "capacity", d.capacity, "group_size", d.group_size);
}

} // namespace

struct ATTNRT_INTERNAL attnrt_quant_cache : CacheBase {
  attnrt_status init(const char *fn, const attnrt_quant_cache_desc &desc);

  int32_t sequenceLength(int32_t seq) const {
    return quantizedLengths[size_t(seq)] + residualLengths[size_t(seq)];
  }
  void clearSequence(int32_t seq) {
    quantizedLengths[size_t(seq)] = 0;
    residualLengths[size_t(seq)] = 0;
  }
  void copySequence(int32_t from, int32_t to);
  size_t usedBytes() const;
  int32_t freePages() const { return -1; }
  void publish(int32_t seq) const {
    quantizedLengths.publish(size_t(seq), 1);
    residualLengths.publish(size_t(seq), 1);
  }

  attnrt_status checkAppendable(const char *fn, int32_t seq, int32_t tokens,
                                const void *key, const void *value) const;
  void append(int32_t seq, int32_t tokens, const void *key, const void *value);
  attnrt_status truncateTo(const char *fn, int32_t seq, int32_t length);
  /// Copies tokens [first, first + count) (count <= group_size) of the token
  /// arrays `key` and `value` of `tokens` tokens into inKey/inValue.
  void stageTokens(const void *key, const void *value, size_t tokens,
                   size_t first, size_t count) const;
  /// Quantises the full residual window of `seq` into the rows after its
  /// quantised prefix.
  void quantizeWindow(int32_t seq);

  attnrt_quant_cache_desc desc = {};
  GroupQuantizer quantizer{8, false};
  size_t valueGroups = 0; // ceil(value_dim / group_size)
  size_t keyBytes = 0, valueBytes = 0; // a residual key / value row
  size_t keyCodeBytes = 0, valueCodeBytes = 0; // a row of codes
  RowArray keyCodes, keyScale, keyZero, valueCodes, valueScale, valueZero;
  RowArray residualKey, residualValue;
  Mirror<int32_t> quantizedLengths, residualLengths;
  // Host staging, [kv_heads, rows, row bytes] like token arrays: up to a
  // group of appended tokens, the window being quantised, and its codes,
  // scales and zero points before they are stored (the arrays above may be
  // device memory).
  Buffer<uint8_t> inKey, inValue, windowKey, windowValue;
  Buffer<uint8_t> groupKeyCodes, groupKeyScale, groupKeyZero;
  Buffer<uint8_t> groupValueCodes, groupValueScale, groupValueZero;
  Buffer<float> group; // one group's values, converted to f32
};

attnrt_status attnrt_quant_cache::init(const char *fn,
                                       const attnrt_quant_cache_desc &d) {
  if (attnrt_status s = checkDesc(fn, d))
    return s;
  if (attnrt_status s = checkMemory(fn, d.memory, memory))
    return s;
  if (attnrt_status s = allocateSlots(fn, d.max_seqs))
    return s;
  desc = d;
  quantizer = GroupQuantizer(d.bits, d.zero_points != 0);
  size_t seqs = size_t(d.max_seqs), heads = size_t(d.kv_heads);
  size_t capacity = size_t(d.capacity), g = size_t(d.group_size);
  size_t keyDim = size_t(d.head_dim), valueDim = size_t(d.value_dim);
  size_t perByte = d.bits == 4 ? 2 : 1;
  size_t element = dtypeBytes(d.dtype);
  valueGroups = (valueDim + g - 1) / g;
  keyBytes = keyDim * element;
  valueBytes = valueDim * element;
  keyCodeBytes = keyDim / perByte;
  valueCodeBytes = valueDim / perByte;
  struct Part {
    RowArray &array;
    const char *what;
    size_t rows, rowBytes;
    bool present;
  };
  bool zeros = d.zero_points != 0;
  for (const Part &p : {
           Part{keyCodes, "key codes", capacity, keyCodeBytes, true},
           Part{keyScale, "key scales", capacity / g, keyDim * 4, true},
           Part{keyZero, "key zero points", capacity / g, keyDim * 4, zeros},
           Part{valueCodes, "value codes", capacity, valueCodeBytes, true},
           Part{valueScale, "value scales", capacity, valueGroups * 4, true},
           Part{valueZero, "value zero points", capacity, valueGroups * 4,
                zeros},
           Part{residualKey, "residual keys", g, keyBytes, true},
           Part{residualValue, "residual values", g, valueBytes, true},
       })
    if (p.present)
      if (attnrt_status s = p.array.allocate(*this, fn, p.what, seqs, heads,
                                             p.rows, p.rowBytes))
        return s;
  if (attnrt_status s = quantizedLengths.allocate(*this, fn,
                                                  "quantised lengths", seqs))
    return s;
  if (attnrt_status s =
          residualLengths.allocate(*this, fn, "residual lengths", seqs))
    return s;
  struct Staging {
    Buffer<uint8_t> &buffer;
    size_t rows, rowBytes;
  };
  for (const Staging &st : {
           Staging{inKey, g, keyBytes},
           Staging{inValue, g, valueBytes},
           Staging{windowKey, g, keyBytes},
           Staging{windowValue, g, valueBytes},
           Staging{groupKeyCodes, g, keyCodeBytes},
           Staging{groupKeyScale, 1, keyDim * 4},
           Staging{groupKeyZero, 1, keyDim * 4},
           Staging{groupValueCodes, g, valueCodeBytes},
           Staging{groupValueScale, g, valueGroups * 4},
           Staging{groupValueZero, g, valueGroups * 4},
       }) {
    size_t bytes = 0;
    if (attnrt_status s = checkedSize(fn, "the staging buffers",
                                      {heads, st.rows, st.rowBytes}, bytes))
      return s;
    if (attnrt_status s = allocate(fn, "the staging buffers", st.buffer, bytes))
      return s;
  }
  return allocate(fn, "the group scratch buffer", group, g);
}

void attnrt_quant_cache::stageTokens(const void *key, const void *value,
                                     size_t tokens, size_t first,
                                     size_t count) const {
  size_t heads = size_t(desc.kv_heads);
  copyTokens(memory, inKey.data(), key, heads, tokens, first, count, keyBytes);
  copyTokens(memory, inValue.data(), value, heads, tokens, first, count,
             valueBytes);
}

void attnrt_quant_cache::quantizeWindow(int32_t seq) {
  size_t s = size_t(seq), g = size_t(desc.group_size);
  size_t first = size_t(quantizedLengths[s]);
  bool zeros = desc.zero_points != 0;
  float scale = 0.0f, zero = 0.0f;
  residualKey.load(s, 0, windowKey.data(), g, 0, g);
  residualValue.load(s, 0, windowValue.data(), g, 0, g);
  for (size_t h = 0; h < size_t(desc.kv_heads); ++h) {
    // Keys: per channel over the group's tokens.
    const uint8_t *keys = windowKey.data() + h * g * keyBytes;
    auto *keyScales =
        reinterpret_cast<float *>(groupKeyScale.data()) + h * desc.head_dim;
    auto *keyZeros =
        reinterpret_cast<float *>(groupKeyZero.data()) + h * desc.head_dim;
    auto *keyCodeRows =
        reinterpret_cast<int8_t *>(groupKeyCodes.data()) + h * g * keyCodeBytes;
    for (size_t d = 0; d < size_t(desc.head_dim); ++d) {
      for (size_t t = 0; t < g; ++t)
        group[t] = loadElement(keys + t * keyBytes, desc.dtype, d);
      quantizer.fit(group.data(), g, scale, zero);
      keyScales[d] = scale;
      keyZeros[d] = zero;
      for (size_t t = 0; t < g; ++t)
        storeCode(keyCodeRows + t * keyCodeBytes, d,
                  quantizer.encode(group[t], scale, zero), desc.bits);
    }
    // Values: per token over groups of channels.
    for (size_t t = 0; t < g; ++t) {
      const uint8_t *residual = windowValue.data() + (h * g + t) * valueBytes;
      auto *codes = reinterpret_cast<int8_t *>(groupValueCodes.data()) +
                    (h * g + t) * valueCodeBytes;
      auto *valueScales = reinterpret_cast<float *>(groupValueScale.data()) +
                          (h * g + t) * valueGroups;
      auto *valueZeros = reinterpret_cast<float *>(groupValueZero.data()) +
                         (h * g + t) * valueGroups;
      for (size_t c0 = 0, i = 0; i < valueGroups; ++i, c0 += g) {
        size_t width = std::min(g, size_t(desc.value_dim) - c0);
        for (size_t c = 0; c < width; ++c)
          group[c] = loadElement(residual, desc.dtype, c0 + c);
        quantizer.fit(group.data(), width, scale, zero);
        valueScales[i] = scale;
        valueZeros[i] = zero;
        for (size_t c = 0; c < width; ++c)
          storeCode(codes, c0 + c, quantizer.encode(group[c], scale, zero),
                    desc.bits);
      }
    }
  }
  keyCodes.store(s, first, groupKeyCodes.data(), g, 0, g);
  keyScale.store(s, first / g, groupKeyScale.data(), 1, 0, 1);
  valueCodes.store(s, first, groupValueCodes.data(), g, 0, g);
  valueScale.store(s, first, groupValueScale.data(), g, 0, g);
  if (zeros) {
    keyZero.store(s, first / g, groupKeyZero.data(), 1, 0, 1);
    valueZero.store(s, first, groupValueZero.data(), g, 0, g);
  }
  quantizedLengths[s] += desc.group_size;
  residualLengths[s] = 0;
}

void attnrt_quant_cache::append(int32_t seq, int32_t tokens, const void *key,
                                const void *value) {
  for (int32_t done = 0; done < tokens;) {
    int32_t window = residualLengths[size_t(seq)];
    int32_t count = std::min(desc.group_size - window, tokens - done);
    stageTokens(key, value, size_t(tokens), size_t(done), size_t(count));
    residualKey.store(size_t(seq), size_t(window), inKey.data(),
                      size_t(count), 0, size_t(count));
    residualValue.store(size_t(seq), size_t(window), inValue.data(),
                        size_t(count), 0, size_t(count));
    residualLengths[size_t(seq)] = window + count;
    done += count;
    if (window + count == desc.group_size)
      quantizeWindow(seq);
  }
}

attnrt_status attnrt_quant_cache::checkAppendable(const char *fn, int32_t,
                                                  int32_t tokens,
                                                  const void *key,
                                                  const void *value) const {
  // Through the staging buffers, a group at a time (the arrays may be device
  // memory); element indices are those of the caller's arrays.
  size_t n = size_t(tokens), g = size_t(desc.group_size);
  size_t keyDim = size_t(desc.head_dim), valueDim = size_t(desc.value_dim);
  for (size_t first = 0; first < n; first += g) {
    size_t count = std::min(g, n - first);
    stageTokens(key, value, n, first, count);
    for (size_t h = 0; h < size_t(desc.kv_heads); ++h) {
      if (attnrt_status s = checkFinite(
              fn, "key", inKey.data() + h * count * keyBytes, desc.dtype,
              count * keyDim, (h * n + first) * keyDim))
        return s;
      if (attnrt_status s = checkFinite(
              fn, "value", inValue.data() + h * count * valueBytes, desc.dtype,
              count * valueDim, (h * n + first) * valueDim))
        return s;
    }
  }
  return ATTNRT_OK;
}

attnrt_status attnrt_quant_cache::truncateTo(const char *fn, int32_t seq,
                                             int32_t length) {
  int32_t quantized = quantizedLengths[size_t(seq)];
  if (length >= quantized) {
    residualLengths[size_t(seq)] = length - quantized;
    return ATTNRT_OK;
  }
  // The full-precision copies of quantised tokens are gone: only whole
  // groups can be dropped from the quantised prefix.
  if (length % desc.group_size != 0)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "%s: length %d falls inside the quantised prefix of sequence "
                 "%d (%d tokens), which can only be cut at a multiple of "
                 "group_size %d",
                 fn, length, seq, quantized, desc.group_size);
  quantizedLengths[size_t(seq)] = length;
  residualLengths[size_t(seq)] = 0;
  return ATTNRT_OK;
}

void attnrt_quant_cache::copySequence(int32_t from, int32_t to) {
  size_t quantized = size_t(quantizedLengths[size_t(from)]);
  size_t window = size_t(residualLengths[size_t(from)]);
  size_t f = size_t(from), t = size_t(to);
  keyCodes.copyRows(f, t, quantized);
  keyScale.copyRows(f, t, quantized / size_t(desc.group_size));
  keyZero.copyRows(f, t, quantized / size_t(desc.group_size));
  valueCodes.copyRows(f, t, quantized);
  valueScale.copyRows(f, t, quantized);
  valueZero.copyRows(f, t, quantized);
  residualKey.copyRows(f, t, window);
  residualValue.copyRows(f, t, window);
  quantizedLengths[t] = int32_t(quantized);
  residualLengths[t] = int32_t(window);
}

size_t attnrt_quant_cache::usedBytes() const {
  size_t perToken = keyCodes.rowBytes() + valueCodes.rowBytes() +
                    valueScale.rowBytes() + valueZero.rowBytes();
  size_t perGroup = keyScale.rowBytes() + keyZero.rowBytes();
  size_t perWindowToken = residualKey.rowBytes() + residualValue.rowBytes();
  size_t bytes = 0;
  for (int32_t s = 0; s < slotCount(); ++s) {
    size_t quantized = size_t(quantizedLengths[size_t(s)]);
    bytes += quantized * perToken +
             quantized / size_t(desc.group_size) * perGroup +
             size_t(residualLengths[size_t(s)]) * perWindowToken;
  }
  return bytes * size_t(desc.kv_heads);
}

//===----------------------------------------------------------------------===//
// C entry points
//===----------------------------------------------------------------------===//

#pragma GCC visibility push(default)

extern "C" {

ATTNRT_DEFINE_CACHE_ENTRY_POINTS(quant)
ATTNRT_DEFINE_TOKEN_ENTRY_POINTS(quant, void)

attnrt_status attnrt_quant_view_get(attnrt_quant_cache *cache,
                                    attnrt_quant_view *view) {
  const char *fn = "attnrt_quant_view_get";
  return withLock(fn, cache, [&] {
    if (attnrt_status s = checkNotNull(fn, "view", view))
      return s;
    view->key_codes = reinterpret_cast<int8_t *>(cache->keyCodes.data());
    view->key_scale = reinterpret_cast<float *>(cache->keyScale.data());
    view->key_zero = reinterpret_cast<float *>(cache->keyZero.data());
    view->value_codes = reinterpret_cast<int8_t *>(cache->valueCodes.data());
    view->value_scale = reinterpret_cast<float *>(cache->valueScale.data());
    view->value_zero = reinterpret_cast<float *>(cache->valueZero.data());
    view->residual_key = cache->residualKey.data();
    view->residual_value = cache->residualValue.data();
    view->quantized_lengths = cache->quantizedLengths.view();
    view->residual_lengths = cache->residualLengths.view();
    return ATTNRT_OK;
  });
}

} // extern "C"

#pragma GCC visibility pop
