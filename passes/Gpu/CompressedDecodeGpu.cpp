//===- CompressedDecodeGpu.cpp - decode over int8/int4 caches for CUDA ----===//
//
// attn.quant_attention with a decode shape (the G x Lq query rows of a kv
// head number at most 64) becomes a kernel call (GpuKernels.h, kernel =
// "compressed_decode") that attn-gpu-map expands into a split-KV kernel
// reading the codes in place, dequantised in registers:
//
//   grid (splits, Hkv x row blocks, B), 128 threads. Decode is bound by
//   reading the cache, so the kernel is SIMT and built around the loads.
//   A key belongs to a lane group of L lanes (L = 16 for D = Dv = 128);
//   lane j of the group owns channels [j C, j C + C) of K and of V (C = D / L,
//   8 for D = 128: an 8-byte load of int8 codes, 4 of int4) and keeps the
//   query rows' slices of those channels in registers. The block's key range
//   (whole 64-key tiles: the splits cut the cache into about four blocks a
//   multiprocessor of an H100) is cut into one contiguous piece per lane
//   group; a lane group walks its piece 4 keys at a time (all their loads
//   first), and per key: dequantises its C key channels (x = scale code
//   [+ zero], the key's per-channel scales of its token group), the dot
//   products with each row, summed over the L lanes by xor shuffles, an
//   online softmax in the log2 domain (scale folded in), and o += p v over
//   its C value channels (per-token scales of each channel group).
//   No barrier until the end: then the lane groups' (m, l, o) meet in shared
//   memory and the block writes its normalised partial and lse (or, with
//   one split, the output); attn-gpu-map's merge launch combines splits.
//
// Codes become floats without int-to-float conversions (a quarter of the
// FMA rate, which would bind before memory does): a byte or nibble u
// placed in the mantissa of 2^23 (bits 0x4B000000 | u) is the float
// 2^23 + u exactly; signed codes are first offset by 128 (8) with an xor.
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

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace attn;

namespace {

constexpr int64_t kThreads = 128;
constexpr int64_t kKeyTile = 64;     // the splits cut the keys in tiles
constexpr int64_t kUnroll = 4;       // keys a lane group loads before computing
constexpr int64_t kMaxRows = 64;     // G x Lq of a decode shape
constexpr int64_t kMaxChannels = 32; // channels a lane owns, of K or of V
constexpr int64_t kRowRegisters = 32; // rows a block x channels a lane

struct QuantDecodeShape {
  int64_t batch = 0, heads = 0, kvHeads = 0, lq = 0, lk = 0, d = 0, dv = 0;
  int64_t bits = 8, group = 1;
  bool causal = false;
  double scale = 1.0;
  // The layout (see chooseLayout).
  int64_t lanes = 1, kc = 0, vc = 0, rowsPerBlock = 1, rowBlocks = 1, splits = 1;

  int64_t rows() const { return heads / kvHeads * lq; }
  int64_t laneGroups() const { return kThreads / lanes; }
  int64_t keyTiles() const { return (lk + kKeyTile - 1) / kKeyTile; }
};

/// Lanes a key (a power of two up to 32 dividing D and Dv, whole bytes of
/// 4-bit codes a lane), rows a block and splits; fails for shapes the
/// kernel does not take.
LogicalResult chooseLayout(QuantDecodeShape &s, std::string &why) {
  if (s.rows() > kMaxRows) {
    why = "more than 64 query rows a kv head (prefill) take the generic path";
    return failure();
  }
  int64_t perByte = s.bits == 4 ? 2 : 1;
  s.lanes = 1;
  for (int64_t l = 32; l > 1; l /= 2) {
    if (s.d % l || s.dv % l || (s.d / l) % perByte || (s.dv / l) % perByte)
      continue;
    // The widest split that still gives a lane 8 channels (an 8-byte load
    // of int8 codes) of the wider operand.
    if (std::max(s.d, s.dv) / l >= 8) {
      s.lanes = l;
      break;
    }
  }
  s.kc = s.d / s.lanes;
  s.vc = s.dv / s.lanes;
  if (std::max(s.kc, s.vc) > kMaxChannels) {
    why = "D or Dv too wide for the lanes of a key (at most 32 channels a lane)";
    return failure();
  }
  s.rowsPerBlock = std::clamp<int64_t>(kRowRegisters / std::max(s.kc, s.vc), 1, s.rows());
  s.rowBlocks = (s.rows() + s.rowsPerBlock - 1) / s.rowsPerBlock;
  s.splits = splitKvSplits(s.batch * s.kvHeads * s.rowBlocks, s.keyTiles());
  return success();
}

struct QuantDecodeOperands {
  Value q, keyCodes, keyScale, keyZero, valueCodes, valueScale, valueZero, kvLens;
  Value out, lse;
};

class QuantDecodeEmitter : GpuKernelBuilder {
public:
  QuantDecodeEmitter(ImplicitLocOpBuilder &b, const QuantDecodeShape &s)
      : GpuKernelBuilder(b), s(s) {}

