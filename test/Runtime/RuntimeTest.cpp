//===- RuntimeTest.cpp - unit tests of libattnrt --------------------------===//
//
// Loading, entry resolution, calls and their error paths. A failed call must
// return a status with a message and leave the output buffers untouched.
//
//===----------------------------------------------------------------------===//

#include "attnrt.h"

#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace {

class KernelTest : public ::testing::Test {
protected:
  void SetUp() override {
    ASSERT_EQ(attnrt_module_load(ATTN_TEST_KERNEL, &module), ATTNRT_OK)
        << attnrt_last_error();
    for (size_t i = 0; i < q.size(); ++i)
      q[i] = 0.25f * float(i % 7) - 0.6f;
    for (size_t i = 0; i < k.size(); ++i)
      k[i] = 0.5f - 0.1f * float(i % 5);
    for (size_t i = 0; i < v.size(); ++i)
      v[i] = 0.125f * float(i) - 0.9f;
    out.assign(32, -7.0f);
  }
  void TearDown() override { attnrt_module_unload(module); }

  std::vector<void *> args() {
    return {q.data(), k.data(), v.data(), out.data()};
  }

  attnrt_module *module = nullptr;
  std::vector<float> q = std::vector<float>(32), k = std::vector<float>(16),
                     v = std::vector<float>(16), out;
};

TEST(Runtime, LoadMissingFileFailsWithPath) {
  attnrt_module *module = nullptr;
  EXPECT_EQ(attnrt_module_load("/nonexistent/libnothing.so", &module),
            ATTNRT_LOAD_FAILED);
  EXPECT_EQ(module, nullptr);
  EXPECT_NE(std::string(attnrt_last_error()).find("/nonexistent/libnothing.so"),
            std::string::npos);
}

TEST(Runtime, LoadRejectsLibrariesWithoutManifest) {
  attnrt_module *module = nullptr;
  EXPECT_EQ(attnrt_module_load(ATTN_RUNTIME_LIBRARY, &module), ATTNRT_LOAD_FAILED);
  EXPECT_NE(std::string(attnrt_last_error()).find("not an attn kernel library"),
            std::string::npos);
}

TEST(Runtime, NullArgumentsAreRejected) {
  EXPECT_EQ(attnrt_module_load(nullptr, nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_host_alloc(16, nullptr), ATTNRT_INVALID_ARGUMENT);
  attnrt_module_unload(nullptr); // accepted
}

TEST(Runtime, HostAllocRejectsSizesThatWrap) {
  void *p = reinterpret_cast<void *>(0x1);
  EXPECT_EQ(attnrt_host_alloc(SIZE_MAX - 10, &p), ATTNRT_OUT_OF_MEMORY);
  EXPECT_EQ(p, reinterpret_cast<void *>(0x1)); // untouched on failure
}

TEST(Runtime, HostBuffersAreCacheLineAligned) {
  for (size_t bytes : {1u, 63u, 64u, 1000u}) {
    void *p = nullptr;
    ASSERT_EQ(attnrt_host_alloc(bytes, &p), ATTNRT_OK);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(p) % 64, 0u);
    attnrt_host_free(p);
  }
}

TEST_F(KernelTest, ManifestDescribesTheEntry) {
  std::string manifest = attnrt_module_manifest(module);
  EXPECT_NE(manifest.find("\"name\": \"one_key\""), std::string::npos);
  EXPECT_NE(manifest.find("\"role\": \"attention.value\""), std::string::npos);
  int32_t count = 0;
  ASSERT_EQ(attnrt_entry_arg_count(module, "one_key", &count), ATTNRT_OK);
  EXPECT_EQ(count, 4);
}

TEST_F(KernelTest, CallComputesTheSingleKeyIdentity) {
  std::vector<void *> a = args();
  ASSERT_EQ(attnrt_call(module, "one_key", a.data(), 4), ATTNRT_OK)
      << attnrt_last_error();
  for (int h = 0; h < 4; ++h)
    for (int d = 0; d < 8; ++d)
      EXPECT_EQ(out[h * 8 + d], v[(h / 2) * 8 + d]) << "head " << h << " dim " << d;
}

TEST_F(KernelTest, EntryNamedLikeALibcFunctionCallsTheKernel) {
  std::vector<void *> a = args();
  ASSERT_EQ(attnrt_call(module, "step", a.data(), 4), ATTNRT_OK)
      << attnrt_last_error();
  for (int h = 0; h < 4; ++h)
    for (int d = 0; d < 8; ++d)
      EXPECT_EQ(out[h * 8 + d], v[(h / 2) * 8 + d]) << "head " << h << " dim " << d;
}

TEST_F(KernelTest, WrongCountFailsWithoutTouchingOutputs) {
  std::vector<void *> a = args();
  EXPECT_EQ(attnrt_call(module, "one_key", a.data(), 3), ATTNRT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attnrt_last_error()).find("takes 4 pointers, got 3"),
            std::string::npos);
  for (float x : out)
    EXPECT_EQ(x, -7.0f);
}

TEST_F(KernelTest, NullPointerFailsWithoutTouchingOutputs) {
  std::vector<void *> a = args();
  a[1] = nullptr;
  EXPECT_EQ(attnrt_call(module, "one_key", a.data(), 4), ATTNRT_INVALID_ARGUMENT);
  EXPECT_NE(std::string(attnrt_last_error()).find("pointer 1 is NULL"),
            std::string::npos);
  for (float x : out)
    EXPECT_EQ(x, -7.0f);
}

TEST_F(KernelTest, UnknownEntryIsNotFound) {
  std::vector<void *> a = args();
  EXPECT_EQ(attnrt_call(module, "two_keys", a.data(), 4), ATTNRT_NOT_FOUND);
  EXPECT_NE(std::string(attnrt_last_error()).find("no entry point 'two_keys'"),
            std::string::npos);
}

TEST_F(KernelTest, SuccessClearsTheLastError) {
  std::vector<void *> a = args();
  EXPECT_NE(attnrt_call(module, "nope", a.data(), 4), ATTNRT_OK);
  ASSERT_EQ(attnrt_call(module, "one_key", a.data(), 4), ATTNRT_OK);
  EXPECT_STREQ(attnrt_last_error(), "");
}

} // namespace
