//===- FlashAttentionCpu.cpp - flash-style softmax attention for CPUs -----===//
//
// This file implements the CPU tiling of attn.attention: the online-softmax
// ("flash") form that never materialises the Lq x Lk score matrix.
//
// One parallel task per (batch, kv head, query block) holds the query rows
// of all G query heads that share the kv head, so every K/V tile is packed
// once and used G times. Per key block the task:
//   1. packs K^T [D, BK] and V [BK, Dv] as f32 (zero rows past Lk;
//      int8/int4 codes dequantised, PQ keys rebuilt from centroids),
//   2. S = Q K^T on a register tile of 4 rows x 64 keys (16 vector<16xf32>
//      accumulators carried by the d loop),
//   3. updates the running max m, sum l (16 lane-wise partial sums, added
//      up once at the end) and rescale factor per row, masking
//      scores only in blocks the causal/window/length rules cut (a block
//      every row sees entirely takes the branch without the mask),
//   4. O = alpha O + P V on a register tile of 4 rows x 64 output columns.
// Key blocks that no row of the task can see are never visited. The query
// rows are scaled and converted to f32 once per task. Rows of a ragged last
// query block are padded with zeros and never written back.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"
#include "TilePatterns.h"

#include "attn/Dialect/Attn/AttnDialect.h"
#include "../KernelBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace attn;

namespace {

/// Emits the prefill kernel.
class FlashEmitter : public CpuKernelBuilder {
public:
  /// `cache` (key counts, a page table) when the call reads a runtime cache.
  FlashEmitter(ImplicitLocOpBuilder &b, const FlashShape &s,
               const DecodeCache &cache, const ScoreMods &mods)
      : CpuKernelBuilder(b, s), cache(cache), mods(mods) {}

  void emit(Value q, Value k, Value v, Value sinks, Value out, Value lse,
            ArrayRef<std::pair<Value, Value>> blockLists = {});

private:
  /// vis[b, h, qb, kb] (i1): the lists name key block kb for query block qb.
  Value buildBlockTable(ArrayRef<std::pair<Value, Value>> lists);
  /// Whether any query head of kvHead lists key block `listKb` for a list
  /// query block in [qbBegin, qbEnd): K/V of other blocks is never read.
  Value anyListed(Value table, Value b0, Value kvHead, Value listKb,
                  Value qbBegin, Value qbEnd);

  void packQuery(Value q, Value qp, Value b0, Value kvHead, Value row0);
  void packKeyValue(Value k, Value v, const TileRef &kt, const TileRef &vp,
                    Value b0, Value kvHead, Value key0, Value count);
  void packPqKey(Value codes, const TileRef &kt, ArrayRef<Value> row,
                 Value kvHead, Value j, Value inside);
  void scoreTile(Value qp, const TileRef &kt, Value sc, Value g);
  void softmaxRows(Value sc, Value alpha, Value m, Value l, Value b0,
                   Value h, Value g, Value row0, Value key0, Value count,
                   bool withMask);
  void accumulate(Value sc, const TileRef &vp, Value alpha, Value o, Value g);
  void finish(Value o, Value m, Value l, Value out, Value lse, Value b0,
              Value kvHead, Value row0);

  DecodeCache cache;
  ScoreMods mods;
};

} // namespace

