//===- ChunkwiseRecurrentCpu.cpp - chunkwise linear / delta-rule kernels ---===//
//
// This file implements the CPU tiling of attn.linear_attention (every decay:
// none, constant, scalar, per-channel vector as in GLA) and attn.delta_rule
// (DeltaNet, Gated DeltaNet, Kimi Delta Attention): the chunkwise-parallel
// forms, which turn the token recurrence into small matrix products on
// register tiles.
//
// One parallel task per (batch, head) keeps the state S [D, Dv] (and the
// normaliser z [D]) in a scratch buffer and walks the sequence in chunks of
// C tokens. With G_i the cumulative log decay inside the chunk (0 without
// decay), gamma_i = exp(G_i), and Gamma[i, j] = exp(G_i - G_j):
//
//   linear attention, X = V:
//     O   = gamma . (Q S) + (tril(Q K^T) . Gamma) X
//     den = gamma . (Q z) + rowsum(tril(Q K^T) . Gamma)       (normalize)
//   delta rule, the chunk's "new values" X from a forward substitution
//   (the UT transform of the WY form, solved in place):
//     x_i = beta_i (v_i - gamma_i S^T k_i - sum_{j<i} Gamma[i, j] (k_i.k_j) x_j)
//     O   = gamma . (Q S) + (tril(Q K^T) . Gamma) X
//   then, for both,
//     S  <- gamma_last S + K^T (w . X),   w_j = exp(G_last - G_j)
//     z  <- gamma_last z + K^T w                              (normalize)
//
// Per-channel decays (GLA, KDA) put G_i[f] inside the sums: gamma . (Q S)
// becomes (Q . exp(G)) S, Gamma[i, j] (q_i.k_j) becomes sum_f q_i[f] k_j[f]
// exp(G_i[f] - G_j[f]) (computed in 16 x 16 blocks, see channelScores), and
// K^T (w . X) becomes (K . exp(G_last - G))^T X. KDA decays the state
// before its erase, which is exactly the Gated DeltaNet form with these
// per-channel terms (docs/CpuPipeline.md).
//
// Every product runs on 4-row x 64-column register tiles (one broadcast
// and four FMAs per depth step and row). The state never leaves the task;
// q and k are scaled, l2-normalised (delta_rule l2norm) and converted to
// f32 once, when a chunk is packed. Work is O(L C D + L D Dv) per head
// instead of the recurrence's O(L D Dv) memory-bound state updates.
//
//===----------------------------------------------------------------------===//

#include "RegisterTiles.h"
#include "TilePatterns.h"

#include "attn/Dialect/Attn/AttnDialect.h"
#include "../KernelBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"

using namespace mlir;
using namespace attn;

namespace {

using Gate = RecurrentGate;

/// Static facts of one chunkwise kernel.
struct ChunkShape {
  int64_t batch, heads, len, d, dv;
  int64_t chunk; // C: a multiple of 16, at most 64
  double scale;
  Gate gate = Gate::None;
  bool delta = false;     // delta rule (forward substitution) or linear
  bool normalize = false; // linear attention's shared normaliser
  double eps = 0.0;
  bool l2norm = false;
  // attn.log_linear: Fenwick levels (lambda-weighted; C = 64 when there is
  // more than one chunk) with `chunkLevels` = bit_length(NC - 1) level
  // states carried across chunks.
  bool levels = false;
  int64_t chunkLevels = 0;
  Type elementType;
};

/// The operands of one kernel, as buffers (null when absent).
struct ChunkOperands {
  Value q, k, v, gate, beta, stateIn, normIn, lambda;
  Value out, stateOut, normOut;
  /// Elementwise feature maps fused into the packing of q and k (q and k
  /// are then the maps' inputs).
  std::optional<FeatureMapKind> qMap, kMap;
};

class ChunkwiseEmitter : public RegisterTileBuilder {
public:
  ChunkwiseEmitter(ImplicitLocOpBuilder &b, const FlashShape &fs,
                   const ChunkShape &c)
      : RegisterTileBuilder(b, fs), c(c) {}

  void emit(const ChunkOperands &ops);

private:
  void loadGates(const ChunkOperands &ops, Value b0, Value h, Value t0, Value n);
  void loadChannelGates(const ChunkOperands &ops, Value b0, Value h, Value t0,
                        Value n);
  void decayRows(Value src, Value dst);
  void channelScores(Value lhs, Value dst, bool strict);
  void channelKeyWeights(Value n);
  void packRows(Value src, Value dst, Value b0, Value h, Value t0, Value n,
                int64_t width, double factor, bool l2norm,
                std::optional<FeatureMapKind> phi = std::nullopt);
  void scores(Value lhs, Value dst, Value n, bool strict);
  void substitute(Value x, int64_t width, Value n);
  void deltaValues(Value n);
  void output(const ChunkOperands &ops, Value b0, Value h, Value t0, Value n);
  void storeOut(const ChunkOperands &ops, Value b0, Value h, Value t0, Value n);
  void stateUpdate(const TileRef &dst, Value x, Value n, bool keep,
                   Value shift = {});
  void updateState(Value n);
  void forLevels(Value chunkIdx, llvm::function_ref<void(Value l)> body);
  void forStateVectors(llvm::function_ref<void(Value row, Value col)> body);
  void weightByLevels(const ChunkOperands &ops, Value dst, Value b0, Value h,
                      Value t0, Value n);
  void levelChunk(const ChunkOperands &ops, Value b0, Value h, Value chunkIdx,
                  Value t0, Value n);

