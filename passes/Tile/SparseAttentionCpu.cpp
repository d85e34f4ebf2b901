//===- SparseAttentionCpu.cpp - token-sparse attention for CPUs -----------===//
//
// attn.sparse_attention attends to the keys of the listed key blocks only
// (top-k tokens, DSA, Quest/Adamas pages), so its cost is O(Lq K kb), not
// O(Lq Lk). One parallel task per (batch, list head, query block):
//
//   1. the task's list is turned into its distinct key indices: entries
//      outside [0, NKB) are padding, an entry already seen (a byte per key
//      block, cleared at the start of the task) is a duplicate and counts
//      once, and each fresh block appends its keys below Lk;
//   2. every query row the list serves (the rows of the query block, for
//      the one query head of a per-head list or the G heads of a kv head)
//      is scaled into f32 once;
//   3. the key list runs in groups of 16 as in the split-KV decode kernel:
//      16 K rows gathered through the list and dotted with each row in
//      vector<16xf32> accumulators over D, summed by a transposing shuffle
//      tree, masked (positions past the list, the causal rule), an online
//      softmax per row, and acc += p_j v_j over the 16 gathered V rows.
//
// A row that sees no key gives 0 and lse = -inf, as in the naive form.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"
#include "TilePatterns.h"

#include "../KernelBuffers.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace attn;

namespace {

/// The list layout of one sparse_attention on top of its attention shape.
struct SparseLists {
  int64_t listHeads;  // Hi in {1, Hkv, Hq}
  int64_t queryBlock; // rows per list
  int64_t keyBlock;   // keys per entry
  int64_t width;      // entries per list (K)
};

class SparseEmitter : public CpuKernelBuilder {
public:
  SparseEmitter(ImplicitLocOpBuilder &b, const FlashShape &s,
                const SparseLists &lists)
      : CpuKernelBuilder(b, s), lists(lists) {
    // A per-query-head list serves one head; otherwise a task serves the G
    // heads that share the kv head (and so its K/V rows).
    perQueryHead = lists.listHeads == s.heads && s.group > 1;
    headsPerTask = perQueryHead ? 1 : s.group;
    rows = headsPerTask * lists.queryBlock;
    numKeyBlocks = (s.lk + lists.keyBlock - 1) / lists.keyBlock;
    numQueryBlocks = (s.lq + lists.queryBlock - 1) / lists.queryBlock;
  }

  void emit(Value q, Value k, Value v, Value indices, Value out, Value lse);

private:
  /// A list's distinct keys into `keys` [width * keyBlock] (i32), marking
  /// its blocks in `seen` (all 0 before); returns their count.
  Value collectKeys(Value indices, Value keys, Value seen, Value b0,
                    Value listHead, Value qBlock);
  /// Sets the marks of the list's blocks back to 0.
  void clearSeen(Value indices, Value seen, Value b0, Value listHead,
                 Value qBlock);
  /// Attention of the rows of query block qBlock over the list's keys.
  void queryBlock(Value q, Value k, Value v, Value indices, Value out,
                  Value lse, Value seen, Value b0, Value taskHead,
                  Value qBlock);
  /// Head and query of task row r.
  std::pair<Value, Value> headAndQuery(Value taskHead, Value row0, Value r) {
    Value hh = arith::DivUIOp::create(b, r, idx(lists.queryBlock));
    Value ii = arith::RemUIOp::create(b, r, idx(lists.queryBlock));
    Value h = perQueryHead ? taskHead : add(mul(taskHead, idx(s.group)), hh);
    return {h, add(row0, ii)};
  }

  SparseLists lists;
  /// A task's buffers, reused by its query blocks: the key list, the scaled
  /// query rows, the accumulators and running max / sum, a score vector
  /// per row.
  struct {
    Value keys, qp, acc, m, l, sc;
  } scratch;
  bool perQueryHead;
  int64_t headsPerTask, rows, numKeyBlocks, numQueryBlocks;
};

} // namespace

void SparseEmitter::clearSeen(Value indices, Value seen, Value b0,
                              Value listHead, Value qBlock) {
  forLoop(idx(0), idx(lists.width), 1, {}, [&](Value e, ValueRange) {
    Value raw = memref::LoadOp::create(b, indices, ValueRange{b0, listHead, qBlock, e});
    Value blk = arith::IndexCastOp::create(b, b.getIndexType(), raw);
    Value safe = minI(maxI(blk, idx(0)), idx(numKeyBlocks - 1));
    memref::StoreOp::create(b, arith::ConstantIntOp::create(b, 0, 8), seen,
                            ValueRange{safe});
    return SmallVector<Value>{};
  });
}

Value SparseEmitter::collectKeys(Value indices, Value keys, Value seen,
                                 Value b0, Value listHead, Value qBlock) {
  auto i32 = b.getI32Type();
  int64_t capacity = lists.width * lists.keyBlock;
  return forLoop(idx(0), idx(lists.width), 1, {idx(0)}, [&](Value e, ValueRange a) {
    Value raw = memref::LoadOp::create(b, indices, ValueRange{b0, listHead, qBlock, e});
    Value blk = arith::IndexCastOp::create(b, b.getIndexType(), raw);
    Value valid = arith::AndIOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, blk, idx(0)),
        arith::CmpIOp::create(b, arith::CmpIPredicate::slt, blk, idx(numKeyBlocks)));
    Value safe = minI(maxI(blk, idx(0)), idx(numKeyBlocks - 1));
    Value was = memref::LoadOp::create(b, seen, ValueRange{safe});
    Value fresh = arith::AndIOp::create(
        b, valid,
        arith::CmpIOp::create(b, arith::CmpIPredicate::eq, was,
                              arith::ConstantIntOp::create(b, 0, 8)));
    auto ifOp = scf::IfOp::create(b, TypeRange{b.getIndexType()}, fresh,
                                  /*withElse=*/true);
    {
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      memref::StoreOp::create(b, arith::ConstantIntOp::create(b, 1, 8), seen,
                              ValueRange{safe});
      // The block's keys below Lk; the store index stays below the
      // capacity (at most keyBlock keys per entry), and a key past Lk is
      // overwritten by the next one.
      Value first = mul(safe, idx(lists.keyBlock));
      Value n = forLoop(idx(0), idx(lists.keyBlock), 1, {a[0]}, [&](Value t, ValueRange c) {
        Value key = add(first, t);
        Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, key, idx(s.lk));
        memref::StoreOp::create(b, arith::IndexCastOp::create(b, i32, key), keys,
                                ValueRange{minI(c[0], idx(capacity - 1))});
        Value step = arith::SelectOp::create(b, inside, idx(1), idx(0));
        return SmallVector<Value>{add(c[0], step)};
      })[0];
      scf::YieldOp::create(b, n);
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      scf::YieldOp::create(b, a[0]);
    }
    return SmallVector<Value>{ifOp.getResult(0)};
  })[0];
}

void SparseEmitter::emit(Value q, Value k, Value v, Value indices, Value out,
                         Value lse) {
  // A task runs several consecutive query blocks with one `seen` buffer
  // (one byte per key block, zeroed once, its marks cleared after each
  // list), as long as enough tasks remain for the threads.
  int64_t taskHeads = perQueryHead ? s.heads : s.kvHeads;
  int64_t numLists = s.batch * taskHeads * numQueryBlocks;
  int64_t blocksPerTask = std::clamp<int64_t>(numLists / 64, 1, 16);
  int64_t numTasks = (numQueryBlocks + blocksPerTask - 1) / blocksPerTask;
  parallel({s.batch, taskHeads, numTasks}, [&](ValueRange ivs) {
    Value seen = memref::AllocOp::create(
        b, MemRefType::get({numKeyBlocks}, b.getI8Type()), b.getI64IntegerAttr(64));
    linalg::FillOp::create(b, ValueRange{arith::ConstantIntOp::create(b, 0, 8)},
                           ValueRange{seen});
    scratch.keys = memref::AllocOp::create(
        b, MemRefType::get({lists.width * lists.keyBlock}, b.getI32Type()),
        b.getI64IntegerAttr(64));
    scratch.qp = alloc({rows, s.d});
    scratch.acc = alloc({rows, s.dv});
    scratch.m = alloc({rows});
    scratch.l = alloc({rows});
    scratch.sc = alloc({rows, kLanes});
    Value first = mul(ivs[2], idx(blocksPerTask));
    Value end = minI(add(first, idx(blocksPerTask)), idx(numQueryBlocks));
    forLoop(first, end, 1, {}, [&](Value qBlock, ValueRange) {
      queryBlock(q, k, v, indices, out, lse, seen, ivs[0], ivs[1], qBlock);
      return SmallVector<Value>{};
    });
  });
}

