//===- Cuda.cpp - loading the CUDA driver and the attnrt_cuda_* calls -----===//
//
// This file implements the driver loading declared in CudaDriver.h (dlopen
// of libcuda.so.1 or $ATTNRT_CUDA_DRIVER, dlsym of each entry point), the
// one-time initialization of the device, its primary context and default
// stream, and the attnrt_cuda_* C API of attnrt_cuda.h.
//
// Nothing here allocates or throws: messages are formatted into fixed
// buffers, and the process-wide state is trivially destructible, so calls
// from global destructors at exit find it intact.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "attnrt_cuda.h"

#include <dlfcn.h>

#include <atomic>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <type_traits>

using namespace attnrt::cuda;
using attnrt::failf;
using attnrt::succeed;

namespace {

/// Everything initialization produces. Constant-initialized and trivially
/// destructible: it exists before any constructor runs and after every
/// destructor.
struct Runtime {
  Driver api;
  Device device;
  attnrt_status status;
  char error[1024];
};
static_assert(std::is_trivially_destructible<Runtime>::value,
              "the runtime outlives every global destructor");

Runtime runtime;
std::once_flag initOnce;
std::atomic<int> requestedOrdinal{0};
std::atomic<bool> initStarted{false};
thread_local CUstream threadStream = nullptr;

template <typename Fn> bool resolve(void *library, const char *symbol, Fn &fn) {
  fn = reinterpret_cast<Fn>(dlsym(library, symbol));
  return fn != nullptr;
}

/// Resolves every entry point; returns the first missing symbol, or null.
const char *resolveDriver(void *library, Driver &api) {
  const char *missing = nullptr;
  auto need = [&](const char *symbol, auto &fn) {
    if (!resolve(library, symbol, fn) && !missing)
      missing = symbol;
  };
  need("cuGetErrorName", api.cuGetErrorName);
  need("cuGetErrorString", api.cuGetErrorString);
  need("cuInit", api.cuInit);
  need("cuDeviceGetCount", api.cuDeviceGetCount);
  need("cuDeviceGet", api.cuDeviceGet);
  need("cuDeviceGetName", api.cuDeviceGetName);
  need("cuDeviceGetAttribute", api.cuDeviceGetAttribute);
  need("cuDevicePrimaryCtxRetain", api.cuDevicePrimaryCtxRetain);
  need("cuCtxGetCurrent", api.cuCtxGetCurrent);
  need("cuCtxSetCurrent", api.cuCtxSetCurrent);
  need("cuCtxSynchronize", api.cuCtxSynchronize);
  need("cuMemAlloc_v2", api.cuMemAlloc);
  need("cuMemAllocManaged", api.cuMemAllocManaged);
  need("cuMemFree_v2", api.cuMemFree);
  need("cuMemcpyAsync", api.cuMemcpyAsync);
  need("cuMemcpyHtoDAsync_v2", api.cuMemcpyHtoDAsync);
  need("cuMemcpyDtoHAsync_v2", api.cuMemcpyDtoHAsync);
  need("cuMemcpy2DAsync_v2", api.cuMemcpy2DAsync);
  need("cuPointerGetAttribute", api.cuPointerGetAttribute);
  need("cuMemsetD8Async", api.cuMemsetD8Async);
  need("cuMemsetD16Async", api.cuMemsetD16Async);
  need("cuMemsetD32Async", api.cuMemsetD32Async);
  need("cuModuleLoadData", api.cuModuleLoadData);
  need("cuModuleLoadDataEx", api.cuModuleLoadDataEx);
  need("cuModuleUnload", api.cuModuleUnload);
  need("cuModuleGetFunction", api.cuModuleGetFunction);
  need("cuFuncSetAttribute", api.cuFuncSetAttribute);
  need("cuLaunchKernel", api.cuLaunchKernel);
  need("cuStreamCreate", api.cuStreamCreate);
  need("cuStreamSynchronize", api.cuStreamSynchronize);
  need("cuStreamWaitEvent", api.cuStreamWaitEvent);
  need("cuEventCreate", api.cuEventCreate);
  need("cuEventDestroy_v2", api.cuEventDestroy);
  need("cuEventRecord", api.cuEventRecord);
  need("cuEventSynchronize", api.cuEventSynchronize);
  need("cuEventElapsedTime", api.cuEventElapsedTime);
  resolve(library, "cuMemAllocAsync", api.cuMemAllocAsync);
  resolve(library, "cuMemFreeAsync", api.cuMemFreeAsync);
  resolve(library, "cuDeviceGetDefaultMemPool", api.cuDeviceGetDefaultMemPool);
  resolve(library, "cuMemPoolSetAttribute", api.cuMemPoolSetAttribute);
  resolve(library, "cuTensorMapEncodeTiled", api.cuTensorMapEncodeTiled);
  return missing;
}

void initFailed(const char *format, ...) __attribute__((format(printf, 1, 2)));
void initFailed(const char *format, ...) {
  va_list args;
  va_start(args, format);
  vsnprintf(runtime.error, sizeof(runtime.error), format, args);
  va_end(args);
  runtime.status = ATTNRT_UNAVAILABLE;
}

/// Runs once per process. On failure leaves status ATTNRT_UNAVAILABLE and
/// the reason in runtime.error; the driver stays loaded either way (it is
/// never unloaded: kernel libraries may call it from their destructors).
void initialize() {
  runtime.status = ATTNRT_UNAVAILABLE; // until every step succeeded
  Device &dev = runtime.device;
  dev.ordinal = requestedOrdinal.load();
  initStarted.store(true);

  const char *path = std::getenv("ATTNRT_CUDA_DRIVER");
  if (!path || !*path)
    path = "libcuda.so.1";
  void *library = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!library)
    return initFailed("CUDA driver not available: dlopen %s: %s", path,
                      dlerror());
  Driver &api = runtime.api;
  if (const char *missing = resolveDriver(library, api))
    return initFailed("CUDA driver not available: %s has no %s (too old?)",
                      path, missing);

