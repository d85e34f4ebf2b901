//===- RegisterTiles.h - register-tile products of the CPU kernels -*- C++ -*-===//
//
// The chunkwise recurrences and the LoLCATs hybrid compute every product on
// the same 4-row x 64-column register tiles (one broadcast and four FMAs
// per depth step and row). This header holds that product and the short
// vector spellings both kernels use.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_TILE_REGISTERTILES_H
#define ATTN_PASSES_TILE_REGISTERTILES_H

#include "CpuKernelBuilder.h"

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/IR/PatternMatch.h"

namespace attn {

/// How the CPU recurrence kernels find a token's decay: none, one per head
/// (constant), one per token (scalar, Gated DeltaNet), one per token and
/// key channel (vector: GLA, KDA).
enum class RecurrentGate { None, PerHead, PerToken, PerChannel };

inline RecurrentGate gateOf(DecayKind decay) {
  switch (decay) {
  case DecayKind::none:
    return RecurrentGate::None;
  case DecayKind::constant:
    return RecurrentGate::PerHead;
  case DecayKind::scalar:
    return RecurrentGate::PerToken;
  case DecayKind::vector:
    return RecurrentGate::PerChannel;
  }
  return RecurrentGate::None;
}
inline RecurrentGate gateOf(DeltaKind kind) {
  return kind == DeltaKind::deltanet ? RecurrentGate::None
         : kind == DeltaKind::gated  ? RecurrentGate::PerToken
                                     : RecurrentGate::PerChannel;
}

/// The sizes the recurrence kernels share (c.batch, heads, len, d, dv from
/// q [B, H, L, D] and v [.., Dv]); failure when they do not apply: dynamic
/// shapes, D or Dv not a multiple of 16, empty tensors.
template <typename Shape>
mlir::LogicalResult recurrentSizes(mlir::PatternRewriter &rewriter, mlir::Operation *op,
                                   mlir::Value query, mlir::Value value, Shape &c) {
  auto qType = mlir::cast<mlir::RankedTensorType>(query.getType());
  auto vType = mlir::cast<mlir::RankedTensorType>(value.getType());
  if (!qType.hasStaticShape() || !vType.hasStaticShape())
    return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
  c.batch = qType.getDimSize(0);
  c.heads = qType.getDimSize(1);
  c.len = qType.getDimSize(2);
  c.d = qType.getDimSize(3);
  c.dv = vType.getDimSize(3);
  if (c.d % kLanes || c.dv % kLanes)
    return rewriter.notifyMatchFailure(op, "D and Dv must be multiples of 16");
  if (c.len == 0 || c.batch == 0 || c.heads == 0)
    return rewriter.notifyMatchFailure(op, "empty tensors take the naive path");
  return mlir::success();
}

/// x <- the input of the elementwise feature map (identity, elu+1, relu)
/// producing x, if one does; the kernels apply it as they pack q or k.
inline void fuseFeatureMap(mlir::Value &x, std::optional<FeatureMapKind> &map) {
  auto fm = x.getDefiningOp<FeatureMapOp>();
  if (!fm || fm.getKind() == FeatureMapKind::hedgehog)
    return;
  x = fm.getInput();
  map = fm.getKind();
}

class RegisterTileBuilder : public CpuKernelBuilder {
public:
  using CpuKernelBuilder::CpuKernelBuilder;

protected:
  using ScalarAt = llvm::function_ref<Value(Value row, Value k)>;
  using VectorAt = llvm::function_ref<Value(Value k, Value col)>;
  using InitAt = llvm::function_ref<Value(Value row, Value col)>;
  using StoreAt = llvm::function_ref<void(Value row, Value col, Value acc)>;

  /// acc[row, col..col+16) = init(row, col) + sum_{k < depth(row0)}
  /// a(row, k) * bv(k, col), then store(row, col, acc); rows [0, rows) in
  /// register tiles of 4 rows (rows a multiple of 4), n columns (a multiple
  /// of 16) in pieces of up to 4 vectors. Column pieces are outside, row
  /// blocks inside: a piece of B (depth x 64 columns, 32 KiB at depth 128)
  /// stays in L1 while every row block reads it.
  void gemm(Value rows, int64_t n, llvm::function_ref<Value(Value row0)> depth,
            ScalarAt a, VectorAt bv, InitAt init, StoreAt store) {
    int64_t nVecs = n / kLanes;
    for (int64_t first = 0; first < nVecs; first += kColVectors) {
      int64_t cols = std::min<int64_t>(kColVectors, nVecs - first);
      forLoop(idx(0), rows, kRows, {}, [&](Value r0, ValueRange) {
        llvm::SmallVector<Value> acc0;
        for (int64_t r = 0; r < kRows; ++r)
          for (int64_t cc = 0; cc < cols; ++cc)
            acc0.push_back(init(add(r0, idx(r)), idx((first + cc) * kLanes)));
        ValueRange acc = forLoop(idx(0), depth(r0), 1, acc0, [&](Value kk, ValueRange a0) {
          llvm::SmallVector<Value> bs, next;
          for (int64_t cc = 0; cc < cols; ++cc)
            bs.push_back(bv(kk, idx((first + cc) * kLanes)));
          for (int64_t r = 0; r < kRows; ++r) {
            Value x = bcast(a(add(r0, idx(r)), kk));
            for (int64_t cc = 0; cc < cols; ++cc)
              next.push_back(mlir::vector::FMAOp::create(b, x, bs[cc], a0[r * cols + cc]));
          }
          return next;
        });
        for (int64_t r = 0; r < kRows; ++r)
          for (int64_t cc = 0; cc < cols; ++cc)
            store(add(r0, idx(r)), idx((first + cc) * kLanes), acc[r * cols + cc]);
        return llvm::SmallVector<Value>{};
      });
    }
  }

