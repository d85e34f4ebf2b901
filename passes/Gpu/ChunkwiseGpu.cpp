//===- ChunkwiseGpu.cpp - chunkwise linear / delta-rule kernels for CUDA ---===//
//
// attn.linear_attention (every decay: none, constant, scalar, per-channel
// vector as in GLA; the normaliser) and attn.delta_rule (DeltaNet, Gated
// DeltaNet, KDA; l2norm) become a kernel call (GpuKernels.h, kernel =
// "chunkwise") that attn-gpu-map expands into launches of the
// chunkwise-parallel form (the math of passes/Tile/ChunkwiseRecurrentCpu.cpp).
// With more than one chunk, a chunk-parallel launch (grid (NC, H, B)) first
// writes every chunk's scores to global scratch (see Mode below); then:
//
//   grid (ceil(Dv / 32), H, B), 256 threads. A block owns 32 columns of the
//   state S [D, Dv] and of the outputs: the columns are independent in both
//   recurrences (the delta rule's forward substitution mixes rows, never
//   columns), so blocks never talk. The block walks the sequence in chunks
//   of 64 tokens with its state slice in shared memory; per chunk it stages
//   q and k (l2-normalised, scaled) and its value columns as f32, reads (or,
//   with one chunk, computes) the masked, decayed scores Q K^T (and K K^T
//   for the delta rule), turns
//   values into the chunk's new values (delta rule: X = V - gamma K S, then
//   the forward substitution, one warp per 4 columns, 8 lanes a column),
//   writes O = gamma Q S + A X and updates S = gamma_last S + K^T (w X).
//
// Per-channel decays keep the cumulative log decays [D, 68] in shared
// memory; a score is then sum_f q_i[f] k_j[f] exp(G_i[f] - G_j[f]), one exp
// a term (it does not factor without overflow), and the other products
// scale their left operand by the decay as they load it.
//
// Products are f32 FMAs on the SIMT units (f16/bf16 operands without
// per-channel decays take the tensor cores of ChunkwiseMmaGpu.cpp); every
// thread computes a 2 x 4 (scores: 2 x 8; state: D/32 x 4) register block
// of each product, reading its right operand 4 adjacent columns at a time
// (16-byte shared loads). q rows are padded by one element in shared
// memory, k is kept transposed ([D, 68], so its columns are the score
// products' right operand), and the delta rule's L and the scores A share
// one buffer: about 110 KiB at D = 128, so two blocks fit a multiprocessor,
// and the kernel asks for two (attn-gpu-launch-bounds caps registers at 128).
//
//===----------------------------------------------------------------------===//

#include "Chunkwise.h"
#include "GpuKernelBuilder.h"
#include "GpuKernels.h"

#include "attn/Dialect/Attn/AttnDialect.h"
#include "../KernelBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"

#include <cmath>

using namespace mlir;
using namespace attn;

namespace {

constexpr int64_t kChunk = kChunkTokens;
constexpr int64_t kCols = 32;     // state / output columns a block
constexpr int64_t kThreads = 256; // 8 warps
constexpr int64_t kMaxD = 256;    // shared memory holds q and k chunks of D

using Gate = ChunkGate;

Value *roleSlot(ChunkGpuOperands &ops, StringRef role) {
  if (role == "q") return &ops.q;
  if (role == "k") return &ops.k;
  if (role == "v") return &ops.v;
  if (role == "gate") return &ops.gate;
  if (role == "beta") return &ops.beta;
  if (role == "state_in") return &ops.stateIn;
  if (role == "norm_in") return &ops.normIn;
  if (role == "out") return &ops.out;
  if (role == "state_out") return &ops.stateOut;
  if (role == "norm_out") return &ops.normOut;
  return nullptr;
}

/// Fused: one launch walks the chunks and computes everything. Split: a
/// chunk-parallel Prep launch (one block per chunk) writes each chunk's
/// masked, decayed scores A (and the delta rule's L) to global scratch
/// [B, H, NC, 64, 64], and the Seq launch walks the chunks reading them,
/// so that the score products (recomputed by every column block, and for
/// per-channel decays one exp a term) leave the sequential path.
/// Solve (the delta rule's first launch on tensor cores, ChunkwiseMmaGpu.cpp):
/// one block a chunk writes the l2-normalised, scaled q and the normalised k
/// and, with M = (I + diag(beta) L)^-1 diag(beta) from the forward
/// substitution on the identity, the UT transform's W = M (gamma K) and
/// U = M V, all in the operand type, rows padded to whole chunks
/// ([B, H, NC x 64, D or Dv]).
enum class Mode { Fused, Prep, Seq, Solve };

/// Solve's outputs.
struct SolveScratch {
  Value q, k, w, u;
};

class ChunkGpuEmitter : public GpuKernelBuilder {
public:
  ChunkGpuEmitter(ImplicitLocOpBuilder &b, const ChunkGpuShape &s, Mode mode,
                  Value aScratch = {}, Value lScratch = {}, SolveScratch solved = {})
      : GpuKernelBuilder(b), s(s), mode(mode), aScratch(aScratch), lScratch(lScratch),
        solved(solved) {}
  void emit(const ChunkGpuOperands &ops);

private:
  Value fsub(Value x, Value y) { return arith::SubFOp::create(b, x, y); }
  Value select(Value c, Value x, Value y) { return arith::SelectOp::create(b, c, x, y); }
  Value load(Value mem, ValueRange at) { return memref::LoadOp::create(b, mem, at); }
  void store(Value x, Value mem, ValueRange at) { memref::StoreOp::create(b, x, mem, at); }
  Value toF32(Value x) {
    return x.getType().isF32() ? x : arith::ExtFOp::create(b, b.getF32Type(), x).getResult();
  }
  /// body(e) for e = tid + 256 m < total: a loop over m unrolled 4 times,
  /// so that four global loads are in flight without the register cost of
  /// unrolling a whole chunk (8 or 16 made ptxas spill under the 128
  /// registers of two blocks an SM).
  void unrolled(int64_t total, llvm::function_ref<void(Value)> body) {
    constexpr int64_t kUnroll = 4;
    int64_t perThread = (total + kThreads - 1) / kThreads;
    int64_t steps = (perThread + kUnroll - 1) / kUnroll;
    bool exact = total % (kThreads * kUnroll) == 0;
    loop(idx(0), idx(steps), 1, [&](Value step) {
      for (int64_t u = 0; u < kUnroll; ++u) {
        Value e = add(tid, mul(add(mul(step, idx(kUnroll)), idx(u)), idx(kThreads)));
        if (exact)
          body(e);
        else
          when(lt(e, idx(total)), [&] { body(e); });
      }
    });
  }
  /// for (i = lb; i < ub; i += step) body(i).
  void loop(Value lb, Value ub, int64_t step, llvm::function_ref<void(Value)> body) {
    scf::ForOp::create(b, lb, ub, idx(step), ValueRange{},
                       [&](OpBuilder &nested, Location, Value iv, ValueRange) {
                         OpBuilder::InsertionGuard g(b);
                         b.setInsertionPoint(nested.getInsertionBlock(),
                                             nested.getInsertionPoint());
                         body(iv);
                         scf::YieldOp::create(b);
                       });
  }
  /// Each thread's register block of a product: rows tr + 32 r (r < nR)
  /// and columns colOf(c) (c < nC, a multiple of 4: groups of 4 adjacent
  /// columns, 32 apart), with tr = tid / 8 and tc = tid % 8;
  /// acc = init + sum_{k < depth} a(row, k) * bm(k, group column)[c % 4].
  /// bm loads 4 adjacent columns at once (one 16-byte shared load; the 8
  /// threads of a row cover 128 contiguous bytes). Rows past `rows` read a
  /// clamped index; callers skip storing them.
  SmallVector<Value> product(int64_t nR, int64_t nC, int64_t rows, Value depth,
                             ArrayRef<Value> init,
                             llvm::function_ref<Value(Value, Value)> a,
                             llvm::function_ref<Value(Value, Value)> bm);
  Value rowOf(int64_t r) { return add(tr, idx(32 * r)); }
  Value colOf(int64_t c) { return add(mul(tc, idx(4)), idx((c / 4) * 32 + c % 4)); }
  /// 4 adjacent f32 of a shared buffer (16-byte aligned).
  Value load4(Value mem, ValueRange at) {
    auto v = vector::LoadOp::create(b, VectorType::get({4}, b.getF32Type()), mem, at);
    v.setAlignment(16);
    return v;
  }

