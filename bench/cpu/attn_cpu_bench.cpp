//===- attn_cpu_bench.cpp - CPU benchmark of attn kernels -----------------===//
//
// attn-cpu-bench [--quick] [--only KIND] [--json FILE]
//
// Measures, in one run: the FMA ceiling and memcpy bandwidth of this
// machine; attn's compiled softmax attention (f32 and bf16, causal and not,
// D = 64 and 128, L from 512 to 16k, 1 and 2 threads) as GFLOP/s and as a
// fraction of the ceiling; an unfused OpenBLAS baseline of the same math
// (sgemm, softmax, sgemm) and attn's speed-up over it; the extra peak memory
// of each call (attn's is O(L): no L x L buffer; the baseline's is L x L);
// and decode against a long cache as a fraction of memcpy bandwidth;
// prefill over int8 / int4 / PQ caches against the same unfused baseline
// after decoding the cache to floats; the
// chunkwise kernels (linear attention with scalar decay, Gated DeltaNet,
// GLA, KDA, log-linear attention on the mamba2 and gated_deltanet bases)
// against the same ceiling, the first two also against an OpenBLAS baseline
// of the same chunkwise math (sgemm per chunk, strsm for the delta rule's
// triangular solve), log-linear mamba2 against the quadratic form on
// OpenBLAS (L <= 4096), and the LoLCATs hybrid (window 64) against the same
// blockwise math on OpenBLAS.
// Every configuration runs in a child process so OMP_NUM_THREADS and peak
// memory are its own. Prints a table and writes JSON.
//
//===----------------------------------------------------------------------===//

#include "Ceilings.h"
#include "RunInChild.h"

#include "attn/Compiler/Compiler.h"
#include "attn/Support/HostTensor.h"
#include "attnrt.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <cblas.h>
#include <sys/resource.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace attn;
using Clock = std::chrono::steady_clock;

namespace {

struct Config {
  std::string kind; // prefill, alibi, sparse, topk, decode, quant8, quant4, pq, linear, gdn,
                    // gla, kda, loglinear, loglinear_gdn, lolcats
  int64_t batch = 1, heads, kvHeads, lq, lk, d;
  bool causal;
  std::string dtype; // f32 or bf16
  int threads;
  bool baseline; // also run the OpenBLAS baseline
};

struct Result {
  double attnMs = 0, attnPeakMB = 0, blasMs = -1, blasPeakMB = -1;
};

std::string tensorType(int64_t b, int64_t h, int64_t l, int64_t d,
                       const std::string &dtype) {
  return llvm::formatv("tensor<{0}x{1}x{2}x{3}x{4}>", b, h, l, d, dtype);
}

/// Chunk length of the chunkwise kernels (ChunkwiseRecurrentCpu.cpp).
constexpr int64_t kChunk = 64;

/// attn.log_linear: mamba2 base ("loglinear") or gated_deltanet base.
bool logLinear(const Config &c) {
  return c.kind == "loglinear" || c.kind == "loglinear_gdn";
}
bool recurrent(const Config &c) {
  return c.kind == "linear" || c.kind == "gdn" || c.kind == "gla" || c.kind == "kda" ||
         logLinear(c);
}
/// The LoLCATs hybrid: sliding window of 64, features F = D.
constexpr int64_t kHybridWindow = 64;
bool hybrid(const Config &c) { return c.kind == "lolcats"; }
/// lambda's level count, ceil(log2 L) + 1.
int64_t fenwickLevels(int64_t l) { return l <= 1 ? 1 : llvm::Log2_64_Ceil(l) + 1; }
/// Per-channel decays: the gate is [B, H, L, D].
bool perChannel(const Config &c) { return c.kind == "gla" || c.kind == "kda"; }
/// The delta rule's kinds (beta, l2norm).
bool deltaKind(const Config &c) {
  return c.kind == "gdn" || c.kind == "kda" || c.kind == "loglinear_gdn";
}

/// Token-sparse attention ("sparse"): per query head and query, kSparseTopK
/// keys drawn uniformly from the causally visible ones.
constexpr int64_t kSparseTopK = 256;
std::vector<int32_t> sparseIndices(const Config &c) {
  std::mt19937 rng(13);
  std::vector<int32_t> idx(size_t(c.batch) * c.heads * c.lq * kSparseTopK);
  for (int64_t r = 0; r < c.batch * c.heads * c.lq; ++r) {
    int64_t i = r % c.lq;
    std::uniform_int_distribution<int32_t> key(0, int32_t(i + c.lk - c.lq));
    for (int64_t e = 0; e < kSparseTopK; ++e)
      idx[size_t(r) * kSparseTopK + e] = key(rng);
  }
  return idx;
}

/// Top-k key selection ("topk", attn.topk_select): the kSelectTopK keys of
/// largest q.k among the causally visible ones, per query head and query.
constexpr int64_t kSelectTopK = 256;

/// The ALiBi-style bias of the "alibi" kind: -kAlibiSlope (h + 1) (i - j).
constexpr double kAlibiSlope = 0.01;

/// Prefill over compressed K/V: int8 / int4 codes (keys per channel in
/// groups of 32 tokens, values per token in groups of 32 channels, no zero
/// points) and PQ keys (m = D / 4 sub-spaces of 4 dims, 256 centroids) with
/// float values.
constexpr int64_t kQuantGroup = 32, kPqSubDims = 4, kPqCentroids = 256;
bool compressed(const Config &c) {
  return c.kind == "quant8" || c.kind == "quant4" || c.kind == "pq";
}
int64_t codeBytes(const Config &c) {
  return c.kind == "quant4" ? c.d / 2 : c.kind == "pq" ? c.d / kPqSubDims : c.d;
}

std::string kernelSource(const Config &c) {
  if (c.kind == "topk") {
    std::string q = tensorType(c.batch, c.heads, c.lq, c.d, c.dtype);
    std::string k = tensorType(c.batch, c.kvHeads, c.lk, c.d, c.dtype);
    std::string idx = tensorType(c.batch, c.heads, c.lq, kSelectTopK, "i32");
    return llvm::formatv(R"(func.func @kernel(%q: {0}, %k: {1}) -> {2} {
  %i = attn.topk_select %q, %k {{topk = {3} : i64, causal} : {0}, {1} -> {2}
  return %i : {2}
})",
                         q, k, idx, kSelectTopK);
  }
  if (c.kind == "sparse") {
    std::string x = tensorType(c.batch, c.heads, c.lq, c.d, c.dtype);
    std::string idx = tensorType(c.batch, c.heads, c.lq, kSparseTopK, "i32");
    return llvm::formatv(R"(func.func @kernel(%q: {0}, %k: {0}, %v: {0}, %i: {1}) -> {0} {
  %o = attn.sparse_attention %q, %k, %v, %i : {1} {causal} : {0}, {0}, {0} -> {0}
  return %o : {0}
})",
                         x, idx);
  }
  if (compressed(c)) {
    std::string q = tensorType(c.batch, c.heads, c.lq, c.d, c.dtype);
    std::string codes = tensorType(c.batch, c.kvHeads, c.lk, codeBytes(c), "i8");
    if (c.kind == "pq") {
      std::string cb = llvm::formatv("tensor<{0}x{1}x{2}x{3}xf32>", c.kvHeads,
                                     c.d / kPqSubDims, kPqCentroids, kPqSubDims);
      std::string v = tensorType(c.batch, c.kvHeads, c.lk, c.d, c.dtype);
      return llvm::formatv(R"(func.func @kernel(%q: {0}, %c: {1}, %cb: {2}, %v: {3}) -> {0} {
  %o = attn.pq_attention %q, %c, %cb, %v : {0}, {1}, {2}, {3} -> {0}
  return %o : {0}
})",
                           q, codes, cb, v);
    }
    std::string ks = tensorType(c.batch, c.kvHeads, c.lk / kQuantGroup, c.d, "f32");
    std::string vs = tensorType(c.batch, c.kvHeads, c.lk, c.d / kQuantGroup, "f32");
    return llvm::formatv(R"(func.func @kernel(%q: {0}, %kc: {1}, %ks: {2}, %vc: {1}, %vs: {3}) -> {0} {
  %o = attn.quant_attention %q, key(%kc, %ks : {1}, {2}) value(%vc, %vs : {1}, {3}) {bits = {4} : i64, group_size = {5} : i64} : {0} -> {0}
  return %o : {0}
})",
                         q, codes, ks, vs, c.kind == "quant4" ? 4 : 8, kQuantGroup);
  }
  if (hybrid(c)) {
    std::string x = tensorType(c.batch, c.heads, c.lq, c.d, c.dtype);
    std::string f = tensorType(c.batch, c.heads, c.lq, c.d, "f32");
    std::string g = llvm::formatv("tensor<{0}xf32>", c.heads);
    return llvm::formatv(R"(func.func @kernel(%q: {0}, %k: {0}, %v: {0}, %fq: {1}, %fk: {1}, %g: {2}) -> {0} {
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : {1}) gamma(%g : {2}) {window = {3}} : {0}, {0}, {0} -> {0}
  return %o : {0}
})",
                         x, f, g, kHybridWindow);
  }
  if (recurrent(c)) {
    std::string x = tensorType(c.batch, c.heads, c.lq, c.d, c.dtype);
    std::string t = llvm::formatv("tensor<{0}x{1}x{2}xf32>", c.batch, c.heads, c.lq);
    std::string g = perChannel(c) ? tensorType(c.batch, c.heads, c.lq, c.d, "f32") : t;
    if (logLinear(c)) {
      std::string lam = tensorType(c.batch, c.heads, c.lq, fenwickLevels(c.lq), "f32");
      if (!deltaKind(c))
        return llvm::formatv(R"(func.func @kernel(%q: {0}, %k: {0}, %v: {0}, %g: {1}, %lam: {2}) -> {0} {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : {2} gate(%g : {1}) : {0}, {0}, {0} -> {0}
  return %o : {0}
})",
                             x, t, lam);
      return llvm::formatv(R"(func.func @kernel(%q: {0}, %k: {0}, %v: {0}, %b: {1}, %g: {1}, %lam: {2}) -> {0} {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : {2} gate(%g : {1}) beta(%b : {1}) : {0}, {0}, {0} -> {0}
  return %o : {0}
})",
                           x, t, lam);
    }
    if (!deltaKind(c))
      return llvm::formatv(R"(func.func @kernel(%q: {0}, %k: {0}, %v: {0}, %g: {1}) -> {0} {
  %o = attn.linear_attention {2} %q, %k, %v gate(%g : {1}) : {0}, {0}, {0} -> {0}
  return %o : {0}
})",
                           x, g, perChannel(c) ? "vector" : "scalar");
    return llvm::formatv(R"(func.func @kernel(%q: {0}, %k: {0}, %v: {0}, %b: {1}, %g: {2}) -> {0} {
  %o = attn.delta_rule {3} %q, %k, %v, %b : {1} gate(%g : {2}) {l2norm} : {0}, {0}, {0} -> {0}
  return %o : {0}
})",
                         x, t, g, perChannel(c) ? "kda" : "gated");
  }
  std::string q = tensorType(c.batch, c.heads, c.lq, c.d, c.dtype);
  std::string kv = tensorType(c.batch, c.kvHeads, c.lk, c.d, c.dtype);
  // "alibi": a score_mod region adding -kAlibiSlope (h + 1) (i - j).
  std::string mod = c.kind != "alibi" ? "" : llvm::formatv(R"(score_mod {
  ^bb0(%s: f32, %b: index, %h: index, %i: index, %j: index):
    %one = arith.constant 1 : index
    %h1 = arith.addi %h, %one : index
    %d = arith.subi %i, %j : index
    %hd = arith.muli %h1, %d : index
    %x = arith.index_cast %hd : index to i64
    %xf = arith.sitofp %x : i64 to f32
    %c = arith.constant {0} : f32
    %bias = arith.mulf %xf, %c : f32
    %r = arith.addf %s, %bias : f32
    attn.yield %r : f32
  })", -kAlibiSlope).str();
  return llvm::formatv(R"(func.func @kernel(%q: {0}, %k: {1}, %v: {1}) -> {0} {
  %o = attn.attention %q, %k, %v {3} {2} : {0}, {1}, {1} -> {0}
  return %o : {0}
})",
                       q, kv, c.causal ? "{causal}" : "", mod);
}

