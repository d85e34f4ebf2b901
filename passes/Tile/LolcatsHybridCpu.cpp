//===- LolcatsHybridCpu.cpp - attn.lolcats_hybrid in one pass ---------------===//
//
// This file implements the CPU tiling of attn.lolcats_hybrid: the window
// softmax and the linear attention over older keys in one pass over blocks
// of w queries (w = the window), with the shared normaliser.
//
// One parallel task per (batch, head) walks the sequence in blocks of C = w
// queries starting at t0 and keeps the linear terms S [F, Dv] and z [F] of
// every key before t0 - w. Query n = t0 + i sees, among the keys of the
// previous and the current block (t0 - w <= j <= n):
//   - the window: j >= n - w + 1 (sliding) or every one of them (terrace);
//   - linear keys: the rest of the previous block (sliding only);
// and every older key through S and z. With s = scale q.k and c_n the
// window's max, one row of P [C, 2C] holds gamma exp(s - c_n) on window
// keys and fq_n . fk_j on linear keys (disjoint), so
//   num = P V2 + fq S,   den = rowsum(P) + fq . z,   out = num / den
// with V2 the values of both blocks. After the block, the previous block's
// keys join the linear terms (S += fk^T V, z += sum fk): the next block's
// window starts at its own previous block, which is this one.
//
// Products run on the register tiles of RegisterTiles.h; q, k, v and the
// features are converted to f32 once, when a block is packed. Work is
// O(L w (D + Dv) + L F Dv) per head and memory O(w (D + Dv + F) + F Dv):
// the quadratic [L, L] weights of the naive form never exist.
//
//===----------------------------------------------------------------------===//

#include "RegisterTiles.h"
#include "TilePatterns.h"

#include "attn/Dialect/Attn/AttnDialect.h"
#include "../KernelBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

#include <cmath>

using namespace mlir;
using namespace attn;

namespace {

/// Static facts of one hybrid kernel.
struct HybridShape {
  int64_t batch, heads, len, d, dv, f;
  int64_t window; // w, also the query block C: a multiple of 16
  bool terrace;
  double scale;
};

/// The operands of one kernel, as buffers.
struct HybridOperands {
  Value q, k, v, fq, fk, gamma, out;
};

class HybridEmitter : public RegisterTileBuilder {
public:
  HybridEmitter(ImplicitLocOpBuilder &b, const FlashShape &fs, const HybridShape &c)
      : RegisterTileBuilder(b, fs), c(c) {}

  void emit(const HybridOperands &ops);

private:
  void packRows(Value src, Value dst, Value b0, Value h, Value start, int64_t rows,
                int64_t dstRow0, int64_t width, double factor);
  void weights(Value t0, Value n, Value gamma);
  void block(const HybridOperands &ops, Value b0, Value h, Value gamma, Value t0);

  const HybridShape &c;
  // Per-task scratch (f32): q rows Qp [C, D] (scaled), query features FQ
  // [C, F], the current block's keys K2 [C, D], the key columns of the
  // previous and the current block Kt [D, 2C], their values V2 [2C, Dv], the previous
  // block's key features FK [C, F] and columns FKt [F, C], the weights P
  // [C, 2C], the linear scores Lin [C, C] (sliding), the numerators O
  // [C, Dv], the denominators den [C], the linear terms S [F, Dv] and z [F].
  Value Qp, FQ, K2, Kt, V2, FK, FKt, P, Lin, O, den, S, z;
};

} // namespace

/// dst[dstRow0 + i, :] = factor * src[b0, h, start + i, :] in f32 for i <
/// rows; rows outside [0, L) are zero (start may be negative).
void HybridEmitter::packRows(Value src, Value dst, Value b0, Value h, Value start,
                             int64_t rows, int64_t dstRow0, int64_t width,
                             double factor) {
  auto srcType = cast<MemRefType>(src.getType());
  auto srcVec = VectorType::get({kLanes}, srcType.getElementType());
  forLoop(idx(0), idx(rows), 1, {}, [&](Value i, ValueRange) {
    Value pos = add(start, i);
    Value inside = arith::AndIOp::create(
        b, arith::CmpIOp::create(b, arith::CmpIPredicate::sge, pos, idx(0)),
        lt(pos, idx(c.len)));
    Value t = minI(maxI(pos, idx(0)), idx(c.len - 1));
    Value fv = bcast(arith::SelectOp::create(b, inside, cf(factor), cf(0.0)));
    for (int64_t col = 0; col < width; col += kLanes) {
      Value x = vector::LoadOp::create(b, srcVec, src, ValueRange{b0, h, t, idx(col)});
      if (x.getType() != vec)
        x = arith::ExtFOp::create(b, vec, x);
      vstore(fmul(x, fv), dst, {add(i, idx(dstRow0)), idx(col)});
    }
    return SmallVector<Value>{};
  });
}

