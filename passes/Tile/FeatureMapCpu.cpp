//===- FeatureMapCpu.cpp - the Hedgehog feature map on the CPU ------------===//
//
// This file implements the CPU kernel of attn.feature_map hedgehog (LoLCATs'
// learned map): per token, p = x W[h] (D -> F/2), then the features
// [softmax(p) || softmax(-p)] (F = 2 F/2), and of the elementwise maps
// where no linear attention takes them into its packing. One task per (batch,
// head, block of up to 64 tokens): the projection of the block is one
// product on the 4-row x 64-column register tiles (the tokens' x as the
// left operand, rows of W[h] as the right one, x and W converted to f32 as
// they are read), then each token's two softmaxes run over its row of p in
// vectors of 16: the maxima of p and -p, the sums of the exponentials, and
// the quotients written in the output's element type. The elementwise maps
// (identity, elu+1, relu) are fused into linear attention where they feed
// it (ChunkwiseRecurrentCpu.cpp, RecurrentStepCpu.cpp).
//
//===----------------------------------------------------------------------===//

#include "RegisterTiles.h"
#include "TilePatterns.h"

#include "../KernelBuffers.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"

using namespace mlir;
using namespace attn;

namespace {

struct HedgehogShape {
  int64_t batch, heads, len, d, half;
  int64_t rows() const { return std::min<int64_t>(64, (len + kRows - 1) / kRows * kRows); }
};

class HedgehogEmitter : public RegisterTileBuilder {
public:
  HedgehogEmitter(ImplicitLocOpBuilder &b, const FlashShape &fs, const HedgehogShape &c)
      : RegisterTileBuilder(b, fs), c(c) {}

  void emit(Value x, Value w, Value out) {
    int64_t rows = c.rows(), vecs = c.half / kLanes;
    parallel({c.batch, c.heads, (c.len + rows - 1) / rows}, [&](ValueRange ivs) {
      Value b0 = ivs[0], h = ivs[1], t0 = mul(ivs[2], idx(rows));
      Value proj = alloc({rows, c.half});
      // Rows past the sequence repeat its last token (never stored).
      auto token = [&](Value row) { return minI(add(t0, row), idx(c.len - 1)); };
      gemm(
          idx(rows), c.half, [&](Value) { return idx(c.d); },
          [&](Value row, Value k) {
            return toF32(memref::LoadOp::create(b, x, ValueRange{b0, h, token(row), k}));
          },
          [&](Value k, Value col) { return mappedVector(w, ValueRange{h, k, col}, std::nullopt); },
          [&](Value, Value) { return splat(0.0); },
          [&](Value row, Value col, Value acc) { vstore(acc, proj, {row, col}); });
      Value count = minI(idx(rows), sub(idx(c.len), t0));
      forLoop(idx(0), count, 1, {}, [&](Value row, ValueRange) {
        SmallVector<Value> p;
        for (int64_t v = 0; v < vecs; ++v)
          p.push_back(vload(proj, {row, idx(v * kLanes)}));
        auto reduce = [&](vector::CombiningKind kind, ArrayRef<Value> xs) {
          Value acc = xs[0];
          for (Value y : xs.drop_front())
            acc = kind == vector::CombiningKind::ADD ? fadd(acc, y)
                                                     : arith::MaximumFOp::create(b, acc, y);
          return vector::ReductionOp::create(b, kind, acc).getResult();
        };
        SmallVector<Value> neg;
        for (Value y : p)
          neg.push_back(arith::NegFOp::create(b, y));
        Value hi = reduce(vector::CombiningKind::MAXIMUMF, p);
        Value lo = reduce(vector::CombiningKind::MAXIMUMF, neg);
        SmallVector<Value> ePos, eNeg;
        for (int64_t v = 0; v < vecs; ++v) {
          ePos.push_back(fexp(fsub(p[v], bcast(hi))));
          eNeg.push_back(fexp(fsub(neg[v], bcast(lo))));
        }
        Value sumPos = bcast(reduce(vector::CombiningKind::ADD, ePos));
        Value sumNeg = bcast(reduce(vector::CombiningKind::ADD, eNeg));
        Value t = add(t0, row);
        for (int64_t v = 0; v < vecs; ++v) {
          store(arith::DivFOp::create(b, ePos[v], sumPos), out, {b0, h, t, idx(v * kLanes)});
          store(arith::DivFOp::create(b, eNeg[v], sumNeg), out,
                {b0, h, t, idx(c.half + v * kLanes)});
        }
        return SmallVector<Value>{};
      });
    });
  }

private:
  void store(Value y, Value out, ValueRange at) {
    if (!s.elementType.isF32())
      y = arith::TruncFOp::create(b, VectorType::get({kLanes}, s.elementType), y);
    vector::StoreOp::create(b, y, out, at);
  }

