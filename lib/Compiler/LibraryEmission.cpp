//===- LibraryEmission.cpp - kernel libraries for the CPU and CUDA --------===//
//
// This file implements compileModule: lower with the target's pipeline, add
// the packed wrappers and the embedded manifest the runtime reads, translate
// to LLVM IR, optimise and emit an object file for the host CPU through
// LLVM's own target machine, and link it into a shared library. For CUDA the
// host code launches kernels embedded in it and links libattnrt, which
// provides the mgpu* functions.
//
//===----------------------------------------------------------------------===//

#include "attn/Compiler/Compiler.h"

#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/ExecutionEngine/OptUtils.h"
#include "mlir/IR/Builders.h"
#include "mlir/Target/LLVMIR/Dialect/Builtin/BuiltinToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Dialect/LLVMIR/LLVMToLLVMIRTranslation.h"
#include "mlir/Target/LLVMIR/Export.h"

#include "llvm/ExecutionEngine/Orc/JITTargetMachineBuilder.h"
#include "llvm/IR/Function.h"
#include "llvm/IR/LegacyPassManager.h"
#include "llvm/IR/Module.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/Program.h"
#include "llvm/Support/TargetSelect.h"
#include "llvm/Support/ToolOutputFile.h"
#include "llvm/Target/TargetMachine.h"

using namespace mlir;
using namespace attn;

/// Adds `<name>_packed(void **args)` for each entry point, `<name>_nargs`
/// (i32) and the manifest as the NUL-terminated global `attn_manifest`.
static void addRuntimeGlue(ModuleOp module, const std::vector<EntryPoint> &entries,
                           const std::string &manifest) {
  OpBuilder b(module.getContext());
  b.setInsertionPointToEnd(module.getBody());
  Location loc = module.getLoc();
  auto ptrType = LLVM::LLVMPointerType::get(module.getContext());
  auto voidType = LLVM::LLVMVoidType::get(module.getContext());
  for (const EntryPoint &entry : entries) {
    auto fnType = LLVM::LLVMFunctionType::get(voidType, {ptrType});
    auto packed = LLVM::LLVMFuncOp::create(b, loc, entry.name + "_packed", fnType);
    Block *body = packed.addEntryBlock(b);
    OpBuilder::InsertionGuard guard(b);
    b.setInsertionPointToStart(body);
    SmallVector<Value> args;
    for (size_t i = 0; i < entry.args.size(); ++i) {
      Value slot = LLVM::GEPOp::create(b, loc, ptrType, ptrType,
                                       body->getArgument(0),
                                       ArrayRef<LLVM::GEPArg>{int32_t(i)});
      args.push_back(LLVM::LoadOp::create(b, loc, ptrType, slot));
    }
    LLVM::CallOp::create(b, loc, TypeRange{}, entry.name, args);
    LLVM::ReturnOp::create(b, loc, ValueRange{});
    b.setInsertionPointAfter(packed);
    LLVM::GlobalOp::create(b, loc, b.getI32Type(), /*isConstant=*/true,
                           LLVM::Linkage::External, entry.name + "_nargs",
                           b.getI32IntegerAttr(entry.args.size()));
  }
  std::string text = manifest;
  text.push_back('\0');
  auto arrayType = LLVM::LLVMArrayType::get(b.getI8Type(), text.size());
  LLVM::GlobalOp::create(b, loc, arrayType, /*isConstant=*/true,
                         LLVM::Linkage::External, "attn_manifest",
                         b.getStringAttr(text));
}

/// The host CPU's target machine, position independent for shared objects.
static llvm::Expected<std::unique_ptr<llvm::TargetMachine>> hostTargetMachine() {
  llvm::InitializeNativeTarget();
  llvm::InitializeNativeTargetAsmPrinter();
  auto builder = llvm::orc::JITTargetMachineBuilder::detectHost();
  if (!builder)
    return builder.takeError();
  builder->setCodeGenOptLevel(llvm::CodeGenOptLevel::Aggressive);
  builder->setRelocationModel(llvm::Reloc::PIC_);
  return builder->createTargetMachine();
}

static LogicalResult writeFile(StringRef path, StringRef text,
                               std::string &error) {
  std::error_code ec;
  llvm::raw_fd_ostream os(path, ec);
  if (ec) {
    error = ("cannot write " + path + ": " + ec.message()).str();
    return failure();
  }
  os << text;
  return success();
}

