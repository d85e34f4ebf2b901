//===- PqEncodeCpu.cpp - PQ encoding of keys on the CPU -------------------===//
//
// This file implements the CPU kernel of attn.pq_encode: each key's
// sub-vectors get the index of their nearest centroid (ties to the lower
// index), as bytes (Kc = 256) or packed nibbles (Kc = 16, low nibble first).
// Codes are compared exactly with the reference, so the distances are the
// naive decomposition's f64 sums, in the same order: sum_e (k_e - c_e)^2
// over the sub-space's channels (a difference of two f32 values and its
// square are exact in f64, so only the additions round, in order).
//
// One parallel task per (batch, head, block of 64 keys): the head's
// codebooks are transposed once to f64 [m, D/m, Kc] in a task scratch, so
// 8 centroids sit in one vector<8xf64>; per key and sub-space, each lane
// sums its centroid's distance over the channels in order, keeps its
// first minimum across the blocks of 8 centroids, and the lanes' minima
// meet in two reductions (the smallest distance, then the lowest index
// holding it).
//
//===----------------------------------------------------------------------===//

#include "CpuKernelBuilder.h"
#include "TilePatterns.h"

#include "../KernelBuffers.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include <limits>

using namespace mlir;
using namespace attn;

namespace {

constexpr int64_t kCentroidLanes = 8;
constexpr int64_t kKeysPerTask = 64;

struct PqEncodeShape {
  int64_t batch, heads, len, d, m, kc;
  int64_t sub() const { return d / m; }
};

class PqEncodeEmitter : public CpuKernelBuilder {
public:
  PqEncodeEmitter(ImplicitLocOpBuilder &b, const FlashShape &fs, const PqEncodeShape &c)
      : CpuKernelBuilder(b, fs), c(c) {
    f64 = b.getF64Type();
    vec64 = VectorType::get({kCentroidLanes}, f64);
    ivec = VectorType::get({kCentroidLanes}, b.getI32Type());
  }