/// Peak resident set of this process in MB.
double peakRssMB() {
  struct rusage usage;
  getrusage(RUSAGE_SELF, &usage);
  return double(usage.ru_maxrss) / 1024.0;
}

double medianMs(std::vector<double> t) {
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

/// Random codes (any byte) with scales in [0.005, 0.02], or for PQ codes
/// with codebooks in [-1, 1] (`keyScale` then holds the codebooks).
struct CompressedKV {
  std::vector<int8_t> keyCodes, valueCodes;
  std::vector<float> keyScale, valueScale;
};
CompressedKV makeCompressed(const Config &c) {
  std::mt19937 rng(11);
  std::uniform_int_distribution<int> byte(-128, 127);
  std::uniform_real_distribution<float> scale(0.005f, 0.02f), unit(-1.0f, 1.0f);
  CompressedKV kv;
  size_t rows = size_t(c.batch) * c.kvHeads * c.lk;
  kv.keyCodes.resize(rows * codeBytes(c));
  for (int8_t &x : kv.keyCodes)
    x = int8_t(byte(rng));
  if (c.kind == "pq") {
    kv.keyScale.resize(size_t(c.kvHeads) * c.d * kPqCentroids);
    for (float &x : kv.keyScale)
      x = unit(rng);
    return kv;
  }
  kv.valueCodes.resize(rows * codeBytes(c));
  for (int8_t &x : kv.valueCodes)
    x = int8_t(byte(rng));
  kv.keyScale.resize(rows / kQuantGroup * c.d);
  kv.valueScale.resize(rows * (c.d / kQuantGroup));
  for (auto *buf : {&kv.keyScale, &kv.valueScale})
    for (float &x : *buf)
      x = scale(rng);
  return kv;
}

/// Code `i` of a row of `bits`-bit signed codes (nibbles low first).
float codeAt(const int8_t *row, int64_t i, bool nibbles) {
  if (!nibbles)
    return float(row[i]);
  int8_t byte = row[i / 2];
  return float(i % 2 ? int8_t(byte) >> 4 : int8_t(uint8_t(byte) << 4) >> 4);
}

/// Head h's float K and V from the codes: what an unfused user computes
/// before the sgemm baseline (dequantised, or PQ keys rebuilt).
void decodeHead(const Config &c, const CompressedKV &kv, int64_t h, float *k,
                float *v, const float *floatV) {
  int64_t width = codeBytes(c), D = c.d;
  bool nibbles = c.kind == "quant4";
  for (int64_t j = 0; j < c.lk; ++j) {
    const int8_t *kc = kv.keyCodes.data() + (size_t(h) * c.lk + j) * width;
    if (c.kind == "pq") {
      for (int64_t sp = 0; sp < D / kPqSubDims; ++sp) {
        const float *centroid =
            kv.keyScale.data() +
            ((size_t(h) * (D / kPqSubDims) + sp) * kPqCentroids + uint8_t(kc[sp])) * kPqSubDims;
        std::copy(centroid, centroid + kPqSubDims, k + j * D + sp * kPqSubDims);
      }
      std::copy(floatV + (size_t(h) * c.lk + j) * D, floatV + (size_t(h) * c.lk + j + 1) * D,
                v + j * D);
      continue;
    }
    const float *ks = kv.keyScale.data() + (size_t(h) * (c.lk / kQuantGroup) + j / kQuantGroup) * D;
    const int8_t *vc = kv.valueCodes.data() + (size_t(h) * c.lk + j) * width;
    const float *vs = kv.valueScale.data() + (size_t(h) * c.lk + j) * (D / kQuantGroup);
    for (int64_t d = 0; d < D; ++d) {
      k[j * D + d] = ks[d] * codeAt(kc, d, nibbles);
      v[j * D + d] = vs[d / kQuantGroup] * codeAt(vc, d, nibbles);
    }
  }
}

/// Runs the compiled kernel; in the child process.
Result runAttn(const std::string &lib, const Config &c, int reps) {
  attnrt_module *module = nullptr;
  if (attnrt_module_load(lib.c_str(), &module) != ATTNRT_OK) {
    fprintf(stderr, "%s\n", attnrt_last_error());
    exit(3);
  }
  auto make = [&](int64_t h, int64_t l, uint32_t seed) {
    HostTensor t;
    t.dtype = c.dtype;
    t.shape = {c.batch, h, l, c.d};
    std::mt19937 rng(seed);
    std::uniform_real_distribution<double> u(-1.0, 1.0);
    t.values.resize(size_t(t.numel()));
    for (double &v : t.values)
      v = u(rng);
    return t.encode();
  };
  std::vector<uint8_t> q = make(c.heads, c.lq, 1), k = make(c.kvHeads, c.lk, 2),
                       v = make(c.kvHeads, c.lk, 3);
  std::vector<uint8_t> out(q.size(), 0);
  std::vector<void *> args = {q.data(), k.data(), v.data()};
  if (c.kind == "topk") {
    out.assign(size_t(c.batch) * c.heads * c.lq * kSelectTopK * 4, 0);
    args = {q.data(), k.data()};
  }
  std::vector<int32_t> sparse;
  if (c.kind == "sparse") {
    sparse = sparseIndices(c);
    args.push_back(sparse.data());
  }
  CompressedKV kv;
  if (compressed(c)) {
    kv = makeCompressed(c);
    if (c.kind == "pq")
      args = {q.data(), kv.keyCodes.data(), kv.keyScale.data(), v.data()};
    else
      args = {q.data(), kv.keyCodes.data(), kv.keyScale.data(), kv.valueCodes.data(),
              kv.valueScale.data()};
  }
  // Per-token f32 operands of the recurrent kernels: beta (gdn), gate.
  std::vector<std::vector<float>> perToken;
  auto token = [&](double lo, double hi, uint32_t seed, int64_t width = 1) {
    std::mt19937 rng(seed);
    std::uniform_real_distribution<float> u{float(lo), float(hi)};
    perToken.emplace_back(size_t(c.batch * c.heads * c.lq * width));
    for (float &x : perToken.back())
      x = u(rng);
    args.push_back(perToken.back().data());
  };
  perToken.reserve(4);
  if (deltaKind(c))
    token(0.05, 0.95, 4);
  if (recurrent(c))
    token(-0.1, -0.01, 5, perChannel(c) ? c.d : 1);
  if (logLinear(c))
    token(0.0, 1.0, 6, fenwickLevels(c.lq));
  if (hybrid(c)) {
    // Positive features (as from a feature map), then gamma per head.
    token(0.05, 1.0, 7, c.d);
    token(0.05, 1.0, 8, c.d);
    perToken.emplace_back(size_t(c.heads), 0.5f);
    args.push_back(perToken.back().data());
  }
  args.push_back(out.data());
  double before = peakRssMB();
  std::vector<double> times;
  for (int r = 0; r <= reps; ++r) {
    auto start = Clock::now();
    if (attnrt_call(module, "kernel", args.data(), int(args.size())) != ATTNRT_OK) {
      fprintf(stderr, "%s\n", attnrt_last_error());
      exit(3);
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (r > 0)
      times.push_back(ms);
  }
  Result res;
  res.attnMs = medianMs(times);
  res.attnPeakMB = std::max(0.0, peakRssMB() - before);
  return res;
}

/// The unfused baseline a C++ user writes today: per (b, h), S = Q K^T with
/// sgemm, a row softmax, O = P V with sgemm. f32 only.
void runBaseline(const Config &c, int reps, Result &res) {
  openblas_set_num_threads(c.threads);
  size_t qn = size_t(c.heads) * c.lq * c.d, kn = size_t(c.kvHeads) * c.lk * c.d;
  std::vector<float> q(qn), k(kn), v(kn), out(qn);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto *buf : {&q, &k, &v})
    for (float &x : *buf)
      x = u(rng);
  CompressedKV kv;
  std::vector<float> kHead, vHead;
  if (compressed(c)) {
    kv = makeCompressed(c);
    kHead.resize(size_t(c.lk) * c.d);
    vHead.resize(size_t(c.lk) * c.d);
  }
  double before = peakRssMB();
  std::vector<float> s(size_t(c.lq) * c.lk);
  float scale = 1.0f / std::sqrt(float(c.d));
  int64_t group = c.heads / c.kvHeads;
  std::vector<double> times;
  for (int r = 0; r <= reps; ++r) {
    auto start = Clock::now();
    for (int64_t h = 0; h < c.heads; ++h) {
      const float *qh = q.data() + size_t(h) * c.lq * c.d;
      const float *kh = k.data() + size_t(h / group) * c.lk * c.d;
      const float *vh = v.data() + size_t(h / group) * c.lk * c.d;
      if (compressed(c)) {
        // The unfused path decodes the head's cache into floats first.
        if (h % group == 0)
          decodeHead(c, kv, h / group, kHead.data(), vHead.data(), v.data());
        kh = kHead.data();
        vh = vHead.data();
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(c.lq), int(c.lk),
                  int(c.d), scale, qh, int(c.d), kh, int(c.d), 0.0f, s.data(),
                  int(c.lk));
      for (int64_t i = 0; i < c.lq; ++i) {
        float *row = s.data() + size_t(i) * c.lk;
        int64_t visible = c.causal ? std::min(c.lk, i + c.lk - c.lq + 1) : c.lk;
        float m = -INFINITY, sum = 0.0f;
        if (c.kind == "alibi") {
          float slope = float(kAlibiSlope * double(h + 1)), dist = float(i);
          for (int64_t j = 0; j < visible; ++j, dist -= 1.0f)
            row[j] -= slope * dist;
        }
        for (int64_t j = 0; j < visible; ++j)
          m = std::max(m, row[j]);
        for (int64_t j = 0; j < visible; ++j)
          sum += (row[j] = std::exp(row[j] - m));
        for (int64_t j = 0; j < visible; ++j)
          row[j] /= sum;
        for (int64_t j = visible; j < c.lk; ++j)
          row[j] = 0.0f;
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(c.lq), int(c.d),
                  int(c.lk), 1.0f, s.data(), int(c.lk), vh, int(c.d), 0.0f,
                  out.data() + size_t(h) * c.lq * c.d, int(c.d));
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (r > 0)
      times.push_back(ms);
  }
  res.blasMs = medianMs(times);
  res.blasPeakMB = std::max(0.0, peakRssMB() - before);
}

/// The unfused baseline of token-sparse attention: per query, gather the
/// listed K and V rows (duplicates kept: uniform draws rarely repeat), s =
/// K_sel q (sgemv), softmax, out = V_sel^T p (sgemv).
void runBaselineSparse(const Config &c, int reps, Result &res) {
  openblas_set_num_threads(c.threads);
  const int64_t D = c.d, K = kSparseTopK;
  size_t n = size_t(c.heads) * c.lq * D;
  std::vector<float> q(n), k(n), v(n), out(n);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto *buf : {&q, &k, &v})
    for (float &x : *buf)
      x = u(rng);
  std::vector<int32_t> idx = sparseIndices(c);
  double before = peakRssMB();
  std::vector<float> ks(size_t(K) * D), vs(size_t(K) * D), s(K);
  float scale = 1.0f / std::sqrt(float(D));
  std::vector<double> times;
  for (int r = 0; r <= reps; ++r) {
    auto start = Clock::now();
    for (int64_t h = 0; h < c.heads; ++h)
      for (int64_t i = 0; i < c.lq; ++i) {
        const int32_t *list = idx.data() + (size_t(h) * c.lq + i) * K;
        for (int64_t e = 0; e < K; ++e) {
          std::copy_n(k.data() + (size_t(h) * c.lk + list[e]) * D, D, ks.data() + e * D);
          std::copy_n(v.data() + (size_t(h) * c.lk + list[e]) * D, D, vs.data() + e * D);
        }
        const float *qi = q.data() + (size_t(h) * c.lq + i) * D;
        cblas_sgemv(CblasRowMajor, CblasNoTrans, int(K), int(D), scale, ks.data(), int(D),
                    qi, 1, 0.0f, s.data(), 1);
        float m = *std::max_element(s.begin(), s.end()), sum = 0.0f;
        for (float &x : s)
          sum += (x = std::exp(x - m));
        cblas_sgemv(CblasRowMajor, CblasTrans, int(K), int(D), 1.0f / sum, vs.data(), int(D),
                    s.data(), 1, 0.0f, out.data() + (size_t(h) * c.lq + i) * D, 1);
      }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (r > 0)
      times.push_back(ms);
  }
  res.blasMs = medianMs(times);
  res.blasPeakMB = std::max(0.0, peakRssMB() - before);
}

/// The baseline of top-k selection: per head, S = Q K^T with sgemm (f32),
/// then per query std::partial_sort of its visible keys by descending score
/// (ties to the lower index).
void runBaselineTopk(const Config &c, int reps, Result &res) {
  openblas_set_num_threads(c.threads);
  const int64_t D = c.d, K = kSelectTopK;
  std::vector<float> q(size_t(c.heads) * c.lq * D), k(size_t(c.kvHeads) * c.lk * D);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  for (auto *buf : {&q, &k})
    for (float &x : *buf)
      x = u(rng);
  double before = peakRssMB();
  std::vector<float> s(size_t(c.lq) * c.lk);
  std::vector<int32_t> order(c.lk), out(size_t(c.heads) * c.lq * K);
  int64_t group = c.heads / c.kvHeads;
  std::vector<double> times;
  for (int r = 0; r <= reps; ++r) {
    auto start = Clock::now();
    for (int64_t h = 0; h < c.heads; ++h) {
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(c.lq), int(c.lk), int(D), 1.0f,
                  q.data() + size_t(h) * c.lq * D, int(D),
                  k.data() + size_t(h / group) * c.lk * D, int(D), 0.0f, s.data(), int(c.lk));
      for (int64_t i = 0; i < c.lq; ++i) {
        const float *row = s.data() + size_t(i) * c.lk;
        int64_t n = std::min<int64_t>(c.lk, i + c.lk - c.lq + 1), take = std::min(n, K);
        std::iota(order.begin(), order.begin() + n, 0);
        std::partial_sort(order.begin(), order.begin() + take, order.begin() + n,
                          [&](int32_t a, int32_t b) {
                            return row[a] > row[b] || (row[a] == row[b] && a < b);
                          });
        int32_t *dst = out.data() + (size_t(h) * c.lq + i) * K;
        std::copy_n(order.begin(), take, dst);
        std::fill(dst + take, dst + K, -1);
      }
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (r > 0)
      times.push_back(ms);
  }
  res.blasMs = medianMs(times);
  res.blasPeakMB = std::max(0.0, peakRssMB() - before);
}

/// The unfused baseline of the LoLCATs hybrid (sliding window w, F = D) on
/// OpenBLAS, per head and block of w queries: window logits against the
/// previous and current block (sgemm, [w, 2w]), masked to each row's
/// window, weights sigmoid(gamma) exp(s - max) by loops, their P V (sgemm);
/// the linear part fq S and fq . z of the keys older than the previous
/// block (sgemm), plus the previous block's keys each row has left behind
/// (fq fk^T masked, sgemm, then its product with V); S and z take the
/// previous block afterwards (sgemm). out = num / den.
void runBaselineHybrid(const Config &c, int reps, Result &res) {
  openblas_set_num_threads(c.threads);
  const int64_t L = c.lq, D = c.d, W = kHybridWindow;
  size_t n = size_t(c.heads) * L * D;
  std::vector<float> q(n), k(n), v(n), fq(n), fk(n), out(n);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), uf(0.05f, 1.0f);
  for (auto *buf : {&q, &k, &v})
    for (float &x : *buf)
      x = u(rng);
  for (auto *buf : {&fq, &fk})
    for (float &x : *buf)
      x = uf(rng);
  const float gate = 1.0f / (1.0f + std::exp(-0.5f)), scale = 1.0f / std::sqrt(float(D));
  double before = peakRssMB();
  std::vector<float> S(size_t(D) * D), z(D), P(size_t(W) * 2 * W), A(size_t(W) * W),
      num(size_t(W) * D), den(W);
  std::vector<double> times;
  for (int r = 0; r <= reps; ++r) {
    auto start = Clock::now();
    for (int64_t h = 0; h < c.heads; ++h) {
      std::fill(S.begin(), S.end(), 0.0f);
      std::fill(z.begin(), z.end(), 0.0f);
      size_t base = size_t(h) * L * D;
      for (int64_t b0 = 0; b0 < L; b0 += W) {
        int64_t rows = std::min(W, L - b0), k0 = std::max<int64_t>(0, b0 - W);
        int64_t keys = b0 + rows - k0, prev = b0 - k0;
        const float *qb = q.data() + base + b0 * D, *fqb = fq.data() + base + b0 * D;
        // Window part.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(keys), int(D),
                    scale, qb, int(D), k.data() + base + k0 * D, int(D), 0.0f, P.data(),
                    int(keys));
        for (int64_t i = 0; i < rows; ++i) {
          float *row = P.data() + i * keys;
          int64_t last = prev + i, first = std::max<int64_t>(0, last - W + 1);
          float m = -INFINITY;
          for (int64_t j = first; j <= last; ++j)
            m = std::max(m, row[j]);
          float sum = 0.0f;
          for (int64_t j = 0; j < keys; ++j) {
            row[j] = j >= first && j <= last ? gate * std::exp(row[j] - m) : 0.0f;
            sum += row[j];
          }
          den[i] = sum;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(D), int(keys),
                    1.0f, P.data(), int(keys), v.data() + base + k0 * D, int(D), 0.0f,
                    num.data(), int(D));
        // Linear part: keys before the previous block, then the previous
        // block's keys j <= n - W.
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(D), int(D),
                    1.0f, fqb, int(D), S.data(), int(D), 1.0f, num.data(), int(D));
        for (int64_t i = 0; i < rows; ++i)
          den[i] += cblas_sdot(int(D), fqb + i * D, 1, z.data(), 1);
        if (prev > 0) {
          const float *fkp = fk.data() + base + k0 * D, *vp = v.data() + base + k0 * D;
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(rows), int(prev), int(D),
                      1.0f, fqb, int(D), fkp, int(D), 0.0f, A.data(), int(prev));
          for (int64_t i = 0; i < rows; ++i)
            for (int64_t j = 0; j < prev; ++j) {
              float &x = A[i * prev + j];
              x = j <= i ? x : 0.0f; // key k0 + j is older than the window of b0 + i
              den[i] += x;
            }
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(rows), int(D), int(prev),
                      1.0f, A.data(), int(prev), vp, int(D), 1.0f, num.data(), int(D));
          // The previous block joins S and z.
          cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(D), int(D), int(prev), 1.0f,
                      fkp, int(D), vp, int(D), 1.0f, S.data(), int(D));
          for (int64_t j = 0; j < prev; ++j)
            cblas_saxpy(int(D), 1.0f, fkp + j * D, 1, z.data(), 1);
        }
        float *o = out.data() + base + b0 * D;
        for (int64_t i = 0; i < rows; ++i)
          for (int64_t d = 0; d < D; ++d)
            o[i * D + d] = num[i * D + d] / den[i];
      }
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (r > 0)
      times.push_back(ms);
  }
  res.blasMs = medianMs(times);
  res.blasPeakMB = std::max(0.0, peakRssMB() - before);
}

