//===- ChunkwiseMmaGpu.cpp - chunkwise linear attention on tensor cores ----===//
//
// attn.linear_attention with f16/bf16 operands, no, constant or scalar
// decay and no normaliser, and attn.delta_rule (DeltaNet, Gated DeltaNet;
// Chunkwise.h says exactly when) run in two launches, so that only the
// state recurrence stays sequential (the delta rule's UT transform runs in
// a chunk-parallel launch before them, ChunkwiseGpu.cpp Mode::Solve):
//
//   States, grid (Dv / 32, H, B), 4 warps: a block owns 32 value columns of
//   the state S [D, Dv] in f32 registers (warp w rows w D / 4 ..), walks
//   the chunks of 64 tokens and, before each chunk's update, writes S
//   rounded to the operand type to scratch [B, H, NC, D, Dv]. The update
//   S = gamma_last S + K^T (w . V), w_j = exp(G_last - G_j), runs on
//   mma.sync m16n8k16: K^T's A fragments come from ldmatrix.trans of the
//   K rows (decayed and rounded in registers), V's B fragments from
//   ldmatrix.trans of the V rows. The next chunk's K and V are copied with
//   cp.async into a second slot (and its decays loaded) while this one
//   computes. The delta rule first turns U into the chunk's new values
//   V' = U - W S (W's rows as A fragments, the incoming state through
//   shared memory as B fragments), writes them to scratch and uses them
//   as V.
//
//   Outputs, grid (NC, H, B), 4 warps of 16 rows: one block a chunk copies
//   its Q, K, V and incoming state, and computes
//   O = scale (gamma . (Q S) + (tril(Q K^T) . Gamma) V) on mma.sync, with
//   Gamma[i, j] = exp(G_i - G_j): Q stays in A fragments for both Q S and
//   Q K^T, and the masked, decayed scores are rounded and reused in place
//   as the A fragments of the product with V (the flash kernel's trick).
//
// G is the chunk's inclusive cumulative log decay (a shuffle scan over two
// warps); tokens past the sequence end have zero q, k, v and decay, so
// G_last is G_63 in every chunk.
//
//===----------------------------------------------------------------------===//

#include "Chunkwise.h"
#include "GpuKernels.h"
#include "GpuMmaBuilder.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"

#include <cmath>

using namespace mlir;
using namespace attn;

namespace {

constexpr int64_t kChunk = kChunkTokens;
constexpr int64_t kThreads = 128;   // 4 warps
constexpr int64_t kPad = 8;         // elements: rows 16 bytes longer (ldmatrix banks)
constexpr int64_t kStateCols = 32;  // state columns a block of the state launch
static_assert(kChunk == 4 * 16, "the output launch's 4 warps own 16 rows each");

class ChunkMmaEmitter : public GpuMmaBuilder {
public:
  ChunkMmaEmitter(ImplicitLocOpBuilder &b, const ChunkGpuShape &s,
                  const ChunkGpuOperands &ops, const ChunkDeltaInputs *delta)
      : GpuMmaBuilder(b, cast<MemRefType>(ops.q.getType()).getElementType()), s(s),
        ops(ops), delta(delta), numChunks((s.len + kChunk - 1) / kChunk) {}

  /// The state launch; the delta rule's also writes V' to `newValues`.
  void emitStates(Value scratch, Value newValues);
  /// The output launch on q, k, v (scaled by `scale`) and the states.
  void emitOutputs(Value scratch, Value q, Value k, Value v, double scale);

private:
  bool gated() const { return s.gate != ChunkGate::None; }
  Value sub(Value x, Value y) { return arith::SubIOp::create(b, x, y); }

