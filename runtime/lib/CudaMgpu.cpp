//===- CudaMgpu.cpp - the mgpu* ABI of MLIR's gpu-to-llvm host code -------===//
//
// This file implements the functions that host code lowered by MLIR's
// gpu-to-llvm and nvgpu-to-nvvm conversions calls, with LLVM 22's
// signatures, on the driver Cuda.cpp loads. Unlike upstream's
// CudaRuntimeWrappers.cpp they never print or abort: the first failure is
// left pending on the calling thread, for attnrt_call or
// attnrt_cuda_take_error to report, and the function returns null or does
// nothing. Each one first initializes the driver if needed and makes the
// primary context current, since the first call may come from a kernel
// library's global constructor while attnrt_module_load dlopens it.
//
// Streams belong to the caller: mgpuStreamCreate hands out the current
// stream and mgpuStreamDestroy leaves it alone.
//
//===----------------------------------------------------------------------===//

#include "CudaDriver.h"
#include "attnrt_cuda.h"

#include <array>
#include <cinttypes>
#include <cstdio>
#include <initializer_list>
#include <iterator>
#include <map>
#include <mutex>

using namespace attnrt::cuda;
using attnrt::pendf;

namespace {

/// Dynamic shared memory every kernel may use without opting in.
constexpr int32_t kDefaultSharedMemoryLimit = 48 * 1024;

/// Makes the driver usable for `call`; leaves the reason pending and returns
/// false when it is not.
bool ready(const char *call) {
  Readiness r = ensureReady();
  if (r.status == ATTNRT_OK)
    return true;
  if (r.reason)
    pendf(r.status, "%s: %s", call, r.reason);
  else
    pendf(r.status, "%s: cuCtxSetCurrent failed: %s", call,
          describe(r.result).text);
  return false;
}

/// Leaves a failure of driver function `what` inside `call` pending;
/// returns whether `result` is a success.
bool succeeded(const char *call, const char *what, CUresult result) {
  if (result == CUDA_SUCCESS)
    return true;
  pendf(ATTNRT_DEVICE_ERROR, "%s: %s failed: %s", call, what,
        describe(result).text);
  return false;
}

CUdeviceptr devicePointer(const void *p) {
  return static_cast<CUdeviceptr>(reinterpret_cast<uintptr_t>(p));
}

void *asPointer(CUdeviceptr p) {
  return reinterpret_cast<void *>(static_cast<uintptr_t>(p));
}

//===----------------------------------------------------------------------===//
// TMA descriptors
//===----------------------------------------------------------------------===//

/// The head of a ranked memref descriptor; sizes[rank] and strides[rank]
/// (in elements) follow it.
struct MemRefHeader {
  char *allocated;
  char *aligned;
  int64_t offset;
};

/// A tiled TMA request in the driver's terms: dimension 0 is the innermost.
struct TensorMapRequest {
  int64_t dataType, rank, interleave, swizzle, l2Promotion, oobFill;
  char *address;
  uint64_t globalDim[5];
  uint64_t globalStrides[4]; // bytes, of dimensions 1 to rank-1
  uint32_t boxDim[5];
  uint32_t elementStrides[5];

