//===- SelectionCpu.cpp - top-k selection ops on the CPU ------------------===//
//
// This file implements the CPU kernel of attn.topk_select, attn.dsa_indexer
// and attn.quest_select: score every candidate of a query row in f64, then
// select. The indices must equal the reference's, so the scores are summed
// exactly as the naive decomposition sums them (f64, channel by channel in
// ascending order, the same operations); only the loops around them change:
//
// * one parallel task per (batch, kv head, block of up to 8 of the kv
//   head's G x Lq query rows, so the heads of a GQA group share it); the
//   candidates (keys, or Quest pages) go 8 at a time, one a lane of
//   vector<8xf64>: their D channels are transposed to f64 in a task
//   scratch once per block of 8 and serve all rows of the task, and each
//   lane's sum runs over the channels in order (q.k products of f32, f16 or
//   bf16 values are exact in f64, so a fused multiply-add rounds as the
//   reference's multiply then add);
// * dsa_indexer sums w_h relu(q_h . k) over its indexer heads in order,
//   quest_select max(q m, q M) over the channels;
// * the selection writes the forced items (sink tokens, local window) in
//   ascending order, then keeps the best other candidates in a binary heap
//   of the remaining slots whose root is the worst kept one (a later
//   candidate displaces it only with a strictly higher score: ties go to
//   the lower index), pops the heap into the slots from the last one, and
//   pads with -1: the order of lib/Reference's selection in O(N log topk)
//   instead of its O(topk x N) rescans.
//
//===----------------------------------------------------------------------===//

#include "RegisterTiles.h"
#include "TilePatterns.h"

#include "../KernelBuffers.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>
#include <limits>

using namespace mlir;
using namespace attn;

namespace {

constexpr int64_t kItemLanes = 8; // f64 lanes of an AVX-512 register
constexpr int64_t kMaxRows = 16;  // query rows a task

enum class Scoring { Dot, Dsa, Quest, Adamas };

struct SelectShape {
  int64_t batch, heads, kvHeads, lq, d, items, lk;
  int64_t indexerHeads = 1; // dsa_indexer: heads summed into one score
  Scoring scoring = Scoring::Dot;
  int64_t topk, sinkTokens, localWindow, keysPerItem = 1;
  bool causal;
  /// Query rows of a kv head: its G heads' Lq rows (DSA: Lq), flattened.
  int64_t group() const { return heads / kvHeads; }
  int64_t headRows() const { return group() * lq; }
  int64_t rows() const { return std::min(headRows(), kMaxRows); }
  int64_t itemsPadded() const { return (items + kItemLanes - 1) / kItemLanes * kItemLanes; }
};

struct SelectOperands {
  Value q, k, kmax, weights, out; // k: keys, or Quest's kmin
};

class SelectEmitter : public RegisterTileBuilder {
public:
  SelectEmitter(ImplicitLocOpBuilder &b, const FlashShape &fs, const SelectShape &c)
      : RegisterTileBuilder(b, fs), c(c) {
    f64 = b.getF64Type();
    vec64 = VectorType::get({kItemLanes}, f64);
  }