void SparseEmitter::queryBlock(Value q, Value k, Value v, Value indices,
                               Value out, Value lse, Value seen, Value b0,
                               Value taskHead, Value qBlock) {
  double inf = std::numeric_limits<double>::infinity();
  int64_t dvVecs = s.dv / kLanes;
  auto i32 = b.getI32Type();
  auto ivec = VectorType::get({kLanes}, i32);
  DecodeCache plain;
  Value kvHead = perQueryHead
                     ? arith::DivUIOp::create(b, taskHead, idx(s.group)).getResult()
                     : taskHead;
  Value listHead = lists.listHeads == 1 ? idx(0) : taskHead;
  Value row0 = mul(qBlock, idx(lists.queryBlock));

  Value keys = scratch.keys, qp = scratch.qp, acc = scratch.acc;
  Value m = scratch.m, l = scratch.l, sc = scratch.sc;
  Value count = collectKeys(indices, keys, seen, b0, listHead, qBlock);
  clearSeen(indices, seen, b0, listHead, qBlock);

  // Qp[r, :] = scale * q[h(r), i(r), :] in f32, 0 for rows past Lq.
  forLoop(idx(0), idx(rows), 1, {}, [&](Value r, ValueRange) {
    auto [h, i] = headAndQuery(taskHead, row0, r);
    Value inside = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, i, idx(s.lq));
    Value safeRow = minI(i, idx(s.lq - 1));
    forLoop(idx(0), idx(s.d), 1, {}, [&](Value d, ValueRange) {
      Value x = toF32(memref::LoadOp::create(b, q, ValueRange{b0, h, safeRow, d}));
      x = arith::SelectOp::create(b, inside, arith::MulFOp::create(b, x, cf(s.scale)),
                                  cf(0.0));
      memref::StoreOp::create(b, x, qp, ValueRange{r, d});
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });
  linalgFill(acc, 0.0);
  linalgFill(m, -inf);
  linalgFill(l, 0.0);

  Value lanes = laneIds();
  auto bcastI = [&](Value x) {
    return vector::BroadcastOp::create(b, ivec, arith::IndexCastOp::create(b, i32, x));
  };
  Value last = maxI(sub(count, idx(1)), idx(0));
  forLoop(idx(0), count, kLanes, {}, [&](Value p0, ValueRange) {
    // The 16 keys at list positions p0.. (positions past the list repeat
    // the last key and are masked).
    SmallVector<SmallVector<Value>> keyRows;
    SmallVector<Value> keyIds;
    for (int64_t jj = 0; jj < kLanes; ++jj) {
      Value pos = minI(add(p0, idx(jj)), last);
      Value key32 = memref::LoadOp::create(b, keys, ValueRange{pos});
      keyIds.push_back(key32);
      keyRows.push_back(
          {b0, kvHead, arith::IndexCastOp::create(b, b.getIndexType(), key32)});
    }
    // The rows of the next 16 listed keys are fetched while these are
    // scored: the list's rows are scattered, so no hardware prefetcher
    // finds them.
    for (int64_t jj = 0; jj < kLanes; ++jj) {
      Value pos = minI(add(p0, idx(kLanes + jj)), last);
      Value key = arith::IndexCastOp::create(
          b, b.getIndexType(), memref::LoadOp::create(b, keys, ValueRange{pos}));
      for (auto [rowsOf, width] : {std::pair{k, s.d}, std::pair{v, s.dv}}) {
        int64_t bytes = cast<MemRefType>(rowsOf.getType()).getElementTypeBitWidth() / 8;
        for (int64_t c = 0; c < width; c += 64 / bytes)
          memref::PrefetchOp::create(b, rowsOf, ValueRange{b0, kvHead, key, idx(c)},
                                     /*isWrite=*/false, /*localityHint=*/3,
                                     /*isDataCache=*/true);
      }
    }
    Value j = vector::FromElementsOp::create(b, ivec, keyIds);
    Value listed = arith::CmpIOp::create(
        b, arith::CmpIPredicate::slt, arith::AddIOp::create(b, bcastI(p0), lanes),
        bcastI(count));
    forLoop(idx(0), idx(rows), 1, {}, [&](Value r, ValueRange) {
      SmallVector<Value> zero(kLanes, splat(0.0));
      ValueRange dots = forLoop(idx(0), idx(s.d), kLanes, zero, [&](Value d0, ValueRange a) {
        Value qv = vector::LoadOp::create(b, vec, qp, ValueRange{r, d0});
        SmallVector<Value> next;
        for (int64_t jj = 0; jj < kLanes; ++jj)
          next.push_back(vector::FMAOp::create(
              b, qv, loadKeyVector(plain, k, keyRows[jj], d0), a[jj]));
        return next;
      });
      Value x = transposedSum(dots);
      // Causal: key j is visible to query i when j <= i + Lk - Lq.
      Value i = headAndQuery(taskHead, row0, r).second;
      Value vis = listed;
      if (s.causal)
        vis = arith::AndIOp::create(
            b, vis,
            arith::CmpIOp::create(b, arith::CmpIPredicate::sle, j,
                                  bcastI(sub(add(i, idx(s.lk)), idx(s.lq)))));
      x = arith::SelectOp::create(b, vis, x, splat(-inf));

      Value alpha = onlineSoftmaxRow(x, m, l, sc, r);
      // acc[r] = alpha acc[r] + sum_jj p[jj] v[key jj], 4 vectors at a time.
      Value alphaV = vector::BroadcastOp::create(b, vec, alpha);
      for (int64_t e0 = 0; e0 < dvVecs; e0 += kColVectors) {
        int64_t cols = std::min<int64_t>(kColVectors, dvVecs - e0);
        SmallVector<Value> sums;
        for (int64_t c = 0; c < cols; ++c)
          sums.push_back(arith::MulFOp::create(
              b, vector::LoadOp::create(b, vec, acc, ValueRange{r, idx((e0 + c) * kLanes)}),
              alphaV));
        for (int64_t jj = 0; jj < kLanes; ++jj) {
          Value pj = vector::BroadcastOp::create(
              b, vec, memref::LoadOp::create(b, sc, ValueRange{r, idx(jj)}));
          for (int64_t c = 0; c < cols; ++c)
            sums[c] = vector::FMAOp::create(
                b, pj, loadValueVector(plain, v, keyRows[jj], idx((e0 + c) * kLanes)),
                sums[c]);
        }
        for (int64_t c = 0; c < cols; ++c)
          vector::StoreOp::create(b, sums[c], acc, ValueRange{r, idx((e0 + c) * kLanes)});
      }
      return SmallVector<Value>{};
    });
    return SmallVector<Value>{};
  });

  // out = acc / l (0 for rows that saw nothing), lse = m + log l.
  forLoop(idx(0), idx(rows), 1, {}, [&](Value r, ValueRange) {
    auto [h, i] = headAndQuery(taskHead, row0, r);
    auto ifOp = scf::IfOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::slt, i, idx(s.lq)),
        /*withElse=*/false);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    Value sum = memref::LoadOp::create(b, l, ValueRange{r});
    Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OLE, sum, cf(0.0));
    Value inv = arith::SelectOp::create(b, empty, cf(0.0),
                                        arith::DivFOp::create(b, cf(1.0), sum));
    Value invV = vector::BroadcastOp::create(b, vec, inv);
    forLoop(idx(0), idx(s.dv), kLanes, {}, [&](Value e, ValueRange) {
      Value x = arith::MulFOp::create(
          b, vector::LoadOp::create(b, vec, acc, ValueRange{r, e}), invV);
      if (!s.elementType.isF32())
        x = arith::TruncFOp::create(b, VectorType::get({kLanes}, s.elementType), x);
      vector::StoreOp::create(b, x, out, ValueRange{b0, h, i, e});
      return SmallVector<Value>{};
    });
    if (lse) {
      Value mx = memref::LoadOp::create(b, m, ValueRange{r});
      Value value = arith::AddFOp::create(b, mx, math::LogOp::create(b, sum));
      memref::StoreOp::create(b, arith::SelectOp::create(b, empty, cf(-inf), value),
                              lse, ValueRange{b0, h, i});
    }
    return SmallVector<Value>{};
  });
}

