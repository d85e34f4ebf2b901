//===- attn-compile.cpp - compile attn graphs to kernels ------------------===//
//
// attn-compile FILE.mlir --target=cpu|cuda -o DIR [--name NAME]
//                [--gpu-chip=sm_90a] [--gpu-format=auto|isa|bin]
//
// Writes DIR/libNAME.so (one C function per public func.func), DIR/NAME.h
// (their declarations with plain pointers) and DIR/NAME.json (the manifest:
// target, entries, argument names, roles, shapes, dtypes, directions). A
// CUDA library takes device pointers; its kernels are embedded as cubin
// when ptxas is found (--gpu-format=auto, the default), else as PTX.
//
//===----------------------------------------------------------------------===//

#include "attn/Compiler/Compiler.h"
#include "attn/Passes/Passes.h"

#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

using namespace mlir;
namespace cl = llvm::cl;

static cl::opt<std::string> inputFile(cl::Positional, cl::desc("<input.mlir>"),
                                      cl::Required);
static cl::opt<std::string> outputDir("o", cl::desc("output directory"),
                                      cl::value_desc("dir"), cl::Required);
static cl::opt<std::string> target("target", cl::desc("cpu or cuda"),
                                   cl::init("cpu"));
static cl::opt<std::string> gpuChip("gpu-chip", cl::desc("CUDA architecture"),
                                    cl::init("sm_90a"));
static cl::opt<std::string> gpuFormat(
    "gpu-format",
    cl::desc("auto (cubin when ptxas is found, else PTX), isa (PTX) or bin "
             "(cubin)"),
    cl::init("auto"));
static cl::opt<std::string> name("name",
                                 cl::desc("base name of the outputs (default: "
                                          "the input file's stem)"));
static cl::opt<bool> keepLL("keep-ll", cl::desc("also write the optimised LLVM IR"));

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "attn kernel compiler\n");
  attn::CompileOptions options;
  if (target == "cuda") {
    options.target = attn::Target::Cuda;
  } else if (target != "cpu") {
    llvm::errs() << "attn-compile: unknown target '" << target
                 << "' (supported: cpu, cuda)\n";
    return 2;
  }
  if (gpuFormat != "auto" && gpuFormat != "isa" && gpuFormat != "bin") {
    llvm::errs() << "attn-compile: unknown --gpu-format '" << gpuFormat
                 << "' (supported: auto, isa, bin)\n";
    return 2;
  }
  options.gpu.chip = gpuChip;
  options.gpu.toolkitPath = attn::findCudaToolkit();
  options.gpu.format = gpuFormat == "auto"
                           ? (options.gpu.toolkitPath.empty() ? "isa" : "bin")
                           : gpuFormat.getValue();
  if (options.target == attn::Target::Cuda && options.gpu.format == "bin" &&
      options.gpu.toolkitPath.empty()) {
    llvm::errs() << "attn-compile: --gpu-format=bin needs ptxas: no CUDA "
                    "toolkit in $CUDA_HOME or /usr/local/cuda\n";
    return 2;
  }
  DialectRegistry registry;
  attn::registerCompilerDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();

  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);
  std::string error;
  auto file = openInputFile(inputFile, &error);
  if (!file) {
    llvm::errs() << "attn-compile: " << error << "\n";
    return 1;
  }
  sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
  OwningOpRef<ModuleOp> module = parseSourceFile<ModuleOp>(sourceMgr, &context);
  if (!module) {
    llvm::errs() << "attn-compile: " << inputFile << ": cannot parse\n";
    return 1;
  }
  options.outputDir = outputDir;
  options.name = name.empty() ? llvm::sys::path::stem(inputFile).str() : name.getValue();
  options.keepLLVMIR = keepLL;
  if (failed(attn::compileModule(*module, options, error))) {
    llvm::errs() << "attn-compile: " << inputFile << ": " << error << "\n";
    return 1;
  }
  return 0;
}