  void emit(const SelectOperands &ops) {
    int64_t blocks = (c.headRows() + c.rows() - 1) / c.rows();
    parallel({c.batch, c.kvHeads, blocks}, [&](ValueRange ivs) {
      Value b0 = ivs[0], kvHead = ivs[1], row0 = mul(ivs[2], idx(c.rows()));
      // Task row r is row row0 + r of the kv head's G x Lq: head kvHead G +
      // that / Lq, query that % Lq; rows past the end repeat the last one.
      SmallVector<Value> heads, queries;
      for (int64_t r = 0; r < c.rows(); ++r) {
        Value rho = minI(add(row0, idx(r)), idx(c.headRows() - 1));
        heads.push_back(add(mul(kvHead, idx(c.group())), arith::DivUIOp::create(b, rho, idx(c.lq))));
        queries.push_back(arith::RemUIOp::create(b, rho, idx(c.lq)));
      }
      Value sc = alloc64({c.rows(), c.itemsPadded()});
      Value kt = alloc64({c.d, kItemLanes});
      // The rows' queries in f64 (DSA: every indexer head's), read as
      // broadcast operands of the FMAs.
      Value qs = alloc64({c.indexerHeads, c.rows(), c.d});
      forLoop(idx(0), idx(c.indexerHeads), 1, {}, [&](Value hi, ValueRange) {
        for (int64_t r = 0; r < c.rows(); ++r) {
          Value head = c.scoring == Scoring::Dsa ? hi : heads[r];
          forLoop(idx(0), idx(c.d), 1, {}, [&](Value e, ValueRange) {
            auto qAt = [&](Value ch) {
              return toF64(memref::LoadOp::create(b, ops.q, ValueRange{b0, head, queries[r], ch}));
            };
            Value x;
            if (c.scoring == Scoring::Adamas) {
              // q' = H q / sqrt(D): sum_c +-q_c in order, then the scale.
              Value sum = forLoop(idx(0), idx(c.d), 1, {f64c(0.0)}, [&](Value ch, ValueRange a) {
                Value v = qAt(ch);
                Value term = arith::SelectOp::create(b, hadamardOdd(e, ch),
                                                     arith::NegFOp::create(b, v), v);
                return SmallVector<Value>{arith::AddFOp::create(b, a[0], term)};
              })[0];
              x = arith::MulFOp::create(b, sum, f64c(1.0 / std::sqrt(double(c.d))));
            } else {
              x = qAt(e);
            }
            memref::StoreOp::create(b, x, qs, ValueRange{hi, idx(r), e});
            return SmallVector<Value>{};
          });
        }
        return SmallVector<Value>{};
      });
      // Candidates any row of the task may see (the causal rule cuts the
      // later ones off for early rows).
      Value items = idx(c.itemsPadded());
      if (c.causal) {
        Value maxQuery = queries[0];
        for (Value qr : queries)
          maxQuery = maxI(maxQuery, qr);
        Value lastKey = sub(add(maxQuery, idx(c.lk)), idx(c.lq));
        Value n = add(arith::DivSIOp::create(b, maxI(lastKey, idx(0)), idx(c.keysPerItem)),
                      idx(1));
        items = minI(n, idx(c.items));
      }
      // Quest: the pages' maxima; Adamas: the keys' Hadamard transforms.
      Value mt = c.scoring == Scoring::Quest || c.scoring == Scoring::Adamas
                     ? alloc64({c.d, kItemLanes})
                     : Value();
      score(ops, b0, kvHead, queries, qs, items, sc, kt, mt);
      int64_t slots = std::max<int64_t>(c.topk, 1);
      Value hs = alloc64({slots});
      Value hx = memref::AllocOp::create(b, MemRefType::get({slots}, b.getIndexType()));
      // One copy of the selection code, looped over the task's rows.
      Value rows = minI(idx(c.rows()), sub(idx(c.headRows()), row0));
      forLoop(idx(0), rows, 1, {}, [&](Value r, ValueRange) {
        Value rho = add(row0, r);
        Value head = c.scoring == Scoring::Dsa
                         ? idx(0)
                         : add(mul(kvHead, idx(c.group())),
                               arith::DivUIOp::create(b, rho, idx(c.lq)));
        select(ops, b0, head, arith::RemUIOp::create(b, rho, idx(c.lq)), r, sc, hs, hx);
        return SmallVector<Value>{};
      });
    });
  }

private:
  Value alloc64(ArrayRef<int64_t> shape) {
    return memref::AllocOp::create(b, MemRefType::get(shape, f64), b.getI64IntegerAttr(64));
  }
  Value toF64(Value x) {
    return x.getType().isF64() ? x : arith::ExtFOp::create(b, f64, x).getResult();
  }
  Value splat64(double v) {
    return arith::ConstantOp::create(b, DenseElementsAttr::get(vec64, b.getF64FloatAttr(v)));
  }
  Value bcast64(Value x) { return vector::BroadcastOp::create(b, vec64, x); }

