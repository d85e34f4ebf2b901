//===- CudaRuntimeTest.cpp - libattnrt on a CUDA device -------------------===//
//
// Needs a CUDA driver and a device; without them every test skips and says
// why (the kernel tests also skip below sm_90, the target of their PTX).
// Covers device memory and copies, the stream compiled code launches on, a
// hand-written saxpy PTX kernel loaded and launched through the mgpu* ABI and
// through a fake kernel library via attnrt_call, failures left pending,
// timing events and TMA descriptors.
//
//===----------------------------------------------------------------------===//

#include "attnrt_cuda.h"
#include "saxpy_ptx.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <random>
#include <string>
#include <thread>
#include <vector>

namespace {

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

/// Takes the pending error and returns its message ("" if none).
std::string pendingError() {
  attnrt_cuda_take_error();
  return attnrt_last_error();
}

std::vector<float> randomFloats(size_t n, unsigned seed) {
  std::mt19937 generator(seed);
  std::uniform_real_distribution<float> distribution(-1.0f, 1.0f);
  std::vector<float> values(n);
  for (float &v : values)
    v = distribution(generator);
  return values;
}

/// Device memory from attnrt_cuda_malloc, freed at scope exit.
struct DeviceBuffer {
  explicit DeviceBuffer(size_t bytes) {
    EXPECT_EQ(attnrt_cuda_malloc(bytes, &pointer), ATTNRT_OK)
        << attnrt_last_error();
  }
  ~DeviceBuffer() {
    EXPECT_EQ(attnrt_cuda_free(pointer), ATTNRT_OK) << attnrt_last_error();
  }
  DeviceBuffer(const DeviceBuffer &) = delete;
  DeviceBuffer &operator=(const DeviceBuffer &) = delete;

  void *pointer = nullptr;
};

/// Launches saxpy over n elements, 256 threads a block.
void launchSaxpy(void *function, void *x, void *y, float a, uint32_t n,
                 void *stream, int32_t smem = 0) {
  void *params[] = {&x, &y, &a, &n};
  intptr_t blocks = (intptr_t(n) + 255) / 256;
  mgpuLaunchKernel(function, blocks, 1, 1, 256, 1, 1, smem, stream, params,
                   nullptr, 4);
}

/// Expects y == fma(a, x, y0) bit for bit: the kernel's fma.rn.f32 and
/// std::fma both round the exact a * x + y0 once.
void expectSaxpy(const std::vector<float> &x, const std::vector<float> &y0,
                 float a, const std::vector<float> &y) {
  size_t mismatches = 0, first = 0;
  for (size_t i = 0; i < x.size(); ++i)
    if (y[i] != std::fma(a, x[i], y0[i]) && mismatches++ == 0)
      first = i;
  EXPECT_EQ(mismatches, 0u) << "first at " << first << ": got " << y[first]
                            << ", want " << std::fma(a, x[first], y0[first]);
}

class CudaTest : public ::testing::Test {
protected:
  void SetUp() override {
    if (attnrt_cuda_init() != ATTNRT_OK)
      GTEST_SKIP() << "no CUDA driver: " << attnrt_last_error();
    ASSERT_EQ(attnrt_cuda_device_info(name, sizeof(name), &ccMajor, &ccMinor,
                                      &smCount),
              ATTNRT_OK)
        << attnrt_last_error();
    ASSERT_EQ(attnrt_cuda_take_error(), ATTNRT_OK)
        << "stale pending error: " << attnrt_last_error();
  }
  // Tests take the errors they cause; anything else pending is a failure.
  void TearDown() override {
    EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_OK) << attnrt_last_error();
  }

  char name[256] = "";
  int ccMajor = 0, ccMinor = 0, smCount = 0;
};

/// With the saxpy PTX loaded through mgpuModuleLoadJIT.
class SaxpyTest : public CudaTest {
protected:
  void SetUp() override {
    CudaTest::SetUp();
    if (IsSkipped() || HasFatalFailure())
      return;
    if (ccMajor < 9)
      GTEST_SKIP() << "the test kernel is PTX for sm_90; " << name << " is sm_"
                   << ccMajor << ccMinor;
    module = mgpuModuleLoadJIT(kSaxpyPtx, 3);
    ASSERT_NE(module, nullptr) << pendingError();
    function = mgpuModuleGetFunction(module, "saxpy");
    ASSERT_NE(function, nullptr) << pendingError();
  }
  void TearDown() override {
    mgpuModuleUnload(module);
    CudaTest::TearDown();
  }