  /// A buffer of the dynamic shared memory: its shape and element type,
  /// and where its view goes.
  struct Shared {
    SmallVector<int64_t> shape;
    Type element;
    Value *view;
  };
  /// The launch (grid (gridX, H, B)) with `shared` laid out in its dynamic
  /// shared memory; b is left at the start of its body with the views, the
  /// block's ids and the lane roles set.
  void launch(int64_t gridX, ArrayRef<Shared> shared);
  /// cp.async copies (16 bytes each, L1 bypassed) of a rows x cols tile:
  /// element (r, col) from global[src(r, col)] to smem[dst(r, col)]; rows
  /// at or past `valid` (when given) are zero-filled, read from row
  /// valid - 1. One group.
  Value copyTile(Value global, function_ref<SmallVector<Value>(Value, Value)> src,
                 Value smem, function_ref<SmallVector<Value>(Value, Value)> dst,
                 int64_t rows, int64_t cols, Value valid);
  /// This chunk's log decay of token t0 + tid for tid < 64 (0 past n and
  /// for other threads); without a decay 0.
  Value tokenDecay(Value t0, Value n);
  /// Inclusive scan of `g` over lanes of warps 0 and 1 into sG[tid] (the
  /// second warp's sums lack the first warp's total: see cumDecay).
  void scanDecays(Value g, Value sG);
  /// G_j = sG[j] + (j >= 32 ? sG[31] : 0).
  Value cumDecay(Value sG, Value j) {
    Value firstHalf = memref::LoadOp::create(b, sG, ValueRange{idx(31)});
    Value hi = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, j, idx(32));
    Value x = memref::LoadOp::create(b, sG, ValueRange{j});
    return arith::AddFOp::create(b, x, arith::SelectOp::create(b, hi, firstHalf, f32(0.0)));
  }
  /// `frag` (C layout) with row half h scaled by rowScale[h].
  Value scaleRows(Value frag, ArrayRef<Value> rowScale) {
    Value m = zeroFrag(fragC());
    for (int64_t half = 0; half < 2; ++half)
      for (int64_t e = 0; e < 2; ++e)
        m = vector::InsertOp::create(b, rowScale[half], m, ArrayRef<int64_t>{half, e});
    return arith::MulFOp::create(b, frag, m);
  }
  /// Stores row half `half` of C fragment `frag` (2 adjacent columns) at
  /// mem[at], converted to `type`.
  void storePair(Value frag, int64_t half, Type type, Value mem, ValueRange at) {
    Type pairType = VectorType::get({2}, type);
    Value pair = zeroFrag(pairType);
    for (int64_t e = 0; e < 2; ++e) {
      Value x = vector::ExtractOp::create(b, frag, ArrayRef<int64_t>{half, e});
      if (!type.isF32())
        x = arith::TruncFOp::create(b, type, x);
      pair = vector::InsertOp::create(b, x, pair, ArrayRef<int64_t>{e});
    }
    auto st = vector::StoreOp::create(b, pair, mem, at);
    st.setAlignment(2 * type.getIntOrFloatBitWidth() / 8); // the pair's bytes
  }

  const ChunkGpuShape &s;
  const ChunkGpuOperands &ops;
  const ChunkDeltaInputs *delta;
  int64_t numChunks;
  Value bIdx, h, blockX, tid, warp, lane, g, c, lane16, laneHi, lane8, laneMid;
};

} // namespace

