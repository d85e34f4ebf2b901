//===- Status.cpp - status strings, error messages and pending errors -----===//
//
// This file implements the per-thread error message behind
// attnrt_last_error(), the names of the status codes, and the per-thread
// pending error the mgpu* functions leave for attnrt_call to report.
//
//===----------------------------------------------------------------------===//

#include "Status.h"

#include <cstdarg>
#include <cstdio>

namespace {
thread_local std::string lastError;

// Plain storage, not std::string: the mgpu* functions run from global
// constructors and destructors of kernel libraries, possibly after this
// thread's non-trivial thread_locals are gone.
constexpr size_t kMessageCapacity = 4096;
thread_local attnrt_status pendingStatus = ATTNRT_OK;
thread_local char pendingMessage[kMessageCapacity];
} // namespace

namespace attnrt {

attnrt_status fail(attnrt_status status, std::string message) {
  lastError = std::move(message);
  return status;
}

attnrt_status failf(attnrt_status status, const char *format, ...) noexcept {
  char buffer[kMessageCapacity];
  va_list args;
  va_start(args, format);
  vsnprintf(buffer, sizeof(buffer), format, args);
  va_end(args);
  try {
    lastError = buffer;
  } catch (...) {
    lastError.clear(); // out of memory for the message; the status stands
  }
  return status;
}

attnrt_status succeed() noexcept {
  lastError.clear();
  return ATTNRT_OK;
}

void pendf(attnrt_status status, const char *format, ...) noexcept {
  if (pendingStatus != ATTNRT_OK)
    return;
  va_list args;
  va_start(args, format);
  vsnprintf(pendingMessage, sizeof(pendingMessage), format, args);
  va_end(args);
  pendingStatus = status;
}

attnrt_status takePendingError(const char *prefix) noexcept {
  attnrt_status status = pendingStatus;
  if (status == ATTNRT_OK)
    return ATTNRT_OK;
  pendingStatus = ATTNRT_OK;
  return failf(status, "%s%s", prefix, pendingMessage);
}

void discardPendingError() noexcept { pendingStatus = ATTNRT_OK; }

} // namespace attnrt

extern "C" {

const char *attnrt_last_error(void) { return lastError.c_str(); }

const char *attnrt_status_string(attnrt_status status) {
  switch (status) {
  case ATTNRT_OK:
    return "ok";
  case ATTNRT_INVALID_ARGUMENT:
    return "invalid argument";
  case ATTNRT_NOT_FOUND:
    return "not found";
  case ATTNRT_LOAD_FAILED:
    return "load failed";
  case ATTNRT_OUT_OF_MEMORY:
    return "out of memory";
  case ATTNRT_UNAVAILABLE:
    return "CUDA driver or device unavailable";
  case ATTNRT_DEVICE_ERROR:
    return "device error";
  case ATTNRT_CACHE_FULL:
    return "cache full";
  }
  return "unknown status";
}

} // extern "C"
