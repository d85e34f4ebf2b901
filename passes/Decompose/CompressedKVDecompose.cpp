//===- CompressedKVDecompose.cpp - decompose quantised and PQ KV ops ------===//
//
// This file implements the naive decompositions of attn.quant_attention,
// attn.pq_encode and attn.pq_attention (attn.pq_fit lives in
// PQFitDecompose.cpp).
//
// Both attention ops materialise dense f32 keys (and values) and reuse the
// softmax core: quant_attention dequantises the codes, pq_attention gathers
// each key's centroids, since <q, reconstructed k> is exactly the sum of
// lookup-table entries sum_s T[s, code_s] the op is defined by. The fused
// kernels must never do this; the oracle states the math plainly.
//
//===----------------------------------------------------------------------===//

#include "NearestCentroid.h"
#include "Patterns.h"
#include "SoftmaxCore.h"

#include "attn/Dialect/Attn/AttnDialect.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Arith/Utils/Utils.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "mlir/IR/TypeUtilities.h"

#include <cmath>

using namespace mlir;
using namespace attn;

/// Code `channel` of a row of code bytes, where `byte` is the byte holding
/// it: the byte itself for 8 bits; for 4 bits the low nibble for an even
/// channel and the high nibble for an odd one. Unsigned codes (with zero
/// points) zero-extend, signed ones sign-extend. Returns an integer-valued
/// f32.
static Value decodeCode(ImplicitLocOpBuilder &b, Value byte, Value channel,
                        int64_t bits, bool isUnsigned) {
  Type f32 = b.getF32Type(), i8 = b.getI8Type();
  if (bits == 8) {
    if (isUnsigned)
      return arith::UIToFPOp::create(b, f32, byte);
    return arith::SIToFPOp::create(b, f32, byte);
  }
  auto i8Const = [&](int64_t v) {
    return arith::ConstantOp::create(b, b.getIntegerAttr(i8, v));
  };
  // shift = 4 * (channel % 2): 0 selects the low nibble, 4 the high one.
  Value odd = arith::IndexCastOp::create(
      b, i8,
      arith::RemUIOp::create(b, channel, arith::ConstantIndexOp::create(b, 2)));
  Value shift = arith::MulIOp::create(b, odd, i8Const(4));
  if (isUnsigned) {
    Value nibble = arith::AndIOp::create(
        b, arith::ShRUIOp::create(b, byte, shift), i8Const(0xF));
    return arith::UIToFPOp::create(b, f32, nibble);
  }
  // Move the nibble to the top of the byte, then shift it back arithmetically.
  Value top = arith::ShLIOp::create(
      b, byte, arith::SubIOp::create(b, i8Const(4), shift));
  Value nibble = arith::ShRSIOp::create(b, top, i8Const(4));
  return arith::SIToFPOp::create(b, f32, nibble);
}

/// f32 [B,Hkv,Lk,W] from codes [B,Hkv,Lk,W or W/2]: x = scale * code (+ zero),
/// with scale (and zero) read through `scaleMap` over loops (b,h,j,c).
static Value dequantize(NaiveBuilder &n, Value codes, Value scale, Value zero,
                        int64_t bits, AffineMap scaleMap,
                        ArrayRef<OpFoldResult> shape) {
  auto d = [&](unsigned i) { return n.d(i); };
  AffineExpr codeColumn = bits == 8 ? d(3) : d(3).floorDiv(2);
  SmallVector<Value> inputs = {codes, scale};
  SmallVector<AffineMap> maps = {n.map(4, {d(0), d(1), d(2), codeColumn}),
                                 scaleMap};
  if (zero) {
    inputs.push_back(zero);
    maps.push_back(scaleMap);
  }
  maps.push_back(n.map(4, {d(0), d(1), d(2), d(3)}));
  return n.generic(
      n.empty(shape, n.builder().getF32Type()), inputs, maps, 4, {},
      [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
        Value code = decodeCode(nb, a[0], ivs[3], bits, /*isUnsigned=*/!!zero);
        Value x = arith::MulFOp::create(nb, a[1], code);
        if (zero)
          x = arith::AddFOp::create(nb, x, a[2]);
        return x;
      });
}