  using Key = std::array<uint64_t, 7 + 5 + 4 + 5>;
  Key key() const {
    Key k{uint64_t(dataType),
          uint64_t(rank),
          uint64_t(interleave),
          uint64_t(swizzle),
          uint64_t(l2Promotion),
          uint64_t(oobFill),
          uint64_t(reinterpret_cast<uintptr_t>(address))};
    for (int i = 0; i < 5; ++i)
      k[7 + i] = globalDim[i];
    for (int i = 0; i < 4; ++i)
      k[12 + i] = globalStrides[i];
    for (int i = 0; i < 5; ++i)
      k[16 + i] = boxDim[i];
    return k;
  }
};

/// "sizes [128, 64], box [64, 64]" (outermost first), for messages.
struct ShapeText {
  char text[256];
};
ShapeText describeShape(int64_t rank, const int64_t *sizes,
                        const int64_t *boxDims) {
  ShapeText shape;
  size_t used = 0;
  auto append = [&](const char *separator, int64_t value) {
    if (used < sizeof(shape.text))
      used += snprintf(shape.text + used, sizeof(shape.text) - used,
                       "%s%" PRId64, separator, value);
  };
  for (int64_t i = 0; i < rank; ++i)
    append(i ? ", " : "sizes [", sizes[i]);
  for (int64_t i = 0; i < rank; ++i)
    append(i ? ", " : "], box [", boxDims[i]);
  if (used < sizeof(shape.text))
    snprintf(shape.text + used, sizeof(shape.text) - used, "]");
  return shape;
}

/// Device copies of the descriptors handed out so far. Compiled code builds
/// its descriptors on every call of an entry, so identical requests share a
/// copy instead of allocating anew; they live as long as the process.
struct TensorMapCopy {
  CUdeviceptr device;
  /// Recorded after the copy, on the stream that asked first.
  CUevent copied;
};
struct TensorMapCache {
  std::mutex mutex;
  std::map<TensorMapRequest::Key, TensorMapCopy> copies;
};

/// Returns the device copy for `request`, making it on the current stream
/// if it is new; null (with an error pending) on failure.
void *deviceTensorMap(const char *call, const TensorMapRequest &request,
                      const ShapeText &shape) {
  static TensorMapCache cache;
  const Driver &api = driver();
  CUstream stream = currentStream();
  TensorMapRequest::Key key = request.key();

  std::lock_guard<std::mutex> lock(cache.mutex);
  auto found = cache.copies.find(key);
  if (found != cache.copies.end()) {
    // The copy may still be in flight on the stream that asked first.
    if (!succeeded(call, "cuStreamWaitEvent",
                   api.cuStreamWaitEvent(stream, found->second.copied, 0)))
      return nullptr;
    return asPointer(found->second.device);
  }

  CUtensorMap map{};
  if (CUresult r = api.cuTensorMapEncodeTiled(
          &map, int(request.dataType), uint32_t(request.rank), request.address,
          request.globalDim, request.globalStrides, request.boxDim,
          request.elementStrides, int(request.interleave), int(request.swizzle),
          int(request.l2Promotion), int(request.oobFill))) {
    pendf(ATTNRT_DEVICE_ERROR,
          "%s: cuTensorMapEncodeTiled failed: %s (data type %" PRId64
          ", %s, swizzle %" PRId64 ", address %p)",
          call, describe(r).text, request.dataType, shape.text, request.swizzle,
          static_cast<void *>(request.address));
    return nullptr;
  }

  // Kernels read the descriptor from global memory. The copy reads `map`
  // before returning (pageable memory is staged), and is ordered before the
  // launches that follow on this stream.
  TensorMapCopy copy{};
  if (!succeeded(call, "cuMemAlloc", api.cuMemAlloc(&copy.device, sizeof(map))))
    return nullptr;
  bool ok =
      succeeded(
          call, "cuMemcpyHtoDAsync",
          api.cuMemcpyHtoDAsync(copy.device, &map, sizeof(map), stream)) &&
      succeeded(call, "cuEventCreate",
                api.cuEventCreate(&copy.copied, CU_EVENT_DISABLE_TIMING)) &&
      succeeded(call, "cuEventRecord", api.cuEventRecord(copy.copied, stream));
  if (ok) {
    try {
      cache.copies.emplace(key, copy);
      return asPointer(copy.device);
    } catch (...) {
      pendf(ATTNRT_DEVICE_ERROR, "%s: out of host memory", call);
    }
  }
  if (copy.copied)
    api.cuEventDestroy(copy.copied);
  api.cuMemFree(copy.device);
  return nullptr;
}

} // namespace

//===----------------------------------------------------------------------===//
// The mgpu* ABI
//===----------------------------------------------------------------------===//

// Kernel libraries resolve these against libattnrt, whatever visibility the
// rest of the library is built with.
#pragma GCC visibility push(default)