  const ChunkShape &c;
  // Per-task scratch (f32): the chunk's cumulative log decay G [C] and
  // exp(G_last - G_j) weights W [C], beta [C], q rows Qp [C, D], k rows
  // Kp [C, D] and columns Kt [D, C], values / new values X [C, Dv], masked
  // scores A [C, C] (and L [C, C] for the delta rule), outputs O [C, Dv],
  // the state S [D, Dv] and normaliser z [D]. Per-channel decays add the
  // cumulative log decays GC [C, D] and GCt [D, C], decayed q and k rows
  // Qg, Kg [C, D] (q_i . exp(G_i)), the decayed key columns KwT [D, C]
  // (k_j . exp(G_last - G_j)) and the sub-block operands Qh [16, D], KhT
  // [D, 16] of the scores.
  Value G, W, beta, Qp, Kp, Kt, X, A, L, O, S, z;
  Value GC, GCt, Qg, Kg, KwT, Qh, KhT;
  // Log-linear: the level states R [chunkLevels, D, Dv] (level l + 1 of the
  // chunk grid, token level l + 7, in R[l]); with the delta rule also the
  // chunk's UT matrix M [C, C] (new values = M V), P = A M [C, C], the new
  // values U [C, Dv] and per-level temporaries Y, Xl [C, Dv].
  // With a scalar decay R[l] holds the level's state divided by exp(Dl[l])
  // (its log scale, Dl [chunkLevels]): level states get no new keys between
  // carries, so decaying them in place would drive them into denormals.
  Value R, Dl, Mm, P, U, Y, Xl;
  bool perChannel() const { return c.gate == Gate::PerChannel; }
  bool scalarGate() const {
    return c.gate == Gate::PerHead || c.gate == Gate::PerToken;
  }
};

} // namespace

/// G[i] = sum_{l <= i} g_{t0 + l} for i < n (G[i] = G[n-1] past n), W[j] =
/// exp(G[n-1] - G[j]) for j < n and 0 past it; beta[i] (delta rule, 0 past n).
void ChunkwiseEmitter::loadGates(const ChunkOperands &ops, Value b0, Value h,
                                 Value t0, Value n) {
  Value last = sub(n, idx(1));
  if (scalarGate()) {
    forLoop(idx(0), idx(c.chunk), 1, {cf(0.0)}, [&](Value i, ValueRange acc) {
      Value t = add(t0, minI(i, last));
      Value g = c.gate == Gate::PerHead ? load(ops.gate, {h})
                                        : load(ops.gate, {b0, h, t});
      Value inside = lt(i, n);
      Value sum = arith::SelectOp::create(b, inside, fadd(acc[0], g), acc[0]);
      memref::StoreOp::create(b, sum, G, ValueRange{i});
      return SmallVector<Value>{sum};
    });
  }
  Value gLast = scalarGate() ? load(G, {last}) : Value();
  forLoop(idx(0), idx(c.chunk), 1, {}, [&](Value j, ValueRange) {
    Value inside = lt(j, n);
    Value w = cf(1.0);
    if (gLast)
      w = fexp(fsub(gLast, load(G, {j})));
    memref::StoreOp::create(b, arith::SelectOp::create(b, inside, w, cf(0.0)), W,
                            ValueRange{j});
    if (c.delta) {
      Value t = add(t0, minI(j, last));
      Value be = load(ops.beta, {b0, h, t});
      memref::StoreOp::create(b, arith::SelectOp::create(b, inside, be, cf(0.0)),
                              beta, ValueRange{j});
    }
    return SmallVector<Value>{};
  });
}

/// GC[i, :] = sum_{l <= i} g_{t0 + l}[:] (rows past n repeat row n - 1) and
/// its transpose GCt.
void ChunkwiseEmitter::loadChannelGates(const ChunkOperands &ops, Value b0,
                                        Value h, Value t0, Value n) {
  Value last = sub(n, idx(1));
  SmallVector<Value> zero(c.d / kLanes, splat(0.0));
  forLoop(idx(0), idx(c.chunk), 1, zero, [&](Value i, ValueRange acc) {
    Value t = add(t0, minI(i, last));
    Value inside = lt(i, n);
    SmallVector<Value> next;
    for (int64_t v = 0; v < c.d / kLanes; ++v) {
      Value g = vload(ops.gate, {b0, h, t, idx(v * kLanes)});
      Value sum = arith::SelectOp::create(b, inside, fadd(acc[v], g), acc[v]);
      vstore(sum, GC, {i, idx(v * kLanes)});
      next.push_back(sum);
    }
    return next;
  });
  transpose(GC, GCt, c.chunk, c.d);
}

/// dst[i, :] = src[i, :] . exp(GC[i, :]).
void ChunkwiseEmitter::decayRows(Value src, Value dst) {
  forLoop(idx(0), idx(c.chunk), 1, {}, [&](Value i, ValueRange) {
    for (int64_t col = 0; col < c.d; col += kLanes)
      vstore(fmul(vload(src, {i, idx(col)}), fexp(vload(GC, {i, idx(col)}))), dst,
             {i, idx(col)});
    return SmallVector<Value>{};
  });
}

