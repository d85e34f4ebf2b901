//===- MergeCpu.cpp - merge of partial attention results on the CPU -------===//
//
// attn.merge combines N partials (split-KV chunks, Star Attention hosts,
// the two halves of a cascade) by their log-sum-exp. One parallel task per
// row (b, h, l): M = max_n lse_n, S = sum_n exp(lse_n - M) (a partial with
// lse = -inf weighs 0), lse = M + log S (-inf when S = 0), and the output
// row sum_n (exp(lse_n - M) / S) outs_n over vector<16xf32> pieces, so each
// weight is computed once per row, not once per element.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"
#include "TilePatterns.h"

#include "../KernelBuffers.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <limits>

using namespace mlir;
using namespace attn;

namespace {

class MergeEmitter : public CpuKernelBuilder {
public:
  MergeEmitter(ImplicitLocOpBuilder &b, const FlashShape &s, int64_t parts)
      : CpuKernelBuilder(b, s), parts(parts) {}

  void emit(Value outs, Value lses, Value out, Value lse) {
    double inf = std::numeric_limits<double>::infinity();
    parallel({s.batch, s.heads, s.lq}, [&](ValueRange ivs) {
      auto lseOf = [&](Value n) {
        return memref::LoadOp::create(b, lses, ValueRange{n, ivs[0], ivs[1], ivs[2]});
      };
      Value mAll = forLoop(idx(0), idx(parts), 1, {cf(-inf)}, [&](Value n, ValueRange a) {
        return SmallVector<Value>{arith::MaximumFOp::create(b, a[0], lseOf(n))};
      })[0];
      Value none = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mAll, cf(-inf));
      Value mSafe = arith::SelectOp::create(b, none, cf(0.0), mAll);
      auto weightOf = [&](Value n) -> Value {
        Value l = lseOf(n);
        Value hidden = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, l, cf(-inf));
        Value w = math::ExpOp::create(b, arith::SubFOp::create(b, l, mSafe));
        return arith::SelectOp::create(b, hidden, cf(0.0), w);
      };
      Value sum = forLoop(idx(0), idx(parts), 1, {cf(0.0)}, [&](Value n, ValueRange a) {
        return SmallVector<Value>{arith::AddFOp::create(b, a[0], weightOf(n))};
      })[0];
      Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OLE, sum, cf(0.0));
      Value inv = arith::SelectOp::create(b, empty, cf(0.0),
                                          arith::DivFOp::create(b, cf(1.0), sum));
      Value rowLse = arith::AddFOp::create(b, mSafe, math::LogOp::create(b, sum));
      memref::StoreOp::create(b, arith::SelectOp::create(b, empty, cf(-inf), rowLse), lse,
                              ValueRange{ivs[0], ivs[1], ivs[2]});
      SmallVector<Value> at = {ivs[0], ivs[1], ivs[2]};
      forLoop(idx(0), idx(s.dv), kLanes, {}, [&](Value e, ValueRange) {
        Value acc = forLoop(idx(0), idx(parts), 1, {splat(0.0)}, [&](Value n, ValueRange a) {
          Value w = vector::BroadcastOp::create(
              b, vec, arith::MulFOp::create(b, weightOf(n), inv));
          Value x = loadKeyVector(DecodeCache{}, outs,
                                  SmallVector<Value>{n, ivs[0], ivs[1], ivs[2]}, e);
          return SmallVector<Value>{vector::FMAOp::create(b, w, x, a[0])};
        })[0];
        if (!s.elementType.isF32())
          acc = arith::TruncFOp::create(b, VectorType::get({kLanes}, s.elementType), acc);
        SmallVector<Value> dst(at);
        dst.push_back(e);
        vector::StoreOp::create(b, acc, out, dst);
        return SmallVector<Value>{};
      });
    });
  }

private:
  int64_t parts;
};

struct TileMergeForCpu : OpRewritePattern<MergeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(MergeOp op, PatternRewriter &rewriter) const override {
    auto outsType = op.getOuts().getType();
    if (!outsType.hasStaticShape() || !op.getLses().getType().hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    if (outsType.getDimSize(4) % kLanes)
      return rewriter.notifyMatchFailure(op, "Dv must be a multiple of 16");
    FlashShape s{};
    s.batch = outsType.getDimSize(1);
    s.heads = outsType.getDimSize(2);
    s.lq = outsType.getDimSize(3);
    s.dv = outsType.getDimSize(4);
    s.elementType = outsType.getElementType();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value outs = readOnlyBuffer(b, op.getOuts());
    Value lses = readOnlyBuffer(b, op.getLses());
    Value out = freshBuffer(b, op.getOut().getType(), 64);
    Value lse = freshBuffer(b, op.getLse().getType(), 64);
    MergeEmitter(b, s, outsType.getDimSize(0)).emit(outs, lses, out, lse);
    rewriter.replaceOp(op, {resultTensor(b, out, op.getOut().getType()),
                            resultTensor(b, lse, op.getLse().getType())});
    return success();
  }
};

} // namespace

void attn::populateCpuMergePatterns(RewritePatternSet &patterns) {
  patterns.add<TileMergeForCpu>(patterns.getContext());
}
