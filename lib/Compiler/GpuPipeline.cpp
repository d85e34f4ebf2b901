//===- GpuPipeline.cpp - attn-gpu-pipeline ---------------------------------===//
//
// This file implements the GPU pipeline: tensor-core kernels for the ops
// that have one (attn-gpu-tile), the shared front (decompose, bufferise), linalg to parallel loops, attn-gpu-map (device buffers and one
// launch per parallel loop), kernel outlining, the device side to NVVM and
// through LLVM's NVPTX backend to PTX (or cubin through ptxas), and the host
// side to LLVM with bare-pointer entry points whose launches call the mgpu*
// functions of libattnrt.
//
//===----------------------------------------------------------------------===//

#include "attn/Compiler/Compiler.h"
#include "attn/Passes/Passes.h"

#include "mlir/Conversion/Passes.h"
#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/GPU/Transforms/Passes.h"
#include "mlir/Dialect/Linalg/Passes.h"
#include "mlir/Dialect/MemRef/Transforms/Passes.h"
#include "mlir/Pass/PassRegistry.h"
#include "mlir/Transforms/Passes.h"

#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Process.h"

using namespace mlir;

std::string attn::findCudaToolkit() {
  SmallVector<std::string> candidates;
  if (std::optional<std::string> home = llvm::sys::Process::GetEnv("CUDA_HOME"))
    candidates.push_back(*home);
  candidates.push_back("/usr/local/cuda");
  for (const std::string &dir : candidates) {
    SmallString<128> ptxas(dir);
    llvm::sys::path::append(ptxas, "bin", "ptxas");
    if (llvm::sys::fs::can_execute(ptxas))
      return dir;
  }
  return "";
}

void attn::buildGpuPipeline(OpPassManager &pm, const GpuTargetOptions &options) {
  AttnGpuTileOptions tile;
  tile.wgmma = options.chip == "sm_90a";
  pm.addPass(createAttnGpuTile(tile));
  buildBufferizePipeline(pm);
  pm.addPass(createConvertLinalgToParallelLoopsPass());
  pm.addPass(createCanonicalizerPass());
  // The polynomial forms need no libdevice (absent without a CUDA toolkit).
  pm.addPass(createAttnApproximateMath());
  pm.addPass(createAttnGpuMap());
  pm.addPass(createCanonicalizerPass());
  pm.addPass(createCSEPass());
  // Constants (and dim/cmpi/select on them) defined outside a launch are
  // cloned into it, so that the kernels see them as constants (not
  // parameters: a division by a parameter is a real division).
  pm.addPass(createGpuLaunchSinkIndexComputationsPass());
  pm.addPass(createGpuKernelOutliningPass());
  pm.addPass(createAttnGpuLaunchBounds());
  // Launches, allocations and frees become one chain of async work on the
  // stream, with one wait before each return (not a wait per launch).
  pm.addNestedPass<func::FuncOp>(createGpuAsyncRegionPass());

  GpuNVVMAttachTargetOptions target;
  target.chip = options.chip;
  target.features = options.features;
  target.optLevel = 3;
  pm.addPass(createGpuNVVMAttachTarget(target));

  OpPassManager &device = pm.nest<gpu::GPUModuleOp>();
  device.addPass(createLowerAffinePass());
  device.addPass(createSCFToControlFlowPass());
  device.addPass(createConvertNVGPUToNVVMPass());
  // The integer math left (ctlz, ctpop) as LLVM intrinsics; attn-gpu-map
  // already turned the float ops that would call libdevice into intrinsics.
  device.addPass(createConvertMathToLLVMPass());
  device.addPass(createConvertGpuOpsToNVVMOps());
  device.addPass(createCanonicalizerPass());
  device.addPass(createCSEPass());
  device.addPass(createReconcileUnrealizedCastsPass());

  pm.addPass(createLowerAffinePass());
  pm.addPass(createSCFToControlFlowPass());
  pm.addPass(memref::createExpandStridedMetadataPass());
  pm.addPass(createLowerAffinePass());
  pm.addPass(createFinalizeMemRefToLLVMConversionPass());
  pm.addPass(createConvertMathToLLVMPass());
  pm.addPass(createArithToLLVMConversionPass());
  ConvertFuncToLLVMPassOptions funcOptions;
  funcOptions.useBarePtrCallConv = true;
  pm.addPass(createConvertFuncToLLVMPass(funcOptions));
  pm.addPass(createConvertControlFlowToLLVMPass());
  pm.addPass(createConvertIndexToLLVMPass());
  // Kernels take full memref descriptors (subviews at run-time offsets are
  // kernel arguments), so launches pass descriptors, not bare pointers; only
  // the public host functions take bare pointers (func-to-llvm above).
  pm.addPass(createGpuToLLVMConversionPass());
  pm.addPass(createReconcileUnrealizedCastsPass());

  GpuModuleToBinaryPassOptions binary;
  binary.compilationTarget = options.format;
  binary.toolkitPath = options.toolkitPath;
  pm.addPass(createGpuModuleToBinaryPass(binary));
  pm.addPass(createCanonicalizerPass());
}

namespace {
struct GpuPipelineOptions : PassPipelineOptions<GpuPipelineOptions> {
  Option<std::string> chip{*this, "chip", llvm::cl::desc("GPU architecture"),
                           llvm::cl::init("sm_90a")};
  Option<std::string> features{*this, "features",
                               llvm::cl::desc("PTX features"),
                               llvm::cl::init("+ptx80")};
  Option<std::string> format{*this, "format",
                             llvm::cl::desc("isa (PTX) or bin (cubin)"),
                             llvm::cl::init("isa")};
};
} // namespace

void attn::registerPipelines() {
  PassPipelineRegistration<>(
      "attn-cpu-pipeline",
      "Lower attn ops on tensors to LLVM dialect C entry points (bare pointers, "
      "results as trailing out-parameters)",
      [](OpPassManager &pm) { buildCpuPipeline(pm); });
  PassPipelineRegistration<GpuPipelineOptions>(
      "attn-gpu-pipeline",
      "Lower attn ops on tensors to LLVM dialect host entry points (device "
      "pointers) that launch NVVM kernels embedded as PTX or cubin",
      [](OpPassManager &pm, const GpuPipelineOptions &o) {
        GpuTargetOptions options;
        options.chip = o.chip;
        options.features = o.features;
        options.format = o.format;
        if (options.format != "isa")
          options.toolkitPath = findCudaToolkit();
        buildGpuPipeline(pm, options);
      });
}
