//===- AttnOps.cpp - verifiers and helpers of the attn ops ----------------===//
//
// This file implements the verifiers of every attn op. Each verifier states
// the operand shapes with OPS.md's symbols through ShapeVerifier, then checks
// the rules that are not plain shape equalities (head groups, attribute
// ranges, which optional operands go together).
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/AttnDialect.h"
#include "ShapeVerifier.h"

#include "mlir/IR/Builders.h"
#include "mlir/IR/OpImplementation.h"
#include "mlir/IR/TypeUtilities.h"
#include "llvm/ADT/bit.h"

#include <cmath>

using namespace mlir;
using namespace attn;

#define GET_OP_CLASSES
#include "attn/Dialect/Attn/AttnOps.cpp.inc"

//===----------------------------------------------------------------------===//
// Shared rules
//===----------------------------------------------------------------------===//

/// Query heads must be a whole number of groups of key/value heads.
static LogicalResult verifyHeadGroups(ShapeVerifier &sv, StringRef q = "Hq",
                                      StringRef kv = "Hkv") {
  std::optional<int64_t> hq = sv.get(q), hkv = sv.get(kv);
  if (hkv && *hkv == 0)
    return sv.error() << "key/value head count must be positive";
  if (hq && hkv && *hq % *hkv != 0)
    return sv.error() << "query heads (" << *hq
                      << ") must be a multiple of key/value heads (" << *hkv
                      << ")";
  return success();
}

/// Optional f64 attributes arrive as APFloat; the rules compare doubles.
static std::optional<double> asDouble(std::optional<llvm::APFloat> value) {
  if (!value)
    return std::nullopt;
  return value->convertToDouble();
}

static LogicalResult verifyScale(Operation *op, std::optional<double> scale) {
  if (scale && (!std::isfinite(*scale) || *scale == 0.0))
    return op->emitOpError() << "scale must be finite and non-zero, got "
                             << *scale;
  return success();
}

static LogicalResult verifyAtLeast(Operation *op, StringRef name,
                                   int64_t value, int64_t min) {
  if (value < min)
    return op->emitOpError() << name << " must be at least " << min << ", got "
                             << value;
  return success();
}

/// Number of Fenwick levels a sequence of length L needs: ceil(log2 L) + 1.
static int64_t fenwickLevels(int64_t length) {
  return length <= 1 ? 1 : llvm::bit_width(uint64_t(length - 1)) + 1;
}

/// The rules every selection op shares on topk and its forced tokens. Token
/// selections must fit their forced tokens into topk; quest_select counts
/// forced tokens in keys but selects pages, so it skips that rule (several
/// forced keys share a page).
static LogicalResult verifySelection(Operation *op, int64_t topk,
                                     int64_t sinkTokens, int64_t localWindow,
                                     bool selectsTokens = true) {
  if (failed(verifyAtLeast(op, "topk", topk, 1)) ||
      failed(verifyAtLeast(op, "sink_tokens", sinkTokens, 0)) ||
      failed(verifyAtLeast(op, "local_window", localWindow, 0)))
    return failure();
  if (selectsTokens && sinkTokens + localWindow > topk)
    return op->emitOpError()
           << "sink_tokens + local_window (" << sinkTokens + localWindow
           << ") must not exceed topk (" << topk << ")";
  return success();
}

//===----------------------------------------------------------------------===//
// AttentionOp
//===----------------------------------------------------------------------===//

double AttentionOp::getEffectiveScale() {
  if (std::optional<double> s = asDouble(getScale()))
    return *s;
  int64_t d = getQuery().getType().getDimSize(3);
  return 1.0 / std::sqrt(static_cast<double>(d));
}

