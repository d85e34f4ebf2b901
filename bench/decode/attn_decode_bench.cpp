//===- attn_decode_bench.cpp - streaming decode through runtime caches ----===//
//
// attn-decode-bench [--quick] [--json FILE] [--only CACHE]
//
// One decode step = append the new token to a runtime cache, then run the
// compiled kernel that reads the cache in place. For each cache kind (bf16
// contiguous and paged KV, int8 and int4 KV with a residual window, PQ keys,
// and the recurrent states of linear attention, Gated DeltaNet, KDA,
// log-linear attention on the Mamba-2 and Gated DeltaNet bases, and the
// LoLCATs hybrid) and each context length, prints tokens per second, the
// bytes the kernel must read and write per token, and that traffic as a
// fraction of this machine's memcpy bandwidth measured in the same run.
// Shapes: Hq = 32, Hkv = 8, D = Dv = 128 (Llama-3-8B's attention);
// recurrent: 16 heads of 128 x 128 states (log-linear: one a level,
// bit_length(context) + 1 levels; LoLCATs: a window ring of 64 tokens and
// 128 features). Each case runs in its own process. No timing is asserted
// anywhere.
//
//===----------------------------------------------------------------------===//

#include "../cpu/Ceilings.h"
#include "../cpu/RunInChild.h"

#include "attn/Compiler/Compiler.h"
#include "attnrt.h"
#include "attnrt_cache.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "llvm/ADT/STLExtras.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace attn;
using Clock = std::chrono::steady_clock;

