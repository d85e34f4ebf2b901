//===- CpuKernelBuilder.h - shared builders of the CPU attn kernels -*- C++ -*-===//
//
// The CPU kernels of attn-tile are emitted op by op at the buffer level. This
// header holds what the prefill (flash) and decode kernels share: the static
// shape of the attention they implement and a builder with short spellings
// for constants, index arithmetic, scratch buffers and loops.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_TILE_CPUKERNELBUILDER_H
#define ATTN_PASSES_TILE_CPUKERNELBUILDER_H

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <algorithm>
#include <optional>

namespace attn {

constexpr int64_t kLanes = 16;     // f32 lanes of an AVX-512 register
constexpr int64_t kRows = 4;       // query rows per register tile
constexpr int64_t kColVectors = 4; // vectors per register tile row

/// Query rows of a prefill task: `rows` (block-q), but no more than Lq
/// rounded up to whole register tiles.
inline int64_t prefillRows(int64_t lq, int64_t rows) {
  return std::min(rows, (lq + kRows - 1) / kRows * kRows);
}

/// Static facts of one attention a CPU kernel implements.
struct FlashShape {
  int64_t batch, heads, kvHeads, group, lq, lk, d, dv;
  int64_t blockQ, blockK; // prefill tiles; blockK == kColVectors * kLanes
  int64_t listBlockQ = 0, listBlockK = 0; // block_q/block_k of block lists
  double scale;
  bool causal;
  std::optional<int64_t> left, right;
  std::optional<double> softcap;
  mlir::Type elementType; // of the output (inputs are read as their own)
};

/// The sizes of FlashShape from q [B, Hq, Lq, D], the keys' array
/// [B, Hkv, Lk, *] and Dv (the rest left for the pattern to fill).
inline FlashShape attentionSizes(mlir::RankedTensorType q,
                                 mlir::RankedTensorType keys, int64_t dv) {
  FlashShape s{};
  s.batch = q.getDimSize(0);
  s.heads = q.getDimSize(1);
  s.lq = q.getDimSize(2);
  s.d = q.getDimSize(3);
  s.kvHeads = keys.getDimSize(1);
  s.lk = keys.getDimSize(2);
  s.dv = dv;
  s.group = s.heads / s.kvHeads;
  s.elementType = q.getElementType();
  return s;
}

/// A tile inside a larger buffer: loads and stores prepend `prefix` to
/// their indices (the packed K/V arrays hold one tile per key block).
struct TileRef {
  mlir::Value mem;
  llvm::SmallVector<mlir::Value> prefix;
  llvm::SmallVector<mlir::Value> at(mlir::ValueRange rest) const {
    llvm::SmallVector<mlir::Value> indices(prefix);
    indices.append(rest.begin(), rest.end());
    return indices;
  }
};

/// Scalar-quantised K and V (attn.quant_attention's operands, as buffers)
/// that the kernels dequantise in registers: `k`/`v` of emitDecodeAttention
/// and emitFlashAttention are then the code arrays. Any group size (value
/// scales are gathered per lane when a group splits a 16-lane vector).
struct DecodeQuant {
  mlir::Value keyScale, keyZero, valueScale, valueZero;
  int64_t bits = 8, group = 1;
};

/// PQ keys (attn.pq_attention): `k` of emitDecodeAttention is the code array
/// [B, Hkv, Lk, m] (one byte per code) or [B, Hkv, Lk, m / 2] (nibbles), and
/// scores come from per-row tables of q . centroid.
struct DecodePq {
  mlir::Value codebooks; // [Hkv, m, Kc, D / m] f32
  int64_t subspaces = 1, centroids = 256;
  /// Kc = 16 on AVX-512: a sub-space's 16 table entries of a row fit one
  /// register, and the 16 keys' entries come from one vpermps of it.
  bool permute = false;
};

/// Where the decode kernel finds its keys and how it reads them: optional
/// key counts [B] (i32); for a paged cache the page table [B, NP] (i32) over
/// K/V pools [P, Hkv, pageSize, *] (`lk` of the shape is then NP *
/// pageSize); quantised or PQ codes instead of float rows.
struct DecodeCache {
  mlir::Value kvLens, blockTable;
  int64_t pageSize = 0, pages = 0;
  std::optional<DecodeQuant> quant;
  std::optional<DecodePq> pq;
};

/// What an attn.attention adds to its scores beyond the causal, window and
/// length rules: the score_mod and mask_mod regions (applied to 16 keys at a
/// time, vectorised when every op of the region is elementwise, lane by lane
/// otherwise) and a mask buffer [B|1, Hq|1, Lq, Lk] (i1 visibility, or an
/// additive float mask).
struct ScoreMods {
  mlir::Region *scoreMod = nullptr, *maskMod = nullptr;
  mlir::Value mask;
  bool any() const { return scoreMod || maskMod || mask; }
  /// Whether some key of a block may be hidden by these (so the kernels'
  /// unmasked fast path must still select).
  bool hides() const {
    return maskMod || (mask && mlir::cast<mlir::MemRefType>(mask.getType())
                                   .getElementType()
                                   .isInteger(1));
  }
};

/// Short spellings over one ImplicitLocOpBuilder.
class CpuKernelBuilder {
public:
  CpuKernelBuilder(mlir::ImplicitLocOpBuilder &b, const FlashShape &s)
      : b(b), s(s) {
    f32 = b.getF32Type();
    vec = mlir::VectorType::get({kLanes}, f32);
  }

protected:
  using Value = mlir::Value;
  using ValueRange = mlir::ValueRange;