/// The baseline of the per-channel decays (GLA, KDA) on OpenBLAS: their
/// decays do not factor into a chunk's Q K^T without overflow, so the
/// baseline is the token recurrence with BLAS-2 calls, per (b, h) and token:
/// the rows of S scaled by exp(g_t) (sscal per row), then GLA: S += k v^T
/// (sger); KDA: pred = S^T k (sgemv), S += beta k (v - pred)^T (sger), q
/// and k l2-normalised; o = S^T q (sgemv). f32.
void runBaselineChannelDecay(const Config &c, int reps, Result &res) {
  openblas_set_num_threads(c.threads);
  const int64_t L = c.lq, D = c.d;
  size_t n = size_t(c.heads) * L * D;
  std::vector<float> q(n), k(n), v(n), out(n), gate(n), beta(size_t(c.heads) * L);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), ug(-0.1f, -0.01f),
      ub(0.05f, 0.95f);
  for (auto *buf : {&q, &k, &v})
    for (float &x : *buf)
      x = u(rng);
  for (float &x : gate)
    x = ug(rng);
  for (float &x : beta)
    x = ub(rng);
  bool delta = c.kind == "kda";
  double before = peakRssMB();
  std::vector<float> S(size_t(D) * D), qn(D), kn(D), r(D);
  std::vector<double> times;
  for (int rep = 0; rep <= reps; ++rep) {
    auto start = Clock::now();
    for (int64_t h = 0; h < c.heads; ++h) {
      std::fill(S.begin(), S.end(), 0.0f);
      for (int64_t t = 0; t < L; ++t) {
        size_t base = (size_t(h) * L + t) * D;
        float fq = 1.0f, fk = 1.0f;
        if (delta) {
          float sq = 0.0f, sk = 0.0f;
          for (int64_t d = 0; d < D; ++d) {
            sq += q[base + d] * q[base + d];
            sk += k[base + d] * k[base + d];
          }
          fq = 1.0f / std::sqrt(sq + 1e-6f);
          fk = 1.0f / std::sqrt(sk + 1e-6f);
        }
        for (int64_t d = 0; d < D; ++d) {
          qn[d] = q[base + d] * fq;
          kn[d] = k[base + d] * fk;
          cblas_sscal(int(D), std::exp(gate[base + d]), S.data() + d * D, 1);
        }
        const float *vt = v.data() + base;
        if (delta) {
          cblas_sgemv(CblasRowMajor, CblasTrans, int(D), int(D), 1.0f, S.data(), int(D),
                      kn.data(), 1, 0.0f, r.data(), 1);
          for (int64_t d = 0; d < D; ++d)
            r[d] = vt[d] - r[d];
          cblas_sger(CblasRowMajor, int(D), int(D), beta[size_t(h) * L + t], kn.data(), 1,
                     r.data(), 1, S.data(), int(D));
        } else {
          cblas_sger(CblasRowMajor, int(D), int(D), 1.0f, kn.data(), 1, vt, 1, S.data(),
                     int(D));
        }
        cblas_sgemv(CblasRowMajor, CblasTrans, int(D), int(D), 1.0f, S.data(), int(D),
                    qn.data(), 1, 0.0f, out.data() + base, 1);
      }
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (rep > 0)
      times.push_back(ms);
  }
  res.blasMs = medianMs(times);
  res.blasPeakMB = std::max(0.0, peakRssMB() - before);
}

