//===- CacheTestSupport.h - helpers of the cache unit tests -----*- C++ -*-===//
//
// Random token data (never zero, always finite), an fp64 decoder of stored
// f16/bf16 values written independently of the runtime's, and the token
// model the KV tests compare caches against.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_TEST_RUNTIME_CACHETESTSUPPORT_H
#define ATTN_TEST_RUNTIME_CACHETESTSUPPORT_H

#include "attnrt_cache.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <random>
#include <string>
#include <vector>

#define ASSERT_OK(expr) ASSERT_EQ((expr), ATTNRT_OK) << attnrt_last_error()
#define EXPECT_OK(expr) EXPECT_EQ((expr), ATTNRT_OK) << attnrt_last_error()

namespace cachetest {

using Bytes = std::vector<uint8_t>;

/// Stores `value` in an enum field as a C caller could (a cast to the enum
/// would be undefined behaviour in C++ for a value outside its range).
template <typename Enum> void setRawEnum(Enum &field, int32_t value) {
  static_assert(sizeof(Enum) == sizeof(int32_t), "C enums are int-sized");
  std::memcpy(&field, &value, sizeof(value));
}

inline size_t elementSize(attnrt_dtype dtype) {
  return dtype == ATTNRT_F32 ? 4 : 2;
}

inline const char *dtypeName(attnrt_dtype dtype) {
  return dtype == ATTNRT_F32 ? "f32" : dtype == ATTNRT_F16 ? "f16" : "bf16";
}

/// Element `index` of `data`, decoded from sign, exponent and mantissa with
/// ldexp (not with the runtime's bit tricks).
inline double decode(const void *data, attnrt_dtype dtype, size_t index) {
  if (dtype == ATTNRT_F32) {
    float f;
    std::memcpy(&f, static_cast<const uint8_t *>(data) + 4 * index, 4);
    return f;
  }
  uint16_t bits;
  std::memcpy(&bits, static_cast<const uint8_t *>(data) + 2 * index, 2);
  bool f16 = dtype == ATTNRT_F16;
  int mantissaBits = f16 ? 10 : 7, bias = f16 ? 15 : 127;
  int exponentMax = f16 ? 31 : 255;
  double sign = (bits & 0x8000) ? -1.0 : 1.0;
  int exponent = (bits & 0x7fff) >> mantissaBits;
  int mantissa = bits & ((1 << mantissaBits) - 1);
  if (exponent == exponentMax)
    return mantissa ? std::numeric_limits<double>::quiet_NaN()
                    : sign * std::numeric_limits<double>::infinity();
  if (exponent == 0) // subnormal
    return sign * std::ldexp(mantissa, 1 - bias - mantissaBits);
  return sign * std::ldexp(mantissa + (1 << mantissaBits),
                           exponent - bias - mantissaBits);
}

/// `count` random finite, non-zero elements of `dtype`, magnitudes about
/// 2^-6 to 2^3. With `subnormals`, about one f16 element in eight is a
/// subnormal.
inline Bytes randomElements(attnrt_dtype dtype, size_t count, std::mt19937 &rng,
                            bool subnormals = false) {
  Bytes out(count * elementSize(dtype));
  std::uniform_int_distribution<uint32_t> bits;
  for (size_t i = 0; i < count; ++i) {
    uint32_t r = bits(rng);
    if (dtype == ATTNRT_F32) {
      float f =
          std::ldexp(1.0f + float(r % 4096) / 4096.0f, int((r >> 12) % 9) - 6);
      if (r >> 31)
        f = -f;
      std::memcpy(&out[4 * i], &f, 4);
      continue;
    }
    bool f16 = dtype == ATTNRT_F16;
    int mantissaBits = f16 ? 10 : 7, bias = f16 ? 15 : 127;
    uint32_t exponent = uint32_t(bias - 6) + (r >> 16) % 9;
    uint32_t mantissa = r & ((1u << mantissaBits) - 1);
    if (subnormals && f16 && (r >> 25) % 8 == 0) {
      exponent = 0;
      mantissa |= 1; // non-zero
    }
    uint16_t h =
        uint16_t(((r >> 31) << 15) | (exponent << mantissaBits) | mantissa);
    std::memcpy(&out[2 * i], &h, 2);
  }
  return out;
}

/// The tokens of one sequence as the tests model it: token t's key is
/// key[t] ([heads, head_dim] elements), its value value[t].
struct TokenModel {
  std::vector<Bytes> key, value;
  size_t size() const { return key.size(); }
  void append(const TokenModel &from, size_t first, size_t count) {
    key.insert(key.end(), from.key.begin() + first,
               from.key.begin() + first + count);
    value.insert(value.end(), from.value.begin() + first,
                 from.value.begin() + first + count);
  }
  void truncate(size_t length) {
    key.resize(length);
    value.resize(length);
  }
};

/// `count` random tokens: keys of `keyElements` elements of `keyDtype`,
/// values of `valueElements` of `valueDtype`.
inline TokenModel randomTokens(size_t count, attnrt_dtype keyDtype,
                               size_t keyElements, attnrt_dtype valueDtype,
                               size_t valueElements, std::mt19937 &rng,
                               bool subnormals = false) {
  TokenModel tokens;
  for (size_t t = 0; t < count; ++t) {
    tokens.key.push_back(
        randomElements(keyDtype, keyElements, rng, subnormals));
    tokens.value.push_back(
        randomElements(valueDtype, valueElements, rng, subnormals));
  }
  return tokens;
}

/// Tokens [first, first + count) of `tokens` (each [heads, rowBytes]) in the
/// ABI's [heads, tokens, row] layout.
inline Bytes packTokens(const std::vector<Bytes> &tokens, size_t first,
                        size_t count, size_t heads) {
  if (count == 0)
    return {};
  size_t rowBytes = tokens[first].size() / heads;
  Bytes out(heads * count * rowBytes);
  for (size_t h = 0; h < heads; ++h)
    for (size_t t = 0; t < count; ++t)
      std::memcpy(&out[(h * count + t) * rowBytes],
                  &tokens[first + t][h * rowBytes], rowBytes);
  return out;
}

/// Calls `append(count, key, value)` with tokens [first, first + count) of
/// `tokens` in the ABI layout and, when it succeeds, adds them to `model`.
template <typename Append>
attnrt_status appendPacked(TokenModel &model, const TokenModel &tokens,
                           size_t first, size_t count, size_t heads,
                           Append &&append) {
  Bytes k = packTokens(tokens.key, first, count, heads);
  Bytes v = packTokens(tokens.value, first, count, heads);
  attnrt_status status = append(int32_t(count), k.data(), v.data());
  if (status == ATTNRT_OK)
    model.append(tokens, first, count);
  return status;
}

} // namespace cachetest

#endif // ATTN_TEST_RUNTIME_CACHETESTSUPPORT_H