LogicalResult AttentionOp::verify() {
  ShapeVerifier sv(*this);
  // With a block table, key and value are page pools [P, Hkv, PS, *] and the
  // logical key axis is NP * PS.
  bool paged = bool(getBlockTable());
  StringRef kvRows = paged ? "P" : "B", kvLen = paged ? "PS" : "Lk";
  if (failed(sv.operand("query", getQuery().getType(), {"B", "Hq", "Lq", "D"})) ||
      failed(sv.operand("key", getKey().getType(), {kvRows, "Hkv", kvLen, "D"})) ||
      failed(sv.operand("value", getValue().getType(), {kvRows, "Hkv", kvLen, "Dv"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "Hq", "Lq", "Dv"})) ||
      failed(sv.sameElementType({{"query", getQuery().getType()},
                                 {"key", getKey().getType()},
                                 {"value", getValue().getType()},
                                 {"out", getOut().getType()}})) ||
      failed(verifyHeadGroups(sv)))
    return failure();
  if (Value lse = getLse())
    if (failed(sv.operand("lse", lse.getType(), {"B", "Hq", "Lq"})))
      return failure();
  if (paged) {
    if (failed(sv.operand("block_table", getBlockTable().getType(), {"B", "NP"})))
      return failure();
    std::optional<int64_t> pages = sv.get("NP"), pageSize = sv.get("PS"),
                           pool = sv.get("P");
    if (!pages || !pageSize)
      return emitOpError() << "a paged cache needs a static page size (axis 2 "
                              "of the key pool) and block table width";
    if (*pageSize == 0)
      return emitOpError() << "page size (axis 2 of the key pool) must be positive";
    if (pool && *pool == 0)
      return emitOpError() << "the page pool (axis 0 of the key pool) must hold "
                              "at least one page";
    if (failed(sv.derive("Lk", pages && pageSize ? std::optional(*pages * *pageSize)
                                                 : std::nullopt,
                         "block table width x page size")))
      return failure();
  }
  if (Value lens = getKvLens())
    if (failed(sv.operand("kv_lens", lens.getType(), {"B"})))
      return failure();

  if (Value mask = getMask()) {
    if (failed(sv.operand("mask", mask.getType(), {"B|1", "Hq|1", "Lq", "Lk"})))
      return failure();
    Type elem = getElementTypeOrSelf(mask.getType());
    Type qElem = getElementTypeOrSelf(getQuery().getType());
    if (!elem.isInteger(1) && !elem.isF32() && elem != qElem)
      return emitOpError() << "additive mask element type " << elem
                           << " must be f32 or the query element type "
                           << qElem;
  }

  // Block sparsity: each list comes with its counts, and both need the block
  // sizes that give the lists their meaning.
  bool hasBlocks = getKvNumBlocks() || getKvIndices();
  bool hasFull = getFullKvNumBlocks() || getFullKvIndices();
  if (bool(getKvNumBlocks()) != bool(getKvIndices()))
    return emitOpError() << "kv_num_blocks and kv_indices must be given together";
  if (bool(getFullKvNumBlocks()) != bool(getFullKvIndices()))
    return emitOpError()
           << "full_kv_num_blocks and full_kv_indices must be given together";
  bool anyBlockSize = getBlockQ() || getBlockK();
  bool bothBlockSizes = getBlockQ() && getBlockK();
  if ((hasBlocks || hasFull) ? !bothBlockSizes : anyBlockSize)
    return emitOpError() << "block_q and block_k must be set exactly when "
                            "block lists are given";
  if (hasBlocks || hasFull) {
    int64_t bq = *getBlockQ(), bk = *getBlockK();
    if (failed(verifyAtLeast(*this, "block_q", bq, 1)) ||
        failed(verifyAtLeast(*this, "block_k", bk, 1)))
      return failure();
    std::optional<int64_t> lq = sv.get("Lq");
    if (failed(sv.derive("NQB", lq ? std::optional(ceilDiv(*lq, bq)) : std::nullopt,
                         "ceil(Lq / block_q)")))
      return failure();
    if (hasBlocks &&
        (failed(sv.operand("kv_num_blocks", getKvNumBlocks().getType(),
                           {"B|1", "Hq|1", "NQB"})) ||
         failed(sv.operand("kv_indices", getKvIndices().getType(),
                           {"B|1", "Hq|1", "NQB", "_"}))))
      return failure();
    if (hasFull &&
        (failed(sv.operand("full_kv_num_blocks", getFullKvNumBlocks().getType(),
                           {"B|1", "Hq|1", "NQB"})) ||
         failed(sv.operand("full_kv_indices", getFullKvIndices().getType(),
                           {"B|1", "Hq|1", "NQB", "_"}))))
      return failure();
  }

  if (Value sinks = getSinks())
    if (failed(sv.operand("sinks", sinks.getType(), {"Hq"})))
      return failure();

  if (std::optional<ArrayRef<int64_t>> window = getWindow()) {
    if (window->size() != 2)
      return emitOpError() << "window must be [left, right], got "
                           << window->size() << " values";
    if ((*window)[0] < 0 || (*window)[1] < 0)
      return emitOpError() << "window sizes must be non-negative, got ["
                           << (*window)[0] << ", " << (*window)[1] << "]";
  }
  if (std::optional<double> cap = asDouble(getSoftcap()))
    if (!(*cap > 0.0) || !std::isfinite(*cap))
      return emitOpError() << "softcap must be positive and finite, got "
                           << *cap;
  return verifyScale(*this, asDouble(getScale()));
}