  void *module = nullptr;
  void *function = nullptr;
};

TEST_F(CudaTest, DeviceInfoDescribesTheDevice) {
  std::printf("device: %s, sm_%d%d, %d SMs\n", name, ccMajor, ccMinor, smCount);
  EXPECT_GT(std::strlen(name), 0u);
  EXPECT_GE(ccMajor, 3);
  EXPECT_GT(smCount, 0);

  // A short buffer gets a prefix, still terminated.
  char prefix[4];
  int major = 0, minor = 0, sms = 0;
  ASSERT_EQ(
      attnrt_cuda_device_info(prefix, sizeof(prefix), &major, &minor, &sms),
      ATTNRT_OK);
  EXPECT_EQ(std::string(prefix), std::string(name).substr(0, 3));
  EXPECT_EQ(major, ccMajor);
  EXPECT_EQ(sms, smCount);
}

TEST_F(CudaTest, CopiesRoundTripRandomBytes) {
  const size_t bytes = (size_t(1) << 20) + 3;
  std::vector<uint8_t> in(bytes), out(bytes, 0);
  std::mt19937 generator(42);
  for (uint8_t &b : in)
    b = uint8_t(generator());
  DeviceBuffer buffer(bytes);
  ASSERT_NE(buffer.pointer, nullptr);
  ASSERT_EQ(attnrt_cuda_memcpy_htod(buffer.pointer, in.data(), bytes),
            ATTNRT_OK)
      << attnrt_last_error();
  ASSERT_EQ(attnrt_cuda_memcpy_dtoh(out.data(), buffer.pointer, bytes),
            ATTNRT_OK)
      << attnrt_last_error();
  EXPECT_TRUE(in == out);

  // Fill bytes [1000, 6000) and nothing else.
  char *base = static_cast<char *>(buffer.pointer);
  ASSERT_EQ(attnrt_cuda_memset_u8(base + 1000, 0xA5, 5000), ATTNRT_OK)
      << attnrt_last_error();
  ASSERT_EQ(attnrt_cuda_memcpy_dtoh(out.data(), buffer.pointer, bytes),
            ATTNRT_OK);
  size_t wrong = 0;
  for (size_t i = 0; i < bytes; ++i)
    wrong += out[i] != (i >= 1000 && i < 6000 ? 0xA5 : in[i]);
  EXPECT_EQ(wrong, 0u);
  EXPECT_EQ(attnrt_cuda_synchronize(), ATTNRT_OK) << attnrt_last_error();

  // Device memory (also inside an allocation) is device; host memory,
  // stack or heap, is not.
  int isDevice = -1;
  ASSERT_EQ(attnrt_cuda_pointer_is_device(base + 17, &isDevice), ATTNRT_OK)
      << attnrt_last_error();
  EXPECT_EQ(isDevice, 1);
  ASSERT_EQ(attnrt_cuda_pointer_is_device(in.data(), &isDevice), ATTNRT_OK);
  EXPECT_EQ(isDevice, 0);
  ASSERT_EQ(attnrt_cuda_pointer_is_device(&isDevice, &isDevice), ATTNRT_OK);
  EXPECT_EQ(isDevice, 0);
}

TEST_F(CudaTest, MallocOfNothingAndOfTooMuch) {
  void *p = nullptr;
  ASSERT_EQ(attnrt_cuda_malloc(0, &p), ATTNRT_OK) << attnrt_last_error();
  EXPECT_NE(p, nullptr);
  EXPECT_EQ(attnrt_cuda_free(p), ATTNRT_OK);

  void *huge = reinterpret_cast<void *>(0x1234);
  EXPECT_EQ(attnrt_cuda_malloc(size_t(1) << 60, &huge), ATTNRT_OUT_OF_MEMORY);
  EXPECT_TRUE(
      contains(attnrt_last_error(),
               "attnrt_cuda_malloc: cannot allocate 1152921504606846976"))
      << attnrt_last_error();
  EXPECT_EQ(huge, reinterpret_cast<void *>(0x1234));
}