LogicalResult attn::compileModule(ModuleOp module,
                                  const CompileOptions &options,
                                  std::string &error) {
  FailureOr<std::vector<EntryPoint>> entries = collectEntryPoints(module);
  if (failed(entries)) {
    error = "the module has no valid entry point";
    return failure();
  }
  std::string libName = "lib" + options.name + ".so";
  std::string manifest = renderManifest(*entries, libName, options.target);

  PassManager pm(module.getContext());
  bool cuda = options.target == Target::Cuda;
  if (cuda)
    buildGpuPipeline(pm, options.gpu);
  else
    buildCpuPipeline(pm);
  if (failed(pm.run(module))) {
    error = std::string("lowering with attn-") + (cuda ? "gpu" : "cpu") +
            "-pipeline failed";
    return failure();
  }
  addRuntimeGlue(module, *entries, manifest);

  auto tm = hostTargetMachine();
  if (!tm) {
    error = "no target machine for the host: " + llvm::toString(tm.takeError());
    return failure();
  }
  llvm::LLVMContext llvmContext;
  std::unique_ptr<llvm::Module> llvmModule =
      translateModuleToLLVMIR(module, llvmContext, options.name);
  if (!llvmModule) {
    error = "translation to LLVM IR failed";
    return failure();
  }
  llvmModule->setDataLayout((*tm)->createDataLayout());
  llvmModule->setTargetTriple((*tm)->getTargetTriple());
  // LLVM tunes AVX-512 server cores to prefer 256-bit vectors and splits
  // wider ones; the kernels' vector<16xf32> tiles are sized for zmm
  // registers, so keep them whole where the host has AVX-512.
  if ((*tm)->getTargetFeatureString().contains("+avx512f"))
    for (llvm::Function &fn : *llvmModule)
      if (!fn.isDeclaration()) {
        fn.addFnAttr("prefer-vector-width", "512");
        fn.addFnAttr("min-legal-vector-width", "512");
      }
  if (llvm::Error err = makeOptimizingTransformer(3, 0, tm->get())(llvmModule.get())) {
    error = "LLVM optimisation failed: " + llvm::toString(std::move(err));
    return failure();
  }

  if (std::error_code ec = llvm::sys::fs::create_directories(options.outputDir)) {
    error = "cannot create " + options.outputDir + ": " + ec.message();
    return failure();
  }
  auto path = [&](StringRef file) {
    SmallString<256> p(options.outputDir);
    llvm::sys::path::append(p, file);
    return std::string(p);
  };
  if (options.keepLLVMIR) {
    std::string ir;
    llvm::raw_string_ostream os(ir);
    llvmModule->print(os, nullptr);
    if (failed(writeFile(path(options.name + ".ll"), ir, error)))
      return failure();
  }

  std::string objPath = path(options.name + ".o");
  {
    std::error_code ec;
    llvm::ToolOutputFile obj(objPath, ec, llvm::sys::fs::OF_None);
    if (ec) {
      error = "cannot write " + objPath + ": " + ec.message();
      return failure();
    }
    llvm::legacy::PassManager codegen;
    if ((*tm)->addPassesToEmitFile(codegen, obj.os(), nullptr,
                                   llvm::CodeGenFileType::ObjectFile)) {
      error = "the host target cannot emit object files";
      return failure();
    }
    codegen.run(*llvmModule);
    obj.keep();
  }

  llvm::ErrorOr<std::string> cc = llvm::sys::findProgramByName("cc");
  if (!cc) {
    error = "no C compiler driver 'cc' on PATH to link " + libName;
    return failure();
  }
  std::string libPath = path(libName);
  // Parallel tasks call LLVM's OpenMP runtime (Debian's libomp-22-dev);
  // CUDA host code calls libattnrt's mgpu* functions.
  // -Bsymbolic binds the packed wrappers' calls to the library's own entry
  // points: an entry named like a libc function (`step`, `index`) would
  // otherwise be interposed by libc's, which is loaded first.
  SmallVector<StringRef> argv = {*cc, "-shared", "-Wl,-Bsymbolic", "-o", libPath,
                                 objPath};
  if (cuda)
    argv.append({"-L" ATTN_RUNTIME_LIBDIR, "-Wl,-rpath," ATTN_RUNTIME_LIBDIR,
                 "-lattnrt"});
  else
    argv.append({"-L" ATTN_OPENMP_LIBDIR, "-Wl,-rpath," ATTN_OPENMP_LIBDIR,
                 "-lomp"});
  argv.push_back("-lm");
  std::string linkError;
  int rc = llvm::sys::ExecuteAndWait(*cc, argv, std::nullopt, {}, 0, 0, &linkError);
  llvm::sys::fs::remove(objPath);
  if (rc != 0) {
    error = "linking " + libPath + " failed" +
            (linkError.empty() ? "" : ": " + linkError);
    return failure();
  }
  if (failed(writeFile(path(options.name + ".h"), renderHeader(*entries, options.name, options.target), error)) ||
      failed(writeFile(path(options.name + ".json"), manifest, error)))
    return failure();
  return success();
}
