//===- PqDecodeGpu.cpp - decode over PQ key caches for CUDA ---------------===//
//
// attn.pq_attention with a decode shape (the G x Lq query rows of a kv head
// number at most 64) becomes a kernel call (GpuKernels.h, kernel =
// "pq_decode") that attn-gpu-map expands into a split-KV kernel scoring the
// codes in place by lookup tables (LOOKAT's asymmetric distances):
//
//   grid (splits, Hkv x row blocks, B), 256 threads (8 warps). A block first
//   builds the tables of its R query rows in shared memory,
//   T[s, c, r] = <q_r,s, centroid[s, c]> scale log2(e) (m x Kc x R floats,
//   one vector of the R rows an entry), then its warps walk the split's
//   keys 32 at a time, one key a lane: the lane loads its key's m codes (one
//   16-byte load a 16 codes of 8 bits) and sums one table vector a
//   sub-space, which scores the key for all R rows at once; a warp-wide
//   maximum, the online softmax in the log2 domain, and the 32 keys'
//   probabilities go through shared memory to o += p v. There a value row
//   belongs to a lane group of L lanes (L = 32 when 32 divides Dv), lane j
//   of it owning channels [j Dv/L, (j + 1) Dv/L); the 32 / L lane groups of
//   a warp take the tile's keys in turn (the value rows are loaded before
//   the scoring, so their latency hides behind it). No barrier in the loop:
//   a warp syncs with itself around its probabilities. At the end the lane
//   groups' (m, l, o) meet in shared memory (emitPartialsCombine) and
//   split-KV partials are merged by the flash kernel's merge launch.
//
// A table costs D x Kc FMAs a row, the same as scoring Kc keys directly,
// so the splits are few: chooseSplits trades waves of blocks against the
// table each block builds. Keys past a row's count are never read: loads
// are clamped to its last key (a cache's memory past its length may hold
// anything), their scores are -inf.
//
//===----------------------------------------------------------------------===//

#include "GpuKernelBuilder.h"
#include "GpuKernels.h"

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"

#include "llvm/ADT/bit.h"
#include "llvm/Support/MathExtras.h"

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace attn;

namespace {

constexpr int64_t kThreads = 256;
constexpr int64_t kWarps = kThreads / 32;
constexpr int64_t kTileKeys = 32;             // a warp's keys a step: one a lane
constexpr int64_t kMaxRows = 64;              // G x Lq of a decode shape
constexpr int64_t kTableBytes = 160 * 1024;   // the lookup tables of a block
constexpr int64_t kSharedPerSm = 227 * 1024;  // an H100's shared memory a block
constexpr int64_t kRowRegisters = 32;         // rows a block x value channels a lane
constexpr int64_t kMultiprocessors = 132;     // an H100 SXM

struct PqDecodeShape {
  int64_t batch = 0, heads = 0, kvHeads = 0, lq = 0, lk = 0, d = 0, dv = 0;
  int64_t m = 1, kc = 256;
  bool causal = false;
  double scale = 1.0;
  // The layout (see chooseLayout): R rows a block, padded to Rp for the
  // table vectors; L lanes a value row, Dv / L value channels a lane.
  int64_t rowsPerBlock = 1, rowsPadded = 1, rowBlocks = 1, lanes = 32, vc = 1, splits = 1;

