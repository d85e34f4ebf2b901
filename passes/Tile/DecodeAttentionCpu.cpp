//===- DecodeAttentionCpu.cpp - split-KV decode attention for CPUs --------===//
//
// This file implements the CPU kernel attn-tile uses when few queries meet a
// long cache (decode, speculative decode, MLA). Such a call is bound by
// reading K and V once, so the kernel reads them in place, unpacked:
//
//   * the keys are split into chunks; one parallel task per (batch, kv head,
//     chunk) handles every query row of the kv head's G query heads
//     (R = G x Lq rows), so each key and value row is read once per task;
//   * per group of 16 keys and row: 16 dot products over D in vector<16xf32>
//     accumulators, summed into one score vector by a transposing shuffle
//     tree, one vector exp, a running max and sum, and acc += p[j] v[j];
//   * the partial (acc, max, sum) of each chunk is combined by a second
//     parallel pass, the merge of attn.merge: M = max m_c,
//     L = sum l_c exp(m_c - M), out = sum acc_c exp(m_c - M) / L.
//
// Reading a cache in place: with key counts a task stops at its row's count
// (chunks past it do nothing), and with a page table each key row is found
// through its page, so a paged cache is never copied. Quantised K/V are
// dequantised in registers as they are loaded: 16 int8 codes, or 8 bytes of
// int4 nibbles split and interleaved, converted to f32, times the key's
// per-channel scale vector (or the value row's group scales) plus the zero
// point (CompressedRows.cpp); the cache is never expanded to floats in memory.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace attn;

namespace {

class DecodeEmitter : public CpuKernelBuilder {
public:
  DecodeEmitter(ImplicitLocOpBuilder &b, const FlashShape &s,
                const DecodeCache &cache, const ScoreMods &mods)
      : CpuKernelBuilder(b, s), cache(cache), mods(mods), pq(cache.pq) {}

  void emit(Value q, Value k, Value v, Value sinks, Value out, Value lse);

private:
  /// Prefetches the K and V rows of the keys kPrefetchGroups x 16 past j0.
  void prefetchKeys(Value k, Value v, Value b0, Value kvHead, Value j0,
                    Value lastKey);
  static constexpr int64_t kPrefetchGroups = 2;

  /// One chunk of keys for all rows of a kv head.
  void chunk(Value q, Value k, Value v, Value b0, Value kvHead, Value keyBegin,
             Value keyEnd, Value count, Value qp, Value sc, Value acc, Value m,
             Value l);
  /// Combines the chunk partials of one row and writes out and lse.
  void mergeRow(Value pacc, Value pm, Value pl, Value sinks, Value out,
                Value lse, Value b0, Value kvHead, Value r);


  /// The keys batch row b0 sees: clamp(kv_lens[b0], 0, Lk), or Lk.
  Value keyCount(Value b0);
  /// The leading indices of key `key` (below the row's count) of kv head
  /// `kvHead` in K or V, through the page table when there is one; the
  /// channel index follows.
  SmallVector<Value> keyRow(Value b0, Value kvHead, Value key);

  /// PQ: table[r, s, c] = <qp[r, s-th sub-vector], centroid[kvHead, s, c]>.
  void pqTables(Value qp, Value table, Value kvHead);
  /// PQ: the scores of keys `keyIdx` (vector<16xi32>) for row r, summed from
  /// the row's table through the keys' codes.
  Value pqScores(Value codes, Value table, Value b0, Value kvHead, Value r,
                 Value keyIdx);

  DecodeCache cache;
  ScoreMods mods;
  std::optional<DecodePq> pq;
  Value pqTable; // the current task's tables [rows, m, Kc]

  int64_t rows() const { return s.group * s.lq; }
  int64_t splits = 1, chunkKeys = 0;
};

} // namespace

Value DecodeEmitter::keyCount(Value b0) { return cacheKeyCount(cache, b0); }

SmallVector<Value> DecodeEmitter::keyRow(Value b0, Value kvHead, Value key) {
  return cacheKeyRow(cache, b0, kvHead, key);
}