  /// dst[e, l] = src[b0, head, item0 + l, e] in f64 (items past the end
  /// repeat the last one; their scores are never read).
  void transpose(Value src, Value dst, Value b0, Value head, Value item0) {
    forLoop(idx(0), idx(kItemLanes), 1, {}, [&](Value l, ValueRange) {
      Value item = minI(add(item0, l), idx(c.items - 1));
      forLoop(idx(0), idx(c.d), 1, {}, [&](Value e, ValueRange) {
        Value x = toF64(memref::LoadOp::create(b, src, ValueRange{b0, head, item, e}));
        memref::StoreOp::create(b, x, dst, ValueRange{e, l});
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
  }

  Value f64c(double v) { return arith::ConstantOp::create(b, b.getF64FloatAttr(v)); }
  /// Whether H[e][c] = (-1)^popcount(e & c) is -1.
  Value hadamardOdd(Value e, Value ch) {
    Type i64 = b.getI64Type();
    Value bits = math::CtPopOp::create(
        b, arith::AndIOp::create(b, arith::IndexCastOp::create(b, i64, e),
                                 arith::IndexCastOp::create(b, i64, ch)));
    return arith::TruncIOp::create(b, b.getI1Type(), bits);
  }

  /// Adamas: kt [D, 8] (8 keys' channels) becomes their 2-bit keys kq =
  /// (clamp(floor(k'/s + 2), 0, 3) - 1.5) s (0 when s = 0), k' = H k /
  /// sqrt(D) (summed as the reference sums it), s = max|k'| / 1.5, with k'
  /// in `kh` first.
  void quantizeKeys(Value kt, Value kh) {
    Value inv = splat64(1.0 / std::sqrt(double(c.d)));
    Value amax = forLoop(idx(0), idx(c.d), 1, {splat64(0.0)}, [&](Value e, ValueRange m) {
      Value sum = forLoop(idx(0), idx(c.d), 1, {splat64(0.0)}, [&](Value ch, ValueRange a) {
        Value v = vector::LoadOp::create(b, vec64, kt, ValueRange{ch, idx(0)});
        Value term = arith::SelectOp::create(b, hadamardOdd(e, ch), arith::NegFOp::create(b, v), v);
        return SmallVector<Value>{arith::AddFOp::create(b, a[0], term)};
      })[0];
      Value y = arith::MulFOp::create(b, sum, inv);
      vector::StoreOp::create(b, y, kh, ValueRange{e, idx(0)});
      return SmallVector<Value>{arith::MaximumFOp::create(b, m[0], math::AbsFOp::create(b, y))};
    })[0];
    Value scale = arith::DivFOp::create(b, amax, splat64(1.5));
    Value positive = arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, scale, splat64(0.0));
    forLoop(idx(0), idx(c.d), 1, {}, [&](Value e, ValueRange) {
      Value y = vector::LoadOp::create(b, vec64, kh, ValueRange{e, idx(0)});
      Value level = math::FloorOp::create(
          b, arith::AddFOp::create(b, arith::DivFOp::create(b, y, scale), splat64(2.0)));
      level = arith::MinimumFOp::create(b, arith::MaximumFOp::create(b, level, splat64(0.0)),
                                        splat64(3.0));
      level = arith::SubFOp::create(b, level, splat64(1.5));
      Value chosen = arith::SelectOp::create(b, positive, level, splat64(0.0));
      vector::StoreOp::create(b, arith::MulFOp::create(b, chosen, scale), kt,
                              ValueRange{e, idx(0)});
      return SmallVector<Value>{};
    });
  }

  /// sc[r, j] for the task's rows and every candidate j.
  void score(const SelectOperands &ops, Value b0, Value kvHead, ArrayRef<Value> queries,
             Value qs, Value items, Value sc, Value kt, Value mt) {
    forLoop(idx(0), items, kItemLanes, {}, [&](Value j0, ValueRange) {
      // dsa_indexer: every row reads indexer head `indexer`.
      auto dots = [&](Value indexer) {
        SmallVector<Value> acc(c.rows(), splat64(0.0));
        ValueRange sums = forLoop(idx(0), idx(c.d), 1, acc, [&](Value e, ValueRange a) {
          Value kv = vector::LoadOp::create(b, vec64, kt, ValueRange{e, idx(0)});
          Value mv = mt ? vector::LoadOp::create(b, vec64, mt, ValueRange{e, idx(0)}) : Value();
          SmallVector<Value> next;
          for (int64_t r = 0; r < c.rows(); ++r) {
            Value q = bcast64(memref::LoadOp::create(
                b, qs, ValueRange{indexer ? indexer : idx(0), idx(r), e}));
            if (c.scoring == Scoring::Quest) {
              Value lo = arith::MulFOp::create(b, q, kv), hi = arith::MulFOp::create(b, q, mv);
              next.push_back(arith::AddFOp::create(b, a[r], arith::MaximumFOp::create(b, lo, hi)));
            } else if (c.scoring == Scoring::Adamas) {
              // -|q'_e - kq_e| added in order (kv holds the 2-bit keys).
              Value dist = math::AbsFOp::create(b, arith::SubFOp::create(b, q, kv));
              next.push_back(arith::AddFOp::create(b, a[r], arith::NegFOp::create(b, dist)));
            } else {
              next.push_back(vector::FMAOp::create(b, q, kv, a[r]));
            }
          }
          return next;
        });
        return SmallVector<Value>(sums.begin(), sums.end());
      };
      if (c.scoring != Scoring::Dsa) {
        transpose(ops.k, kt, b0, kvHead, j0);
        if (c.scoring == Scoring::Quest)
          transpose(ops.kmax, mt, b0, kvHead, j0);
        if (c.scoring == Scoring::Adamas)
          quantizeKeys(kt, mt);
        SmallVector<Value> s = dots(Value());
        for (int64_t r = 0; r < c.rows(); ++r)
          vector::StoreOp::create(b, s[r], sc, ValueRange{idx(r), j0});
        return SmallVector<Value>{};
      }
      // DSA: sum_h w[b, h, i] relu(q_h . k) over the indexer heads in order.
      transpose(ops.k, kt, b0, idx(0), j0);
      SmallVector<Value> zero(c.rows(), splat64(0.0));
      ValueRange total = forLoop(idx(0), idx(c.indexerHeads), 1, zero, [&](Value hi, ValueRange a) {
        SmallVector<Value> s = dots(hi), next;
        for (int64_t r = 0; r < c.rows(); ++r) {
          Value w = bcast64(toF64(
              memref::LoadOp::create(b, ops.weights, ValueRange{b0, hi, queries[r]})));
          Value relu = arith::MaximumFOp::create(b, s[r], splat64(0.0));
          next.push_back(arith::AddFOp::create(b, a[r], arith::MulFOp::create(b, w, relu)));
        }
        return next;
      });
      for (int64_t r = 0; r < c.rows(); ++r)
        vector::StoreOp::create(b, total[r], sc, ValueRange{idx(r), j0});
      return SmallVector<Value>{};
    });
  }

  /// The selection of query row i (task row r) into out[b0, h, i, :].
  void select(const SelectOperands &ops, Value b0, Value h, Value i, Value r, Value sc,
              Value hs, Value hx) {
    Value zero = idx(0), one = idx(1), page = idx(c.keysPerItem);
    Value lastKey = idx(c.lk - 1);
    if (c.causal)
      lastKey = minI(sub(add(i, idx(c.lk)), idx(c.lq)), lastKey);
    Value seesNone = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, lastKey, zero);
    Value count = arith::SelectOp::create(
        b, seesNone, zero, add(arith::DivSIOp::create(b, lastKey, page), one));
    count = minI(count, idx(c.items));
    Value sinkEnd = minI(idx(c.sinkTokens), add(lastKey, one));
    Value firstLocal = maxI(zero, add(sub(lastKey, idx(c.localWindow)), one));
    auto isForced = [&](Value item) -> Value {
      Value firstKey = mul(item, page);
      Value sink = arith::CmpIOp::create(b, arith::CmpIPredicate::slt, firstKey, sinkEnd);
      if (c.localWindow == 0)
        return sink;
      Value local = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, add(firstKey, page),
                                          firstLocal);
      return arith::OrIOp::create(b, sink, local);
    };
    auto store = [&](Value value, Value slot) {
      Value v = arith::IndexCastOp::create(b, b.getI32Type(), value);
      memref::StoreOp::create(b, v, ops.out, ValueRange{b0, h, i, slot});
    };
    Value topk = idx(c.topk);

    // Forced items in ascending order, up to topk of them.
    Value forced = forLoop(zero, count, 1, {zero}, [&](Value item, ValueRange a) {
      Value take = arith::AndIOp::create(b, isForced(item), lt(a[0], topk));
      auto ifOp = scf::IfOp::create(b, TypeRange{b.getIndexType()}, take, true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      store(item, a[0]);
      scf::YieldOp::create(b, ValueRange{add(a[0], one)});
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      scf::YieldOp::create(b, ValueRange{a[0]});
      b.setInsertionPointAfter(ifOp);
      return SmallVector<Value>{ifOp.getResult(0)};
    })[0];

    // The best of the others in a heap of the remaining slots whose root
    // is the worst kept (lowest score; of equal scores the higher index).
    Value room = sub(topk, forced);
    auto hsAt = [&](Value p) { return memref::LoadOp::create(b, hs, ValueRange{p}).getResult(); };
    auto hxAt = [&](Value p) { return memref::LoadOp::create(b, hx, ValueRange{p}).getResult(); };
    auto put = [&](Value p, Value score, Value item) {
      memref::StoreOp::create(b, score, hs, ValueRange{p});
      memref::StoreOp::create(b, item, hx, ValueRange{p});
    };
    // x (score, index) is worse than y.
    auto worse = [&](Value xs, Value xi, Value ys, Value yi) -> Value {
      Value lower = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, xs, ys);
      Value same = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, xs, ys);
      Value later = arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, xi, yi);
      return arith::OrIOp::create(b, lower, arith::AndIOp::create(b, same, later));
    };
    // (score, item) into the hole at p of a heap of n entries, moving worse
    // children up until it fits.
    auto siftDown = [&](Value p, Value n, Value score, Value item) {
      auto loop = scf::WhileOp::create(
          b, TypeRange{b.getIndexType()}, ValueRange{p},
          [&](OpBuilder &nb, Location, ValueRange args) {
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            Value pos = args[0];
            Value left = add(mul(pos, idx(2)), one), right = add(left, one);
            Value hasLeft = lt(left, n), hasRight = lt(right, n);
            Value l = minI(left, maxI(sub(n, one), zero)), rr = minI(right, maxI(sub(n, one), zero));
            Value pickRight = arith::AndIOp::create(
                b, hasRight, worse(hsAt(rr), hxAt(rr), hsAt(l), hxAt(l)));
            Value child = arith::SelectOp::create(b, pickRight, rr, l);
            Value moves = arith::AndIOp::create(
                b, hasLeft, worse(hsAt(child), hxAt(child), score, item));
            scf::ConditionOp::create(b, moves, ValueRange{pos});
          },
          [&](OpBuilder &nb, Location, ValueRange args) {
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
            Value pos = args[0];
            Value left = add(mul(pos, idx(2)), one), right = add(left, one);
            Value rr = minI(right, sub(n, one));
            Value pickRight = arith::AndIOp::create(
                b, lt(right, n), worse(hsAt(rr), hxAt(rr), hsAt(left), hxAt(left)));
            Value child = arith::SelectOp::create(b, pickRight, rr, left);
            put(pos, hsAt(child), hxAt(child));
            scf::YieldOp::create(b, ValueRange{child});
          });
      put(loop.getResult(0), score, item);
    };
    Value kept = forLoop(zero, count, 1, {zero}, [&](Value item, ValueRange a) {
      Value n = a[0];
      Value s = memref::LoadOp::create(b, sc, ValueRange{r, item});
      Value notForced = arith::XOrIOp::create(b, isForced(item),
                                              arith::ConstantIntOp::create(b, 1, 1));
      Value grows = arith::AndIOp::create(b, notForced, lt(n, room));
      // Full: a later item displaces the root only with a higher score.
      Value full = arith::AndIOp::create(
          b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, n, room),
          arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, n, zero));
      Value displaces = arith::AndIOp::create(
          b, arith::AndIOp::create(b, notForced, full),
          arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, s, hsAt(zero)));
      auto ifGrow = scf::IfOp::create(b, TypeRange{b.getIndexType()}, grows, true);
      OpBuilder::InsertionGuard guard(b);
      b.setInsertionPointToStart(&ifGrow.getThenRegion().front());
      {
        // Sift up from the new leaf: worse parents stay above.
        auto loop = scf::WhileOp::create(
            b, TypeRange{b.getIndexType()}, ValueRange{n},
            [&](OpBuilder &nb, Location, ValueRange args) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
              Value pos = args[0];
              Value parent = arith::DivUIOp::create(b, maxI(sub(pos, one), zero), idx(2));
              Value moves = arith::AndIOp::create(
                  b, arith::CmpIOp::create(b, arith::CmpIPredicate::sgt, pos, zero),
                  worse(s, item, hsAt(parent), hxAt(parent)));
              scf::ConditionOp::create(b, moves, ValueRange{pos});
            },
            [&](OpBuilder &nb, Location, ValueRange args) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
              Value pos = args[0];
              Value parent = arith::DivUIOp::create(b, sub(pos, one), idx(2));
              put(pos, hsAt(parent), hxAt(parent));
              scf::YieldOp::create(b, ValueRange{parent});
            });
        put(loop.getResult(0), s, item);
        scf::YieldOp::create(b, ValueRange{add(n, one)});
      }
      b.setInsertionPointToStart(&ifGrow.getElseRegion().front());
      when(displaces, [&] { siftDown(zero, n, s, item); });
      scf::YieldOp::create(b, ValueRange{n});
      b.setInsertionPointAfter(ifGrow);
      return SmallVector<Value>{ifGrow.getResult(0)};
    })[0];
    // Pop the worst into the last open slot until the heap is empty: the
    // kept items end up best first.
    forLoop(zero, kept, 1, {}, [&](Value t, ValueRange) {
      Value n = sub(kept, t); // entries left
      store(hxAt(zero), add(forced, sub(n, one)));
      Value last = sub(n, one);
      siftDown(zero, last, hsAt(last), hxAt(last));
      return SmallVector<Value>{};
    });
    Value minusOne = arith::ConstantIntOp::create(b, -1, 32);
    forLoop(add(forced, kept), topk, 1, {}, [&](Value t, ValueRange) {
      memref::StoreOp::create(b, minusOne, ops.out, ValueRange{b0, h, i, t});
      return SmallVector<Value>{};
    });
  }

  const SelectShape &c;
  Type f64;
  VectorType vec64;
};

