//===- LolcatsDecodeCpu.cpp - one LoLCATs decode step on the CPU ----------===//
//
// This file implements the CPU kernel of attn.lolcats_decode: one token of
// the sliding LoLCATs hybrid over its streaming state (the linear terms S
// [F, Dv], z [F] of the keys that left the window and rings of the last W
// keys, values and key features). One parallel task per (batch, head):
//
//   p = max(position, 0), slot = p mod W; when p >= W the slot's old token
//   leaves the window: S[f] += fk_old[f] v_old, z += fk_old (one pass over
//   S that also sums fq^T S into the linear numerator, fq . z likewise);
//   the rings are copied with the slot replaced by the new token;
//   s_j = scale q . k_j for the valid slots j < min(p + 1, W), c = max s_j,
//   w_j = sigmoid(gamma) exp(s_j - c);
//   out = (sum_j w_j v_j + fq^T S) / (sum_j w_j + fq . z).
//
// Every state element is read and written once (the op returns new
// tensors, so the rings are copied whole); the window part is W dot
// products of D and W value rows, O(W (D + Dv) + F Dv) work a head.
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

struct LolcatsDecodeShape {
  int64_t batch, heads, d, dv, f, window;
  double scale;
};

struct LolcatsDecodeOperands {
  Value q, k, v, fq, fk, gamma, position, state, norm, wk, wv, wf;
  Value out, stateOut, normOut, wkOut, wvOut, wfOut;
};

class LolcatsDecodeEmitter : public RegisterTileBuilder {
public:
  LolcatsDecodeEmitter(ImplicitLocOpBuilder &b, const FlashShape &fs,
                       const LolcatsDecodeShape &c)
      : RegisterTileBuilder(b, fs), c(c) {}

  void emit(const LolcatsDecodeOperands &ops) {
    double inf = std::numeric_limits<double>::infinity();
    parallel({c.batch, c.heads}, [&](ValueRange ivs) {
      Value b0 = ivs[0], h = ivs[1];
      Value raw = arith::MaxSIOp::create(b, load(ops.position, {b0}),
                                         arith::ConstantIntOp::create(b, 0, 32));
      Value p = arith::IndexCastOp::create(b, b.getIndexType(), raw);
      Value slot = arith::RemUIOp::create(b, p, idx(c.window));
      Value evicts = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, p, idx(c.window));
      Value count = minI(add(p, idx(1)), idx(c.window));
      Value evictsVec = vector::BroadcastOp::create(
          b, VectorType::get({kLanes}, b.getI1Type()), evicts);
      auto tokenRow = [&](Value x, Value col) {
        return mappedVector(x, ValueRange{b0, h, idx(0), col}, std::nullopt);
      };
      auto vecLoop = [&](int64_t n, ValueRange init,
                         llvm::function_ref<SmallVector<Value>(Value, ValueRange)> body) {
        return forLoop(idx(0), idx(n), kLanes, init, body);
      };

      // The rings, with the slot taking the new token (f32).
      auto copyRing = [&](Value in, Value out, Value token, int64_t width) {
        forLoop(idx(0), idx(c.window), 1, {}, [&](Value j, ValueRange) {
          Value here = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, j, slot);
          vecLoop(width, {}, [&](Value col, ValueRange) {
            Value x = arith::SelectOp::create(b, here, tokenRow(token, col),
                                              vload(in, {b0, h, j, col}));
            vstore(x, out, {b0, h, j, col});
            return SmallVector<Value>{};
          });
          return SmallVector<Value>{};
        });
      };
      copyRing(ops.wk, ops.wkOut, ops.k, c.d);
      copyRing(ops.wv, ops.wvOut, ops.v, c.dv);
      copyRing(ops.wf, ops.wfOut, ops.fk, c.f);

      // z (+ the evicted features) and fq . z.
      Value zDot = vecLoop(c.f, {splat(0.0)}, [&](Value f, ValueRange a) {
        Value z = vload(ops.norm, {b0, h, f});
        Value added = fadd(z, vload(ops.wf, {b0, h, slot, f}));
        z = arith::SelectOp::create(b, evictsVec, added, z);
        vstore(z, ops.normOut, {b0, h, f});
        return SmallVector<Value>{vector::FMAOp::create(b, tokenRow(ops.fq, f), z, a[0])};
      })[0];
      Value denLinear = hsum(zDot);

      // Scores of the valid slots (the new key in its slot), their max.
      Value sc = alloc({c.window});
      Value max = forLoop(idx(0), idx(c.window), 1, {cf(-inf)}, [&](Value j, ValueRange a) {
        Value dot = vecLoop(c.d, {splat(0.0)}, [&](Value col, ValueRange acc) {
          return SmallVector<Value>{vector::FMAOp::create(
              b, tokenRow(ops.q, col), vload(ops.wkOut, {b0, h, j, col}), acc[0])};
        })[0];
        Value valid = lt(j, count);
        Value sj = arith::SelectOp::create(b, valid, fmul(hsum(dot), cf(c.scale)), cf(-inf));
        memref::StoreOp::create(b, sj, sc, ValueRange{j});
        return SmallVector<Value>{arith::MaximumFOp::create(b, a[0], sj)};
      })[0];
      // Slot 0 is always valid, so max is finite.
      Value g = load(ops.gamma, {h});
      Value sig = arith::DivFOp::create(b, cf(1.0), fadd(cf(1.0), fexp(arith::NegFOp::create(b, g))));

      // Per vector of Dv: the evicted token into S, fq^T S, the window's
      // weighted values; then out.
      int64_t nv = c.dv / kLanes;
      SmallVector<Value> zeros(nv, splat(0.0));
      ValueRange numLinear = forLoop(idx(0), idx(c.f), 1, zeros, [&](Value f, ValueRange a) {
        Value fo = bcast(load(ops.wf, {b0, h, slot, f}));
        Value fqf = bcast(toF32(load(ops.fq, {b0, h, idx(0), f})));
        SmallVector<Value> next;
        for (int64_t cc = 0; cc < nv; ++cc) {
          Value col = idx(cc * kLanes);
          Value s0 = vload(ops.state, {b0, h, f, col});
          Value added = fadd(s0, fmul(fo, vload(ops.wv, {b0, h, slot, col})));
          Value s1 = arith::SelectOp::create(b, evictsVec, added, s0);
          vstore(s1, ops.stateOut, {b0, h, f, col});
          next.push_back(vector::FMAOp::create(b, fqf, s1, a[cc]));
        }
        return next;
      });
      SmallVector<Value> init(zeros);
      init.push_back(cf(0.0));
      ValueRange window = forLoop(idx(0), count, 1, init, [&](Value j, ValueRange a) {
        Value e = fexp(fsub(load(sc, {j}), max));
        Value w = fmul(sig, e);
        Value wv = bcast(w);
        SmallVector<Value> next;
        for (int64_t cc = 0; cc < nv; ++cc)
          next.push_back(vector::FMAOp::create(
              b, wv, vload(ops.wvOut, {b0, h, j, idx(cc * kLanes)}), a[cc]));
        next.push_back(fadd(a[nv], w));
        return next;
      });
      Value den = bcast(fadd(window[nv], denLinear));
      for (int64_t cc = 0; cc < nv; ++cc) {
        Value o = arith::DivFOp::create(b, fadd(window[cc], numLinear[cc]), den);
        if (!s.elementType.isF32())
          o = arith::TruncFOp::create(b, VectorType::get({kLanes}, s.elementType), o);
        vector::StoreOp::create(b, o, ops.out, ValueRange{b0, h, idx(0), idx(cc * kLanes)});
      }
    });
  }