  if (CUresult r = api.cuInit(0))
    return initFailed("%s: cuInit failed: %s",
                      r == CUDA_ERROR_NO_DEVICE ? "no CUDA device"
                                                : "CUDA driver not usable",
                      describe(r).text);
  int count = 0;
  if (CUresult r = api.cuDeviceGetCount(&count))
    return initFailed("CUDA driver not usable: cuDeviceGetCount failed: %s",
                      describe(r).text);
  if (count == 0)
    return initFailed("no CUDA device: the driver at %s found none", path);
  if (dev.ordinal < 0 || dev.ordinal >= count)
    return initFailed("no CUDA device %d: the driver found %d", dev.ordinal,
                      count);

  auto step = [](const char *what, CUresult r) {
    if (r)
      initFailed("CUDA device not usable: %s failed: %s", what,
                 describe(r).text);
    return r == CUDA_SUCCESS;
  };
  if (!step("cuDeviceGet", api.cuDeviceGet(&dev.device, dev.ordinal)) ||
      !step("cuDeviceGetName",
            api.cuDeviceGetName(dev.name, sizeof(dev.name), dev.device)) ||
      !step("cuDeviceGetAttribute",
            api.cuDeviceGetAttribute(
                &dev.ccMajor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR,
                dev.device)) ||
      !step("cuDeviceGetAttribute",
            api.cuDeviceGetAttribute(
                &dev.ccMinor, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR,
                dev.device)) ||
      !step("cuDeviceGetAttribute",
            api.cuDeviceGetAttribute(&dev.smCount,
                                     CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT,
                                     dev.device)) ||
      !step("cuDeviceGetAttribute",
            api.cuDeviceGetAttribute(
                &dev.maxSharedPerBlockOptin,
                CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN,
                dev.device)) ||
      // The primary context is the one the CUDA runtime (and so PyTorch and
      // friends) uses too: buffers and streams pass between them freely.
      !step("cuDevicePrimaryCtxRetain",
            api.cuDevicePrimaryCtxRetain(&dev.context, dev.device)) ||
      !step("cuCtxSetCurrent", api.cuCtxSetCurrent(dev.context)) ||
      // A blocking stream, so work on the legacy default stream (cudaMemcpy
      // without a stream, say) is ordered with it.
      !step("cuStreamCreate",
            api.cuStreamCreate(&dev.defaultStream, CU_STREAM_DEFAULT)))
    return;
  // Temporaries of compiled code (split-KV partials, decomposition buffers)
  // come from the default pool in stream order; the pool keeps what was
  // freed (release threshold: unlimited) so a call in a loop does not go
  // back to the driver's allocator each time.
  dev.streamOrderedAlloc = false;
  void *pool = nullptr;
  if (api.cuMemAllocAsync && api.cuMemFreeAsync && api.cuDeviceGetDefaultMemPool &&
      api.cuMemPoolSetAttribute &&
      api.cuDeviceGetDefaultMemPool(&pool, dev.device) == CUDA_SUCCESS) {
    uint64_t keepAll = UINT64_MAX;
    constexpr int kReleaseThreshold = 4; // CU_MEMPOOL_ATTR_RELEASE_THRESHOLD
    dev.streamOrderedAlloc =
        api.cuMemPoolSetAttribute(pool, kReleaseThreshold, &keepAll) == CUDA_SUCCESS;
  }
  runtime.status = ATTNRT_OK;
}