  const ChunkGpuShape &s;
  Mode mode;
  Value aScratch, lScratch;
  SolveScratch solved;
  Value tid, tr, tc;
};

} // namespace

SmallVector<Value> ChunkGpuEmitter::product(
    int64_t nR, int64_t nC, int64_t rows, Value depth, ArrayRef<Value> init,
    llvm::function_ref<Value(Value, Value)> a,
    llvm::function_ref<Value(Value, Value)> bm) {
  SmallVector<Value> rowIdx, groupIdx;
  for (int64_t r = 0; r < nR; ++r)
    rowIdx.push_back(minI(rowOf(r), idx(rows - 1)));
  for (int64_t c = 0; c < nC; c += 4)
    groupIdx.push_back(colOf(c));
  auto loopOp = scf::ForOp::create(
      b, idx(0), depth, idx(1), init,
      [&](OpBuilder &nested, Location, Value k, ValueRange acc) {
        OpBuilder::InsertionGuard g(b);
        b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
        SmallVector<Value> av, bv, next;
        for (int64_t r = 0; r < nR; ++r)
          av.push_back(a(rowIdx[r], k));
        for (Value group : groupIdx) {
          Value four = bm(k, group);
          for (int64_t e = 0; e < 4; ++e)
            bv.push_back(vector::ExtractOp::create(b, four, ArrayRef<int64_t>{e}));
        }
        for (int64_t r = 0; r < nR; ++r)
          for (int64_t c = 0; c < nC; ++c)
            next.push_back(fma(av[r], bv[c], acc[r * nC + c]));
        scf::YieldOp::create(b, next);
      });
  return SmallVector<Value>(loopOp.getResults());
}