/// Checks that a mod region has one block with the given argument types and
/// yields one value of type `yielded`.
static LogicalResult verifyModRegion(Operation *op, Region &region,
                                     StringRef name, TypeRange args,
                                     Type yielded) {
  if (region.empty())
    return success();
  Block &block = region.front();
  if (block.getArgumentTypes() != args) {
    auto diag = op->emitOpError() << name << " region must take (";
    llvm::interleaveComma(args, diag);
    return diag << ") arguments";
  }
  auto yield = dyn_cast<YieldOp>(block.getTerminator());
  if (!yield)
    return op->emitOpError() << name << " region must end with attn.yield";
  if (yield.getValue().getType() != yielded)
    return op->emitOpError() << name << " region must yield " << yielded
                             << ", got " << yield.getValue().getType();
  return success();
}

LogicalResult AttentionOp::verifyRegions() {
  Builder b(getContext());
  Type idx = b.getIndexType();
  if (failed(verifyModRegion(*this, getScoreMod(), "score_mod",
                             {b.getF32Type(), idx, idx, idx, idx},
                             b.getF32Type())))
    return failure();
  return verifyModRegion(*this, getMaskMod(), "mask_mod", {idx, idx, idx, idx},
                         b.getI1Type());
}

//===----------------------------------------------------------------------===//
// MergeOp and DiffAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult MergeOp::verify() {
  ShapeVerifier sv(*this);
  return failure(
      failed(sv.operand("outs", getOuts().getType(), {"N", "B", "H", "L", "Dv"})) ||
      failed(sv.operand("lses", getLses().getType(), {"N", "B", "H", "L"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "H", "L", "Dv"})) ||
      failed(sv.operand("lse", getLse().getType(), {"B", "H", "L"})) ||
      failed(sv.sameElementType(
          {{"outs", getOuts().getType()}, {"out", getOut().getType()}})));
}

LogicalResult DiffAttentionOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query1", getQuery1().getType(), {"B", "Hq", "Lq", "D"})) ||
      failed(sv.operand("query2", getQuery2().getType(), {"B", "Hq", "Lq", "D"})) ||
      failed(sv.operand("key1", getKey1().getType(), {"B", "Hkv", "Lk", "D"})) ||
      failed(sv.operand("key2", getKey2().getType(), {"B", "Hkv", "Lk", "D"})) ||
      failed(sv.operand("value", getValue().getType(), {"B", "Hkv", "Lk", "Dv"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "Hq", "Lq", "Dv"})) ||
      failed(sv.operand("lambda", getLambda().getType(), {"Hq"})) ||
      failed(sv.sameElementType({{"query1", getQuery1().getType()},
                                 {"query2", getQuery2().getType()},
                                 {"key1", getKey1().getType()},
                                 {"key2", getKey2().getType()},
                                 {"value", getValue().getType()},
                                 {"out", getOut().getType()}})) ||
      failed(verifyHeadGroups(sv)))
    return failure();
  if (Value w = getNormWeight())
    if (failed(sv.operand("norm_weight", w.getType(), {"Dv"})))
      return failure();
  double init = getLambdaInit().convertToDouble();
  if (!(init >= 0.0 && init < 1.0))
    return emitOpError() << "lambda_init must be in [0, 1), got " << init;
  if (!(getEps().convertToDouble() > 0.0))
    return emitOpError() << "eps must be positive";
  return verifyScale(*this, asDouble(getScale()));
}

//===----------------------------------------------------------------------===//
// FeatureMapOp and LinearAttentionOp
//===----------------------------------------------------------------------===//

LogicalResult FeatureMapOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("input", getInput().getType(), {"B", "H", "L", "D"})) ||
      failed(sv.operand("output", getOutput().getType(), {"B", "H", "L", "F"})) ||
      failed(sv.sameElementType(
          {{"input", getInput().getType()}, {"output", getOutput().getType()}})))
    return failure();
  if (getKind() != FeatureMapKind::hedgehog) {
    if (getWeight())
      return emitOpError() << "weight is only taken by the hedgehog feature map";
    return sv.derive("F", sv.get("D"), "feature map " +
                                           stringifyFeatureMapKind(getKind()).str() +
                                           " (F = D)");
  }
  if (!getWeight())
    return emitOpError() << "hedgehog feature map needs a weight [H, D, F/2]";
  if (failed(sv.operand("weight", getWeight().getType(), {"H", "D", "F/2"})) ||
      failed(sv.sameElementType(
          {{"input", getInput().getType()}, {"weight", getWeight().getType()}})))
    return failure();
  std::optional<int64_t> half = sv.get("F/2");
  return sv.derive("F", half ? std::optional(2 * *half) : std::nullopt,
                   "hedgehog (F = 2 * weight axis 2)");
}