  void emit(Value key, Value codebooks, Value codes) {
    int64_t blocks = (c.len + kKeysPerTask - 1) / kKeysPerTask;
    parallel({c.batch, c.heads, blocks}, [&](ValueRange ivs) {
      Value b0 = ivs[0], h = ivs[1], j0 = mul(ivs[2], idx(kKeysPerTask));
      // cbT[s, e, c] = codebooks[h, s, c, e] in f64.
      Value cbT = memref::AllocOp::create(
          b, MemRefType::get({c.m, c.sub(), c.kc}, f64), b.getI64IntegerAttr(64));
      forLoop(idx(0), idx(c.m), 1, {}, [&](Value s, ValueRange) {
        forLoop(idx(0), idx(c.kc), 1, {}, [&](Value cc, ValueRange) {
          forLoop(idx(0), idx(c.sub()), 1, {}, [&](Value e, ValueRange) {
            Value x = memref::LoadOp::create(b, codebooks, ValueRange{h, s, cc, e});
            memref::StoreOp::create(b, arith::ExtFOp::create(b, f64, x), cbT,
                                    ValueRange{s, e, cc});
            return SmallVector<Value>{};
          });
          return SmallVector<Value>{};
        });
        return SmallVector<Value>{};
      });
      Value end = minI(add(j0, idx(kKeysPerTask)), idx(c.len));
      forLoop(j0, end, 1, {}, [&](Value j, ValueRange) {
        if (c.kc == 256) {
          forLoop(idx(0), idx(c.m), 1, {}, [&](Value s, ValueRange) {
            Value code = nearest(key, cbT, b0, h, j, s);
            memref::StoreOp::create(b, arith::TruncIOp::create(b, b.getI8Type(), code), codes,
                                    ValueRange{b0, h, j, s});
            return SmallVector<Value>{};
          });
        } else {
          // Kc = 16: byte t = code[2t] | code[2t + 1] << 4.
          forLoop(idx(0), idx(c.m / 2), 1, {}, [&](Value t, ValueRange) {
            Value lo = nearest(key, cbT, b0, h, j, mul(t, idx(2)));
            Value hi = nearest(key, cbT, b0, h, j, add(mul(t, idx(2)), idx(1)));
            Value both = arith::OrIOp::create(
                b, lo, arith::ShLIOp::create(b, hi, arith::ConstantIntOp::create(b, 4, 32)));
            memref::StoreOp::create(b, arith::TruncIOp::create(b, b.getI8Type(), both), codes,
                                    ValueRange{b0, h, j, t});
            return SmallVector<Value>{};
          });
        }
        return SmallVector<Value>{};
      });
    });
  }

private:
  /// The i32 index of the nearest centroid of sub-space s of key j.
  Value nearest(Value key, Value cbT, Value b0, Value h, Value j, Value s) {
    double inf = std::numeric_limits<double>::infinity();
    Value base = mul(s, idx(c.sub()));
    SmallVector<Value> xs;
    for (int64_t e = 0; e < c.sub(); ++e) {
      Value x = memref::LoadOp::create(b, key, ValueRange{b0, h, j, add(base, idx(e))});
      xs.push_back(vector::BroadcastOp::create(b, vec64, arith::ExtFOp::create(b, f64, x)));
    }
    SmallVector<int32_t> lanes;
    for (int32_t l = 0; l < kCentroidLanes; ++l)
      lanes.push_back(l);
    Value laneIds = arith::ConstantOp::create(b, DenseElementsAttr::get(ivec, ArrayRef(lanes)));
    Value infVec = arith::ConstantOp::create(b, DenseElementsAttr::get(vec64, b.getF64FloatAttr(inf)));
    Value none = arith::ConstantOp::create(
        b, DenseElementsAttr::get(ivec, b.getI32IntegerAttr(int32_t(c.kc))));
    ValueRange best = forLoop(
        idx(0), idx(c.kc), kCentroidLanes, {infVec, none}, [&](Value c0, ValueRange a) {
          Value acc = arith::ConstantOp::create(b, DenseElementsAttr::get(vec64, b.getF64FloatAttr(0.0)));
          for (int64_t e = 0; e < c.sub(); ++e) {
            Value cv = vector::LoadOp::create(b, vec64, cbT, ValueRange{s, idx(e), c0});
            Value diff = arith::SubFOp::create(b, xs[e], cv);
            acc = arith::AddFOp::create(b, acc, arith::MulFOp::create(b, diff, diff));
          }
          // Strictly smaller only: each lane keeps its first minimum.
          Value smaller = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, acc, a[0]);
          Value ids = arith::AddIOp::create(
              b, laneIds,
              vector::BroadcastOp::create(
                  b, ivec, arith::IndexCastOp::create(b, b.getI32Type(), c0)));
          return SmallVector<Value>{arith::SelectOp::create(b, smaller, acc, a[0]),
                                    arith::SelectOp::create(b, smaller, ids, a[1])};
        });
    Value minDist = vector::ReductionOp::create(b, vector::CombiningKind::MINIMUMF, best[0]);
    Value atMin = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, best[0],
                                        vector::BroadcastOp::create(b, vec64, minDist));
    Value cand = arith::SelectOp::create(b, atMin, best[1], none);
    return vector::ReductionOp::create(b, vector::CombiningKind::MINSI, cand);
  }

  const PqEncodeShape &c;
  Type f64;
  VectorType vec64, ivec;
};

struct PqEncodeForCpu : OpRewritePattern<PQEncodeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PQEncodeOp op, PatternRewriter &rewriter) const override {
    auto k = cast<RankedTensorType>(op.getKey().getType());
    auto cb = cast<RankedTensorType>(op.getCodebooks().getType());
    auto codes = cast<RankedTensorType>(op.getCodes().getType());
    if (!k.hasStaticShape() || !cb.hasStaticShape() || !codes.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    PqEncodeShape c{k.getDimSize(0), k.getDimSize(1), k.getDimSize(2), k.getDimSize(3),
                    cb.getDimSize(1), cb.getDimSize(2)};
    if (k.getNumElements() == 0 || c.m == 0 || c.kc % kCentroidLanes ||
        (c.kc != 256 && c.kc != 16) || (c.kc == 16 && c.m % 2))
      return rewriter.notifyMatchFailure(op, "unusual codebooks take the naive path");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value key = readOnlyBuffer(b, op.getKey());
    Value books = readOnlyBuffer(b, op.getCodebooks());
    Value out = freshBuffer(b, codes, 64);
    FlashShape fs{};
    fs.elementType = b.getF32Type();
    PqEncodeEmitter(b, fs, c).emit(key, books, out);
    rewriter.replaceOp(op, resultTensor(b, out, codes));
    return success();
  }
};

} // namespace

void attn::populateCpuPqEncodePatterns(RewritePatternSet &patterns) {
  patterns.add<PqEncodeForCpu>(patterns.getContext());
}