void ChunkGpuEmitter::emit(const ChunkGpuOperands &ops) {
  MLIRContext *ctx = b.getContext();
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Type f32Type = b.getF32Type();
  int64_t D = s.d, pitch = D + 1;
  // Shared memory (f32): Qc [C, D + 1]; Kc^T [D, C + 4] (rows 16-byte
  // aligned for vector loads); S [D, 32]; X [C, 32]; A [C, C + 1] (the
  // delta rule's L first, then A); per-token G, W, beta, graw, den [C];
  // z [D]. Under 113 KiB for D = 128, so two blocks fit a multiprocessor.
  struct Piece {
    SmallVector<int64_t> shape;
    Value *view;
  };
  Value sQ, sKt, sS, sX, sA, sG, sW, sBeta, sRaw, sDen, sZ;
  // Solve is chunk-parallel like Prep.
  bool solve = mode == Mode::Solve;
  bool prep = mode == Mode::Prep || solve;
  SmallVector<Piece> pieces = {{{kChunk, pitch}, &sQ},
                               {{D, kChunk + 4}, &sKt},
                               {{kChunk, kChunk + 1}, &sA}, {{kChunk}, &sG},
                               {{kChunk}, &sRaw}};
  if (!prep) {
    pieces.append({{{D, kCols}, &sS}, {{kChunk, kCols}, &sX}, {{kChunk}, &sW},
                   {{kChunk}, &sDen}});
    if (s.delta)
      pieces.push_back({{kChunk}, &sBeta});
  }
  if (solve)
    pieces.append({{{kChunk, kCols}, &sX}, {{kChunk}, &sBeta}});
  // Per-channel decays: cumulative log decays, transposed like k.
  bool channel = s.gate == Gate::PerChannel;
  Value sGt;
  if (channel)
    pieces.push_back({{D, kChunk + 4}, &sGt});
  if (s.normalize && !prep)
    pieces.push_back({{D}, &sZ});
  int64_t bytes = 0;
  SmallVector<int64_t> offsets;
  for (Piece &p : pieces) {
    offsets.push_back(bytes);
    int64_t n = 1;
    for (int64_t e : p.shape)
      n *= e;
    bytes += (n * 4 + 15) / 16 * 16;
  }

  Value one = idx(1);
  int64_t colBlocks = (s.dv + kCols - 1) / kCols;
  int64_t numChunks = (s.len + kChunk - 1) / kChunk;
  auto launch = gpu::LaunchOp::create(
      b, idx(prep ? numChunks : colBlocks), idx(s.heads), idx(s.batch), idx(kThreads),
      one, one, arith::ConstantOp::create(b, b.getI32IntegerAttr(bytes)));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value raw = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), AffineMap(), workgroup));
  // Two blocks a multiprocessor when their shared memory fits (228 KiB an
  // H100 SM, 1 KiB of it reserved per block): registers are then capped at
  // 128 a thread, and one block's barriers overlap the other's work.
  if (2 * (bytes + 1024) <= 228 * 1024)
    raw.getDefiningOp()->setAttr(kMinBlocksPerSmAttr, b.getI64IntegerAttr(2));
  for (auto [p, off] : llvm::zip(pieces, offsets))
    *p.view = memref::ViewOp::create(
        b, MemRefType::get(p.shape, f32Type, AffineMap(), workgroup), raw, idx(off),
        ValueRange{});

  Value colBlock = launch.getBlockIds().x, h = launch.getBlockIds().y,
        bIdx = launch.getBlockIds().z;
  tid = launch.getThreadIds().x;
  tr = arith::DivUIOp::create(b, tid, idx(8));
  tc = arith::RemUIOp::create(b, tid, idx(8));
  Value warp = arith::DivUIOp::create(b, tid, idx(32));
  Value lane = arith::RemUIOp::create(b, tid, idx(32));
  Value v0 = prep ? idx(0) : mul(colBlock, idx(kCols));
  // Columns of this block: min(32, Dv - v0).
  Value cols = minI(idx(kCols), arith::SubIOp::create(b, idx(s.dv), v0));
  int64_t nRD = (D + 31) / 32; // row blocks of D-row products
  Value zero = f32(0.0);
  // One log decay per token (or head): the scalar-decay terms.
  bool gated = s.gate == Gate::PerHead || s.gate == Gate::PerToken;

  // The state slice from state_in (norm from norm_in), or zero.
  if (!prep)
  loop(tid, idx(D * kCols), kThreads, [&](Value e) {
    Value row = arith::DivUIOp::create(b, e, idx(kCols));
    Value col = arith::RemUIOp::create(b, e, idx(kCols));
    Value x = zero;
    if (ops.stateIn) {
      Value inside = lt(col, cols);
      Value c = minI(add(v0, col), idx(s.dv - 1));
      x = select(inside, load(ops.stateIn, {bIdx, h, row, c}), zero);
    }
    store(x, sS, {row, col});
  });
  if (s.normalize && !prep)
    loop(tid, idx(D), kThreads, [&](Value f) {
      store(ops.normIn ? load(ops.normIn, {bIdx, h, f}) : zero, sZ, {f});
    });

  // scratch[b, h, chunk] <-> sA, 64 x 64, coalesced.
  auto scoresToGlobal = [&](Value scratch, Value chunkIdx) {
    unrolled(kChunk * kChunk, [&](Value e) {
      Value i = arith::DivUIOp::create(b, e, idx(kChunk));
      Value j = arith::RemUIOp::create(b, e, idx(kChunk));
      store(load(sA, {i, j}), scratch, {bIdx, h, chunkIdx, i, j});
    });
  };
  auto scoresFromGlobal = [&](Value scratch, Value chunkIdx) {
    unrolled(kChunk * kChunk, [&](Value e) {
      Value i = arith::DivUIOp::create(b, e, idx(kChunk));
      Value j = arith::RemUIOp::create(b, e, idx(kChunk));
      store(load(scratch, {bIdx, h, chunkIdx, i, j}), sA, {i, j});
    });
  };

  // Prep: this block's chunk only.
  Value chunkBegin = prep ? colBlock : idx(0);
  Value chunkEnd = prep ? add(colBlock, one) : idx(numChunks);
  loop(chunkBegin, chunkEnd, 1, [&](Value chunkIdx) {
    Value t0 = mul(chunkIdx, idx(kChunk));
    Value n = minI(idx(kChunk), arith::SubIOp::create(b, idx(s.len), t0));
    Value last = arith::SubIOp::create(b, n, one);
    gpu::BarrierOp::create(b); // the previous chunk is done with every buffer

    // Per-token operands: raw log decays, beta (0 past n).
    when(lt(tid, idx(kChunk)), [&] {
      Value inside = lt(tid, n);
      Value t = add(t0, minI(tid, last));
      if (gated) {
        Value g = s.gate == Gate::PerHead ? load(ops.gate, {h})
                                          : load(ops.gate, {bIdx, h, t});
        store(select(inside, g, zero), sRaw, {tid});
      }
      if (s.delta && (!prep || solve))
        store(select(inside, load(ops.beta, {bIdx, h, t}), zero), sBeta, {tid});
    });
    // q, k rows (scaled unless l2norm scales them below) and this block's
    // value columns, f32, zero past n.
    // Unrolled, so that every load of the chunk is in flight at once.
    unrolled(kChunk * D, [&](Value e) {
      Value i = arith::DivUIOp::create(b, e, idx(D));
      Value d = arith::RemUIOp::create(b, e, idx(D));
      Value inside = lt(i, n);
      Value t = add(t0, minI(i, last));
      Value qv = toF32(load(ops.q, {bIdx, h, t, d}));
      if (!s.l2norm)
        qv = fmul(qv, f32(s.scale));
      store(select(inside, qv, zero), sQ, {i, d});
      store(select(inside, toF32(load(ops.k, {bIdx, h, t, d})), zero), sKt, {d, i});
      if (channel)
        store(select(inside, load(ops.gate, {bIdx, h, t, d}), zero), sGt, {d, i});
    });
    if (!prep)
    unrolled(kChunk * kCols, [&](Value e) {
      Value i = arith::DivUIOp::create(b, e, idx(kCols));
      Value col = arith::RemUIOp::create(b, e, idx(kCols));
      Value inside = arith::AndIOp::create(b, lt(i, n), lt(col, cols));
      Value t = add(t0, minI(i, last));
      Value c = minI(add(v0, col), idx(s.dv - 1));
      store(select(inside, toF32(load(ops.v, {bIdx, h, t, c})), zero), sX, {i, col});
    });
    gpu::BarrierOp::create(b);

    // G_i = sum_{l <= i} g_l; W_j = exp(G_last - G_j) (0 past n).
    if (gated) {
      when(lt(tid, idx(kChunk)), [&] {
        auto sum = scf::ForOp::create(
            b, idx(0), add(minI(tid, last), one), one, ValueRange{zero},
            [&](OpBuilder &nested, Location, Value l, ValueRange acc) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
              scf::YieldOp::create(b, ValueRange{fadd(acc[0], load(sRaw, {l}))});
            });
        store(sum.getResult(0), sG, {tid});
      });
    }
    if (channel) {
      // G[f, i] = sum_{l <= i} g_l[f]: a thread per channel (rows past n
      // add 0).
      loop(tid, idx(D), kThreads, [&](Value f) {
        scf::ForOp::create(b, one, idx(kChunk), one, ValueRange{load(sGt, {f, idx(0)})},
                           [&](OpBuilder &nested, Location, Value i, ValueRange acc) {
                             OpBuilder::InsertionGuard g(b);
                             b.setInsertionPoint(nested.getInsertionBlock(),
                                                 nested.getInsertionPoint());
                             Value sum = fadd(acc[0], load(sGt, {f, i}));
                             store(sum, sGt, {f, i});
                             scf::YieldOp::create(b, ValueRange{sum});
                           });
      });
    }
    if (s.l2norm) {
      // Warp w normalises rows w, w + 8, ... of q and k: lanes sum squares
      // of their elements, a butterfly gives every lane the total.
      for (Value buf : {sQ, sKt}) {
        bool isQ = buf == sQ;
        double factor = isQ ? s.scale : 1.0;
        // Element (row i, feature d): q row-major, k transposed.
        auto at = [&](Value i, Value d) {
          return isQ ? SmallVector<Value>{i, d} : SmallVector<Value>{d, i};
        };
        loop(warp, idx(kChunk), 8, [&](Value i) {
          Value sq = zero;
          for (int64_t d0 = 0; d0 < D; d0 += 32) {
            Value d = add(lane, idx(d0));
            Value x = load(buf, at(i, minI(d, idx(D - 1))));
            sq = select(lt(d, idx(D)), fma(x, x, sq), sq);
          }
          for (int offset : {1, 2, 4, 8, 16})
            sq = fadd(sq, gpu::ShuffleOp::create(b, sq, offset, 32, gpu::ShuffleMode::XOR)
                              .getShuffleResult());
          Value norm = math::SqrtOp::create(b, fadd(sq, f32(1e-6)));
          Value inv = fmul(arith::DivFOp::create(b, f32(1.0), norm), f32(factor));
          for (int64_t d0 = 0; d0 < D; d0 += 32) {
            Value d = add(lane, idx(d0));
            when(lt(d, idx(D)), [&] { store(fmul(load(buf, at(i, d)), inv), buf, at(i, d)); });
          }
        });
      }
    }
    gpu::BarrierOp::create(b);
    if (prep) {
      // W is the state update's.
    } else if (gated) {
      when(lt(tid, idx(kChunk)), [&] {
        Value w = exp(fsub(load(sG, {last}), load(sG, {tid})));
        store(select(lt(tid, n), w, zero), sW, {tid});
      });
    } else {
      when(lt(tid, idx(kChunk)), [&] { store(select(lt(tid, n), f32(1.0), zero), sW, {tid}); });
    }

    // A = tril(Q K^T) . Gamma; for the delta rule first L = strict
    // tril(K K^T) . Gamma in the same buffer. 2 rows x 8 columns a thread.
    auto scores = [&](bool ofQ, Value dst, bool strict) {
      SmallVector<Value> init(2 * 8, zero);
      auto lhs = [&](Value i, Value k) { return ofQ ? load(sQ, {i, k}) : load(sKt, {k, i}); };
      SmallVector<Value> acc;
      if (!channel) {
        acc = product(2, 8, kChunk, idx(D), init, lhs,
                      [&](Value k, Value j) { return load4(sKt, {k, j}); });
      } else {
        // sum_f lhs_i[f] k_j[f] exp(G[f, i] - G[f, j]): one exp a term
        // (the decay does not factor without overflow). Terms above the
        // diagonal may overflow; the mask below drops them.
        auto loopOp = scf::ForOp::create(
            b, idx(0), idx(D), one, init,
            [&](OpBuilder &nested, Location, Value f, ValueRange a0) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
              SmallVector<Value> next;
              SmallVector<Value> kv, gv;
              for (int64_t c = 0; c < 8; c += 4) {
                Value kf = load4(sKt, {f, colOf(c)}), gf = load4(sGt, {f, colOf(c)});
                for (int64_t e = 0; e < 4; ++e) {
                  kv.push_back(vector::ExtractOp::create(b, kf, ArrayRef<int64_t>{e}));
                  gv.push_back(vector::ExtractOp::create(b, gf, ArrayRef<int64_t>{e}));
                }
              }
              for (int64_t r = 0; r < 2; ++r) {
                Value x = lhs(rowOf(r), f), gi = load(sGt, {f, rowOf(r)});
                for (int64_t c = 0; c < 8; ++c)
                  next.push_back(fma(fmul(x, kv[c]), exp(fsub(gi, gv[c])), a0[r * 8 + c]));
              }
              scf::YieldOp::create(b, next);
            });
        acc = SmallVector<Value>(loopOp.getResults());
      }
      for (int64_t r = 0; r < 2; ++r)
        for (int64_t c = 0; c < 8; ++c) {
          Value i = rowOf(r), j = colOf(c);
          Value keep = arith::CmpIOp::create(
              b, strict ? arith::CmpIPredicate::ult : arith::CmpIPredicate::ule, j, i);
          Value x = acc[r * 8 + c];
          if (gated)
            x = fmul(x, exp(fsub(load(sG, {i}), load(sG, {j}))));
          store(select(keep, x, zero), dst, {i, j});
        }
    };
    // x_i = beta_i (x_i - sum_{j<i} L[i, j] x_j) on the columns of sX,
    // L in sA.
    auto forwardSubstitute = [&] {
      // Warp w takes columns 4w .. 4w + 3, 8 lanes a column; lane l keeps
      // x_j for j = l (mod 8) in registers (xr[j / 8]) and the 8 lanes
      // reduce each row's sum.
      Value col = add(mul(warp, idx(4)), arith::DivUIOp::create(b, lane, idx(8)));
      Value l8 = arith::RemUIOp::create(b, lane, idx(8));
      // Rows go in 8 blocks of 8 (a loop, so that LLVM does not hoist the
      // loads of all 64 rows): row i = 8 blk + s sums over all 8 registers
      // (L is 0 at and above the diagonal, xr is 0 until written).
      scf::ForOp::create(
          b, idx(0), idx(kChunk / 8), one, SmallVector<Value>(kChunk / 8, zero),
          [&](OpBuilder &nested, Location, Value blk, ValueRange xrIn) {
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
            SmallVector<Value> xr(xrIn);
            for (int64_t sub = 0; sub < 8; ++sub) {
              Value i = add(mul(blk, idx(8)), idx(sub));
              // Every lane reads row i before the shuffles (which all 8
              // lanes pass) and only then does lane 0 overwrite it.
              Value xi = load(sX, {i, col});
              Value partial = zero;
              for (int64_t m = 0; m < kChunk / 8; ++m)
                partial = fma(load(sA, {i, add(l8, idx(8 * m))}), xr[m], partial);
              for (int offset : {1, 2, 4})
                partial = fadd(partial, gpu::ShuffleOp::create(b, partial, offset, 32,
                                                               gpu::ShuffleMode::XOR)
                                            .getShuffleResult());
              Value x = fmul(load(sBeta, {i}), fsub(xi, partial));
              Value mine = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, l8, idx(sub));
              for (int64_t m = 0; m < kChunk / 8; ++m) {
                Value here = arith::AndIOp::create(
                    b, mine, arith::CmpIOp::create(b, arith::CmpIPredicate::eq, blk, idx(m)));
                xr[m] = select(here, x, xr[m]);
              }
              when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, l8, idx(0)),
                   [&] { store(x, sX, {i, col}); });
            }
            scf::YieldOp::create(b, xr);
          });
    };
    if (solve) {
      // L, then the normalised q and k out.
      scores(/*ofQ=*/false, sA, /*strict=*/true);
      Type t = cast<MemRefType>(solved.q.getType()).getElementType();
      auto narrow = [&](Value x) { return arith::TruncFOp::create(b, t, x).getResult(); };
      unrolled(kChunk * D, [&](Value e) {
        Value i = arith::DivUIOp::create(b, e, idx(D));
        Value d = arith::RemUIOp::create(b, e, idx(D));
        store(narrow(load(sQ, {i, d})), solved.q, {bIdx, h, add(t0, i), d});
        store(narrow(load(sKt, {d, i})), solved.k, {bIdx, h, add(t0, i), d});
      });
      gpu::BarrierOp::create(b);
      // M = (I + diag(beta) L)^-1 diag(beta): the forward substitution on
      // the identity, 32 columns a pass, kept transposed in sQ (free now:
      // M^T[j][i] = M[i][j]).
      loop(idx(0), idx(kChunk / kCols), 1, [&](Value pass) {
        unrolled(kChunk * kCols, [&](Value e) {
          Value i = arith::DivUIOp::create(b, e, idx(kCols));
          Value col = arith::RemUIOp::create(b, e, idx(kCols));
          Value diag = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, i,
                                             add(mul(pass, idx(kCols)), col));
          store(select(diag, f32(1.0), zero), sX, {i, col});
        });
        gpu::BarrierOp::create(b);
        forwardSubstitute();
        gpu::BarrierOp::create(b);
        unrolled(kChunk * kCols, [&](Value e) {
          Value i = arith::DivUIOp::create(b, e, idx(kCols));
          Value col = arith::RemUIOp::create(b, e, idx(kCols));
          store(load(sX, {i, col}), sQ, {add(mul(pass, idx(kCols)), col), i});
        });
        gpu::BarrierOp::create(b); // sX is refilled next pass
      });
      // W = M (gamma K) and U = M V, 32 columns a pass: the right-hand
      // side in sX, the product in registers (2 rows x 4 columns a thread).
      int64_t wPasses = D / kCols;
      loop(idx(0), idx(wPasses + s.dv / kCols), 1, [&](Value pass) {
        Value isW = lt(pass, idx(wPasses));
        Value c0W = mul(pass, idx(kCols));
        Value c0U = mul(arith::SubIOp::create(b, pass, idx(wPasses)), idx(kCols));
        unrolled(kChunk * kCols, [&](Value e) {
          Value i = arith::DivUIOp::create(b, e, idx(kCols));
          Value col = arith::RemUIOp::create(b, e, idx(kCols));
          auto rhs = scf::IfOp::create(b, TypeRange{b.getF32Type()}, isW, /*withElse=*/true);
          {
            OpBuilder::InsertionGuard g(b);
            b.setInsertionPointToStart(&rhs.getThenRegion().front());
            Value x = load(sKt, {add(c0W, col), i});
            if (gated)
              x = fmul(x, exp(load(sG, {i})));
            scf::YieldOp::create(b, x);
            b.setInsertionPointToStart(&rhs.getElseRegion().front());
            Value t = add(t0, minI(i, last));
            Value v = toF32(load(ops.v, {bIdx, h, t, minI(add(c0U, col), idx(s.dv - 1))}));
            scf::YieldOp::create(b, select(lt(i, n), v, zero));
          }
          store(rhs.getResult(0), sX, {i, col});
        });
        gpu::BarrierOp::create(b);
        SmallVector<Value> acc = product(
            2, 4, kChunk, idx(kChunk), SmallVector<Value>(8, zero),
            [&](Value i, Value k) { return load(sQ, {k, i}); },
            [&](Value k, Value c) { return load4(sX, {k, c}); });
        auto toW = scf::IfOp::create(b, isW, /*withElse=*/true);
        for (bool w : {true, false}) {
          OpBuilder::InsertionGuard g(b);
          b.setInsertionPoint((w ? toW.getThenRegion() : toW.getElseRegion()).front().getTerminator());
          for (int64_t r = 0; r < 2; ++r)
            for (int64_t c = 0; c < 4; ++c)
              store(narrow(acc[r * 4 + c]), w ? solved.w : solved.u,
                    {bIdx, h, add(t0, rowOf(r)), add(w ? c0W : c0U, colOf(c))});
        }
        gpu::BarrierOp::create(b); // sX is refilled next pass
      });
      return;
    }
    if (prep) {
      if (s.delta) {
        scores(/*ofQ=*/false, sA, /*strict=*/true);
        gpu::BarrierOp::create(b);
        scoresToGlobal(lScratch, chunkIdx);
        gpu::BarrierOp::create(b);
      }
      scores(/*ofQ=*/true, sA, /*strict=*/false);
      gpu::BarrierOp::create(b);
      scoresToGlobal(aScratch, chunkIdx);
      return;
    }
    bool seq = mode == Mode::Seq;
    if (s.delta) {
      if (seq)
        scoresFromGlobal(lScratch, chunkIdx);
      else
        scores(/*ofQ=*/false, sA, /*strict=*/true);
      // X = V - gamma . (K S), 2 rows x 4 columns a thread. A thread
      // rewrites only the elements it read.
      SmallVector<Value> acc = product(
          2, 4, kChunk, idx(D), SmallVector<Value>(8, zero),
          [&](Value i, Value k) {
            Value x = load(sKt, {k, i});
            return channel ? fmul(x, exp(load(sGt, {k, i}))) : x;
          },
          [&](Value k, Value c) { return load4(sS, {k, c}); });
      for (int64_t r = 0; r < 2; ++r)
        for (int64_t c = 0; c < 4; ++c) {
          Value i = rowOf(r), col = colOf(c);
          Value ks = acc[r * 4 + c];
          if (gated)
            ks = fmul(ks, exp(load(sG, {i})));
          store(fsub(load(sX, {i, col}), ks), sX, {i, col});
        }
      gpu::BarrierOp::create(b);
      forwardSubstitute();
      gpu::BarrierOp::create(b); // L is read no more: A takes its place
    }
    if (seq)
      scoresFromGlobal(aScratch, chunkIdx);
    else
      scores(/*ofQ=*/true, sA, /*strict=*/false);
    gpu::BarrierOp::create(b);

    // The normaliser: den_i = gamma_i (q_i . z) + sum_j A[i, j] + eps.
    if (s.normalize) {
      when(lt(tid, idx(kChunk)), [&] {
        Value qz = zero, rs = zero;
        auto dot = scf::ForOp::create(
            b, idx(0), idx(D), one, ValueRange{zero},
            [&](OpBuilder &nested, Location, Value f, ValueRange acc) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
              Value x = load(sQ, {tid, f});
              if (channel)
                x = fmul(x, exp(load(sGt, {f, tid})));
              scf::YieldOp::create(b, ValueRange{fma(x, load(sZ, {f}), acc[0])});
            });
        qz = dot.getResult(0);
        auto rowSum = scf::ForOp::create(
            b, idx(0), idx(kChunk), one, ValueRange{zero},
            [&](OpBuilder &nested, Location, Value j, ValueRange acc) {
              OpBuilder::InsertionGuard g(b);
              b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
              scf::YieldOp::create(b, ValueRange{fadd(acc[0], load(sA, {tid, j}))});
            });
        rs = rowSum.getResult(0);
        if (gated)
          qz = fmul(qz, exp(load(sG, {tid})));
        store(fadd(fadd(qz, rs), f32(s.eps)), sDen, {tid});
      });
      gpu::BarrierOp::create(b);
    }

    // O = gamma . (Q S) + A X, rows < n of this block's columns.
    {
      SmallVector<Value> qs = product(
          2, 4, kChunk, idx(D), SmallVector<Value>(8, zero),
          [&](Value i, Value k) {
            Value x = load(sQ, {i, k});
            return channel ? fmul(x, exp(load(sGt, {k, i}))) : x;
          },
          [&](Value k, Value c) { return load4(sS, {k, c}); });
      if (gated)
        for (int64_t r = 0; r < 2; ++r) {
          Value gamma = exp(load(sG, {rowOf(r)}));
          for (int64_t c = 0; c < 4; ++c)
            qs[r * 4 + c] = fmul(qs[r * 4 + c], gamma);
        }
      SmallVector<Value> o = product(
          2, 4, kChunk, n, qs,
          [&](Value i, Value k) { return load(sA, {i, k}); },
          [&](Value k, Value c) { return load4(sX, {k, c}); });
      Type outType = cast<MemRefType>(ops.out.getType()).getElementType();
      for (int64_t r = 0; r < 2; ++r)
        for (int64_t c = 0; c < 4; ++c) {
          Value i = rowOf(r), col = colOf(c);
          when(arith::AndIOp::create(b, lt(i, n), lt(col, cols)), [&] {
            Value x = o[r * 4 + c];
            if (s.normalize)
              x = arith::DivFOp::create(b, x, load(sDen, {i}));
            if (!outType.isF32())
              x = arith::TruncFOp::create(b, outType, x);
            store(x, ops.out, {bIdx, h, add(t0, i), add(v0, col)});
          });
        }
    }
    gpu::BarrierOp::create(b); // S, X and z are read no more this chunk

    // S = gamma_last S + K^T (w . X); z = gamma_last z + K^T w. Without a
    // decay w is 1 up to n, and X is 0 past n.
    Value gammaLast = gated ? exp(load(sG, {last})) : Value();
    if (gated) {
      unrolled(kChunk * kCols, [&](Value e) {
        Value j = arith::DivUIOp::create(b, e, idx(kCols));
        Value col = arith::RemUIOp::create(b, e, idx(kCols));
        store(fmul(load(sX, {j, col}), load(sW, {j})), sX, {j, col});
      });
      gpu::BarrierOp::create(b);
    }
    {
      SmallVector<Value> init;
      for (int64_t r = 0; r < nRD; ++r)
        for (int64_t c = 0; c < 4; ++c) {
          Value d = minI(rowOf(r), idx(D - 1));
          Value s0 = load(sS, {d, colOf(c)});
          if (channel)
            s0 = fmul(s0, exp(load(sGt, {d, last})));
          init.push_back(gammaLast ? fmul(s0, gammaLast) : s0);
        }
      SmallVector<Value> acc = product(
          nRD, 4, D, n, init,
          [&](Value d, Value j) {
            Value x = load(sKt, {d, j});
            return channel ? fmul(x, exp(fsub(load(sGt, {d, last}), load(sGt, {d, j})))) : x;
          },
          [&](Value j, Value c) { return load4(sX, {j, c}); });
      if (s.normalize) {
        // Thread f < D updates z[f] from column f of K (after its share of
        // the product above; z is read again only next chunk).
        when(lt(tid, idx(D)), [&] {
          auto kw = scf::ForOp::create(
              b, idx(0), n, one, ValueRange{zero},
              [&](OpBuilder &nested, Location, Value j, ValueRange a0) {
                OpBuilder::InsertionGuard g(b);
                b.setInsertionPoint(nested.getInsertionBlock(), nested.getInsertionPoint());
                Value w = channel ? exp(fsub(load(sGt, {tid, last}), load(sGt, {tid, j})))
                                  : load(sW, {j});
                scf::YieldOp::create(b, ValueRange{fma(load(sKt, {tid, j}), w, a0[0])});
              });
          Value z0 = load(sZ, {tid});
          if (gammaLast)
            z0 = fmul(z0, gammaLast);
          if (channel)
            z0 = fmul(z0, exp(load(sGt, {tid, last})));
          store(fadd(z0, kw.getResult(0)), sZ, {tid});
        });
      }
      for (int64_t r = 0; r < nRD; ++r)
        for (int64_t c = 0; c < 4; ++c)
          when(lt(rowOf(r), idx(D)),
               [&] { store(acc[r * 4 + c], sS, {rowOf(r), colOf(c)}); });
    }
  });

  gpu::BarrierOp::create(b);
  if (ops.stateOut && !prep)
    loop(tid, idx(D * kCols), kThreads, [&](Value e) {
      Value row = arith::DivUIOp::create(b, e, idx(kCols));
      Value col = arith::RemUIOp::create(b, e, idx(kCols));
      when(lt(col, cols), [&] {
        store(load(sS, {row, col}), ops.stateOut, {bIdx, h, row, add(v0, col)});
      });
    });
  if (ops.normOut && !prep)
    when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, colBlock, idx(0)), [&] {
      loop(tid, idx(D), kThreads,
           [&](Value f) { store(load(sZ, {f}), ops.normOut, {bIdx, h, f}); });
    });
  gpu::TerminatorOp::create(b);
}