/// Per-channel decays: dst[i, j] = sum_f lhs[i, f] k_j[f] exp(GC[i, f] -
/// GC[j, f]) for j <= i (j < i when strict), 0 elsewhere. The decay does not
/// factor into one q and one k term without overflow, so the chunk goes in
/// 16 x 16 blocks: below the diagonal, both factors are taken relative to
/// the last row r of the key block (exp(GC[i] - GC[r]) and exp(GC[r] -
/// GC[j]), both at most 1 for decays) and multiplied on register tiles;
/// diagonal blocks are summed exactly, one exp per channel.
void ChunkwiseEmitter::channelScores(Value lhs, Value dst, bool strict) {
  int64_t blocks = c.chunk / kLanes;
  linalgFill(dst, 0.0);
  for (int64_t kb = 0; kb < blocks; ++kb) {
    Value r = idx(kb * kLanes + kLanes - 1), j0 = idx(kb * kLanes);
    // KhT[f, :] = Kt[f, j0 ..] . exp(GCt[f, r] - GCt[f, j0 ..]).
    forLoop(idx(0), idx(c.d), 1, {}, [&](Value f, ValueRange) {
      Value w = fexp(fsub(bcast(load(GCt, {f, r})), vload(GCt, {f, j0})));
      vstore(fmul(vload(Kt, {f, j0}), w), KhT, {f, idx(0)});
      return SmallVector<Value>{};
    });
    for (int64_t qb = kb + 1; qb < blocks; ++qb) {
      Value i0 = idx(qb * kLanes);
      // Qh[ii, :] = lhs[i0 + ii, :] . exp(GC[i0 + ii, :] - GC[r, :]).
      forLoop(idx(0), idx(kLanes), 1, {}, [&](Value ii, ValueRange) {
        Value i = add(i0, ii);
        for (int64_t col = 0; col < c.d; col += kLanes) {
          Value w = fexp(fsub(vload(GC, {i, idx(col)}), vload(GC, {r, idx(col)})));
          vstore(fmul(vload(lhs, {i, idx(col)}), w), Qh, {ii, idx(col)});
        }
        return SmallVector<Value>{};
      });
      gemm(
          idx(kLanes), kLanes, [&](Value) { return idx(c.d); },
          [&](Value row, Value kk) { return load(Qh, {row, kk}); },
          [&](Value kk, Value) { return vload(KhT, {kk, idx(0)}); },
          [&](Value, Value) { return splat(0.0); },
          [&](Value row, Value, Value acc) { vstore(acc, dst, {add(i0, row), j0}); });
    }
    // The diagonal block, pair by pair.
    forLoop(idx(0), idx(kLanes), 1, {}, [&](Value ii, ValueRange) {
      Value i = add(j0, ii);
      Value jEnd = strict ? ii : add(ii, idx(1));
      forLoop(idx(0), jEnd, 1, {}, [&](Value jj, ValueRange) {
        Value j = add(j0, jj);
        Value sum = splat(0.0);
        for (int64_t col = 0; col < c.d; col += kLanes) {
          Value w = fexp(fsub(vload(GC, {i, idx(col)}), vload(GC, {j, idx(col)})));
          sum = vector::FMAOp::create(
              b, fmul(vload(lhs, {i, idx(col)}), vload(Kp, {j, idx(col)})), w, sum);
        }
        memref::StoreOp::create(b, hsum(sum), dst, ValueRange{i, j});
        return SmallVector<Value>{};
      });
      return SmallVector<Value>{};
    });
  }
}

/// KwT[f, j] = Kt[f, j] . exp(GCt[f, last] - GCt[f, j]).
void ChunkwiseEmitter::channelKeyWeights(Value n) {
  Value last = sub(n, idx(1));
  forLoop(idx(0), idx(c.d), 1, {}, [&](Value f, ValueRange) {
    Value gl = bcast(load(GCt, {f, last}));
    for (int64_t col = 0; col < c.chunk; col += kLanes)
      vstore(fmul(vload(Kt, {f, idx(col)}), fexp(fsub(gl, vload(GCt, {f, idx(col)})))),
             KwT, {f, idx(col)});
    return SmallVector<Value>{};
  });
}

/// dst[i, :] = factor * src[b0, h, t0 + i, :] in f32 (l2-normalised first
/// when asked), rows past n zero.
void ChunkwiseEmitter::packRows(Value src, Value dst, Value b0, Value h,
                                Value t0, Value n, int64_t width, double factor,
                                bool l2norm, std::optional<FeatureMapKind> phi) {
  Value last = sub(n, idx(1));
  forLoop(idx(0), idx(c.chunk), 1, {}, [&](Value i, ValueRange) {
    Value t = add(t0, minI(i, last));
    auto rowAt = [&](int64_t col) {
      return mappedVector(src, ValueRange{b0, h, t, idx(col)}, phi);
    };
    Value f = cf(factor);
    if (l2norm) {
      // x * (1 / sqrt(sum x^2 + 1e-6)), the reference's order.
      Value sq = splat(0.0);
      for (int64_t col = 0; col < width; col += kLanes) {
        Value x = rowAt(col);
        sq = vector::FMAOp::create(b, x, x, sq);
      }
      Value norm = math::SqrtOp::create(b, fadd(hsum(sq), cf(1e-6)));
      f = fmul(arith::DivFOp::create(b, cf(1.0), norm), f);
    }
    f = arith::SelectOp::create(b, lt(i, n), f, cf(0.0));
    Value fv = bcast(f);
    for (int64_t col = 0; col < width; col += kLanes)
      vstore(fmul(rowAt(col), fv), dst, {i, idx(col)});
    return SmallVector<Value>{};
  });
}

/// dst[i, j] = (lhs_i . k_j) Gamma[i, j] for j <= i (j < i when strict),
/// 0 elsewhere; rows of the chunk up to n.
void ChunkwiseEmitter::scores(Value lhs, Value dst, Value n, bool strict) {
  if (perChannel())
    return channelScores(lhs, dst, strict);
  auto i32 = b.getI32Type();
  auto ivec = i32Vec();
  Value lanes = laneIds();
  auto toI32 = [&](Value x) { return arith::IndexCastOp::create(b, i32, x); };
  gemm(
      roundRows(n), c.chunk, [&](Value) { return idx(c.d); },
      [&](Value row, Value kk) { return load(lhs, {row, kk}); },
      [&](Value kk, Value col) { return vload(Kt, {kk, col}); },
      [&](Value, Value) { return splat(0.0); },
      [&](Value row, Value col, Value acc) {
        Value j = arith::AddIOp::create(
            b, vector::BroadcastOp::create(b, ivec, toI32(col)), lanes);
        Value i = vector::BroadcastOp::create(b, ivec, toI32(row));
        Value keep = arith::CmpIOp::create(
            b, strict ? arith::CmpIPredicate::slt : arith::CmpIPredicate::sle, j, i);
        Value x = acc;
        if (scalarGate())
          x = fmul(x, fexp(fsub(bcast(load(G, {row})), vload(G, {col}))));
        vstore(arith::SelectOp::create(b, keep, x, splat(0.0)), dst, {row, col});
      });
}

/// Delta rule: X <- the chunk's new values (see the file comment), rows < n.
void ChunkwiseEmitter::deltaValues(Value n) {
  // X = V - gamma . (K S) (per channel: V - (K . exp(G)) S).
  gemm(
      roundRows(n), c.dv, [&](Value) { return idx(c.d); },
      [&](Value row, Value kk) { return load(perChannel() ? Kg : Kp, {row, kk}); },
      [&](Value kk, Value col) { return vload(S, {kk, col}); },
      [&](Value, Value) { return splat(0.0); },
      [&](Value row, Value col, Value acc) {
        if (scalarGate())
          acc = fmul(acc, bcast(fexp(load(G, {row}))));
        vstore(fsub(vload(X, {row, col}), acc), X, {row, col});
      });
  // L = strict lower (K K^T) . Gamma.
  scores(Kp, L, n, /*strict=*/true);
  substitute(X, c.dv, n);
}