extern "C" {

void *mgpuModuleLoad(void *data, size_t gpuBlobSize) {
  const char *call = "mgpuModuleLoad";
  if (!ready(call))
    return nullptr;
  if (!data) {
    pendf(ATTNRT_DEVICE_ERROR, "%s: NULL image", call);
    return nullptr;
  }
  CUmodule module = nullptr;
  if (!succeeded(call, "cuModuleLoadData",
                 driver().cuModuleLoadData(&module, data)))
    return nullptr;
  return module;
}

void *mgpuModuleLoadJIT(void *data, int optLevel) {
  const char *call = "mgpuModuleLoadJIT";
  if (!ready(call))
    return nullptr;
  if (!data) {
    pendf(ATTNRT_DEVICE_ERROR, "%s: NULL PTX", call);
    return nullptr;
  }
  char log[2048] = "";
  int options[] = {CU_JIT_ERROR_LOG_BUFFER, CU_JIT_ERROR_LOG_BUFFER_SIZE_BYTES,
                   CU_JIT_OPTIMIZATION_LEVEL};
  void *values[] = {log, reinterpret_cast<void *>(uintptr_t(sizeof(log))),
                    reinterpret_cast<void *>(uintptr_t(optLevel))};
  // A level outside 0-4 leaves the driver's default, the highest.
  unsigned count = optLevel >= 0 && optLevel <= 4 ? 3 : 2;
  CUmodule module = nullptr;
  if (CUresult r =
          driver().cuModuleLoadDataEx(&module, data, count, options, values)) {
    pendf(ATTNRT_DEVICE_ERROR, "%s: cuModuleLoadDataEx failed: %s%s%s", call,
          describe(r).text, log[0] ? "; JIT log: " : "", log);
    return nullptr;
  }
  return module;
}

void mgpuModuleUnload(void *module) {
  const char *call = "mgpuModuleUnload";
  if (!module || !ready(call))
    return;
  CUresult r = driver().cuModuleUnload(static_cast<CUmodule>(module));
  // Kernel libraries unload from global destructors, which at exit may run
  // after the driver shut down; nothing is left to release then.
  if (r != CUDA_ERROR_DEINITIALIZED)
    succeeded(call, "cuModuleUnload", r);
}

void *mgpuModuleGetFunction(void *module, const char *name) {
  const char *call = "mgpuModuleGetFunction";
  if (!ready(call))
    return nullptr;
  if (!module || !name) {
    pendf(ATTNRT_DEVICE_ERROR, "%s: NULL %s", call,
          module ? "kernel name" : "module (its GPU binary did not load)");
    return nullptr;
  }
  CUfunction function = nullptr;
  if (CUresult r = driver().cuModuleGetFunction(
          &function, static_cast<CUmodule>(module), name)) {
    pendf(ATTNRT_DEVICE_ERROR, "%s: cuModuleGetFunction(\"%s\") failed: %s",
          call, name, describe(r).text);
    return nullptr;
  }
  return function;
}

void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount) {
  const char *call = "mgpuLaunchKernel";
  if (!ready(call))
    return;
  if (!function) {
    pendf(ATTNRT_DEVICE_ERROR,
          "%s: NULL function (its module or kernel did not load)", call);
    return;
  }
  for (intptr_t extent : {gridX, gridY, gridZ, blockX, blockY, blockZ}) {
    if (extent < 1 || uintmax_t(extent) > UINT32_MAX) {
      pendf(ATTNRT_DEVICE_ERROR,
            "%s: grid (%" PRIdPTR ", %" PRIdPTR ", %" PRIdPTR
            ") and block (%" PRIdPTR ", %" PRIdPTR ", %" PRIdPTR
            ") must be positive 32-bit sizes",
            call, gridX, gridY, gridZ, blockX, blockY, blockZ);
      return;
    }
  }
  int maxShared = device().maxSharedPerBlockOptin;
  if (smem < 0 || smem > maxShared) {
    pendf(ATTNRT_DEVICE_ERROR,
          "%s: %" PRId32 " bytes of dynamic shared memory requested; the "
          "device allows 0 to %d per block",
          call, smem, maxShared);
    return;
  }
  auto *kernel = static_cast<CUfunction>(function);
  const Driver &api = driver();
  if (smem > kDefaultSharedMemoryLimit &&
      !succeeded(
          call, "cuFuncSetAttribute",
          api.cuFuncSetAttribute(
              kernel, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, smem)))
    return;
  succeeded(call, "cuLaunchKernel",
            api.cuLaunchKernel(
                kernel, unsigned(gridX), unsigned(gridY), unsigned(gridZ),
                unsigned(blockX), unsigned(blockY), unsigned(blockZ),
                unsigned(smem), static_cast<CUstream>(stream), params, extra));
}