  int64_t rows() const { return heads / kvHeads * lq; }
  int64_t subDim() const { return d / m; }
  int64_t codeBits() const { return kc == 256 ? 8 : 4; }
  int64_t codeBytes() const { return m * codeBits() / 8; }
  int64_t keyTiles() const { return (lk + kTileKeys - 1) / kTileKeys; }
  int64_t laneGroups() const { return 32 / lanes; }
  int64_t parts() const { return kWarps * laneGroups(); }
  // Shared memory, in floats: the tables, each warp's probabilities
  // [32][Rp], then each lane group's m, l [R] and o [R][Dv].
  int64_t tableFloats() const { return m * kc * rowsPadded; }
  int64_t pAt() const { return tableFloats(); }
  int64_t mAt() const { return pAt() + kWarps * kTileKeys * rowsPadded; }
  int64_t lAt() const { return mAt() + parts() * rowsPerBlock; }
  int64_t oAt() const { return lAt() + parts() * rowsPerBlock; }
  int64_t sharedFloats() const { return oAt() + parts() * rowsPerBlock * dv; }
};

/// How many splits cut the key tiles: the fewest block waves times the
/// tile rounds of a block's warps plus the rounds its table costs.
int64_t chooseSplits(const PqDecodeShape &s) {
  constexpr int64_t tableRounds = 2;
  int64_t blocksPerSm =
      std::clamp<int64_t>(kSharedPerSm / (s.sharedFloats() * 4), 1, 4);
  int64_t slots = kMultiprocessors * blocksPerSm;
  int64_t blocksPerSplit = s.batch * s.kvHeads * s.rowBlocks;
  int64_t tiles = s.keyTiles(), best = 1, bestCost = std::numeric_limits<int64_t>::max();
  for (int64_t want = 1; want <= std::min<int64_t>(tiles, 1024); ++want) {
    int64_t per = (tiles + want - 1) / want, splits = (tiles + per - 1) / per;
    int64_t waves = (blocksPerSplit * splits + slots - 1) / slots;
    int64_t cost = waves * ((per + kWarps - 1) / kWarps + tableRounds);
    if (cost < bestCost) {
      bestCost = cost;
      best = splits;
    }
  }
  return best;
}

/// Rows a block (as many as the table and the registers allow), value
/// channels a lane and splits; fails for shapes the kernel does not take.
LogicalResult chooseLayout(PqDecodeShape &s, std::string &why) {
  if (s.rows() > kMaxRows) {
    why = "more than 64 query rows a kv head (prefill) take the generic path";
    return failure();
  }
  // The most lanes a value row (a power of two dividing Dv) that leave a
  // lane at least 4 channels (a wide load), else one lane.
  s.lanes = 32;
  while (s.lanes > 1 && (s.dv % s.lanes || s.dv / s.lanes < 4))
    s.lanes /= 2;
  s.vc = s.dv / s.lanes;
  if (s.vc > 8) {
    why = "Dv needs more than 8 value channels a lane (a power of two up to 32 lanes "
          "must split it)";
    return failure();
  }
  s.rowsPadded = std::min<int64_t>(llvm::PowerOf2Ceil(s.rows()),
                                   llvm::bit_floor(uint64_t(kRowRegisters / s.vc)));
  while (s.rowsPadded > 1 && s.m * s.kc * s.rowsPadded * 4 > kTableBytes)
    s.rowsPadded /= 2;
  if (s.m * s.kc * s.rowsPadded * 4 > kTableBytes) {
    why = "the lookup table of a query row (m x Kc floats) does not fit shared memory";
    return failure();
  }
  s.rowsPerBlock = std::min(s.rows(), s.rowsPadded);
  s.rowBlocks = (s.rows() + s.rowsPerBlock - 1) / s.rowsPerBlock;
  s.splits = chooseSplits(s);
  return success();
}

struct PqDecodeOperands {
  Value q, codes, codebooks, value, kvLens, out, lse;
};

class PqDecodeEmitter : GpuKernelBuilder {
public:
  PqDecodeEmitter(ImplicitLocOpBuilder &b, const PqDecodeShape &s)
      : GpuKernelBuilder(b), s(s) {}

  /// The kernel launch; with more than one split it writes oPart
  /// [S, B, Hq, Lq, Dv] and lsePart [S, B, Hq, Lq] and the merge launch
  /// follows.
  void emit(const PqDecodeOperands &ops, Value oPart, Value lsePart);

private:

  Value load(Value m, ValueRange indices, int64_t n) { return loadVector(b, m, indices, n); }
  SmallVector<Value> scalars(Value vec) { return scalarsF32(b, vec); }
  /// Rp floats of shared memory at float `offset` (a multiple of Rp).
  Value loadRows(Value sm, Value offset) {
    auto op = vector::LoadOp::create(
        b, VectorType::get({s.rowsPadded}, b.getF32Type()), sm, ValueRange{offset});
    op.setAlignment(std::min<int64_t>(16, s.rowsPadded * 4));
    return op;
  }
  /// Stores `rows` (R values, padded with zeros to Rp) at float `offset`.
  void storeRows(ArrayRef<Value> rows, Value sm, Value offset) {
    SmallVector<Value> padded(rows.begin(), rows.end());
    padded.resize(s.rowsPadded, f32(0.0));
    Value vec = vector::FromElementsOp::create(
        b, VectorType::get({s.rowsPadded}, b.getF32Type()), padded);
    auto op = vector::StoreOp::create(b, vec, sm, ValueRange{offset});
    op.setAlignment(std::min<int64_t>(16, s.rowsPadded * 4));
  }
  /// x reduced over the warp by xor shuffles.
  Value warpReduce(Value x, bool isMax) {
    for (int64_t offset = 16; offset >= 1; offset /= 2) {
      Value other =
          gpu::ShuffleOp::create(b, x, offset, 32, gpu::ShuffleMode::XOR).getShuffleResult();
      x = isMax ? fmax(x, other) : fadd(x, other);
    }
    return x;
  }
  void syncWarp() {
    LLVM::CallIntrinsicOp::create(b, b.getStringAttr("llvm.nvvm.bar.warp.sync"),
                                  ValueRange{i32(-1)});
  }
  /// The codes of key row `src` as i32 words and the bytes each holds.
  std::pair<SmallVector<Value>, int64_t> loadCodes(Value codes, ValueRange row);
  /// The table index (sub-space s, its code) of a key's codes, as an index.
  Value codeOf(ArrayRef<Value> words, int64_t wordBytes, int64_t sub);