TEST_F(CudaTest, CompiledCodeUsesTheThreadsStream) {
  void *defaultStream = nullptr;
  ASSERT_EQ(attnrt_cuda_get_stream(&defaultStream), ATTNRT_OK);
  ASSERT_NE(defaultStream, nullptr);
  EXPECT_EQ(mgpuStreamCreate(), defaultStream);

  void *legacy = reinterpret_cast<void *>(0x1); // CU_STREAM_LEGACY
  ASSERT_EQ(attnrt_cuda_set_stream(legacy), ATTNRT_OK);
  void *stream = nullptr;
  ASSERT_EQ(attnrt_cuda_get_stream(&stream), ATTNRT_OK);
  EXPECT_EQ(stream, legacy);
  EXPECT_EQ(mgpuStreamCreate(), legacy);
  std::thread([&] {
    void *other = nullptr;
    EXPECT_EQ(attnrt_cuda_get_stream(&other), ATTNRT_OK);
    EXPECT_EQ(other, defaultStream);
  }).join();

  // Copies go through the chosen stream.
  DeviceBuffer buffer(16);
  uint32_t in[4] = {1, 2, 3, 4}, out[4] = {};
  ASSERT_EQ(attnrt_cuda_memcpy_htod(buffer.pointer, in, sizeof(in)), ATTNRT_OK)
      << attnrt_last_error();
  ASSERT_EQ(attnrt_cuda_memcpy_dtoh(out, buffer.pointer, sizeof(out)),
            ATTNRT_OK)
      << attnrt_last_error();
  EXPECT_EQ(std::memcmp(in, out, sizeof(in)), 0);

  ASSERT_EQ(attnrt_cuda_set_stream(nullptr), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_get_stream(&stream), ATTNRT_OK);
  EXPECT_EQ(stream, defaultStream);

  // Compiled code "destroying" its stream leaves the caller's stream alone.
  mgpuStreamDestroy(mgpuStreamCreate());
  ASSERT_EQ(attnrt_cuda_memcpy_dtoh(out, buffer.pointer, sizeof(out)),
            ATTNRT_OK)
      << attnrt_last_error();
}

TEST_F(CudaTest, MemsetsAndManagedMemory) {
  void *stream = mgpuStreamCreate();
  auto *words = static_cast<uint32_t *>(mgpuMemAlloc(1024 * 4, stream, true));
  ASSERT_NE(words, nullptr) << pendingError();
  mgpuMemset32(words, 0xDEADBEEFu, 1024, stream);
  mgpuMemset16(words, 0x1234, 10, stream); // counts are in elements
  mgpuStreamSynchronize(stream);
  ASSERT_EQ(attnrt_cuda_take_error(), ATTNRT_OK) << attnrt_last_error();

  // Managed memory: the host reads it directly.
  const auto *halves = reinterpret_cast<const uint16_t *>(words);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(halves[i], 0x1234) << i;
  EXPECT_EQ(halves[10], 0xBEEF); // little-endian halves of 0xDEADBEEF
  EXPECT_EQ(halves[11], 0xDEAD);
  EXPECT_EQ(words[5], 0xDEADBEEFu);
  EXPECT_EQ(words[1023], 0xDEADBEEFu);
  mgpuMemFree(words, stream);

  EXPECT_EQ(mgpuMemAlloc(0, stream, false), nullptr); // not an error
}

TEST_F(CudaTest, SetDefaultDeviceAfterInitKeepsTheDevice) {
  mgpuSetDefaultDevice(0);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_OK) << attnrt_last_error();
  mgpuSetDefaultDevice(1);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(), "already uses device 0"))
      << attnrt_last_error();
}

