//===- Ceilings.cpp - machine ceilings measured in the benchmark run ------===//
//
// This file implements the FMA and memcpy ceilings. The FMA loop keeps its 24
// accumulators in registers (checked in the disassembly: the loop body is
// vfmadd231ps on zmm registers only, no loads or stores), so it measures
// throughput, not store-forwarding latency.
//
//===----------------------------------------------------------------------===//

#include "Ceilings.h"

#include <immintrin.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

using Clock = std::chrono::steady_clock;

__attribute__((target("avx512f"), noinline)) static float
fmaLoop(long iterations, float seed) {
  __m512 a[24];
  for (int i = 0; i < 24; ++i)
    a[i] = _mm512_set1_ps(seed + 0.001f * float(i));
  const __m512 x = _mm512_set1_ps(0.999999f), y = _mm512_set1_ps(1e-7f);
  for (long n = 0; n < iterations; ++n) {
#define ATTN_FMA(i) a[i] = _mm512_fmadd_ps(a[i], x, y);
    ATTN_FMA(0) ATTN_FMA(1) ATTN_FMA(2) ATTN_FMA(3) ATTN_FMA(4) ATTN_FMA(5)
    ATTN_FMA(6) ATTN_FMA(7) ATTN_FMA(8) ATTN_FMA(9) ATTN_FMA(10) ATTN_FMA(11)
    ATTN_FMA(12) ATTN_FMA(13) ATTN_FMA(14) ATTN_FMA(15) ATTN_FMA(16)
    ATTN_FMA(17) ATTN_FMA(18) ATTN_FMA(19) ATTN_FMA(20) ATTN_FMA(21)
    ATTN_FMA(22) ATTN_FMA(23)
#undef ATTN_FMA
  }
  __m512 sum = a[0];
  for (int i = 1; i < 24; ++i)
    sum = _mm512_add_ps(sum, a[i]);
  return _mm512_reduce_add_ps(sum);
}

double attn::bench::measureFmaCeiling(int threads) {
  const long iterations = 40'000'000;
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::thread> pool;
    std::vector<float> sink(threads);
    auto start = Clock::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { sink[t] = fmaLoop(iterations, 1.0f + t); });
    for (auto &th : pool)
      th.join();
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    // 24 FMAs x 16 lanes x 2 flops per iteration.
    double flops = double(threads) * iterations * 24 * 16 * 2;
    best = std::max(best, flops / seconds / 1e9);
  }
  return best;
}

double attn::bench::measureMemcpyBandwidth(int threads) {
  const size_t bytes = size_t(256) << 20; // per thread, far past the caches
  std::vector<std::vector<char>> src(threads, std::vector<char>(bytes, 1)),
      dst(threads, std::vector<char>(bytes, 0));
  double best = 0.0;
  for (int rep = 0; rep < 3; ++rep) {
    std::vector<std::thread> pool;
    auto start = Clock::now();
    for (int t = 0; t < threads; ++t)
      pool.emplace_back([&, t] { std::memcpy(dst[t].data(), src[t].data(), bytes); });
    for (auto &th : pool)
      th.join();
    double seconds = std::chrono::duration<double>(Clock::now() - start).count();
    best = std::max(best, 2.0 * double(bytes) * threads / seconds / 1e9);
  }
  return best;
}