LogicalResult LinearAttentionOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "H", "L", "F"})) ||
      failed(sv.operand("key", getKey().getType(), {"B", "H", "L", "F"})) ||
      failed(sv.operand("value", getValue().getType(), {"B", "H", "L", "Dv"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "H", "L", "Dv"})) ||
      failed(sv.sameElementType({{"query", getQuery().getType()},
                                 {"key", getKey().getType()},
                                 {"value", getValue().getType()},
                                 {"out", getOut().getType()}})))
    return failure();

  Value gate = getGate();
  switch (getDecay()) {
  case DecayKind::none:
    if (gate)
      return emitOpError() << "decay 'none' takes no gate";
    break;
  case DecayKind::constant:
  case DecayKind::scalar:
  case DecayKind::vector: {
    if (!gate)
      return emitOpError() << "decay '" << stringifyDecayKind(getDecay())
                           << "' needs a gate (log-space decay)";
    SmallVector<StringRef> shape;
    if (getDecay() == DecayKind::constant)
      shape = {"H"};
    else if (getDecay() == DecayKind::scalar)
      shape = {"B", "H", "L"};
    else
      shape = {"B", "H", "L", "F"};
    if (failed(sv.operand("gate", gate.getType(), shape)))
      return failure();
    break;
  }
  }

  bool normalize = getNormalize();
  if (getNormIn() && !(normalize && getStateIn()))
    return emitOpError() << "norm_in needs normalize and state_in";
  if (normalize && getStateIn() && !getNormIn())
    return emitOpError() << "a normalised op with state_in needs norm_in";
  if (getNormOut() && !(normalize && getStateOut()))
    return emitOpError() << "norm_out needs normalize and state_out";
  if (normalize && getStateOut() && !getNormOut())
    return emitOpError() << "a normalised op with state_out must return norm_out";
  if (Value s = getStateIn())
    if (failed(sv.operand("state_in", s.getType(), {"B", "H", "F", "Dv"})))
      return failure();
  if (Value s = getStateOut())
    if (failed(sv.operand("state_out", s.getType(), {"B", "H", "F", "Dv"})))
      return failure();
  if (Value z = getNormIn())
    if (failed(sv.operand("norm_in", z.getType(), {"B", "H", "F"})))
      return failure();
  if (Value z = getNormOut())
    if (failed(sv.operand("norm_out", z.getType(), {"B", "H", "F"})))
      return failure();
  if (normalize && !(getEps().convertToDouble() > 0.0))
    return emitOpError() << "eps must be positive";
  return verifyScale(*this, getScale().convertToDouble());
}

//===----------------------------------------------------------------------===//
// DeltaRuleOp, LogLinearOp, LolcatsHybridOp
//===----------------------------------------------------------------------===//

LogicalResult DeltaRuleOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "H", "L", "D"})) ||
      failed(sv.operand("key", getKey().getType(), {"B", "H", "L", "D"})) ||
      failed(sv.operand("value", getValue().getType(), {"B", "H", "L", "Dv"})) ||
      failed(sv.operand("beta", getBeta().getType(), {"B", "H", "L"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "H", "L", "Dv"})) ||
      failed(sv.sameElementType({{"query", getQuery().getType()},
                                 {"key", getKey().getType()},
                                 {"value", getValue().getType()},
                                 {"out", getOut().getType()}})))
    return failure();
  Value gate = getGate();
  if (getKind() == DeltaKind::deltanet && gate)
    return emitOpError() << "deltanet takes no gate";
  if (getKind() != DeltaKind::deltanet && !gate)
    return emitOpError() << stringifyDeltaKind(getKind())
                         << " needs a gate (log-space decay)";
  if (getKind() == DeltaKind::gated &&
      failed(sv.operand("gate", gate.getType(), {"B", "H", "L"})))
    return failure();
  if (getKind() == DeltaKind::kda &&
      failed(sv.operand("gate", gate.getType(), {"B", "H", "L", "D"})))
    return failure();
  if (Value s = getStateIn())
    if (failed(sv.operand("state_in", s.getType(), {"B", "H", "D", "Dv"})))
      return failure();
  if (Value s = getStateOut())
    if (failed(sv.operand("state_out", s.getType(), {"B", "H", "D", "Dv"})))
      return failure();
  return verifyScale(*this, getScale().convertToDouble());
}

