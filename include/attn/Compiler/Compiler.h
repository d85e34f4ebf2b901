//===- Compiler.h - attn pipelines and code emission ------------*- C++ -*-===//
//
// The compiler library behind attn-compile and attn-run: the named
// pipelines (CPU, GPU), the description of a module's C entry points, and
// the emission of a shared library, its C header and its JSON manifest.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_COMPILER_COMPILER_H
#define ATTN_COMPILER_COMPILER_H

#include "mlir/IR/BuiltinOps.h"
#include "mlir/Pass/PassManager.h"

#include <string>
#include <vector>

namespace mlir {
class DialectRegistry;
} // namespace mlir

namespace attn {

/// Every dialect and translation the attn tools need.
void registerCompilerDialects(mlir::DialectRegistry &registry);
/// Registers `attn-cpu-pipeline` and `attn-gpu-pipeline` with the pass
/// registry.
void registerPipelines();

/// The front of every target: attn-decompose, then bufferisation with
/// results as trailing out-parameters and explicit deallocation.
void buildBufferizePipeline(mlir::OpPassManager &pm);

/// attn ops on tensors -> LLVM dialect with one bare-pointer C function per
/// public func.func (results become trailing output pointers).
void buildCpuPipeline(mlir::OpPassManager &pm);

/// What the GPU pipeline emits for the device side.
struct GpuTargetOptions {
  /// sm_90a (Hopper's arch-specific features: the flash kernel's wgmma);
  /// any other chip gets the mma.sync kernels.
  std::string chip = "sm_90a";
  std::string features = "+ptx80";
  /// "isa" (PTX text, JIT-compiled by the driver at load) or "bin" (cubin
  /// through ptxas, which must be in `toolkitPath`/bin).
  std::string format = "isa";
  std::string toolkitPath;
};

/// attn ops on tensors -> LLVM dialect host code whose public functions take
/// one device pointer per tensor and launch kernels through the mgpu* ABI of
/// libattnrt; the kernels are embedded as PTX or cubin (gpu.binary).
void buildGpuPipeline(mlir::OpPassManager &pm, const GpuTargetOptions &options);

/// The CUDA toolkit directory holding bin/ptxas ("" when there is none):
/// $CUDA_HOME, then /usr/local/cuda.
std::string findCudaToolkit();

/// Where compiled kernels run.
enum class Target { Cpu, Cuda };
/// "cpu" or "cuda", as in manifests and on command lines.
const char *targetName(Target target);

/// One tensor argument or result of a C entry point.
struct EntryArg {
  std::string name;               ///< C parameter name
  std::string role;               ///< "attention.query", "" if unknown
  std::vector<int64_t> shape;
  std::string dtype;              ///< f32, f16, bf16, i8, i32, i1
  bool isOutput = false;
};

struct EntryPoint {
  std::string name;
  std::vector<EntryArg> args;     ///< inputs, then outputs
};

/// Describes every public function of `module` as a C entry point, or emits
/// a diagnostic naming the function and argument that cannot be one
/// (dynamic shape, non-tensor type, unsupported element type).
mlir::FailureOr<std::vector<EntryPoint>>
collectEntryPoints(mlir::ModuleOp module);

/// The JSON manifest of a compiled library.
std::string renderManifest(const std::vector<EntryPoint> &entries,
                           const std::string &library, Target target);
/// The C header declaring each entry point with plain pointers.
std::string renderHeader(const std::vector<EntryPoint> &entries,
                         const std::string &guardName, Target target);

struct CompileOptions {
  Target target = Target::Cpu;
  /// Device code options of Target::Cuda.
  GpuTargetOptions gpu;
  std::string outputDir;
  /// Base name: lib<name>.so, <name>.h, <name>.json.
  std::string name;
  /// Keep the optimised LLVM IR next to the library (for inspection).
  bool keepLLVMIR = false;
};

/// Lowers `module` (attn ops on tensors) for the target and writes
/// lib<name>.so, <name>.h and <name>.json into the output directory. A CUDA
/// library takes device pointers and links libattnrt. Diagnostics go to the
/// module's context; the error string says what failed outside MLIR
/// (linking, I/O).
mlir::LogicalResult compileModule(mlir::ModuleOp module,
                                  const CompileOptions &options,
                                  std::string &error);

} // namespace attn

#endif // ATTN_COMPILER_COMPILER_H
