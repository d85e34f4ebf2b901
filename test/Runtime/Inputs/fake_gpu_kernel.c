/*===- fake_gpu_kernel.c - a stand-in for a GPU kernel library ----*- C -*-===*
 *
 * Shaped like what attn-compile will emit for a GPU target: a manifest,
 * <name>_nargs counts and <name>_packed wrappers whose host code calls the
 * mgpu* ABI, and, with ATTN_FAKE_LOADS_PTX, a global constructor and
 * destructor that load and unload the device code as MLIR's gpu.binary
 * lowering does. Built by the test CMakeLists, so the CUDA tests need neither
 * attn-compile nor a CUDA toolkit.
 *
 * Entries (every argument is a pointer, as attnrt_call passes them):
 *   alloc(void **out)      allocates 256 device bytes, stores the pointer it
 *                          got in *out, frees them
 *   huge_alloc(void **out) asks for 2^60 bytes, which no device has
 *   noop(void *unused)     touches nothing
 *   saxpy(x, y, &a, &n)    y = a * x + y on the device; x and y are device
 *                          pointers, a a float, n a uint32_t
 *
 *===----------------------------------------------------------------------===*/

#include "attnrt_cuda.h"

#include <stdint.h>

const char attn_manifest[] =
    "{\"entries\": [\"alloc\", \"huge_alloc\", \"noop\", \"saxpy\"]}";

static void *module;

#ifdef ATTN_FAKE_LOADS_PTX
#include "saxpy_ptx.h"

__attribute__((constructor)) static void loadModule(void) {
  module = mgpuModuleLoadJIT(kSaxpyPtx, 3);
}

__attribute__((destructor)) static void unloadModule(void) {
  mgpuModuleUnload(module);
}
#endif

static void allocate(void **args, uint64_t bytes) {
  void *stream = mgpuStreamCreate();
  void *p = mgpuMemAlloc(bytes, stream, false);
  *(void **)args[0] = p;
  mgpuMemFree(p, stream);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
}

const int32_t alloc_nargs = 1;
void alloc_packed(void **args) { allocate(args, 256); }

const int32_t huge_alloc_nargs = 1;
void huge_alloc_packed(void **args) { allocate(args, (uint64_t)1 << 60); }

const int32_t noop_nargs = 1;
void noop_packed(void **args) { (void)args; }

const int32_t saxpy_nargs = 4;
void saxpy_packed(void **args) {
  void *stream = mgpuStreamCreate();
  void *function = mgpuModuleGetFunction(module, "saxpy");
  void *x = args[0], *y = args[1];
  float a = *(const float *)args[2];
  uint32_t n = *(const uint32_t *)args[3];
  void *params[] = {&x, &y, &a, &n};
  intptr_t blocks = ((intptr_t)n + 255) / 256;
  mgpuLaunchKernel(function, blocks, 1, 1, 256, 1, 1, 0, stream, params, 0, 4);
  mgpuStreamSynchronize(stream);
  mgpuStreamDestroy(stream);
}
