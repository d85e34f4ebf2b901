//===- CompressedAttentionCpu.cpp - quantised and PQ caches on the CPU kernels //
//
// Attention over an int8/int4 or PQ cache takes the same two kernels as
// attn.attention, with the decoding fused into their K/V reads:
//
//   * decode (few queries) is bound by reading the codes, so it takes the
//     split-KV decode kernel: int8/int4 codes are dequantised in registers;
//     PQ scores come from per-row tables of q . centroid indexed by the
//     codes (AVX-512 gathers);
//   * prefill takes the flash kernel: codes are dequantised (or, for PQ,
//     keys rebuilt from their centroids) while a key block's K^T/V tile is
//     packed, once per block, and the tile products run on f32 as for float
//     K/V. Building a table per query would cost m x Kc x D/m = Kc x D
//     multiply-adds per query; rebuilding costs D loads per key, shared by
//     every query of the block.
//
// Either way the codes are read in place and never expanded into a float
// copy of the cache (which is what the naive decompositions do).
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"
#include "TilePatterns.h"

#include "../KernelBuffers.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include <cmath>

using namespace mlir;
using namespace attn;

/// Query rows of a compressed-cache prefill task, in units of block-q.
constexpr int64_t kCompressedRowsFactor = 4;

/// The attention shape of a compressed-cache op: q [B,Hq,Lq,D], keys
/// counted by `keys` ([B,Hkv,Lk,*]), out [B,Hq,Lq,Dv]; fails unless every
/// operand is static and D and Dv are multiples of 16. `decode` says which
/// kernel the shape takes; blockQ is the prefill kernel's query tile.
template <typename OpT>
static FailureOr<FlashShape> compressedShape(OpT op, Value keys, int64_t blockQ,
                                             bool &decode,
                                             PatternRewriter &rewriter) {
  for (Value operand : op->getOperands())
    if (!cast<RankedTensorType>(operand.getType()).hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
  auto qType = op.getQuery().getType();
  auto kType = cast<RankedTensorType>(keys.getType());
  FlashShape s = attentionSizes(qType, kType, op.getOut().getType().getDimSize(3));
  if (s.d % kLanes || s.dv % kLanes)
    return rewriter.notifyMatchFailure(op, "D and Dv must be multiples of 16");
  if (s.lq == 0 || s.lk == 0)
    return rewriter.notifyMatchFailure(op, "empty sequences take the naive path");
  decode = s.lq <= kDecodeMaxQueries && (s.lk >= 4 * s.lq || op.getKvLens());
  s.blockK = kColVectors * kLanes;
  // Prefill decodes each K/V tile once per task, so a task takes
  // kCompressedRowsFactor times the float kernel's rows: the decoding is
  // shared by more queries (still many tasks at long L).
  s.blockQ = decode ? kRows : prefillRows(s.lq, blockQ * kCompressedRowsFactor);
  s.scale = op.getScale() ? op.getScale()->convertToDouble()
                          : 1.0 / std::sqrt(double(s.d));
  s.causal = op.getCausal();
  return s;
}

/// Emits the decode or flash kernel over buffers of the operands and
/// replaces the op's (out[, lse]).
template <typename OpT>
static void replaceWithKernel(OpT op, ImplicitLocOpBuilder &b,
                              const FlashShape &s, bool decode, Value keys,
                              Value values, DecodeCache &cache,
                              PatternRewriter &rewriter) {
  Value q = readOnlyBuffer(b, op.getQuery());
  if (op.getKvLens())
    cache.kvLens = readOnlyBuffer(b, op.getKvLens());
  auto outType = op.getOut().getType();
  Value out = freshBuffer(b, outType, 64);
  Value lse = op.getLse() ? freshBuffer(b, op.getLse().getType(), 64) : Value();
  if (decode)
    emitDecodeAttention(b, s, q, keys, values, /*sinks=*/Value(), out, lse, cache);
  else
    emitFlashAttention(b, s, q, keys, values, /*sinks=*/Value(), out, lse, cache);
  SmallVector<Value> results = {resultTensor(b, out, outType)};
  if (lse)
    results.push_back(resultTensor(b, lse, op.getLse().getType()));
  rewriter.replaceOp(op, results);
}

namespace {

struct TileQuantAttentionForCpu : OpRewritePattern<QuantAttentionOp> {
  TileQuantAttentionForCpu(MLIRContext *context, int64_t blockQ)
      : OpRewritePattern(context), blockQ(blockQ) {}

  LogicalResult matchAndRewrite(QuantAttentionOp op,
                                PatternRewriter &rewriter) const override {
    bool decode = false;
    FailureOr<FlashShape> s =
        compressedShape(op, op.getKeyCodes(), blockQ, decode, rewriter);
    if (failed(s))
      return failure();
    DecodeCache cache;
    DecodeQuant &quant = cache.quant.emplace();
    quant.bits = op.getBits();
    quant.group = op.getGroupSize();

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value kCodes = readOnlyBuffer(b, op.getKeyCodes());
    Value vCodes = readOnlyBuffer(b, op.getValueCodes());
    quant.keyScale = readOnlyBuffer(b, op.getKeyScale());
    quant.valueScale = readOnlyBuffer(b, op.getValueScale());
    if (op.getKeyZero())
      quant.keyZero = readOnlyBuffer(b, op.getKeyZero());
    if (op.getValueZero())
      quant.valueZero = readOnlyBuffer(b, op.getValueZero());
    replaceWithKernel(op, b, *s, decode, kCodes, vCodes, cache, rewriter);
    return success();
  }

  int64_t blockQ;
};

struct TilePqAttentionForCpu : OpRewritePattern<PQAttentionOp> {
  TilePqAttentionForCpu(MLIRContext *context, int64_t blockQ, bool avx512)
      : OpRewritePattern(context), blockQ(blockQ), avx512(avx512) {}

  LogicalResult matchAndRewrite(PQAttentionOp op,
                                PatternRewriter &rewriter) const override {
    bool decode = false;
    FailureOr<FlashShape> s =
        compressedShape(op, op.getValue(), blockQ, decode, rewriter);
    if (failed(s))
      return failure();
    auto cbType = op.getCodebooks().getType();
    DecodeCache cache;
    DecodePq &pq = cache.pq.emplace();
    pq.subspaces = cbType.getDimSize(1);
    pq.centroids = cbType.getDimSize(2);
    pq.permute = avx512 && pq.centroids == 16;
    // The decode kernel keeps one table of m x Kc floats per query row of a
    // kv head per task; past 4 MiB the flash kernel's rebuilt keys are
    // cheaper.
    if (decode && s->group * s->lq * pq.subspaces * pq.centroids * 4 > (int64_t(4) << 20)) {
      decode = false;
      s->blockQ = prefillRows(s->lq, blockQ * kCompressedRowsFactor);
    }

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value codes = readOnlyBuffer(b, op.getCodes());
    Value v = readOnlyBuffer(b, op.getValue());
    pq.codebooks = readOnlyBuffer(b, op.getCodebooks());
    replaceWithKernel(op, b, *s, decode, codes, v, cache, rewriter);
    return success();
  }

  int64_t blockQ;
  bool avx512;
};

} // namespace

void attn::populateCpuCompressedPatterns(RewritePatternSet &patterns,
                                        int64_t blockQ, bool avx512) {
  patterns.add<TileQuantAttentionForCpu>(patterns.getContext(), blockQ);
  patterns.add<TilePqAttentionForCpu>(patterns.getContext(), blockQ, avx512);
}
