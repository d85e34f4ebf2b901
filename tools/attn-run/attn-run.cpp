//===- attn-run.cpp - run compiled attn kernels and check them ------------===//
//
// attn-run KERNEL [options]
//
// KERNEL is an .mlir file (compiled first for --target, into a temporary
// directory) or a library written by attn-compile (its manifest names the
// target). Every entry point runs (or the one named by --entry) on inputs
// from .npy files or drawn at random; outputs can be written as .npy,
// checked against the fp64 reference (--check, .mlir input only: the
// reference interprets the source function) and timed (--bench). CUDA
// kernels run on device 0: inputs are copied in, outputs are poisoned before
// the call and copied back, and --bench times with CUDA events.
// The exit status is non-zero when an input is missing or malformed or a
// check fails.
//
//===----------------------------------------------------------------------===//

#include "InputGenerator.h"

#include "attn/Check/ReferenceInterpreter.h"
#include "attn/Compiler/Compiler.h"
#include "attn/Support/HostTensor.h"
#include "attnrt.h"
#include "attnrt_cuda.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/IR/MLIRContext.h"
#include "mlir/Parser/Parser.h"
#include "mlir/Support/FileUtilities.h"
#include "llvm/ADT/ScopeExit.h"
#include "llvm/Support/CommandLine.h"
#include "llvm/Support/FileSystem.h"
#include "llvm/Support/FormatVariadic.h"
#include "llvm/Support/InitLLVM.h"
#include "llvm/Support/JSON.h"
#include "llvm/Support/Path.h"
#include "llvm/Support/SourceMgr.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>

using namespace mlir;
using namespace attn;
namespace cl = llvm::cl;

static cl::opt<std::string> kernelPath(cl::Positional, cl::desc("<kernel.mlir|libkernel.so>"),
                                       cl::Required);
static cl::opt<std::string> entryName("entry", cl::desc("run only this entry point"));
static cl::list<std::string> inputFiles("input", cl::desc("NAME=FILE.npy for argument NAME"),
                                        cl::value_desc("name=file"));
static cl::opt<bool> randomInputs("random", cl::desc("draw inputs not given with --input"));
static cl::opt<uint64_t> seed("seed", cl::desc("seed of --random"), cl::init(0));
static cl::opt<std::string> outputDir("output-dir", cl::desc("write outputs as ENTRY.NAME.npy"));
static cl::opt<bool> check("check", cl::desc("compare with the fp64 reference"));
static cl::opt<int> bench("bench", cl::desc("time N runs (after one warm-up), report the median"),
                          cl::init(0));
static cl::opt<std::string> targetOption("target",
                                       cl::desc("cpu or cuda (for .mlir input)"),
                                       cl::init("cpu"));
static cl::opt<std::string> saveInputs(
    "save-inputs", cl::desc("write the inputs as ENTRY.NAME.npy into this directory"));
static cl::opt<std::string> saveReference(
    "save-reference",
    cl::desc("write the reference outputs (--check) as ENTRY.NAME.npy into this "
             "directory"));
static cl::opt<bool> jsonSummary("json", cl::desc("print one JSON line per entry"));
static cl::opt<double> perturb(
    "perturb-output", cl::Hidden, cl::init(0.0),
    cl::desc("add this to every kernel output before the check (for the test "
             "that proves a wrong kernel fails)"));

namespace {
struct Entry {
  EntryPoint point;
  func::FuncOp fn; // null for library input
};
} // namespace

static int fail(const std::string &message) {
  llvm::errs() << "attn-run: " << message << "\n";
  return 1;
}

/// Tolerance on max|out - ref| / max|ref| by output dtype.
static double toleranceFor(const std::string &dtype) {
  if (dtype == "f32")
    return 1e-4;
  if (dtype == "f16" || dtype == "bf16")
    return 1e-2;
  return 0.0; // integers are compared exactly
}