  /// The kernel launch; with more than one split it writes oPart
  /// [S, B, Hq, Lq, Dv] and lsePart [S, B, Hq, Lq] and the merge launch
  /// follows.
  void emit(const QuantDecodeOperands &ops, Value oPart, Value lsePart);

private:

  Value load(Value m, ValueRange indices, int64_t n) { return loadVector(b, m, indices, n); }
  SmallVector<Value> scalars(Value vec) { return scalarsF32(b, vec); }
  /// The codes of a vector of bytes as floats (4-bit: low nibble first),
  /// unsigned codes as they are, signed ones offset back.
  SmallVector<Value> codesToFloats(Value bytes, bool isUnsigned);
  /// x = scale code (+ zero) per channel.
  SmallVector<Value> dequantise(ArrayRef<Value> codes, ArrayRef<Value> scale,
                                ArrayRef<Value> zero) {
    SmallVector<Value> x;
    for (size_t i = 0; i < codes.size(); ++i)
      x.push_back(zero.empty() ? fmul(codes[i], scale[i]) : fma(codes[i], scale[i], zero[i]));
    return x;
  }
  /// Sum over the lanes of a lane group (xor shuffles stay inside the
  /// aligned group of `lanes` lanes).
  Value groupSum(Value x) {
    for (int64_t offset = 1; offset < s.lanes; offset *= 2)
      x = fadd(x, gpu::ShuffleOp::create(b, x, offset, 32, gpu::ShuffleMode::XOR)
                      .getShuffleResult());
    return x;
  }
  /// The per-token scales (or zeros) of this lane's value channels of key
  /// row `src`: one load when the lane's channels share a channel group.
  SmallVector<Value> valueChannelParams(Value table, ValueRange row, Value c0);