LogicalResult LogLinearOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "H", "L", "D"})) ||
      failed(sv.operand("key", getKey().getType(), {"B", "H", "L", "D"})) ||
      failed(sv.operand("value", getValue().getType(), {"B", "H", "L", "Dv"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "H", "L", "Dv"})) ||
      failed(sv.sameElementType({{"query", getQuery().getType()},
                                 {"key", getKey().getType()},
                                 {"value", getValue().getType()},
                                 {"out", getOut().getType()}})))
    return failure();
  std::optional<int64_t> len = sv.get("L");
  // Streaming: the states fix the level count; otherwise L does.
  if (!isStreaming() &&
      failed(sv.derive("NLEV", len ? std::optional(fenwickLevels(*len)) : std::nullopt,
                       "ceil(log2 L) + 1")))
    return failure();
  if (failed(sv.operand("lambda", getLambda().getType(), {"B", "H", "L", "NLEV"})))
    return failure();
  if (Value state = getStateIn())
    if (failed(sv.operand("state_in", state.getType(), {"B", "H", "NLEV", "D", "Dv"})))
      return failure();
  if (Value state = getStateOut())
    if (failed(sv.operand("state_out", state.getType(), {"B", "H", "NLEV", "D", "Dv"})))
      return failure();
  if (Value start = getStart())
    if (failed(sv.operand("start", start.getType(), {"B"})))
      return failure();
  if (std::optional<int64_t> levels = sv.get("NLEV"); levels && *levels < 1)
    return emitOpError() << "lambda needs at least one level";
  bool needsGate = getBase() != LogLinearBase::linear;
  bool needsBeta = getBase() == LogLinearBase::gated_deltanet;
  StringRef base = stringifyLogLinearBase(getBase());
  if (needsGate != bool(getGate()))
    return emitOpError() << "base '" << base << "' "
                         << (needsGate ? "needs" : "takes no") << " gate";
  if (needsBeta != bool(getBeta()))
    return emitOpError() << "base '" << base << "' "
                         << (needsBeta ? "needs" : "takes no") << " beta";
  if (Value g = getGate())
    if (failed(sv.operand("gate", g.getType(), {"B", "H", "L"})))
      return failure();
  if (Value b = getBeta())
    if (failed(sv.operand("beta", b.getType(), {"B", "H", "L"})))
      return failure();
  return verifyScale(*this, getScale().convertToDouble());
}

LogicalResult LolcatsHybridOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "H", "L", "D"})) ||
      failed(sv.operand("key", getKey().getType(), {"B", "H", "L", "D"})) ||
      failed(sv.operand("value", getValue().getType(), {"B", "H", "L", "Dv"})) ||
      failed(sv.operand("feature_query", getFeatureQuery().getType(),
                        {"B", "H", "L", "F"})) ||
      failed(sv.operand("feature_key", getFeatureKey().getType(),
                        {"B", "H", "L", "F"})) ||
      failed(sv.operand("gamma", getGamma().getType(), {"H"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "H", "L", "Dv"})) ||
      failed(sv.sameElementType({{"query", getQuery().getType()},
                                 {"key", getKey().getType()},
                                 {"value", getValue().getType()},
                                 {"feature_query", getFeatureQuery().getType()},
                                 {"feature_key", getFeatureKey().getType()},
                                 {"out", getOut().getType()}})) ||
      failed(verifyAtLeast(*this, "window", getWindow(), 1)))
    return failure();
  return verifyScale(*this, asDouble(getScale()));
}

LogicalResult LolcatsDecodeOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "H", "1", "D"})) ||
      failed(sv.operand("key", getKey().getType(), {"B", "H", "1", "D"})) ||
      failed(sv.operand("value", getValue().getType(), {"B", "H", "1", "Dv"})) ||
      failed(sv.operand("feature_query", getFeatureQuery().getType(),
                        {"B", "H", "1", "F"})) ||
      failed(sv.operand("feature_key", getFeatureKey().getType(),
                        {"B", "H", "1", "F"})) ||
      failed(sv.operand("gamma", getGamma().getType(), {"H"})) ||
      failed(sv.operand("position", getPosition().getType(), {"B"})) ||
      failed(sv.operand("state", getState().getType(), {"B", "H", "F", "Dv"})) ||
      failed(sv.operand("norm", getNorm().getType(), {"B", "H", "F"})) ||
      failed(sv.operand("window_key", getWindowKey().getType(), {"B", "H", "W", "D"})) ||
      failed(sv.operand("window_value", getWindowValue().getType(),
                        {"B", "H", "W", "Dv"})) ||
      failed(sv.operand("window_feature", getWindowFeature().getType(),
                        {"B", "H", "W", "F"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "H", "1", "Dv"})) ||
      failed(sv.sameElementType({{"query", getQuery().getType()},
                                 {"key", getKey().getType()},
                                 {"value", getValue().getType()},
                                 {"feature_query", getFeatureQuery().getType()},
                                 {"out", getOut().getType()}})))
    return failure();
  if (std::optional<int64_t> w = sv.get("W"); w && *w < 1)
    return emitOpError() << "the window must hold at least one token";
  return verifyScale(*this, asDouble(getScale()));
}