  Value idx(int64_t v) { return mlir::arith::ConstantIndexOp::create(b, v); }
  Value cf(double v) {
    return mlir::arith::ConstantOp::create(b, b.getF32FloatAttr(v));
  }
  Value splat(double v) {
    return mlir::arith::ConstantOp::create(
        b, mlir::DenseElementsAttr::get(vec, b.getF32FloatAttr(v)));
  }
  Value add(Value a, Value c) { return mlir::arith::AddIOp::create(b, a, c); }
  Value sub(Value a, Value c) { return mlir::arith::SubIOp::create(b, a, c); }
  Value mul(Value a, Value c) { return mlir::arith::MulIOp::create(b, a, c); }
  Value minI(Value a, Value c) { return mlir::arith::MinSIOp::create(b, a, c); }
  Value maxI(Value a, Value c) { return mlir::arith::MaxSIOp::create(b, a, c); }
  Value toF32(Value x) {
    return x.getType().isF32()
               ? x
               : mlir::arith::ExtFOp::create(b, f32, x).getResult();
  }
  void linalgFill(Value buffer, double value) {
    mlir::linalg::FillOp::create(b, ValueRange{cf(value)}, ValueRange{buffer});
  }
  Value alloc(llvm::ArrayRef<int64_t> shape) {
    return mlir::memref::AllocOp::create(b, mlir::MemRefType::get(shape, f32),
                                         b.getI64IntegerAttr(64));
  }
  /// for (iv = lb; iv < ub; iv += step) body(iv, iterArgs) -> yields.
  mlir::ValueRange
  forLoop(Value lb, Value ub, int64_t step, ValueRange init,
          llvm::function_ref<llvm::SmallVector<Value>(Value, ValueRange)> body) {
    auto loop = mlir::scf::ForOp::create(
        b, lb, ub, idx(step), init,
        [&](mlir::OpBuilder &nested, mlir::Location, Value iv, ValueRange args) {
          mlir::OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          mlir::scf::YieldOp::create(b, body(iv, args));
        });
    return loop.getResults();
  }
  /// scf.parallel over [0, ub_i) with unit steps.
  void parallel(llvm::ArrayRef<int64_t> ubs,
                llvm::function_ref<void(ValueRange)> body) {
    llvm::SmallVector<Value> zeros, uppers, ones;
    for (int64_t ub : ubs) {
      zeros.push_back(idx(0));
      uppers.push_back(idx(ub));
      ones.push_back(idx(1));
    }
    mlir::scf::ParallelOp::create(
        b, zeros, uppers, ones,
        [&](mlir::OpBuilder &nested, mlir::Location, ValueRange ivs) {
          mlir::OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(),
                              nested.getInsertionPoint());
          body(ivs);
        });
  }