/// The common rule: static shapes, something to select.
LogicalResult commonShape(PatternRewriter &rewriter, Operation *op, SelectShape &c) {
  for (Value v : op->getOperands())
    if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
  if (c.batch == 0 || c.heads == 0 || c.lq == 0 || c.items == 0 || c.d == 0 || c.topk == 0)
    return rewriter.notifyMatchFailure(op, "empty tensors take the naive path");
  return success();
}

void emitAndReplace(PatternRewriter &rewriter, Operation *op, const SelectShape &c,
                    SelectOperands ops) {
  ImplicitLocOpBuilder b(op->getLoc(), rewriter);
  for (Value *v : {&ops.q, &ops.k, &ops.kmax, &ops.weights})
    if (*v)
      *v = readOnlyBuffer(b, *v);
  ops.out = freshBuffer(b, op->getResult(0).getType(), 64);
  FlashShape fs{};
  fs.elementType = b.getF32Type();
  SelectEmitter(b, fs, c).emit(ops);
  rewriter.replaceOp(op, resultTensor(b, ops.out, op->getResult(0).getType()));
}

template <typename OpT>
void tokenRule(OpT op, SelectShape &c) {
  c.topk = op.getTopk();
  c.causal = op.getCausal();
  c.sinkTokens = op.getSinkTokens();
  c.localWindow = op.getLocalWindow();
}