/// x_i = beta_i (x_i - sum_{j<i} L[i, j] x_j) for rows i < n in order: x
/// becomes M x with M = (I + diag(beta) L)^-1 diag(beta) (width columns).
void ChunkwiseEmitter::substitute(Value x, int64_t width, Value n) {
  int64_t dvVecs = width / kLanes, piece = 2 * kColVectors;
  forLoop(idx(0), n, 1, {}, [&](Value i, ValueRange) {
    Value bi = bcast(load(beta, {i}));
    for (int64_t first = 0; first < dvVecs; first += piece) {
      int64_t cols = std::min<int64_t>(piece, dvVecs - first);
      SmallVector<Value> acc0;
      for (int64_t cc = 0; cc < cols; ++cc)
        acc0.push_back(vload(x, {i, idx((first + cc) * kLanes)}));
      ValueRange acc = forLoop(idx(0), i, 1, acc0, [&](Value j, ValueRange a0) {
        Value lij = arith::NegFOp::create(b, bcast(load(L, {i, j})));
        SmallVector<Value> next;
        for (int64_t cc = 0; cc < cols; ++cc)
          next.push_back(vector::FMAOp::create(
              b, lij, vload(x, {j, idx((first + cc) * kLanes)}), a0[cc]));
        return next;
      });
      for (int64_t cc = 0; cc < cols; ++cc)
        vstore(fmul(acc[cc], bi), x, {i, idx((first + cc) * kLanes)});
    }
    return SmallVector<Value>{};
  });
}

/// out rows t0 .. t0 + n: gamma . (Q S) + A X (divided by the normaliser).
void ChunkwiseEmitter::output(const ChunkOperands &ops, Value b0, Value h,
                              Value t0, Value n) {
  Value rows = roundRows(n);
  gemm(
      rows, c.dv, [&](Value) { return idx(c.d); },
      [&](Value row, Value kk) { return load(perChannel() ? Qg : Qp, {row, kk}); },
      [&](Value kk, Value col) { return vload(S, {kk, col}); },
      [&](Value, Value) { return splat(0.0); },
      [&](Value row, Value col, Value acc) {
        if (scalarGate())
          acc = fmul(acc, bcast(fexp(load(G, {row}))));
        vstore(acc, O, {row, col});
      });
  // A is lower triangular: row block r0 needs keys up to r0 + 3.
  gemm(
      rows, c.dv, [&](Value r0) { return minI(add(r0, idx(kRows)), n); },
      [&](Value row, Value kk) { return load(A, {row, kk}); },
      [&](Value kk, Value col) { return vload(X, {kk, col}); },
      [&](Value row, Value col) { return vload(O, {row, col}); },
      [&](Value row, Value col, Value acc) { vstore(acc, O, {row, col}); });
  storeOut(ops, b0, h, t0, n);
}

/// out rows t0 .. t0 + n from O (divided by the normaliser).
void ChunkwiseEmitter::storeOut(const ChunkOperands &ops, Value b0, Value h,
                                Value t0, Value n) {
  auto outType = cast<MemRefType>(ops.out.getType());
  auto outVec = VectorType::get({kLanes}, outType.getElementType());
  forLoop(idx(0), n, 1, {}, [&](Value i, ValueRange) {
    Value inv;
    if (c.normalize) {
      // den = gamma_i (q_i . z) + sum_j A[i, j] + eps.
      Value qz = splat(0.0), rs = splat(0.0);
      for (int64_t col = 0; col < c.d; col += kLanes)
        qz = vector::FMAOp::create(b, vload(perChannel() ? Qg : Qp, {i, idx(col)}),
                                   vload(z, {idx(col)}), qz);
      for (int64_t col = 0; col < c.chunk; col += kLanes)
        rs = fadd(rs, vload(A, {i, idx(col)}));
      Value qzs = hsum(qz);
      if (scalarGate())
        qzs = fmul(qzs, fexp(load(G, {i})));
      Value den = fadd(fadd(qzs, hsum(rs)), cf(c.eps));
      inv = bcast(arith::DivFOp::create(b, cf(1.0), den));
    }
    for (int64_t col = 0; col < c.dv; col += kLanes) {
      Value x = vload(O, {i, idx(col)});
      if (inv)
        x = fmul(x, inv);
      if (outVec != vec)
        x = arith::TruncFOp::create(b, outVec, x);
      vstore(x, ops.out, {b0, h, add(t0, i), idx(col)});
    }
    return SmallVector<Value>{};
  });
}

/// dst <- (keep ? gamma_last dst : 0) + K^T (w . x) for a scalar or no
/// decay (x is scaled by w in place); rows of x from n on are ignored. With
/// a log shift (scalar decays), everything is divided by exp(shift): dst <-
/// exp(G_last - shift) dst + K^T (exp(G_last - G_j - shift) . x).
void ChunkwiseEmitter::stateUpdate(const TileRef &dst, Value x, Value n,
                                   bool keep, Value shift) {
  Value gammaLast;
  if (scalarGate()) {
    Value gLast = load(G, {sub(n, idx(1))});
    gammaLast = fexp(shift ? fsub(gLast, shift) : gLast);
    forLoop(idx(0), n, 1, {}, [&](Value j, ValueRange) {
      Value w = shift ? bcast(fexp(fsub(fsub(gLast, load(G, {j})), shift)))
                      : bcast(load(W, {j}));
      for (int64_t col = 0; col < c.dv; col += kLanes)
        vstore(fmul(vload(x, {j, idx(col)}), w), x, {j, idx(col)});
      return SmallVector<Value>{};
    });
  }
  gemm(
      idx(c.d), c.dv, [&](Value) { return n; },
      [&](Value row, Value kk) { return load(Kt, {row, kk}); },
      [&](Value kk, Value col) { return vload(x, {kk, col}); },
      [&](Value row, Value col) {
        if (!keep)
          return splat(0.0);
        Value s0 = vload(dst.mem, dst.at({row, col}));
        return gammaLast ? fmul(s0, bcast(gammaLast)) : s0;
      },
      [&](Value row, Value col, Value acc) { vstore(acc, dst.mem, dst.at({row, col})); });
}