namespace {

/// attn.quant_attention -> dequantised f32 K and V, softmax core.
struct DecomposeQuantAttention : OpRewritePattern<QuantAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(QuantAttentionOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> hq = staticDim(rewriter, op, op.getQuery(), 1, "Hq");
    FailureOr<int64_t> hkv =
        staticDim(rewriter, op, op.getKeyCodes(), 1, "Hkv");
    FailureOr<int64_t> dim = staticDim(rewriter, op, op.getQuery(), 3, "D");
    FailureOr<int64_t> dv = staticDim(rewriter, op, op.getOut(), 3, "Dv");
    if (failed(hq) || failed(hkv) || failed(dim) || failed(dv))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    int64_t bits = op.getBits(), group = op.getGroupSize();
    OpFoldResult batch = n.size(op.getKeyCodes(), 0),
                 lk = n.size(op.getKeyCodes(), 2);
    OpFoldResult heads = b.getIndexAttr(*hkv);
    // Keys: one scale per channel and group of tokens.   loops b,h,j,e
    Value key =
        dequantize(n, op.getKeyCodes(), op.getKeyScale(), op.getKeyZero(), bits,
                   n.map(4, {d(0), d(1), d(2).floorDiv(group), d(3)}),
                   {batch, heads, lk, b.getIndexAttr(*dim)});
    // Values: one scale per token and group of channels. loops b,h,j,c
    Value value =
        dequantize(n, op.getValueCodes(), op.getValueScale(), op.getValueZero(),
                   bits, n.map(4, {d(0), d(1), d(2), d(3).floorDiv(group)}),
                   {batch, heads, lk, b.getIndexAttr(*dv)});

    std::optional<double> scale;
    if (op.getScale())
      scale = op.getScale()->convertToDouble();
    replaceWithSoftmaxAttention(
        rewriter, op, n,
        plainSoftmaxSpec(n, op.getQuery(), key, value, scale, *hq / *hkv,
                         op.getCausal(), op.getKvLens()));
    return success();
  }
};

/// The centroid index of sub-space `sub` from the byte holding it: the byte
/// (unsigned) for Kc = 256, its low nibble for even and high nibble for odd
/// sub-spaces when Kc = 16. Returns an index.
static Value decodeCentroid(ImplicitLocOpBuilder &b, Value byte, Value sub,
                            int64_t kc) {
  Value code = kc == 256 ? byte : Value();
  if (kc == 16) {
    Type i8 = b.getI8Type();
    Value odd = arith::IndexCastOp::create(
        b, i8,
        arith::RemUIOp::create(b, sub, arith::ConstantIndexOp::create(b, 2)));
    Value shift = arith::MulIOp::create(
        b, odd, arith::ConstantOp::create(b, b.getIntegerAttr(i8, 4)));
    code = arith::AndIOp::create(
        b, arith::ShRUIOp::create(b, byte, shift),
        arith::ConstantOp::create(b, b.getIntegerAttr(i8, 0xF)));
  }
  return arith::IndexCastUIOp::create(b, b.getIndexType(), code);
}

/// attn.pq_attention -> keys rebuilt from codes and centroids, softmax core.
struct DecomposePQAttention : OpRewritePattern<PQAttentionOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PQAttentionOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> hq = staticDim(rewriter, op, op.getQuery(), 1, "Hq");
    FailureOr<int64_t> hkv = staticDim(rewriter, op, op.getValue(), 1, "Hkv");
    FailureOr<int64_t> dim = staticDim(rewriter, op, op.getQuery(), 3, "D");
    FailureOr<int64_t> kc = staticDim(rewriter, op, op.getCodebooks(), 2, "Kc");
    FailureOr<int64_t> ds =
        staticDim(rewriter, op, op.getCodebooks(), 3, "the sub-space dim D/m");
    if (failed(hq) || failed(hkv) || failed(dim) || failed(kc) || failed(ds))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    Value codebooks = op.getCodebooks();
    int64_t subDim = *ds, centroids = *kc;
    // Channel e lies in sub-space e / ds, whose code is byte e / ds (Kc = 256)
    // or a nibble of byte e / (2 ds) (Kc = 16).
    AffineExpr codeColumn =
        centroids == 256 ? d(3).floorDiv(subDim) : d(3).floorDiv(2 * subDim);
    SmallVector<OpFoldResult> keyShape = {
        n.size(op.getCodes(), 0), b.getIndexAttr(*hkv),
        n.size(op.getCodes(), 2), b.getIndexAttr(*dim)};
    // k[b,h,j,e] = codebooks[h, s, code(b,h,j,s), e % ds], s = e / ds
    //                                                        loops b,h,j,e
    Value key = n.generic(
        n.empty(keyShape, b.getF32Type()), {op.getCodes()},
        {n.map(4, {d(0), d(1), d(2), codeColumn}),
         n.map(4, {d(0), d(1), d(2), d(3)})},
        4, {}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange ivs) {
          NaiveBuilder m(nb);
          Value sub = arith::DivUIOp::create(nb, ivs[3], m.index(subDim));
          Value within = arith::RemUIOp::create(nb, ivs[3], m.index(subDim));
          Value centroid = decodeCentroid(nb, a[0], sub, centroids);
          return tensor::ExtractOp::create(
                     nb, codebooks, ValueRange{ivs[1], sub, centroid, within})
              .getResult();
        });

    std::optional<double> scale;
    if (op.getScale())
      scale = op.getScale()->convertToDouble();
    replaceWithSoftmaxAttention(
        rewriter, op, n,
        plainSoftmaxSpec(n, op.getQuery(), key, op.getValue(), scale, *hq / *hkv,
                         op.getCausal(), op.getKvLens()));
    return success();
  }
};