//===----------------------------------------------------------------------===//
// Token-sparse attention and selection ops
//===----------------------------------------------------------------------===//

LogicalResult SparseAttentionOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "Hq", "Lq", "D"})) ||
      failed(sv.operand("key", getKey().getType(), {"B", "Hkv", "Lk", "D"})) ||
      failed(sv.operand("value", getValue().getType(), {"B", "Hkv", "Lk", "Dv"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "Hq", "Lq", "Dv"})) ||
      failed(sv.sameElementType({{"query", getQuery().getType()},
                                 {"key", getKey().getType()},
                                 {"value", getValue().getType()},
                                 {"out", getOut().getType()}})) ||
      failed(verifyHeadGroups(sv)) ||
      failed(verifyAtLeast(*this, "query_block", getQueryBlock(), 1)) ||
      failed(verifyAtLeast(*this, "key_block", getKeyBlock(), 1)))
    return failure();
  if (Value lse = getLse())
    if (failed(sv.operand("lse", lse.getType(), {"B", "Hq", "Lq"})))
      return failure();
  std::optional<int64_t> lq = sv.get("Lq");
  if (failed(sv.derive("NQ", lq ? std::optional(ceilDiv(*lq, getQueryBlock())) : std::nullopt,
                       "ceil(Lq / query_block)")) ||
      failed(sv.operand("indices", getIndices().getType(), {"B", "_", "NQ", "K"})))
    return failure();
  int64_t hi = getIndices().getType().getDimSize(1);
  std::optional<int64_t> hq = sv.get("Hq"), hkv = sv.get("Hkv");
  if (!ShapedType::isDynamic(hi) && hi != 1 && hq && hkv && hi != *hq &&
      hi != *hkv)
    return emitOpError() << "indices axis 1 is " << hi
                         << ", but it must be 1, Hkv = " << *hkv
                         << " or Hq = " << *hq;
  return verifyScale(*this, asDouble(getScale()));
}

LogicalResult TopkSelectOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "Hq", "Lq", "D"})) ||
      failed(sv.operand("key", getKey().getType(), {"B", "Hkv", "Lk", "D"})) ||
      failed(sv.sameElementType(
          {{"query", getQuery().getType()}, {"key", getKey().getType()}})) ||
      failed(verifyHeadGroups(sv)) ||
      failed(verifySelection(*this, getTopk(), getSinkTokens(), getLocalWindow())) ||
      failed(sv.derive("K", getTopk(), "topk")))
    return failure();
  return sv.operand("indices", getIndices().getType(), {"B", "Hq", "Lq", "K"});
}

LogicalResult AdamasSelectOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "Hq", "Lq", "D"})) ||
      failed(sv.operand("key", getKey().getType(), {"B", "Hkv", "Lk", "D"})) ||
      failed(sv.sameElementType(
          {{"query", getQuery().getType()}, {"key", getKey().getType()}})) ||
      failed(verifyHeadGroups(sv)) ||
      failed(verifySelection(*this, getTopk(), getSinkTokens(), getLocalWindow())) ||
      failed(sv.derive("K", getTopk(), "topk")) ||
      failed(sv.operand("indices", getIndices().getType(), {"B", "Hq", "Lq", "K"})))
    return failure();
  if (std::optional<int64_t> d = sv.get("D"); d && !llvm::has_single_bit(uint64_t(*d)))
    return emitOpError() << "the Hadamard transform needs D to be a power of "
                            "two, got D = "
                         << *d;
  return success();
}

LogicalResult PageBoundsOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(verifyAtLeast(*this, "page_size", getPageSize(), 1)) ||
      failed(sv.operand("key", getKey().getType(), {"B", "H", "L", "D"})))
    return failure();
  std::optional<int64_t> len = sv.get("L");
  if (failed(sv.derive("P", len ? std::optional(ceilDiv(*len, getPageSize())) : std::nullopt,
                       "ceil(L / page_size)")))
    return failure();
  return failure(
      failed(sv.operand("kmin", getKmin().getType(), {"B", "H", "P", "D"})) ||
      failed(sv.operand("kmax", getKmax().getType(), {"B", "H", "P", "D"})));
}