/// Qp[g, i, :] = scale * q[b, kvHead * G + g, row0 + i, :] in f32, 0 past Lq.
void FlashEmitter::packQuery(Value q, Value qp, Value b0, Value kvHead,
                             Value row0) {
  Value lq = idx(s.lq), scale = cf(s.scale);
  forLoop(idx(0), idx(s.group), 1, {}, [&](Value g, ValueRange) {
    Value h = add(mul(kvHead, idx(s.group)), g);
    forLoop(idx(0), idx(s.blockQ), 1, {}, [&](Value i, ValueRange) {
      Value row = add(row0, i);
      Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, row, lq);
      Value safeRow = minI(row, idx(s.lq - 1));
      forLoop(idx(0), idx(s.d), 1, {}, [&](Value d, ValueRange) {
        Value x = toF32(memref::LoadOp::create(b, q, ValueRange{b0, h, safeRow, d}));
        x = arith::MulFOp::create(b, x, scale);
        x = arith::SelectOp::create(b, inside, x, cf(0.0));
        memref::StoreOp::create(b, x, qp, ValueRange{g, i, d});
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

/// K^T [D, BK] and V [BK, Dv] of key block starting at key0, f32, 0 past
/// the key count (Lk, or the row's count in a cache; pages looked up).
/// Quantised rows are dequantised 16 channels at a time; PQ keys are rebuilt
/// from their centroids, so Q K^T sums q . centroid over the sub-spaces as
/// the lookup tables would.
void FlashEmitter::packKeyValue(Value k, Value v, const TileRef &kt,
                                const TileRef &vp, Value b0, Value kvHead,
                                Value key0, Value count) {
  forLoop(idx(0), idx(s.blockK), 1, {}, [&](Value j, ValueRange) {
    Value key = add(key0, j);
    Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, key, count);
    SmallVector<Value> row = cacheKeyRow(cache, b0, kvHead, minI(key, idx(s.lk - 1)));
    if (cache.pq)
      packPqKey(k, kt, row, kvHead, j, inside);
    else
      forLoop(idx(0), idx(s.d), kLanes, {}, [&](Value d0, ValueRange) {
        Value x = loadKeyVector(cache, k, row, d0);
        x = arith::SelectOp::create(b, inside, x, splat(0.0));
        for (int64_t lane = 0; lane < kLanes; ++lane)
          memref::StoreOp::create(b, vector::ExtractOp::create(b, x, lane), kt.mem,
                                  kt.at({add(d0, idx(lane)), j}));
        return SmallVector<Value>{};
      });
    forLoop(idx(0), idx(s.dv), kLanes, {}, [&](Value e0, ValueRange) {
      Value x = loadValueVector(cache, v, row, e0);
      x = arith::SelectOp::create(b, inside, x, splat(0.0));
      vector::StoreOp::create(b, x, vp.mem, vp.at({j, e0}));
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

/// K^T[:, j] of a PQ key: sub-space sp's centroid of the key's code
/// (one byte per code for Kc = 256, read unsigned; nibbles for Kc = 16,
/// sub-space 2t in the low nibble of byte t).
void FlashEmitter::packPqKey(Value codes, const TileRef &kt,
                             ArrayRef<Value> row, Value kvHead, Value j,
                             Value inside) {
  const DecodePq &pq = *cache.pq;
  int64_t sub = s.d / pq.subspaces;
  bool nibbles = pq.centroids == 16;
  auto i32 = b.getI32Type();
  forLoop(idx(0), idx(pq.subspaces), 1, {}, [&](Value sp, ValueRange) {
    SmallVector<Value> at(row);
    at.push_back(nibbles ? arith::DivUIOp::create(b, sp, idx(2)).getResult() : sp);
    Value code = arith::ExtUIOp::create(b, i32, memref::LoadOp::create(b, codes, at));
    if (nibbles) {
      Value shift = arith::MulIOp::create(
          b, arith::IndexCastOp::create(b, i32, arith::RemUIOp::create(b, sp, idx(2))),
          arith::ConstantIntOp::create(b, 4, 32));
      code = arith::AndIOp::create(b, arith::ShRUIOp::create(b, code, shift),
                                   arith::ConstantIntOp::create(b, 15, 32));
    }
    Value c = arith::IndexCastOp::create(b, b.getIndexType(), code);
    Value d0 = mul(sp, idx(sub));
    forLoop(idx(0), idx(sub), 1, {}, [&](Value t, ValueRange) {
      Value x = memref::LoadOp::create(b, pq.codebooks, ValueRange{kvHead, sp, c, t});
      x = arith::SelectOp::create(b, inside, x, cf(0.0));
      memref::StoreOp::create(b, x, kt.mem, kt.at({add(d0, t), j}));
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

/// S[i, :] = Qp[g, i, :] . K^T for all rows, 4 x 64 register tiles.
void FlashEmitter::scoreTile(Value qp, const TileRef &kt, Value sc, Value g) {
  forLoop(idx(0), idx(s.blockQ), kRows, {}, [&](Value i0, ValueRange) {
    SmallVector<Value> init(kRows * kColVectors, splat(0.0));
    ValueRange acc = forLoop(idx(0), idx(s.d), 1, init, [&](Value d, ValueRange a) {
      SmallVector<Value> kv, next;
      for (int64_t c = 0; c < kColVectors; ++c)
        kv.push_back(vector::LoadOp::create(b, vec, kt.mem, kt.at({d, idx(c * kLanes)})));
      for (int64_t r = 0; r < kRows; ++r) {
        Value qs = memref::LoadOp::create(b, qp, ValueRange{g, add(i0, idx(r)), d});
        Value qv = vector::BroadcastOp::create(b, vec, qs);
        for (int64_t c = 0; c < kColVectors; ++c)
          next.push_back(vector::FMAOp::create(b, qv, kv[c], a[r * kColVectors + c]));
      }
      return next;
    });
    for (int64_t r = 0; r < kRows; ++r)
      for (int64_t c = 0; c < kColVectors; ++c)
        vector::StoreOp::create(b, acc[r * kColVectors + c], sc,
                                ValueRange{add(i0, idx(r)), idx(c * kLanes)});
    return SmallVector<Value>{};
  });
}

/// Online softmax over one key block: per row, mask (when asked), new max,
/// p = exp(s - max) in place of s, alpha = exp(old max - new max), new sum.
void FlashEmitter::softmaxRows(Value sc, Value alpha, Value m, Value l,
                               Value b0, Value h, Value g, Value row0,
                               Value key0, Value count, bool withMask) {
  auto i32 = b.getI32Type();
  auto ivec = i32Vec();
  Value lanes = laneIds();
  double inf = std::numeric_limits<double>::infinity();
  Value negInf = cf(-inf), negInfV = splat(-inf);
  auto toI32 = [&](Value x) { return arith::IndexCastOp::create(b, i32, x); };
  auto bcastI = [&](Value x) { return vector::BroadcastOp::create(b, ivec, x); };

  forLoop(idx(0), idx(s.blockQ), 1, {}, [&](Value i, ValueRange) {
    SmallVector<Value> sv;
    for (int64_t c = 0; c < kColVectors; ++c) {
      Value x = vector::LoadOp::create(b, vec, sc, ValueRange{i, idx(c * kLanes)});
      if (s.softcap) {
        Value cap = splat(*s.softcap);
        x = arith::MulFOp::create(
            b, cap, math::TanhOp::create(b, arith::DivFOp::create(b, x, cap)));
      }
      if (mods.any())
        x = applyScoreMods(mods, x, b0, h, add(row0, i), add(key0, idx(c * kLanes)));
      sv.push_back(x);
    }
    if (withMask) {
      // Key j of this block is visible to row (row0 + i) when j < n (Lk, or
      // the row's key count) and the causal/window rules hold: delta =
      // (row + n - Lq) - j.
      Value diag = toI32(sub(add(add(row0, i), count), idx(s.lq)));
      for (int64_t c = 0; c < kColVectors; ++c) {
        Value j = arith::AddIOp::create(b, bcastI(toI32(add(key0, idx(c * kLanes)))), lanes);
        Value vis = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, j,
                                          bcastI(toI32(count)));
        vis = andDiagonalRules(vis, arith::SubIOp::create(b, bcastI(diag), j));
        sv[c] = arith::SelectOp::create(b, vis, sv[c], negInfV);
      }
    }
    // Scores are never NaN (masked lanes are -inf): nnan lets the maxima
    // be plain vmaxps without NaN fix-ups.
    auto nnan = arith::FastMathFlags::nnan;
    Value blockMax = sv[0];
    for (int64_t c = 1; c < kColVectors; ++c) {
      auto mx = arith::MaximumFOp::create(b, blockMax, sv[c]);
      mx.setFastmath(nnan);
      blockMax = mx;
    }
    Value mOld = memref::LoadOp::create(b, m, ValueRange{g, i});
    auto reduce = vector::ReductionOp::create(b, vector::CombiningKind::MAXIMUMF,
                                              blockMax, mOld);
    reduce.setFastmath(nnan);
    Value mNew = reduce;
    // A row that has seen no key keeps max -inf; subtracting 0 instead keeps
    // exp(-inf - 0) = 0 and avoids -inf - -inf.
    Value none = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf);
    Value mSafe = arith::SelectOp::create(b, none, cf(0.0), mNew);
    Value mSafeV = vector::BroadcastOp::create(b, vec, mSafe);
    Value sum = splat(0.0);
    for (int64_t c = 0; c < kColVectors; ++c) {
      Value p = softmaxExp(arith::SubFOp::create(b, sv[c], mSafeV));
      vector::StoreOp::create(b, p, sc, ValueRange{i, idx(c * kLanes)});
      sum = arith::AddFOp::create(b, sum, p);
    }
    Value a = math::ExpOp::create(b, arith::SubFOp::create(b, mOld, mSafe));
    // The running sum stays a vector of 16 partial sums per row; finish()
    // reduces it once, so no block pays a horizontal add.
    Value lOld = vector::LoadOp::create(b, vec, l, ValueRange{g, i, idx(0)});
    Value lNew = vector::FMAOp::create(b, vector::BroadcastOp::create(b, vec, a),
                                       lOld, sum);
    memref::StoreOp::create(b, mNew, m, ValueRange{g, i});
    vector::StoreOp::create(b, lNew, l, ValueRange{g, i, idx(0)});
    memref::StoreOp::create(b, a, alpha, ValueRange{i});
    return SmallVector<Value>{};
  });
}

/// O[g] = alpha * O[g] + P V, 4 rows x 64 output columns per register tile.
void FlashEmitter::accumulate(Value sc, const TileRef &vp, Value alpha,
                              Value o, Value g) {
  int64_t dvVecs = s.dv / kLanes;
  forLoop(idx(0), idx(s.blockQ), kRows, {}, [&](Value i0, ValueRange) {
    // Output columns in register pieces of up to 4 vectors; the last piece
    // is narrower when Dv is not a multiple of 64.
    for (int64_t first = 0; first < dvVecs; first += kColVectors) {
      int64_t cols = std::min<int64_t>(kColVectors, dvVecs - first);
      Value e0 = idx(first * kLanes);
      SmallVector<Value> init;
      for (int64_t r = 0; r < kRows; ++r) {
        Value row = add(i0, idx(r));
        Value a = vector::BroadcastOp::create(
            b, vec, memref::LoadOp::create(b, alpha, ValueRange{row}));
        for (int64_t c = 0; c < cols; ++c) {
          Value x = vector::LoadOp::create(b, vec, o,
                                           ValueRange{g, row, add(e0, idx(c * kLanes))});
          init.push_back(arith::MulFOp::create(b, x, a));
        }
      }
      ValueRange acc = forLoop(idx(0), idx(s.blockK), 1, init, [&](Value j, ValueRange a) {
        SmallVector<Value> vv, next;
        for (int64_t c = 0; c < cols; ++c)
          vv.push_back(vector::LoadOp::create(b, vec, vp.mem, vp.at({j, add(e0, idx(c * kLanes))})));
        for (int64_t r = 0; r < kRows; ++r) {
          Value p = memref::LoadOp::create(b, sc, ValueRange{add(i0, idx(r)), j});
          Value pv = vector::BroadcastOp::create(b, vec, p);
          for (int64_t c = 0; c < cols; ++c)
            next.push_back(vector::FMAOp::create(b, pv, vv[c], a[r * cols + c]));
        }
        return next;
      });
      for (int64_t r = 0; r < kRows; ++r)
        for (int64_t c = 0; c < cols; ++c)
          vector::StoreOp::create(b, acc[r * cols + c], o,
                                  ValueRange{g, add(i0, idx(r)), add(e0, idx(c * kLanes))});
    }
    return SmallVector<Value>{};
  });
}

/// out = O / l (0 for rows that saw nothing), lse = m + log l (-inf then).
void FlashEmitter::finish(Value o, Value m, Value l, Value out, Value lse,
                          Value b0, Value kvHead, Value row0) {
  Value rows = minI(idx(s.blockQ), arith::SubIOp::create(b, idx(s.lq), row0));
  double inf = std::numeric_limits<double>::infinity();
  forLoop(idx(0), idx(s.group), 1, {}, [&](Value g, ValueRange) {
    Value h = add(mul(kvHead, idx(s.group)), g);
    forLoop(idx(0), rows, 1, {}, [&](Value i, ValueRange) {
      Value row = add(row0, i);
      Value sum = vector::ReductionOp::create(
          b, vector::CombiningKind::ADD,
          vector::LoadOp::create(b, vec, l, ValueRange{g, i, idx(0)}));
      Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OLE, sum, cf(0.0));
      Value inv = arith::SelectOp::create(b, empty, cf(0.0),
                                          arith::DivFOp::create(b, cf(1.0), sum));
      Value invV = vector::BroadcastOp::create(b, vec, inv);
      forLoop(idx(0), idx(s.dv), kLanes, {}, [&](Value e, ValueRange) {
        Value x = vector::LoadOp::create(b, vec, o, ValueRange{g, i, e});
        x = arith::MulFOp::create(b, x, invV);
        if (!s.elementType.isF32())
          x = arith::TruncFOp::create(b, VectorType::get({kLanes}, s.elementType), x);
        vector::StoreOp::create(b, x, out, ValueRange{b0, h, row, e});
        return SmallVector<Value>{};
      });
      if (lse) {
        Value mx = memref::LoadOp::create(b, m, ValueRange{g, i});
        Value value = arith::AddFOp::create(b, mx, math::LogOp::create(b, sum));
        value = arith::SelectOp::create(b, empty, cf(-inf), value);
        memref::StoreOp::create(b, value, lse, ValueRange{b0, h, row});
      }
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
}

Value FlashEmitter::buildBlockTable(ArrayRef<std::pair<Value, Value>> lists) {
  int64_t nqb = (s.lq + s.listBlockQ - 1) / s.listBlockQ;
  int64_t nkb = (s.lk + s.listBlockK - 1) / s.listBlockK;
  auto type = MemRefType::get({s.batch, s.heads, nqb, nkb}, b.getI1Type());
  Value table = memref::AllocOp::create(b, type);
  Value falseV = arith::ConstantOp::create(b, b.getBoolAttr(false));
  Value trueV = arith::ConstantOp::create(b, b.getBoolAttr(true));
  linalg::FillOp::create(b, ValueRange{falseV}, ValueRange{table});
  for (auto [counts, indices] : lists) {
    auto listType = cast<MemRefType>(indices.getType());
    auto countType = cast<MemRefType>(counts.getType());
    // Axes of size 1 broadcast over batch and heads, each operand its own.
    auto pickFor = [&](MemRefType type) {
      return [&, type](Value iv, int64_t axis) {
        return type.getDimSize(axis) == 1 ? idx(0) : iv;
      };
    };
    auto pick = pickFor(listType);
    auto pickCount = pickFor(countType);
    forLoop(idx(0), idx(s.batch), 1, {}, [&](Value bi, ValueRange) {
      forLoop(idx(0), idx(s.heads), 1, {}, [&](Value hi, ValueRange) {
        forLoop(idx(0), idx(nqb), 1, {}, [&](Value qb, ValueRange) {
          Value count = memref::LoadOp::create(
              b, counts, ValueRange{pickCount(bi, 0), pickCount(hi, 1), qb});
          Value n = arith::IndexCastOp::create(b, b.getIndexType(), count);
          Value upto = minI(maxI(n, idx(0)), idx(listType.getDimSize(3)));
          forLoop(idx(0), upto, 1, {}, [&](Value e, ValueRange) {
            Value kb32 = memref::LoadOp::create(
                b, indices, ValueRange{pick(bi, 0), pick(hi, 1), qb, e});
            Value kb = arith::IndexCastOp::create(b, b.getIndexType(), kb32);
            Value valid = arith::AndIOp::create(
                b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, kb, idx(0)),
                arith::CmpIOp::create(b, arith::CmpIPredicate::slt, kb, idx(nkb)));
            auto ifOp = scf::IfOp::create(b, valid, /*withElse=*/false);
            OpBuilder::InsertionGuard guard(b);
            b.setInsertionPointToStart(&ifOp.getThenRegion().front());
            memref::StoreOp::create(b, trueV, table, ValueRange{bi, hi, qb, kb});
            return SmallVector<Value>{};
          });
          return SmallVector<Value>{};
        });
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
  }
  return table;
}

Value FlashEmitter::anyListed(Value table, Value b0, Value kvHead,
                              Value listKb, Value qbBegin, Value qbEnd) {
  Value none = arith::ConstantOp::create(b, b.getBoolAttr(false));
  return forLoop(idx(0), idx(s.group), 1, {none}, [&](Value g, ValueRange a) {
    Value h = add(mul(kvHead, idx(s.group)), g);
    Value found = forLoop(qbBegin, qbEnd, 1, {a[0]}, [&](Value qb, ValueRange acc) {
      Value listed = memref::LoadOp::create(b, table, ValueRange{b0, h, qb, listKb});
      return SmallVector<Value>{arith::OrIOp::create(b, acc[0], listed)};
    })[0];
    return SmallVector<Value>{found};
  })[0];
}

void FlashEmitter::emit(Value q, Value k, Value v, Value sinks, Value out,
                        Value lse, ArrayRef<std::pair<Value, Value>> blockLists) {
  // Block lists: a table built once says which 64-key tiles a task visits.
  Value blockTable = blockLists.empty() ? Value() : buildBlockTable(blockLists);
  int64_t numQBlocks = (s.lq + s.blockQ - 1) / s.blockQ;
  int64_t numKBlocks = (s.lk + s.blockK - 1) / s.blockK;
  double inf = std::numeric_limits<double>::infinity();
  // With several query blocks every K/V tile is used by several tasks: pack
  // all of them once, in parallel, instead of once per task. Not for
  // quantised or PQ caches: that would be a float copy of the whole cache;
  // their codes are decoded tile by tile inside each task.
  bool prepack = numQBlocks > 1 && !cache.quant && !cache.pq;
  Value packedK, packedV;
  if (prepack) {
    packedK = alloc({s.batch, s.kvHeads, numKBlocks, s.d, s.blockK});
    packedV = alloc({s.batch, s.kvHeads, numKBlocks, s.blockK, s.dv});
    scf::ParallelOp::create(
        b, ValueRange{idx(0), idx(0), idx(0)},
        ValueRange{idx(s.batch), idx(s.kvHeads), idx(numKBlocks)},
        ValueRange{idx(1), idx(1), idx(1)},
        [&](OpBuilder &nested, Location, ValueRange ivs) {
          OpBuilder::InsertionGuard guard(b);
          b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
          TileRef kt{packedK, {ivs[0], ivs[1], ivs[2]}};
          TileRef vp{packedV, {ivs[0], ivs[1], ivs[2]}};
          Value key0 = mul(ivs[2], idx(s.blockK));
          Value count = cacheKeyCount(cache, ivs[0]);
          if (!blockTable) {
            // Tiles at or past the row's key count are never read.
            auto ifOp = scf::IfOp::create(
                b, arith::CmpIOp::create(b, arith::CmpIPredicate::slt, key0, count),
                /*withElse=*/false);
            OpBuilder::InsertionGuard inner(b);
            b.setInsertionPointToStart(&ifOp.getThenRegion().front());
            packKeyValue(k, v, kt, vp, ivs[0], ivs[1], key0, count);
            return;
          }
          // Tiles no query block lists are never packed (nor read later).
          int64_t listQBlocks = (s.lq + s.listBlockQ - 1) / s.listBlockQ;
          Value lkb = arith::DivUIOp::create(b, key0, idx(s.listBlockK));
          Value used = anyListed(blockTable, ivs[0], ivs[1], lkb, idx(0),
                                 idx(listQBlocks));
          auto ifOp = scf::IfOp::create(b, used, /*withElse=*/false);
          OpBuilder::InsertionGuard inner(b);
          b.setInsertionPointToStart(&ifOp.getThenRegion().front());
          packKeyValue(k, v, kt, vp, ivs[0], ivs[1], key0, count);
        });
  }
  scf::ParallelOp::create(
      b, ValueRange{idx(0), idx(0), idx(0)},
      ValueRange{idx(s.batch), idx(s.kvHeads), idx(numQBlocks)},
      ValueRange{idx(1), idx(1), idx(1)},
      [&](OpBuilder &nested, Location, ValueRange ivs) {
        OpBuilder::InsertionGuard guard(b);
        b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
        Value b0 = ivs[0], kvHead = ivs[1];
        Value qBlock = ivs[2];
        if (s.causal) {
          // Under causal masks late query blocks cost more; OpenMP hands out
          // contiguous ranges of tasks, so interleave cheap and dear blocks
          // (0, N-1, 1, N-2, ...) to balance the threads.
          Value half = arith::DivUIOp::create(b, qBlock, idx(2));
          Value odd = arith::CmpIOp::create(
              b, arith::CmpIPredicate::eq,
              arith::RemUIOp::create(b, qBlock, idx(2)), idx(1));
          qBlock = arith::SelectOp::create(b, odd, sub(idx(numQBlocks - 1), half), half);
        }
        Value row0 = mul(qBlock, idx(s.blockQ));
        Value qp = alloc({s.group, s.blockQ, s.d});
        Value ktScratch = prepack ? Value() : alloc({s.d, s.blockK});
        Value vpScratch = prepack ? Value() : alloc({s.blockK, s.dv});
        Value sc = alloc({s.blockQ, s.blockK});
        Value alpha = alloc({s.blockQ});
        Value o = alloc({s.group, s.blockQ, s.dv});
        Value m = alloc({s.group, s.blockQ});
        Value l = alloc({s.group, s.blockQ, kLanes}); // lane-wise partial sums
        linalgFill(o, 0.0);
        if (sinks) {
          // A sink is a key with logit sink[h] and value 0: start every row
          // with max = sink and sum = 1.
          forLoop(idx(0), idx(s.group), 1, {}, [&](Value g, ValueRange) {
            Value h = add(mul(kvHead, idx(s.group)), g);
            Value sink = memref::LoadOp::create(b, sinks, ValueRange{h});
            forLoop(idx(0), idx(s.blockQ), 1, {}, [&](Value i, ValueRange) {
              memref::StoreOp::create(b, sink, m, ValueRange{g, i});
              // The sink's weight 1 sits in lane 0 of the partial sums.
              SmallVector<float> unit(kLanes, 0.0f);
              unit[0] = 1.0f;
              Value first = arith::ConstantOp::create(
                  b, DenseElementsAttr::get(vec, ArrayRef(unit)));
              vector::StoreOp::create(b, first, l, ValueRange{g, i, idx(0)});
              return SmallVector<Value>{};
            });
            return SmallVector<Value>{};
          });
        } else {
          linalgFill(m, -inf);
          linalgFill(l, 0.0);
        }
        packQuery(q, qp, b0, kvHead, row0);

        // Key range some row of [row0, row0 + BQ) can see: causal and right
        // window cap it from above, the left window from below. The
        // diagonal of row i is key i + n - Lq, n = Lk or the row's count.
        Value count = cacheKeyCount(cache, b0);
        Value offset = sub(count, idx(s.lq));
        Value lastRow = minI(add(row0, idx(s.blockQ - 1)), idx(s.lq - 1));
        Value keyEnd = count;
        if (s.causal || s.right) {
          int64_t ahead = s.causal ? (s.right ? std::min<int64_t>(0, *s.right) : 0)
                                   : *s.right;
          Value limit = add(add(lastRow, offset), idx(ahead + 1));
          keyEnd = maxI(idx(0), minI(keyEnd, limit));
        }
        Value keyBegin = idx(0);
        if (s.left)
          keyBegin = maxI(idx(0), arith::SubIOp::create(b, add(row0, offset), idx(*s.left)));
        Value blockBegin = arith::DivSIOp::create(b, keyBegin, idx(s.blockK));
        Value blockEnd = arith::DivSIOp::create(
            b, add(keyEnd, idx(s.blockK - 1)), idx(s.blockK));
        blockEnd = minI(blockEnd, idx(numKBlocks));

        forLoop(blockBegin, blockEnd, 1, {}, [&](Value kb, ValueRange) {
          Value key0 = mul(kb, idx(s.blockK));
          TileRef kt{ktScratch, {}}, vp{vpScratch, {}};
          if (prepack) {
            kt = TileRef{packedK, {b0, kvHead, kb}};
            vp = TileRef{packedV, {b0, kvHead, kb}};
          } else if (!blockTable) {
            packKeyValue(k, v, kt, vp, b0, kvHead, key0, count);
          } else {
            // Pack the tile only when some head of this task lists it.
            Value qb = arith::DivUIOp::create(b, row0, idx(s.listBlockQ));
            Value lkb = arith::DivUIOp::create(b, key0, idx(s.listBlockK));
            Value used = anyListed(blockTable, b0, kvHead, lkb, qb, add(qb, idx(1)));
            auto ifOp = scf::IfOp::create(b, used, /*withElse=*/false);
            OpBuilder::InsertionGuard inner(b);
            b.setInsertionPointToStart(&ifOp.getThenRegion().front());
            packKeyValue(k, v, kt, vp, b0, kvHead, key0, count);
          }
          // The block needs per-score masks unless every row of the task
          // sees every key of it (and it is not the ragged last block).
          Value keyLast = add(key0, idx(s.blockK - 1));
          Value needsMask = arith::CmpIOp::create(b, arith::CmpIPredicate::sge,
                                                  keyLast, count);
          auto orRule = [&](Value c) { needsMask = arith::OrIOp::create(b, needsMask, c); };
          if (s.causal || s.right) {
            int64_t ahead = s.causal ? (s.right ? std::min<int64_t>(0, *s.right) : 0)
                                     : *s.right;
            // Row row0 sees keys up to row0 + offset + ahead.
            orRule(arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, keyLast,
                                         add(add(row0, offset), idx(ahead))));
          }
          if (s.left)
            orRule(arith::CmpIOp::create(
                b, arith::CmpIPredicate::slt, key0,
                arith::SubIOp::create(b, add(lastRow, offset), idx(*s.left))));
          // Padded rows past Lq have zero scores; masking them is harmless.
          forLoop(idx(0), idx(s.group), 1, {}, [&](Value g, ValueRange) {
            if (blockTable) {
              // Unlisted blocks are skipped before their K/V is read.
              Value h = add(mul(kvHead, idx(s.group)), g);
              Value qb = arith::DivUIOp::create(b, row0, idx(s.listBlockQ));
              Value lkb = arith::DivUIOp::create(b, key0, idx(s.listBlockK));
              Value listed = memref::LoadOp::create(b, blockTable,
                                                    ValueRange{b0, h, qb, lkb});
              auto ifOp = scf::IfOp::create(b, listed, /*withElse=*/false);
              b.setInsertionPointToStart(&ifOp.getThenRegion().front());
            }
            scoreTile(qp, kt, sc, g);
            Value h = add(mul(kvHead, idx(s.group)), g);
            auto ifOp = scf::IfOp::create(b, needsMask, /*withElse=*/true);
            {
              OpBuilder::InsertionGuard inner(b);
              b.setInsertionPointToStart(&ifOp.getThenRegion().front());
              softmaxRows(sc, alpha, m, l, b0, h, g, row0, key0, count,
                          /*withMask=*/true);
              b.setInsertionPointToStart(&ifOp.getElseRegion().front());
              softmaxRows(sc, alpha, m, l, b0, h, g, row0, key0, count,
                          /*withMask=*/false);
            }
            accumulate(sc, vp, alpha, o, g);
            if (blockTable)
              b.setInsertionPointAfter(b.getInsertionBlock()->getParentOp());
            return SmallVector<Value>{};
          });
          return SmallVector<Value>{};
        });
        finish(o, m, l, out, lse, b0, kvHead, row0);
        // The scratch buffers are freed by the bufferization's deallocation
        // pipeline at the end of the task.
      });
}

void attn::emitFlashAttention(ImplicitLocOpBuilder &b, const FlashShape &s,
                              Value q, Value k, Value v, Value sinks, Value out,
                              Value lse, const DecodeCache &cache,
                              ArrayRef<std::pair<Value, Value>> blockLists,
                              const ScoreMods &mods) {
  FlashEmitter(b, s, cache, mods).emit(q, k, v, sinks, out, lse, blockLists);
}

//===----------------------------------------------------------------------===//
// The rewrite
//===----------------------------------------------------------------------===//

namespace {

/// attn.attention -> the flash kernel above, on buffers of the operands.
struct TileAttentionForCpu : OpRewritePattern<AttentionOp> {
  TileAttentionForCpu(MLIRContext *context, int64_t blockQ)
      : OpRewritePattern(context), blockQ(blockQ) {}

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto qType = op.getQuery().getType();
    auto kType = op.getKey().getType();
    auto vType = op.getValue().getType();
    if (!qType.hasStaticShape() || !kType.hasStaticShape() ||
        !vType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    bool hasLists = op.getKvNumBlocks() || op.getFullKvNumBlocks();
    FlashShape s = attentionSizes(qType, kType, vType.getDimSize(3));
    DecodeCache cache;
    if (Value table = op.getBlockTable()) {
      cache.pageSize = kType.getDimSize(2);
      cache.pages = kType.getDimSize(0);
      s.lk = cast<RankedTensorType>(table.getType()).getDimSize(1) * cache.pageSize;
    }
    // Both kernels read caches in place (key counts, pages): few queries
    // take the split-KV kernel, a prefill chunk against a cache the flash
    // kernel, like any other prefill.
    bool readsCache = op.getBlockTable() || op.getKvLens();
    bool decode = !hasLists && s.lq <= kDecodeMaxQueries &&
                  (s.lk >= 4 * s.lq || readsCache);
    if (readsCache && hasLists)
      return rewriter.notifyMatchFailure(
          op, "key counts and page tables with block lists take the naive path");
    if (s.d % kLanes || s.dv % kLanes)
      return rewriter.notifyMatchFailure(op, "D and Dv must be multiples of 16");
    if (s.lq == 0 || s.lk == 0)
      return rewriter.notifyMatchFailure(op, "empty sequences take the naive path");
    s.blockK = kColVectors * kLanes;
    s.blockQ = prefillRows(s.lq, blockQ);
    if (hasLists) {
      // A task's rows must sit in one listed query block and a 64-key tile in
      // one listed key block.
      s.listBlockQ = *op.getBlockQ();
      s.listBlockK = *op.getBlockK();
      if (s.listBlockQ % s.blockQ || s.listBlockK % s.blockK)
        return rewriter.notifyMatchFailure(
            op, "block lists need block_q and block_k multiples of the tiles");
    }
    s.scale = op.getEffectiveScale();
    s.causal = op.getCausal();
    if (auto w = op.getWindow()) {
      s.left = (*w)[0];
      s.right = (*w)[1];
    }
    if (auto cap = op.getSoftcap())
      s.softcap = cap->convertToDouble();

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value q = readOnlyBuffer(b, op.getQuery());
    Value k = readOnlyBuffer(b, op.getKey());
    Value v = readOnlyBuffer(b, op.getValue());
    Value sinks = op.getSinks() ? readOnlyBuffer(b, op.getSinks()) : Value();
    Value out = freshBuffer(b, op.getOut().getType(), 64);
    Value lse = op.getLse() ? freshBuffer(b, op.getLse().getType(), 64) : Value();
    // Few queries against many keys: the split-KV decode kernel, which reads
    // K and V in place; otherwise the flash prefill kernel.
    SmallVector<std::pair<Value, Value>> lists;
    if (op.getKvNumBlocks())
      lists.push_back({readOnlyBuffer(b, op.getKvNumBlocks()),
                       readOnlyBuffer(b, op.getKvIndices())});
    if (op.getFullKvNumBlocks())
      lists.push_back({readOnlyBuffer(b, op.getFullKvNumBlocks()),
                       readOnlyBuffer(b, op.getFullKvIndices())});
    if (op.getKvLens())
      cache.kvLens = readOnlyBuffer(b, op.getKvLens());
    if (op.getBlockTable())
      cache.blockTable = readOnlyBuffer(b, op.getBlockTable());
    ScoreMods mods;
    if (!op.getScoreMod().empty())
      mods.scoreMod = &op.getScoreMod();
    if (!op.getMaskMod().empty())
      mods.maskMod = &op.getMaskMod();
    if (op.getMask())
      mods.mask = readOnlyBuffer(b, op.getMask());
    if (decode)
      emitDecodeAttention(b, s, q, k, v, sinks, out, lse, cache, mods);
    else
      emitFlashAttention(b, s, q, k, v, sinks, out, lse, cache, lists, mods);

    SmallVector<Value> results = {resultTensor(b, out, op.getOut().getType())};
    if (lse)
      results.push_back(resultTensor(b, lse, op.getLse().getType()));
    rewriter.replaceOp(op, results);
    return success();
  }

  int64_t blockQ;
};

} // namespace

void attn::populateCpuTilingPatterns(RewritePatternSet &patterns,
                                     int64_t blockQ) {
  patterns.add<TileAttentionForCpu>(patterns.getContext(), blockQ);
}