/// The unfused chunkwise baseline of the recurrent kernels on OpenBLAS,
/// per (b, h) and chunk of 64 tokens: A = Q K^T (sgemm), the causal mask and
/// decay exp(G_i - G_j) by loops, O = A V + gamma . (Q S) (sgemm), and the
/// state update S = gamma_last S + K^T (w . V) (sgemm). The delta rule first
/// turns V into the chunk's new values: R = V - gamma . (K S) (sgemm), the
/// strictly lower decayed K K^T (sgemm), and the lower triangular system
/// (diag(1/beta) + L) X = R (strsm). f32, q and k l2-normalised (gdn).
void runBaselineRecurrent(const Config &c, int reps, Result &res) {
  openblas_set_num_threads(c.threads);
  const int64_t L = c.lq, D = c.d, C = kChunk;
  size_t n = size_t(c.heads) * L * D;
  std::vector<float> q(n), k(n), v(n), out(n), gate(size_t(c.heads) * L),
      beta(size_t(c.heads) * L);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), ug(-0.1f, -0.01f),
      ub(0.05f, 0.95f);
  for (auto *buf : {&q, &k, &v})
    for (float &x : *buf)
      x = u(rng);
  for (float &x : gate)
    x = ug(rng);
  for (float &x : beta)
    x = ub(rng);
  bool delta = c.kind == "gdn";
  float scale = 1.0f;
  double before = peakRssMB();
  std::vector<float> S(size_t(D) * D), A(size_t(C) * C), Lm(size_t(C) * C),
      X(size_t(C) * D), tmp(size_t(C) * D), G(C), qn(size_t(C) * D), kn(size_t(C) * D);
  std::vector<double> times;
  for (int r = 0; r <= reps; ++r) {
    auto start = Clock::now();
    for (int64_t h = 0; h < c.heads; ++h) {
      std::fill(S.begin(), S.end(), 0.0f);
      for (int64_t t0 = 0; t0 < L; t0 += C) {
        int64_t m = std::min(C, L - t0);
        size_t base = (size_t(h) * L + t0) * D;
        const float *g = gate.data() + size_t(h) * L + t0;
        const float *bt = beta.data() + size_t(h) * L + t0;
        float acc = 0.0f;
        for (int64_t i = 0; i < m; ++i)
          G[i] = acc += g[i];
        // Normalised copies of the chunk's q and k rows (gdn), else copies.
        for (int64_t i = 0; i < m; ++i)
          for (auto [src, dst] : {std::pair{&q, &qn}, std::pair{&k, &kn}}) {
            const float *row = src->data() + base + i * D;
            float f = scale;
            if (delta) {
              float sq = 0.0f;
              for (int64_t d = 0; d < D; ++d)
                sq += row[d] * row[d];
              f = 1.0f / std::sqrt(sq + 1e-6f);
            }
            for (int64_t d = 0; d < D; ++d)
              (*dst)[i * D + d] = row[d] * f;
          }
        const float *vh = v.data() + base;
        std::copy(vh, vh + m * D, X.begin());
        if (delta) {
          // R = V - gamma . (K S)
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(D), int(D),
                      1.0f, kn.data(), int(D), S.data(), int(D), 0.0f, tmp.data(), int(D));
          for (int64_t i = 0; i < m; ++i) {
            float gi = std::exp(G[i]);
            for (int64_t d = 0; d < D; ++d)
              X[i * D + d] -= gi * tmp[i * D + d];
          }
          cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(m), int(D),
                      1.0f, kn.data(), int(D), kn.data(), int(D), 0.0f, Lm.data(), int(m));
          for (int64_t i = 0; i < m; ++i)
            for (int64_t j = 0; j < m; ++j)
              Lm[i * m + j] = j < i ? Lm[i * m + j] * std::exp(G[i] - G[j])
                                    : (j == i ? 1.0f / bt[i] : 0.0f);
          cblas_strsm(CblasRowMajor, CblasLeft, CblasLower, CblasNoTrans, CblasNonUnit,
                      int(m), int(D), 1.0f, Lm.data(), int(m), X.data(), int(D));
        }
        // O = gamma . (Q S) + (tril(Q K^T) . Gamma) X
        float *o = out.data() + base;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(D), int(D),
                    1.0f, qn.data(), int(D), S.data(), int(D), 0.0f, o, int(D));
        for (int64_t i = 0; i < m; ++i) {
          float gi = std::exp(G[i]);
          for (int64_t d = 0; d < D; ++d)
            o[i * D + d] *= gi;
        }
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(m), int(m), int(D),
                    1.0f, qn.data(), int(D), kn.data(), int(D), 0.0f, A.data(), int(m));
        for (int64_t i = 0; i < m; ++i)
          for (int64_t j = 0; j < m; ++j)
            A[i * m + j] = j <= i ? A[i * m + j] * std::exp(G[i] - G[j]) : 0.0f;
        cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(m), int(D), int(m),
                    1.0f, A.data(), int(m), X.data(), int(D), 1.0f, o, int(D));
        // S = gamma_last S + K^T (w . X)
        float gl = std::exp(G[m - 1]);
        for (int64_t j = 0; j < m; ++j) {
          float w = std::exp(G[m - 1] - G[j]);
          for (int64_t d = 0; d < D; ++d)
            X[j * D + d] *= w;
        }
        cblas_sgemm(CblasRowMajor, CblasTrans, CblasNoTrans, int(D), int(D), int(m), 1.0f,
                    kn.data(), int(D), X.data(), int(D), gl, S.data(), int(D));
      }
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (r > 0)
      times.push_back(ms);
  }
  res.blasMs = medianMs(times);
  res.blasPeakMB = std::max(0.0, peakRssMB() - before);
}