LogicalResult QuestSelectOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(verifyAtLeast(*this, "page_size", getPageSize(), 1)) ||
      failed(verifyAtLeast(*this, "key_length", getKeyLength(), 0)) ||
      failed(verifySelection(*this, getTopk(), getSinkTokens(), getLocalWindow(),
                             /*selectsTokens=*/false)) ||
      failed(sv.operand("query", getQuery().getType(), {"B", "Hq", "Lq", "D"})) ||
      failed(sv.derive("P", ceilDiv(getKeyLength(), getPageSize()),
                       "ceil(key_length / page_size)")) ||
      failed(sv.operand("kmin", getKmin().getType(), {"B", "Hkv", "P", "D"})) ||
      failed(sv.operand("kmax", getKmax().getType(), {"B", "Hkv", "P", "D"})) ||
      failed(verifyHeadGroups(sv)) ||
      failed(sv.derive("K", getTopk(), "topk")))
    return failure();
  return sv.operand("indices", getIndices().getType(), {"B", "Hq", "Lq", "K"});
}

LogicalResult DsaIndexerOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "Hi", "Lq", "Di"})) ||
      failed(sv.operand("key", getKey().getType(), {"B", "1", "Lk", "Di"})) ||
      failed(sv.operand("weights", getWeights().getType(), {"B", "Hi", "Lq"})) ||
      failed(sv.sameElementType(
          {{"query", getQuery().getType()}, {"key", getKey().getType()}})) ||
      failed(verifySelection(*this, getTopk(), getSinkTokens(), getLocalWindow())) ||
      failed(sv.derive("K", getTopk(), "topk")))
    return failure();
  return sv.operand("indices", getIndices().getType(), {"B", "1", "Lq", "K"});
}

//===----------------------------------------------------------------------===//
// Quantised KV and product quantisation
//===----------------------------------------------------------------------===//

/// Bytes along the last axis for `size` codes of `bits` bits each.
static std::optional<int64_t> packedWidth(std::optional<int64_t> size,
                                          int64_t bits) {
  if (!size)
    return std::nullopt;
  return bits == 4 ? *size / 2 : *size;
}

LogicalResult QuantAttentionOp::verify() {
  ShapeVerifier sv(*this);
  int64_t bits = getBits(), group = getGroupSize();
  if (bits != 4 && bits != 8)
    return emitOpError() << "bits must be 4 or 8, got " << bits;
  if (failed(verifyAtLeast(*this, "group_size", group, 1)) ||
      failed(sv.operand("query", getQuery().getType(), {"B", "Hq", "Lq", "D"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "Hq", "Lq", "Dv"})) ||
      failed(sv.sameElementType(
          {{"query", getQuery().getType()}, {"out", getOut().getType()}})))
    return failure();
  if (Value lse = getLse())
    if (failed(sv.operand("lse", lse.getType(), {"B", "Hq", "Lq"})))
      return failure();
  for (StringRef dim : {"D", "Dv"})
    if (std::optional<int64_t> d = sv.get(dim); bits == 4 && d && *d % 2)
      return emitOpError() << "4-bit codes pack two per byte, so " << dim
                           << " must be even, got " << *d;
  // Code widths tie D and Dv to the code tensors both ways: a static query
  // fixes the code width, and static codes fix a dynamic D for the scales.
  int64_t perByte = bits == 4 ? 2 : 1;
  if (failed(sv.derive("DC", packedWidth(sv.get("D"), bits),
                       bits == 4 ? "D / 2 (4-bit codes)" : "D (8-bit codes)")) ||
      failed(sv.derive("DvC", packedWidth(sv.get("Dv"), bits),
                       bits == 4 ? "Dv / 2 (4-bit codes)" : "Dv (8-bit codes)")) ||
      failed(sv.operand("key_codes", getKeyCodes().getType(),
                        {"B", "Hkv", "Lk", "DC"})) ||
      failed(sv.operand("value_codes", getValueCodes().getType(),
                        {"B", "Hkv", "Lk", "DvC"})) ||
      failed(verifyHeadGroups(sv)))
    return failure();
  if (std::optional<int64_t> dc = sv.get("DC"); dc && !sv.get("D"))
    (void)sv.derive("D", *dc * perByte, "the key code width");
  if (std::optional<int64_t> dvc = sv.get("DvC"); dvc && !sv.get("Dv"))
    (void)sv.derive("Dv", *dvc * perByte, "the value code width");
  std::optional<int64_t> lk = sv.get("Lk"), dv = sv.get("Dv");
  if (failed(sv.derive("NKG", lk ? std::optional(ceilDiv(*lk, group)) : std::nullopt,
                       "ceil(Lk / group_size)")) ||
      failed(sv.derive("NVG", dv ? std::optional(ceilDiv(*dv, group)) : std::nullopt,
                       "ceil(Dv / group_size)")) ||
      failed(sv.operand("key_scale", getKeyScale().getType(),
                        {"B", "Hkv", "NKG", "D"})) ||
      failed(sv.operand("value_scale", getValueScale().getType(),
                        {"B", "Hkv", "Lk", "NVG"})))
    return failure();
  if (Value z = getKeyZero())
    if (failed(sv.operand("key_zero", z.getType(), {"B", "Hkv", "NKG", "D"})))
      return failure();
  if (Value z = getValueZero())
    if (failed(sv.operand("value_zero", z.getType(), {"B", "Hkv", "Lk", "NVG"})))
      return failure();
  if (Value lens = getKvLens())
    if (failed(sv.operand("kv_lens", lens.getType(), {"B"})))
      return failure();
  return verifyScale(*this, asDouble(getScale()));
}

