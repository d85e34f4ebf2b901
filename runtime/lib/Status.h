//===- Status.h - error state shared by the runtime's files -----*- C++ -*-===//
//
// Internal to libattnrt. Every C entry point reports failure through a status
// and a per-thread message; the mgpu* functions, which return no status,
// leave a per-thread "pending" error instead that attnrt_call and
// attnrt_cuda_take_error collect.
//
//===----------------------------------------------------------------------===//

#ifndef ATTNRT_LIB_STATUS_H
#define ATTNRT_LIB_STATUS_H

#include "attnrt.h"

#include <string>

#define ATTNRT_INTERNAL __attribute__((visibility("hidden")))

namespace attnrt {

/// Sets the calling thread's message and returns `status`.
ATTNRT_INTERNAL attnrt_status fail(attnrt_status status, std::string message);

/// printf-style fail that never throws: the message is formatted on the
/// stack (and cut at 4 KiB), so C entry points can report any failure without
/// an exception escaping through the C ABI.
ATTNRT_INTERNAL attnrt_status failf(attnrt_status status, const char *format,
                                    ...) noexcept
    __attribute__((format(printf, 2, 3)));

/// Clears the calling thread's message and returns ATTNRT_OK.
ATTNRT_INTERNAL attnrt_status succeed() noexcept;

/// Records a pending error for the calling thread unless one is already
/// pending: the first failure is the one worth reporting, later ones are
/// usually its consequences. Never throws and never allocates, so it is safe
/// from global constructors and destructors.
ATTNRT_INTERNAL void pendf(attnrt_status status, const char *format,
                           ...) noexcept __attribute__((format(printf, 2, 3)));

/// Moves the pending error, if any, into the calling thread's message with
/// `prefix` in front and returns its status; returns ATTNRT_OK and leaves the
/// message alone when nothing is pending.
ATTNRT_INTERNAL attnrt_status takePendingError(const char *prefix) noexcept;

/// Drops a pending error left over from earlier calls.
ATTNRT_INTERNAL void discardPendingError() noexcept;

} // namespace attnrt

#endif // ATTNRT_LIB_STATUS_H
