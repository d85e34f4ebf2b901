//===- Selection.cpp - top-k selection loop of the selection ops ----------===//
//
// This file implements the selection every selection op ends in, as plain
// scf loops: for each query row, `topk` times, scan the row's candidates for
// the first item in selection order that comes after the previous pick. That
// is O(topk * N) per row and needs no sort and no "taken" mask, because the
// selection order is a strict total order on the items.
//
//===----------------------------------------------------------------------===//

#include "Selection.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"

using namespace mlir;
using namespace attn;

namespace {

/// One item of a query row: its index, score and whether it is forced.
struct Item {
  Value index;  ///< index; -1 stands for "none"
  Value score;  ///< f64
  Value forced; ///< i1
};

/// True when `x` comes before `y` in the selection order: forced items first
/// (among themselves by ascending index), then by descending score, ties to
/// the lower index.
Value precedes(ImplicitLocOpBuilder &b, const Item &x, const Item &y) {
  Value lowerIndex =
      arith::CmpIOp::create(b, arith::CmpIPredicate::slt, x.index, y.index);
  Value higherScore =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, x.score, y.score);
  Value sameScore =
      arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, x.score, y.score);
  Value byScore = arith::OrIOp::create(
      b, higherScore, arith::AndIOp::create(b, sameScore, lowerIndex));
  Value sameKind = arith::SelectOp::create(b, x.forced, lowerIndex, byScore);
  Value differentKind = arith::XOrIOp::create(b, x.forced, y.forced);
  return arith::SelectOp::create(b, differentKind, x.forced, sameKind);
}

Item selectItem(ImplicitLocOpBuilder &b, Value cond, const Item &x,
                const Item &y) {
  return {arith::SelectOp::create(b, cond, x.index, y.index),
          arith::SelectOp::create(b, cond, x.score, y.score),
          arith::SelectOp::create(b, cond, x.forced, y.forced)};
}

} // namespace

Value attn::buildSelectionIndices(NaiveBuilder &n, Value scores, Value lq,
                                  Value lk, const SelectionRule &rule) {
  ImplicitLocOpBuilder &b = n.builder();
  SmallVector<OpFoldResult> shape = n.sizes(scores);
  auto indexOf = [&](OpFoldResult ofr) {
    return getValueOrCreateConstantIndexOp(b, b.getLoc(), ofr);
  };
  Value minusOne = n.i32(-1);
  Value init = linalg::FillOp::create(b, minusOne,
                                      n.empty({shape[0], shape[1], shape[2],
                                               b.getIndexAttr(rule.topk)},
                                              b.getI32Type()))
                   .getResult(0);

  return n.loopNest(
      {indexOf(shape[0]), indexOf(shape[1]), indexOf(shape[2])}, init,
      [&](ImplicitLocOpBuilder &rb, ValueRange row, Value acc) -> Value {
        NaiveBuilder r(rb);
        Value i = row[2];
        Value zero = r.index(0), one = r.index(1);
        Value page = r.index(rule.keysPerItem);
        // The last key the query may see; negative when it sees none.
        Value lastKey = arith::SubIOp::create(rb, lk, one);
        if (rule.causal)
          lastKey = arith::MinSIOp::create(
              rb,
              arith::SubIOp::create(rb, arith::AddIOp::create(rb, i, lk), lq),
              lastKey);
        // Candidates are the items whose first key is visible: [0, count).
        Value seesNone =
            arith::CmpIOp::create(rb, arith::CmpIPredicate::slt, lastKey, zero);
        Value count = arith::SelectOp::create(
            rb, seesNone, zero,
            arith::AddIOp::create(rb, arith::DivSIOp::create(rb, lastKey, page),
                                  one));
        // Forced: an item holding one of the first sink_tokens keys, or one
        // of the last local_window visible keys.
        Value sinkEnd =
            arith::MinSIOp::create(rb, r.index(rule.sinkTokens),
                                   arith::AddIOp::create(rb, lastKey, one));
        Value firstLocal = arith::MaxSIOp::create(
            rb, zero,
            arith::AddIOp::create(
                rb,
                arith::SubIOp::create(rb, lastKey, r.index(rule.localWindow)),
                one));
        auto isForced = [&](ImplicitLocOpBuilder &fb, Value item) -> Value {
          Value firstKey = arith::MulIOp::create(fb, item, page);
          Value sink = arith::CmpIOp::create(fb, arith::CmpIPredicate::slt,
                                             firstKey, sinkEnd);
          if (rule.localWindow == 0)
            return sink;
          Value end = arith::AddIOp::create(fb, firstKey, page);
          Value local = arith::CmpIOp::create(fb, arith::CmpIPredicate::sgt,
                                              end, firstLocal);
          return arith::OrIOp::create(fb, sink, local);
        };

        Value noIndex = r.index(-1);
        Value noScore = arith::ConstantOp::create(rb, rb.getF64FloatAttr(0.0));
        Value falseVal = arith::ConstantOp::create(rb, rb.getBoolAttr(false));
        // Slot n: the first item after the previous pick (carried as prev*).
        ValueRange slots =
            r.loop(zero, r.index(rule.topk), {acc, noIndex, noScore, falseVal},
                   [&](ImplicitLocOpBuilder &sb, Value slot, ValueRange s) {
                     NaiveBuilder sn(sb);
                     Item prev{s[1], s[2], s[3]};
                     ValueRange best = sn.loop(
                         zero, count, {noIndex, noScore, falseVal},
                         [&](ImplicitLocOpBuilder &cb, Value j, ValueRange c) {
                           Item cur{c[0], c[1], c[2]};
                           Value score = tensor::ExtractOp::create(
                               cb, scores, ValueRange{row[0], row[1], i, j});
                           Item item{j, score, isForced(cb, j)};
                           Value noPrev = arith::CmpIOp::create(
                               cb, arith::CmpIPredicate::slt, prev.index, zero);
                           Value afterPrev = arith::OrIOp::create(
                               cb, noPrev, precedes(cb, prev, item));
                           Value noBest = arith::CmpIOp::create(
                               cb, arith::CmpIPredicate::slt, cur.index, zero);
                           Value beatsBest = arith::OrIOp::create(
                               cb, noBest, precedes(cb, item, cur));
                           Value take =
                               arith::AndIOp::create(cb, afterPrev, beatsBest);
                           Item next = selectItem(cb, take, item, cur);
                           return SmallVector<Value>{next.index, next.score,
                                                     next.forced};
                         });
                     Item pick{best[0], best[1], best[2]};
                     // -1 when no candidate is left, which is the padding.
                     Value id = arith::IndexCastOp::create(sb, sb.getI32Type(),
                                                           pick.index);
                     Value written = tensor::InsertOp::create(
                         sb, id, s[0], ValueRange{row[0], row[1], i, slot});
                     Value found = arith::CmpIOp::create(
                         sb, arith::CmpIPredicate::sge, pick.index, zero);
                     Item kept = selectItem(sb, found, pick, prev);
                     return SmallVector<Value>{written, kept.index, kept.score,
                                               kept.forced};
                   });
        return slots[0];
      });
}