  const PqDecodeShape &s;
};

std::pair<SmallVector<Value>, int64_t> PqDecodeEmitter::loadCodes(Value codes,
                                                                   ValueRange row) {
  const int64_t bytes = s.codeBytes();
  SmallVector<Value> indices(row.begin(), row.end());
  indices.push_back(Value());
  SmallVector<Value> words;
  Type i32Type = b.getI32Type();
  if (bytes % 4 == 0) {
    int64_t chunk = 16;
    while (bytes % chunk)
      chunk /= 2;
    for (int64_t at = 0; at < bytes; at += chunk) {
      indices.back() = idx(at);
      Value part = load(codes, indices, chunk);
      Value asWords = vector::BitCastOp::create(b, VectorType::get({chunk / 4}, i32Type), part);
      for (int64_t w = 0; w < chunk / 4; ++w)
        words.push_back(vector::ExtractOp::create(b, asWords, ArrayRef<int64_t>{w}));
    }
    return {words, 4};
  }
  // Rows of an odd byte count: byte by byte.
  for (int64_t at = 0; at < bytes; ++at) {
    indices.back() = idx(at);
    words.push_back(
        arith::ExtUIOp::create(b, i32Type, memref::LoadOp::create(b, codes, indices)));
  }
  return {words, 1};
}

Value PqDecodeEmitter::codeOf(ArrayRef<Value> words, int64_t wordBytes, int64_t sub) {
  const int64_t bits = s.codeBits(), wordBits = wordBytes * 8;
  int64_t bit = sub * bits;
  Value field = words[bit / wordBits];
  int64_t shift = bit % wordBits;
  if (shift)
    field = arith::ShRUIOp::create(b, field, i32(shift));
  if (shift + bits < wordBits)
    field = arith::AndIOp::create(b, field, i32((1 << bits) - 1));
  return arith::IndexCastUIOp::create(b, b.getIndexType(), field);
}

void PqDecodeEmitter::emit(const PqDecodeOperands &ops, Value oPart, Value lsePart) {
  MLIRContext *ctx = b.getContext();
  const int64_t group = s.heads / s.kvHeads, rows = s.rows();
  const int64_t rb = s.rowsPerBlock, rp = s.rowsPadded, vc = s.vc;
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      b, idx(s.splits), idx(s.kvHeads * s.rowBlocks), idx(s.batch), idx(kThreads), one, one,
      arith::ConstantOp::create(b, b.getI32IntegerAttr(s.sharedFloats() * 4)));
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value raw = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), AffineMap(), workgroup));
  Value sm = memref::ViewOp::create(
      b, MemRefType::get({s.sharedFloats()}, b.getF32Type(), AffineMap(), workgroup), raw,
      idx(0), ValueRange{});
  Value split = launch.getBlockIds().x, batch = launch.getBlockIds().z;
  Value kvHead = divU(launch.getBlockIds().y, s.rowBlocks);
  Value rowBlock = remU(launch.getBlockIds().y, s.rowBlocks);
  Value tid = launch.getThreadIds().x;
  Value warp = divU(tid, 32), lane = remU(tid, 32);

  // Row r of the block is row rowBlock R + r of the kv head's G x Lq: head
  // kvHead G + row / Lq, query row % Lq. Rows past the end repeat the last
  // one and store nothing.
  auto rowPlace = [&](Value r, Value &head, Value &query, Value &valid) {
    Value global = add(mul(rowBlock, idx(rb)), r);
    valid = lt(global, idx(rows));
    global = minI(global, idx(rows - 1));
    head = add(mul(kvHead, idx(group)), divU(global, s.lq));
    query = remU(global, s.lq);
  };
  SmallVector<Value> rowHead(rb), rowQuery(rb);
  for (int64_t r = 0; r < rb; ++r) {
    Value valid;
    rowPlace(idx(r), rowHead[r], rowQuery[r], valid);
  }

  // The tables: entry e = s Kc + c holds the R rows' scores of centroid c
  // of sub-space s, in the log2 domain.
  const double scaleLog2 = s.scale / std::log(2.0);
  const int64_t entries = s.m * s.kc, ds = s.subDim();
  const int64_t passes = (entries + kThreads - 1) / kThreads;
  scf::ForOp::create(
      b, idx(0), idx(passes), one, ValueRange{},
      [&](OpBuilder &nb, Location, Value pass, ValueRange) {
        OpBuilder::InsertionGuard ig(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value e = add(tid, mul(pass, idx(kThreads)));
        auto body = [&] {
          Value sub = divU(e, s.kc), c = remU(e, s.kc);
          Value dim0 = mul(sub, idx(ds));
          SmallVector<Value> centroid =
              scalars(load(ops.codebooks, {kvHead, sub, c, idx(0)}, ds));
          SmallVector<Value> dots;
          for (int64_t r = 0; r < rb; ++r) {
            SmallVector<Value> qs =
                scalars(load(ops.q, {batch, rowHead[r], rowQuery[r], dim0}, ds));
            Value dot = fmul(qs[0], centroid[0]);
            for (int64_t i = 1; i < ds; ++i)
              dot = fma(qs[i], centroid[i], dot);
            dots.push_back(fmul(dot, f32(scaleLog2)));
          }
          storeRows(dots, sm, mul(e, idx(rp)));
        };
        if (entries % kThreads == 0)
          body();
        else
          when(lt(e, idx(entries)), body);
        scf::YieldOp::create(b);
      });
  gpu::BarrierOp::create(b);

  // Keys: the rows' count (kv_lens clamped to [0, Lk]) or Lk; the split's
  // tiles; loads past the count read its last key.
  Value count = keyCount(b, ops.kvLens, batch, s.lk);
  Value lastKey = arith::MaxSIOp::create(b, arith::SubIOp::create(b, count, one), idx(0));
  int64_t tilesPerSplit = (s.keyTiles() + s.splits - 1) / s.splits;
  Value begin = mul(split, idx(tilesPerSplit * kTileKeys));
  Value end = minI(add(begin, idx(tilesPerSplit * kTileKeys)), count);
  Value span = arith::MaxSIOp::create(b, arith::SubIOp::create(b, end, begin), idx(0));
  Value tiles = divU(add(span, idx(kTileKeys - 1)), kTileKeys);
  Value causalOffset = arith::SubIOp::create(b, count, idx(s.lq));
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  // Lane group g of the warp takes keys g, g + 32 / L, ... of a tile.
  const int64_t groups = s.laneGroups(), keysPerGroup = kTileKeys / groups;
  Value laneGroup = divU(lane, s.lanes), vc0 = mul(remU(lane, s.lanes), idx(vc));
  Value pRow = add(idx(s.pAt()), mul(warp, idx(kTileKeys * rp)));
  const int64_t valueBytes =
      vc * cast<MemRefType>(ops.value.getType()).getElementTypeBitWidth() / 8;
  const int64_t early = std::min<int64_t>(keysPerGroup, std::max<int64_t>(1, 256 / valueBytes));

  SmallVector<Value> init;
  for (int64_t r = 0; r < rb; ++r)
    init.append({negInf, f32(0.0)}); // m, this lane's part of l
  for (int64_t i = 0; i < rb * vc; ++i)
    init.push_back(f32(0.0)); // o[r][i]

  // A warp's tiles: the same trip count for all its lanes.
  auto loop = scf::ForOp::create(
      b, warp, tiles, idx(kWarps), init,
      [&](OpBuilder &nb, Location, Value tile, ValueRange acc) {
        OpBuilder::InsertionGuard ig(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value tileStart = add(begin, mul(tile, idx(kTileKeys)));
        Value key = add(tileStart, lane);
        Value inside = lt(key, end);
        auto [words, wordBytes] = loadCodes(ops.codes, {batch, kvHead, minI(key, lastKey)});
        // The lane group's value rows of the tile, as many as 64 registers
        // hold before the scoring, the rest after it.
        SmallVector<Value> values(keysPerGroup), tileKey(keysPerGroup);
        for (int64_t j = 0; j < keysPerGroup; ++j)
          tileKey[j] = add(idx(j * groups), laneGroup);
        auto loadValues = [&](int64_t from, int64_t to) {
          for (int64_t j = from; j < to; ++j)
            values[j] = load(ops.value,
                             {batch, kvHead, minI(add(tileStart, tileKey[j]), lastKey), vc0},
                             vc);
        };
        loadValues(0, early);
        // Scores of this lane's key for the R rows: one table vector a
        // sub-space, two partial sums a row.
        SmallVector<SmallVector<Value>> partial(rb, SmallVector<Value>(2));
        for (int64_t sub = 0; sub < s.m; ++sub) {
          Value entry = add(mul(codeOf(words, wordBytes, sub), idx(rp)), idx(sub * s.kc * rp));
          SmallVector<Value> t = scalars(loadRows(sm, entry));
          for (int64_t r = 0; r < rb; ++r) {
            Value &sum = partial[r][sub % 2];
            sum = sum ? fadd(sum, t[r]) : t[r];
          }
        }
        SmallVector<Value> next(acc.begin(), acc.end()), p(rb), alpha(rb);
        for (int64_t r = 0; r < rb; ++r) {
          Value x = partial[r][1] ? fadd(partial[r][0], partial[r][1]) : partial[r][0];
          Value visible = inside;
          if (s.causal)
            visible = arith::AndIOp::create(
                b, visible,
                arith::CmpIOp::create(b, arith::CmpIPredicate::sle, key,
                                      add(rowQuery[r], causalOffset)));
          x = arith::SelectOp::create(b, visible, x, negInf);
          Value m = acc[2 * r];
          Value mNew = fmax(m, warpReduce(x, /*isMax=*/true));
          // No visible key so far: m stays -inf, subtract 0.
          Value base = arith::SelectOp::create(
              b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf), f32(0.0),
              mNew);
          alpha[r] = exp2(arith::SubFOp::create(b, m, base));
          p[r] = exp2(arith::SubFOp::create(b, x, base));
          next[2 * r] = mNew;
          next[2 * r + 1] = fma(acc[2 * r + 1], alpha[r], p[r]);
        }
        // The probabilities of the tile's keys to every lane.
        storeRows(p, sm, add(pRow, mul(lane, idx(rp))));
        syncWarp();
        for (int64_t r = 0; r < rb; ++r)
          for (int64_t i = 0; i < vc; ++i) {
            Value &o = next[2 * rb + r * vc + i];
            o = fmul(o, alpha[r]);
          }
        loadValues(early, keysPerGroup);
        for (int64_t j = 0; j < keysPerGroup; ++j) {
          SmallVector<Value> pk = scalars(loadRows(sm, add(pRow, mul(tileKey[j], idx(rp)))));
          SmallVector<Value> v = scalars(values[j]);
          for (int64_t r = 0; r < rb; ++r)
            for (int64_t i = 0; i < vc; ++i) {
              Value &o = next[2 * rb + r * vc + i];
              o = fma(pk[r], v[i], o);
            }
        }
        // Every lane has read the probabilities before the next tile's.
        syncWarp();
        scf::YieldOp::create(b, next);
      });

  // The lane groups meet in shared memory: part warp 32 / L + g. They
  // share the warp's m; the first holds the warp's l, the others 0.
  Value part = add(mul(warp, idx(groups)), laneGroup);
  for (int64_t r = 0; r < rb; ++r) {
    Value slot = add(mul(part, idx(rb)), idx(r));
    Value l = warpReduce(loop.getResult(2 * r + 1), /*isMax=*/false);
    Value firstGroup = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, laneGroup, idx(0));
    when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, remU(lane, s.lanes), idx(0)), [&] {
      memref::StoreOp::create(b, loop.getResult(2 * r), sm, ValueRange{add(slot, idx(s.mAt()))});
      memref::StoreOp::create(b, arith::SelectOp::create(b, firstGroup, l, f32(0.0)), sm,
                              ValueRange{add(slot, idx(s.lAt()))});
    });
    for (int64_t i = 0; i < vc; ++i)
      memref::StoreOp::create(
          b, loop.getResult(2 * rb + r * vc + i), sm,
          ValueRange{add(idx(s.oAt()), add(mul(slot, idx(s.dv)), add(vc0, idx(i))))});
  }
  gpu::BarrierOp::create(b);
  emitPartialsCombine(b, {sm, s.mAt(), s.lAt(), s.oAt(), s.parts(), rb, s.dv, kThreads, tid, split,
                          batch, rowPlace, ops.out, ops.lse, oPart, lsePart});
  gpu::TerminatorOp::create(b);
  b.setInsertionPointAfter(launch);
  if (oPart)
    emitSplitMerge(b, {s.splits, s.batch, s.heads, s.lq, s.dv}, ops.out, ops.lse, oPart,
                   lsePart);
}