void DecodeEmitter::pqTables(Value qp, Value table, Value kvHead) {
  int64_t sub = s.d / pq->subspaces;
  forLoop(idx(0), idx(rows()), 1, {}, [&](Value r, ValueRange) {
    forLoop(idx(0), idx(pq->subspaces), 1, {}, [&](Value sp, ValueRange) {
      Value d0 = mul(sp, idx(sub));
      forLoop(idx(0), idx(pq->centroids), 1, {}, [&](Value c, ValueRange) {
        Value dot = forLoop(idx(0), idx(sub), 1, {cf(0.0)}, [&](Value t, ValueRange a) {
          Value qx = memref::LoadOp::create(b, qp, ValueRange{r, add(d0, t)});
          Value cx = memref::LoadOp::create(b, pq->codebooks,
                                            ValueRange{kvHead, sp, c, t});
          return SmallVector<Value>{math::FmaOp::create(b, qx, cx, a[0])};
        })[0];
        memref::StoreOp::create(b, dot, table, ValueRange{r, sp, c});
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

Value DecodeEmitter::pqScores(Value codes, Value table, Value b0, Value kvHead,
                              Value r, Value keyIdx) {
  auto i8 = b.getI8Type(), i32 = b.getI32Type();
  auto ivec = VectorType::get({kLanes}, i32);
  auto bvec = VectorType::get({kLanes}, i8);
  bool nibbles = pq->centroids == 16;
  int64_t width = nibbles ? pq->subspaces / 2 : pq->subspaces;
  auto splatI = [&](VectorType t, int64_t v) -> Value {
    return arith::ConstantOp::create(
        b, DenseElementsAttr::get(t, b.getIntegerAttr(t.getElementType(), v)));
  };
  Value all = arith::ConstantOp::create(
      b, DenseElementsAttr::get(VectorType::get({kLanes}, b.getI1Type()), true));
  // Element offsets of the keys' code rows from codes[b0, kvHead, 0, 0].
  Value rowOffsets = arith::MulIOp::create(b, keyIdx, splatI(ivec, width));
  return forLoop(idx(0), idx(pq->subspaces), 1, {splat(0.0)}, [&](Value sp, ValueRange a) {
    Value byte = nibbles ? arith::DivUIOp::create(b, sp, idx(2)).getResult() : sp;
    Value offsets = arith::AddIOp::create(
        b, rowOffsets,
        vector::BroadcastOp::create(b, ivec, arith::IndexCastOp::create(b, i32, byte)));
    Value code = vector::GatherOp::create(
        b, bvec, codes, ValueRange{b0, kvHead, idx(0), idx(0)}, offsets, all,
        splatI(bvec, 0));
    Value c = arith::ExtUIOp::create(b, ivec, code);
    if (nibbles) {
      // Sub-space 2t is the low nibble of byte t, 2t + 1 the high one.
      Value shift = arith::MulIOp::create(
          b, arith::IndexCastOp::create(b, i32, arith::RemUIOp::create(b, sp, idx(2))),
          arith::ConstantIntOp::create(b, 4, 32));
      c = arith::AndIOp::create(
          b, arith::ShRUIOp::create(b, c, vector::BroadcastOp::create(b, ivec, shift)),
          splatI(ivec, 15));
    }
    Value t;
    if (pq->permute) {
      // The 16 entries of (row, sub-space) in one register, looked up by
      // the codes in-register: lane l takes entries[c[l]]. LLVM turns a
      // vector built from such variable extracts of one source into one
      // variable permute (vpermps on AVX-512).
      Value entries = vector::LoadOp::create(b, vec, table, ValueRange{r, sp, idx(0)});
      SmallVector<Value> lanes;
      for (int64_t lane = 0; lane < kLanes; ++lane) {
        Value code = arith::IndexCastOp::create(
            b, b.getIndexType(), vector::ExtractOp::create(b, c, lane));
        lanes.push_back(vector::ExtractOp::create(b, entries, ArrayRef<OpFoldResult>{code}));
      }
      t = vector::FromElementsOp::create(b, vec, lanes);
    } else {
      t = vector::GatherOp::create(b, vec, table, ValueRange{r, sp, idx(0)}, c,
                                   all, splat(0.0));
    }
    return SmallVector<Value>{arith::AddFOp::create(b, a[0], t)};
  })[0];
}

void DecodeEmitter::prefetchKeys(Value k, Value v, Value b0, Value kvHead,
                                 Value j0, Value lastKey) {
  // Every 64-byte line of the K and V rows kPrefetchGroups groups of 16
  // keys ahead (clamped to the chunk's last key).
  for (Value rows : {k, v}) {
    auto type = cast<MemRefType>(rows.getType());
    int64_t bytes = std::max<int64_t>(1, type.getElementTypeBitWidth() / 8);
    int64_t width = type.getDimSize(3), perLine = std::max<int64_t>(1, 64 / bytes);
    forLoop(idx(0), idx(kLanes), 1, {}, [&](Value jj, ValueRange) {
      Value key = minI(add(j0, add(jj, idx(kPrefetchGroups * kLanes))), lastKey);
      SmallVector<Value> row = keyRow(b0, kvHead, key);
      for (int64_t c = 0; c < width; c += perLine) {
        SmallVector<Value> at(row);
        at.push_back(idx(c));
        memref::PrefetchOp::create(b, rows, at, /*isWrite=*/false,
                                   /*localityHint=*/3, /*isDataCache=*/true);
      }
      return SmallVector<Value>{};
    });
  }
}

void DecodeEmitter::chunk(Value q, Value k, Value v, Value b0, Value kvHead,
                          Value keyBegin, Value keyEnd, Value count, Value qp,
                          Value sc, Value acc, Value m, Value l) {
  double inf = std::numeric_limits<double>::infinity();
  int64_t dvVecs = s.dv / kLanes;
  // Qp[r, :] = scale * q[row r] in f32; r = g * Lq + i.
  forLoop(idx(0), idx(rows()), 1, {}, [&](Value r, ValueRange) {
    Value g = arith::DivUIOp::create(b, r, idx(s.lq));
    Value i = arith::RemUIOp::create(b, r, idx(s.lq));
    Value h = add(mul(kvHead, idx(s.group)), g);
    forLoop(idx(0), idx(s.d), 1, {}, [&](Value d, ValueRange) {
      Value x = toF32(memref::LoadOp::create(b, q, ValueRange{b0, h, i, d}));
      memref::StoreOp::create(b, arith::MulFOp::create(b, x, cf(s.scale)), qp,
                              ValueRange{r, d});
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
  if (pq)
    pqTables(qp, pqTable, kvHead);
  linalgFill(acc, 0.0);
  linalgFill(m, -inf);
  linalgFill(l, 0.0);

  auto i32 = b.getI32Type();
  auto ivec = i32Vec();
  Value lanes = laneIds();
  auto toI32 = [&](Value x) { return arith::IndexCastOp::create(b, i32, x); };
  auto bcastI = [&](Value x) { return vector::BroadcastOp::create(b, ivec, x); };
  Value negInfV = splat(-inf);

  // The loop only runs when keyEnd > keyBegin >= 0, so keyEnd - 1 is a key.
  Value lastKey = arith::SubIOp::create(b, keyEnd, idx(1));
  forLoop(keyBegin, keyEnd, kLanes, {}, [&](Value j0, ValueRange) {
    if (!pq)
      prefetchKeys(k, v, b0, kvHead, j0, lastKey);
    // Online softmax and PV per row. Scores of the 16 keys come from 16
    // dot-product accumulators over D (keys past the chunk read a valid,
    // clamped row and are masked below), summed into one vector by a
    // transposing reduction tree instead of 16 horizontal reductions.
    forLoop(idx(0), idx(rows()), 1, {}, [&](Value r, ValueRange) {
      // Lanes past the chunk read its last key again (masked below).
      Value x;
      if (pq) {
        Value keyIdx = arith::MinSIOp::create(
            b, arith::AddIOp::create(b, bcastI(toI32(j0)), lanes),
            bcastI(toI32(lastKey)));
        x = pqScores(k, pqTable, b0, kvHead, r, keyIdx);
      } else {
        SmallVector<SmallVector<Value>> keys;
        for (int64_t jj = 0; jj < kLanes; ++jj)
          keys.push_back(keyRow(b0, kvHead, minI(add(j0, idx(jj)), lastKey)));
        SmallVector<Value> zero(kLanes, splat(0.0));
        ValueRange dots = forLoop(idx(0), idx(s.d), kLanes, zero, [&](Value d0, ValueRange a) {
          Value qv = vector::LoadOp::create(b, vec, qp, ValueRange{r, d0});
          SmallVector<Value> next;
          for (int64_t jj = 0; jj < kLanes; ++jj) {
            Value kv = loadKeyVector(cache, k, keys[jj], d0);
            next.push_back(vector::FMAOp::create(b, qv, kv, a[jj]));
          }
          return next;
        });
        x = transposedSum(dots);
      }
      if (s.softcap) {
        Value cap = splat(*s.softcap);
        x = arith::MulFOp::create(
            b, cap, math::TanhOp::create(b, arith::DivFOp::create(b, x, cap)));
      }
      Value i = arith::RemUIOp::create(b, r, idx(s.lq));
      if (mods.any()) {
        Value h = add(mul(kvHead, idx(s.group)), arith::DivUIOp::create(b, r, idx(s.lq)));
        x = applyScoreMods(mods, x, b0, h, i, j0);
      }
      // Key j is visible to query i when j < chunk end and the causal and
      // window rules hold for delta = (i + n - Lq) - j, n the row's count.
      Value j = arith::AddIOp::create(b, bcastI(toI32(j0)), lanes);
      Value vis = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j,
                                        bcastI(toI32(keyEnd)));
      Value pos = arith::SubIOp::create(b, add(i, count), idx(s.lq));
      vis = andDiagonalRules(vis, arith::SubIOp::create(b, bcastI(toI32(pos)), j));
      x = arith::SelectOp::create(b, vis, x, negInfV);

      Value alpha = onlineSoftmaxRow(x, m, l, sc, r);
      // acc[r] = alpha acc[r] + sum_jj p[jj] v[j0 + jj]: one pass over Dv in
      // register-sized pieces of 4 vectors.
      Value alphaV = vector::BroadcastOp::create(b, vec, alpha);
      for (int64_t e0 = 0; e0 < dvVecs; e0 += kColVectors) {
        int64_t cols = std::min<int64_t>(kColVectors, dvVecs - e0);
        SmallVector<Value> init;
        for (int64_t c = 0; c < cols; ++c) {
          Value a = vector::LoadOp::create(b, vec, acc,
                                           ValueRange{r, idx((e0 + c) * kLanes)});
          init.push_back(arith::MulFOp::create(b, a, alphaV));
        }
        ValueRange sums = forLoop(idx(0), idx(kLanes), 1, init, [&](Value jj, ValueRange a) {
          SmallVector<Value> key = keyRow(b0, kvHead, minI(add(j0, jj), lastKey));
          Value pj = vector::BroadcastOp::create(
              b, vec, memref::LoadOp::create(b, sc, ValueRange{r, jj}));
          SmallVector<Value> next;
          for (int64_t c = 0; c < cols; ++c) {
            Value vv = loadValueVector(cache, v, key, idx((e0 + c) * kLanes));
            next.push_back(vector::FMAOp::create(b, pj, vv, a[c]));
          }
          return next;
        });
        for (int64_t c = 0; c < cols; ++c)
          vector::StoreOp::create(b, sums[c], acc, ValueRange{r, idx((e0 + c) * kLanes)});
      }
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

Value CpuKernelBuilder::softmaxExp(Value x) {
  auto ivec = VectorType::get({kLanes}, b.getI32Type());
  auto splatI = [&](int32_t v) {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(ivec, b.getI32IntegerAttr(v)));
  };
  Value xc = arith::MaximumFOp::create(b, x, splat(-87.0));
  Value k = math::RoundEvenOp::create(b, arith::MulFOp::create(b, xc, splat(M_LOG2E)));
  // r = x - k ln2 in two steps (ln2 split so k * hi is exact).
  Value r = vector::FMAOp::create(b, k, splat(-0.693145751953125), xc);
  r = vector::FMAOp::create(b, k, splat(-1.428606765330187045e-06), r);
  Value p = splat(1.0 / 720.0);
  for (double c : {1.0 / 120.0, 1.0 / 24.0, 1.0 / 6.0, 0.5, 1.0, 1.0})
    p = vector::FMAOp::create(b, p, r, splat(c));
  // 2^k for k in [-126, 0]: the biased exponent k + 127 shifted into place.
  Value bits = arith::ShLIOp::create(
      b, arith::AddIOp::create(b, arith::FPToSIOp::create(b, ivec, k), splatI(127)),
      splatI(23));
  Value y = arith::MulFOp::create(b, p, arith::BitcastOp::create(b, vec, bits));
  Value tiny = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, x, splat(-87.0));
  return arith::SelectOp::create(b, tiny, splat(0.0), y);
}

Value CpuKernelBuilder::onlineSoftmaxRow(Value x, Value m, Value l, Value sc,
                                         Value r) {
  double inf = std::numeric_limits<double>::infinity();
  Value mOld = memref::LoadOp::create(b, m, ValueRange{r});
  Value mNew = vector::ReductionOp::create(b, vector::CombiningKind::MAXIMUMF, x, mOld);
  Value none = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, cf(-inf));
  Value mSafe = arith::SelectOp::create(b, none, cf(0.0), mNew);
  Value p = math::ExpOp::create(
      b, arith::SubFOp::create(b, x, vector::BroadcastOp::create(b, vec, mSafe)));
  Value alpha = math::ExpOp::create(b, arith::SubFOp::create(b, mOld, mSafe));
  Value lOld = memref::LoadOp::create(b, l, ValueRange{r});
  Value lNew = vector::ReductionOp::create(b, vector::CombiningKind::ADD, p,
                                           arith::MulFOp::create(b, alpha, lOld));
  memref::StoreOp::create(b, mNew, m, ValueRange{r});
  memref::StoreOp::create(b, lNew, l, ValueRange{r});
  vector::StoreOp::create(b, p, sc, ValueRange{r, idx(0)});
  return alpha;
}

Value CpuKernelBuilder::transposedSum(ValueRange vectors) {
  struct Part {
    Value v;
    SmallVector<int64_t> owners; // the input vector each lane block sums
  };
  SmallVector<Part> parts;
  for (auto [j, v] : llvm::enumerate(vectors))
    parts.push_back({v, {int64_t(j)}});
  for (int64_t h = kLanes / 2; h >= 1; h /= 2) {
    SmallVector<Part> next;
    for (size_t i = 0; i + 1 < parts.size(); i += 2) {
      const Part &x = parts[i], &y = parts[i + 1];
      SmallVector<int64_t> lo, hi, owners;
      for (size_t blk = 0; blk < x.owners.size(); ++blk) {
        int64_t base = int64_t(blk) * 2 * h;
        for (int64_t t = 0; t < h; ++t)
          lo.push_back(base + t);
        for (int64_t t = 0; t < h; ++t)
          lo.push_back(kLanes + base + t);
        for (int64_t t = 0; t < h; ++t)
          hi.push_back(base + h + t);
        for (int64_t t = 0; t < h; ++t)
          hi.push_back(kLanes + base + h + t);
        owners.push_back(x.owners[blk]);
        owners.push_back(y.owners[blk]);
      }
      Value low = vector::ShuffleOp::create(b, vec, x.v, y.v, lo);
      Value high = vector::ShuffleOp::create(b, vec, x.v, y.v, hi);
      next.push_back({arith::AddFOp::create(b, low, high), owners});
    }
    parts = std::move(next);
  }
  SmallVector<int64_t> order(kLanes);
  for (auto [lane, owner] : llvm::enumerate(parts.front().owners))
    order[owner] = int64_t(lane);
  return vector::ShuffleOp::create(b, vec, parts.front().v, parts.front().v, order);
}

void DecodeEmitter::mergeRow(Value pacc, Value pm, Value pl, Value sinks,
                             Value out, Value lse, Value b0, Value kvHead,
                             Value r) {
  double inf = std::numeric_limits<double>::infinity();
  Value g = arith::DivUIOp::create(b, r, idx(s.lq));
  Value i = arith::RemUIOp::create(b, r, idx(s.lq));
  Value h = add(mul(kvHead, idx(s.group)), g);
  // A sink joins as one more partial with max = sink, sum = 1, acc = 0.
  Value mStart = sinks ? Value(memref::LoadOp::create(b, sinks, ValueRange{h}))
                       : cf(-inf);
  Value mAll = forLoop(idx(0), idx(splits), 1, {mStart}, [&](Value c, ValueRange a) {
    Value mc = memref::LoadOp::create(b, pm, ValueRange{b0, kvHead, c, r});
    return SmallVector<Value>{arith::MaximumFOp::create(b, a[0], mc)};
  })[0];
  Value none = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mAll, cf(-inf));
  Value mSafe = arith::SelectOp::create(b, none, cf(0.0), mAll);
  Value lStart = sinks ? Value(math::ExpOp::create(b, arith::SubFOp::create(b, mStart, mSafe)))
                       : cf(0.0);
  Value lAll = forLoop(idx(0), idx(splits), 1, {lStart}, [&](Value c, ValueRange a) {
    Value mc = memref::LoadOp::create(b, pm, ValueRange{b0, kvHead, c, r});
    Value lc = memref::LoadOp::create(b, pl, ValueRange{b0, kvHead, c, r});
    Value w = math::ExpOp::create(b, arith::SubFOp::create(b, mc, mSafe));
    return SmallVector<Value>{arith::AddFOp::create(b, a[0], arith::MulFOp::create(b, w, lc))};
  })[0];
  Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OLE, lAll, cf(0.0));
  Value inv = arith::SelectOp::create(b, empty, cf(0.0),
                                      arith::DivFOp::create(b, cf(1.0), lAll));
  forLoop(idx(0), idx(s.dv), kLanes, {}, [&](Value e, ValueRange) {
    Value sum = forLoop(idx(0), idx(splits), 1, {splat(0.0)}, [&](Value c, ValueRange a) {
      Value mc = memref::LoadOp::create(b, pm, ValueRange{b0, kvHead, c, r});
      Value w = math::ExpOp::create(b, arith::SubFOp::create(b, mc, mSafe));
      Value x = vector::LoadOp::create(b, vec, pacc, ValueRange{b0, kvHead, c, r, e});
      return SmallVector<Value>{vector::FMAOp::create(
          b, vector::BroadcastOp::create(b, vec, w), x, a[0])};
    })[0];
    Value o = arith::MulFOp::create(b, sum, vector::BroadcastOp::create(b, vec, inv));
    if (!s.elementType.isF32())
      o = arith::TruncFOp::create(b, VectorType::get({kLanes}, s.elementType), o);
    vector::StoreOp::create(b, o, out, ValueRange{b0, h, i, e});
    return SmallVector<Value>{};
  });
  if (lse) {
    Value value = arith::AddFOp::create(b, mAll, math::LogOp::create(b, lAll));
    value = arith::SelectOp::create(b, empty, cf(-inf), value);
    memref::StoreOp::create(b, value, lse, ValueRange{b0, h, i});
  }
}

void DecodeEmitter::emit(Value q, Value k, Value v, Value sinks, Value out,
                         Value lse) {
  // Enough chunks for 32 tasks (two per thread on 16 cores), each at least
  // 256 keys so the merge stays small next to the reads.
  int64_t units = s.batch * s.kvHeads;
  splits = std::clamp<int64_t>((32 + units - 1) / units, 1,
                               std::max<int64_t>(1, s.lk / 256));
  chunkKeys = (s.lk + splits - 1) / splits;
  chunkKeys = (chunkKeys + kLanes - 1) / kLanes * kLanes;
  splits = (s.lk + chunkKeys - 1) / chunkKeys;

  Value pacc = alloc({s.batch, s.kvHeads, splits, rows(), s.dv});
  Value pm = alloc({s.batch, s.kvHeads, splits, rows()});
  Value pl = alloc({s.batch, s.kvHeads, splits, rows()});
  parallel({s.batch, s.kvHeads, splits}, [&](ValueRange ivs) {
    Value count = keyCount(ivs[0]);
    Value keyBegin = mul(ivs[2], idx(chunkKeys));
    Value keyEnd = minI(add(keyBegin, idx(chunkKeys)), count);
    Value qp = alloc({rows(), s.d});
    if (pq)
      pqTable = alloc({rows(), pq->subspaces, pq->centroids});
    Value sc = alloc({rows(), kLanes});
    Value acc = alloc({rows(), s.dv});
    Value m = alloc({rows()}), l = alloc({rows()});
    chunk(q, k, v, ivs[0], ivs[1], keyBegin, keyEnd, count, qp, sc, acc, m, l);
    // Publish the partial of this chunk.
    forLoop(idx(0), idx(rows()), 1, {}, [&](Value r, ValueRange) {
      SmallVector<Value> at = {ivs[0], ivs[1], ivs[2], r};
      memref::StoreOp::create(b, memref::LoadOp::create(b, m, ValueRange{r}), pm, at);
      memref::StoreOp::create(b, memref::LoadOp::create(b, l, ValueRange{r}), pl, at);
      forLoop(idx(0), idx(s.dv), kLanes, {}, [&](Value e, ValueRange) {
        Value x = vector::LoadOp::create(b, vec, acc, ValueRange{r, e});
        SmallVector<Value> dst(at);
        dst.push_back(e);
        vector::StoreOp::create(b, x, pacc, dst);
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
  });
  parallel({s.batch, s.kvHeads, rows()}, [&](ValueRange ivs) {
    mergeRow(pacc, pm, pl, sinks, out, lse, ivs[0], ivs[1], ivs[2]);
  });
}

void attn::emitDecodeAttention(ImplicitLocOpBuilder &b, const FlashShape &s,
                               Value q, Value k, Value v, Value sinks,
                               Value out, Value lse, const DecodeCache &cache,
                               const ScoreMods &mods) {
  DecodeEmitter(b, s, cache, mods).emit(q, k, v, sinks, out, lse);
}