TEST_F(SaxpyTest, MatchesTheHostOnAnOddSize) {
  const uint32_t n = 1000003; // 3907 blocks, the last one mostly idle
  const size_t guard = 256;   // floats past y[n] the kernel must not touch
  const float a = 1.75f;
  std::vector<float> x = randomFloats(n, 1), y0 = randomFloats(n, 2);
  std::vector<float> yPadded(y0);
  yPadded.resize(n + guard, 12345.0f);

  // Allocation and copies through mgpu*, as compiled host code does them.
  void *stream = mgpuStreamCreate();
  ASSERT_NE(stream, nullptr) << pendingError();
  void *dx = mgpuMemAlloc(n * sizeof(float), stream, false);
  void *dy = mgpuMemAlloc((n + guard) * sizeof(float), stream, false);
  ASSERT_NE(dx, nullptr) << pendingError();
  ASSERT_NE(dy, nullptr) << pendingError();
  mgpuMemcpy(dx, x.data(), n * sizeof(float), stream);
  mgpuMemcpy(dy, yPadded.data(), yPadded.size() * sizeof(float), stream);
  launchSaxpy(function, dx, dy, a, n, stream);
  std::vector<float> y(n + guard, 0.0f);
  mgpuMemcpy(y.data(), dy, y.size() * sizeof(float), stream);
  mgpuStreamSynchronize(stream);
  ASSERT_EQ(attnrt_cuda_take_error(), ATTNRT_OK) << attnrt_last_error();

  expectSaxpy(x, y0, a, y);
  for (size_t i = n; i < n + guard; ++i)
    EXPECT_EQ(y[i], 12345.0f) << "past the end at " << i;
  mgpuMemFree(dx, stream);
  mgpuMemFree(dy, stream);
  mgpuStreamDestroy(stream);
}

TEST_F(SaxpyTest, LargeDynamicSharedMemoryIsOptedInto) {
  const uint32_t n = 4099;
  const float a = -2.5f;
  std::vector<float> x = randomFloats(n, 3), y0 = randomFloats(n, 4);
  DeviceBuffer dx(n * sizeof(float)), dy(n * sizeof(float));
  ASSERT_EQ(attnrt_cuda_memcpy_htod(dx.pointer, x.data(), n * sizeof(float)),
            ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_memcpy_htod(dy.pointer, y0.data(), n * sizeof(float)),
            ATTNRT_OK);
  // Beyond 48 KiB a launch fails unless the kernel opted in first.
  launchSaxpy(function, dx.pointer, dy.pointer, a, n, mgpuStreamCreate(),
              64 * 1024);
  ASSERT_EQ(attnrt_cuda_take_error(), ATTNRT_OK) << attnrt_last_error();
  std::vector<float> y(n);
  ASSERT_EQ(attnrt_cuda_memcpy_dtoh(y.data(), dy.pointer, n * sizeof(float)),
            ATTNRT_OK)
      << attnrt_last_error();
  expectSaxpy(x, y0, a, y);

  // No device has a GiB of shared memory per block.
  launchSaxpy(function, dx.pointer, dy.pointer, a, n, mgpuStreamCreate(),
              1 << 30);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(),
                       "1073741824 bytes of dynamic shared memory requested"))
      << attnrt_last_error();
}

TEST_F(SaxpyTest, LaunchFailuresArePending) {
  void *stream = mgpuStreamCreate();
  DeviceBuffer buffer(1024);
  float a = 1.0f;
  uint32_t n = 256;
  void *p = buffer.pointer;
  void *params[] = {&p, &p, &a, &n};

  mgpuLaunchKernel(nullptr, 1, 1, 1, 256, 1, 1, 0, stream, params, nullptr, 4);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(), "mgpuLaunchKernel: NULL function"))
      << attnrt_last_error();

  // 2048 threads exceed every device's block limit (1024).
  mgpuLaunchKernel(function, 1, 1, 1, 2048, 1, 1, 0, stream, params, nullptr,
                   4);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(),
                       "mgpuLaunchKernel: cuLaunchKernel failed: CUDA_ERROR_"))
      << attnrt_last_error();

  mgpuLaunchKernel(function, 0, 1, 1, 256, 1, 1, 0, stream, params, nullptr, 4);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(), "grid (0, 1, 1)"))
      << attnrt_last_error();

  // The first of several failures is the one reported, once.
  mgpuLaunchKernel(nullptr, 1, 1, 1, 256, 1, 1, 0, stream, params, nullptr, 4);
  mgpuLaunchKernel(function, 0, 1, 1, 256, 1, 1, 0, stream, params, nullptr, 4);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(), "NULL function"));
  EXPECT_FALSE(contains(attnrt_last_error(), "grid"));
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_OK);
  EXPECT_STREQ(attnrt_last_error(), "");

  // None of that broke the stream.
  launchSaxpy(function, p, p, a, n, stream);
  mgpuStreamSynchronize(stream);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_OK) << attnrt_last_error();
}