void *mgpuStreamCreate(void) {
  if (!ready("mgpuStreamCreate"))
    return nullptr;
  return currentStream();
}

void mgpuStreamDestroy(void *stream) {
  // The stream is the caller's (see mgpuStreamCreate).
}

void mgpuStreamSynchronize(void *stream) {
  const char *call = "mgpuStreamSynchronize";
  if (ready(call))
    succeeded(call, "cuStreamSynchronize",
              driver().cuStreamSynchronize(static_cast<CUstream>(stream)));
}

void mgpuStreamWaitEvent(void *stream, void *event) {
  const char *call = "mgpuStreamWaitEvent";
  if (ready(call))
    succeeded(call, "cuStreamWaitEvent",
              driver().cuStreamWaitEvent(static_cast<CUstream>(stream),
                                         static_cast<CUevent>(event), 0));
}

void *mgpuEventCreate(void) {
  const char *call = "mgpuEventCreate";
  if (!ready(call))
    return nullptr;
  CUevent event = nullptr;
  if (!succeeded(call, "cuEventCreate",
                 driver().cuEventCreate(&event, CU_EVENT_DISABLE_TIMING)))
    return nullptr;
  return event;
}

void mgpuEventDestroy(void *event) {
  const char *call = "mgpuEventDestroy";
  if (event && ready(call))
    succeeded(call, "cuEventDestroy",
              driver().cuEventDestroy(static_cast<CUevent>(event)));
}

void mgpuEventSynchronize(void *event) {
  const char *call = "mgpuEventSynchronize";
  if (ready(call))
    succeeded(call, "cuEventSynchronize",
              driver().cuEventSynchronize(static_cast<CUevent>(event)));
}

void mgpuEventRecord(void *event, void *stream) {
  const char *call = "mgpuEventRecord";
  if (ready(call))
    succeeded(call, "cuEventRecord",
              driver().cuEventRecord(static_cast<CUevent>(event),
                                     static_cast<CUstream>(stream)));
}

void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared) {
  const char *call = "mgpuMemAlloc";
  if (sizeBytes == 0 || !ready(call))
    return nullptr;
  const Driver &api = driver();
  CUdeviceptr p = 0;
  bool pooled = !isHostShared && device().streamOrderedAlloc;
  CUresult r = isHostShared
                   ? api.cuMemAllocManaged(&p, sizeBytes, CU_MEM_ATTACH_GLOBAL)
               : pooled ? api.cuMemAllocAsync(&p, sizeBytes, static_cast<CUstream>(stream))
                        : api.cuMemAlloc(&p, sizeBytes);
  if (r) {
    pendf(ATTNRT_DEVICE_ERROR,
          "%s: cannot allocate %" PRIu64 " bytes: %s failed: %s", call,
          sizeBytes,
          isHostShared ? "cuMemAllocManaged"
          : pooled     ? "cuMemAllocAsync"
                       : "cuMemAlloc",
          describe(r).text);
    return nullptr;
  }
  return asPointer(p);
}

void mgpuMemFree(void *ptr, void *stream) {
  const char *call = "mgpuMemFree";
  if (!ptr || !ready(call))
    return;
  // Pool memory goes back to the pool in stream order; memory the pool did
  // not give (managed, host-shared allocations) is refused by
  // cuMemFreeAsync without harm and freed by cuMemFree.
  const Driver &api = driver();
  if (device().streamOrderedAlloc &&
      api.cuMemFreeAsync(devicePointer(ptr), static_cast<CUstream>(stream)) ==
          CUDA_SUCCESS)
    return;
  succeeded(call, "cuMemFree", api.cuMemFree(devicePointer(ptr)));
}