void ChunkMmaEmitter::launch(int64_t gridX, ArrayRef<Shared> shared) {
  SmallVector<int64_t> offsets;
  int64_t bytes = 0;
  for (const Shared &piece : shared) {
    offsets.push_back(bytes);
    int64_t n = piece.element.getIntOrFloatBitWidth() / 8;
    for (int64_t e : piece.shape)
      n *= e;
    bytes += (n + 15) / 16 * 16;
  }
  Value one = idx(1);
  auto l = gpu::LaunchOp::create(b, idx(gridX), idx(s.heads), idx(s.batch), idx(kThreads),
                                 one, one,
                                 arith::ConstantOp::create(b, b.getI32IntegerAttr(bytes)));
  b.setInsertionPointToStart(&l.getBody().front());
  auto workgroup = gpu::AddressSpaceAttr::get(b.getContext(), gpu::AddressSpace::Workgroup);
  Value raw = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), AffineMap(), workgroup));
  // As many blocks a multiprocessor as their shared memory allows (228 KiB
  // an H100 SM, 1 KiB of it reserved per block), up to 4: launch bounds then
  // cap the registers.
  int64_t blocks = std::min<int64_t>(4, 228 * 1024 / (bytes + 1024));
  if (blocks >= 2)
    raw.getDefiningOp()->setAttr(kMinBlocksPerSmAttr, b.getI64IntegerAttr(blocks));
  for (auto [piece, offset] : llvm::zip(shared, offsets))
    *piece.view = memref::ViewOp::create(
        b, MemRefType::get(piece.shape, piece.element, AffineMap(), workgroup), raw,
        idx(offset), ValueRange{});
  blockX = l.getBlockIds().x;
  h = l.getBlockIds().y;
  bIdx = l.getBlockIds().z;
  tid = l.getThreadIds().x;
  warp = divU(tid, 32);
  lane = remU(tid, 32);
  g = divU(lane, 4);
  c = remU(lane, 4);
  lane16 = remU(lane, 16);
  laneHi = divU(lane, 16);
  lane8 = remU(lane, 8);
  laneMid = remU(divU(lane, 8), 2);
}

Value ChunkMmaEmitter::copyTile(Value global,
                                function_ref<SmallVector<Value>(Value, Value)> src,
                                Value smem,
                                function_ref<SmallVector<Value>(Value, Value)> dst,
                                int64_t rows, int64_t cols, Value valid) {
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  int64_t perRow = cols / 8, chunks = rows * perRow;
  assert(chunks % kThreads == 0 && "tiles are whole rounds of 16-byte copies");
  SmallVector<Value> tokens;
  for (int64_t i = 0; i < chunks / kThreads; ++i) {
    Value id = add(tid, idx(i * kThreads));
    Value r = divU(id, perRow), col = mul(remU(id, perRow), idx(8));
    Value srcRow = r, elements;
    if (valid) {
      srcRow = minI(r, sub(valid, idx(1)));
      elements = arith::SelectOp::create(b, lt(r, valid), idx(8), idx(0));
    }
    tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
        b, tokenType, smem, dst(r, col), global, src(srcRow, col), b.getIndexAttr(8),
        elements, b.getUnitAttr()));
  }
  return nvgpu::DeviceAsyncCreateGroupOp::create(b, tokenType, tokens);
}

Value ChunkMmaEmitter::tokenDecay(Value t0, Value n) {
  if (!gated())
    return f32(0.0);
  Value inside = lt(tid, n);
  Value t = add(t0, minI(tid, sub(n, idx(1))));
  Value x = s.gate == ChunkGate::PerHead
                ? memref::LoadOp::create(b, ops.gate, ValueRange{h}).getResult()
                : memref::LoadOp::create(b, ops.gate, ValueRange{bIdx, h, t}).getResult();
  return arith::SelectOp::create(b, inside, x, f32(0.0));
}

void ChunkMmaEmitter::scanDecays(Value x, Value sG) {
  when(lt(tid, idx(kChunk)), [&] {
    Value sum = x;
    for (int64_t off : {1, 2, 4, 8, 16}) {
      Value up = gpu::ShuffleOp::create(b, sum, off, 32, gpu::ShuffleMode::UP)
                     .getShuffleResult();
      Value take = arith::CmpIOp::create(b, arith::CmpIPredicate::uge, lane, idx(off));
      sum = arith::AddFOp::create(b, sum, arith::SelectOp::create(b, take, up, f32(0.0)));
    }
    memref::StoreOp::create(b, sum, sG, ValueRange{tid});
  });
}

//===----------------------------------------------------------------------===//
// The state launch
//===----------------------------------------------------------------------===//