/// S <- gamma_last S + K^T (w . X); z <- gamma_last z + K^T w. Per channel:
/// S[f, :] <- exp(GC[last, f]) S[f, :] + sum_j KwT[f, j] X[j, :].
void ChunkwiseEmitter::updateState(Value n) {
  Value last = sub(n, idx(1));
  if (perChannel()) {
    channelKeyWeights(n);
    gemm(
        idx(c.d), c.dv, [&](Value) { return n; },
        [&](Value row, Value kk) { return load(KwT, {row, kk}); },
        [&](Value kk, Value col) { return vload(X, {kk, col}); },
        [&](Value row, Value col) {
          return fmul(vload(S, {row, col}), bcast(fexp(load(GCt, {row, last}))));
        },
        [&](Value row, Value col, Value acc) { vstore(acc, S, {row, col}); });
  } else {
    stateUpdate(TileRef{S, {}}, X, n, /*keep=*/true);
  }
  if (!c.normalize)
    return;
  // The decay of state row f.
  auto rowDecay = [&](Value f) -> Value {
    if (perChannel())
      return fexp(load(GCt, {f, last}));
    return scalarGate() ? fexp(load(G, {last})) : Value();
  };
  forLoop(idx(0), idx(c.d), 1, {}, [&](Value f, ValueRange) {
    Value kw = splat(0.0);
    for (int64_t col = 0; col < c.chunk; col += kLanes)
      kw = perChannel() ? fadd(kw, vload(KwT, {f, idx(col)}))
                        : Value(vector::FMAOp::create(b, vload(Kt, {f, idx(col)}),
                                                      vload(W, {idx(col)}), kw));
    Value z0 = load(z, {f});
    if (Value g = rowDecay(f))
      z0 = fmul(z0, g);
    memref::StoreOp::create(b, fadd(z0, hsum(kw)), z, ValueRange{f});
    return SmallVector<Value>{};
  });
}

//===----------------------------------------------------------------------===//
// Log-linear attention (Fenwick levels)
//===----------------------------------------------------------------------===//

/// body(l) for every level state R[l] that holds keys before chunk chunkIdx:
/// chunk level l + 1 holds the 2^l chunks of bit l of the chunk index, so it
/// is non-empty exactly when that bit is set.
void ChunkwiseEmitter::forLevels(Value chunkIdx,
                                 llvm::function_ref<void(Value l)> body) {
  if (!c.chunkLevels)
    return;
  forLoop(idx(0), idx(c.chunkLevels), 1, {}, [&](Value l, ValueRange) {
    Value bit = arith::AndIOp::create(b, arith::ShRUIOp::create(b, chunkIdx, l), idx(1));
    when(arith::CmpIOp::create(b, arith::CmpIPredicate::ne, bit, idx(0)),
         [&] { body(l); });
    return SmallVector<Value>{};
  });
}

/// body(row, col) for every 16-lane vector of a [D, Dv] state.
void ChunkwiseEmitter::forStateVectors(
    llvm::function_ref<void(Value row, Value col)> body) {
  forLoop(idx(0), idx(c.d), 1, {}, [&](Value row, ValueRange) {
    for (int64_t col = 0; col < c.dv; col += kLanes)
      body(row, idx(col));
    return SmallVector<Value>{};
  });
}

/// dst[i, j] *= lambda[t0 + i, bit_length(i XOR j)] for j <= i < n: the
/// levels inside a chunk (t0 is a multiple of C, a power of two, whenever
/// there is more than one chunk, so (t0 + i) XOR (t0 + j) = i XOR j).
void ChunkwiseEmitter::weightByLevels(const ChunkOperands &ops, Value dst,
                                      Value b0, Value h, Value t0, Value n) {
  auto i32 = b.getI32Type();
  auto ivec = i32Vec();
  Value lanes = laneIds();
  auto splatI = [&](int64_t v) {
    return vector::BroadcastOp::create(b, ivec, arith::ConstantOp::create(b, b.getI32IntegerAttr(v)));
  };
  forLoop(idx(0), n, 1, {}, [&](Value i, ValueRange) {
    Value iv = vector::BroadcastOp::create(b, ivec, arith::IndexCastOp::create(b, i32, i));
    for (int64_t col = 0; col < c.chunk; col += kLanes) {
      Value j = arith::AddIOp::create(b, lanes, splatI(col));
      Value lz = math::CountLeadingZerosOp::create(b, arith::XOrIOp::create(b, iv, j));
      Value level = arith::SubIOp::create(b, splatI(32), lz);
      Value keep = arith::CmpIOp::create(b, arith::CmpIPredicate::sle, j, iv);
      Value w = vector::GatherOp::create(b, vec, ops.lambda,
                                         ValueRange{b0, h, add(t0, i), idx(0)},
                                         level, keep, splat(0.0));
      vstore(fmul(vload(dst, {i, idx(col)}), w), dst, {i, idx(col)});
    }
    return SmallVector<Value>{};
  });
}