//===----------------------------------------------------------------------===//
// The rewrites and the expansion
//===----------------------------------------------------------------------===//

namespace {

/// Whether the kernel takes these shapes.
LogicalResult fits(PatternRewriter &rewriter, Operation *op, Value q, Value v) {
  auto qType = cast<RankedTensorType>(q.getType());
  auto vType = cast<RankedTensorType>(v.getType());
  if (!qType.hasStaticShape() || !vType.hasStaticShape())
    return rewriter.notifyMatchFailure(op, "dynamic shapes take the generic path");
  if (qType.getNumElements() == 0 || vType.getNumElements() == 0)
    return rewriter.notifyMatchFailure(op, "empty tensors take the generic path");
  if (qType.getDimSize(3) > kMaxD)
    return rewriter.notifyMatchFailure(op, "D above 256 takes the generic path");
  return success();
}

/// Per-channel decays add their cumulative decays [D, 68] to shared memory:
/// about 928 D + 26 KiB bytes, within the 227 KiB a block can have up to
/// D = 208.
constexpr int64_t kMaxChannelD = 208;

struct LinearAttentionForGpu : OpRewritePattern<LinearAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(LinearAttentionOp op,
                                PatternRewriter &rewriter) const override {
    if (failed(fits(rewriter, op, op.getQuery(), op.getValue())))
      return failure();
    StringRef gate;
    switch (op.getDecay()) {
    case DecayKind::none: gate = "none"; break;
    case DecayKind::constant: gate = "head"; break;
    case DecayKind::scalar: gate = "token"; break;
    case DecayKind::vector: gate = "channel"; break;
    }
    if (gate == "channel" && op.getQuery().getType().getDimSize(3) > kMaxChannelD)
      return rewriter.notifyMatchFailure(
          op, "per-channel decays above D = 208 take the generic path");
    Builder b(op.getContext());
    SmallVector<NamedAttribute> params = {
        b.getNamedAttr("family", b.getStringAttr("linear")),
        b.getNamedAttr("gate", b.getStringAttr(gate)),
        b.getNamedAttr("scale", b.getF64FloatAttr(op.getScale().convertToDouble()))};
    if (op.getNormalize()) {
      params.push_back(b.getNamedAttr("normalize", b.getUnitAttr()));
      params.push_back(b.getNamedAttr("eps", b.getF64FloatAttr(op.getEps().convertToDouble())));
    }
    SmallVector<StringRef> results = {"out"};
    if (op.getStateOut())
      results.push_back("state_out");
    if (op.getNormOut())
      results.push_back("norm_out");
    return replaceByKernelCall(rewriter, op, "chunkwise",
                         {{"q", op.getQuery()}, {"k", op.getKey()}, {"v", op.getValue()},
                          {"gate", op.getGate()}, {"state_in", op.getStateIn()},
                          {"norm_in", op.getNormIn()}},
                         results, params);
  }
};

