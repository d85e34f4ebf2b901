//===- HostTensor.cpp - host tensors and .npy files -----------------------===//
//
// This file implements dtype conversion of host tensors and the subset of
// the NumPy .npy format (version 1.0/2.0, C order) the tools need.
//
//===----------------------------------------------------------------------===//

#include "attn/Support/HostTensor.h"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

using namespace attn;

int64_t HostTensor::numel() const {
  int64_t n = 1;
  for (int64_t s : shape)
    n *= s;
  return n;
}

uint16_t attn::floatToBFloat16(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  if (std::isnan(value))
    return 0x7fc0;
  uint32_t rounding = 0x7fff + ((bits >> 16) & 1);
  return static_cast<uint16_t>((bits + rounding) >> 16);
}

float attn::bfloat16ToFloat(uint16_t bits) {
  uint32_t wide = static_cast<uint32_t>(bits) << 16;
  float value;
  std::memcpy(&value, &wide, 4);
  return value;
}

uint16_t attn::floatToHalf(float value) {
  uint32_t bits;
  std::memcpy(&bits, &value, 4);
  uint32_t sign = (bits >> 16) & 0x8000;
  uint32_t exp = (bits >> 23) & 0xff;
  uint32_t mant = bits & 0x7fffff;
  if (exp == 0xff)
    return static_cast<uint16_t>(sign | 0x7c00 | (mant ? 0x200 : 0));
  int32_t e = static_cast<int32_t>(exp) - 127 + 15;
  if (e >= 31)
    return static_cast<uint16_t>(sign | 0x7c00);
  if (e <= 0) {
    if (e < -10)
      return static_cast<uint16_t>(sign);
    mant |= 0x800000;
    uint32_t shift = static_cast<uint32_t>(14 - e);
    uint32_t half = mant >> shift;
    uint32_t rem = mant & ((1u << shift) - 1);
    uint32_t mid = 1u << (shift - 1);
    if (rem > mid || (rem == mid && (half & 1)))
      ++half;
    return static_cast<uint16_t>(sign | half);
  }
  uint32_t half = sign | (static_cast<uint32_t>(e) << 10) | (mant >> 13);
  uint32_t rem = mant & 0x1fff;
  if (rem > 0x1000 || (rem == 0x1000 && (half & 1)))
    ++half; // may carry into the exponent, which is the correct rounding
  return static_cast<uint16_t>(half);
}

float attn::halfToFloat(uint16_t h) {
  uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f;
  uint32_t mant = h & 0x3ff;
  uint32_t bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {
      exp = 127 - 15 + 1;
      while (!(mant & 0x400)) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ff) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000 | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float value;
  std::memcpy(&value, &bits, 4);
  return value;
}

size_t attn::dtypeSize(const std::string &dtype) {
  if (dtype == "f32" || dtype == "i32")
    return 4;
  if (dtype == "f16" || dtype == "bf16")
    return 2;
  return 1;
}

std::vector<uint8_t> HostTensor::encode() const {
  size_t width = dtypeSize(dtype);
  std::vector<uint8_t> bytes(values.size() * width);
  for (size_t i = 0; i < values.size(); ++i) {
    uint8_t *dst = bytes.data() + i * width;
    double v = values[i];
    if (dtype == "f32") {
      float f = static_cast<float>(v);
      std::memcpy(dst, &f, 4);
    } else if (dtype == "f16" || dtype == "bf16") {
      float f = static_cast<float>(v);
      uint16_t h = dtype == "f16" ? floatToHalf(f) : floatToBFloat16(f);
      std::memcpy(dst, &h, 2);
    } else if (dtype == "i32") {
      int32_t x = static_cast<int32_t>(v);
      std::memcpy(dst, &x, 4);
    } else if (dtype == "i8") {
      int8_t x = static_cast<int8_t>(static_cast<int32_t>(v));
      std::memcpy(dst, &x, 1);
    } else {
      dst[0] = v != 0.0 ? 1 : 0;
    }
  }
  return bytes;
}

