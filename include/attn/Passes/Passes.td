//===- Passes.td - passes of the attn compiler ------------*- tablegen -*-===//
//
// Every pass of the attn compiler, with the description attn-opt --help and
// docs show.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_PASSES_TD
#define ATTN_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnDecompose : Pass<"attn-decompose"> {
  let summary = "Rewrite every attn op into naive linalg/tensor/arith/math/scf IR";
  let description = [{
    The compiler's own semantic oracle: each attn op becomes the textbook
    computation of docs/Rationale.md on tensors, in f32 whatever the input
    element type. Softmax-family ops build the full score matrix
    (`[B, Hq, Lq, Lk]`) with linalg.generic ops (GQA through a `floordiv`
    indexing map on the key/value head); recurrences run as scf.for loops
    over tokens carrying their state tensors. Where the results are discrete
    and must equal the fp64 reference's exactly (selection indices, PQ
    codes, pq_fit's k-means), the scores and distances that decide them are
    computed in f64 in the reference's order; the selection ops end in an
    scf loop per query row. It favours clarity over speed; the tiling
    passes produce the fast forms and are checked against it.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect"
  ];
}


#endif // ATTN_PASSES_PASSES_TD