/// One chunk of attn.log_linear. Keys of this chunk reach its queries at
/// levels 0..6 (bit_length(i XOR j) <= log2 C), weighted per pair; older
/// keys sit in the chunk-level states R[l] (token level l + 7), each read
/// as one lambda-weighted product per query row. For the linear and mamba2
/// bases a key's contribution is (q.k) decay v, so
///   O = (A . Lambda) V + sum_l lambda_l . gamma . (Q R[l]).
/// For the gated_deltanet base every level carries its own delta-rule
/// state through the chunk's transitions (the UT form, M = (I + diag(beta)
/// L)^-1 diag(beta)): a key's contribution inside the chunk is row i of
///   P = A M (P[i, s] = q_i^T Phi(i, s) beta_s k_s),
/// so O = (P . Lambda) V, and each level adds lambda_l . (gamma . (Q R[l]) +
/// A X_l) with X_l = -M (gamma . (K R[l])), R[l] <- gamma_last R[l] +
/// K^T (w . X_l). After the chunk its own keys form one state (K^T (w . V),
/// or K^T (w . M V)) that joins the binary carry: with k the trailing ones
/// of the chunk index, R[k] = that state + R[0..k) (all at the chunk's end).
/// With a decay, a level's decay goes into its log scale Dl[l] instead of
/// its values (see R), and reads and merges multiply by exp(Dl[l]).
void ChunkwiseEmitter::levelChunk(const ChunkOperands &ops, Value b0, Value h,
                                  Value chunkIdx, Value t0, Value n) {
  int64_t numChunks = (c.len + c.chunk - 1) / c.chunk;
  Value rows = roundRows(n), last = sub(n, idx(1));
  auto lower = [&](Value r0) { return minI(add(r0, idx(kRows)), n); };
  auto depthD = [&](Value) { return idx(c.d); };
  auto zero = [&](Value, Value) { return splat(0.0); };
  // acc . exp(G_row) (the decay from the chunk start to the row).
  auto decayed = [&](Value acc, Value row) {
    return scalarGate() ? fmul(acc, bcast(fexp(load(G, {row})))) : acc;
  };

  loadGates(ops, b0, h, t0, n);
  packRows(ops.q, Qp, b0, h, t0, n, c.d, c.scale, false, ops.qMap);
  packRows(ops.k, Kp, b0, h, t0, n, c.d, 1.0, false, ops.kMap);
  packRows(ops.v, X, b0, h, t0, n, c.dv, 1.0, false);
  transpose(Kp, Kt, c.chunk, c.d);
  scores(Qp, A, n, /*strict=*/false);
  Value intra = A;
  if (c.delta) {
    scores(Kp, L, n, /*strict=*/true);
    linalgFill(Mm, 0.0);
    forLoop(idx(0), n, 1, {}, [&](Value i, ValueRange) {
      memref::StoreOp::create(b, cf(1.0), Mm, ValueRange{i, i});
      return SmallVector<Value>{};
    });
    substitute(Mm, c.chunk, n);
    gemm(
        rows, c.chunk, lower, [&](Value row, Value kk) { return load(A, {row, kk}); },
        [&](Value kk, Value col) { return vload(Mm, {kk, col}); }, zero,
        [&](Value row, Value col, Value acc) { vstore(acc, P, {row, col}); });
    gemm(
        rows, c.dv, lower, [&](Value row, Value kk) { return load(Mm, {row, kk}); },
        [&](Value kk, Value col) { return vload(X, {kk, col}); }, zero,
        [&](Value row, Value col, Value acc) { vstore(acc, U, {row, col}); });
    intra = P;
  }
  weightByLevels(ops, intra, b0, h, t0, n);
  gemm(
      rows, c.dv, lower, [&](Value row, Value kk) { return load(intra, {row, kk}); },
      [&](Value kk, Value col) { return vload(X, {kk, col}); }, zero,
      [&](Value row, Value col, Value acc) { vstore(acc, O, {row, col}); });

  // exp(x), 0 below exp(-80): the scale of a level that has decayed away,
  // without denormal products.
  auto scaleExp = [&](Value x) {
    Value tiny = arith::CmpFOp::create(b, arith::CmpFPredicate::OLT, x, cf(-80.0));
    return arith::SelectOp::create(b, tiny, cf(0.0), fexp(x)).getResult();
  };
  forLevels(chunkIdx, [&](Value l) {
    Value level = add(l, idx(7));
    Value logScale = Dl ? load(Dl, {l}) : Value();
    // lambda[t0 + row, level] (times the level's scale and, for the linear
    // bases, the decay from the chunk start to the row).
    auto weightOf = [&](Value row, bool withDecay) {
      Value w = load(ops.lambda, {b0, h, add(t0, minI(row, last)), level});
      if (logScale)
        w = fmul(w, scaleExp(withDecay ? fadd(logScale, load(G, {row})) : logScale));
      return bcast(w);
    };
    auto qRow = [&](Value row, Value kk) { return load(Qp, {row, kk}); };
    auto stateCol = [&](Value kk, Value col) { return vload(R, {l, kk, col}); };
    if (!c.delta) {
      gemm(rows, c.dv, depthD, qRow, stateCol, zero, [&](Value row, Value col, Value acc) {
        vstore(vector::FMAOp::create(b, acc, weightOf(row, true), vload(O, {row, col})), O,
               {row, col});
      });
      return;
    }
    // Y = gamma . (K R[l]); X_l = -M Y.
    gemm(
        rows, c.dv, depthD, [&](Value row, Value kk) { return load(Kp, {row, kk}); },
        stateCol, zero,
        [&](Value row, Value col, Value acc) { vstore(decayed(acc, row), Y, {row, col}); });
    gemm(
        rows, c.dv, lower, [&](Value row, Value kk) { return load(Mm, {row, kk}); },
        [&](Value kk, Value col) { return vload(Y, {kk, col}); }, zero,
        [&](Value row, Value col, Value acc) {
          vstore(arith::NegFOp::create(b, acc), Xl, {row, col});
        });
    // O += lambda_l . (gamma . (Q R[l]) + A X_l).
    gemm(rows, c.dv, depthD, qRow, stateCol, zero,
         [&](Value row, Value col, Value acc) { vstore(decayed(acc, row), Y, {row, col}); });
    gemm(
        rows, c.dv, lower, [&](Value row, Value kk) { return load(A, {row, kk}); },
        [&](Value kk, Value col) { return vload(Xl, {kk, col}); },
        [&](Value row, Value col) { return vload(Y, {row, col}); },
        [&](Value row, Value col, Value acc) {
          vstore(vector::FMAOp::create(b, acc, weightOf(row, false), vload(O, {row, col})),
                 O, {row, col});
        });
    // R[l] <- (gamma_last R[l] + K^T (w . X_l)) / exp(shift), Dl[l] += shift
    // with shift = max(G_last, -60): the stored state keeps its magnitude
    // and the weights exp(G_last - G_j - shift) stay below exp(60).
    Value shift = arith::MaximumFOp::create(b, load(G, {last}), cf(-60.0));
    stateUpdate(TileRef{R, {l}}, Xl, n, /*keep=*/true, shift);
    memref::StoreOp::create(b, fadd(logScale, shift), Dl, ValueRange{l});
  });
  storeOut(ops, b0, h, t0, n);

  // The carry (nothing reads it after the last chunk).
  if (numChunks == 1)
    return;
  when(lt(chunkIdx, idx(numChunks - 1)), [&] {
    stateUpdate(TileRef{S, {}}, c.delta ? U : X, n, /*keep=*/false);
    if (!c.delta && Dl) {
      // The levels decay by the chunk's gate, in their log scales.
      Value gLast = load(G, {last});
      forLevels(chunkIdx, [&](Value l) {
        memref::StoreOp::create(b, fadd(load(Dl, {l}), gLast), Dl, ValueRange{l});
      });
    }
    auto i64 = b.getI64Type();
    Value next = arith::IndexCastOp::create(b, i64, add(chunkIdx, idx(1)));
    Value k = arith::IndexCastOp::create(b, b.getIndexType(),
                                         math::CountTrailingZerosOp::create(b, next));
    forLoop(idx(0), k, 1, {}, [&](Value l, ValueRange) {
      Value scale = Dl ? bcast(scaleExp(load(Dl, {l}))) : Value();
      forStateVectors([&](Value row, Value col) {
        Value r = vload(R, {l, row, col}), s0 = vload(S, {row, col});
        vstore(scale ? vector::FMAOp::create(b, r, scale, s0) : fadd(s0, r), S, {row, col});
      });
      return SmallVector<Value>{};
    });
    forStateVectors([&](Value row, Value col) {
      vstore(vload(S, {row, col}), R, {k, row, col});
    });
    if (Dl)
      memref::StoreOp::create(b, cf(0.0), Dl, ValueRange{k});
  });
}