void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream) {
  const char *call = "mgpuMemcpy";
  if (sizeBytes && ready(call))
    succeeded(call, "cuMemcpyAsync",
              driver().cuMemcpyAsync(devicePointer(dst), devicePointer(src),
                                     sizeBytes, static_cast<CUstream>(stream)));
}

void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream) {
  const char *call = "mgpuMemset32";
  if (count && ready(call))
    succeeded(call, "cuMemsetD32Async",
              driver().cuMemsetD32Async(devicePointer(dst), value, count,
                                        static_cast<CUstream>(stream)));
}

void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream) {
  const char *call = "mgpuMemset16";
  if (count && ready(call))
    succeeded(call, "cuMemsetD16Async",
              driver().cuMemsetD16Async(devicePointer(dst), value, count,
                                        static_cast<CUstream>(stream)));
}

void mgpuSetDefaultDevice(int32_t ordinal) {
  if (!requestDevice(ordinal))
    pendf(ATTNRT_DEVICE_ERROR,
          "mgpuSetDefaultDevice: device %" PRId32
          " requested, but the runtime already uses device %d",
          ordinal, device().ordinal);
}

void *mgpuTensorMapEncodeTiledMemref(int64_t rank, void *descriptor,
                                     int64_t dataType, int64_t interleave,
                                     int64_t swizzle, int64_t l2Promotion,
                                     int64_t oobFill, int64_t *boxDims) {
  const char *call = "mgpuTensorMapEncodeTiledMemref";
  if (!ready(call))
    return nullptr;
  if (!driver().cuTensorMapEncodeTiled) {
    pendf(ATTNRT_UNAVAILABLE,
          "%s: the CUDA driver has no cuTensorMapEncodeTiled (CUDA 12 or "
          "later needed)",
          call);
    return nullptr;
  }
  if (rank < 1 || rank > 5 || !descriptor || !boxDims) {
    pendf(ATTNRT_DEVICE_ERROR,
          "%s: rank %" PRId64 " outside 1 to 5, or a NULL argument", call,
          rank);
    return nullptr;
  }
  if (dataType < 0 || dataType >= int64_t(std::size(kTensorMapElementBytes))) {
    pendf(ATTNRT_DEVICE_ERROR, "%s: unsupported CUtensorMapDataType %" PRId64,
          call, dataType);
    return nullptr;
  }
  const auto *header = static_cast<const MemRefHeader *>(descriptor);
  const auto *sizes = reinterpret_cast<const int64_t *>(header + 1);
  const int64_t *strides = sizes + rank;
  int64_t elementBytes = kTensorMapElementBytes[dataType];
  ShapeText shape = describeShape(rank, sizes, boxDims);

  TensorMapRequest request{dataType,    rank,    interleave, swizzle,
                           l2Promotion, oobFill, nullptr,    {},
                           {},          {},      {}};
  request.address = header->aligned + header->offset * elementBytes;
  if (strides[rank - 1] != 1) {
    pendf(ATTNRT_DEVICE_ERROR,
          "%s: innermost stride %" PRId64 "; TMA needs contiguous rows (%s)",
          call, strides[rank - 1], shape.text);
    return nullptr;
  }
  // The driver numbers dimensions from the innermost, memrefs from the
  // outermost.
  for (int64_t i = 0; i < rank; ++i) {
    int64_t d = rank - 1 - i;
    if (sizes[d] < 1 || boxDims[d] < 1 || boxDims[d] > int64_t(UINT32_MAX) ||
        strides[d] < 1) {
      pendf(ATTNRT_DEVICE_ERROR,
            "%s: dimension %" PRId64 " has size %" PRId64 ", stride %" PRId64
            " and box %" PRId64 "; all must be positive (%s)",
            call, d, sizes[d], strides[d], boxDims[d], shape.text);
      return nullptr;
    }
    request.globalDim[i] = uint64_t(sizes[d]);
    request.boxDim[i] = uint32_t(boxDims[d]);
    request.elementStrides[i] = 1;
    if (i > 0)
      request.globalStrides[i - 1] = uint64_t(strides[d] * elementBytes);
  }
  return deviceTensorMap(call, request, shape);
}

} // extern "C"

#pragma GCC visibility pop
