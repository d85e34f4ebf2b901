//===- CudaUnavailableTest.cpp - libattnrt without a CUDA driver ----------===//
//
// Runs everywhere: this binary points ATTNRT_CUDA_DRIVER at a library that
// does not exist before anything can load the driver (the runtime loads it
// once per process, hence a binary of its own). Every CUDA call must then
// fail cleanly: attnrt_cuda_* with ATTNRT_UNAVAILABLE and a message naming
// the driver, mgpu* with a pending error that attnrt_cuda_take_error,
// attnrt_call and attnrt_module_load report. NULL arguments are
// ATTNRT_INVALID_ARGUMENT whether or not a driver exists.
//
//===----------------------------------------------------------------------===//

#include "attnrt_cache.h"
#include "attnrt_cuda.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <string>

namespace {

constexpr const char *kMissingDriver = "/nonexistent/attn/libcuda.so.1";

// Before main, so before anything could load the driver.
const bool driverHidden =
    setenv("ATTNRT_CUDA_DRIVER", kMissingDriver, /*overwrite=*/1) == 0;

bool contains(const std::string &text, const std::string &part) {
  return text.find(part) != std::string::npos;
}

/// Expects `status` to be ATTNRT_UNAVAILABLE with a message that names
/// `call` and the missing driver.
void expectUnavailable(attnrt_status status, const char *call) {
  EXPECT_EQ(status, ATTNRT_UNAVAILABLE) << call;
  std::string message = attnrt_last_error();
  EXPECT_TRUE(contains(message, call)) << message;
  EXPECT_TRUE(contains(message, "CUDA driver not available")) << message;
  EXPECT_TRUE(contains(message, kMissingDriver)) << message;
}

void *const kSentinel = reinterpret_cast<void *>(0x1234);

TEST(CudaUnavailable, DriverIsHidden) { ASSERT_TRUE(driverHidden); }

TEST(CudaUnavailable, InitNamesTheDriverAndIsIdempotent) {
  for (int attempt = 0; attempt < 2; ++attempt) {
    EXPECT_EQ(attnrt_cuda_init(), ATTNRT_UNAVAILABLE);
    std::string message = attnrt_last_error();
    EXPECT_EQ(message.rfind("CUDA driver not available: dlopen ", 0), 0u)
        << message;
    EXPECT_TRUE(contains(message, kMissingDriver)) << message;
  }
}

/// Caches in device memory: refused at create, nothing returned.
TEST(CudaUnavailable, CudaCachesAreRefusedAtCreate) {
  attnrt_kv_cache_desc kv{};
  kv.dtype = ATTNRT_F32;
  kv.max_seqs = 2;
  kv.kv_heads = 1;
  kv.head_dim = 8;
  kv.value_dim = 8;
  kv.capacity = 16;
  kv.memory = ATTNRT_MEMORY_CUDA;
  attnrt_kv_cache *kvCache = nullptr;
  expectUnavailable(attnrt_kv_cache_create(&kv, &kvCache),
                    "attnrt_kv_cache_create");
  EXPECT_EQ(kvCache, nullptr);
  kv.memory = ATTNRT_MEMORY_HOST; // the host cache needs no driver
  ASSERT_EQ(attnrt_kv_cache_create(&kv, &kvCache), ATTNRT_OK)
      << attnrt_last_error();
  attnrt_kv_cache_destroy(kvCache);

  attnrt_quant_cache_desc quant{};
  quant.dtype = ATTNRT_F32;
  quant.max_seqs = 1;
  quant.kv_heads = 1;
  quant.head_dim = 8;
  quant.value_dim = 8;
  quant.capacity = 16;
  quant.bits = 8;
  quant.group_size = 8;
  quant.memory = ATTNRT_MEMORY_CUDA;
  attnrt_quant_cache *quantCache = nullptr;
  expectUnavailable(attnrt_quant_cache_create(&quant, &quantCache),
                    "attnrt_quant_cache_create");
  EXPECT_EQ(quantCache, nullptr);

  float books[16 * 8] = {0.5f};
  attnrt_pq_cache_desc pq{};
  pq.value_dtype = ATTNRT_F32;
  pq.max_seqs = 1;
  pq.kv_heads = 1;
  pq.head_dim = 8;
  pq.value_dim = 8;
  pq.capacity = 16;
  pq.subspaces = 2;
  pq.centroids = 16;
  pq.codebooks = books;
  pq.memory = ATTNRT_MEMORY_CUDA;
  attnrt_pq_cache *pqCache = nullptr;
  expectUnavailable(attnrt_pq_cache_create(&pq, &pqCache),
                    "attnrt_pq_cache_create");
  EXPECT_EQ(pqCache, nullptr);

  attnrt_state_cache_desc state{};
  state.max_seqs = 1;
  state.num_tensors = 1;
  state.tensor_elements[0] = 64;
  state.memory = ATTNRT_MEMORY_CUDA;
  attnrt_state_cache *stateCache = nullptr;
  expectUnavailable(attnrt_state_cache_create(&state, &stateCache),
                    "attnrt_state_cache_create");
  EXPECT_EQ(stateCache, nullptr);
}

TEST(CudaUnavailable, StatusStrings) {
  EXPECT_STREQ(attnrt_status_string(ATTNRT_UNAVAILABLE),
               "CUDA driver or device unavailable");
  EXPECT_STREQ(attnrt_status_string(ATTNRT_DEVICE_ERROR), "device error");
  EXPECT_STREQ(attnrt_status_string(ATTNRT_CACHE_FULL), "cache full");
}

TEST(CudaUnavailable, CallsFailWithoutTouchingOutputs) {
  char name[16] = "untouched";
  int major = -1, minor = -1, sms = -1;
  expectUnavailable(
      attnrt_cuda_device_info(name, sizeof(name), &major, &minor, &sms),
      "attnrt_cuda_device_info");
  EXPECT_STREQ(name, "untouched");
  EXPECT_EQ(major, -1);

  void *p = kSentinel;
  expectUnavailable(attnrt_cuda_malloc(64, &p), "attnrt_cuda_malloc");
  EXPECT_EQ(p, kSentinel);
  expectUnavailable(attnrt_cuda_free(kSentinel), "attnrt_cuda_free");

  char host[8] = {};
  expectUnavailable(attnrt_cuda_memcpy_htod(kSentinel, host, sizeof(host)),
                    "attnrt_cuda_memcpy_htod");
  expectUnavailable(attnrt_cuda_memcpy_dtoh(host, kSentinel, sizeof(host)),
                    "attnrt_cuda_memcpy_dtoh");
  int isDevice = 7;
  expectUnavailable(attnrt_cuda_pointer_is_device(host, &isDevice),
                    "attnrt_cuda_pointer_is_device");
  EXPECT_EQ(isDevice, 7);
  expectUnavailable(attnrt_cuda_memset_u8(kSentinel, 0, 8),
                    "attnrt_cuda_memset_u8");
  expectUnavailable(attnrt_cuda_synchronize(), "attnrt_cuda_synchronize");

  expectUnavailable(attnrt_cuda_set_stream(nullptr), "attnrt_cuda_set_stream");
  void *stream = kSentinel;
  expectUnavailable(attnrt_cuda_get_stream(&stream), "attnrt_cuda_get_stream");
  EXPECT_EQ(stream, kSentinel);

  void *event = kSentinel;
  expectUnavailable(attnrt_cuda_event_create(&event),
                    "attnrt_cuda_event_create");
  EXPECT_EQ(event, kSentinel);
  expectUnavailable(attnrt_cuda_event_record(kSentinel),
                    "attnrt_cuda_event_record");
  float ms = -1.0f;
  expectUnavailable(attnrt_cuda_event_elapsed_ms(kSentinel, kSentinel, &ms),
                    "attnrt_cuda_event_elapsed_ms");
  EXPECT_EQ(ms, -1.0f);
  expectUnavailable(attnrt_cuda_event_destroy(kSentinel),
                    "attnrt_cuda_event_destroy");
}

TEST(CudaUnavailable, NullArgumentsAreInvalid) {
  char name[16];
  int value = 0;
  float ms = 0.0f;
  EXPECT_EQ(attnrt_cuda_device_info(nullptr, 16, &value, &value, &value),
            ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_device_info(name, 0, &value, &value, &value),
            ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_device_info(name, 16, &value, nullptr, &value),
            ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_malloc(16, nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_TRUE(contains(attnrt_last_error(), "attnrt_cuda_malloc: NULL"))
      << attnrt_last_error();
  EXPECT_EQ(attnrt_cuda_pointer_is_device(name, nullptr),
            ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_memcpy_htod(nullptr, name, 1), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_memcpy_htod(kSentinel, nullptr, 1),
            ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_memcpy_dtoh(nullptr, kSentinel, 1),
            ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_memcpy_dtoh(name, nullptr, 1), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_memset_u8(nullptr, 0, 1), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_get_stream(nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_event_create(nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_event_record(nullptr), ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_event_elapsed_ms(nullptr, kSentinel, &ms),
            ATTNRT_INVALID_ARGUMENT);
  EXPECT_EQ(attnrt_cuda_event_elapsed_ms(kSentinel, kSentinel, nullptr),
            ATTNRT_INVALID_ARGUMENT);
  // Freeing nothing needs no driver.
  EXPECT_EQ(attnrt_cuda_free(nullptr), ATTNRT_OK);
  EXPECT_EQ(attnrt_cuda_event_destroy(nullptr), ATTNRT_OK);
}

TEST(CudaUnavailable, MgpuFailuresArePendingUntilTaken) {
  ASSERT_EQ(attnrt_cuda_take_error(), ATTNRT_OK);
  EXPECT_EQ(mgpuMemAlloc(64, nullptr, false), nullptr);
  // Later failures do not replace the first.
  EXPECT_EQ(mgpuStreamCreate(), nullptr);
  EXPECT_EQ(mgpuModuleLoadJIT(const_cast<char *>(".version 8.0"), 3), nullptr);

  expectUnavailable(attnrt_cuda_take_error(), "mgpuMemAlloc");
  EXPECT_FALSE(contains(attnrt_last_error(), "mgpuStreamCreate"));
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_OK);
  EXPECT_STREQ(attnrt_last_error(), "");
}

TEST(CudaUnavailable, MgpuCallsWithNothingToDoNeedNoDriver) {
  int64_t box[2] = {64, 64};
  EXPECT_EQ(mgpuMemAlloc(0, nullptr, false), nullptr);
  mgpuMemFree(nullptr, nullptr);
  mgpuMemcpy(kSentinel, kSentinel, 0, nullptr);
  mgpuMemset32(kSentinel, 0, 0, nullptr);
  mgpuMemset16(kSentinel, 0, 0, nullptr);
  mgpuModuleUnload(nullptr);
  mgpuEventDestroy(nullptr);
  mgpuStreamDestroy(kSentinel);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_OK) << attnrt_last_error();

  EXPECT_EQ(mgpuTensorMapEncodeTiledMemref(2, kSentinel, 6, 0, 3, 0, 0, box),
            nullptr);
  expectUnavailable(attnrt_cuda_take_error(), "mgpuTensorMapEncodeTiledMemref");
}

TEST(CudaUnavailable, EveryMgpuEntryReportsTheDriver) {
  struct Case {
    const char *call;
    void (*run)();
  };
  const Case cases[] = {
      {"mgpuModuleLoad", [] { mgpuModuleLoad(kSentinel, 8); }},
      {"mgpuModuleLoadJIT", [] { mgpuModuleLoadJIT(kSentinel, 3); }},
      {"mgpuModuleUnload", [] { mgpuModuleUnload(kSentinel); }},
      {"mgpuModuleGetFunction",
       [] { mgpuModuleGetFunction(kSentinel, "saxpy"); }},
      {"mgpuLaunchKernel",
       [] {
         mgpuLaunchKernel(kSentinel, 1, 1, 1, 1, 1, 1, 0, nullptr, nullptr,
                          nullptr, 0);
       }},
      {"mgpuStreamCreate", [] { mgpuStreamCreate(); }},
      {"mgpuStreamSynchronize", [] { mgpuStreamSynchronize(kSentinel); }},
      {"mgpuStreamWaitEvent",
       [] { mgpuStreamWaitEvent(kSentinel, kSentinel); }},
      {"mgpuEventCreate", [] { mgpuEventCreate(); }},
      {"mgpuEventDestroy", [] { mgpuEventDestroy(kSentinel); }},
      {"mgpuEventSynchronize", [] { mgpuEventSynchronize(kSentinel); }},
      {"mgpuEventRecord", [] { mgpuEventRecord(kSentinel, kSentinel); }},
      {"mgpuMemAlloc", [] { mgpuMemAlloc(8, nullptr, true); }},
      {"mgpuMemFree", [] { mgpuMemFree(kSentinel, nullptr); }},
      {"mgpuMemcpy", [] { mgpuMemcpy(kSentinel, kSentinel, 8, nullptr); }},
      {"mgpuMemset32", [] { mgpuMemset32(kSentinel, 0, 2, nullptr); }},
      {"mgpuMemset16", [] { mgpuMemset16(kSentinel, 0, 4, nullptr); }},
  };
  for (const Case &c : cases) {
    c.run();
    expectUnavailable(attnrt_cuda_take_error(), c.call);
  }
}

TEST(CudaUnavailable, GpuLibraryLoadFailsWithTheDriverError) {
  attnrt_module *module = nullptr;
  expectUnavailable(attnrt_module_load(ATTN_FAKE_GPU_KERNEL, &module),
                    "mgpuModuleLoadJIT");
  EXPECT_TRUE(contains(attnrt_last_error(), "cannot load "))
      << attnrt_last_error();
  EXPECT_EQ(module, nullptr);
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_OK) << attnrt_last_error();
}

TEST(CudaUnavailable, CallReportsTheEntrysPendingError) {
  attnrt_module *module = nullptr;
  ASSERT_EQ(attnrt_module_load(ATTN_FAKE_GPU_ENTRIES, &module), ATTNRT_OK)
      << attnrt_last_error();
  void *out = kSentinel;
  void *args[] = {&out};
  expectUnavailable(attnrt_call(module, "alloc", args, 1), "mgpuStreamCreate");
  EXPECT_EQ(std::string(attnrt_last_error()).rfind("entry 'alloc': ", 0), 0u)
      << attnrt_last_error();
  EXPECT_EQ(out, nullptr); // the entry ran and got no memory
  // attnrt_call took the error.
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_OK);

  // An error left over from before the call is not the entry's.
  mgpuMemAlloc(64, nullptr, false);
  EXPECT_EQ(attnrt_call(module, "noop", args, 1), ATTNRT_OK)
      << attnrt_last_error();
  EXPECT_EQ(attnrt_cuda_take_error(), ATTNRT_OK);
  attnrt_module_unload(module);
}

} // namespace
