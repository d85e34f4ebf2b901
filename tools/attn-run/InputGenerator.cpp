//===- InputGenerator.cpp - random inputs that respect each role ----------===//
//
// This file implements the per-role input domains of attn-run --random.
//
//===----------------------------------------------------------------------===//

#include "InputGenerator.h"

#include "attn/Dialect/Attn/AttnDialect.h"
#include "attn/Dialect/Attn/OperandRoles.h"

#include "llvm/ADT/StringRef.h"

#include <algorithm>
#include <cmath>

using namespace mlir;
using namespace attn;

namespace {
struct Domain {
  enum Kind { Uniform, Integer, Boolean } kind = Uniform;
  double lo = -1.0, hi = 1.0;
};
} // namespace

static int64_t ceilDiv(int64_t a, int64_t b) { return (a + b - 1) / b; }

/// The first attn op that uses `arg`, if any.
static Operation *attnUser(Value arg) {
  if (!arg)
    return nullptr;
  for (Operation *user : arg.getUsers())
    if (isa<AttnDialect>(user->getDialect()))
      return user;
  return nullptr;
}

static Domain domainFor(Value arg, StringRef role, const HostTensor &t) {
  Domain d;
  Operation *user = attnUser(arg);
  StringRef op = role.split('.').first, operand = role.split('.').second;
  auto integer = [](double lo, double hi) {
    return Domain{Domain::Integer, lo, hi};
  };
  if (t.dtype == "i1")
    return Domain{Domain::Boolean, /*probability of true=*/0.8, 0};
  if (operand == "kv_num_blocks" || operand == "full_kv_num_blocks") {
    int64_t maxBlocks = 4;
    if (auto a = dyn_cast_or_null<AttentionOp>(user))
      maxBlocks = (operand == "kv_num_blocks" ? a.getKvIndices() : a.getFullKvIndices())
                      .getType()
                      .getDimSize(3);
    return integer(0, double(maxBlocks));
  }
  if (operand == "kv_indices" || operand == "full_kv_indices") {
    int64_t blocks = 4;
    if (auto a = dyn_cast_or_null<AttentionOp>(user))
      blocks = ceilDiv(a.getKey().getType().getDimSize(2), a.getBlockK().value_or(1));
    return integer(-1, double(blocks - 1));
  }
  if (op == "sparse_attention" && operand == "indices") {
    int64_t blocks = 8;
    if (auto s = dyn_cast_or_null<SparseAttentionOp>(user))
      blocks = ceilDiv(s.getKey().getType().getDimSize(2), s.getKeyBlock());
    return integer(-1, double(blocks - 1));
  }
  if (operand == "kv_lens") {
    // Counts from none to all keys, and a little past both ends: the op
    // clamps them into [0, Lk].
    int64_t keys = 8;
    if (auto a = dyn_cast_or_null<AttentionOp>(user)) {
      keys = a.getKey().getType().getDimSize(2);
      if (Value table = a.getBlockTable())
        keys *= cast<RankedTensorType>(table.getType()).getDimSize(1);
    } else if (auto a = dyn_cast_or_null<QuantAttentionOp>(user)) {
      keys = a.getKeyCodes().getType().getDimSize(2);
    } else if (auto a = dyn_cast_or_null<PQAttentionOp>(user)) {
      keys = a.getCodes().getType().getDimSize(2);
    }
    return integer(-2, double(keys + 2));
  }
  if (op == "log_linear" && operand == "start") {
    // Positions up to 2^(NL-1): the last ones carry past the coarsest level,
    // which keeps them; -1 reads as 0 (both defined, and checked against the
    // reference too).
    int64_t levels = 4;
    if (auto l = dyn_cast_or_null<LogLinearOp>(user))
      levels = l.getLambda().getType().getDimSize(3);
    return integer(-1, double(int64_t(1) << std::min<int64_t>(levels - 1, 20)));
  }
  if (op == "lolcats_decode" && operand == "position") {
    // Positions in the first window (no eviction) and past it (evictions,
    // wrapped slots); -1 reads as 0.
    int64_t w = 4;
    if (auto l = dyn_cast_or_null<LolcatsDecodeOp>(user))
      w = l.getWindowKey().getType().getDimSize(2);
    return integer(-1, double(3 * w));
  }
  if (operand == "block_table") {
    int64_t pages = 1;
    if (auto a = dyn_cast_or_null<AttentionOp>(user))
      pages = a.getKey().getType().getDimSize(0);
    return integer(0, double(pages - 1));
  }
  if (t.dtype == "i8")
    return integer(-128, 127);
  if (t.dtype == "i32")
    return integer(0, 7);
  if (operand == "key_scale" || operand == "value_scale")
    return {Domain::Uniform, 0.002, 0.02};
  if (operand == "beta")
    return {Domain::Uniform, 0.05, 0.95};
  if (operand == "gate")
    return {Domain::Uniform, -0.5, -0.01};
  if (operand == "lambda")
    return {Domain::Uniform, 0.1, 1.0};
  if (operand == "norm_weight" || operand == "weights")
    return {Domain::Uniform, 0.5, 1.5};
  if (operand == "norm_in" || (op == "lolcats_decode" && operand == "norm"))
    return {Domain::Uniform, 0.5, 2.0};
  if (op == "lolcats_decode" && operand == "window_feature")
    return {Domain::Uniform, 0.05, 1.0};
  // Feature-mapped queries and keys are positive in every map the dialect
  // offers; signed ones can drive a shared normaliser through zero.
  if (operand == "feature_query" || operand == "feature_key")
    return {Domain::Uniform, 0.05, 1.0};
  if (operand == "kmin")
    return {Domain::Uniform, -1.0, -0.1};
  if (operand == "kmax")
    return {Domain::Uniform, 0.1, 1.0};
  if (operand == "mask")
    return {Domain::Uniform, -2.0, 0.0};
  bool deltaRuleKeys = op == "delta_rule";
  if (auto logLinear = dyn_cast_or_null<LogLinearOp>(user))
    deltaRuleKeys = logLinear.getBase() == LogLinearBase::gated_deltanet;
  if (deltaRuleKeys && operand == "key" && !t.shape.empty()) {
    // Without l2norm the recurrence is bounded only for beta |k|^2 < 2
    // (delta_rule, and the per-level states of log_linear gated_deltanet).
    double bound = 1.0 / std::sqrt(double(t.shape.back()));
    return {Domain::Uniform, -bound, bound};
  }
  return d;
}

void attn::drawInput(HostTensor &t, Value arg, const std::string &role,
                     std::mt19937_64 &rng) {
  Domain d = domainFor(arg, role, t);
  t.values.resize(static_cast<size_t>(t.numel()));
  // Each distribution is built only for its own kind: their parameters
  // have different meanings (a Boolean domain's lo is a probability).
  switch (d.kind) {
  case Domain::Uniform: {
    std::uniform_real_distribution<double> uniform(d.lo, d.hi);
    for (double &v : t.values)
      v = uniform(rng);
    break;
  }
  case Domain::Integer: {
    std::uniform_int_distribution<int64_t> integer(int64_t(d.lo), int64_t(d.hi));
    for (double &v : t.values)
      v = double(integer(rng));
    break;
  }
  case Domain::Boolean: {
    std::bernoulli_distribution boolean(d.lo);
    for (double &v : t.values)
      v = boolean(rng) ? 1.0 : 0.0;
    break;
  }
  }
  t.roundToDtype();
}