/// Max-norm relative error; infinities must match exactly (lse of rows with
/// no visible key), and any mismatch there counts as error 1.
static double relativeError(const HostTensor &out, const HostTensor &ref) {
  if (out.shape != ref.shape || out.values.size() != ref.values.size())
    return INFINITY; // a shape mismatch is a failed check, never a read past
  double maxRef = 0.0, maxDiff = 0.0;
  bool infMismatch = false;
  for (size_t i = 0; i < ref.values.size(); ++i) {
    double r = ref.values[i], o = out.values[i];
    if (std::isinf(r) || std::isinf(o) || std::isnan(o) || std::isnan(r)) {
      infMismatch |= !(r == o);
      continue;
    }
    maxRef = std::max(maxRef, std::fabs(r));
    maxDiff = std::max(maxDiff, std::fabs(o - r));
  }
  if (infMismatch)
    return 1.0;
  if (maxRef == 0.0)
    return maxDiff;
  return maxDiff / maxRef;
}

static bool parseManifest(const char *text, std::vector<Entry> &entries,
                          bool &cuda, std::string &error) {
  llvm::Expected<llvm::json::Value> parsed = llvm::json::parse(text);
  if (!parsed) {
    error = "malformed manifest: " + llvm::toString(parsed.takeError());
    return false;
  }
  const llvm::json::Object *root = parsed->getAsObject();
  // Libraries from before the GPU target carry no "target": they are CPU.
  std::string target = root ? root->getString("target").value_or("cpu").str() : "";
  if (target != "cpu" && target != "cuda") {
    error = "manifest names an unknown target '" + target + "'";
    return false;
  }
  cuda = target == "cuda";
  const llvm::json::Array *list = root ? root->getArray("entries") : nullptr;
  if (!list) {
    error = "malformed manifest: no entries";
    return false;
  }
  for (const llvm::json::Value &e : *list) {
    const llvm::json::Object *obj = e.getAsObject();
    const llvm::json::Array *args = obj ? obj->getArray("args") : nullptr;
    if (!args) {
      error = "malformed manifest: an entry without args";
      return false;
    }
    Entry entry;
    entry.point.name = obj->getString("name").value_or("").str();
    for (const llvm::json::Value &a : *args) {
      const llvm::json::Object *arg = a.getAsObject();
      const llvm::json::Array *shape = arg ? arg->getArray("shape") : nullptr;
      if (!shape) {
        error = "malformed manifest: an argument of '" + entry.point.name +
                "' without a shape";
        return false;
      }
      EntryArg desc;
      desc.name = arg->getString("name").value_or("").str();
      desc.role = arg->getString("role").value_or("").str();
      desc.dtype = arg->getString("dtype").value_or("").str();
      desc.isOutput = arg->getString("direction").value_or("") == "out";
      for (const llvm::json::Value &size : *shape)
        desc.shape.push_back(size.getAsInteger().value_or(0));
      entry.point.args.push_back(std::move(desc));
    }
    entries.push_back(std::move(entry));
  }
  return true;
}

static std::string shapeString(const std::vector<int64_t> &shape) {
  std::string s;
  for (size_t i = 0; i < shape.size(); ++i)
    s += (i ? "x" : "") + std::to_string(shape[i]);
  return s;
}

/// Device buffers of one call, freed when it ends.
struct DeviceBuffers {
  std::vector<void *> pointers;
  DeviceBuffers() = default;
  DeviceBuffers(const DeviceBuffers &) = delete;
  DeviceBuffers &operator=(const DeviceBuffers &) = delete;
  ~DeviceBuffers() {
    for (void *p : pointers)
      (void)attnrt_cuda_free(p);
  }
};

/// Times one call with the host clock; true on failure.
template <typename Call>
static bool timeOnHost(Call &call, double &ms) {
  auto start = std::chrono::steady_clock::now();
  attnrt_status st = call();
  auto stop = std::chrono::steady_clock::now();
  ms = std::chrono::duration<double, std::milli>(stop - start).count();
  return st != ATTNRT_OK;
}