/// The unfused baseline of log-linear attention (mamba2 base) on OpenBLAS,
/// per head: A = Q K^T (sgemm, [L, L]), A[i, j] *= lambda[i, bit_length(i
/// XOR j)] exp(G_i - G_j) for j <= i (0 above) by loops, O = A V (sgemm).
/// O(L^2) work and memory: the quadratic form the op is defined by.
void runBaselineLogLinear(const Config &c, int reps, Result &res) {
  openblas_set_num_threads(c.threads);
  const int64_t L = c.lq, D = c.d, nlev = fenwickLevels(L);
  size_t n = size_t(c.heads) * L * D;
  std::vector<float> q(n), k(n), v(n), out(n), gate(size_t(c.heads) * L),
      lambda(size_t(c.heads) * L * nlev);
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f), ug(-0.1f, -0.01f), ul(0.0f, 1.0f);
  for (auto *buf : {&q, &k, &v})
    for (float &x : *buf)
      x = u(rng);
  for (float &x : gate)
    x = ug(rng);
  for (float &x : lambda)
    x = ul(rng);
  double before = peakRssMB();
  std::vector<float> A(size_t(L) * L), G(L);
  std::vector<double> times;
  for (int r = 0; r <= reps; ++r) {
    auto start = Clock::now();
    for (int64_t h = 0; h < c.heads; ++h) {
      size_t base = size_t(h) * L * D;
      float acc = 0.0f;
      for (int64_t i = 0; i < L; ++i)
        G[i] = acc += gate[size_t(h) * L + i];
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasTrans, int(L), int(L), int(D), 1.0f,
                  q.data() + base, int(D), k.data() + base, int(D), 0.0f, A.data(), int(L));
      for (int64_t i = 0; i < L; ++i) {
        const float *lam = lambda.data() + (size_t(h) * L + i) * nlev;
        float *row = A.data() + size_t(i) * L;
        for (int64_t j = 0; j <= i; ++j)
          row[j] *= lam[i == j ? 0 : llvm::Log2_64(uint64_t(i ^ j)) + 1] * std::exp(G[i] - G[j]);
        std::fill(row + i + 1, row + L, 0.0f);
      }
      cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, int(L), int(D), int(L), 1.0f,
                  A.data(), int(L), v.data() + base, int(D), 0.0f, out.data() + base, int(D));
    }
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (r > 0)
      times.push_back(ms);
  }
  res.blasMs = medianMs(times);
  res.blasPeakMB = std::max(0.0, peakRssMB() - before);
}