namespace {

constexpr int64_t kHq = 32, kHkv = 8, kDim = 128, kPage = 64, kGroup = 64;
constexpr int64_t kSub = 32, kCentroids = 256, kRecHeads = 16, kWindow = 64;

struct Case {
  std::string cache;
  int64_t context; // tokens in the cache when the step runs
  int64_t capacity() const {
    // Room for the measured steps, in whole pages and groups.
    return (context + 64 + kPage - 1) / kPage * kPage;
  }
  /// A state cache instead of tokens (log-linear's level count still grows
  /// with the context).
  bool recurrent() const {
    return cache == "linear" || cache == "gated_deltanet" || cache == "kda" ||
           logLinear() || cache == "lolcats";
  }
  bool logLinear() const { return cache == "loglinear" || cache == "loglinear_gdn"; }
  /// Level states of the log-linear kernel: position `context` (and the
  /// measured steps after it) below 2^(levels - 1), so the Fenwick levels
  /// are exact.
  int64_t levels() const {
    int64_t bits = 0;
    while ((int64_t(1) << bits) <= context + 64)
      ++bits;
    return bits + 1;
  }
  /// Floats of each state tensor.
  std::vector<int64_t> stateTensors() const {
    int64_t s = kRecHeads * kDim * kDim;
    if (logLinear())
      return {s * levels()};
    if (cache == "lolcats") {
      int64_t ring = kRecHeads * kWindow * kDim;
      return {s, kRecHeads * kDim, ring, ring, ring};
    }
    return {s};
  }
};

std::string ty(std::vector<int64_t> shape, const char *elem) {
  std::string s = "tensor<";
  for (int64_t d : shape)
    s += std::to_string(d) + "x";
  return s + elem + ">";
}

/// The kernel of one case, as attn dialect source.
std::string kernelSource(const Case &c) {
  int64_t cap = c.capacity();
  std::string q = ty({1, kHq, 1, kDim}, "bf16"), lens = ty({1}, "i32");
  if (c.cache == "contiguous") {
    std::string kv = ty({1, kHkv, cap, kDim}, "bf16");
    return llvm::formatv(R"(func.func @step(%q: {0}, %k: {1}, %v: {1}, %n: {2}) -> {0} {
  %o = attn.attention %q, %k, %v kv_lens(%n : {2}) : {0}, {1}, {1} -> {0}
  return %o : {0}
})", q, kv, lens);
  }
  if (c.cache == "paged") {
    std::string pool = ty({cap / kPage, kHkv, kPage, kDim}, "bf16");
    std::string table = ty({1, cap / kPage}, "i32");
    return llvm::formatv(R"(func.func @step(%q: {0}, %k: {1}, %v: {1}, %n: {2}, %t: {3}) -> {0} {
  %o = attn.attention %q, %k, %v kv_lens(%n : {2}) block_table(%t : {3}) : {0}, {1}, {1} -> {0}
  return %o : {0}
})", q, pool, lens, table);
  }
  if (c.cache == "int8" || c.cache == "int4") {
    int64_t bits = c.cache == "int8" ? 8 : 4, w = bits == 8 ? kDim : kDim / 2;
    std::string codes = ty({1, kHkv, cap, w}, "i8");
    std::string ks = ty({1, kHkv, cap / kGroup, kDim}, "f32");
    std::string vs = ty({1, kHkv, cap, (kDim + kGroup - 1) / kGroup}, "f32");
    std::string res = ty({1, kHkv, kGroup, kDim}, "bf16"), lse = ty({1, kHq, 1}, "f32");
    std::string outs = ty({2, 1, kHq, 1, kDim}, "bf16"), lses = ty({2, 1, kHq, 1}, "f32");
    return llvm::formatv(R"(func.func @step(%q: {0}, %kc: {1}, %ks: {2}, %vc: {1}, %vs: {3}, %qn: {4}, %rk: {5}, %rv: {5}, %rn: {4}) -> {0} {
  %o0, %l0 = attn.quant_attention %q, key(%kc, %ks : {1}, {2}) value(%vc, %vs : {1}, {3})
      kv_lens(%qn : {4}) {{bits = {6} : i64, group_size = {7} : i64} : {0} -> {0}, {8}
  %o1, %l1 = attn.attention %q, %rk, %rv kv_lens(%rn : {4}) : {0}, {5}, {5} -> {0}, {8}
  %eo = tensor.empty() : {9}
  %el = tensor.empty() : {10}
  %a = tensor.insert_slice %o0 into %eo[0, 0, 0, 0, 0] [1, 1, {11}, 1, {12}] [1, 1, 1, 1, 1] : {0} into {9}
  %b = tensor.insert_slice %o1 into %a[1, 0, 0, 0, 0] [1, 1, {11}, 1, {12}] [1, 1, 1, 1, 1] : {0} into {9}
  %c = tensor.insert_slice %l0 into %el[0, 0, 0, 0] [1, 1, {11}, 1] [1, 1, 1, 1] : {8} into {10}
  %d = tensor.insert_slice %l1 into %c[1, 0, 0, 0] [1, 1, {11}, 1] [1, 1, 1, 1] : {8} into {10}
  %o, %l = attn.merge %b, %d : {9}, {10} -> {0}, {8}
  return %o : {0}
})", q, codes, ks, vs, lens, res, bits, kGroup, lse, outs, lses, kHq, kDim);
  }
  if (c.cache == "pq") {
    std::string codes = ty({1, kHkv, cap, kSub}, "i8");
    std::string cb = ty({kHkv, kSub, kCentroids, kDim / kSub}, "f32");
    std::string v = ty({1, kHkv, cap, kDim}, "bf16");
    return llvm::formatv(R"(func.func @step(%q: {0}, %c: {1}, %cb: {2}, %v: {3}, %n: {4}) -> {0} {
  %o = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : {4}) : {0}, {1}, {2}, {3} -> {0}
  return %o : {0}
})", q, codes, cb, v, lens);
  }
  std::string x = ty({1, kRecHeads, 1, kDim}, "bf16"), g = ty({1, kRecHeads, 1}, "f32");
  std::string s = ty({1, kRecHeads, kDim, kDim}, "f32");
  if (c.cache == "linear")
    return llvm::formatv(R"(func.func @step(%q: {0}, %k: {0}, %v: {0}, %g: {1}, %s: {2}) -> ({0}, {2}) {
  %o, %s1 = attn.linear_attention scalar %q, %k, %v gate(%g : {1}) state(%s : {2}) : {0}, {0}, {0} -> {0}, state {2}
  return %o, %s1 : {0}, {2}
})", x, g, s);
  if (c.cache == "gated_deltanet")
    return llvm::formatv(R"(func.func @step(%q: {0}, %k: {0}, %v: {0}, %b: {1}, %g: {1}, %s: {2}) -> ({0}, {2}) {
  %o, %s1 = attn.delta_rule gated %q, %k, %v, %b : {1} gate(%g : {1}) state(%s : {2}) {{l2norm} : {0}, {0}, {0} -> {0}, state {2}
  return %o, %s1 : {0}, {2}
})", x, g, s);
  if (c.cache == "kda")
    return llvm::formatv(R"(func.func @step(%q: {0}, %k: {0}, %v: {0}, %b: {1}, %g: {3}, %s: {2}) -> ({0}, {2}) {
  %o, %s1 = attn.delta_rule kda %q, %k, %v, %b : {1} gate(%g : {3}) state(%s : {2}) {{l2norm} : {0}, {0}, {0} -> {0}, state {2}
  return %o, %s1 : {0}, {2}
})", x, g, s, ty({1, kRecHeads, 1, kDim}, "f32"));
  if (c.logLinear()) {
    std::string lam = ty({1, kRecHeads, 1, c.levels()}, "f32");
    std::string ls = ty({1, kRecHeads, c.levels(), kDim, kDim}, "f32"), p = ty({1}, "i32");
    if (c.cache == "loglinear")
      return llvm::formatv(R"(func.func @step(%q: {0}, %k: {0}, %v: {0}, %lam: {1}, %g: {2}, %s: {3}, %p: {4}) -> ({0}, {3}) {
  %o, %s1 = attn.log_linear mamba2 %q, %k, %v, %lam : {1} gate(%g : {2}) state(%s : {3}) start(%p : {4}) : {0}, {0}, {0} -> {0}, state {3}
  return %o, %s1 : {0}, {3}
})", x, lam, g, ls, p);
    return llvm::formatv(R"(func.func @step(%q: {0}, %k: {0}, %v: {0}, %lam: {1}, %g: {2}, %b: {2}, %s: {3}, %p: {4}) -> ({0}, {3}) {
  %o, %s1 = attn.log_linear gated_deltanet %q, %k, %v, %lam : {1} gate(%g : {2}) beta(%b : {2}) state(%s : {3}) start(%p : {4}) : {0}, {0}, {0} -> {0}, state {3}
  return %o, %s1 : {0}, {3}
})", x, lam, g, ls, p);
  }
  // LoLCATs: features of the new token's query and key (from its feature
  // map), the linear terms and the window ring.
  std::string h = ty({kRecHeads}, "f32"), p = ty({1}, "i32"), z = ty({1, kRecHeads, kDim}, "f32");
  std::string ring = ty({1, kRecHeads, kWindow, kDim}, "f32");
  return llvm::formatv(R"(func.func @step(%q: {0}, %k: {0}, %v: {0}, %fq: {0}, %fk: {0}, %g: {1}, %p: {2}, %s: {3}, %z: {4}, %wk: {5}, %wv: {5}, %wf: {5}) -> ({0}, {3}, {4}, {5}, {5}, {5}) {
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %k, %v features(%fq, %fk : {0}) gamma(%g : {1}) position(%p : {2}) state(%s, %z : {3}, {4}) window(%wk, %wv, %wf : {5}, {5}, {5}) : {0}, {0}, {0} -> {0}
  return %o, %s1, %z1, %wk1, %wv1, %wf1 : {0}, {3}, {4}, {5}, {5}, {5}
})", x, h, p, s, z, ring);
}

