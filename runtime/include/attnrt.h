/*===- attnrt.h - the attn runtime C ABI --------------------------*- C -*-===*
 *
 * libattnrt loads kernels that attn-compile emitted, resolves their entry
 * points and calls them; it owns host buffers. It has no MLIR or LLVM
 * dependency. Every call returns a status; on failure attnrt_last_error()
 * holds a message for the calling thread and no state was changed.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTNRT_H
#define ATTNRT_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef enum attnrt_status {
  ATTNRT_OK = 0,
  ATTNRT_INVALID_ARGUMENT = 1,
  ATTNRT_NOT_FOUND = 2,
  ATTNRT_LOAD_FAILED = 3,
  ATTNRT_OUT_OF_MEMORY = 4,
  /* No CUDA driver could be loaded, or it found no usable device. */
  ATTNRT_UNAVAILABLE = 5,
  /* The CUDA driver rejected a call or a kernel failed on the device. */
  ATTNRT_DEVICE_ERROR = 6,
  /* A cache has no room: no free sequence slot or too few free pages. */
  ATTNRT_CACHE_FULL = 7,
} attnrt_status;

typedef struct attnrt_module attnrt_module;

/* The message of the last failed call on this thread ("" if none). */
const char *attnrt_last_error(void);
/* A short name for a status code. */
const char *attnrt_status_string(attnrt_status status);

/* Loads a library written by attn-compile. A GPU library loads its device
 * code from global constructors; when that fails the load fails too, with the
 * CUDA error's status and message. */
attnrt_status attnrt_module_load(const char *path, attnrt_module **module);
/* Unloads it; NULL is accepted. */
void attnrt_module_unload(attnrt_module *module);
/* The JSON manifest embedded in the library (valid while it is loaded). */
const char *attnrt_module_manifest(const attnrt_module *module);

/* Number of pointer arguments (inputs then outputs) of entry `name`. */
attnrt_status attnrt_entry_arg_count(const attnrt_module *module,
                                     const char *name, int32_t *count);
/* Calls entry `name` with `count` pointers; fails without calling when the
 * entry does not exist, the count differs, or a pointer is NULL. When a GPU
 * entry's host code hits a CUDA failure (see attnrt_cuda_take_error), the call
 * returns that error's status (ATTNRT_DEVICE_ERROR or ATTNRT_UNAVAILABLE). */
attnrt_status attnrt_call(const attnrt_module *module, const char *name,
                          void **args, int32_t count);

/* Host buffers aligned to 64 bytes (one cache line, one AVX-512 vector). */
attnrt_status attnrt_host_alloc(size_t bytes, void **buffer);
void attnrt_host_free(void *buffer);

#ifdef __cplusplus
}
#endif

#endif /* ATTNRT_H */