namespace {

/// Most query rows one task holds (G heads x query_block); past it the
/// per-task buffers would outgrow the caches and the op stays naive.
constexpr int64_t kMaxSparseRows = 1024;

struct TileSparseAttentionForCpu : OpRewritePattern<SparseAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(SparseAttentionOp op,
                                PatternRewriter &rewriter) const override {
    for (Value operand : op->getOperands())
      if (!cast<RankedTensorType>(operand.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    auto qType = op.getQuery().getType();
    auto kType = op.getKey().getType();
    auto iType = op.getIndices().getType();
    FlashShape s = attentionSizes(qType, kType, op.getValue().getType().getDimSize(3));
    if (s.d % kLanes || s.dv % kLanes)
      return rewriter.notifyMatchFailure(op, "D and Dv must be multiples of 16");
    if (s.lq == 0 || s.lk == 0 || iType.getDimSize(3) == 0)
      return rewriter.notifyMatchFailure(op, "empty operands take the naive path");
    s.blockQ = s.blockK = 0;
    s.scale = op.getScale() ? op.getScale()->convertToDouble()
                            : 1.0 / std::sqrt(double(s.d));
    s.causal = op.getCausal();
    SparseLists lists{iType.getDimSize(1), op.getQueryBlock(), op.getKeyBlock(),
                      iType.getDimSize(3)};
    bool perQueryHead = lists.listHeads == s.heads && s.group > 1;
    if ((perQueryHead ? 1 : s.group) * lists.queryBlock > kMaxSparseRows)
      return rewriter.notifyMatchFailure(op, "more than 1024 query rows per list");

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value q = readOnlyBuffer(b, op.getQuery());
    Value k = readOnlyBuffer(b, op.getKey());
    Value v = readOnlyBuffer(b, op.getValue());
    Value indices = readOnlyBuffer(b, op.getIndices());
    Value out = freshBuffer(b, op.getOut().getType(), 64);
    Value lse = op.getLse() ? freshBuffer(b, op.getLse().getType(), 64) : Value();
    SparseEmitter(b, s, lists).emit(q, k, v, indices, out, lse);
    SmallVector<Value> results = {resultTensor(b, out, op.getOut().getType())};
    if (lse)
      results.push_back(resultTensor(b, lse, op.getLse().getType()));
    rewriter.replaceOp(op, results);
    return success();
  }
};

} // namespace

void attn::populateCpuSparsePatterns(RewritePatternSet &patterns) {
  patterns.add<TileSparseAttentionForCpu>(patterns.getContext());
}
