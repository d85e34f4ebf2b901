//===- Module.cpp - loading and calling compiled attn kernels -------------===//
//
// This file implements module loading (dlopen), entry resolution (dlsym of
// the <name>_packed wrappers and <name>_nargs counts attn-compile emits),
// calls and host buffers. GPU libraries call back into libattnrt's mgpu*
// functions while they load and run; the errors those leave pending become
// the status of attnrt_module_load and attnrt_call.
//
//===----------------------------------------------------------------------===//

#include "Status.h"

#include <dlfcn.h>

#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <new>
#include <string>

struct attnrt_module {
  void *handle = nullptr;
  const char *manifest = nullptr;
  std::string path;
};

using attnrt::fail;
using attnrt::succeed;

namespace {
using PackedFn = void (*)(void **);
} // namespace

extern "C" {

attnrt_status attnrt_module_load(const char *path, attnrt_module **module) {
  if (!path || !module)
    return fail(ATTNRT_INVALID_ARGUMENT, "attnrt_module_load: NULL argument");
  // A GPU library's constructors load its device code through mgpu*
  // calls; what they leave pending belongs to this load.
  attnrt::discardPendingError();
  void *handle = dlopen(path, RTLD_NOW | RTLD_LOCAL);
  if (!handle) {
    attnrt::discardPendingError();
    return fail(ATTNRT_LOAD_FAILED,
                std::string("cannot load ") + path + ": " + dlerror());
  }
  auto *manifest = static_cast<const char *>(dlsym(handle, "attn_manifest"));
  if (!manifest) {
    dlclose(handle);
    attnrt::discardPendingError();
    return fail(ATTNRT_LOAD_FAILED, std::string(path) +
                                        " is not an attn kernel library (no "
                                        "attn_manifest symbol)");
  }
  std::string prefix = std::string("cannot load ") + path + ": ";
  if (attnrt_status s = attnrt::takePendingError(prefix.c_str())) {
    dlclose(handle);
    attnrt::discardPendingError(); // its destructors unload what did load
    return s;
  }
  auto *result = new (std::nothrow) attnrt_module;
  if (!result) {
    dlclose(handle);
    return fail(ATTNRT_OUT_OF_MEMORY, "attnrt_module_load: out of memory");
  }
  result->handle = handle;
  result->manifest = manifest;
  result->path = path;
  *module = result;
  return succeed();
}

void attnrt_module_unload(attnrt_module *module) {
  if (!module)
    return;
  dlclose(module->handle);
  delete module;
}

const char *attnrt_module_manifest(const attnrt_module *module) {
  return module ? module->manifest : "";
}

attnrt_status attnrt_entry_arg_count(const attnrt_module *module,
                                     const char *name, int32_t *count) {
  if (!module || !name || !count)
    return fail(ATTNRT_INVALID_ARGUMENT, "attnrt_entry_arg_count: NULL argument");
  std::string symbol = std::string(name) + "_nargs";
  auto *nargs = static_cast<const int32_t *>(dlsym(module->handle, symbol.c_str()));
  if (!nargs)
    return fail(ATTNRT_NOT_FOUND, std::string("no entry point '") + name +
                                      "' in " + module->path);
  *count = *nargs;
  return succeed();
}

attnrt_status attnrt_call(const attnrt_module *module, const char *name,
                          void **args, int32_t count) {
  int32_t expected = 0;
  if (attnrt_status s = attnrt_entry_arg_count(module, name, &expected))
    return s;
  if (count != expected)
    return fail(ATTNRT_INVALID_ARGUMENT,
                std::string("entry '") + name + "' takes " +
                    std::to_string(expected) + " pointers, got " +
                    std::to_string(count));
  for (int32_t i = 0; i < count; ++i)
    if (!args || !args[i])
      return fail(ATTNRT_INVALID_ARGUMENT, std::string("entry '") + name +
                                               "': pointer " +
                                               std::to_string(i) + " is NULL");
  std::string symbol = std::string(name) + "_packed";
  auto packed = reinterpret_cast<PackedFn>(dlsym(module->handle, symbol.c_str()));
  if (!packed)
    return fail(ATTNRT_NOT_FOUND, std::string("no packed wrapper for '") +
                                      name + "' in " + module->path);
  // Only what this entry's host code leaves pending is its error.
  attnrt::discardPendingError();
  packed(args);
  std::string prefix = std::string("entry '") + name + "': ";
  if (attnrt_status s = attnrt::takePendingError(prefix.c_str()))
    return s;
  return succeed();
}

attnrt_status attnrt_host_alloc(size_t bytes, void **buffer) {
  if (!buffer)
    return fail(ATTNRT_INVALID_ARGUMENT, "attnrt_host_alloc: NULL argument");
  if (bytes > SIZE_MAX - 63)
    return fail(ATTNRT_OUT_OF_MEMORY, "attnrt_host_alloc: cannot allocate " +
                                          std::to_string(bytes) + " bytes");
  size_t rounded = (bytes + 63) / 64 * 64;
  void *p = std::aligned_alloc(64, rounded ? rounded : 64);
  if (!p)
    return fail(ATTNRT_OUT_OF_MEMORY, "attnrt_host_alloc: cannot allocate " +
                                          std::to_string(bytes) + " bytes");
  *buffer = p;
  return succeed();
}

void attnrt_host_free(void *buffer) { std::free(buffer); }

} // extern "C"
