//===- AttnBase.td - attn dialect definition and shared constraints -------===//
//
// The attn dialect describes attention ops with exact semantics (see
// docs/Rationale.md). This file holds the dialect record and the type
// constraints every op file shares.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNBASE_TD
#define ATTN_DIALECT_ATTN_ATTNBASE_TD

include "mlir/IR/OpBase.td"
include "mlir/IR/AttrTypeBase.td"

def Attn_Dialect : Dialect {
  let name = "attn";
  let cppNamespace = "::attn";
  let summary = "Attention ops with exact semantics: softmax, linear, delta-rule, "
                "log-linear, hybrid, token-sparse and quantised-KV attention";
  let description = [{
    The `attn` dialect describes the attention kinds that large language models
    use, one op per family, on ranked tensors with value semantics. Every op
    has a verifier that checks the relations between its operand shapes and
    attributes, a decomposition to naive linalg form (the compiler's semantic
    oracle) and an fp64 reference outside the compiler. Layout is
    `[B, H, L, D]` unless an op says otherwise. See docs/Rationale.md for the
    conventions and the reasons behind each op's shape.
  }];
}

class Attn_Op<string mnemonic, list<Trait> traits = []>
    : Op<Attn_Dialect, mnemonic, traits>;

/// Floating-point tensors that carry queries, keys, values and outputs.
def Attn_FloatTensor : RankedTensorOf<[F32, F16, BF16]>;
/// Tensors that are always f32 (lse, gates, scales, codebooks).
def Attn_F32Tensor : RankedTensorOf<[F32]>;
/// Index lists (block lists, selected tokens): i32, the GPU kernels' width.
def Attn_I32Tensor : RankedTensorOf<[I32]>;
/// Quantised codes, one or two per byte.
def Attn_CodeTensor : RankedTensorOf<[I8]>;
/// Boolean (true = visible) or additive float masks.
def Attn_MaskTensor : RankedTensorOf<[I1, F32, F16, BF16]>;

#endif // ATTN_DIALECT_ATTN_ATTNBASE_TD