/// P rows i < n from the raw scores: gamma exp(s - c_i) on window keys,
/// Lin on linear keys, 0 elsewhere; den[i] = the row's sum.
void HybridEmitter::weights(Value t0, Value n, Value gamma) {
  int64_t cols = 2 * c.window;
  auto i32 = b.getI32Type();
  auto ivec = i32Vec();
  Value lanes = laneIds();
  auto toI32 = [&](Value x) { return arith::IndexCastOp::create(b, i32, x); };
  auto splatI = [&](Value x) { return vector::BroadcastOp::create(b, ivec, x); };
  auto cmp = [&](arith::CmpIPredicate p, Value x, Value y) {
    return arith::CmpIOp::create(b, p, x, y).getResult();
  };
  Value negInf = splat(-INFINITY), zero = splat(0.0);
  Value gammaV = bcast(gamma);
  // Keys before position 0 (the first block's previous block) are absent.
  Value firstKey = splatI(toI32(sub(idx(c.window), t0)));
  forLoop(idx(0), n, 1, {}, [&](Value i, ValueRange) {
    // rel = key position - query position = (t0 - C + jj) - (t0 + i).
    Value base = splatI(toI32(sub(idx(0), add(i, idx(c.window)))));
    auto masks = [&](int64_t col) {
      Value jj = arith::AddIOp::create(
          b, lanes, splatI(arith::ConstantOp::create(b, b.getI32IntegerAttr(col))));
      Value rel = arith::AddIOp::create(b, jj, base);
      Value valid = arith::AndIOp::create(
          b, cmp(arith::CmpIPredicate::sge, jj, firstKey),
          cmp(arith::CmpIPredicate::sle, rel, splatI(toI32(idx(0)))));
      Value inWindow = valid;
      Value linear;
      if (!c.terrace) {
        Value edge = splatI(toI32(idx(-(c.window - 1))));
        inWindow = arith::AndIOp::create(b, valid, cmp(arith::CmpIPredicate::sge, rel, edge));
        linear = arith::AndIOp::create(b, valid, cmp(arith::CmpIPredicate::slt, rel, edge));
      }
      return std::pair{inWindow, linear};
    };
    Value rowMax = negInf;
    for (int64_t col = 0; col < cols; col += kLanes) {
      Value s = vload(P, {i, idx(col)});
      rowMax = arith::MaximumFOp::create(
          b, rowMax, arith::SelectOp::create(b, masks(col).first, s, negInf));
    }
    Value m = bcast(vector::ReductionOp::create(b, vector::CombiningKind::MAXIMUMF, rowMax));
    Value sum = zero;
    for (int64_t col = 0; col < cols; col += kLanes) {
      auto [inWindow, linear] = masks(col);
      Value e = fmul(gammaV, fexp(fsub(vload(P, {i, idx(col)}), m)));
      Value other = zero;
      if (linear && col < c.window)
        other = arith::SelectOp::create(b, linear, vload(Lin, {i, idx(col)}), zero);
      Value p = arith::SelectOp::create(b, inWindow, e, other);
      vstore(p, P, {i, idx(col)});
      sum = fadd(sum, p);
    }
    memref::StoreOp::create(b, hsum(sum), den, ValueRange{i});
    return SmallVector<Value>{};
  });
}