  /// The key count of batch row b0: kv_lens[b0] clamped to [0, Lk], or Lk
  /// without key counts.
  Value cacheKeyCount(const DecodeCache &cache, Value b0) {
    if (!cache.kvLens)
      return idx(s.lk);
    Value raw = mlir::memref::LoadOp::create(b, cache.kvLens, ValueRange{b0});
    Value n = mlir::arith::IndexCastOp::create(b, b.getIndexType(), raw);
    return minI(mlir::arith::MaxSIOp::create(b, n, idx(0)), idx(s.lk));
  }
  /// The leading indices of key `key` of kv head `kvHead` in K or V,
  /// through the page table when there is one (a bad entry is clamped to a
  /// real page, so nothing is read outside the pool); the channel follows.
  llvm::SmallVector<Value> cacheKeyRow(const DecodeCache &cache, Value b0,
                                       Value kvHead, Value key) {
    if (!cache.blockTable)
      return {b0, kvHead, key};
    Value slot = mlir::arith::DivUIOp::create(b, key, idx(cache.pageSize));
    Value row = mlir::arith::RemUIOp::create(b, key, idx(cache.pageSize));
    Value page =
        mlir::memref::LoadOp::create(b, cache.blockTable, ValueRange{b0, slot});
    Value index = mlir::arith::IndexCastOp::create(b, b.getIndexType(), page);
    index = minI(mlir::arith::MaxSIOp::create(b, index, idx(0)), idx(cache.pages - 1));
    return {index, kvHead, row};
  }

  /// 16 channels [c0, c0 + 16) of key row `row` (its leading indices) as
  /// f32: float rows converted, int8/int4 codes of `cache.quant` dequantised
  /// in registers with the key's per-channel scale (and zero) of its token
  /// group. Defined in CompressedRows.cpp.
  Value loadKeyVector(const DecodeCache &cache, Value k,
                      llvm::ArrayRef<Value> row, Value c0);
  /// The same for a value row: per-token scales of the channel groups (one
  /// broadcast scale when a group holds whole vectors, gathered otherwise).
  Value loadValueVector(const DecodeCache &cache, Value v,
                        llvm::ArrayRef<Value> row, Value c0);

  /// Scores x (vector<16xf32>) of keys j0 + lane for query `row` of head h
  /// in batch row b0 after the score_mod region and the additive mask, and
  /// with the keys that mask_mod or a boolean mask hide set to -inf. Mask
  /// entries of keys at or past Lk are not read; the region sees indices
  /// clamped into [0, Lq) and [0, Lk). Defined in ScoreModsCpu.cpp.
  Value applyScoreMods(const ScoreMods &mods, Value x, Value b0, Value h,
                       Value row, Value j0);

  /// The lane numbers 0..15 as an i32 vector.
  Value laneIds() {
    llvm::SmallVector<int32_t> lanes;
    for (int32_t lane = 0; lane < kLanes; ++lane)
      lanes.push_back(lane);
    return mlir::arith::ConstantOp::create(
        b, mlir::DenseElementsAttr::get(i32Vec(), llvm::ArrayRef(lanes)));
  }
  mlir::VectorType i32Vec() { return mlir::VectorType::get({kLanes}, b.getI32Type()); }

  /// One online-softmax step of row r over 16 masked scores x (hidden lanes
  /// -inf): the running max m[r] and sum l[r] are updated (a row that has
  /// seen no key keeps max -inf and subtracts 0), p = exp(x - max) is
  /// stored to sc[r, 0:16], and the rescale factor of the row's
  /// accumulator, exp(old max - new max), is returned. Defined in
  /// DecodeAttentionCpu.cpp.
  Value onlineSoftmaxRow(Value x, Value m, Value l, Value sc, Value r);

