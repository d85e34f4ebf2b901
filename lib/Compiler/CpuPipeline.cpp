//===- CpuPipeline.cpp - attn-cpu-pipeline --------------------------------===//
//
// This file implements the front shared by every target (decompose, then
// bufferise with results as out-parameters) and the CPU pipeline: tile the
// attn ops that have a fast form, run the front on the rest, lower loops,
// memrefs, math and functions to the LLVM dialect with the bare-pointer
// calling convention, so each public function is a C function taking one
// pointer per tensor.
//
//===----------------------------------------------------------------------===//

#include "attn/Compiler/Compiler.h"
#include "attn/Passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Bufferization/Pipelines/Passes.h"
#include "mlir/Dialect/Bufferization/Transforms/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Transforms/Passes.h"
#include "llvm/TargetParser/Host.h"

using namespace mlir;

void attn::buildBufferizePipeline(OpPassManager &pm) {
  pm.addPass(createAttnDecompose());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());

  bufferization::OneShotBufferizePassOptions bufferize;
  bufferize.bufferizeFunctionBoundaries = true;
  bufferize.functionBoundaryTypeConversion =
      bufferization::LayoutMapOption::IdentityLayoutMap;
  pm.addPass(bufferization::createOneShotBufferizePass(bufferize));
  bufferization::BufferResultsToOutParamsPassOptions outParams;
  outParams.hoistStaticAllocs = true;
  outParams.modifyPublicFunctions = true;
  pm.addPass(bufferization::createBufferResultsToOutParamsPass(outParams));
  bufferization::BufferDeallocationPipelineOptions dealloc;
  bufferization::buildBufferDeallocationPipeline(pm, dealloc);
}

void attn::buildCpuPipeline(OpPassManager &pm) {
  // The kernels are compiled for this host (LibraryEmission.cpp), so they
  // may use its AVX-512 instructions.
  AttnTileOptions tile;
  tile.avx512 = llvm::sys::getHostCPUFeatures().lookup("avx512f");
  pm.addPass(createAttnTile(tile));
  buildBufferizePipeline(pm);

  pm.addPass(createAttnStridedCopiesToLoops());
  pm.addPass(createConvertLinalgToLoopsPass());
  // Tasks of scf.parallel run on OpenMP threads (OMP_NUM_THREADS).
  pm.addPass(createConvertSCFToOpenMPPass());
  pm.addPass(createAttnInlineAllocaScopes());
  pm.addPass(createAttnApproximateMath());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(createConvertVectorToLLVMPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  // Subviews at loop-dependent offsets (token slices of the recurrences)
  // expand to affine.apply, so affine is lowered again after the expansion.
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createConvertMathToLibmPass());
  pm.addPass(createArithToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createConvertControlFlowToLLVMPass());
  // After func-to-llvm: the OpenMP conversion also rewrites function
  // signatures, with full memref descriptors instead of bare pointers.
  pm.addPass(createConvertOpenMPToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  pm.addPass(createReconcileUnrealizedCastsPass());
  pm.addPass(createCanonicalizerPass());
}