void ChunkwiseEmitter::emit(const ChunkOperands &ops) {
  int64_t numChunks = (c.len + c.chunk - 1) / c.chunk;
  parallel({c.batch, c.heads}, [&](ValueRange ivs) {
    Value b0 = ivs[0], h = ivs[1];
    G = scalarGate() ? alloc({c.chunk}) : Value();
    W = alloc({c.chunk});
    beta = c.delta ? alloc({c.chunk}) : Value();
    Qp = alloc({c.chunk, c.d});
    Kp = alloc({c.chunk, c.d});
    Kt = alloc({c.d, c.chunk});
    X = alloc({c.chunk, c.dv});
    A = alloc({c.chunk, c.chunk});
    L = c.delta ? alloc({c.chunk, c.chunk}) : Value();
    O = alloc({c.chunk, c.dv});
    S = alloc({c.d, c.dv});
    z = c.normalize ? alloc({c.d}) : Value();
    if (perChannel()) {
      GC = alloc({c.chunk, c.d});
      GCt = alloc({c.d, c.chunk});
      Qg = alloc({c.chunk, c.d});
      Kg = c.delta ? alloc({c.chunk, c.d}) : Value();
      KwT = alloc({c.d, c.chunk});
      Qh = alloc({kLanes, c.d});
      KhT = alloc({c.d, kLanes});
    }
    if (c.levels) {
      R = c.chunkLevels ? alloc({c.chunkLevels, c.d, c.dv}) : Value();
      Dl = c.chunkLevels && scalarGate() ? alloc({c.chunkLevels}) : Value();
      if (c.delta) {
        Mm = alloc({c.chunk, c.chunk});
        P = alloc({c.chunk, c.chunk});
        U = alloc({c.chunk, c.dv});
        Y = alloc({c.chunk, c.dv});
        Xl = alloc({c.chunk, c.dv});
      }
    }
    // The state from state_in (norm_in), or zero.
    if (ops.stateIn) {
      forLoop(idx(0), idx(c.d), 1, {}, [&](Value f, ValueRange) {
        for (int64_t col = 0; col < c.dv; col += kLanes)
          vstore(vload(ops.stateIn, {b0, h, f, idx(col)}), S, {f, idx(col)});
        if (z)
          memref::StoreOp::create(b, load(ops.normIn, {b0, h, f}), z, ValueRange{f});
        return SmallVector<Value>{};
      });
    } else {
      linalgFill(S, 0.0);
      if (z)
        linalgFill(z, 0.0);
    }

    forLoop(idx(0), idx(numChunks), 1, {}, [&](Value chunkIdx, ValueRange) {
      Value t0 = mul(chunkIdx, idx(c.chunk));
      Value n = minI(idx(c.chunk), sub(idx(c.len), t0));
      if (c.levels) {
        levelChunk(ops, b0, h, chunkIdx, t0, n);
        return SmallVector<Value>{};
      }
      loadGates(ops, b0, h, t0, n);
      packRows(ops.q, Qp, b0, h, t0, n, c.d, c.scale, c.l2norm, ops.qMap);
      packRows(ops.k, Kp, b0, h, t0, n, c.d, 1.0, c.l2norm, ops.kMap);
      packRows(ops.v, X, b0, h, t0, n, c.dv, 1.0, false);
      transpose(Kp, Kt, c.chunk, c.d);
      if (perChannel()) {
        loadChannelGates(ops, b0, h, t0, n);
        decayRows(Qp, Qg);
        if (c.delta)
          decayRows(Kp, Kg);
      }
      if (c.delta)
        deltaValues(n);
      scores(Qp, A, n, /*strict=*/false);
      output(ops, b0, h, t0, n);
      updateState(n);
      return SmallVector<Value>{};
    });

    if (ops.stateOut) {
      forLoop(idx(0), idx(c.d), 1, {}, [&](Value f, ValueRange) {
        for (int64_t col = 0; col < c.dv; col += kLanes)
          vstore(vload(S, {f, idx(col)}), ops.stateOut, {b0, h, f, idx(col)});
        if (ops.normOut)
          memref::StoreOp::create(b, load(z, {f}), ops.normOut, ValueRange{b0, h, f});
        return SmallVector<Value>{};
      });
    }
  });
}

