//===- Reference.h - fp64 reference implementations of attn ops -*- C++ -*-===//
//
// The oracle outside the compiler: plain C++17 implementations of every op of
// the attn dialect, written from the math in OPS.md and the conventions in
// docs/Rationale.md, in double precision, without MLIR or LLVM. Tools compare
// compiled kernels against these functions, so the code favours the direct
// formula over speed and validates every shape relation it relies on.
//
// Conventions shared by all functions:
//  - tensors are dense and row-major; per-token operands use [B, H, L, D];
//  - optional operands are `const T *` (nullptr = absent), attributes with a
//    default are plain members initialised to it, attributes without one are
//    std::optional;
//  - inconsistent shapes or attributes throw std::invalid_argument whose
//    message starts with the op name and names the offending argument, e.g.
//    "attention: 'v' has shape [1,2,5,8], expected [1,2,4,*]".
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_REFERENCE_REFERENCE_H
#define ATTN_REFERENCE_REFERENCE_H

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace attn {
namespace reference {

//===----------------------------------------------------------------------===//
// Dense tensors
//===----------------------------------------------------------------------===//

/// Throws std::out_of_range. Out of line so that this header also compiles
/// in translation units built with -fno-exceptions (LLVM-style tools).
[[noreturn]] void throwIndexError(const char *message);

/// A dense row-major tensor. `data.size()` must equal the product of `shape`;
/// the ops check this for every argument.
template <typename T> struct Tensor {
  std::vector<int64_t> shape;
  std::vector<T> data;

  Tensor() = default;
  /// A tensor of the given shape filled with `fill`.
  explicit Tensor(std::vector<int64_t> shape, T fill = T())
      : shape(std::move(shape)) {
    data.assign(static_cast<size_t>(numelOf(this->shape)), fill);
  }
  Tensor(std::vector<int64_t> shape, std::vector<T> data)
      : shape(std::move(shape)), data(std::move(data)) {}

  int64_t rank() const { return static_cast<int64_t>(shape.size()); }
  int64_t dim(int64_t axis) const {
    return shape.at(static_cast<size_t>(axis));
  }
  int64_t numel() const { return numelOf(shape); }

  /// Row-major linear offset of a full index; throws std::out_of_range when
  /// the index has the wrong rank or leaves the shape.
  int64_t offset(std::initializer_list<int64_t> index) const {
    if (index.size() != shape.size())
      throwIndexError("tensor index has the wrong rank");
    int64_t off = 0;
    size_t axis = 0;
    for (int64_t i : index) {
      if (i < 0 || i >= shape[axis])
        throwIndexError("tensor index out of range");
      off = off * shape[axis] + i;
      ++axis;
    }
    return off;
  }
  T &at(std::initializer_list<int64_t> index) {
    return data[static_cast<size_t>(offset(index))];
  }
  const T &at(std::initializer_list<int64_t> index) const {
    return data[static_cast<size_t>(offset(index))];
  }
  /// Bounds-checked element access, `t(b, h, i, d)`.
  template <typename... I> T &operator()(I... index) {
    return at({static_cast<int64_t>(index)...});
  }
  template <typename... I> const T &operator()(I... index) const {
    return at({static_cast<int64_t>(index)...});
  }

  static int64_t numelOf(const std::vector<int64_t> &shape) {
    int64_t n = 1;
    for (int64_t s : shape)
      n *= s;
    return n;
  }
};

/// Float operands and results (f32/f16/bf16 in the IR) are held in fp64.
using RefTensor = Tensor<double>;
/// Quantised codes (i8 in the IR): int8, unsigned 8-bit or packed nibbles.
using CodeTensor = Tensor<int8_t>;
/// Integer indices and counts (i32 in the IR).
using IndexTensor = Tensor<int32_t>;
/// Boolean masks (i1 in the IR): non-zero means visible.
using BoolTensor = Tensor<uint8_t>;

/// Softmax-family result: `out [B,Hq,Lq,Dv]` and `lse [B,Hq,Lq]` (natural
/// log, -inf for rows without a visible key). lse is always computed; the IR
/// returns it only when asked.
struct AttentionResult {
  RefTensor out;
  RefTensor lse;
};

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

/// `score_mod(s, b, h, i, j)` of attn.attention (h is the query head).
using ScoreModFn = std::function<double(double score, int64_t b, int64_t h,
                                        int64_t i, int64_t j)>;
/// `mask_mod(b, h, i, j)`: true = visible.
using MaskModFn =
    std::function<bool(int64_t b, int64_t h, int64_t i, int64_t j)>;

/// Attributes and optional operands of attn.attention.
struct AttentionParams {
  /// Defaults to 1/sqrt(D).
  std::optional<double> scale;
  /// Bottom-right aligned: query i sees key j iff j <= i + Lk - Lq.
  bool causal = false;
  /// {left, right}, both >= 0: visible iff (i + Lk - Lq) - j in [-right, left].
  std::optional<std::pair<int64_t, int64_t>> window;
  /// > 0: s = softcap * tanh(s / softcap).
  std::optional<double> softcap;
  /// Boolean mask [B|1, Hq|1, Lq, Lk].
  const BoolTensor *boolMask = nullptr;
  /// Additive float mask [B|1, Hq|1, Lq, Lk], added after score_mod. The IR
  /// has one mask operand whose type picks the kind; both may be given here.
  const RefTensor *additiveMask = nullptr;
  /// Block lists [B|1, Hq|1, NQB] and [B|1, Hq|1, NQB, MB], NQB =
  /// ceil(Lq / blockQ). When any list is given, a key is visible only if its
  /// block is listed in kv_indices or full_kv_indices.
  const IndexTensor *kvNumBlocks = nullptr;
  const IndexTensor *kvIndices = nullptr;
  const IndexTensor *fullKvNumBlocks = nullptr;
  const IndexTensor *fullKvIndices = nullptr;
  int64_t blockQ = 128;
  int64_t blockK = 128;
  /// Per-head sink logits [Hq]: join the denominator only, and so the lse.
  /// A row with no visible key then gives out = 0 and lse = sink[h].
  const RefTensor *sinks = nullptr;
  /// Key counts [B]: row b sees keys j < n_b = clamp(kv_lens[b], 0, Lk), and
  /// the causal and window rules align at n_b instead of Lk.
  const IndexTensor *kvLens = nullptr;
  /// Page table [B, NP]: k and v are page pools [P, Hkv, PS, D|Dv]; logical
  /// key j of row b is row j % PS of page table[b, j / PS], Lk = NP * PS.
  /// Pages of keys below the key count must lie in [0, P).
  const IndexTensor *blockTable = nullptr;
  ScoreModFn scoreMod;
  MaskModFn maskMod;
};

/// attn.attention: q [B,Hq,Lq,D], k [B,Hkv,Lk,D], v [B,Hkv,Lk,Dv].
AttentionResult attention(const RefTensor &q, const RefTensor &k,
                          const RefTensor &v,
                          const AttentionParams &params = {});

/// attn.merge: outs [N,B,H,L,Dv], lses [N,B,H,L] -> out [B,H,L,Dv], lse.
AttentionResult merge(const RefTensor &outs, const RefTensor &lses);

struct DiffAttentionParams {
  double lambdaInit = 0.0;
  double eps = 1e-5;
  bool causal = false;
  std::optional<double> scale;
  /// Optional RMS-norm weight [Dv]; 1 when absent.
  const RefTensor *normWeight = nullptr;
};

struct DiffAttentionResult {
  RefTensor out;
};

/// attn.diff_attention: q1, q2 [B,Hq,Lq,D], k1, k2 [B,Hkv,Lk,D],
/// v [B,Hkv,Lk,Dv], lambda [Hq].
DiffAttentionResult diffAttention(const RefTensor &q1, const RefTensor &k1,
                                  const RefTensor &q2, const RefTensor &k2,
                                  const RefTensor &v, const RefTensor &lambda,
                                  const DiffAttentionParams &params);

//===----------------------------------------------------------------------===//
// Feature maps, linear attention, delta rule, log-linear, LoLCATs
//===----------------------------------------------------------------------===//

enum class FeatureMapKind { Identity, EluPlusOne, Relu, Hedgehog };

struct FeatureMapParams {
  FeatureMapKind kind = FeatureMapKind::Identity;
  /// Hedgehog only: W [H, D, F/2].
  const RefTensor *weight = nullptr;
};

struct FeatureMapResult {
  RefTensor out;
};

/// attn.feature_map: x [B,H,L,D] -> [B,H,L,F].
FeatureMapResult featureMap(const RefTensor &x, const FeatureMapParams &params);

enum class DecayKind { None, Constant, Scalar, Vector };

struct LinearAttentionParams {
  DecayKind decay = DecayKind::None;
  /// Log-space decay: [H] (constant), [B,H,L] (scalar), [B,H,L,F] (vector).
  const RefTensor *g = nullptr;
  bool normalize = false;
  double eps = 1e-6;
  /// Multiplies q.
  double scale = 1.0;
  /// Initial state [B,H,F,Dv]; z_in [B,H,F] is required with it when
  /// normalize is set and rejected otherwise.
  const RefTensor *stateIn = nullptr;
  const RefTensor *zIn = nullptr;
};

struct LinearAttentionResult {
  RefTensor out;      ///< [B,H,L,Dv]
  RefTensor stateOut; ///< [B,H,F,Dv]
  RefTensor zOut;     ///< [B,H,F]; empty unless normalize
};

/// attn.linear_attention: q, k [B,H,L,F] (feature-mapped), v [B,H,L,Dv].
LinearAttentionResult linearAttention(const RefTensor &q, const RefTensor &k,
                                      const RefTensor &v,
                                      const LinearAttentionParams &params = {});

enum class DeltaRuleKind { DeltaNet, Gated, Kda };

struct DeltaRuleParams {
  DeltaRuleKind kind = DeltaRuleKind::DeltaNet;
  /// Log-space gate: [B,H,L] (gated) or [B,H,L,D] (kda).
  const RefTensor *g = nullptr;
  /// Multiplies q (after l2norm).
  double scale = 1.0;
  /// Normalise q and k per token: x / sqrt(sum x^2 + 1e-6).
  bool l2norm = false;
  /// Initial state [B,H,D,Dv].
  const RefTensor *stateIn = nullptr;
};

struct DeltaRuleResult {
  RefTensor out;      ///< [B,H,L,Dv]
  RefTensor stateOut; ///< [B,H,D,Dv]
};

/// attn.delta_rule: q, k [B,H,L,D], v [B,H,L,Dv], beta [B,H,L].
DeltaRuleResult deltaRule(const RefTensor &q, const RefTensor &k,
                          const RefTensor &v, const RefTensor &beta,
                          const DeltaRuleParams &params = {});

enum class LogLinearBase { Linear, Mamba2, GatedDeltaNet };

struct LogLinearParams {
  LogLinearBase base = LogLinearBase::Linear;
  /// Log-space gate [B,H,L]: required for mamba2 and gated_deltanet.
  const RefTensor *g = nullptr;
  /// [B,H,L]: gated_deltanet only.
  const RefTensor *beta = nullptr;
  /// Multiplies q.
  double scale = 1.0;
  /// Streaming (any of the three): the recurrent form for every base, with
  /// `levels` = lambda's level count NL, level states [B,H,NL,D,Dv] starting
  /// from `stateIn` (zeros without it) and token 0 at absolute position
  /// `start[b]` (0 without it; negative reads as 0). A carry past level NL-1
  /// stays there.
  bool streaming = false;
  const RefTensor *stateIn = nullptr;
  const IndexTensor *start = nullptr;
};

struct LogLinearResult {
  RefTensor out;      ///< [B,H,L,Dv]
  RefTensor stateOut; ///< [B,H,NL,D,Dv] when streaming
};

/// ceil(log2 L) + 1: the number of Fenwick levels of a length-L sequence.
int64_t logLinearLevelCount(int64_t length);
/// lev(t, s) = bit_length(t XOR s) for s < t, 0 for s == t.
int64_t logLinearLevel(int64_t t, int64_t s);

/// attn.log_linear: q, k [B,H,L,D], v [B,H,L,Dv], lambda [B,H,L,nlev].
LogLinearResult logLinear(const RefTensor &q, const RefTensor &k,
                          const RefTensor &v, const RefTensor &lambda,
                          const LogLinearParams &params = {});

enum class LolcatsMode { Sliding, Terrace };

struct LolcatsParams {
  /// >= 1.
  int64_t window = 64;
  LolcatsMode mode = LolcatsMode::Sliding;
  /// Window logits scale; defaults to 1/sqrt(D).
  std::optional<double> scale;
};

struct LolcatsResult {
  RefTensor out; ///< [B,H,L,Dv]
};

/// attn.lolcats_hybrid: q, k [B,H,L,D], v [B,H,L,Dv], fq, fk [B,H,L,F],
/// gamma [H] (pre-sigmoid).
LolcatsResult lolcatsHybrid(const RefTensor &q, const RefTensor &k,
                            const RefTensor &v, const RefTensor &fq,
                            const RefTensor &fk, const RefTensor &gamma,
                            const LolcatsParams &params = {});

/// The streaming state of a sliding LoLCATs sequence (attn.lolcats_decode):
/// linear terms of the evicted keys and a ring of the last W tokens.
struct LolcatsState {
  RefTensor state;         ///< [B,H,F,Dv]
  RefTensor norm;          ///< [B,H,F]
  RefTensor windowKey;     ///< [B,H,W,D]
  RefTensor windowValue;   ///< [B,H,W,Dv]
  RefTensor windowFeature; ///< [B,H,W,F]
};

struct LolcatsDecodeResult {
  RefTensor out; ///< [B,H,1,Dv]
  LolcatsState next;
};

/// attn.lolcats_decode: token p = position[b] (negative reads as 0) of each
/// row, q, k [B,H,1,D], v [B,H,1,Dv], fq, fk [B,H,1,F]; it replaces ring slot
/// p mod W, moving the token there (p - W) into the linear terms, then
/// gives the sliding hybrid's output over window slots [0, min(p+1, W)).
LolcatsDecodeResult lolcatsDecode(const RefTensor &q, const RefTensor &k,
                                  const RefTensor &v, const RefTensor &fq,
                                  const RefTensor &fk, const RefTensor &gamma,
                                  const IndexTensor &position,
                                  const LolcatsState &state,
                                  std::optional<double> scale);

//===----------------------------------------------------------------------===//
// Token-sparse attention and selection
//===----------------------------------------------------------------------===//

struct SparseAttentionParams {
  int64_t queryBlock = 1;
  int64_t keyBlock = 1;
  std::optional<double> scale;
  bool causal = false;
};

/// attn.sparse_attention: q [B,Hq,Lq,D], k [B,Hkv,Lk,D], v [B,Hkv,Lk,Dv],
/// indices [B, 1|Hkv|Hq, ceil(Lq/queryBlock), K]. Index -1 pads; indices
/// outside [0, ceil(Lk/keyBlock)) are ignored, duplicates count once.
AttentionResult sparseAttention(const RefTensor &q, const RefTensor &k,
                                const RefTensor &v, const IndexTensor &indices,
                                const SparseAttentionParams &params = {});

/// Attributes common to the selection ops.
struct SelectionParams {
  int64_t topk = 1;
  /// Bottom-right causal rule over keys (over pages for quest_select: a page
  /// is a candidate when its first key is visible).
  bool causal = false;
  /// The first n keys are forced into the selection.
  int64_t sinkTokens = 0;
  /// The last n visible keys are forced into the selection.
  int64_t localWindow = 0;
};

/// Order of the selected indices: forced keys first in ascending index (as
/// if their score were +inf, ties to the lower index), then the remaining
/// candidates by descending score, ties to the lower index, then -1 padding.
/// When more keys are forced than topk, the lowest forced indices win.
struct SelectionResult {
  IndexTensor indices; ///< [B, H, Lq, topk]
};

/// attn.topk_select: q [B,Hq,Lq,D], k [B,Hkv,Lk,D] -> [B,Hq,Lq,topk],
/// score q.k.
SelectionResult topkSelect(const RefTensor &q, const RefTensor &k,
                           const SelectionParams &params);

/// attn.adamas_select: as topk_select with Hadamard-transformed q, 2-bit keys
/// and negative Manhattan distance; D must be a power of two. A transformed
/// key value exactly halfway between two levels rounds to the upper one.
SelectionResult adamasSelect(const RefTensor &q, const RefTensor &k,
                             const SelectionParams &params);

struct PageBoundsResult {
  RefTensor kmin; ///< [B,Hkv,P,D]
  RefTensor kmax; ///< [B,Hkv,P,D]
};

/// attn.page_bounds: k [B,Hkv,Lk,D], P = ceil(Lk / pageSize).
PageBoundsResult pageBounds(const RefTensor &k, int64_t pageSize);

struct QuestParams : SelectionParams {
  int64_t pageSize = 16;
  /// Lk of the paged keys, which the causal rule needs; ceil(keyLength /
  /// pageSize) must equal P. Defaults to P * pageSize.
  std::optional<int64_t> keyLength;
};

/// attn.quest_select: q [B,Hq,Lq,D], kmin, kmax [B,Hkv,P,D] -> page indices
/// [B,Hq,Lq,topk]. sink_tokens / local_window count keys and force the pages
/// holding them.
SelectionResult questSelect(const RefTensor &q, const RefTensor &kmin,
                            const RefTensor &kmax, const QuestParams &params);

/// attn.dsa_indexer: qi [B,Hi,Lq,Di], ki [B,1,Lk,Di], w [B,Hi,Lq] ->
/// [B,1,Lq,topk].
SelectionResult dsaIndexer(const RefTensor &qi, const RefTensor &ki,
                           const RefTensor &w, const SelectionParams &params);

//===----------------------------------------------------------------------===//
// Quantised KV
//===----------------------------------------------------------------------===//

struct QuantParams {
  /// 4 or 8.
  int64_t bits = 8;
  int64_t groupSize = 1;
  /// Zero points of the scale shapes; with them codes are unsigned.
  const RefTensor *kZero = nullptr;
  const RefTensor *vZero = nullptr;
};

struct QuantAttentionParams : QuantParams {
  std::optional<double> scale;
  bool causal = false;
  /// Key counts [B], as in AttentionParams.
  const IndexTensor *kvLens = nullptr;
};

/// Keys from k_codes [B,Hkv,Lk,D'] and k_scale [B,Hkv,ceil(Lk/g),D] ->
/// [B,Hkv,Lk,D]. D' = D for 8 bits, D/2 for 4 bits.
RefTensor dequantizeKeys(const CodeTensor &kCodes, const RefTensor &kScale,
                         const QuantParams &params);
/// Values from v_codes [B,Hkv,Lk,Dv'] and v_scale [B,Hkv,Lk,ceil(Dv/g)];
/// Dv = Dv' for 8 bits, 2 Dv' for 4 bits.
RefTensor dequantizeValues(const CodeTensor &vCodes, const RefTensor &vScale,
                           const QuantParams &params);

/// attn.quant_attention: q [B,Hq,Lq,D] with quantised K and V.
AttentionResult quantAttention(const RefTensor &q, const CodeTensor &kCodes,
                               const RefTensor &kScale,
                               const CodeTensor &vCodes,
                               const RefTensor &vScale,
                               const QuantAttentionParams &params);

struct PqFitParams {
  /// Sub-spaces; must divide D.
  int64_t m = 1;
  /// Centroids per sub-space: 16 or 256.
  int64_t kc = 256;
  int64_t iters = 25;
  uint64_t seed = 0;
};

struct PqFitResult {
  RefTensor codebooks; ///< [H, m, Kc, D/m]
};

/// attn.pq_fit: keys [H,N,D], N >= Kc. Per (head h, sub-space s):
///  - draws u in [0,1) are (splitmix64() >> 11) * 2^-53 from a splitmix64
///    stream seeded with seed ^ (0x9E3779B97F4A7C15 * (h * m + s + 1)), so
///    the result is the same on every platform;
///  - k-means++: the first centroid is point floor(u N); each next one is the
///    first point whose running sum of D(x)^2 (squared distance to the
///    nearest chosen centroid) exceeds u * sum D(x)^2, or point floor(u N)
///    when every D(x)^2 is 0;
///  - `iters` Lloyd iterations: assignment to the nearest centroid (ties to
///    the lower index), centroids become the means, an empty cluster keeps
///    its centroid; stopping early at a fixed point changes nothing.
PqFitResult pqFit(const RefTensor &keys, const PqFitParams &params);

struct PqEncodeResult {
  CodeTensor codes; ///< [B,H,L,m] (Kc=256) or [B,H,L,m/2] (Kc=16, packed)
};

/// attn.pq_encode: k [B,H,L,D], codebooks [H,m,Kc,D/m].
PqEncodeResult pqEncode(const RefTensor &k, const RefTensor &codebooks);

struct PqAttentionParams {
  std::optional<double> scale;
  bool causal = false;
  /// Key counts [B], as in AttentionParams.
  const IndexTensor *kvLens = nullptr;
};

/// attn.pq_attention: q [B,Hq,Lq,D], codes [B,Hkv,Lk,m or m/2],
/// codebooks [Hkv,m,Kc,D/m], v [B,Hkv,Lk,Dv].
AttentionResult pqAttention(const RefTensor &q, const CodeTensor &codes,
                            const RefTensor &codebooks, const RefTensor &v,
                            const PqAttentionParams &params = {});

} // namespace reference
} // namespace attn

#endif // ATTN_REFERENCE_REFERENCE_H