void HybridEmitter::block(const HybridOperands &ops, Value b0, Value h, Value gamma,
                          Value t0) {
  int64_t C = c.window;
  Value n = minI(idx(C), sub(idx(c.len), t0));
  Value rows = roundRows(n), prev = sub(t0, idx(C));
  auto zero = [&](Value, Value) { return splat(0.0); };

  packRows(ops.q, Qp, b0, h, t0, C, 0, c.d, c.scale);
  packRows(ops.fq, FQ, b0, h, t0, C, 0, c.f, 1.0);
  // The current block's keys and values go to the second halves of Kt and
  // V2; the first halves hold the previous block's (moved there after it).
  packRows(ops.k, K2, b0, h, t0, C, 0, c.d, 1.0);
  packRows(ops.v, V2, b0, h, t0, C, C, c.dv, 1.0);
  packRows(ops.fk, FK, b0, h, prev, C, 0, c.f, 1.0);
  transpose(K2, Kt, C, c.d, C);
  transpose(FK, FKt, C, c.f);

  // Raw window logits of both blocks, and the linear scores of the previous.
  gemm(
      rows, 2 * C, [&](Value) { return idx(c.d); },
      [&](Value row, Value kk) { return load(Qp, {row, kk}); },
      [&](Value kk, Value col) { return vload(Kt, {kk, col}); }, zero,
      [&](Value row, Value col, Value acc) { vstore(acc, P, {row, col}); });
  if (!c.terrace)
    gemm(
        rows, C, [&](Value) { return idx(c.f); },
        [&](Value row, Value kk) { return load(FQ, {row, kk}); },
        [&](Value kk, Value col) { return vload(FKt, {kk, col}); }, zero,
        [&](Value row, Value col, Value acc) { vstore(acc, Lin, {row, col}); });
  weights(t0, n, gamma);

  // num = P V2 (row block r0 sees keys up to C + r0 + 3) + FQ S.
  gemm(
      rows, c.dv, [&](Value r0) { return add(r0, idx(C + kRows)); },
      [&](Value row, Value kk) { return load(P, {row, kk}); },
      [&](Value kk, Value col) { return vload(V2, {kk, col}); }, zero,
      [&](Value row, Value col, Value acc) { vstore(acc, O, {row, col}); });
  gemm(
      rows, c.dv, [&](Value) { return idx(c.f); },
      [&](Value row, Value kk) { return load(FQ, {row, kk}); },
      [&](Value kk, Value col) { return vload(S, {kk, col}); },
      [&](Value row, Value col) { return vload(O, {row, col}); },
      [&](Value row, Value col, Value acc) { vstore(acc, O, {row, col}); });

  auto outType = cast<MemRefType>(ops.out.getType());
  auto outVec = VectorType::get({kLanes}, outType.getElementType());
  forLoop(idx(0), n, 1, {}, [&](Value i, ValueRange) {
    Value qz = splat(0.0);
    for (int64_t col = 0; col < c.f; col += kLanes)
      qz = vector::FMAOp::create(b, vload(FQ, {i, idx(col)}), vload(z, {idx(col)}), qz);
    Value total = fadd(load(den, {i}), hsum(qz));
    Value inv = bcast(arith::DivFOp::create(b, cf(1.0), total));
    for (int64_t col = 0; col < c.dv; col += kLanes) {
      Value x = fmul(vload(O, {i, idx(col)}), inv);
      if (outVec != vec)
        x = arith::TruncFOp::create(b, outVec, x);
      vstore(x, ops.out, {b0, h, add(t0, i), idx(col)});
    }
    return SmallVector<Value>{};
  });

  // The previous block joins the linear terms: S += FK^T V, z += sum FK.
  gemm(
      idx(c.f), c.dv, [&](Value) { return idx(C); },
      [&](Value row, Value kk) { return load(FKt, {row, kk}); },
      [&](Value kk, Value col) { return vload(V2, {kk, col}); },
      [&](Value row, Value col) { return vload(S, {row, col}); },
      [&](Value row, Value col, Value acc) { vstore(acc, S, {row, col}); });
  forLoop(idx(0), idx(c.f), 1, {}, [&](Value f, ValueRange) {
    Value sum = splat(0.0);
    for (int64_t col = 0; col < C; col += kLanes)
      sum = fadd(sum, vload(FKt, {f, idx(col)}));
    memref::StoreOp::create(b, fadd(load(z, {f}), hsum(sum)), z, ValueRange{f});
    return SmallVector<Value>{};
  });

  // This block becomes the next one's previous block.
  forLoop(idx(0), idx(c.d), 1, {}, [&](Value f, ValueRange) {
    for (int64_t col = 0; col < C; col += kLanes)
      vstore(vload(Kt, {f, idx(C + col)}), Kt, {f, idx(col)});
    return SmallVector<Value>{};
  });
  forLoop(idx(0), idx(C), 1, {}, [&](Value j, ValueRange) {
    for (int64_t col = 0; col < c.dv; col += kLanes)
      vstore(vload(V2, {add(j, idx(C)), idx(col)}), V2, {j, idx(col)});
    return SmallVector<Value>{};
  });
}

