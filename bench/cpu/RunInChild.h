//===- RunInChild.h - run one benchmark case in its own process -*- C++ -*-===//
//
// Each benchmark case runs in a forked child so that its thread count
// (OMP_NUM_THREADS is read once per process), its peak memory and any crash
// stay its own. The child sends back a trivially copyable result by a pipe.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_BENCH_CPU_RUNINCHILD_H
#define ATTN_BENCH_CPU_RUNINCHILD_H

#include <sys/wait.h>
#include <unistd.h>

#include <type_traits>

namespace attn::bench {

/// Runs `fn` in a child process and stores what it returns in `result`;
/// false when the child failed or crashed.
template <typename T, typename Fn> bool runInChild(Fn fn, T &result) {
  static_assert(std::is_trivially_copyable_v<T>);
  int fds[2];
  if (pipe(fds) != 0)
    return false;
  pid_t pid = fork();
  if (pid == 0) {
    close(fds[0]);
    T r = fn();
    if (write(fds[1], &r, sizeof(r)) != ssize_t(sizeof(r)))
      _exit(4);
    _exit(0);
  }
  close(fds[1]);
  bool ok = read(fds[0], &result, sizeof(result)) == ssize_t(sizeof(result));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  return ok && WIFEXITED(status) && WEXITSTATUS(status) == 0;
}

} // namespace attn::bench

#endif // ATTN_BENCH_CPU_RUNINCHILD_H