  const QuantDecodeShape &s;
};

SmallVector<Value> QuantDecodeEmitter::codesToFloats(Value bytes, bool isUnsigned) {
  int64_t n = cast<VectorType>(bytes.getType()).getNumElements();
  Type i32Type = b.getI32Type();
  // Whole 32-bit words when the bytes fill them, else byte by byte.
  SmallVector<Value> words;
  int64_t wordBits = 32;
  if (n % 4 == 0) {
    Value asWords = vector::BitCastOp::create(b, VectorType::get({n / 4}, i32Type), bytes);
    for (int64_t w = 0; w < n / 4; ++w)
      words.push_back(vector::ExtractOp::create(b, asWords, ArrayRef<int64_t>{w}));
  } else {
    wordBits = 8;
    for (int64_t i = 0; i < n; ++i)
      words.push_back(arith::ExtUIOp::create(
          b, i32Type, vector::ExtractOp::create(b, bytes, ArrayRef<int64_t>{i})));
  }
  // Signed codes + 2^(bits-1) are unsigned: flip the top bit of each field.
  uint32_t flip = s.bits == 8 ? 0x80808080u : 0x88888888u;
  if (wordBits == 8)
    flip &= 0xFFu;
  double offset = 8388608.0 + (isUnsigned ? 0.0 : (s.bits == 8 ? 128.0 : 8.0));
  Value magic = i32(0x4B000000), mask = i32((1 << s.bits) - 1), bias = f32(offset);
  SmallVector<Value> out;
  for (Value w : words) {
    if (!isUnsigned)
      w = arith::XOrIOp::create(b, w, i32(static_cast<int32_t>(flip)));
    for (int64_t f = 0; f < wordBits / s.bits; ++f) {
      Value field = f == 0 ? w : arith::ShRUIOp::create(b, w, i32(f * s.bits)).getResult();
      if ((f + 1) * s.bits < wordBits) // bits above the field
        field = arith::AndIOp::create(b, field, mask);
      Value bits = arith::OrIOp::create(b, field, magic);
      out.push_back(arith::SubFOp::create(
          b, arith::BitcastOp::create(b, b.getF32Type(), bits), bias));
    }
  }
  return out;
}

SmallVector<Value> QuantDecodeEmitter::valueChannelParams(Value table, ValueRange row,
                                                          Value c0) {
  SmallVector<Value> indices(row.begin(), row.end());
  if (s.group % s.vc == 0) {
    indices.push_back(divU(c0, s.group));
    Value x = memref::LoadOp::create(b, table, indices);
    return SmallVector<Value>(s.vc, x);
  }
  SmallVector<Value> out;
  indices.push_back(Value());
  for (int64_t i = 0; i < s.vc; ++i) {
    indices.back() = divU(add(c0, idx(i)), s.group);
    out.push_back(memref::LoadOp::create(b, table, indices));
  }
  return out;
}

void QuantDecodeEmitter::emit(const QuantDecodeOperands &ops, Value oPart, Value lsePart) {
  MLIRContext *ctx = b.getContext();
  const int64_t group = s.heads / s.kvHeads, rows = s.rows(), rb = s.rowsPerBlock;
  const int64_t lanes = s.lanes, groups = s.laneGroups();
  const int64_t perByte = s.bits == 4 ? 2 : 1;
  // Shared memory at the end: each lane group's m, l [G][Rb] and o [G][Rb][Dv].
  const int64_t mAt = 0, lAt = groups * rb, oAt = 2 * groups * rb;
  const int64_t smemFloats = oAt + groups * rb * s.dv;
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  Value one = idx(1);
  auto launch = gpu::LaunchOp::create(
      b, idx(s.splits), idx(s.kvHeads * s.rowBlocks), idx(s.batch), idx(kThreads), one,
      one, arith::ConstantOp::create(b, b.getI32IntegerAttr(smemFloats * 4)));
  {
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(&launch.getBody().front());
    Value raw = gpu::DynamicSharedMemoryOp::create(
        b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), AffineMap(), workgroup));
    Value sm = memref::ViewOp::create(
        b, MemRefType::get({smemFloats}, b.getF32Type(), AffineMap(), workgroup), raw,
        idx(0), ValueRange{});
    Value split = launch.getBlockIds().x, batch = launch.getBlockIds().z;
    Value kvHead = divU(launch.getBlockIds().y, s.rowBlocks);
    Value rowBlock = remU(launch.getBlockIds().y, s.rowBlocks);
    Value tid = launch.getThreadIds().x;
    Value laneGroup = divU(tid, lanes), lane = remU(tid, lanes);
    Value kc0 = mul(lane, idx(s.kc)), vc0 = mul(lane, idx(s.vc));

    // Row r of the block is row rowBlock Rb + r of the kv head's G x Lq:
    // head kvHead G + row / Lq, query row % Lq. Rows past the end repeat
    // the last one and store nothing.
    auto rowPlace = [&](Value r, Value &head, Value &query, Value &valid) {
      Value global = add(mul(rowBlock, idx(rb)), r);
      valid = lt(global, idx(rows));
      global = minI(global, idx(rows - 1));
      head = add(mul(kvHead, idx(group)), divU(global, s.lq));
      query = remU(global, s.lq);
    };
    SmallVector<Value> rowQuery(rb);
    SmallVector<SmallVector<Value>> q(rb);
    for (int64_t r = 0; r < rb; ++r) {
      Value head, valid;
      rowPlace(idx(r), head, rowQuery[r], valid);
      q[r] = scalars(load(ops.q, {batch, head, rowQuery[r], kc0}, s.kc));
    }