HostTensor HostTensor::decode(const std::string &dtype,
                              const std::vector<int64_t> &shape,
                              const uint8_t *bytes) {
  HostTensor t;
  t.dtype = dtype;
  t.shape = shape;
  size_t n = static_cast<size_t>(t.numel()), width = dtypeSize(dtype);
  t.values.resize(n);
  for (size_t i = 0; i < n; ++i) {
    const uint8_t *src = bytes + i * width;
    if (dtype == "f32") {
      float f;
      std::memcpy(&f, src, 4);
      t.values[i] = f;
    } else if (dtype == "f16" || dtype == "bf16") {
      uint16_t h;
      std::memcpy(&h, src, 2);
      t.values[i] = dtype == "f16" ? halfToFloat(h) : bfloat16ToFloat(h);
    } else if (dtype == "i32") {
      int32_t x;
      std::memcpy(&x, src, 4);
      t.values[i] = x;
    } else if (dtype == "i8") {
      t.values[i] = static_cast<int8_t>(src[0]);
    } else {
      t.values[i] = src[0] ? 1.0 : 0.0;
    }
  }
  return t;
}

void HostTensor::roundToDtype() {
  *this = decode(dtype, shape, encode().data());
}

//===----------------------------------------------------------------------===//
// .npy
//===----------------------------------------------------------------------===//

/// Extracts the quoted value of 'key' from the header dict.
static bool headerField(const std::string &header, const std::string &key,
                        std::string &value) {
  size_t k = header.find("'" + key + "'");
  if (k == std::string::npos)
    return false;
  size_t colon = header.find(':', k);
  if (colon == std::string::npos)
    return false;
  size_t start = header.find_first_not_of(" ", colon + 1);
  if (start == std::string::npos)
    return false;
  if (header[start] == '(') {
    size_t end = header.find(')', start);
    value = header.substr(start + 1, end - start - 1);
  } else if (header[start] == '\'') {
    size_t end = header.find('\'', start + 1);
    value = header.substr(start + 1, end - start - 1);
  } else {
    size_t end = header.find_first_of(",}", start);
    value = header.substr(start, end - start);
  }
  return true;
}