void ChunkMmaEmitter::emitStates(Value scratch, Value newValues) {
  OpBuilder::InsertionGuard guard(b);
  int64_t D = s.d, mTiles = D / 64, nTiles = kStateCols / 8;
  int64_t kPitch = D + kPad, vPitch = kStateCols + kPad;
  // K and V (the delta rule: U) in two slots; the delta rule adds W in two
  // slots, the incoming state [D, 32] and V' [64, 32] in the operand type.
  Value sK, sV, sG, sW, sS, sNew;
  Type f32Type = b.getF32Type();
  SmallVector<Shared> shared = {{{2, kChunk, kPitch}, t, &sK},
                                {{2, kChunk, vPitch}, t, &sV},
                                {{kChunk}, f32Type, &sG}};
  if (delta)
    shared.append({{{2, kChunk, kPitch}, t, &sW},
                   {{D, vPitch}, t, &sS},
                   {{kChunk, vPitch}, t, &sNew}});
  launch(s.dv / kStateCols, shared);
  Value kIn = delta ? delta->k : ops.k, vIn = delta ? delta->u : ops.v;
  Value v0 = mul(blockX, idx(kStateCols));
  Value rowBase = mul(warp, idx(D / 4));
  // Fragment (mt, nt): state rows rowBase + 16 mt + g (+ 8), columns
  // v0 + 8 nt + 2c, + 1.
  auto rowOf = [&](int64_t mt, int64_t half) {
    return add(rowBase, add(g, idx(16 * mt + 8 * half)));
  };
  auto colOf = [&](int64_t nt) { return add(v0, add(idx(8 * nt), mul(c, idx(2)))); };
  SmallVector<Value> acc;
  for (int64_t mt = 0; mt < mTiles; ++mt)
    for (int64_t nt = 0; nt < nTiles; ++nt) {
      Value frag = zeroFrag(fragC());
      if (ops.stateIn)
        for (int64_t half = 0; half < 2; ++half) {
          auto pairType = VectorType::get({2}, f32Type);
          auto ld = vector::LoadOp::create(b, pairType, ops.stateIn,
                                           ValueRange{bIdx, h, rowOf(mt, half), colOf(nt)});
          ld.setAlignment(8);
          for (int64_t e = 0; e < 2; ++e)
            frag = vector::InsertOp::create(
                b, vector::ExtractOp::create(b, ld, ArrayRef<int64_t>{e}), frag,
                ArrayRef<int64_t>{half, e});
        }
      acc.push_back(frag);
    }

  // Chunk `chunk`'s K and V columns into slot `slot`.
  auto issue = [&](Value chunk, Value slot) {
    Value t0 = mul(chunk, idx(kChunk));
    Value n = minI(idx(kChunk), sub(idx(s.len), t0));
    auto rows = [&](Value r, Value col) { return SmallVector<Value>{bIdx, h, add(t0, r), col}; };
    auto slotted = [&](Value r, Value col) { return SmallVector<Value>{slot, r, col}; };
    copyTile(kIn, rows, sK, slotted, kChunk, D, n);
    if (delta)
      copyTile(delta->w, rows, sW, slotted, kChunk, D, n);
    Value group = copyTile(
        vIn,
        [&](Value r, Value col) { return SmallVector<Value>{bIdx, h, add(t0, r), add(v0, col)}; },
        sV, [&](Value r, Value col) { return SmallVector<Value>{slot, r, col}; }, kChunk,
        kStateCols, n);
    return std::make_pair(group, tokenDecay(t0, n));
  };
  auto first = issue(idx(0), idx(0));
  Value pending = first.first;
  SmallVector<Value> init(acc);
  init.push_back(first.second);
  auto loop = scf::ForOp::create(
      b, idx(0), idx(numChunks), idx(1), init,
      [&](OpBuilder &nb, Location, Value chunk, ValueRange carried) {
        OpBuilder::InsertionGuard ig(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        SmallVector<Value> st(carried.drop_back());
        Value gCur = carried.back();
        Value slot = remU(chunk, 2);
        // The incoming state, rounded, for the output launch (and the
        // delta rule's W S).
        for (int64_t mt = 0; mt < mTiles; ++mt)
          for (int64_t nt = 0; nt < nTiles; ++nt)
            for (int64_t half = 0; half < 2; ++half) {
              storePair(st[mt * nTiles + nt], half, t, scratch,
                        ValueRange{bIdx, h, chunk, rowOf(mt, half), colOf(nt)});
              if (delta)
                storePair(st[mt * nTiles + nt], half, t, sS,
                          ValueRange{rowOf(mt, half), add(idx(8 * nt), mul(c, idx(2)))});
            }
        // The next chunk's copies and decays while this one computes.
        Value next = add(chunk, idx(1));
        auto prefetch = scf::IfOp::create(b, TypeRange{f32Type}, lt(next, idx(numChunks)),
                                          /*withElse=*/true);
        {
          OpBuilder::InsertionGuard pg(b);
          b.setInsertionPointToStart(&prefetch.getThenRegion().front());
          auto nextChunk = issue(next, sub(idx(1), slot));
          nvgpu::DeviceAsyncWaitOp::create(b, nextChunk.first, b.getI32IntegerAttr(1));
          scf::YieldOp::create(b, nextChunk.second);
          b.setInsertionPointToStart(&prefetch.getElseRegion().front());
          nvgpu::DeviceAsyncWaitOp::create(b, pending, b.getI32IntegerAttr(0));
          scf::YieldOp::create(b, f32(0.0));
        }
        if (gated())
          scanDecays(gCur, sG);
        gpu::BarrierOp::create(b); // this chunk's copies and decays landed

        // w for this lane's keys of 16-key step kk: 2c, 2c + 1, 2c + 8, 2c + 9.
        SmallVector<Value> w;
        if (gated()) {
          Value last = cumDecay(sG, idx(kChunk - 1));
          Value gammaLast = exp(last);
          for (Value &x : st)
            x = scaleRows(x, {gammaLast, gammaLast});
          for (int64_t kk = 0; kk < kChunk / 16; ++kk)
            for (int64_t k : {0, 1, 8, 9}) {
              Value j = add(idx(16 * kk + k), mul(c, idx(2)));
              w.push_back(exp(arith::SubFOp::create(b, last, cumDecay(sG, j))));
            }
        }
        if (delta) {
          // V' = U - W S: warp w's 16 rows of the chunk, this block's 32
          // columns; W as A fragments, S as ldmatrix.trans B fragments.
          Value wr = mul(warp, idx(16));
          SmallVector<Value> ws(nTiles, zeroFrag(fragC()));
          for (int64_t kk = 0; kk < D / 16; ++kk) {
            Value a = ldmatrix(sW, ValueRange{slot, add(wr, lane16),
                                              add(idx(16 * kk), mul(laneHi, idx(8)))},
                               4, false);
            for (int64_t nt = 0; nt < nTiles; nt += 2) {
              Value bf = ldmatrix(sS, ValueRange{add(idx(16 * kk), lane16),
                                                 add(idx(8 * nt), mul(laneHi, idx(8)))},
                                  4, /*transpose=*/true);
              ws[nt] = mma(a, bf, ws[nt], 0);
              ws[nt + 1] = mma(a, bf, ws[nt + 1], 2);
            }
          }
          Value t0 = mul(chunk, idx(kChunk));
          for (int64_t nt = 0; nt < nTiles; ++nt)
            for (int64_t half = 0; half < 2; ++half) {
              Value row = add(wr, add(g, idx(8 * half)));
              Value col = add(idx(8 * nt), mul(c, idx(2)));
              auto u = vector::LoadOp::create(b, VectorType::get({2}, t), sV,
                                              ValueRange{slot, row, col});
              Value frag = ws[nt];
              for (int64_t e = 0; e < 2; ++e) {
                Value ue = vector::ExtractOp::create(b, u, ArrayRef<int64_t>{e});
                Value x = arith::ExtFOp::create(b, f32Type, ue);
                x = arith::SubFOp::create(
                    b, x, vector::ExtractOp::create(b, frag, ArrayRef<int64_t>{half, e}));
                frag = vector::InsertOp::create(b, x, frag, ArrayRef<int64_t>{half, e});
              }
              storePair(frag, half, t, sNew, ValueRange{row, col});
              storePair(frag, half, t, newValues,
                        ValueRange{bIdx, h, add(t0, row), add(v0, col)});
            }
          gpu::BarrierOp::create(b); // V' complete; S is read no more
        }
        // S += K^T (w . V): A = K^T (rows: features, k: keys) from
        // ldmatrix.trans of the K rows; B from ldmatrix.trans of the V rows
        // (the delta rule's V').
        for (int64_t kk = 0; kk < kChunk / 16; ++kk) {
          SmallVector<Value> vb;
          for (int64_t nt = 0; nt < nTiles; nt += 2) {
            Value r = add(idx(16 * kk), lane16), col = add(idx(8 * nt), mul(laneHi, idx(8)));
            vb.push_back(delta ? ldmatrix(sNew, ValueRange{r, col}, 4, /*transpose=*/true)
                               : ldmatrix(sV, ValueRange{slot, r, col}, 4, /*transpose=*/true));
          }
          for (int64_t mt = 0; mt < mTiles; ++mt) {
            Value a = ldmatrix(sK,
                               ValueRange{slot,
                                          add(idx(16 * kk), add(lane8, mul(laneHi, idx(8)))),
                                          add(add(rowBase, idx(16 * mt)), mul(laneMid, idx(8)))},
                               4, /*transpose=*/true);
            if (gated())
              // Register r, element e holds key 2c + e + 8 (r / 2).
              for (int64_t r = 0; r < 4; ++r)
                for (int64_t e = 0; e < 2; ++e) {
                  Value x = vector::ExtractOp::create(b, a, ArrayRef<int64_t>{r, e});
                  x = arith::ExtFOp::create(b, b.getF32Type(), x);
                  x = arith::MulFOp::create(b, x, w[kk * 4 + (r / 2) * 2 + e]);
                  x = arith::TruncFOp::create(b, t, x);
                  a = vector::InsertOp::create(b, x, a, ArrayRef<int64_t>{r, e});
                }
            for (int64_t nt = 0; nt < nTiles; nt += 2) {
              Value &lo = st[mt * nTiles + nt], &hi = st[mt * nTiles + nt + 1];
              lo = mma(a, vb[nt / 2], lo, 0);
              hi = mma(a, vb[nt / 2], hi, 2);
            }
          }
        }
        gpu::BarrierOp::create(b); // this slot and sG may be overwritten next
        st.push_back(prefetch.getResult(0));
        scf::YieldOp::create(b, st);
      });
  if (ops.stateOut)
    for (int64_t mt = 0; mt < mTiles; ++mt)
      for (int64_t nt = 0; nt < nTiles; ++nt)
        for (int64_t half = 0; half < 2; ++half)
          storePair(loop.getResult(mt * nTiles + nt), half, f32Type, ops.stateOut,
                    ValueRange{bIdx, h, rowOf(mt, half), colOf(nt)});
  gpu::TerminatorOp::create(b);
}

//===----------------------------------------------------------------------===//
// The output launch
//===----------------------------------------------------------------------===//

void ChunkMmaEmitter::emitOutputs(Value scratch, Value qIn, Value kIn, Value vIn,
                                  double scale) {
  OpBuilder::InsertionGuard guard(b);
  int64_t D = s.d, Dv = s.dv, kSteps = D / 16, oTiles = Dv / 8, sTiles = kChunk / 8;
  Value sQ, sK, sV, sS, sG;
  launch(numChunks, {{{kChunk, D + kPad}, t, &sQ},
                     {{kChunk, D + kPad}, t, &sK},
                     {{kChunk, Dv + kPad}, t, &sV},
                     {{D, Dv + kPad}, t, &sS},
                     {{kChunk}, b.getF32Type(), &sG}});
  Value chunk = blockX;
  Value t0 = mul(chunk, idx(kChunk));
  Value n = minI(idx(kChunk), sub(idx(s.len), t0));
  auto rowsAt = [&](Value r, Value col) { return SmallVector<Value>{bIdx, h, add(t0, r), col}; };
  auto local = [&](Value r, Value col) { return SmallVector<Value>{r, col}; };
  copyTile(qIn, rowsAt, sQ, local, kChunk, D, n);
  copyTile(kIn, rowsAt, sK, local, kChunk, D, n);
  copyTile(vIn, rowsAt, sV, local, kChunk, Dv, n);
  Value group = copyTile(
      scratch, [&](Value r, Value col) { return SmallVector<Value>{bIdx, h, chunk, r, col}; },
      sS, local, D, Dv, Value());
  if (gated())
    scanDecays(tokenDecay(t0, n), sG);
  nvgpu::DeviceAsyncWaitOp::create(b, group, b.getI32IntegerAttr(0));
  gpu::BarrierOp::create(b);

  Value warpRow = mul(warp, idx(16));
  SmallVector<Value> qa;
  for (int64_t kk = 0; kk < kSteps; ++kk)
    qa.push_back(ldmatrix(sQ, ValueRange{add(warpRow, lane16),
                                         add(idx(16 * kk), mul(laneHi, idx(8)))},
                          4, false));
  // O = Q S, rows scaled by scale . gamma_i.
  SmallVector<Value> o(oTiles, zeroFrag(fragC()));
  for (int64_t u = 0; u < oTiles; u += 2)
    for (int64_t kk = 0; kk < kSteps; ++kk) {
      Value bf = ldmatrix(sS, ValueRange{add(idx(16 * kk), lane16),
                                         add(idx(8 * u), mul(laneHi, idx(8)))},
                          4, /*transpose=*/true);
      o[u] = mma(qa[kk], bf, o[u], 0);
      o[u + 1] = mma(qa[kk], bf, o[u + 1], 2);
    }
  Value rows[2] = {add(warpRow, g), add(warpRow, add(g, idx(8)))};
  Value gRow[2];
  SmallVector<Value> rowScale;
  for (int64_t half = 0; half < 2; ++half) {
    Value x = f32(scale);
    if (gated()) {
      gRow[half] = cumDecay(sG, rows[half]);
      x = arith::MulFOp::create(b, x, exp(gRow[half]));
    }
    rowScale.push_back(x);
  }
  for (Value &frag : o)
    frag = scaleRows(frag, rowScale);

  // Scores Q K^T for 8 tiles of 8 keys (one ldmatrix.x4 holds the B
  // fragments of two), then masked to j <= i and decayed.
  SmallVector<Value> sc(sTiles, zeroFrag(fragC()));
  for (int64_t j = 0; j < sTiles; j += 2)
    for (int64_t kk = 0; kk < kSteps; ++kk) {
      Value bf = ldmatrix(sK, ValueRange{add(idx(8 * j), add(mul(laneHi, idx(8)), lane8)),
                                         add(idx(16 * kk), mul(laneMid, idx(8)))},
                          4, false);
      sc[j] = mma(qa[kk], bf, sc[j], 0);
      sc[j + 1] = mma(qa[kk], bf, sc[j + 1], 2);
    }
  SmallVector<Value> gKey;
  if (gated())
    for (int64_t j = 0; j < sTiles; ++j)
      for (int64_t e = 0; e < 2; ++e)
        gKey.push_back(cumDecay(sG, add(idx(8 * j + e), mul(c, idx(2)))));
  // P as A fragments: 16-key step st takes tiles 2 st and 2 st + 1.
  SmallVector<Value> pa(kChunk / 16, zeroFrag(fragA()));
  for (int64_t j = 0; j < sTiles; ++j)
    for (int64_t half = 0; half < 2; ++half)
      for (int64_t e = 0; e < 2; ++e) {
        Value key = add(idx(8 * j + e), mul(c, idx(2)));
        Value x = vector::ExtractOp::create(b, sc[j], ArrayRef<int64_t>{half, e});
        Value factor = f32(scale);
        if (gated())
          factor = arith::MulFOp::create(
              b, factor, exp(arith::SubFOp::create(b, gRow[half], gKey[j * 2 + e])));
        x = arith::MulFOp::create(b, x, factor);
        Value keep = arith::CmpIOp::create(b, arith::CmpIPredicate::ule, key, rows[half]);
        x = arith::SelectOp::create(b, keep, x, f32(0.0));
        x = arith::TruncFOp::create(b, t, x);
        int64_t reg = (j % 2) * 2 + half;
        pa[j / 2] = vector::InsertOp::create(b, x, pa[j / 2], ArrayRef<int64_t>{reg, e});
      }
  // O += P V.
  for (int64_t u = 0; u < oTiles; u += 2)
    for (int64_t st = 0; st < kChunk / 16; ++st) {
      Value bf = ldmatrix(sV, ValueRange{add(idx(16 * st), lane16),
                                         add(idx(8 * u), mul(laneHi, idx(8)))},
                          4, /*transpose=*/true);
      o[u] = mma(pa[st], bf, o[u], 0);
      o[u + 1] = mma(pa[st], bf, o[u + 1], 2);
    }
  Type outType = cast<MemRefType>(ops.out.getType()).getElementType();
  for (int64_t half = 0; half < 2; ++half)
    when(lt(rows[half], n), [&] {
      for (int64_t u = 0; u < oTiles; ++u)
        storePair(o[u], half, outType, ops.out,
                  ValueRange{bIdx, h, add(t0, rows[half]),
                             add(idx(8 * u), mul(c, idx(2)))});
    });
  gpu::TerminatorOp::create(b);
}

bool attn::chunkwiseMmaFits(const ChunkGpuShape &s, const ChunkGpuOperands &ops) {
  Type t = cast<MemRefType>(ops.q.getType()).getElementType();
  if (!t.isBF16() && !t.isF16())
    return false;
  for (Value v : {ops.k, ops.v, ops.out})
    if (cast<MemRefType>(v.getType()).getElementType() != t)
      return false;
  if (s.normalize || s.gate == ChunkGate::PerChannel)
    return false;
  if ((s.d != 64 && s.d != 128) || s.dv % kStateCols != 0 || s.dv > 128)
    return false;
  if (s.len <= kChunk)
    return false;
  return !(ops.stateOut && (s.delta || s.gate != ChunkGate::None));
}

void attn::emitChunkwiseMma(ImplicitLocOpBuilder &b, const ChunkGpuShape &s,
                            const ChunkGpuOperands &ops, const ChunkDeltaInputs *delta) {
  int64_t numChunks = (s.len + kChunk - 1) / kChunk;
  Type t = cast<MemRefType>(ops.q.getType()).getElementType();
  auto alloc = [&](ArrayRef<int64_t> shape) -> Value {
    return gpu::AllocOp::create(b, MemRefType::get(shape, t), /*asyncToken=*/Type(),
                                ValueRange{}, ValueRange{}, ValueRange{},
                                /*hostShared=*/false)
        .getMemref();
  };
  Value scratch = alloc({s.batch, s.heads, numChunks, s.d, s.dv});
  Value newValues = delta ? alloc({s.batch, s.heads, numChunks * kChunk, s.dv}) : Value();
  ChunkMmaEmitter(b, s, ops, delta).emitStates(scratch, newValues);
  if (delta) // q arrives scaled
    ChunkMmaEmitter(b, s, ops, delta).emitOutputs(scratch, delta->q, delta->k, newValues, 1.0);
  else
    ChunkMmaEmitter(b, s, ops, delta).emitOutputs(scratch, ops.q, ops.k, ops.v, s.scale);
  for (Value buffer : {scratch, newValues})
    if (buffer)
      gpu::DeallocOp::create(b, /*asyncToken=*/Type(), ValueRange{}, buffer);
}