  const HedgehogShape &c;
};

struct HedgehogForCpu : OpRewritePattern<FeatureMapOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FeatureMapOp op, PatternRewriter &rewriter) const override {
    if (op.getKind() != FeatureMapKind::hedgehog || !op.getWeight())
      return rewriter.notifyMatchFailure(op, "the elementwise maps take the naive path");
    auto x = op.getInput().getType();
    auto w = cast<RankedTensorType>(op.getWeight().getType());
    if (!x.hasStaticShape() || !w.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    HedgehogShape c{x.getDimSize(0), x.getDimSize(1), x.getDimSize(2), x.getDimSize(3),
                    w.getDimSize(2)};
    if (c.half == 0 || c.half % kLanes)
      return rewriter.notifyMatchFailure(op, "F/2 must be a multiple of 16");
    if (c.batch == 0 || c.heads == 0 || c.len == 0 || c.d == 0)
      return rewriter.notifyMatchFailure(op, "empty tensors take the naive path");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value in = readOnlyBuffer(b, op.getInput()), weight = readOnlyBuffer(b, op.getWeight());
    Value out = freshBuffer(b, op.getOutput().getType(), 64);
    FlashShape fs{};
    fs.elementType = op.getOutput().getType().getElementType();
    HedgehogEmitter(b, fs, c).emit(in, weight, out);
    rewriter.replaceOp(op, resultTensor(b, out, op.getOutput().getType()));
    return success();
  }
};

/// attn.feature_map identity / elu_plus_one / relu where no linear
/// attention takes it into its packing: a task per (batch, head), vectors of
/// 16 channels, the map in f32 and the result rounded to the output type.
struct ElementwiseMapForCpu : OpRewritePattern<FeatureMapOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(FeatureMapOp op, PatternRewriter &rewriter) const override {
    if (op.getKind() == FeatureMapKind::hedgehog)
      return rewriter.notifyMatchFailure(op, "hedgehog has its own kernel");
    // A map feeding linear attention is fused there (its pattern runs on
    // the consumer); leave it for that.
    for (Operation *user : op->getUsers())
      if (isa<LinearAttentionOp>(user))
        return rewriter.notifyMatchFailure(op, "fused into linear attention");
    auto x = op.getInput().getType();
    auto y = op.getOutput().getType();
    if (!x.hasStaticShape() || x.getNumElements() == 0 || x.getDimSize(3) % kLanes)
      return rewriter.notifyMatchFailure(op, "static shapes with D % 16 == 0 only");
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    Value in = readOnlyBuffer(b, op.getInput());
    Value out = freshBuffer(b, y, 64);
    FlashShape fs{};
    fs.elementType = y.getElementType();
    struct Emitter : CpuKernelBuilder {
      using CpuKernelBuilder::CpuKernelBuilder;
      void run(Value in, Value out, ArrayRef<int64_t> shape, FeatureMapKind kind) {
        auto srcVec = VectorType::get({kLanes}, cast<MemRefType>(in.getType()).getElementType());
        parallel(shape.take_front(2), [&](ValueRange ivs) {
          forLoop(idx(0), idx(shape[2]), 1, {}, [&](Value l, ValueRange) {
            forLoop(idx(0), idx(shape[3]), kLanes, {}, [&](Value e, ValueRange) {
              Value v = vector::LoadOp::create(b, srcVec, in, ValueRange{ivs[0], ivs[1], l, e});
              if (v.getType() != vec)
                v = arith::ExtFOp::create(b, vec, v);
              if (kind == FeatureMapKind::relu) {
                v = arith::MaximumFOp::create(b, v, splat(0.0));
              } else if (kind == FeatureMapKind::elu_plus_one) {
                Value positive =
                    arith::CmpFOp::create(b, arith::CmpFPredicate::OGT, v, splat(0.0));
                v = arith::SelectOp::create(b, positive, arith::AddFOp::create(b, v, splat(1.0)),
                                            math::ExpOp::create(b, v));
              }
              if (!s.elementType.isF32())
                v = arith::TruncFOp::create(b, VectorType::get({kLanes}, s.elementType), v);
              vector::StoreOp::create(b, v, out, ValueRange{ivs[0], ivs[1], l, e});
              return SmallVector<Value>{};
            });
            return SmallVector<Value>{};
          });
        });
      }
    };
    Emitter(b, fs).run(in, out, x.getShape(), op.getKind());
    rewriter.replaceOp(op, resultTensor(b, out, y));
    return success();
  }
};

} // namespace

void attn::populateCpuFeatureMapPatterns(RewritePatternSet &patterns) {
  patterns.add<HedgehogForCpu, ElementwiseMapForCpu>(patterns.getContext());
}
