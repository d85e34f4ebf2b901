//===- Ceilings.h - machine ceilings measured in the benchmark run -*- C++ -*-===//
//
// The anchors every CPU number is divided by, measured in the same process:
// the f32 FMA ceiling (independent accumulators held in registers) and the
// memcpy bandwidth (bytes read + written per second).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_BENCH_CPU_CEILINGS_H
#define ATTN_BENCH_CPU_CEILINGS_H

namespace attn::bench {

/// GFLOP/s of `threads` threads each running an AVX-512 FMA loop with 24
/// independent zmm accumulators.
double measureFmaCeiling(int threads);

/// GB/s of memcpy over a buffer far larger than the caches, counting the
/// bytes read and the bytes written.
double measureMemcpyBandwidth(int threads);

} // namespace attn::bench

#endif // ATTN_BENCH_CPU_CEILINGS_H
