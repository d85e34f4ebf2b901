//===- EntryPoints.cpp - C entry points, header and manifest --------------===//
//
// This file describes each public function of a module as a C entry point
// (one pointer per tensor argument, then one per result) and renders the C
// header and JSON manifest that go beside the compiled library.
//
//===----------------------------------------------------------------------===//

#include "attn/Compiler/Compiler.h"
#include "attn/Dialect/Attn/OperandRoles.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/BuiltinTypes.h"
#include "llvm/ADT/StringExtras.h"
#include "llvm/Support/FormatVariadic.h"

#include <set>
#include <sstream>

using namespace mlir;
using namespace attn;

static std::optional<std::string> dtypeOf(Type type) {
  if (type.isF32())
    return "f32";
  if (type.isF16())
    return "f16";
  if (type.isBF16())
    return "bf16";
  if (type.isInteger(8))
    return "i8";
  if (type.isInteger(32))
    return "i32";
  if (type.isInteger(1))
    return "i1";
  return std::nullopt;
}

/// A C identifier from a role: "attention.query" -> "attention_query".
static std::string identifierFor(StringRef role, StringRef fallback,
                                 std::set<std::string> &taken) {
  std::string base = role.empty() ? fallback.str() : role.str();
  for (char &c : base)
    if (!llvm::isAlnum(c))
      c = '_';
  std::string name = base;
  for (int suffix = 1; !taken.insert(name).second; ++suffix)
    name = base + "_" + std::to_string(suffix);
  return name;
}

/// Checks one argument or result type and fills `arg`, or reports why it
/// cannot cross a C boundary.
static LogicalResult describe(func::FuncOp fn, Type type, StringRef what,
                              EntryArg &arg) {
  auto tensor = dyn_cast<RankedTensorType>(type);
  if (!tensor)
    return fn.emitError() << "entry point '" << fn.getSymName() << "': " << what
                          << " has type " << type
                          << "; entry points take and return ranked tensors";
  if (!tensor.hasStaticShape())
    return fn.emitError() << "entry point '" << fn.getSymName() << "': " << what
                          << " has dynamic shape " << type
                          << "; compile a version with static sizes";
  std::optional<std::string> dtype = dtypeOf(tensor.getElementType());
  if (!dtype)
    return fn.emitError() << "entry point '" << fn.getSymName() << "': " << what
                          << " has element type " << tensor.getElementType()
                          << "; supported: f32, f16, bf16, i8, i32, i1";
  arg.shape.assign(tensor.getShape().begin(), tensor.getShape().end());
  arg.dtype = *dtype;
  return success();
}

FailureOr<std::vector<EntryPoint>> attn::collectEntryPoints(ModuleOp module) {
  std::vector<EntryPoint> entries;
  for (auto fn : module.getOps<func::FuncOp>()) {
    if (fn.isPrivate() || fn.isExternal())
      continue;
    EntryPoint entry;
    entry.name = fn.getSymName().str();
    std::set<std::string> taken;
    for (BlockArgument arg : fn.getArguments()) {
      EntryArg desc;
      std::string what = llvm::formatv("argument {0}", arg.getArgNumber());
      if (failed(describe(fn, arg.getType(), what, desc)))
        return failure();
      desc.role = getValueRole(arg);
      StringRef shortRole = StringRef(desc.role).rsplit('.').second;
      desc.name = identifierFor(shortRole, "arg" + std::to_string(arg.getArgNumber()), taken);
      entry.args.push_back(std::move(desc));
    }
    for (auto [index, type] : llvm::enumerate(fn.getResultTypes())) {
      EntryArg desc;
      std::string what = llvm::formatv("result {0}", index);
      if (failed(describe(fn, type, what, desc)))
        return failure();
      desc.isOutput = true;
      desc.name = identifierFor("", "result" + std::to_string(index), taken);
      entry.args.push_back(std::move(desc));
    }
    entries.push_back(std::move(entry));
  }
  if (entries.empty()) {
    module.emitError() << "no public func.func to compile into an entry point";
    return failure();
  }
  return entries;
}

