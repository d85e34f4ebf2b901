//===- AttnTile.cpp - the attn-tile pass ----------------------------------===//
//
// This file implements attn-tile, which rewrites the attn ops it has a fast
// form for (the kernels live in FlashAttentionCpu.cpp,
// DecodeAttentionCpu.cpp, CompressedAttentionCpu.cpp, ChunkwiseRecurrentCpu.cpp,
// RecurrentStepCpu.cpp, LolcatsHybridCpu.cpp, LolcatsDecodeCpu.cpp,
// SparseAttentionCpu.cpp, SelectionCpu.cpp, FeatureMapCpu.cpp, PqEncodeCpu.cpp,
// DiffAttentionCpu.cpp and MergeCpu.cpp).
//
//===----------------------------------------------------------------------===//

#include "TilePatterns.h"

#include "attn/Passes/Passes.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/Linalg/IR/Linalg.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace attn {
#define GEN_PASS_DEF_ATTNTILE
#include "attn/Passes/Passes.h.inc"
} // namespace attn

using namespace mlir;

namespace {
struct AttnTilePass : attn::impl::AttnTileBase<AttnTilePass> {
  using AttnTileBase::AttnTileBase;
  void runOnOperation() override {
    if (blockQ < 4 || blockQ % 4) {
      getOperation()->emitError() << "attn-tile: block-q must be a positive "
                                     "multiple of 4, got "
                                  << blockQ;
      return signalPassFailure();
    }
    RewritePatternSet patterns(&getContext());
    attn::populateCpuTilingPatterns(patterns, blockQ);
    attn::populateCpuCompressedPatterns(patterns, blockQ, avx512);
    attn::populateCpuChunkwisePatterns(patterns);
    attn::populateCpuRecurrentStepPatterns(patterns);
    attn::populateCpuLolcatsPatterns(patterns);
    attn::populateCpuFeatureMapPatterns(patterns);
    attn::populateCpuPqEncodePatterns(patterns);
    attn::populateCpuLolcatsDecodePatterns(patterns);
    attn::populateCpuSparsePatterns(patterns);
    attn::populateCpuSelectionPatterns(patterns);
    attn::populateCpuDiffAttentionPatterns(patterns, blockQ);
    attn::populateCpuMergePatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace
