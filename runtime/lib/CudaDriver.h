//===- CudaDriver.h - the CUDA driver API as libattnrt loads it -*- C++ -*-===//
//
// Internal to libattnrt. Declares the few driver types, constants and entry
// points the runtime uses, so that it builds without CUDA headers and runs
// without libcuda: Cuda.cpp resolves the entry points with dlsym. Values are
// those of cuda.h (CUDA 12); the driver keeps them stable across releases.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNRT_LIB_CUDADRIVER_H
#define ATTNRT_LIB_CUDADRIVER_H

#include "Status.h"

#include <cstddef>
#include <cstdint>

namespace attnrt {
namespace cuda {

//===----------------------------------------------------------------------===//
// Types
//===----------------------------------------------------------------------===//

using CUresult = int;
using CUdevice = int;
using CUdeviceptr = unsigned long long;
using CUcontext = struct CUctx_st *;
using CUmodule = struct CUmod_st *;
using CUfunction = struct CUfunc_st *;
using CUstream = struct CUstream_st *;
using CUevent = struct CUevent_st *;

/// The driver's opaque TMA descriptor: 128 bytes, 64-byte aligned.
struct alignas(64) CUtensorMap {
  unsigned long long opaque[16];
};
static_assert(sizeof(CUtensorMap) == 128, "CUtensorMap is 128 bytes");

/// cuMemcpy2D's parameters (CUDA_MEMCPY2D_v2); arrays are not used.
struct CUDA_MEMCPY2D {
  size_t srcXInBytes, srcY;
  unsigned srcMemoryType;
  const void *srcHost;
  CUdeviceptr srcDevice;
  void *srcArray;
  size_t srcPitch;
  size_t dstXInBytes, dstY;
  unsigned dstMemoryType;
  void *dstHost;
  CUdeviceptr dstDevice;
  void *dstArray;
  size_t dstPitch;
  size_t WidthInBytes, Height;
};

//===----------------------------------------------------------------------===//
// Constants (the driver's names, so they can be looked up in its manual)
//===----------------------------------------------------------------------===//

constexpr CUresult CUDA_SUCCESS = 0;
constexpr CUresult CUDA_ERROR_OUT_OF_MEMORY = 2;
constexpr CUresult CUDA_ERROR_DEINITIALIZED = 4;
constexpr CUresult CUDA_ERROR_NO_DEVICE = 100;

constexpr int CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT = 16;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR = 75;
constexpr int CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR = 76;
constexpr int CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN = 97;

constexpr int CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES = 8;

constexpr int CU_JIT_ERROR_LOG_BUFFER = 5;
constexpr int CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES = 6;
constexpr int CU_JIT_OPTIMIZATION_LEVEL = 7;

constexpr unsigned CU_STREAM_DEFAULT = 0;
constexpr unsigned CU_EVENT_DEFAULT = 0;
constexpr unsigned CU_EVENT_DISABLE_TIMING = 2;
constexpr unsigned CU_MEM_ATTACH_GLOBAL = 1;

constexpr unsigned CU_MEMORYTYPE_HOST = 1;
constexpr unsigned CU_MEMORYTYPE_DEVICE = 2;
constexpr int CU_POINTER_ATTRIBUTE_MEMORY_TYPE = 2;

/// Bytes per element of each CUtensorMapDataType, UINT8 (0) to
/// TFLOAT32_FTZ (12); the packed sub-byte types after it are not supported.
constexpr int kTensorMapElementBytes[] = {1, 2, 4, 4, 8, 8, 2,
                                          4, 8, 2, 4, 4, 4};

//===----------------------------------------------------------------------===//
// Entry points
//===----------------------------------------------------------------------===//

/// The driver functions. Where cuda.h maps the plain name to a _v2 symbol
/// (cuMemAlloc, cuMemFree, cuMemcpyHtoDAsync, cuMemcpyDtoHAsync,
/// cuMemcpy2DAsync, cuEventDestroy), the member holds the _v2 one, as a program compiled
/// against cuda.h would call. Enum parameters are int.
struct Driver {
  CUresult (*cuGetErrorName)(CUresult, const char **);
  CUresult (*cuGetErrorString)(CUresult, const char **);
  CUresult (*cuInit)(unsigned);
  CUresult (*cuDeviceGetCount)(int *);
  CUresult (*cuDeviceGet)(CUdevice *, int);
  CUresult (*cuDeviceGetName)(char *, int, CUdevice);
  CUresult (*cuDeviceGetAttribute)(int *, int, CUdevice);
  CUresult (*cuDevicePrimaryCtxRetain)(CUcontext *, CUdevice);
  CUresult (*cuCtxGetCurrent)(CUcontext *);
  CUresult (*cuCtxSetCurrent)(CUcontext);
  CUresult (*cuCtxSynchronize)();
  CUresult (*cuMemAlloc)(CUdeviceptr *, size_t);
  CUresult (*cuMemAllocManaged)(CUdeviceptr *, size_t, unsigned);
  CUresult (*cuMemFree)(CUdeviceptr);
  CUresult (*cuMemcpyAsync)(CUdeviceptr, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemcpyHtoDAsync)(CUdeviceptr, const void *, size_t, CUstream);
  CUresult (*cuMemcpyDtoHAsync)(void *, CUdeviceptr, size_t, CUstream);
  CUresult (*cuMemcpy2DAsync)(const CUDA_MEMCPY2D *, CUstream);
  CUresult (*cuPointerGetAttribute)(void *, int, CUdeviceptr);
  CUresult (*cuMemsetD8Async)(CUdeviceptr, unsigned char, size_t, CUstream);
  CUresult (*cuMemsetD16Async)(CUdeviceptr, unsigned short, size_t, CUstream);
  CUresult (*cuMemsetD32Async)(CUdeviceptr, unsigned, size_t, CUstream);
  CUresult (*cuModuleLoadData)(CUmodule *, const void *);
  CUresult (*cuModuleLoadDataEx)(CUmodule *, const void *, unsigned, int *,
                                 void **);
  CUresult (*cuModuleUnload)(CUmodule);
  CUresult (*cuModuleGetFunction)(CUfunction *, CUmodule, const char *);
  CUresult (*cuFuncSetAttribute)(CUfunction, int, int);
  CUresult (*cuLaunchKernel)(CUfunction, unsigned, unsigned, unsigned, unsigned,
                             unsigned, unsigned, unsigned, CUstream, void **,
                             void **);
  CUresult (*cuStreamCreate)(CUstream *, unsigned);
  CUresult (*cuStreamSynchronize)(CUstream);
  CUresult (*cuStreamWaitEvent)(CUstream, CUevent, unsigned);
  CUresult (*cuEventCreate)(CUevent *, unsigned);
  CUresult (*cuEventDestroy)(CUevent);
  CUresult (*cuEventRecord)(CUevent, CUstream);
  CUresult (*cuEventSynchronize)(CUevent);
  CUresult (*cuEventElapsedTime)(float *, CUevent, CUevent);
  /// Stream-ordered allocation (CUDA 11.2 and later); null with an older
  /// driver, which then gets cuMemAlloc/cuMemFree.
  CUresult (*cuMemAllocAsync)(CUdeviceptr *, size_t, CUstream);
  CUresult (*cuMemFreeAsync)(CUdeviceptr, CUstream);
  CUresult (*cuDeviceGetDefaultMemPool)(void **, CUdevice);
  CUresult (*cuMemPoolSetAttribute)(void *, int, void *);
  /// CUDA 12 and later; null with an older driver.
  CUresult (*cuTensorMapEncodeTiled)(CUtensorMap *, int, uint32_t, void *,
                                     const uint64_t *, const uint64_t *,
                                     const uint32_t *, const uint32_t *, int,
                                     int, int, int);
};

//===----------------------------------------------------------------------===//
// The runtime's device
//===----------------------------------------------------------------------===//

/// What initialization found; written once, read-only afterwards.
struct Device {
  int ordinal;
  CUdevice device;
  CUcontext context;
  /// Created at initialization; where work goes unless the thread chose
  /// another stream.
  CUstream defaultStream;
  char name[256];
  int ccMajor, ccMinor, smCount;
  int maxSharedPerBlockOptin;
  /// Compiled host code allocates its temporaries from the device's default
  /// memory pool, in stream order, when the driver has it (set up at init).
  bool streamOrderedAlloc;
};

/// The loaded driver. Valid once ensureReady succeeded.
ATTNRT_INTERNAL const Driver &driver() noexcept;
ATTNRT_INTERNAL const Device &device() noexcept;

/// The outcome of making the driver usable on the calling thread.
struct Readiness {
  /// ATTNRT_OK, or ATTNRT_UNAVAILABLE when initialization failed (then
  /// `reason` says why), or ATTNRT_DEVICE_ERROR when the primary context
  /// could not be made current (then `result` is the driver's code).
  attnrt_status status;
  const char *reason;
  CUresult result;
};

/// Initializes the driver on first use (once per process, thread-safe) and
/// makes the primary context current on the calling thread.
ATTNRT_INTERNAL Readiness ensureReady() noexcept;

/// Picks the device the first initialization uses; returns false when
/// initialization has already started with another one.
ATTNRT_INTERNAL bool requestDevice(int ordinal) noexcept;

/// The calling thread's stream: its choice, or the default stream.
ATTNRT_INTERNAL CUstream currentStream() noexcept;

/// "CUDA_ERROR_INVALID_VALUE (invalid argument)", for messages.
struct ErrorText {
  char text[256];
};
ATTNRT_INTERNAL ErrorText describe(CUresult result) noexcept;

} // namespace cuda
} // namespace attnrt

#endif // ATTNRT_LIB_CUDADRIVER_H