bool attn::readNpy(const std::string &path, const std::string &dtype,
                   HostTensor &tensor, std::string &error) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    error = path + ": cannot open";
    return false;
  }
  char magic[8];
  if (!in.read(magic, 8) || std::memcmp(magic, "\x93NUMPY", 6) != 0) {
    error = path + ": not a .npy file";
    return false;
  }
  if (magic[6] < 1 || magic[6] > 3) {
    error = path + ": unsupported .npy version " + std::to_string(int(magic[6]));
    return false;
  }
  uint32_t headerLen = 0;
  if (magic[6] == 1) {
    uint16_t len16;
    in.read(reinterpret_cast<char *>(&len16), 2);
    headerLen = len16;
  } else {
    in.read(reinterpret_cast<char *>(&headerLen), 4);
  }
  std::string header(headerLen, '\0');
  if (!in.read(header.data(), headerLen)) {
    error = path + ": truncated header";
    return false;
  }
  std::string descr, fortran, shapeText;
  if (!headerField(header, "descr", descr) ||
      !headerField(header, "fortran_order", fortran) ||
      !headerField(header, "shape", shapeText)) {
    error = path + ": malformed .npy header";
    return false;
  }
  if (fortran.find("True") != std::string::npos) {
    error = path + ": Fortran-order arrays are not supported; save with "
                   "np.ascontiguousarray";
    return false;
  }
  std::vector<int64_t> shape;
  std::stringstream ss(shapeText);
  std::string item;
  int64_t elements = 1;
  while (std::getline(ss, item, ',')) {
    size_t first = item.find_first_not_of(" ");
    if (first == std::string::npos)
      continue;
    size_t last = item.find_last_not_of(" L");
    std::string digits = item.substr(first, last - first + 1);
    char *end = nullptr;
    long long dim = std::strtoll(digits.c_str(), &end, 10);
    // Reject junk, negative sizes and products that overflow 2^62.
    if (digits.empty() || *end != '\0' || dim < 0 ||
        (dim > 0 && elements > (int64_t(1) << 62) / dim)) {
      error = path + ": malformed shape (" + shapeText + ")";
      return false;
    }
    shape.push_back(dim);
    elements *= dim;
  }

  // The file's own dtype and how it maps onto the argument's.
  std::string fileDtype;
  if (descr == "<f4")
    fileDtype = "f32";
  else if (descr == "<f2")
    fileDtype = "f16";
  else if (descr == "<i4")
    fileDtype = "i32";
  else if (descr == "|i1" || descr == "|u1")
    fileDtype = "i8";
  else if (descr == "|b1")
    fileDtype = "i1";
  else if (descr == "<u2")
    fileDtype = "bf16";
  else {
    error = path + ": unsupported dtype '" + descr + "'";
    return false;
  }
  bool roundFromF32 = fileDtype == "f32" && (dtype == "f16" || dtype == "bf16");
  bool boolAsBytes = fileDtype == "i8" && dtype == "i1";
  if (fileDtype != dtype && !roundFromF32 && !boolAsBytes) {
    error = path + ": dtype '" + descr + "' does not fit a " + dtype + " argument";
    return false;
  }
  // The data must be exactly as long as the shape says.
  std::streampos dataStart = in.tellg();
  in.seekg(0, std::ios::end);
  std::streamoff available = in.tellg() - dataStart;
  in.seekg(dataStart);
  std::streamoff expected =
      static_cast<std::streamoff>(elements) * std::streamoff(dtypeSize(fileDtype));
  if (available != expected) {
    error = path + ": the file holds " + std::to_string(available) +
            " data bytes, its shape needs " + std::to_string(expected);
    return false;
  }
  std::vector<uint8_t> bytes(static_cast<size_t>(expected));
  if (!in.read(reinterpret_cast<char *>(bytes.data()),
               static_cast<std::streamsize>(bytes.size()))) {
    error = path + ": cannot read the data";
    return false;
  }
  tensor = HostTensor::decode(fileDtype, shape, bytes.data());
  if (descr == "|u1")
    for (double &v : tensor.values)
      v = static_cast<double>(static_cast<uint8_t>(static_cast<int8_t>(v)));
  tensor.dtype = dtype;
  if (roundFromF32)
    tensor.roundToDtype();
  return true;
}

bool attn::writeNpy(const std::string &path, const HostTensor &tensor,
                    std::string &error) {
  HostTensor out = tensor;
  std::string descr;
  if (tensor.dtype == "f32" || tensor.dtype == "bf16") {
    descr = "<f4";
    out.dtype = "f32";
  } else if (tensor.dtype == "f16") {
    descr = "<f2";
  } else if (tensor.dtype == "i32") {
    descr = "<i4";
  } else if (tensor.dtype == "i8") {
    descr = "|i1";
  } else {
    descr = "|b1";
  }
  std::string shape = "(";
  for (int64_t s : tensor.shape)
    shape += std::to_string(s) + ",";
  if (tensor.shape.size() > 1)
    shape.pop_back();
  shape += ")";
  std::string header = "{'descr': '" + descr +
                       "', 'fortran_order': False, 'shape': " + shape + ", }";
  size_t total = 10 + header.size() + 1;
  header.append((64 - total % 64) % 64, ' ');
  header += '\n';
  std::ofstream os(path, std::ios::binary);
  if (!os) {
    error = path + ": cannot write";
    return false;
  }
  uint16_t len = static_cast<uint16_t>(header.size());
  os.write("\x93NUMPY\x01\x00", 8);
  os.write(reinterpret_cast<const char *>(&len), 2);
  os << header;
  std::vector<uint8_t> bytes = out.encode();
  os.write(reinterpret_cast<const char *>(bytes.data()),
           static_cast<std::streamsize>(bytes.size()));
  return static_cast<bool>(os);
}