void HybridEmitter::emit(const HybridOperands &ops) {
  int64_t C = c.window, blocks = (c.len + C - 1) / C;
  parallel({c.batch, c.heads}, [&](ValueRange ivs) {
    Value b0 = ivs[0], h = ivs[1];
    Qp = alloc({C, c.d});
    FQ = alloc({C, c.f});
    K2 = alloc({C, c.d});
    Kt = alloc({c.d, 2 * C});
    V2 = alloc({2 * C, c.dv});
    FK = alloc({C, c.f});
    FKt = alloc({c.f, C});
    P = alloc({C, 2 * C});
    Lin = c.terrace ? Value() : alloc({C, C});
    O = alloc({C, c.dv});
    den = alloc({C});
    S = alloc({c.f, c.dv});
    z = alloc({c.f});
    linalgFill(S, 0.0);
    linalgFill(z, 0.0);
    // No previous block before the first: its halves must hold zeros (0 *
    // uninitialised memory could be NaN).
    linalgFill(Kt, 0.0);
    linalgFill(V2, 0.0);
    // gamma = sigmoid(gamma[h]).
    Value g = load(ops.gamma, {h});
    Value gamma = arith::DivFOp::create(
        b, cf(1.0), fadd(cf(1.0), fexp(arith::NegFOp::create(b, g))));
    forLoop(idx(0), idx(blocks), 1, {}, [&](Value blockIdx, ValueRange) {
      block(ops, b0, h, gamma, mul(blockIdx, idx(C)));
      return SmallVector<Value>{};
    });
  });
}

//===----------------------------------------------------------------------===//
// The rewrite
//===----------------------------------------------------------------------===//

namespace {

/// attn.lolcats_hybrid with static shapes, D, Dv, F and the window
/// multiples of 16 (window at most 128) -> the one-pass kernel.
struct TileLolcatsHybridForCpu : OpRewritePattern<LolcatsHybridOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LolcatsHybridOp op,
                                PatternRewriter &rewriter) const override {
    auto qType = cast<RankedTensorType>(op.getQuery().getType());
    auto vType = cast<RankedTensorType>(op.getValue().getType());
    auto fType = cast<RankedTensorType>(op.getFeatureQuery().getType());
    if (!qType.hasStaticShape() || !vType.hasStaticShape() || !fType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    HybridShape c;
    c.batch = qType.getDimSize(0);
    c.heads = qType.getDimSize(1);
    c.len = qType.getDimSize(2);
    c.d = qType.getDimSize(3);
    c.dv = vType.getDimSize(3);
    c.f = fType.getDimSize(3);
    c.window = op.getWindow();
    c.terrace = op.getMode() == HybridWindowKind::terrace;
    if (c.d % kLanes || c.dv % kLanes || c.f % kLanes)
      return rewriter.notifyMatchFailure(op, "D, Dv and F must be multiples of 16");
    if (c.window % kLanes || c.window > 128)
      return rewriter.notifyMatchFailure(op, "the window must be a multiple of 16 up to 128");
    if (c.len == 0 || c.batch == 0 || c.heads == 0)
      return rewriter.notifyMatchFailure(op, "empty tensors take the naive path");
    c.scale = op.getScale() ? op.getScale()->convertToDouble() : 1.0 / std::sqrt(double(c.d));

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    HybridOperands ops;
    ops.q = readOnlyBuffer(b, op.getQuery());
    ops.k = readOnlyBuffer(b, op.getKey());
    ops.v = readOnlyBuffer(b, op.getValue());
    ops.fq = readOnlyBuffer(b, op.getFeatureQuery());
    ops.fk = readOnlyBuffer(b, op.getFeatureKey());
    ops.gamma = readOnlyBuffer(b, op.getGamma());
    Type outType = op.getOut().getType();
    ops.out = freshBuffer(b, outType, 64);
    FlashShape fs{};
    fs.elementType = qType.getElementType();
    HybridEmitter(b, fs, c).emit(ops);
    rewriter.replaceOp(op, resultTensor(b, ops.out, outType));
    return success();
  }
};

} // namespace

void attn::populateCpuLolcatsPatterns(RewritePatternSet &patterns) {
  patterns.add<TileLolcatsHybridForCpu>(patterns.getContext());
}