/// Bytes the kernel reads per decode step (the cache it must stream).
double bytesPerToken(const Case &c) {
  double n = double(c.context);
  if (c.cache == "contiguous" || c.cache == "paged")
    return n * kHkv * 2 * kDim * 2;
  if (c.cache == "int8" || c.cache == "int4") {
    double code = c.cache == "int8" ? 1.0 : 0.5;
    return n * kHkv * (2 * kDim * code + 4.0 * kDim / kGroup +
                       4.0 * ((kDim + kGroup - 1) / kGroup));
  }
  if (c.cache == "pq")
    return n * kHkv * (kSub + 2.0 * kDim) + 4.0 * kHkv * kSub * kCentroids * (kDim / kSub);
  double floats = 0; // state in and out
  for (int64_t n : c.stateTensors())
    floats += double(n);
  return 2.0 * 4.0 * floats;
}

uint16_t toBf16(float x) {
  uint32_t bits;
  std::memcpy(&bits, &x, 4);
  return uint16_t((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
}

[[noreturn]] void die(const char *what) {
  fprintf(stderr, "%s: %s\n", what, attnrt_last_error());
  _exit(3);
}
#define CHECK(call)                                                            \
  do {                                                                         \
    if ((call) != ATTNRT_OK)                                                   \
      die(#call);                                                              \
  } while (0)

/// Fills a cache with `c.context` random tokens and returns the median time
/// in ms of (append one token, run the kernel) over `reps` steps.
double runCase(const std::string &lib, const Case &c, int reps) {
  attnrt_module *module = nullptr;
  CHECK(attnrt_module_load(lib.c_str(), &module));
  std::mt19937 rng(7);
  std::uniform_real_distribution<float> u(-1.0f, 1.0f);
  auto bf16 = [&](size_t n) {
    std::vector<uint16_t> x(n);
    for (uint16_t &e : x)
      e = toBf16(u(rng));
    return x;
  };
  auto f32 = [&](size_t n, float lo = -1.0f, float hi = 1.0f) {
    std::uniform_real_distribution<float> r(lo, hi);
    std::vector<float> x(n);
    for (float &e : x)
      e = r(rng);
    return x;
  };
  int32_t seq = 0;
  int64_t chunk = 1024, cap = c.capacity();
  std::vector<uint16_t> q = bf16(kHq * kDim), out(q.size());
  std::function<void(int64_t)> append;
  std::function<void()> kernel;
  attnrt_kv_cache *kv = nullptr;
  attnrt_quant_cache *quant = nullptr;
  attnrt_pq_cache *pq = nullptr;
  attnrt_state_cache *state = nullptr;
  std::vector<float> codebooks;
  std::vector<uint16_t> rq, rk, rv, rout;
  std::vector<float> gate, beta, lambda;
  std::vector<uint16_t> fq, fk;

  if (c.cache == "contiguous" || c.cache == "paged") {
    attnrt_kv_cache_desc d{};
    d.layout = c.cache == "paged" ? ATTNRT_KV_PAGED : ATTNRT_KV_CONTIGUOUS;
    d.dtype = ATTNRT_BF16;
    d.max_seqs = 1;
    d.kv_heads = kHkv;
    d.head_dim = d.value_dim = kDim;
    d.capacity = int32_t(cap);
    if (c.cache == "paged") {
      d.page_size = kPage;
      d.num_pages = int32_t(cap / kPage);
    }
    CHECK(attnrt_kv_cache_create(&d, &kv));
    CHECK(attnrt_kv_seq_create(kv, &seq));
    append = [&](int64_t n) {
      std::vector<uint16_t> k = bf16(kHkv * n * kDim), v = bf16(kHkv * n * kDim);
      CHECK(attnrt_kv_append(kv, seq, int32_t(n), k.data(), v.data()));
    };
    kernel = [&] {
      attnrt_kv_view view;
      CHECK(attnrt_kv_view_get(kv, &view));
      std::vector<void *> args = {q.data(), view.key, view.value,
                                  const_cast<int32_t *>(view.lengths)};
      if (view.block_table)
        args.push_back(const_cast<int32_t *>(view.block_table));
      args.push_back(out.data());
      CHECK(attnrt_call(module, "step", args.data(), int32_t(args.size())));
    };
  } else if (c.cache == "int8" || c.cache == "int4") {
    attnrt_quant_cache_desc d{};
    d.dtype = ATTNRT_BF16;
    d.max_seqs = 1;
    d.kv_heads = kHkv;
    d.head_dim = d.value_dim = kDim;
    d.capacity = int32_t(cap);
    d.bits = c.cache == "int8" ? 8 : 4;
    d.group_size = kGroup;
    CHECK(attnrt_quant_cache_create(&d, &quant));
    CHECK(attnrt_quant_seq_create(quant, &seq));
    append = [&](int64_t n) {
      std::vector<uint16_t> k = bf16(kHkv * n * kDim), v = bf16(kHkv * n * kDim);
      CHECK(attnrt_quant_append(quant, seq, int32_t(n), k.data(), v.data()));
    };
    kernel = [&] {
      attnrt_quant_view w;
      CHECK(attnrt_quant_view_get(quant, &w));
      std::vector<void *> args = {q.data(), w.key_codes, w.key_scale, w.value_codes,
                                  w.value_scale, const_cast<int32_t *>(w.quantized_lengths),
                                  w.residual_key, w.residual_value,
                                  const_cast<int32_t *>(w.residual_lengths), out.data()};
      CHECK(attnrt_call(module, "step", args.data(), int32_t(args.size())));
    };
  } else if (c.cache == "pq") {
    codebooks = f32(kHkv * kSub * kCentroids * (kDim / kSub));
    attnrt_pq_cache_desc d{};
    d.value_dtype = ATTNRT_BF16;
    d.max_seqs = 1;
    d.kv_heads = kHkv;
    d.head_dim = d.value_dim = kDim;
    d.capacity = int32_t(cap);
    d.subspaces = kSub;
    d.centroids = kCentroids;
    d.codebooks = codebooks.data();
    CHECK(attnrt_pq_cache_create(&d, &pq));
    CHECK(attnrt_pq_seq_create(pq, &seq));
    append = [&](int64_t n) {
      std::vector<float> k = f32(kHkv * n * kDim);
      std::vector<uint16_t> v = bf16(kHkv * n * kDim);
      CHECK(attnrt_pq_append(pq, seq, int32_t(n), k.data(), v.data()));
    };
    kernel = [&] {
      attnrt_pq_view w;
      CHECK(attnrt_pq_view_get(pq, &w));
      std::vector<void *> args = {q.data(), w.codes, const_cast<float *>(w.codebooks),
                                  w.value, const_cast<int32_t *>(w.lengths), out.data()};
      CHECK(attnrt_call(module, "step", args.data(), int32_t(args.size())));
    };
  } else {
    attnrt_state_cache_desc d{};
    d.max_seqs = 1;
    std::vector<int64_t> tensors = c.stateTensors();
    d.num_tensors = int32_t(tensors.size());
    std::copy(tensors.begin(), tensors.end(), d.tensor_elements);
    d.checkpoints = 0;
    CHECK(attnrt_state_cache_create(&d, &state));
    CHECK(attnrt_state_seq_create(state, &seq));
    rq = bf16(kRecHeads * kDim);
    rk = bf16(kRecHeads * kDim);
    rv = bf16(kRecHeads * kDim);
    rout.resize(rq.size());
    bool perChannel = c.cache == "kda";
    gate = f32(kRecHeads * (perChannel ? kDim : 1), -0.5f, -0.01f);
    beta = f32(kRecHeads, 0.05f, 0.95f);
    if (c.logLinear())
      lambda = f32(kRecHeads * c.levels(), 0.1f, 1.0f);
    if (c.cache == "lolcats") {
      // Positive features (as a feature map gives them), gamma per head.
      std::uniform_real_distribution<float> pos(0.05f, 1.0f);
      fq.resize(rq.size());
      fk.resize(rq.size());
      for (size_t i = 0; i < fq.size(); ++i) {
        fq[i] = toBf16(pos(rng));
        fk[i] = toBf16(pos(rng));
      }
      lambda = f32(kRecHeads);
    }
    append = [](int64_t) {}; // the state holds no tokens
    // Tokens before the measured steps: the position the kernel sees.
    int32_t position = int32_t(c.logLinear() ? c.context : kWindow + 1);
    kernel = [&, position]() mutable {
      float *in[ATTNRT_STATE_MAX_TENSORS], *st[ATTNRT_STATE_MAX_TENSORS];
      CHECK(attnrt_state_step_begin(state, seq, 1, in, st));
      std::vector<void *> args = {rq.data(), rk.data(), rv.data()};
      int32_t n = int32_t(c.stateTensors().size());
      if (c.cache == "lolcats") {
        args.insert(args.end(), {fq.data(), fk.data(), lambda.data(), &position});
        args.insert(args.end(), in, in + n);
        args.push_back(rout.data());
        args.insert(args.end(), st, st + n);
      } else {
        if (c.logLinear())
          args.push_back(lambda.data());
        if (c.cache == "gated_deltanet" || c.cache == "kda")
          args.push_back(beta.data());
        args.push_back(gate.data());
        if (c.cache == "loglinear_gdn")
          args.push_back(beta.data());
        args.push_back(in[0]);
        if (c.logLinear())
          args.push_back(&position);
        args.insert(args.end(), {rout.data(), st[0]});
      }
      CHECK(attnrt_call(module, "step", args.data(), int32_t(args.size())));
      CHECK(attnrt_state_step_commit(state, seq));
      ++position;
    };
  }
  for (int64_t filled = 0; !c.recurrent() && filled < c.context; filled += chunk)
    append(std::min(chunk, c.context - filled));
  std::vector<double> times;
  for (int r = 0; r <= reps; ++r) {
    auto start = Clock::now();
    if (!c.recurrent())
      append(1);
    kernel();
    double ms = std::chrono::duration<double, std::milli>(Clock::now() - start).count();
    if (r > 0)
      times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  attnrt_kv_cache_destroy(kv);
  attnrt_quant_cache_destroy(quant);
  attnrt_pq_cache_destroy(pq);
  attnrt_state_cache_destroy(state);
  attnrt_module_unload(module);
  return times[times.size() / 2];
}

bool runChild(const std::string &lib, const Case &c, int reps, double &ms) {
  if (getenv("ATTN_BENCH_NO_FORK")) { // for debuggers and profilers
    ms = runCase(lib, c, reps);
    return true;
  }
  return bench::runInChild([&] { return runCase(lib, c, reps); }, ms);
}

} // namespace

int main(int argc, char **argv) {
  bool quick = false;
  std::string jsonPath = "attn-decode-bench.json", only;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    if (a == "--quick")
      quick = true;
    else if (a == "--json" && i + 1 < argc)
      jsonPath = argv[++i];
    else if (a == "--only" && i + 1 < argc)
      only = argv[++i];
    else {
      fprintf(stderr, "usage: attn-decode-bench [--quick] [--json FILE] [--only CACHE]\n");
      return 2;
    }
  }
  int threads = int(sysconf(_SC_NPROCESSORS_ONLN));
  double copy = bench::measureMemcpyBandwidth(threads);
  printf("memcpy %.1f GB/s (%d threads, bytes read + written)\n\n", copy, threads);

  std::vector<int64_t> contexts = quick ? std::vector<int64_t>{1024, 4096}
                                        : std::vector<int64_t>{1024, 4096, 16384, 32768,
                                                               65536, 131072};
  std::vector<Case> cases;
  for (const char *kind : {"contiguous", "paged", "int8", "int4", "pq"})
    for (int64_t n : contexts)
      cases.push_back({kind, n});
  for (const char *kind : {"linear", "gated_deltanet", "kda"})
    cases.push_back({kind, 0});
  for (const char *kind : {"loglinear", "loglinear_gdn"})
    for (int64_t n : contexts)
      cases.push_back({kind, n});
  cases.push_back({"lolcats", 0});
  if (!only.empty()) {
    llvm::erase_if(cases, [&](const Case &c) { return c.cache != only; });
    if (cases.empty()) {
      fprintf(stderr, "attn-decode-bench: --only %s names no cache (contiguous, paged, "
                      "int8, int4, pq, linear, gated_deltanet, kda, loglinear, loglinear_gdn, "
                      "lolcats)\n",
              only.c_str());
      return 2;
    }
  }

  mlir::DialectRegistry registry;
  registerCompilerDialects(registry);
  mlir::MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SmallString<128> dir;
  llvm::sys::fs::createUniqueDirectory("attn-decode-bench", dir);

  printf("%-15s %8s %10s %10s %12s %8s\n", "cache", "context", "step ms", "tokens/s",
         "MB/token", "%memcpy");
  std::ostringstream json;
  json << "{\n  \"memcpy_gbs\": " << copy << ",\n  \"threads\": " << threads
       << ",\n  \"shape\": \"Hq=32 Hkv=8 D=Dv=128 bf16; recurrent 16 heads 128x128 f32 state (log-linear: bit_length(context)+1 "
          "levels; LoLCATs: window 64, 128 features)\""
       << ",\n  \"runs\": [";
  bool first = true;
  int index = 0;
  for (const Case &c : cases) {
    auto module = mlir::parseSourceString<mlir::ModuleOp>(kernelSource(c), &context);
    CompileOptions options;
    options.outputDir = std::string(dir);
    options.name = "d" + std::to_string(index++);
    std::string error;
    if (!module || failed(compileModule(*module, options, error))) {
      fprintf(stderr, "compile failed for %s: %s\n", c.cache.c_str(), error.c_str());
      return 1;
    }
    std::string lib = options.outputDir + "/lib" + options.name + ".so";
    double ms = 0;
    int reps = c.context >= 65536 ? 8 : 20;
    if (!runChild(lib, c, reps, ms)) {
      fprintf(stderr, "run failed for %s at %lld\n", c.cache.c_str(), (long long)c.context);
      return 1;
    }
    double bytes = bytesPerToken(c), gbs = bytes / (ms * 1e-3) / 1e9;
    printf("%-15s %8s %10.3f %10.1f %12.3f %7.1f%%\n", c.cache.c_str(),
           c.recurrent() && !c.logLinear() ? "any" : std::to_string(c.context).c_str(), ms,
           1e3 / ms,
           bytes / 1e6, 100.0 * gbs / copy);
    fflush(stdout);
    json << (first ? "" : ",") << "\n    {\"cache\": \"" << c.cache
         << "\", \"context\": " << c.context << ", \"step_ms\": " << ms
         << ", \"tokens_per_s\": " << 1e3 / ms << ", \"bytes_per_token\": " << bytes
         << ", \"gbs\": " << gbs << ", \"fraction_of_memcpy\": " << gbs / copy << "}";
    first = false;
  }
  json << "\n  ]\n}\n";
  std::ofstream(jsonPath) << json.str();
  printf("\nwrote %s\n", jsonPath.c_str());
  llvm::sys::fs::remove_directories(dir);
  return 0;
}