/// Shared PQ codebook rules: Kc in {16, 256} and D = m * (D/m).
static LogicalResult verifyCodebooks(ShapeVerifier &sv, StringRef heads,
                                     Type codebooks) {
  if (failed(sv.operand("codebooks", codebooks, {heads, "m", "Kc", "D/m"})))
    return failure();
  std::optional<int64_t> kc = sv.get("Kc"), m = sv.get("m"), ds = sv.get("D/m"),
                         d = sv.get("D");
  if (kc && *kc != 16 && *kc != 256)
    return sv.error() << "codebook size Kc must be 16 (4-bit codes) or 256 "
                         "(8-bit codes), got "
                      << *kc;
  if (m && *m < 1)
    return sv.error() << "the number of PQ sub-spaces must be positive";
  if (m && ds && d && *m * *ds != *d)
    return sv.error() << "PQ sub-spaces must tile D: " << *m << " sub-spaces of "
                      << *ds << " dims cover " << *m * *ds << ", but D = "
                      << *d;
  if (m && d && !ds && *d % *m)
    return sv.error() << "PQ sub-space count " << *m << " must divide D = "
                      << *d;
  return success();
}

/// Codes per token: m bytes for Kc = 256, m/2 bytes for Kc = 16.
static LogicalResult verifyCodeWidth(ShapeVerifier &sv) {
  std::optional<int64_t> kc = sv.get("Kc"), m = sv.get("m");
  if (!kc || !m)
    return success();
  if (*kc == 16 && *m % 2)
    return sv.error() << "4-bit PQ codes pack two sub-spaces per byte, so m "
                         "must be even, got "
                      << *m;
  return sv.derive("MC", *kc == 16 ? *m / 2 : *m,
                   *kc == 16 ? "m / 2 (Kc = 16, packed nibbles)"
                             : "m (Kc = 256, one byte per code)");
}

LogicalResult PQFitOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("keys", getKeys().getType(), {"H", "N", "D"})) ||
      failed(verifyCodebooks(sv, "H", getCodebooks().getType())) ||
      failed(verifyCodeWidth(sv)) ||
      failed(verifyAtLeast(*this, "iters", getIters(), 0)))
    return failure();
  std::optional<int64_t> n = sv.get("N"), kc = sv.get("Kc");
  if (n && kc && *n < *kc)
    return emitOpError() << "k-means needs at least Kc = " << *kc
                         << " calibration keys, got N = " << *n;
  return success();
}

LogicalResult PQEncodeOp::verify() {
  ShapeVerifier sv(*this);
  return failure(
      failed(sv.operand("key", getKey().getType(), {"B", "H", "L", "D"})) ||
      failed(verifyCodebooks(sv, "H", getCodebooks().getType())) ||
      failed(verifyCodeWidth(sv)) ||
      failed(sv.operand("codes", getCodes().getType(), {"B", "H", "L", "MC"})));
}

LogicalResult PQAttentionOp::verify() {
  ShapeVerifier sv(*this);
  if (failed(sv.operand("query", getQuery().getType(), {"B", "Hq", "Lq", "D"})) ||
      failed(verifyCodebooks(sv, "Hkv", getCodebooks().getType())) ||
      failed(verifyCodeWidth(sv)) ||
      failed(sv.operand("codes", getCodes().getType(), {"B", "Hkv", "Lk", "MC"})) ||
      failed(sv.operand("value", getValue().getType(), {"B", "Hkv", "Lk", "Dv"})) ||
      failed(sv.operand("out", getOut().getType(), {"B", "Hq", "Lq", "Dv"})) ||
      failed(sv.sameElementType({{"query", getQuery().getType()},
                                 {"value", getValue().getType()},
                                 {"out", getOut().getType()}})) ||
      failed(verifyHeadGroups(sv)))
    return failure();
  if (Value lse = getLse())
    if (failed(sv.operand("lse", lse.getType(), {"B", "Hq", "Lq"})))
      return failure();
  if (Value lens = getKvLens())
    if (failed(sv.operand("kv_lens", lens.getType(), {"B"})))
      return failure();
  return verifyScale(*this, asDouble(getScale()));
}