    // Keys: the row's count (kv_lens clamped to [0, Lk]) or Lk; the
    // split's tiles; this lane group's piece, a multiple of the unroll.
    Value count = keyCount(b, ops.kvLens, batch, s.lk);
    int64_t tilesPerSplit = (s.keyTiles() + s.splits - 1) / s.splits;
    Value begin = mul(split, idx(tilesPerSplit * kKeyTile));
    Value end = minI(add(begin, idx(tilesPerSplit * kKeyTile)), count);
    Value span = arith::MaxSIOp::create(b, arith::SubIOp::create(b, end, begin), idx(0));
    Value piece = mul(divU(add(divU(add(span, idx(groups - 1)), groups), idx(kUnroll - 1)),
                           kUnroll),
                      idx(kUnroll));
    Value first = add(begin, mul(laneGroup, piece));
    Value last = minI(add(first, piece), end);
    Value causalOffset = arith::SubIOp::create(b, count, idx(s.lq));
    // Loads past the count read its last key (a cache's memory past its
    // length may hold anything, a NaN scale included).
    Value lastKey = arith::MaxSIOp::create(b, arith::SubIOp::create(b, count, one), idx(0));

    Value negInf = f32(-std::numeric_limits<double>::infinity());
    SmallVector<Value> init;
    for (int64_t r = 0; r < rb; ++r)
      init.append({negInf, f32(0.0)}); // m, l
    for (int64_t i = 0; i < rb * s.vc; ++i)
      init.push_back(f32(0.0)); // o[r][i]
    double scaleLog2 = s.scale / std::log(2.0);