  /// exp(x) for vector<16xf32> x <= 0 (or -inf), as softmax needs it after
  /// the running max is subtracted: x = k ln2 + r with |r| <= ln2 / 2, a
  /// degree-6 Taylor polynomial in r (relative error below 2e-7), 2^k put
  /// into the exponent bits; 0 below -87 (so -inf gives 0, and no result
  /// is denormal). Shorter than the general polynomial, which also handles
  /// positive, huge and NaN inputs. Defined in DecodeAttentionCpu.cpp.
  Value softmaxExp(Value x);

  /// result[j] = sum of the lanes of vectors[j], for 16 vectors: a tree of
  /// shuffles that halves the vector count and the block width per level.
  /// Defined in DecodeAttentionCpu.cpp.
  Value transposedSum(ValueRange vectors);

  /// vis & the causal and window rules for lanes whose key lies `delta` =
  /// (i + n - Lq) - j before the query's diagonal (i32 vectors; n is Lk, or
  /// the row's key count when the kernel reads a cache).
  Value andDiagonalRules(Value vis, Value delta) {
    auto ivec = mlir::cast<mlir::VectorType>(delta.getType());
    auto rule = [&](mlir::arith::CmpIPredicate p, int64_t bound) {
      // |delta| < Lq + Lk, so clamping keeps the rule and fits i32.
      int64_t limit = s.lq + s.lk;
      bound = std::clamp<int64_t>(bound, -limit, limit);
      Value bv = mlir::vector::BroadcastOp::create(
          b, ivec, mlir::arith::ConstantOp::create(b, b.getI32IntegerAttr(bound)));
      vis = mlir::arith::AndIOp::create(
          b, vis, mlir::arith::CmpIOp::create(b, p, delta, bv));
    };
    if (s.causal)
      rule(mlir::arith::CmpIPredicate::sge, 0);
    if (s.left)
      rule(mlir::arith::CmpIPredicate::sle, *s.left);
    if (s.right)
      rule(mlir::arith::CmpIPredicate::sge, -*s.right);
    return vis;
  }

  mlir::ImplicitLocOpBuilder &b;
  const FlashShape &s;

private:
  /// 16 codes from channel c0 of `row` as f32 (unsigned where the side has
  /// zero points); 4-bit codes are split from 8 bytes, low nibble first.
  Value codesAsF32(int64_t bits, Value codes, llvm::ArrayRef<Value> row,
                   Value c0, bool isUnsigned);
  /// Plain float row channels [c0, c0 + 16) as f32.
  Value loadFloatVector(Value rows, llvm::ArrayRef<Value> row, Value c0);

protected:
  mlir::Type f32;
  mlir::VectorType vec;
};

/// Calls with at most this many queries per head take the decode kernel.
constexpr int64_t kDecodeMaxQueries = 16;

/// Emits the split-KV decode kernel (short Lq): see DecodeAttentionCpu.cpp.
void emitDecodeAttention(mlir::ImplicitLocOpBuilder &b, const FlashShape &s,
                         mlir::Value q, mlir::Value k, mlir::Value v,
                         mlir::Value sinks, mlir::Value out, mlir::Value lse,
                         const DecodeCache &cache = {},
                         const ScoreMods &mods = {});

/// Emits the flash prefill kernel (FlashAttentionCpu.cpp). `cache` may name
/// key counts, a page table, quantised codes (dequantised as K/V tiles are
/// packed) or PQ codes (keys rebuilt from their centroids in the packed
/// tile); `blockLists` are FlexAttention (counts, indices) pairs.
void emitFlashAttention(
    mlir::ImplicitLocOpBuilder &b, const FlashShape &s, mlir::Value q,
    mlir::Value k, mlir::Value v, mlir::Value sinks, mlir::Value out,
    mlir::Value lse, const DecodeCache &cache = {},
    llvm::ArrayRef<std::pair<mlir::Value, mlir::Value>> blockLists = {},
    const ScoreMods &mods = {});

} // namespace attn

#endif // ATTN_PASSES_TILE_CPUKERNELBUILDER_H