/// Prepares the calling thread for an attnrt_cuda_* call named `call`;
/// on failure sets the message and returns the status.
attnrt_status ready(const char *call) {
  Readiness r = ensureReady();
  if (r.status == ATTNRT_OK)
    return ATTNRT_OK;
  if (r.reason)
    return failf(r.status, "%s: %s", call, r.reason);
  return failf(r.status, "%s: cuCtxSetCurrent failed: %s", call,
               describe(r.result).text);
}

/// Turns a driver failure of `what` inside `call` into a status and message.
attnrt_status check(const char *call, const char *what, CUresult result) {
  if (result == CUDA_SUCCESS)
    return ATTNRT_OK;
  return failf(result == CUDA_ERROR_OUT_OF_MEMORY ? ATTNRT_OUT_OF_MEMORY
                                                  : ATTNRT_DEVICE_ERROR,
               "%s: %s failed: %s", call, what, describe(result).text);
}

/// Waits for the current stream after queuing work on it.
attnrt_status finish(const char *call, CUstream stream) {
  return check(call, "cuStreamSynchronize",
               runtime.api.cuStreamSynchronize(stream));
}

CUdeviceptr devicePointer(const void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

} // namespace

//===----------------------------------------------------------------------===//
// CudaDriver.h
//===----------------------------------------------------------------------===//

namespace attnrt {
namespace cuda {

const Driver &driver() noexcept { return runtime.api; }
const Device &device() noexcept { return runtime.device; }

Readiness ensureReady() noexcept {
  std::call_once(initOnce, initialize);
  if (runtime.status != ATTNRT_OK)
    return {runtime.status, runtime.error, CUDA_SUCCESS};
  // Cheap enough to ask every time, and the thread may have switched
  // contexts (another library's) since the last call.
  CUcontext current = nullptr;
  if (runtime.api.cuCtxGetCurrent(&current) == CUDA_SUCCESS &&
      current == runtime.device.context)
    return {ATTNRT_OK, nullptr, CUDA_SUCCESS};
  if (CUresult r = runtime.api.cuCtxSetCurrent(runtime.device.context))
    return {ATTNRT_DEVICE_ERROR, nullptr, r};
  return {ATTNRT_OK, nullptr, CUDA_SUCCESS};
}

bool requestDevice(int ordinal) noexcept {
  requestedOrdinal.store(ordinal);
  if (!initStarted.load())
    return true;
  std::call_once(initOnce, initialize); // wait for it to finish
  return runtime.device.ordinal == ordinal;
}

CUstream currentStream() noexcept {
  return threadStream ? threadStream : runtime.device.defaultStream;
}

ErrorText describe(CUresult result) noexcept {
  const char *name = nullptr, *what = nullptr;
  if (runtime.api.cuGetErrorName)
    runtime.api.cuGetErrorName(result, &name);
  if (runtime.api.cuGetErrorString)
    runtime.api.cuGetErrorString(result, &what);
  ErrorText text;
  if (name)
    snprintf(text.text, sizeof(text.text), "%s (%s)", name,
             what ? what : "no description");
  else
    snprintf(text.text, sizeof(text.text), "CUDA error %d", result);
  return text;
}

} // namespace cuda
} // namespace attnrt