  /// 16 elements of a row of `src` at `at` in f32, through the elementwise
  /// feature map `phi` when there is one (computed in f32 and rounded to
  /// the element type, as the separate attn.feature_map op's result would
  /// be).
  Value mappedVector(Value src, ValueRange at, std::optional<FeatureMapKind> phi) {
    auto srcVec = mlir::VectorType::get(
        {kLanes}, mlir::cast<mlir::MemRefType>(src.getType()).getElementType());
    Value x = mlir::vector::LoadOp::create(b, srcVec, src, at);
    x = x.getType() == vec ? x : mlir::arith::ExtFOp::create(b, vec, x).getResult();
    if (!phi || *phi == FeatureMapKind::identity)
      return x;
    if (*phi == FeatureMapKind::relu) {
      x = mlir::arith::MaximumFOp::create(b, x, splat(0.0));
    } else {
      Value positive =
          mlir::arith::CmpFOp::create(b, mlir::arith::CmpFPredicate::OGT, x, splat(0.0));
      x = mlir::arith::SelectOp::create(b, positive, fadd(x, splat(1.0)),
                                        mlir::math::ExpOp::create(b, x));
    }
    if (srcVec != vec)
      x = mlir::arith::ExtFOp::create(b, vec,
                                      mlir::arith::TruncFOp::create(b, srcVec, x).getResult());
    return x;
  }

  Value bcast(Value x) { return mlir::vector::BroadcastOp::create(b, vec, x); }
  Value vload(Value mem, ValueRange at) {
    return mlir::vector::LoadOp::create(b, vec, mem, at);
  }
  void vstore(Value x, Value mem, ValueRange at) {
    mlir::vector::StoreOp::create(b, x, mem, at);
  }
  Value load(Value mem, ValueRange at) { return mlir::memref::LoadOp::create(b, mem, at); }
  Value fadd(Value x, Value y) { return mlir::arith::AddFOp::create(b, x, y); }
  Value fsub(Value x, Value y) { return mlir::arith::SubFOp::create(b, x, y); }
  Value fmul(Value x, Value y) { return mlir::arith::MulFOp::create(b, x, y); }
  Value fexp(Value x) { return mlir::math::ExpOp::create(b, x); }
  Value lt(Value x, Value y) {
    return mlir::arith::CmpIOp::create(b, mlir::arith::CmpIPredicate::slt, x, y);
  }
  /// Sum of the 16 lanes of x.
  Value hsum(Value x) {
    return mlir::vector::ReductionOp::create(b, mlir::vector::CombiningKind::ADD, x);
  }
  /// n rounded up to the 4-row register tiles.
  Value roundRows(Value n) {
    return mul(mlir::arith::DivUIOp::create(b, add(n, idx(kRows - 1)), idx(kRows)),
               idx(kRows));
  }
  /// dst[j, col0 + i] = src[i, j] for i < rows, j < cols. Rows of dst are
  /// outside, so LLVM vectorises the stores as contiguous vectors fed by
  /// gathers (the other order gives scatters, slower).
  void transpose(Value src, Value dst, int64_t rows, int64_t cols, int64_t col0 = 0) {
    forLoop(idx(0), idx(cols), 1, {}, [&](Value j, ValueRange) {
      forLoop(idx(0), idx(rows), 1, {}, [&](Value i, ValueRange) {
        mlir::memref::StoreOp::create(b, load(src, {i, j}), dst,
                                      ValueRange{j, add(i, idx(col0))});
        return llvm::SmallVector<Value>{};
      });
      return llvm::SmallVector<Value>{};
    });
  }
  /// body() under scf.if cond.
  void when(Value cond, llvm::function_ref<void()> body) {
    auto ifOp = mlir::scf::IfOp::create(b, cond, /*withElseRegion=*/false);
    mlir::OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&ifOp.getThenRegion().front());
    body();
  }
};

} // namespace attn

#endif // ATTN_PASSES_TILE_REGISTERTILES_H