TEST_F(SaxpyTest, ModuleFailuresArePending) {
  char notPtx[] = "this is not PTX";
  EXPECT_EQ(mgpuModuleLoadJIT(notPtx, 3), nullptr);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(),
                       "mgpuModuleLoadJIT: cuModuleLoadDataEx failed: "
                       "CUDA_ERROR_"))
      << attnrt_last_error();

  EXPECT_EQ(mgpuModuleGetFunction(module, "no_such_kernel"), nullptr);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(),
                       "cuModuleGetFunction(\"no_such_kernel\") failed"))
      << attnrt_last_error();

  EXPECT_EQ(mgpuModuleGetFunction(nullptr, "saxpy"), nullptr);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(), "NULL module"))
      << attnrt_last_error();
}

TEST_F(SaxpyTest, EventsOrderAndTimeLaunches) {
  void *stream = mgpuStreamCreate();
  void *marker = mgpuEventCreate();
  ASSERT_NE(marker, nullptr) << pendingError();
  mgpuEventRecord(marker, stream);
  mgpuStreamWaitEvent(stream, marker);
  mgpuEventSynchronize(marker);
  mgpuEventDestroy(marker);
  ASSERT_EQ(attnrt_cuda_take_error(), ATTNRT_OK) << attnrt_last_error();

  const uint32_t n = 1 << 20;
  DeviceBuffer dx(n * sizeof(float)), dy(n * sizeof(float));
  ASSERT_EQ(attnrt_cuda_memset_u8(dx.pointer, 0, n * sizeof(float)), ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_memset_u8(dy.pointer, 0, n * sizeof(float)), ATTNRT_OK);
  void *start = nullptr, *end = nullptr;
  ASSERT_EQ(attnrt_cuda_event_create(&start), ATTNRT_OK) << attnrt_last_error();
  ASSERT_EQ(attnrt_cuda_event_create(&end), ATTNRT_OK) << attnrt_last_error();
  ASSERT_EQ(attnrt_cuda_event_record(start), ATTNRT_OK) << attnrt_last_error();
  for (int i = 0; i < 20; ++i)
    launchSaxpy(function, dx.pointer, dy.pointer, 0.5f, n, stream);
  ASSERT_EQ(attnrt_cuda_event_record(end), ATTNRT_OK) << attnrt_last_error();
  float ms = 0.0f;
  ASSERT_EQ(attnrt_cuda_event_elapsed_ms(start, end, &ms), ATTNRT_OK)
      << attnrt_last_error();
  std::printf("20 saxpy launches over 2^20 floats: %.3f ms\n", ms);
  EXPECT_GT(ms, 0.0f);
  EXPECT_EQ(attnrt_cuda_event_destroy(start), ATTNRT_OK);
  EXPECT_EQ(attnrt_cuda_event_destroy(end), ATTNRT_OK);
}

TEST_F(SaxpyTest, AnEntryLaunchesThroughAttnrtCall) {
  attnrt_module *library = nullptr;
  // The build-tree path, or where a GPU machine's copy put it.
  const char *fake = std::getenv("ATTN_FAKE_GPU_KERNEL");
  ASSERT_EQ(attnrt_module_load(fake ? fake : ATTN_FAKE_GPU_KERNEL, &library), ATTNRT_OK)
      << attnrt_last_error();

  const uint32_t n = 4099;
  float a = -0.5f;
  uint32_t count = n;
  std::vector<float> x = randomFloats(n, 5), y0 = randomFloats(n, 6);
  DeviceBuffer dx(n * sizeof(float)), dy(n * sizeof(float));
  ASSERT_EQ(attnrt_cuda_memcpy_htod(dx.pointer, x.data(), n * sizeof(float)),
            ATTNRT_OK);
  ASSERT_EQ(attnrt_cuda_memcpy_htod(dy.pointer, y0.data(), n * sizeof(float)),
            ATTNRT_OK);
  void *args[] = {dx.pointer, dy.pointer, &a, &count};
  ASSERT_EQ(attnrt_call(library, "saxpy", args, 4), ATTNRT_OK)
      << attnrt_last_error();
  std::vector<float> y(n);
  ASSERT_EQ(attnrt_cuda_memcpy_dtoh(y.data(), dy.pointer, n * sizeof(float)),
            ATTNRT_OK);
  expectSaxpy(x, y0, a, y);

  // A failing entry reports the driver's error; the next call starts clean.
  void *out = reinterpret_cast<void *>(0x1234);
  void *outArgs[] = {&out};
  EXPECT_EQ(attnrt_call(library, "huge_alloc", outArgs, 1),
            ATTNRT_DEVICE_ERROR);
  EXPECT_EQ(std::string(attnrt_last_error())
                .rfind("entry 'huge_alloc': mgpuMemAlloc: cannot allocate "
                       "1152921504606846976 bytes: cuMemAlloc", // or ...Async
                       0),
            0u)
      << attnrt_last_error();
  EXPECT_EQ(out, nullptr);
  EXPECT_EQ(attnrt_call(library, "alloc", outArgs, 1), ATTNRT_OK)
      << attnrt_last_error();
  EXPECT_NE(out, nullptr);
  attnrt_module_unload(library);
}

