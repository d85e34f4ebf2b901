//===- DiffAttentionCpu.cpp - differential attention on the CPU kernels ---===//
//
// attn.diff_attention is o = softmax(s1) V - lambda[h] softmax(s2) V, then a
// per-row RMS norm. Softmax attention is linear in V, so each half is an
// ordinary softmax attention: both run on the flash kernel (prefill) or
// the split-KV kernel (decode) with f32 outputs (rounding the halves to
// f16/bf16 before the subtraction would lose what the difference keeps),
// and one parallel pass per row forms the difference, its mean square and
// the normalised, weighted output.
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"
#include "TilePatterns.h"

#include "../KernelBuffers.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

#include <cmath>

using namespace mlir;
using namespace attn;

namespace {

/// The difference and RMS norm of the two halves, row by row.
class DiffNormEmitter : public CpuKernelBuilder {
public:
  using CpuKernelBuilder::CpuKernelBuilder;

  /// out[b, h, i, :] = d / sqrt(mean(d^2) + eps) * w * outScale with
  /// d = o1 - lambda[h] o2 (d is kept in o1).
  void emit(Value o1, Value o2, Value lambda, Value weight, Value out,
            double eps, double outScale) {
    parallel({s.batch, s.heads, s.lq}, [&](ValueRange ivs) {
      Value lam = vector::BroadcastOp::create(
          b, vec, memref::LoadOp::create(b, lambda, ValueRange{ivs[1]}));
      auto at = [&](Value e) { return SmallVector<Value>{ivs[0], ivs[1], ivs[2], e}; };
      Value sq = forLoop(idx(0), idx(s.dv), kLanes, {splat(0.0)}, [&](Value e, ValueRange a) {
        Value x = vector::LoadOp::create(b, vec, o1, at(e));
        Value y = vector::LoadOp::create(b, vec, o2, at(e));
        Value d = arith::SubFOp::create(b, x, arith::MulFOp::create(b, lam, y));
        vector::StoreOp::create(b, d, o1, at(e));
        return SmallVector<Value>{vector::FMAOp::create(b, d, d, a[0])};
      })[0];
      Value sum = vector::ReductionOp::create(b, vector::CombiningKind::ADD, sq);
      Value mean = arith::DivFOp::create(b, sum, cf(double(s.dv)));
      Value rms = math::SqrtOp::create(b, arith::AddFOp::create(b, mean, cf(eps)));
      Value factor = vector::BroadcastOp::create(
          b, vec, arith::DivFOp::create(b, cf(outScale), rms));
      forLoop(idx(0), idx(s.dv), kLanes, {}, [&](Value e, ValueRange) {
        Value x = arith::MulFOp::create(b, vector::LoadOp::create(b, vec, o1, at(e)), factor);
        if (weight)
          x = arith::MulFOp::create(b, x,
                                    vector::LoadOp::create(b, vec, weight, ValueRange{e}));
        Type outElem = cast<MemRefType>(out.getType()).getElementType();
        if (!outElem.isF32())
          x = arith::TruncFOp::create(b, VectorType::get({kLanes}, outElem), x);
        vector::StoreOp::create(b, x, out, at(e));
        return SmallVector<Value>{};
      });
    });
  }
};

struct TileDiffAttentionForCpu : OpRewritePattern<DiffAttentionOp> {
  TileDiffAttentionForCpu(MLIRContext *context, int64_t blockQ)
      : OpRewritePattern(context), blockQ(blockQ) {}

  LogicalResult matchAndRewrite(DiffAttentionOp op,
                                PatternRewriter &rewriter) const override {
    for (Value operand : op->getOperands())
      if (!cast<RankedTensorType>(operand.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    auto qType = op.getQuery1().getType();
    FlashShape s = attentionSizes(qType, op.getKey1().getType(),
                                  op.getValue().getType().getDimSize(3));
    if (s.d % kLanes || s.dv % kLanes)
      return rewriter.notifyMatchFailure(op, "D and Dv must be multiples of 16");
    if (s.lq == 0 || s.lk == 0)
      return rewriter.notifyMatchFailure(op, "empty sequences take the naive path");
    // The halves are written in f32 (the kernels read inputs by their own
    // element types; elementType is the output's).
    s.elementType = rewriter.getF32Type();
    s.scale = op.getScale() ? op.getScale()->convertToDouble()
                            : 1.0 / std::sqrt(double(s.d));
    s.causal = op.getCausal();
    s.blockK = kColVectors * kLanes;
    bool decode = s.lq <= kDecodeMaxQueries && s.lk >= 4 * s.lq;
    s.blockQ = decode ? kRows : prefillRows(s.lq, blockQ);

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value v = readOnlyBuffer(b, op.getValue());
    auto half = MemRefType::get({s.batch, s.heads, s.lq, s.dv}, b.getF32Type());
    SmallVector<Value> halves;
    for (auto [q, k] : {std::pair{op.getQuery1(), op.getKey1()},
                        std::pair{op.getQuery2(), op.getKey2()}}) {
      Value o = memref::AllocOp::create(b, half, b.getI64IntegerAttr(64));
      Value qb = readOnlyBuffer(b, q), kb = readOnlyBuffer(b, k);
      if (decode)
        emitDecodeAttention(b, s, qb, kb, v, /*sinks=*/Value(), o, /*lse=*/Value());
      else
        emitFlashAttention(b, s, qb, kb, v, /*sinks=*/Value(), o, /*lse=*/Value());
      halves.push_back(o);
    }
    Value lambda = readOnlyBuffer(b, op.getLambda());
    Value weight = op.getNormWeight() ? readOnlyBuffer(b, op.getNormWeight()) : Value();
    Value out = freshBuffer(b, op.getOut().getType(), 64);
    DiffNormEmitter(b, s).emit(halves[0], halves[1], lambda, weight, out,
                               op.getEps().convertToDouble(),
                               1.0 - op.getLambdaInit().convertToDouble());
    rewriter.replaceOp(op, resultTensor(b, out, op.getOut().getType()));
    return success();
  }

  int64_t blockQ;
};

} // namespace

void attn::populateCpuDiffAttentionPatterns(RewritePatternSet &patterns,
                                            int64_t blockQ) {
  patterns.add<TileDiffAttentionForCpu>(patterns.getContext(), blockQ);
}
