//===- attn-opt.cpp - mlir-opt with the attn dialect and passes -----------===//
//
// The driver the lit tests are written with: every upstream dialect and pass,
// plus the attn dialect, its passes and its pipelines.
//
//===----------------------------------------------------------------------===//

#include "attn/Compiler/Compiler.h"
#include "attn/Passes/Passes.h"

#include "mlir/IR/DialectRegistry.h"
#include "mlir/InitAllPasses.h"
#include "mlir/Tools/mlir-opt/MlirOptMain.h"

int main(int argc, char **argv) {
  mlir::registerAllPasses();
  attn::registerAttnPasses();
  attn::registerPipelines();
  mlir::DialectRegistry registry;
  attn::registerCompilerDialects(registry);
  return mlir::asMainReturnCode(
      mlir::MlirOptMain(argc, argv, "attn optimizer driver\n", registry));
}