    // Every lane group of the block runs the same number of iterations
    // (keys past its piece are masked): the shuffles need the whole warp.
    auto loop = scf::ForOp::create(
        b, idx(0), piece, idx(kUnroll), init,
        [&](OpBuilder &nb, Location, Value step, ValueRange acc) {
          OpBuilder::InsertionGuard ig(b);
          b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
          Value key0 = add(first, step);
          // All loads of the unrolled keys first (keys past the piece are
          // masked).
          struct KeyLoads {
            Value key, inside, kCodes, kScale, kZero, vCodes;
            SmallVector<Value> vScale, vZero;
          };
          SmallVector<KeyLoads> keys(kUnroll);
          // key0 is a multiple of the unroll (tiles, pieces and steps are),
          // so when it divides the group size the keys share their token
          // group's key scales: one load for all of them.
          bool sharedScales = s.group % kUnroll == 0;
          for (int64_t u = 0; u < kUnroll; ++u) {
            KeyLoads &k = keys[u];
            k.key = add(key0, idx(u));
            k.inside = lt(k.key, last);
            Value src = minI(k.key, lastKey);
            k.kCodes = load(ops.keyCodes, {batch, kvHead, src, divU(kc0, perByte)},
                            s.kc / perByte);
            if (sharedScales && u > 0) {
              k.kScale = keys[0].kScale;
              k.kZero = keys[0].kZero;
            } else {
              Value tokenGroup = divU(src, s.group);
              k.kScale = load(ops.keyScale, {batch, kvHead, tokenGroup, kc0}, s.kc);
              if (ops.keyZero)
                k.kZero = load(ops.keyZero, {batch, kvHead, tokenGroup, kc0}, s.kc);
            }
            k.vCodes = load(ops.valueCodes, {batch, kvHead, src, divU(vc0, perByte)},
                            s.vc / perByte);
            k.vScale = valueChannelParams(ops.valueScale, {batch, kvHead, src}, vc0);
            if (ops.valueZero)
              k.vZero = valueChannelParams(ops.valueZero, {batch, kvHead, src}, vc0);
          }
          // Scores [u][r] in the log2 domain, -inf where invisible.
          SmallVector<SmallVector<Value>> score(kUnroll);
          for (int64_t u = 0; u < kUnroll; ++u) {
            KeyLoads &k = keys[u];
            SmallVector<Value> kx = dequantise(
                codesToFloats(k.kCodes, bool(ops.keyZero)), scalars(k.kScale),
                ops.keyZero ? scalars(k.kZero) : SmallVector<Value>());
            for (int64_t r = 0; r < rb; ++r) {
              Value dot = fmul(q[r][0], kx[0]);
              for (int64_t i = 1; i < s.kc; ++i)
                dot = fma(q[r][i], kx[i], dot);
              Value x = fmul(groupSum(dot), f32(scaleLog2));
              Value visible = k.inside;
              if (s.causal)
                visible = arith::AndIOp::create(
                    b, visible,
                    arith::CmpIOp::create(b, arith::CmpIPredicate::sle, k.key,
                                          add(rowQuery[r], causalOffset)));
              score[u].push_back(arith::SelectOp::create(b, visible, x, negInf));
            }
          }
          SmallVector<SmallVector<Value>> vx(kUnroll);
          for (int64_t u = 0; u < kUnroll; ++u)
            vx[u] = dequantise(codesToFloats(keys[u].vCodes, bool(ops.valueZero)),
                               keys[u].vScale, keys[u].vZero);
          // Online softmax per row.
          SmallVector<Value> next(acc.begin(), acc.end());
          for (int64_t r = 0; r < rb; ++r) {
            Value m = acc[2 * r], l = acc[2 * r + 1];
            Value mNew = m;
            for (int64_t u = 0; u < kUnroll; ++u)
              mNew = fmax(mNew, score[u][r]);
            // A row with no visible key so far keeps m = -inf; subtract 0.
            Value base = arith::SelectOp::create(
                b, arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf),
                f32(0.0), mNew);
            Value alpha = exp2(arith::SubFOp::create(b, m, base));
            SmallVector<Value> p;
            Value sum = fmul(l, alpha);
            for (int64_t u = 0; u < kUnroll; ++u) {
              p.push_back(exp2(arith::SubFOp::create(b, score[u][r], base)));
              sum = fadd(sum, p.back());
            }
            next[2 * r] = mNew;
            next[2 * r + 1] = sum;
            for (int64_t i = 0; i < s.vc; ++i) {
              Value &o = next[2 * rb + r * s.vc + i];
              o = fmul(o, alpha);
              for (int64_t u = 0; u < kUnroll; ++u)
                o = fma(p[u], vx[u][i], o);
            }
          }
          scf::YieldOp::create(b, next);
        });

    // The lane groups meet in shared memory.
    for (int64_t r = 0; r < rb; ++r) {
      Value slot = add(mul(laneGroup, idx(rb)), idx(r));
      when(arith::CmpIOp::create(b, arith::CmpIPredicate::eq, lane, idx(0)), [&] {
        memref::StoreOp::create(b, loop.getResult(2 * r), sm, ValueRange{add(slot, idx(mAt))});
        memref::StoreOp::create(b, loop.getResult(2 * r + 1), sm,
                                ValueRange{add(slot, idx(lAt))});
      });
      for (int64_t i = 0; i < s.vc; ++i)
        memref::StoreOp::create(
            b, loop.getResult(2 * rb + r * s.vc + i), sm,
            ValueRange{add(idx(oAt), add(mul(slot, idx(s.dv)), add(vc0, idx(i))))});
    }
    gpu::BarrierOp::create(b);

    // One thread a (row, value channel) combines the lane groups.
    emitPartialsCombine(b, {sm, mAt, lAt, oAt, groups, rb, s.dv, kThreads, tid, split, batch,
                            rowPlace, ops.out, ops.lse, oPart, lsePart});
    gpu::TerminatorOp::create(b);
  }
  if (oPart)
    emitSplitMerge(b, {s.splits, s.batch, s.heads, s.lq, s.dv}, ops.out, ops.lse, oPart,
                   lsePart);
}

