//===- AttnEnums.td - enums of the attn dialect ---------------------------===//
//
// The kinds that select a variant inside one op family. Each is an integer
// attribute that prints as a bare keyword inside the op, the way
// arith.cmpi prints its predicate (`attn.feature_map hedgehog ...`).
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNENUMS_TD
#define ATTN_DIALECT_ATTN_ATTNENUMS_TD

include "attn/Dialect/Attn/AttnBase.td"
include "mlir/IR/EnumAttr.td"

def Attn_FeatureMapKind : I32EnumAttr<"FeatureMapKind", "feature map phi", [
    I32EnumAttrCase<"identity", 0>,
    I32EnumAttrCase<"elu_plus_one", 1>,
    I32EnumAttrCase<"relu", 2>,
    I32EnumAttrCase<"hedgehog", 3>]> {
  let cppNamespace = "::attn";
}

def Attn_DecayKind : I32EnumAttr<"DecayKind", "decay of a linear-attention state", [
    I32EnumAttrCase<"none", 0>,
    I32EnumAttrCase<"constant", 1>,
    I32EnumAttrCase<"scalar", 2>,
    I32EnumAttrCase<"vector", 3>]> {
  let cppNamespace = "::attn";
}

def Attn_DeltaKind : I32EnumAttr<"DeltaKind", "delta-rule transition", [
    I32EnumAttrCase<"deltanet", 0>,
    I32EnumAttrCase<"gated", 1>,
    I32EnumAttrCase<"kda", 2>]> {
  let cppNamespace = "::attn";
}

def Attn_LogLinearBase : I32EnumAttr<"LogLinearBase", "base op of log-linear attention", [
    I32EnumAttrCase<"linear", 0>,
    I32EnumAttrCase<"mamba2", 1>,
    I32EnumAttrCase<"gated_deltanet", 2>]> {
  let cppNamespace = "::attn";
}

def Attn_HybridWindowKind : I32EnumAttr<"HybridWindowKind",
    "window shape of the LoLCATs hybrid", [
    I32EnumAttrCase<"sliding", 0>,
    I32EnumAttrCase<"terrace", 1>]> {
  let cppNamespace = "::attn";
}

#endif // ATTN_DIALECT_ATTN_ATTNENUMS_TD