/// Times one call with CUDA events on libattnrt's stream; true on failure.
template <typename Call>
static bool timeOnDevice(Call &call, double &ms) {
  void *start = nullptr, *stop = nullptr;
  auto cleanup = llvm::scope_exit([&] {
    (void)attnrt_cuda_event_destroy(start);
    (void)attnrt_cuda_event_destroy(stop);
  });
  float elapsed = 0.0f;
  if (attnrt_cuda_event_create(&start) || attnrt_cuda_event_create(&stop) ||
      attnrt_cuda_event_record(start) || call() || attnrt_cuda_event_record(stop) ||
      attnrt_cuda_event_elapsed_ms(start, stop, &elapsed))
    return true;
  ms = elapsed;
  return false;
}

int main(int argc, char **argv) {
  llvm::InitLLVM init(argc, argv);
  cl::ParseCommandLineOptions(argc, argv, "run and check attn kernels\n");

  if (targetOption != "cpu" && targetOption != "cuda")
    return fail("unknown --target '" + targetOption + "' (supported: cpu, cuda)");
  bool cuda = targetOption == "cuda";
  std::map<std::string, std::string> given;
  for (const std::string &spec : inputFiles) {
    size_t eq = spec.find('=');
    if (eq == std::string::npos)
      return fail("--input expects NAME=FILE.npy, got '" + spec + "'");
    given[spec.substr(0, eq)] = spec.substr(eq + 1);
  }

  DialectRegistry registry;
  registerCompilerDialects(registry);
  MLIRContext context(registry);
  context.loadAllAvailableDialects();
  llvm::SourceMgr sourceMgr;
  SourceMgrDiagnosticHandler handler(sourceMgr, &context);

  std::vector<Entry> entries;
  OwningOpRef<ModuleOp> source;
  std::string libPath = kernelPath, error;
  SmallString<128> tempDir;
  bool isMlir = llvm::StringRef(kernelPath).ends_with(".mlir");
  if (isMlir) {
    auto file = openInputFile(kernelPath, &error);
    if (!file)
      return fail(error);
    sourceMgr.AddNewSourceBuffer(std::move(file), llvm::SMLoc());
    source = parseSourceFile<ModuleOp>(sourceMgr, &context);
    if (!source)
      return fail(kernelPath + ": cannot parse");
    FailureOr<std::vector<EntryPoint>> points = collectEntryPoints(*source);
    if (failed(points))
      return fail(kernelPath + ": no entry point can be compiled");
    for (EntryPoint &p : *points)
      entries.push_back({p, source->lookupSymbol<func::FuncOp>(p.name)});
    if (std::error_code ec = llvm::sys::fs::createUniqueDirectory("attn-run", tempDir))
      return fail("cannot create a temporary directory: " + ec.message());
    OwningOpRef<ModuleOp> lowered = source->clone();
    CompileOptions options;
    options.target = cuda ? Target::Cuda : Target::Cpu;
    options.gpu.toolkitPath = findCudaToolkit();
    options.gpu.format = options.gpu.toolkitPath.empty() ? "isa" : "bin";
    options.outputDir = std::string(tempDir);
    options.name = "kernel";
    if (failed(compileModule(*lowered, options, error))) {
      llvm::sys::fs::remove_directories(tempDir);
      return fail(kernelPath + ": " + error);
    }
    libPath = (tempDir + "/libkernel.so").str();
  } else if (check) {
    return fail("--check needs the .mlir source: the reference interprets it");
  }
  if (!saveReference.empty() && !check)
    return fail("--save-reference needs --check");

  attnrt_module *module = nullptr;
  // Every exit path, failures included, unloads and removes the temporaries.
  auto cleanup = llvm::scope_exit([&] {
    attnrt_module_unload(module);
    if (!tempDir.empty())
      llvm::sys::fs::remove_directories(tempDir);
  });
  if (attnrt_module_load(libPath.c_str(), &module) != ATTNRT_OK)
    return fail(attnrt_last_error());
  if (!isMlir && !parseManifest(attnrt_module_manifest(module), entries, cuda, error))
    return fail(libPath + ": " + error);
  if (cuda && attnrt_cuda_init() != ATTNRT_OK)
    return fail(libPath + ": " + attnrt_last_error());

  // Every --input must name an argument of some entry that will run.
  for (const auto &[name, path] : given) {
    bool known = false;
    for (const Entry &entry : entries)
      if (entryName.empty() || entry.point.name == entryName)
        for (const EntryArg &arg : entry.point.args)
          known |= !arg.isOutput && arg.name == name;
    if (!known)
      return fail("--input " + name + "=" + path +
                  ": no input argument named '" + name + "'");
  }

  std::mt19937_64 rng(seed);
  bool allPassed = true;
  bool ranAny = false;
  for (Entry &entry : entries) {
    if (!entryName.empty() && entry.point.name != entryName)
      continue;
    ranAny = true;
    // Inputs, in argument order.
    std::vector<HostTensor> inputs;
    std::vector<std::vector<uint8_t>> buffers;
    for (auto [index, arg] : llvm::enumerate(entry.point.args)) {
      if (arg.isOutput)
        continue;
      HostTensor t;
      t.dtype = arg.dtype;
      t.shape = arg.shape;
      auto it = given.find(arg.name);
      if (it != given.end()) {
        if (!readNpy(it->second, arg.dtype, t, error))
          return fail(error);
        if (t.shape != arg.shape)
          return fail(llvm::formatv("{0}: argument '{1}' of '{2}' needs shape {3}, "
                                    "the file has {4}",
                                    it->second, arg.name, entry.point.name,
                                    shapeString(arg.shape), shapeString(t.shape)));
      } else if (randomInputs) {
        Value value = entry.fn ? entry.fn.getArgument(index) : Value();
        drawInput(t, value, arg.role, rng);
      } else {
        return fail("no input for argument '" + arg.name + "' of '" +
                    entry.point.name + "': pass --input " + arg.name +
                    "=FILE.npy or --random");
      }
      buffers.push_back(t.encode());
      inputs.push_back(std::move(t));
    }
    std::vector<const EntryArg *> outputs;
    for (const EntryArg &arg : entry.point.args)
      if (arg.isOutput) {
        outputs.push_back(&arg);
        int64_t n = 1;
        for (int64_t s : arg.shape)
          n *= s;
        buffers.emplace_back(size_t(n) * dtypeSize(arg.dtype) + 1, 0xAB);
      }
    std::vector<void *> pointers;
    DeviceBuffers device;
    if (cuda) {
      // Inputs are copied in; outputs start as 0xAB bytes so that an
      // element the kernel never writes cannot pass the check.
      for (auto [i, b] : llvm::enumerate(buffers)) {
        void *d = nullptr;
        if (attnrt_cuda_malloc(b.size(), &d) != ATTNRT_OK)
          return fail(attnrt_last_error());
        device.pointers.push_back(d);
        attnrt_status st = i < inputs.size()
                               ? attnrt_cuda_memcpy_htod(d, b.data(), b.size())
                               : attnrt_cuda_memset_u8(d, 0xAB, b.size());
        if (st != ATTNRT_OK)
          return fail(attnrt_last_error());
      }
      pointers = device.pointers;
    } else {
      for (auto &b : buffers)
        pointers.push_back(b.data());
    }

    auto call = [&]() {
      return attnrt_call(module, entry.point.name.c_str(), pointers.data(),
                         int32_t(pointers.size()));
    };
    if (call() != ATTNRT_OK)
      return fail(attnrt_last_error());
    double medianMs = -1.0;
    if (bench > 0) {
      std::vector<double> times;
      for (int r = 0; r < bench; ++r) {
        double ms = 0.0;
        if (cuda ? timeOnDevice(call, ms) : timeOnHost(call, ms))
          return fail(attnrt_last_error());
        times.push_back(ms);
      }
      std::sort(times.begin(), times.end());
      medianMs = times[times.size() / 2];
    }
    if (cuda)
      for (size_t i = inputs.size(); i < buffers.size(); ++i)
        if (attnrt_cuda_memcpy_dtoh(buffers[i].data(), device.pointers[i],
                                    buffers[i].size()) != ATTNRT_OK)
          return fail(attnrt_last_error());

    std::vector<HostTensor> results;
    size_t firstOut = inputs.size();
    for (auto [i, arg] : llvm::enumerate(outputs))
      results.push_back(HostTensor::decode(arg->dtype, arg->shape,
                                           buffers[firstOut + i].data()));
    for (HostTensor &r : results)
      for (double &v : r.values)
        v += perturb;
    // Writes tensors as DIR/ENTRY.NAME.npy.
    auto save = [&](const std::string &dir, const std::vector<const EntryArg *> &args,
                    const std::vector<HostTensor> &tensors) {
      if (std::error_code ec = llvm::sys::fs::create_directories(dir)) {
        error = "cannot create " + dir + ": " + ec.message();
        return false;
      }
      for (auto [i, arg] : llvm::enumerate(args))
        if (!writeNpy(dir + "/" + entry.point.name + "." + arg->name + ".npy",
                      tensors[i], error))
          return false;
      return true;
    };
    if (!outputDir.empty() && !save(outputDir, outputs, results))
      return fail(error);
    if (!saveInputs.empty()) {
      std::vector<const EntryArg *> inputArgs;
      for (const EntryArg &arg : entry.point.args)
        if (!arg.isOutput)
          inputArgs.push_back(&arg);
      if (!save(saveInputs, inputArgs, inputs))
        return fail(error);
    }

    std::vector<HostTensor> expected;
    if (check && !interpretWithReference(entry.fn, inputs, expected, error))
      return fail(entry.point.name + ": " + error);
    if (check && expected.size() != outputs.size())
      return fail(entry.point.name + ": the reference gave " +
                  std::to_string(expected.size()) + " outputs, the kernel " +
                  std::to_string(outputs.size()));
    if (check && !saveReference.empty() && !save(saveReference, outputs, expected))
      return fail(error);
    for (auto [i, arg] : llvm::enumerate(outputs)) {
      std::string status = "ran";
      double err = 0.0, tol = toleranceFor(arg->dtype);
      if (check) {
        err = relativeError(results[i], expected[i]);
        bool ok = err <= tol;
        status = ok ? "PASS" : "FAIL";
        allPassed &= ok;
      }
      if (jsonSummary) {
        llvm::outs() << llvm::formatv(
            "{{\"entry\": \"{0}\", \"output\": \"{1}\", \"shape\": \"{2}\", "
            "\"dtype\": \"{3}\", \"max_rel_err\": {4:e}, \"tolerance\": {5:e}, "
            "\"status\": \"{6}\", \"median_ms\": {7:f4}}\n",
            entry.point.name, arg->name, shapeString(arg->shape), arg->dtype,
            err, tol, status, medianMs);
      } else {
        llvm::outs() << llvm::formatv("{0,-24} {1,-10} {2,-18} {3,-5}", entry.point.name,
                                      arg->name, shapeString(arg->shape), arg->dtype);
        if (check)
          llvm::outs() << llvm::formatv("  max rel err {0:e2} (tol {1:e0})  {2}", err,
                                        tol, status);
        if (medianMs >= 0)
          llvm::outs() << llvm::formatv("  {0:f3} ms", medianMs);
        llvm::outs() << "\n";
      }
    }
  }
  if (!ranAny)
    return fail("no entry point named '" + entryName + "'");
  return allPassed ? 0 : 1;
}