/// The shape of a quant_attention (or its call) from its types.
QuantDecodeShape shapeOf(ShapedType q, ShapedType keyCodes, ShapedType out, int64_t bits,
                         int64_t group, double scale) {
  QuantDecodeShape s;
  s.batch = q.getDimSize(0);
  s.heads = q.getDimSize(1);
  s.lq = q.getDimSize(2);
  s.d = q.getDimSize(3);
  s.kvHeads = keyCodes.getDimSize(1);
  s.lk = keyCodes.getDimSize(2);
  s.dv = out.getDimSize(3);
  s.bits = bits;
  s.group = group;
  s.scale = scale;
  return s;
}

struct QuantAttentionForGpu : OpRewritePattern<QuantAttentionOp> {
  using OpRewritePattern::OpRewritePattern;
  LogicalResult matchAndRewrite(QuantAttentionOp op,
                                PatternRewriter &rewriter) const override {
    for (Value v : op->getOperands())
      if (!cast<RankedTensorType>(v.getType()).hasStaticShape())
        return rewriter.notifyMatchFailure(op, "dynamic shapes take the generic path");
    auto qType = op.getQuery().getType();
    auto kType = op.getKeyCodes().getType();
    if (qType.getNumElements() == 0 || kType.getDimSize(2) == 0)
      return rewriter.notifyMatchFailure(op, "empty tensors take the generic path");
    double scale = op.getScale() ? op.getScale()->convertToDouble()
                                 : 1.0 / std::sqrt(double(qType.getDimSize(3)));
    QuantDecodeShape s = shapeOf(qType, kType, op.getOut().getType(), op.getBits(),
                                 op.getGroupSize(), scale);
    std::string why;
    if (failed(chooseLayout(s, why)))
      return rewriter.notifyMatchFailure(op, why);
    Builder b(op.getContext());
    SmallVector<NamedAttribute> params = {
        b.getNamedAttr("bits", b.getI64IntegerAttr(op.getBits())),
        b.getNamedAttr("group_size", b.getI64IntegerAttr(op.getGroupSize())),
        b.getNamedAttr("scale", b.getF64FloatAttr(scale))};
    if (op.getCausal())
      params.push_back(b.getNamedAttr("causal", b.getUnitAttr()));
    SmallVector<StringRef> results = {"out"};
    if (op.getLse())
      results.push_back("lse");
    return replaceByKernelCall(
        rewriter, op, "compressed_decode",
        {{"q", op.getQuery()},
         {"key_codes", op.getKeyCodes()},
         {"key_scale", op.getKeyScale()},
         {"key_zero", op.getKeyZero()},
         {"value_codes", op.getValueCodes()},
         {"value_scale", op.getValueScale()},
         {"value_zero", op.getValueZero()},
         {"kv_lens", op.getKvLens()}},
        results, params);
  }
};

} // namespace

void attn::populateGpuCompressedPatterns(RewritePatternSet &patterns) {
  patterns.add<QuantAttentionForGpu>(patterns.getContext());
}