/// The shape of a pq_attention (or its call) from its types.
PqDecodeShape shapeOf(ShapedType q, ShapedType codes, ShapedType codebooks, ShapedType out,
                      double scale) {
  PqDecodeShape s;
  s.batch = q.getDimSize(0);
  s.heads = q.getDimSize(1);
  s.lq = q.getDimSize(2);
  s.d = q.getDimSize(3);
  s.kvHeads = codes.getDimSize(1);
  s.lk = codes.getDimSize(2);
  s.dv = out.getDimSize(3);
  s.m = codebooks.getDimSize(1);
  s.kc = codebooks.getDimSize(2);
  s.scale = scale;
  return s;
}

struct PqAttentionForGpu : OpRewritePattern<PQAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(PQAttentionOp op, PatternRewriter &rewriter) const override {
    for (Value v : op->getOperands())
      if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic shapes take the generic path");
    auto qType = op.getQuery().getType();
    auto cType = op.getCodes().getType();
    if (qType.getNumElements() == 0 || cType.getDimSize(2) == 0)
      return rewriter.notifyMatchFailure(op, "empty tensors take the generic path");
    double scale = op.getScale() ? op.getScale()->convertToDouble()
                                 : 1.0 / std::sqrt(double(qType.getDimSize(3)));
    PqDecodeShape s = shapeOf(qType, cType, op.getCodebooks().getType(),
                              op.getOut().getType(), scale);
    std::string why;
    if (failed(chooseLayout(s, why)))
      return rewriter.notifyMatchFailure(op, why);
    Builder b(op.getContext());
    SmallVector<NamedAttribute> params = {b.getNamedAttr("scale", b.getF64FloatAttr(scale))};
    if (op.getCausal())
      params.push_back(b.getNamedAttr("causal", b.getUnitAttr()));
    SmallVector<StringRef> results = {"out"};
    if (op.getLse())
      results.push_back("lse");
    return replaceByKernelCall(rewriter, op, "pq_decode",
                               {{"q", op.getQuery()},
                                {"codes", op.getCodes()},
                                {"codebooks", op.getCodebooks()},
                                {"value", op.getValue()},
                                {"kv_lens", op.getKvLens()}},
                               results, params);
  }
};

} // namespace