TEST_F(CudaTest, TensorMapsAreCachedDeviceCopies) {
  if (ccMajor < 9)
    GTEST_SKIP() << "TMA needs sm_90; " << name << " is sm_" << ccMajor
                 << ccMinor;
  // A ranked memref descriptor: allocated, aligned, offset, sizes, strides.
  struct MemRef2D {
    void *allocated, *aligned;
    int64_t offset, sizes[2], strides[2];
  };
  DeviceBuffer tile(128 * 64 * 2);
  MemRef2D halves{tile.pointer, tile.pointer, 0, {128, 64}, {64, 1}};
  int64_t box[2] = {64, 64};
  // f16 (6), no interleave (0), 128-byte swizzle (3), no L2 promotion (0),
  // zero fill (0): rows of 64 halves are exactly 128 bytes.
  void *first = mgpuTensorMapEncodeTiledMemref(2, &halves, 6, 0, 3, 0, 0, box);
  ASSERT_NE(first, nullptr) << pendingError();
  EXPECT_EQ(reinterpret_cast<uintptr_t>(first) % 64, 0u);
  EXPECT_EQ(mgpuTensorMapEncodeTiledMemref(2, &halves, 6, 0, 3, 0, 0, box),
            first);
  int64_t smallerBox[2] = {32, 64};
  void *second =
      mgpuTensorMapEncodeTiledMemref(2, &halves, 6, 0, 3, 0, 0, smallerBox);
  ASSERT_NE(second, nullptr) << pendingError();
  EXPECT_NE(second, first);

  // The pointer is device memory holding the encoded descriptor.
  unsigned char bytes[128] = {};
  ASSERT_EQ(attnrt_cuda_memcpy_dtoh(bytes, first, sizeof(bytes)), ATTNRT_OK)
      << attnrt_last_error();
  bool anySet = false;
  for (unsigned char b : bytes)
    anySet |= b != 0;
  EXPECT_TRUE(anySet);

  // Rows of 7 halves are 14 bytes apart; TMA wants multiples of 16.
  MemRef2D narrow{tile.pointer, tile.pointer, 0, {128, 7}, {7, 1}};
  int64_t narrowBox[2] = {64, 8};
  EXPECT_EQ(
      mgpuTensorMapEncodeTiledMemref(2, &narrow, 6, 0, 0, 0, 0, narrowBox),
      nullptr);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(), "cuTensorMapEncodeTiled failed"))
      << attnrt_last_error();
  EXPECT_TRUE(contains(attnrt_last_error(), "sizes [128, 7], box [64, 8]"))
      << attnrt_last_error();

  MemRef2D everyOther{tile.pointer, tile.pointer, 0, {128, 32}, {64, 2}};
  int64_t everyOtherBox[2] = {64, 32};
  EXPECT_EQ(mgpuTensorMapEncodeTiledMemref(2, &everyOther, 6, 0, 0, 0, 0,
                                           everyOtherBox),
            nullptr);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_DEVICE_ERROR);
  EXPECT_TRUE(contains(attnrt_last_error(), "innermost stride 2"))
      << attnrt_last_error();
}

} // namespace