private:
  const LolcatsDecodeShape &c;
};

struct TileLolcatsDecodeForCpu : OpRewritePattern<LolcatsDecodeOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LolcatsDecodeOp op,
                                PatternRewriter &rewriter) const override {
    for (Value v : op->getOperands())
      if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    LolcatsDecodeShape c;
    auto q = op.getQuery().getType(), st = op.getState().getType();
    c.batch = q.getDimSize(0);
    c.heads = q.getDimSize(1);
    c.d = q.getDimSize(3);
    c.dv = op.getValue().getType().getDimSize(3);
    c.f = st.getDimSize(2);
    c.window = op.getWindowKey().getType().getDimSize(2);
    if (c.d % kLanes || c.dv % kLanes || c.f % kLanes)
      return rewriter.notifyMatchFailure(op, "D, Dv and F must be multiples of 16");
    if (c.batch == 0 || c.heads == 0 || c.window == 0)
      return rewriter.notifyMatchFailure(op, "empty tensors take the naive path");
    c.scale = op.getScale() ? op.getScale()->convertToDouble() : 1.0 / std::sqrt(double(c.d));

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    LolcatsDecodeOperands ops;
    auto in = [&](Value v) { return readOnlyBuffer(b, v); };
    ops.q = in(op.getQuery());
    ops.k = in(op.getKey());
    ops.v = in(op.getValue());
    ops.fq = in(op.getFeatureQuery());
    ops.fk = in(op.getFeatureKey());
    ops.gamma = in(op.getGamma());
    ops.position = in(op.getPosition());
    ops.state = in(op.getState());
    ops.norm = in(op.getNorm());
    ops.wk = in(op.getWindowKey());
    ops.wv = in(op.getWindowValue());
    ops.wf = in(op.getWindowFeature());
    SmallVector<Value> buffers;
    for (Value result : op->getResults())
      buffers.push_back(freshBuffer(b, result.getType(), 64));
    ops.out = buffers[0];
    ops.stateOut = buffers[1];
    ops.normOut = buffers[2];
    ops.wkOut = buffers[3];
    ops.wvOut = buffers[4];
    ops.wfOut = buffers[5];
    FlashShape fs{};
    fs.elementType = op.getOut().getType().getElementType();
    LolcatsDecodeEmitter(b, fs, c).emit(ops);
    SmallVector<Value> tensors;
    for (auto [buffer, result] : llvm::zip(buffers, op->getResults()))
      tensors.push_back(resultTensor(b, buffer, result.getType()));
    rewriter.replaceOp(op, tensors);
    return success();
  }
};

} // namespace

void attn::populateCpuLolcatsDecodePatterns(RewritePatternSet &patterns) {
  patterns.add<TileLolcatsDecodeForCpu>(patterns.getContext());
}
