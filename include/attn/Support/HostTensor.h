//===- HostTensor.h - host tensors and .npy files ----------------*- C++ -*-===//
//
// The tools move tensors between .npy files, compiled kernels and the fp64
// reference. A HostTensor holds the values as doubles (integers exactly) with
// the kernel dtype beside them; encode()/decode() convert to and from the
// dense bytes a kernel reads and writes. No MLIR dependency.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_SUPPORT_HOSTTENSOR_H
#define ATTN_SUPPORT_HOSTTENSOR_H

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace attn {

struct HostTensor {
  std::string dtype; ///< f32, f16, bf16, i8, i32, i1
  std::vector<int64_t> shape;
  std::vector<double> values;

  int64_t numel() const;
  /// Dense little-endian bytes in `dtype` (floats rounded to nearest even).
  std::vector<uint8_t> encode() const;
  /// Reads dense bytes of `dtype` and `shape` back into values.
  static HostTensor decode(const std::string &dtype,
                           const std::vector<int64_t> &shape,
                           const uint8_t *bytes);
  /// Rounds each value to what `dtype` can hold (what the kernel will see).
  void roundToDtype();
};

/// Bytes per element of a dtype (i1 is stored as one byte).
size_t dtypeSize(const std::string &dtype);

/// Bit patterns of IEEE half and bfloat16 (round to nearest even).
uint16_t floatToHalf(float value);
float halfToFloat(uint16_t bits);
uint16_t floatToBFloat16(float value);
float bfloat16ToFloat(uint16_t bits);

/// Reads a .npy file into a tensor of `dtype`. Accepted: the exact dtype
/// ('<f4', '<f2', '|i1', '|u1' for i8 codes, '<i4', '|b1'), f32 files for f16
/// and bf16 arguments (rounded), and '<u2' raw bit patterns for bf16. On
/// failure returns false with a message naming the file.
bool readNpy(const std::string &path, const std::string &dtype,
             HostTensor &tensor, std::string &error);
/// Writes `tensor` as .npy; bf16 is written as f32 (NumPy has no bfloat16).
bool writeNpy(const std::string &path, const HostTensor &tensor,
              std::string &error);

} // namespace attn

#endif // ATTN_SUPPORT_HOSTTENSOR_H