void attn::populateGpuPqPatterns(RewritePatternSet &patterns) {
  patterns.add<PqAttentionForGpu>(patterns.getContext());
}

LogicalResult attn::expandPqDecodeCall(func::CallOp call) {
  auto fail = [&](const Twine &why) { return malformedKernelCall(call) << why; };
  auto params = call->getAttrOfType<DictionaryAttr>(kGpuKernelAttr);
  auto byRole = kernelOperandsByRole(
      call, {"q", "codes", "codebooks", "value", "kv_lens", "out", "lse"});
  if (failed(byRole))
    return failure();
  PqDecodeOperands ops;
  auto role = [&](StringRef name) { return byRole->lookup(name); };
  ops.q = role("q");
  ops.codes = role("codes");
  ops.codebooks = role("codebooks");
  ops.value = role("value");
  ops.kvLens = role("kv_lens");
  ops.out = role("out");
  ops.lse = role("lse");
  if (!ops.q || !ops.codes || !ops.codebooks || !ops.value || !ops.out)
    return fail("q, codes, codebooks, value and out are required");
  auto scale = params.getAs<FloatAttr>("scale");
  if (!scale || !std::isfinite(scale.getValueAsDouble()))
    return fail("scale must be a finite float");
  auto type = [](Value v) { return v ? cast<MemRefType>(v.getType()) : MemRefType(); };
  for (Value v : {ops.q, ops.codes, ops.codebooks, ops.value, ops.out})
    if (type(v).getRank() != 4)
      return fail("q, codes, codebooks, value and out must be rank 4");
  MemRefType qType = type(ops.q), oType = type(ops.out);
  Type et = qType.getElementType();
  if (!isa<FloatType>(et) || oType.getElementType() != et ||
      type(ops.value).getElementType() != et)
    return fail("q, value and out must hold the same float type");
  PqDecodeShape s = shapeOf(qType, type(ops.codes), type(ops.codebooks), oType,
                            scale.getValueAsDouble());
  s.causal = static_cast<bool>(params.get("causal"));
  auto is = [&](Value v, ArrayRef<int64_t> shape, Type element) {
    return !v || (type(v).getShape() == shape && type(v).getElementType() == element);
  };
  MLIRContext *ctx = call.getContext();
  Type i8 = IntegerType::get(ctx, 8), f32 = Float32Type::get(ctx);
  if (s.kvHeads == 0 || s.heads % s.kvHeads || s.lq == 0 || s.lk == 0 ||
      (s.kc != 16 && s.kc != 256) || s.m == 0 || s.d % s.m || (s.kc == 16 && s.m % 2) ||
      !is(ops.codebooks, {s.kvHeads, s.m, s.kc, s.m ? s.d / s.m : 0}, f32) ||
      !is(ops.codes, {s.batch, s.kvHeads, s.lk, s.codeBytes()}, i8) ||
      !is(ops.value, {s.batch, s.kvHeads, s.lk, s.dv}, et) ||
      oType.getShape() != ArrayRef<int64_t>{s.batch, s.heads, s.lq, s.dv} ||
      !is(ops.lse, {s.batch, s.heads, s.lq}, f32) ||
      !is(ops.kvLens, {s.batch}, IntegerType::get(ctx, 32)))
    return fail("shapes must be q [B, Hq, Lq, D], out [B, Hq, Lq, Dv], codebooks f32 "
                "[Hkv, m, Kc, D / m] with Kc 16 (m even) or 256, codes i8 "
                "[B, Hkv, Lk, m (Kc 256) or m / 2 (Kc 16)], value [B, Hkv, Lk, Dv], "
                "lse f32 [B, Hq, Lq], kv_lens i32 [B], with Hq % Hkv == 0 and "
                "non-empty sequences");
  std::string why;
  if (failed(chooseLayout(s, why)))
    return fail(why);
  expandSplitKvCall(call, {s.splits, s.batch, s.heads, s.lq, s.dv},
                    [&](ImplicitLocOpBuilder &b, Value oPart, Value lsePart) {
                      PqDecodeEmitter(b, s).emit(ops, oPart, lsePart);
                    });
  return success();
}