//===----------------------------------------------------------------------===//
// attnrt_cuda.h
//===----------------------------------------------------------------------===//

extern "C" {

attnrt_status attnrt_cuda_init(void) {
  Readiness r = ensureReady();
  if (r.status == ATTNRT_OK)
    return succeed();
  if (r.reason)
    return failf(r.status, "%s", r.reason);
  return failf(r.status, "attnrt_cuda_init: cuCtxSetCurrent failed: %s",
               describe(r.result).text);
}

attnrt_status attnrt_cuda_device_info(char *name, size_t name_len,
                                      int *cc_major, int *cc_minor,
                                      int *sm_count) {
  if (!name || name_len == 0 || !cc_major || !cc_minor || !sm_count)
    return failf(ATTNRT_INVALID_ARGUMENT,
                 "attnrt_cuda_device_info: NULL argument or empty name buffer");
  if (attnrt_status s = ready("attnrt_cuda_device_info"))
    return s;
  const Device &dev = runtime.device;
  snprintf(name, name_len, "%s", dev.name);
  *cc_major = dev.ccMajor;
  *cc_minor = dev.ccMinor;
  *sm_count = dev.smCount;
  return succeed();
}

attnrt_status attnrt_cuda_malloc(size_t bytes, void **dptr) {
  const char *call = "attnrt_cuda_malloc";
  if (!dptr)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL argument", call);
  if (attnrt_status s = ready(call))
    return s;
  // The driver refuses 0 bytes; like attnrt_host_alloc, hand out a real
  // (smallest) allocation instead.
  CUdeviceptr p = 0;
  if (CUresult r = runtime.api.cuMemAlloc(&p, bytes ? bytes : 1))
    return failf(r == CUDA_ERROR_OUT_OF_MEMORY ? ATTNRT_OUT_OF_MEMORY
                                               : ATTNRT_DEVICE_ERROR,
                 "%s: cannot allocate %zu bytes: cuMemAlloc failed: %s", call,
                 bytes, describe(r).text);
  *dptr = reinterpret_cast<void *>(static_cast<uintptr_t>(p));
  return succeed();
}

attnrt_status attnrt_cuda_free(void *dptr) {
  const char *call = "attnrt_cuda_free";
  if (!dptr)
    return succeed();
  if (attnrt_status s = ready(call))
    return s;
  if (attnrt_status s =
          check(call, "cuMemFree", runtime.api.cuMemFree(devicePointer(dptr))))
    return s;
  return succeed();
}

attnrt_status attnrt_cuda_pointer_is_device(const void *ptr, int *is_device) {
  const char *call = "attnrt_cuda_pointer_is_device";
  if (!is_device)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL argument", call);
  if (attnrt_status s = ready(call))
    return s;
  unsigned kind = 0;
  // Memory the driver does not know (pageable host memory) is an error
  // here, and host memory all the same.
  CUresult r = runtime.api.cuPointerGetAttribute(
      &kind, CU_POINTER_ATTRIBUTE_MEMORY_TYPE, devicePointer(ptr));
  *is_device = r == CUDA_SUCCESS && kind == CU_MEMORYTYPE_DEVICE;
  return succeed();
}

attnrt_status attnrt_cuda_memcpy_htod(void *dst, const void *src,
                                      size_t bytes) {
  const char *call = "attnrt_cuda_memcpy_htod";
  if (!dst || !src)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL argument", call);
  if (attnrt_status s = ready(call))
    return s;
  if (bytes == 0)
    return succeed();
  CUstream stream = currentStream();
  if (attnrt_status s = check(call, "cuMemcpyHtoDAsync",
                              runtime.api.cuMemcpyHtoDAsync(
                                  devicePointer(dst), src, bytes, stream)))
    return s;
  if (attnrt_status s = finish(call, stream))
    return s;
  return succeed();
}

attnrt_status attnrt_cuda_memcpy_dtoh(void *dst, const void *src,
                                      size_t bytes) {
  const char *call = "attnrt_cuda_memcpy_dtoh";
  if (!dst || !src)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL argument", call);
  if (attnrt_status s = ready(call))
    return s;
  if (bytes == 0)
    return succeed();
  CUstream stream = currentStream();
  if (attnrt_status s = check(call, "cuMemcpyDtoHAsync",
                              runtime.api.cuMemcpyDtoHAsync(
                                  dst, devicePointer(src), bytes, stream)))
    return s;
  if (attnrt_status s = finish(call, stream))
    return s;
  return succeed();
}

attnrt_status attnrt_cuda_memset_u8(void *dptr, uint8_t value, size_t bytes) {
  const char *call = "attnrt_cuda_memset_u8";
  if (!dptr)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL argument", call);
  if (attnrt_status s = ready(call))
    return s;
  if (bytes == 0)
    return succeed();
  CUstream stream = currentStream();
  if (attnrt_status s = check(call, "cuMemsetD8Async",
                              runtime.api.cuMemsetD8Async(
                                  devicePointer(dptr), value, bytes, stream)))
    return s;
  if (attnrt_status s = finish(call, stream))
    return s;
  return succeed();
}

attnrt_status attnrt_cuda_synchronize(void) {
  const char *call = "attnrt_cuda_synchronize";
  if (attnrt_status s = ready(call))
    return s;
  if (attnrt_status s =
          check(call, "cuCtxSynchronize", runtime.api.cuCtxSynchronize()))
    return s;
  return succeed();
}

attnrt_status attnrt_cuda_set_stream(void *stream) {
  if (attnrt_status s = ready("attnrt_cuda_set_stream"))
    return s;
  threadStream = static_cast<CUstream>(stream);
  return succeed();
}

attnrt_status attnrt_cuda_get_stream(void **stream) {
  const char *call = "attnrt_cuda_get_stream";
  if (!stream)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL argument", call);
  if (attnrt_status s = ready(call))
    return s;
  *stream = currentStream();
  return succeed();
}

attnrt_status attnrt_cuda_event_create(void **event) {
  const char *call = "attnrt_cuda_event_create";
  if (!event)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL argument", call);
  if (attnrt_status s = ready(call))
    return s;
  CUevent e = nullptr;
  if (attnrt_status s = check(call, "cuEventCreate",
                              runtime.api.cuEventCreate(&e, CU_EVENT_DEFAULT)))
    return s;
  *event = e;
  return succeed();
}

attnrt_status attnrt_cuda_event_record(void *event) {
  const char *call = "attnrt_cuda_event_record";
  if (!event)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL argument", call);
  if (attnrt_status s = ready(call))
    return s;
  if (attnrt_status s =
          check(call, "cuEventRecord",
                runtime.api.cuEventRecord(static_cast<CUevent>(event),
                                          currentStream())))
    return s;
  return succeed();
}

attnrt_status attnrt_cuda_event_elapsed_ms(void *start, void *end, float *ms) {
  const char *call = "attnrt_cuda_event_elapsed_ms";
  if (!start || !end || !ms)
    return failf(ATTNRT_INVALID_ARGUMENT, "%s: NULL argument", call);
  if (attnrt_status s = ready(call))
    return s;
  auto *startEvent = static_cast<CUevent>(start);
  auto *endEvent = static_cast<CUevent>(end);
  if (attnrt_status s = check(call, "cuEventSynchronize",
                              runtime.api.cuEventSynchronize(endEvent)))
    return s;
  float elapsed = 0.0f;
  if (attnrt_status s =
          check(call, "cuEventElapsedTime",
                runtime.api.cuEventElapsedTime(&elapsed, startEvent, endEvent)))
    return s;
  *ms = elapsed;
  return succeed();
}

attnrt_status attnrt_cuda_event_destroy(void *event) {
  const char *call = "attnrt_cuda_event_destroy";
  if (!event)
    return succeed();
  if (attnrt_status s = ready(call))
    return s;
  if (attnrt_status s =
          check(call, "cuEventDestroy",
                runtime.api.cuEventDestroy(static_cast<CUevent>(event))))
    return s;
  return succeed();
}

attnrt_status attnrt_cuda_take_error(void) {
  if (attnrt_status s = attnrt::takePendingError(""))
    return s;
  return succeed();
}

} // extern "C"