/// attn.pq_encode -> f64 squared distances to every centroid, nearest
/// centroid, bytes or packed nibbles.
struct DecomposePQEncode : OpRewritePattern<PQEncodeOp> {
  using OpRewritePattern::OpRewritePattern;

  LogicalResult matchAndRewrite(PQEncodeOp op,
                                PatternRewriter &rewriter) const override {
    FailureOr<int64_t> m = staticDim(rewriter, op, op.getCodebooks(), 1, "m");
    FailureOr<int64_t> kc = staticDim(rewriter, op, op.getCodebooks(), 2, "Kc");
    FailureOr<int64_t> ds =
        staticDim(rewriter, op, op.getCodebooks(), 3, "the sub-space dim D/m");
    if (failed(m) || failed(kc) || failed(ds))
      return failure();
    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    NaiveBuilder n(b);
    auto d = [&](unsigned i) { return n.d(i); };
    Value key = op.getKey();
    SmallVector<OpFoldResult> distShape = {n.size(key, 0), n.size(key, 1),
                                           n.size(key, 2), b.getIndexAttr(*m),
                                           b.getIndexAttr(*kc)};
    // In f64 and in the reference's order, since codes are compared exactly.
    // dist[b,h,j,s,c] = sum_e (k[b,h,j,s ds + e] - cb[h,s,c,e])^2
    //                                                    loops b,h,j,s,c,e
    Value dist = n.generic(
        n.filled(distShape, 0.0, b.getF64Type()), {key, op.getCodebooks()},
        {n.map(6, {d(0), d(1), d(2), d(3) * *ds + d(5)}),
         n.map(6, {d(1), d(3), d(4), d(5)}),
         n.map(6, {d(0), d(1), d(2), d(3), d(4)})},
        6, {5}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
          Value x = arith::ExtFOp::create(nb, nb.getF64Type(), a[0]);
          Value c = arith::ExtFOp::create(nb, nb.getF64Type(), a[1]);
          Value diff = arith::SubFOp::create(nb, x, c);
          Value sq = arith::MulFOp::create(nb, diff, diff);
          return arith::AddFOp::create(nb, a[2], sq).getResult();
        });
    Value nearest = buildNearestCentroid(n, dist);

    SmallVector<OpFoldResult> codeShape = n.sizes(op.getCodes());
    AffineMap id4 = n.map(4, {d(0), d(1), d(2), d(3)});
    Value codes;
    if (*kc == 256) {
      // One byte per sub-space, read back as unsigned.
      codes = n.generic(
          n.empty(codeShape, b.getI8Type()), {nearest}, {id4, id4}, 4, {},
          [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
            return arith::TruncIOp::create(nb, nb.getI8Type(), a[0])
                .getResult();
          });
    } else {
      // byte t = code[2t] | code[2t + 1] << 4: low nibble first.
      codes = n.generic(
          n.empty(codeShape, b.getI8Type()), {nearest, nearest},
          {n.map(4, {d(0), d(1), d(2), d(3) * 2}),
           n.map(4, {d(0), d(1), d(2), d(3) * 2 + 1}), id4},
          4, {}, [&](ImplicitLocOpBuilder &nb, ValueRange a, ValueRange) {
            NaiveBuilder mb(nb);
            Value high = arith::ShLIOp::create(nb, a[1], mb.i32(4));
            Value both = arith::OrIOp::create(nb, a[0], high);
            return arith::TruncIOp::create(nb, nb.getI8Type(), both)
                .getResult();
          });
    }
    rewriter.replaceOp(op, codes);
    return success();
  }
};

} // namespace

void attn::populateCompressedKVDecompositions(RewritePatternSet &patterns) {
  patterns
      .add<DecomposeQuantAttention, DecomposePQAttention, DecomposePQEncode>(
          patterns.getContext());
  populatePQFitDecomposition(patterns);
}