LogicalResult attn::expandCompressedDecodeCall(func::CallOp call) {
  auto fail = [&](const Twine &why) { return malformedKernelCall(call) << why; };
  auto params = call->getAttrOfType<DictionaryAttr>(kGpuKernelAttr);
  auto byRole = kernelOperandsByRole(call, {"q", "key_codes", "key_scale", "key_zero",
                                            "value_codes", "value_scale", "value_zero",
                                            "kv_lens", "out", "lse"});
  if (failed(byRole))
    return failure();
  QuantDecodeOperands ops;
  auto role = [&](StringRef name) { return byRole->lookup(name); };
  ops.q = role("q");
  ops.keyCodes = role("key_codes");
  ops.keyScale = role("key_scale");
  ops.keyZero = role("key_zero");
  ops.valueCodes = role("value_codes");
  ops.valueScale = role("value_scale");
  ops.valueZero = role("value_zero");
  ops.kvLens = role("kv_lens");
  ops.out = role("out");
  ops.lse = role("lse");
  if (!ops.q || !ops.keyCodes || !ops.keyScale || !ops.valueCodes || !ops.valueScale ||
      !ops.out)
    return fail("q, key_codes, key_scale, value_codes, value_scale and out are required");
  auto bits = params.getAs<IntegerAttr>("bits");
  auto groupSize = params.getAs<IntegerAttr>("group_size");
  auto scale = params.getAs<FloatAttr>("scale");
  if (!bits || (bits.getInt() != 4 && bits.getInt() != 8))
    return fail("bits must be 4 or 8");
  if (!groupSize || groupSize.getInt() < 1)
    return fail("group_size must be a positive integer");
  if (!scale || !std::isfinite(scale.getValueAsDouble()))
    return fail("scale must be a finite float");
  auto type = [](Value v) { return v ? cast<MemRefType>(v.getType()) : MemRefType(); };
  MemRefType qType = type(ops.q), kType = type(ops.keyCodes), oType = type(ops.out);
  for (Value v : {ops.q, ops.keyCodes, ops.keyScale, ops.keyZero, ops.valueCodes,
                  ops.valueScale, ops.valueZero, ops.out})
    if (v && type(v).getRank() != 4)
      return fail("q, out, codes, scales and zeros must be rank 4");
  Type et = qType.getElementType();
  if (!isa<FloatType>(et) || oType.getElementType() != et)
    return fail("q and out must hold the same float type");
  QuantDecodeShape s = shapeOf(qType, kType, oType, bits.getInt(), groupSize.getInt(),
                               scale.getValueAsDouble());
  s.causal = static_cast<bool>(params.get("causal"));
  int64_t perByte = s.bits == 4 ? 2 : 1;
  auto is = [&](Value v, ArrayRef<int64_t> shape, Type element) {
    return !v || (type(v).getShape() == shape && type(v).getElementType() == element);
  };
  Type i8 = IntegerType::get(call.getContext(), 8), f32 = Float32Type::get(call.getContext());
  int64_t keyGroups = (s.lk + s.group - 1) / s.group;
  int64_t valueGroups = (s.dv + s.group - 1) / s.group;
  if (s.kvHeads == 0 || s.heads % s.kvHeads || s.lq == 0 || s.lk == 0 ||
      s.d % perByte || s.dv % perByte ||
      !is(ops.keyCodes, {s.batch, s.kvHeads, s.lk, s.d / perByte}, i8) ||
      !is(ops.valueCodes, {s.batch, s.kvHeads, s.lk, s.dv / perByte}, i8) ||
      !is(ops.keyScale, {s.batch, s.kvHeads, keyGroups, s.d}, f32) ||
      !is(ops.keyZero, {s.batch, s.kvHeads, keyGroups, s.d}, f32) ||
      !is(ops.valueScale, {s.batch, s.kvHeads, s.lk, valueGroups}, f32) ||
      !is(ops.valueZero, {s.batch, s.kvHeads, s.lk, valueGroups}, f32) ||
      oType.getShape() != ArrayRef<int64_t>{s.batch, s.heads, s.lq, s.dv} ||
      !is(ops.lse, {s.batch, s.heads, s.lq}, f32) ||
      !is(ops.kvLens, {s.batch}, IntegerType::get(call.getContext(), 32)))
    return fail("shapes must be q [B, Hq, Lq, D], out [B, Hq, Lq, Dv], codes i8 "
                "[B, Hkv, Lk, D or Dv (/ 2 for 4 bits)], key scales/zeros f32 "
                "[B, Hkv, ceil(Lk / g), D], value scales/zeros f32 "
                "[B, Hkv, Lk, ceil(Dv / g)], lse f32 [B, Hq, Lq], kv_lens i32 [B], "
                "with Hq % Hkv == 0 and non-empty sequences");
  std::string why;
  if (failed(chooseLayout(s, why)))
    return fail(why);
  expandSplitKvCall(call, {s.splits, s.batch, s.heads, s.lq, s.dv},
                    [&](ImplicitLocOpBuilder &b, Value oPart, Value lsePart) {
                      QuantDecodeEmitter(b, s).emit(ops, oPart, lsePart);
                    });
  return success();
}
