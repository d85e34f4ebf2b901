//===- OperandRoles.cpp - names of attn op operands -----------------------===//
//
// This file maps operand numbers of attn ops back to their ODS names through
// the generated operand-segment accessors, so ops with optional operands
// report the right name whichever of them are present.
//
//===----------------------------------------------------------------------===//

#include "attn/Dialect/Attn/OperandRoles.h"
#include "attn/Dialect/Attn/AttnDialect.h"

#include "llvm/ADT/TypeSwitch.h"

using namespace mlir;
using namespace attn;

template <typename OpT>
static StringRef roleIn(OpT op, unsigned number, ArrayRef<StringRef> names) {
  for (auto [group, name] : llvm::enumerate(names)) {
    auto [start, length] = op.getODSOperandIndexAndLength(group);
    if (number >= start && number < start + length)
      return name;
  }
  return "";
}

StringRef attn::getOperandRole(Operation *op, unsigned number) {
  return llvm::TypeSwitch<Operation *, StringRef>(op)
      .Case([&](AttentionOp o) {
        return roleIn(o, number,
                      {"query", "key", "value", "mask", "kv_num_blocks",
                       "kv_indices", "full_kv_num_blocks", "full_kv_indices",
                       "sinks", "kv_lens", "block_table"});
      })
      .Case([&](MergeOp o) { return roleIn(o, number, {"outs", "lses"}); })
      .Case([&](DiffAttentionOp o) {
        return roleIn(o, number,
                      {"query1", "key1", "query2", "key2", "value", "lambda",
                       "norm_weight"});
      })
      .Case([&](FeatureMapOp o) { return roleIn(o, number, {"input", "weight"}); })
      .Case([&](LinearAttentionOp o) {
        return roleIn(o, number,
                      {"query", "key", "value", "gate", "state_in", "norm_in"});
      })
      .Case([&](DeltaRuleOp o) {
        return roleIn(o, number,
                      {"query", "key", "value", "beta", "gate", "state_in"});
      })
      .Case([&](LogLinearOp o) {
        return roleIn(o, number,
                      {"query", "key", "value", "lambda", "gate", "beta",
                       "state_in", "start"});
      })
      .Case([&](LolcatsHybridOp o) {
        return roleIn(o, number,
                      {"query", "key", "value", "feature_query", "feature_key",
                       "gamma"});
      })
      .Case([&](LolcatsDecodeOp o) {
        return roleIn(o, number,
                      {"query", "key", "value", "feature_query", "feature_key",
                       "gamma", "position", "state", "norm", "window_key",
                       "window_value", "window_feature"});
      })
      .Case([&](SparseAttentionOp o) {
        return roleIn(o, number, {"query", "key", "value", "indices"});
      })
      .Case([&](TopkSelectOp o) { return roleIn(o, number, {"query", "key"}); })
      .Case([&](AdamasSelectOp o) { return roleIn(o, number, {"query", "key"}); })
      .Case([&](PageBoundsOp o) { return roleIn(o, number, {"key"}); })
      .Case([&](QuestSelectOp o) {
        return roleIn(o, number, {"query", "kmin", "kmax"});
      })
      .Case([&](DsaIndexerOp o) {
        return roleIn(o, number, {"query", "key", "weights"});
      })
      .Case([&](QuantAttentionOp o) {
        return roleIn(o, number,
                      {"query", "key_codes", "key_scale", "key_zero",
                       "value_codes", "value_scale", "value_zero", "kv_lens"});
      })
      .Case([&](PQFitOp o) { return roleIn(o, number, {"keys"}); })
      .Case([&](PQEncodeOp o) { return roleIn(o, number, {"key", "codebooks"}); })
      .Case([&](PQAttentionOp o) {
        return roleIn(o, number, {"query", "codes", "codebooks", "value", "kv_lens"});
      })
      .Default([](Operation *) { return StringRef(); });
}

std::string attn::getValueRole(Value value) {
  for (OpOperand &use : value.getUses()) {
    Operation *user = use.getOwner();
    StringRef role = getOperandRole(user, use.getOperandNumber());
    if (role.empty())
      continue;
    StringRef opName = user->getName().stripDialect();
    return (opName + "." + role).str();
  }
  return "";
}