struct DeltaRuleForGpu : OpRewritePattern<DeltaRuleOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(DeltaRuleOp op, PatternRewriter &rewriter) const override {
    if (failed(fits(rewriter, op, op.getQuery(), op.getValue())))
      return failure();
    Builder b(op.getContext());
    StringRef gate = op.getKind() == DeltaKind::gated ? "token"
                     : op.getKind() == DeltaKind::kda ? "channel"
                                                       : "none";
    if (gate == "channel" && op.getQuery().getType().getDimSize(3) > kMaxChannelD)
      return rewriter.notifyMatchFailure(
          op, "per-channel decays above D = 208 take the generic path");
    SmallVector<NamedAttribute> params = {
        b.getNamedAttr("family", b.getStringAttr("delta")),
        b.getNamedAttr("gate", b.getStringAttr(gate)),
        b.getNamedAttr("scale", b.getF64FloatAttr(op.getScale().convertToDouble()))};
    if (op.getL2norm())
      params.push_back(b.getNamedAttr("l2norm", b.getUnitAttr()));
    SmallVector<StringRef> results = {"out"};
    if (op.getStateOut())
      results.push_back("state_out");
    return replaceByKernelCall(rewriter, op, "chunkwise",
                         {{"q", op.getQuery()}, {"k", op.getKey()}, {"v", op.getValue()},
                          {"gate", op.getGate()}, {"beta", op.getBeta()},
                          {"state_in", op.getStateIn()}},
                         results, params);
  }
};

} // namespace