/// topk_select and adamas_select: per-head keys, token items.
template <typename OpT, Scoring scoring>
struct TokenSelectForCpu : OpRewritePattern<OpT> {
  using OpRewritePattern<OpT>::OpRewritePattern;
  LogicalResult matchAndRewrite(OpT op, PatternRewriter &rewriter) const override {
    auto q = op.getQuery().getType(), k = op.getKey().getType();
    SelectShape c;
    c.batch = q.getDimSize(0);
    c.heads = q.getDimSize(1);
    c.lq = q.getDimSize(2);
    c.d = q.getDimSize(3);
    c.kvHeads = k.getDimSize(1);
    c.items = c.lk = k.getDimSize(2);
    c.scoring = scoring;
    tokenRule(op, c);
    if (failed(commonShape(rewriter, op, c)))
      return failure();
    emitAndReplace(rewriter, op, c, {op.getQuery(), op.getKey(), {}, {}, {}});
    return success();
  }
};

struct DsaIndexerForCpu : OpRewritePattern<DsaIndexerOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DsaIndexerOp op, PatternRewriter &rewriter) const override {
    auto q = op.getQuery().getType(), k = op.getKey().getType();
    SelectShape c;
    c.batch = q.getDimSize(0);
    c.heads = c.kvHeads = 1;
    c.indexerHeads = q.getDimSize(1);
    c.lq = q.getDimSize(2);
    c.d = q.getDimSize(3);
    c.items = c.lk = k.getDimSize(2);
    c.scoring = Scoring::Dsa;
    tokenRule(op, c);
    if (failed(commonShape(rewriter, op, c)))
      return failure();
    emitAndReplace(rewriter, op, c, {op.getQuery(), op.getKey(), {}, op.getWeights(), {}});
    return success();
  }
};

