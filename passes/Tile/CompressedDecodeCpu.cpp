//===- CompressedDecodeCpu.cpp - quantised and PQ caches on the decode kernel //
//
// Decode over an int8/int4 or PQ cache is bound by reading the codes, so it
// takes the split-KV decode kernel of DecodeAttentionCpu.cpp with the
// decoding fused into its loads: int8/int4 codes are dequantised in
// registers; PQ scores come from per-row tables of q . centroid indexed by
// the codes (AVX-512 gathers). The codes are read once, in place, and never
// expanded into a float copy of the cache (which is what the naive
// decompositions do).
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"
#include "TilePatterns.h"

#include "../KernelBuffers.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include <cmath>

using namespace mlir;
using namespace attn;

/// The decode shape of a compressed-cache op: q [B,Hq,Lq,D], keys counted by
/// `keys` ([B,Hkv,Lk,*]), out [B,Hq,Lq,Dv]; fails unless every operand is
/// static and the call is a decode shape with Dv a multiple of 16.
template <typename OpT>
static FailureOr<FlashShape> decodeShape(OpT op, Value keys,
                                         PatternRewriter &rewriter) {
  for (Value operand : op->getOperands())
    if (!cast<RankedTensorType>(operand.getType()).hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
  auto qType = op.getQuery().getType();
  auto kType = cast<RankedTensorType>(keys.getType());
  FlashShape s;
  s.batch = qType.getDimSize(0);
  s.heads = qType.getDimSize(1);
  s.lq = qType.getDimSize(2);
  s.d = qType.getDimSize(3);
  s.kvHeads = kType.getDimSize(1);
  s.lk = kType.getDimSize(2);
  s.dv = op.getOut().getType().getDimSize(3);
  if (s.dv % kLanes)
    return rewriter.notifyMatchFailure(op, "Dv must be a multiple of 16");
  if (s.lq == 0 || s.lk == 0 || s.lq > kDecodeMaxQueries || s.lk < 4 * s.lq)
    return rewriter.notifyMatchFailure(op, "not a decode shape");
  s.group = s.heads / s.kvHeads;
  s.blockQ = kRows;
  s.blockK = kColVectors * kLanes;
  s.scale = op.getScale() ? op.getScale()->convertToDouble()
                          : 1.0 / std::sqrt(double(s.d));
  s.causal = op.getCausal();
  s.elementType = qType.getElementType();
  return s;
}

/// Emits the decode kernel over buffers of the operands and replaces the
/// op's (out[, lse]).
template <typename OpT>
static void replaceWithDecodeKernel(OpT op, ImplicitLocOpBuilder &b,
                                    const FlashShape &s, Value keys,
                                    Value values, DecodeCache &cache,
                                    PatternRewriter &rewriter) {
  Value q = readOnlyBuffer(b, op.getQuery());
  if (op.getKvLens())
    cache.kvLens = readOnlyBuffer(b, op.getKvLens());
  auto outType = op.getOut().getType();
  Value out = freshBuffer(b, outType, 64);
  Value lse = op.getLse() ? freshBuffer(b, op.getLse().getType(), 64) : Value();
  emitDecodeAttention(b, s, q, keys, values, /*sinks=*/Value(), out, lse, cache);
  SmallVector<Value> results = {resultTensor(b, out, outType)};
  if (lse)
    results.push_back(resultTensor(b, lse, op.getLse().getType()));
  rewriter.replaceOp(op, results);
}

namespace {

struct TileQuantDecodeForCpu : OpRewritePattern<QuantAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantAttentionOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<FlashShape> s = decodeShape(op, op.getKeyCodes(), rewriter);
    if (failed(s))
      return failure();
    DecodeCache cache;
    DecodeQuant &quant = cache.quant.emplace();
    quant.bits = op.getBits();
    quant.group = op.getGroupSize();
    if (s->d % kLanes)
      return rewriter.notifyMatchFailure(op, "D must be a multiple of 16");
    if (quant.group % kLanes)
      return rewriter.notifyMatchFailure(
          op, "value groups must hold whole 16-channel vectors");

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value kCodes = readOnlyBuffer(b, op.getKeyCodes());
    Value vCodes = readOnlyBuffer(b, op.getValueCodes());
    quant.keyScale = readOnlyBuffer(b, op.getKeyScale());
    quant.valueScale = readOnlyBuffer(b, op.getValueScale());
    if (op.getKeyZero())
      quant.keyZero = readOnlyBuffer(b, op.getKeyZero());
    if (op.getValueZero())
      quant.valueZero = readOnlyBuffer(b, op.getValueZero());
    replaceWithDecodeKernel(op, b, *s, kCodes, vCodes, cache, rewriter);
    return success();
  }
};

struct TilePqDecodeForCpu : OpRewritePattern<PQAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PQAttentionOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<FlashShape> s = decodeShape(op, op.getValue(), rewriter);
    if (failed(s))
      return failure();
    auto cbType = op.getCodebooks().getType();
    DecodeCache cache;
    DecodePq &pq = cache.pq.emplace();
    pq.subspaces = cbType.getDimSize(1);
    pq.centroids = cbType.getDimSize(2);
    // One table of m x Kc floats per query row of a kv head, per task.
    if (s->group * s->lq * pq.subspaces * pq.centroids * 4 > (int64_t(4) << 20))
      return rewriter.notifyMatchFailure(op, "lookup tables over 4 MiB per task");

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value codes = readOnlyBuffer(b, op.getCodes());
    Value v = readOnlyBuffer(b, op.getValue());
    pq.codebooks = readOnlyBuffer(b, op.getCodebooks());
    replaceWithDecodeKernel(op, b, *s, codes, v, cache, rewriter);
    return success();
  }
};

} // namespace

void attn::populateCpuCompressedDecodePatterns(RewritePatternSet &patterns) {
  patterns.add<TileQuantDecodeForCpu, TilePqDecodeForCpu>(patterns.getContext());
}