void attn::populateGpuChunkwisePatterns(RewritePatternSet &patterns) {
  patterns.add<LinearAttentionForGpu, DeltaRuleForGpu>(patterns.getContext());
}

LogicalResult attn::expandChunkwiseCall(func::CallOp call) {
  auto fail = [&](const Twine &why) { return malformedKernelCall(call) << why; };
  auto params = call->getAttrOfType<DictionaryAttr>(kGpuKernelAttr);
  auto byRole = kernelOperandsByRole(
      call, {"q", "k", "v", "gate", "beta", "state_in", "norm_in", "out", "state_out",
             "norm_out"});
  if (failed(byRole))
    return failure();
  ChunkGpuOperands ops;
  for (auto &entry : *byRole)
    *roleSlot(ops, entry.getKey()) = entry.getValue();
  auto family = params.getAs<StringAttr>("family");
  auto gate = params.getAs<StringAttr>("gate");
  auto scale = params.getAs<FloatAttr>("scale");
  if (!family || (family.getValue() != "linear" && family.getValue() != "delta"))
    return fail("family must be \"linear\" or \"delta\"");
  if (!gate || (gate.getValue() != "none" && gate.getValue() != "head" &&
                gate.getValue() != "token" && gate.getValue() != "channel"))
    return fail("gate must be \"none\", \"head\", \"token\" or \"channel\"");
  if (!scale || !std::isfinite(scale.getValueAsDouble()))
    return fail("scale must be a finite float");
  if (!ops.q || !ops.k || !ops.v || !ops.out)
    return fail("q, k, v and out are required");
  ChunkGpuShape s;
  s.delta = family.getValue() == "delta";
  s.gate = gate.getValue() == "none"    ? Gate::None
           : gate.getValue() == "head"  ? Gate::PerHead
           : gate.getValue() == "token" ? Gate::PerToken
                                        : Gate::PerChannel;
  s.scale = scale.getValueAsDouble();
  s.normalize = static_cast<bool>(params.get("normalize"));
  s.l2norm = static_cast<bool>(params.get("l2norm"));
  if (auto eps = params.getAs<FloatAttr>("eps"))
    s.eps = eps.getValueAsDouble();
  auto qType = cast<MemRefType>(ops.q.getType());
  auto vType = cast<MemRefType>(ops.v.getType());
  if (qType.getRank() != 4 || vType.getRank() != 4 ||
      cast<MemRefType>(ops.k.getType()).getShape() != qType.getShape() ||
      cast<MemRefType>(ops.out.getType()).getShape() != vType.getShape() ||
      qType.getDimSize(3) > kMaxD)
    return fail("q/k must be [B, H, L, D] (D <= 256), v/out [B, H, L, Dv]");
  s.batch = qType.getDimSize(0);
  s.heads = qType.getDimSize(1);
  s.len = qType.getDimSize(2);
  s.d = qType.getDimSize(3);
  s.dv = vType.getDimSize(3);
  if ((s.gate != Gate::None) != static_cast<bool>(ops.gate) ||
      s.delta != static_cast<bool>(ops.beta) || (ops.normIn && !s.normalize) ||
      (ops.normOut && !s.normalize) || (s.delta && s.normalize))
    return fail("operands do not match the family, gate and normalize parameters");
  auto shapeIs = [](Value v, ArrayRef<int64_t> shape) {
    return !v || cast<MemRefType>(v.getType()).getShape() == shape;
  };
  SmallVector<int64_t> tokens = {s.batch, s.heads, s.len};
  SmallVector<int64_t> gateShape =
      s.gate == Gate::PerHead      ? SmallVector<int64_t>{s.heads}
      : s.gate == Gate::PerChannel ? SmallVector<int64_t>{s.batch, s.heads, s.len, s.d}
                                   : tokens;
  if (!shapeIs(ops.gate, gateShape) || !shapeIs(ops.beta, tokens) ||
      !shapeIs(ops.stateIn, {s.batch, s.heads, s.d, s.dv}) ||
      !shapeIs(ops.stateOut, {s.batch, s.heads, s.d, s.dv}) ||
      !shapeIs(ops.normIn, {s.batch, s.heads, s.d}) ||
      !shapeIs(ops.normOut, {s.batch, s.heads, s.d}))
    return fail("gate, beta, state or norm shapes do not match q and v");
  for (Value v : {ops.gate, ops.beta, ops.stateIn, ops.stateOut, ops.normIn, ops.normOut})
    if (v && !cast<MemRefType>(v.getType()).getElementType().isF32())
      return fail("gate, beta, state and norm must be f32");
  ImplicitLocOpBuilder b(call.getLoc(), call);
  int64_t numChunks = (s.len + kChunk - 1) / kChunk;
  if (chunkwiseMmaFits(s, ops)) {
    if (!s.delta) {
      emitChunkwiseMma(b, s, ops);
    } else {
      // The UT transform chunk-parallel first (SIMT), then the tensor-core
      // launches.
      Type t = cast<MemRefType>(ops.q.getType()).getElementType();
      auto alloc = [&](int64_t cols) -> Value {
        return gpu::AllocOp::create(
                   b, MemRefType::get({s.batch, s.heads, numChunks * kChunk, cols}, t),
                   /*asyncToken=*/Type(), ValueRange{}, ValueRange{}, ValueRange{},
                   /*hostShared=*/false)
            .getMemref();
      };
      ChunkDeltaInputs inputs{alloc(s.d), alloc(s.d), alloc(s.d), alloc(s.dv)};
      ChunkGpuEmitter(b, s, Mode::Solve, {}, {},
                      SolveScratch{inputs.q, inputs.k, inputs.w, inputs.u})
          .emit(ops);
      emitChunkwiseMma(b, s, ops, &inputs);
      for (Value buffer : {inputs.q, inputs.k, inputs.w, inputs.u})
        gpu::DeallocOp::create(b, /*asyncToken=*/Type(), ValueRange{}, buffer);
    }
  } else if (numChunks == 1) {
    // One chunk (decode steps, short prompts): nothing to take off a
    // sequential path, so no second launch.
    ChunkGpuEmitter(b, s, Mode::Fused).emit(ops);
  } else {
    auto alloc = [&]() -> Value {
      return gpu::AllocOp::create(
                 b, MemRefType::get({s.batch, s.heads, numChunks, kChunk, kChunk},
                                    b.getF32Type()),
                 /*asyncToken=*/Type(), ValueRange{}, ValueRange{}, ValueRange{},
                 /*hostShared=*/false)
          .getMemref();
    };
    Value aScratch = alloc();
    Value lScratch = s.delta ? alloc() : Value();
    ChunkGpuEmitter(b, s, Mode::Prep, aScratch, lScratch).emit(ops);
    ChunkGpuEmitter(b, s, Mode::Seq, aScratch, lScratch).emit(ops);
    for (Value scratch : {aScratch, lScratch})
      if (scratch)
        gpu::DeallocOp::create(b, /*asyncToken=*/Type(), ValueRange{}, scratch);
  }
  call.erase();
  return success();
}