static std::string jsonString(StringRef s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

const char *attn::targetName(Target target) {
  return target == Target::Cuda ? "cuda" : "cpu";
}

std::string attn::renderManifest(const std::vector<EntryPoint> &entries,
                                 const std::string &library, Target target) {
  std::ostringstream os;
  os << "{\n  \"format\": \"attn-manifest-1\",\n  \"library\": "
     << jsonString(library) << ",\n  \"target\": \"" << targetName(target)
     << "\",\n  \"entries\": [";
  for (auto [e, entry] : llvm::enumerate(entries)) {
    os << (e ? "," : "") << "\n    {\"name\": " << jsonString(entry.name)
       << ", \"args\": [";
    for (auto [a, arg] : llvm::enumerate(entry.args)) {
      os << (a ? "," : "") << "\n      {\"name\": " << jsonString(arg.name)
         << ", \"role\": " << jsonString(arg.role) << ", \"dtype\": "
         << jsonString(arg.dtype) << ", \"shape\": ["
         << llvm::join(llvm::map_range(arg.shape,
                                       [](int64_t s) { return std::to_string(s); }),
                       ", ")
         << "], \"direction\": " << (arg.isOutput ? "\"out\"" : "\"in\"") << "}";
    }
    os << "\n    ]}";
  }
  os << "\n  ]\n}\n";
  return os.str();
}

static const char *cTypeOf(const std::string &dtype) {
  if (dtype == "f32")
    return "float";
  if (dtype == "f16" || dtype == "bf16")
    return "uint16_t";
  if (dtype == "i32")
    return "int32_t";
  if (dtype == "i8")
    return "int8_t";
  return "uint8_t";
}

std::string attn::renderHeader(const std::vector<EntryPoint> &entries,
                               const std::string &guardName, Target target) {
  std::ostringstream os;
  std::string guard = guardName;
  for (char &c : guard)
    c = llvm::isAlnum(c) ? llvm::toUpper(c) : '_';
  os << "/* Generated by attn-compile. Each entry point takes one pointer per\n"
        " * tensor argument, then one per result, dense row-major. f16 and bf16\n"
        " * elements are passed as their 16-bit patterns (uint16_t). */\n"
     << (target == Target::Cuda
             ? "/* CUDA kernels: every pointer is device memory of the current\n"
               " * context; the call launches on libattnrt's stream\n"
               " * (attnrt_cuda_set_stream) and returns when the kernels are\n"
               " * done. Launch failures are reported by attnrt_call or\n"
               " * attnrt_cuda_take_error. */\n"
             : "")
     << "#ifndef " << guard << "_H\n#define " << guard << "_H\n\n"
     << "#include <stdint.h>\n\n#ifdef __cplusplus\nextern \"C\" {\n#endif\n\n";
  for (const EntryPoint &entry : entries) {
    os << "/* " << entry.name << ":\n";
    for (const EntryArg &arg : entry.args) {
      os << " *   " << (arg.isOutput ? "out " : "in  ") << arg.name << " "
         << arg.dtype << "[";
      os << llvm::join(llvm::map_range(arg.shape, [](int64_t s) {
                         return std::to_string(s);
                       }),
                       "x")
         << "]" << (arg.role.empty() ? "" : "  (" + arg.role + ")") << "\n";
    }
    os << " */\nvoid " << entry.name << "(";
    for (auto [i, arg] : llvm::enumerate(entry.args))
      os << (i ? ", " : "") << (arg.isOutput ? "" : "const ") << cTypeOf(arg.dtype)
         << " *" << arg.name;
    os << ");\n/* The same entry with its pointers packed in an array. */\nvoid "
       << entry.name << "_packed(void **args);\n\n";
  }
  os << "#ifdef __cplusplus\n}\n#endif\n\n#endif\n";
  return os.str();
}