/// Runs `c` in a child process with OMP_NUM_THREADS set: attn's kernel, or
/// the baseline when `baseline` is set (separate processes, so each peak
/// memory figure is its own).
bool runChild(const std::string &lib, const Config &c, int reps, bool baseline,
              Result &res) {
  return bench::runInChild(
      [&] {
        setenv("OMP_NUM_THREADS", std::to_string(c.threads).c_str(), 1);
        Result r;
        if (baseline && hybrid(c))
          runBaselineHybrid(c, reps, r);
        else if (baseline && c.kind == "sparse")
          runBaselineSparse(c, reps, r);
        else if (baseline && c.kind == "topk")
          runBaselineTopk(c, reps, r);
        else if (baseline && logLinear(c))
          runBaselineLogLinear(c, reps, r);
        else if (baseline && perChannel(c))
          runBaselineChannelDecay(c, reps, r);
        else if (baseline && recurrent(c))
          runBaselineRecurrent(c, reps, r);
        else if (baseline)
          runBaseline(c, reps, r);
        else
          r = runAttn(lib, c, reps);
        return r;
      },
      res);
}

} // namespace

int main(int argc, char **argv) {
  bool quick = false;
  std::string only; // run one kind (Config::kind)
  std::string jsonPath = "attn-cpu-bench.json";
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick")
      quick = true;
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else if (a == "--json" && i + 1 < argc)
      jsonPath = argv[++i];
    else {
      fprintf(stderr, "usage: attn-cpu-bench [--quick] [--only KIND] [--json FILE]\n");
      return 2;
    }
  }

  double fma1 = bench::measureFmaCeiling(1), fma2 = bench::measureFmaCeiling(2);
  double copy1 = bench::measureMemcpyBandwidth(1), copy2 = bench::measureMemcpyBandwidth(2);
  printf("FMA ceiling: %.0f GFLOP/s (1 thread), %.0f (2 threads); memcpy %.1f / %.1f GB/s\n\n",
         fma1, fma2, copy1, copy2);

  std::vector<Config> configs;
  std::vector<int64_t> lengths = quick ? std::vector<int64_t>{1024, 4096}
                                       : std::vector<int64_t>{512, 1024, 2048, 4096, 8192, 16384};
  for (int64_t d : {64, 128})
    for (int64_t l : lengths)
      for (bool causal : {false, true})
        for (int t : {1, 2}) {
          // Tokens x heads fixed at 16k x 1: the work grows with L, not L^2.
          int64_t heads = std::max<int64_t>(1, 16384 / l);
          configs.push_back({"prefill", 1, heads, heads, l, l, d, causal, "f32", t,
                             l <= 8192});
        }
  for (int t : {1, 2})
    configs.push_back({"prefill", 1, 4, 4, 4096, 4096, 128, false, "bf16", t, false});
  // Token-sparse attention: 256 keys per query (of up to L visible), L = 4k
  // and 16k, against the per-query gather + sgemv path on OpenBLAS.
  for (int64_t d : {64, 128})
    for (int64_t l : quick ? std::vector<int64_t>{4096} : std::vector<int64_t>{4096, 16384})
      for (int t : {1, 2})
        configs.push_back({"sparse", 1, 16384 / l, 16384 / l, l, l, d, true, "f32", t, true});
  // Top-256 selection (f64 scores, as exact as the reference) against
  // sgemm scores + partial_sort on OpenBLAS: prefill at L = 4k (4 heads),
  // decode over 32k keys (32 query heads, 8 kv heads).
  for (int t : {1, 2}) {
    configs.push_back({"topk", 1, 4, 4, 4096, 4096, 128, true, "f32", t, true});
    configs.push_back({"topk", 1, 32, 8, 1, quick ? 8192 : 32768, 128, true, "f32", t, true});
  }
  // A score_mod region (ALiBi-style bias by head and distance), causal: the
  // same shape as the causal prefill rows, the baseline adding the bias in
  // its softmax loop.
  for (int t : {1, 2})
    configs.push_back({"alibi", 1, 4, 4, 4096, 4096, 128, true, "f32", t, true});
  for (int t : {1, 2})
    configs.push_back({"decode", 1, 8, 8, 1, quick ? 8192 : 32768, 128, true, "f32", t, false});
  // Prefill over int8 / int4 / PQ caches (f32 queries, D = 64 and 128,
  // non-causal),
  // against the unfused OpenBLAS path that decodes K and V to floats first.
  for (std::string kind : {"quant8", "quant4", "pq"})
    for (int64_t d : {64, 128})
      for (int64_t l : quick ? std::vector<int64_t>{4096} : std::vector<int64_t>{1024, 4096})
        for (int t : {1, 2})
          configs.push_back({kind, 1, 16384 / l, 16384 / l, l, l, d, false, "f32", t, true});
  // Chunkwise linear attention and Gated DeltaNet: heads x L = 64k tokens.
  std::vector<int64_t> recurrentLengths =
      quick ? std::vector<int64_t>{4096} : std::vector<int64_t>{512, 4096, 32768};
  for (std::string kind : {"linear", "gdn", "gla", "kda"})
    for (int64_t d : {64, 128})
      for (int64_t l : recurrentLengths)
        for (int t : {1, 2}) {
          int64_t heads = std::max<int64_t>(2, 65536 / l);
          // Scalar decays: the chunkwise form on OpenBLAS; per-channel decays
          // (GLA, KDA): the token recurrence with BLAS-2 calls.
          configs.push_back({kind, 1, heads, heads, l, l, d, true, "f32", t, true});
        }
  // The LoLCATs hybrid (sliding window of 64, F = D): the same token counts.
  for (int64_t d : {64, 128})
    for (int64_t l : recurrentLengths)
      for (int t : {1, 2})
        configs.push_back({"lolcats", 1, std::max<int64_t>(2, 65536 / l),
                           std::max<int64_t>(2, 65536 / l), l, l, d, true, "f32", t, true});
  // Log-linear attention: the same token counts; the quadratic OpenBLAS
  // baseline ([L, L] per head) up to L = 4096.
  for (std::string kind : {"loglinear", "loglinear_gdn"})
    for (int64_t d : {64, 128})
      for (int64_t l : recurrentLengths)
        for (int t : {1, 2}) {
          int64_t heads = std::max<int64_t>(2, 65536 / l);
          configs.push_back({kind, 1, heads, heads, l, l, d, true, "f32", t,
                             kind == "loglinear" && l <= 4096});
        }

  if (!only.empty())
    configs.erase(std::remove_if(configs.begin(), configs.end(),
                                 [&](const Config &c) { return c.kind != only; }),
                  configs.end());

  mlir::DialectRegistry registry;
  registerCompilerDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SmallString<128> dir;
  llvm::sys::fs::createUniqueDirectory("attn-bench", dir);
  std::map<std::string, std::string> libs;

  printf("%-8s %-5s %3s %6s %5s %6s %3s %10s %9s %7s %10s %8s %9s %9s\n", "kind",
         "dtype", "D", "L", "heads", "causal", "thr", "attn ms", "GFLOP/s",
         "%peak", "blas ms", "speedup", "attn MB", "blas MB");
  std::ostringstream json;
  json << "{\n  \"machine\": \"build machine (2 cores, AVX-512)\",\n"
       << "  \"fma_gflops\": {\"1\": " << fma1 << ", \"2\": " << fma2 << "},\n"
       << "  \"memcpy_gbs\": {\"1\": " << copy1 << ", \"2\": " << copy2 << "},\n"
       << "  \"runs\": [";
  bool first = true;
  for (const Config &c : configs) {
    std::string src = kernelSource(c);
    std::string &lib = libs[src];
    if (lib.empty()) {
      auto module = mlir::parseSourceString<mlir::ModuleOp>(src, &context);
      CompileOptions options;
      options.outputDir = std::string(dir);
      options.name = "k" + std::to_string(libs.size());
      std::string error;
      if (!module || failed(compileModule(*module, options, error))) {
        fprintf(stderr, "compile failed: %s\n", error.c_str());
        return 1;
      }
      lib = options.outputDir + "/lib" + options.name + ".so";
    }
    int reps = c.lq * c.lk * c.d * c.heads > (int64_t(1) << 33) ? 2 : 4;
    Result r, blas;
    if (!runChild(lib, c, reps, /*baseline=*/false, r) ||
        (c.baseline && !runChild(lib, c, reps, /*baseline=*/true, blas))) {
      fprintf(stderr, "run failed\n");
      return 1;
    }
    r.blasMs = blas.blasMs;
    r.blasPeakMB = blas.blasPeakMB;
    double ceiling = c.threads == 1 ? fma1 : fma2;
    double flops = 4.0 * c.batch * c.heads * double(c.lq) * c.lk * c.d;
    if (c.causal && (c.kind == "prefill" || c.kind == "alibi"))
      flops /= 2;
    if (recurrent(c)) {
      // Per token, the chunkwise form's products (D = Dv, C = 64, the causal
      // C x C products counted once): Q K^T and A V, C D each; Q S and the
      // state update, 2 D^2 each; the delta rule adds K S (2 D^2), K K^T
      // (C D) and the triangular solve (C D).
      double perToken = 2.0 * kChunk * c.d + 4.0 * c.d * c.d;
      if (deltaKind(c))
        perToken += 2.0 * kChunk * c.d + 2.0 * c.d * c.d;
      if (logLinear(c)) {
        // Log-linear (levelChunk): Q K^T and A V (C D each), the
        // chunk's own state (2 D^2), and per non-empty chunk level (popcount
        // of the chunk index, on average) Q R (2 D^2); the gated_deltanet
        // base adds K K^T and M V (C D each), M and A M (2 C^2 / 3) and per
        // level K R, R's update (2 D^2 each), M Y and A X (C D each).
        int64_t chunks = (c.lq + kChunk - 1) / kChunk, pops = 0;
        for (int64_t ci = 0; ci < chunks; ++ci)
          pops += llvm::popcount(uint64_t(ci));
        double levels = double(pops) / chunks;
        perToken = 2.0 * kChunk * c.d + 2.0 * c.d * c.d + levels * 2.0 * c.d * c.d;
        if (deltaKind(c))
          perToken += 2.0 * kChunk * c.d + 2.0 * kChunk * kChunk / 3.0 +
                      levels * (4.0 * c.d * c.d + 2.0 * kChunk * c.d);
      }
      flops = perToken * c.batch * c.heads * double(c.lq);
    }
    if (c.kind == "topk")
      // The scores (f64 FMAs, counted against the f32 ceiling).
      flops = 2.0 * c.batch * c.heads * double(c.lq) * c.lk * c.d / (c.lq > 1 ? 2 : 1);
    if (c.kind == "sparse")
      // Per query, scores and P V over the listed keys.
      flops = 4.0 * kSparseTopK * c.d * c.batch * c.heads * double(c.lq);
    if (hybrid(c)) {
      // Per query, the useful work: scores and P V over the window's w keys
      // (2 w D each), fq S and the state update (2 F Dv each).
      double perToken = 4.0 * kHybridWindow * c.d + 4.0 * c.d * c.d;
      flops = perToken * c.batch * c.heads * double(c.lq);
    }
    double gflops = flops / (r.attnMs * 1e-3) / 1e9;
    double bytes = 2.0 * c.batch * c.kvHeads * c.lk * c.d * (c.dtype == "f32" ? 4 : 2);
    double gbs = bytes / (r.attnMs * 1e-3) / 1e9;
    double copy = c.threads == 1 ? copy1 : copy2;
    std::string peak = c.kind == "decode"
                           ? llvm::formatv("{0:f0}%bw", 100.0 * gbs / copy).str()
                           : llvm::formatv("{0:f1}%", 100.0 * gflops / ceiling).str();
    printf("%-8s %-5s %3lld %6lld %5lld %6s %3d %10.2f %9.1f %7s", c.kind.c_str(),
           c.dtype.c_str(), (long long)c.d, (long long)c.lk, (long long)c.heads,
           c.causal ? "yes" : "no", c.threads, r.attnMs, gflops, peak.c_str());
    if (r.blasMs > 0)
      printf(" %10.2f %7.2fx", r.blasMs, r.blasMs / r.attnMs);
    else
      printf(" %10s %8s", "-", "-");
    printf(" %9.1f", r.attnPeakMB);
    if (r.blasPeakMB >= 0)
      printf(" %9.1f\n", r.blasPeakMB);
    else
      printf(" %9s\n", "-");
    fflush(stdout);
    json << (first ? "" : ",") << "\n    {\"kind\": \"" << c.kind << "\", \"dtype\": \""
         << c.dtype << "\", \"d\": " << c.d << ", \"lq\": " << c.lq << ", \"lk\": " << c.lk
         << ", \"heads\": " << c.heads << ", \"kv_heads\": " << c.kvHeads
         << ", \"causal\": " << (c.causal ? "true" : "false") << ", \"threads\": " << c.threads
         << ", \"attn_ms\": " << r.attnMs << ", \"attn_gflops\": " << gflops
         << ", \"fraction_of_fma_ceiling\": " << gflops / ceiling
         << ", \"kv_gbs\": " << gbs << ", \"fraction_of_memcpy\": " << gbs / copy
         << ", \"attn_extra_peak_mb\": " << r.attnPeakMB << ", \"blas_ms\": " << r.blasMs
         << ", \"speedup_over_blas\": " << (r.blasMs > 0 ? r.blasMs / r.attnMs : 0)
         << ", \"blas_extra_peak_mb\": " << r.blasPeakMB << "}";
    first = false;
  }
  json << "\n  ]\n}\n";
  std::ofstream(jsonPath) << json.str();
  printf("\nwrote %s\n", jsonPath.c_str());
  llvm::sys::fs::remove_directories(dir);
  return 0;
}