struct QuestSelectForCpu : OpRewritePattern<QuestSelectOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuestSelectOp op, PatternRewriter &rewriter) const override {
    auto q = op.getQuery().getType(), m = op.getKmin().getType();
    SelectShape c;
    c.batch = q.getDimSize(0);
    c.heads = q.getDimSize(1);
    c.lq = q.getDimSize(2);
    c.d = q.getDimSize(3);
    c.kvHeads = m.getDimSize(1);
    c.items = m.getDimSize(2);
    c.lk = op.getKeyLength();
    c.keysPerItem = op.getPageSize();
    c.scoring = Scoring::Quest;
    tokenRule(op, c);
    if (failed(commonShape(rewriter, op, c)))
      return failure();
    if (c.lk <= 0)
      return rewriter.notifyMatchFailure(op, "no keys take the naive path");
    emitAndReplace(rewriter, op, c, {op.getQuery(), op.getKmin(), op.getKmax(), {}, {}});
    return success();
  }
};

/// attn.page_bounds (Quest's metadata): a task per (batch, head, page), the
/// page's keys (the ragged last page's only) reduced to their elementwise
/// min and max in f32 vectors of 16 channels.
struct PageBoundsForCpu : OpRewritePattern<PageBoundsOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PageBoundsOp op, PatternRewriter &rewriter) const override {
    auto k = cast<RankedTensorType>(op.getKey().getType());
    auto m = op.getKmin().getType();
    if (!k.hasStaticShape() || !m.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    int64_t d = k.getDimSize(3), lk = k.getDimSize(2), page = op.getPageSize();
    if (d % kLanes || lk == 0 || k.getNumElements() == 0)
      return rewriter.notifyMatchFailure(op, "D must be a multiple of 16");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value keys = readOnlyBuffer(b, op.getKey());
    Value kmin = freshBuffer(b, m, 64), kmax = freshBuffer(b, m, 64);
    FlashShape fs{};
    fs.elementType = b.getF32Type();
    struct Emitter : CpuKernelBuilder {
      using CpuKernelBuilder::CpuKernelBuilder;
      void run(Value keys, Value kmin, Value kmax, ArrayRef<int64_t> shape, int64_t page,
               int64_t lk, int64_t d) {
        double inf = std::numeric_limits<double>::infinity();
        auto srcVec = VectorType::get({kLanes}, cast<MemRefType>(keys.getType()).getElementType());
        parallel(shape, [&](ValueRange ivs) {
          // Keys past the end read as the last key, as in the reference.
          Value start = mul(ivs[2], idx(page));
          Value first = minI(start, idx(lk - 1));
          Value last = maxI(minI(add(start, idx(page)), idx(lk)), add(first, idx(1)));
          forLoop(idx(0), idx(d), kLanes, {}, [&](Value e, ValueRange) {
            ValueRange mm = forLoop(first, last, 1, {splat(inf), splat(-inf)},
                                    [&](Value j, ValueRange a) {
              Value x = vector::LoadOp::create(b, srcVec, keys, ValueRange{ivs[0], ivs[1], j, e});
              if (x.getType() != vec)
                x = arith::ExtFOp::create(b, vec, x);
              return SmallVector<Value>{arith::MinimumFOp::create(b, a[0], x),
                                        arith::MaximumFOp::create(b, a[1], x)};
            });
            vector::StoreOp::create(b, mm[0], kmin, ValueRange{ivs[0], ivs[1], ivs[2], e});
            vector::StoreOp::create(b, mm[1], kmax, ValueRange{ivs[0], ivs[1], ivs[2], e});
            return SmallVector<Value>{};
          });
        });
      }
    };
    Emitter(b, fs).run(keys, kmin, kmax, m.getShape().take_front(3), page, lk, d);
    rewriter.replaceOp(op, {resultTensor(b, kmin, m), resultTensor(b, kmax, m)});
    return success();
  }
};

} // namespace

void attn::populateCpuSelectionPatterns(RewritePatternSet &patterns) {
  patterns.add<TokenSelectForCpu<TopkSelectOp, Scoring::Dot>,
               TokenSelectForCpu<AdamasSelectOp, Scoring::Adamas>, DsaIndexerForCpu,
               QuestSelectForCpu, PageBoundsForCpu>(patterns.getContext());
}