//===----------------------------------------------------------------------===//
// The rewrites
//===----------------------------------------------------------------------===//

namespace {

/// The shape facts both ops share; failure when the kernel does not apply.
LogicalResult chunkShapeOf(PatternRewriter &rewriter, Operation *op,
                           Value query, Value value, ChunkShape &c) {
  if (failed(recurrentSizes(rewriter, op, query, value, c)))
    return failure();
  // Chunks of 64 tokens; shorter sequences take one chunk of L rounded up
  // to the 16-lane score vectors.
  c.chunk = std::min<int64_t>(64, (c.len + kLanes - 1) / kLanes * kLanes);
  c.elementType = cast<RankedTensorType>(query.getType()).getElementType();
  return success();
}

FlashShape builderShape(const ChunkShape &c) {
  FlashShape s{};
  s.elementType = c.elementType;
  return s;
}

/// The fresh result buffers and the kernel, then the op's results.
template <typename OpT>
void emitAndReplace(PatternRewriter &rewriter, OpT op, const ChunkShape &c,
                    ChunkOperands &ops) {
  ImplicitLocOpBuilder b(op.getLoc(), rewriter);
  auto in = [&](Value v) { return v ? readOnlyBuffer(b, v) : Value(); };
  Value qIn = ops.q, kIn = ops.k, vIn = ops.v, gIn = ops.gate, bIn = ops.beta,
        sIn = ops.stateIn, zIn = ops.normIn, lIn = ops.lambda;
  ops.q = in(qIn);
  ops.k = in(kIn);
  ops.v = in(vIn);
  ops.gate = in(gIn);
  ops.beta = in(bIn);
  ops.stateIn = in(sIn);
  ops.normIn = in(zIn);
  ops.lambda = in(lIn);
  SmallVector<std::pair<Value, Type>> results;
  ops.out = freshBuffer(b, op->getResult(0).getType(), 64);
  results.push_back({ops.out, op->getResult(0).getType()});
  for (unsigned i = 1; i < op->getNumResults(); ++i) {
    Value buffer = freshBuffer(b, op->getResult(i).getType(), 64);
    results.push_back({buffer, op->getResult(i).getType()});
    (i == 1 ? ops.stateOut : ops.normOut) = buffer;
  }
  FlashShape fs = builderShape(c);
  ChunkwiseEmitter(b, fs, c).emit(ops);
  SmallVector<Value> tensors;
  for (auto [buffer, type] : results)
    tensors.push_back(resultTensor(b, buffer, type));
  rewriter.replaceOp(op, tensors);
}

/// attn.linear_attention (every decay) -> the kernel.
struct TileLinearAttentionForCpu : OpRewritePattern<LinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    ChunkShape c;
    if (failed(chunkShapeOf(rewriter, op, op.getQuery(), op.getValue(), c)))
      return failure();
    c.gate = gateOf(op.getDecay());
    c.scale = op.getScale().convertToDouble();
    c.normalize = op.getNormalize();
    c.eps = op.getEps().convertToDouble();
    ChunkOperands ops;
    ops.q = op.getQuery();
    ops.k = op.getKey();
    // Elementwise feature maps (identity, elu+1, relu) producing q or k are
    // applied as the kernel packs each chunk's rows: the mapped [B, H, L, D]
    // tensors are never written (the maps die once nothing else uses them).
    fuseFeatureMap(ops.q, ops.qMap);
    fuseFeatureMap(ops.k, ops.kMap);
    ops.v = op.getValue();
    ops.gate = op.getGate();
    ops.stateIn = op.getStateIn();
    ops.normIn = op.getNormIn();
    emitAndReplace(rewriter, op, c, ops);
    return success();
  }
};

/// attn.delta_rule (DeltaNet, Gated DeltaNet, KDA) -> the kernel.
struct TileDeltaRuleForCpu : OpRewritePattern<DeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DeltaRuleOp op,
                                PatternRewriter &rewriter) const override {
    ChunkShape c;
    if (failed(chunkShapeOf(rewriter, op, op.getQuery(), op.getValue(), c)))
      return failure();
    c.gate = gateOf(op.getKind());
    c.delta = true;
    c.l2norm = op.getL2norm();
    c.scale = op.getScale().convertToDouble();
    ChunkOperands ops;
    ops.q = op.getQuery();
    ops.k = op.getKey();
    ops.v = op.getValue();
    ops.gate = op.getGate();
    ops.beta = op.getBeta();
    ops.stateIn = op.getStateIn();
    emitAndReplace(rewriter, op, c, ops);
    return success();
  }
};

/// attn.log_linear (every base, not the streaming form) -> the kernel with
/// Fenwick levels.
struct TileLogLinearForCpu : OpRewritePattern<LogLinearOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LogLinearOp op,
                                PatternRewriter &rewriter) const override {
    if (op.isStreaming())
      return rewriter.notifyMatchFailure(op, "the streaming form takes the recurrence");
    ChunkShape c;
    if (failed(chunkShapeOf(rewriter, op, op.getQuery(), op.getValue(), c)))
      return failure();
    c.levels = true;
    c.gate = op.getBase() == LogLinearBase::linear ? Gate::None : Gate::PerToken;
    c.delta = op.getBase() == LogLinearBase::gated_deltanet;
    c.scale = op.getScale().convertToDouble();
    int64_t numChunks = (c.len + c.chunk - 1) / c.chunk;
    c.chunkLevels = numChunks > 1 ? llvm::Log2_64(numChunks - 1) + 1 : 0;
    ChunkOperands ops;
    ops.q = op.getQuery();
    ops.k = op.getKey();
    ops.v = op.getValue();
    ops.gate = op.getGate();
    ops.beta = op.getBeta();
    ops.lambda = op.getLambda();
    emitAndReplace(rewriter, op, c, ops);
    return success();
  }
};

} // namespace

void attn::populateCpuChunkwisePatterns(RewritePatternSet &patterns) {
  patterns.add<TileLinearAttentionForCpu, TileDeltaRuleForCpu, TileLogLinearForCpu>(
      patterns.getContext());
}
