/*===- attnrt_cuda.h - the CUDA half of the attn runtime C ABI ----*- C -*-===*
 *
 * libattnrt drives NVIDIA GPUs through the CUDA driver API, which it loads
 * with dlopen("libcuda.so.1") on first use: nothing links against libcuda,
 * and a machine without a driver gets ATTNRT_UNAVAILABLE, not a loader
 * error. The environment variable ATTNRT_CUDA_DRIVER, read once at that
 * first use, names another library to load instead.
 *
 * The runtime works on one device (ordinal 0 unless mgpuSetDefaultDevice
 * chose another before the first use) through its primary context, which
 * every call makes current on the calling thread.
 *
 * Device pointers are plain `void *` holding CUdeviceptr values; streams and
 * events are the driver's CUstream and CUevent handles.
 *
 * Like attnrt.h, every attnrt_cuda_* call returns a status and on failure
 * leaves a message in attnrt_last_error() and its outputs untouched.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNRT_CUDA_H
#define ATTNRT_CUDA_H

#include "attnrt.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Loads the driver, initializes it and makes device 0's primary context
 * current; creates the runtime's default stream. Idempotent: later calls
 * return the first call's outcome (ATTNRT_UNAVAILABLE when there is no driver
 * or no device). */
attnrt_status attnrt_cuda_init(void);

/* The device's name (cut to fit `name_len` bytes, NUL included), compute
 * capability and number of SMs. */
attnrt_status attnrt_cuda_device_info(char *name, size_t name_len,
                                      int *cc_major, int *cc_minor,
                                      int *sm_count);

/* Device memory. A 0-byte request still returns a distinct pointer;
 * attnrt_cuda_free accepts NULL. */
attnrt_status attnrt_cuda_malloc(size_t bytes, void **dptr);
attnrt_status attnrt_cuda_free(void *dptr);

/* Whether `ptr` is device memory of the runtime's context (cuMemAlloc'd or
 * managed): *is_device = 1; host memory, pinned or not: 0. */
attnrt_status attnrt_cuda_pointer_is_device(const void *ptr, int *is_device);

/* Copies and fills run on the current stream (after the work queued there)
 * and have finished when the call returns. */
attnrt_status attnrt_cuda_memcpy_htod(void *dst, const void *src, size_t bytes);
attnrt_status attnrt_cuda_memcpy_dtoh(void *dst, const void *src, size_t bytes);
attnrt_status attnrt_cuda_memset_u8(void *dptr, uint8_t value, size_t bytes);

/* Waits for all work on the device (every stream); reports what failed
 * asynchronously, such as a kernel's illegal memory access. */
attnrt_status attnrt_cuda_synchronize(void);

/* The calling thread's current stream: the one compiled host code launches
 * on and the copies above use. NULL restores the runtime's default stream;
 * the driver's legacy default stream is CU_STREAM_LEGACY, (void *)0x1. */
attnrt_status attnrt_cuda_set_stream(void *stream);
attnrt_status attnrt_cuda_get_stream(void **stream);

/* Timing events. Record captures the current stream; elapsed waits for `end`
 * and gives the milliseconds between the two. Destroy accepts NULL. */
attnrt_status attnrt_cuda_event_create(void **event);
attnrt_status attnrt_cuda_event_record(void *event);
attnrt_status attnrt_cuda_event_elapsed_ms(void *start, void *end, float *ms);
attnrt_status attnrt_cuda_event_destroy(void *event);

/* The mgpu* functions below return no status; the first failure among them
 * stays pending on the calling thread until taken. Returns ATTNRT_OK when
 * nothing is pending; otherwise clears it, puts its message in
 * attnrt_last_error() and returns its status (ATTNRT_UNAVAILABLE when the
 * driver could not be used at all, ATTNRT_DEVICE_ERROR for the rest).
 * attnrt_call takes it for the entry it ran. */
attnrt_status attnrt_cuda_take_error(void);

/*===----------------------------------------------------------------------===*
 * The host-side ABI of MLIR's gpu-to-llvm lowering (LLVM 22), which compiled
 * host code calls. Handles are CUmodule, CUfunction, CUstream and CUevent.
 * These never abort or print: a failure returns NULL or does nothing and
 * leaves a pending error (see attnrt_cuda_take_error).
 *
 * Streams: mgpuStreamCreate returns the current stream rather than a new
 * one, and mgpuStreamDestroy does nothing, so compiled code launches on the
 * caller's stream.
 *===----------------------------------------------------------------------===*/

/* A cubin, fatbin or PTX image; gpuBlobSize is unused (the driver finds the
 * end itself). */
void *mgpuModuleLoad(void *data, size_t gpuBlobSize);
/* NUL-terminated PTX, JIT-compiled at optLevel (0-4). */
void *mgpuModuleLoadJIT(void *data, int optLevel);
void mgpuModuleUnload(void *module);
void *mgpuModuleGetFunction(void *module, const char *name);
/* Sizes are intptr_t to match MLIR's index type. Above 48 KiB of dynamic
 * shared memory the function's limit is raised first. */
void mgpuLaunchKernel(void *function, intptr_t gridX, intptr_t gridY,
                      intptr_t gridZ, intptr_t blockX, intptr_t blockY,
                      intptr_t blockZ, int32_t smem, void *stream,
                      void **params, void **extra, size_t paramsCount);

void *mgpuStreamCreate(void);
void mgpuStreamDestroy(void *stream);
void mgpuStreamSynchronize(void *stream);
void mgpuStreamWaitEvent(void *stream, void *event);

void *mgpuEventCreate(void);
void mgpuEventDestroy(void *event);
void mgpuEventSynchronize(void *event);
void mgpuEventRecord(void *event, void *stream);

/* isHostShared asks for managed memory, usable from host and device. A
 * 0-byte request returns NULL. Allocation and free are not stream-ordered. */
void *mgpuMemAlloc(uint64_t sizeBytes, void *stream, bool isHostShared);
void mgpuMemFree(void *ptr, void *stream);
/* Either side may be host or device memory (unified addressing). */
void mgpuMemcpy(void *dst, void *src, size_t sizeBytes, void *stream);
/* `count` is in elements of 4 and 2 bytes. */
void mgpuMemset32(void *dst, unsigned int value, size_t count, void *stream);
void mgpuMemset16(void *dst, unsigned short value, size_t count, void *stream);

/* Chooses the device of the first use; afterwards only that device is
 * accepted. */
void mgpuSetDefaultDevice(int32_t device);

/* Encodes a TMA descriptor (CUtensorMap) for the memref whose ranked
 * descriptor is at `descriptor` ({allocated, aligned, offset, sizes[rank],
 * strides[rank]}), tiled by boxDims (outermost first), and returns a device
 * pointer to a copy of it that kernels take as an argument. The enum
 * arguments are the driver's CUtensorMap* values. Identical requests share
 * one copy, which lives as long as the process. */
void *mgpuTensorMapEncodeTiledMemref(int64_t rank, void *descriptor,
                                     int64_t dataType, int64_t interleave,
                                     int64_t swizzle, int64_t l2Promotion,
                                     int64_t oobFill, int64_t *boxDims);

#ifdef __cplusplus
}
#endif

#endif /* ATTNRT_CUDA_H */
