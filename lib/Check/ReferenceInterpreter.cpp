//===- ReferenceInterpreter.cpp - run a func with the fp64 reference ------===//
//
// This file implements the op-by-op interpretation of a function with the
// fp64 reference library. It shares no code with the compiler's lowering:
// the attn ops' meaning comes from lib/Reference alone.
//
//===----------------------------------------------------------------------===//

#include "attn/Check/ReferenceInterpreter.h"
#include "ScalarEvaluator.h"

#include "attn/Dialect/Attn/AttnDialect.h"
#include "attn/Reference/Reference.h"

#include "mlir/Dialect/Func/IR/FuncOps.h"
#include "mlir/Dialect/Tensor/IR/Tensor.h"
#include "llvm/ADT/DenseMap.h"
#include "llvm/ADT/TypeSwitch.h"

#include <cmath>
#include <stdexcept>

using namespace mlir;
using namespace attn;
namespace ref = attn::reference;

static std::string dtypeName(Type type) {
  Type elem = getElementTypeOrSelf(type);
  if (elem.isF16())
    return "f16";
  if (elem.isBF16())
    return "bf16";
  if (elem.isInteger(32))
    return "i32";
  if (elem.isInteger(8))
    return "i8";
  if (elem.isInteger(1))
    return "i1";
  return "f32";
}

namespace {

class Interpreter {
public:
  explicit Interpreter(std::string &error) : error(error) {}

  void bind(Value v, HostTensor t) { env[v] = std::move(t); }
  const HostTensor &get(Value v) { return env[v]; }

  bool run(Operation *op);

private:
  ref::RefTensor real(Value v) {
    const HostTensor &t = env[v];
    return ref::RefTensor(t.shape, t.values);
  }
  template <typename T>
  ref::Tensor<T> integral(Value v) {
    const HostTensor &t = env[v];
    ref::Tensor<T> out(t.shape);
    for (size_t i = 0; i < t.values.size(); ++i)
      out.data[i] = static_cast<T>(static_cast<int64_t>(t.values[i]));
    return out;
  }
  template <typename T>
  void set(Value v, const ref::Tensor<T> &t) {
    HostTensor h;
    h.dtype = dtypeName(v.getType());
    h.shape = t.shape;
    h.values.assign(t.data.begin(), t.data.end());
    env[v] = std::move(h);
  }
  /// Sets `out` and, when the op returns it, `lse`.
  void setAttention(Operation *op, const ref::AttentionResult &r) {
    set(op->getResult(0), r.out);
    if (op->getNumResults() > 1)
      set(op->getResult(1), r.lse);
  }
  static std::optional<double> opt(std::optional<llvm::APFloat> a) {
    if (!a)
      return std::nullopt;
    return a->convertToDouble();
  }
  ref::SelectionParams selection(int64_t topk, bool causal, int64_t sinks,
                                 int64_t window) {
    ref::SelectionParams p;
    p.topk = topk;
    p.causal = causal;
    p.sinkTokens = sinks;
    p.localWindow = window;
    return p;
  }

  bool attention(AttentionOp op);
  bool sliceOp(Operation *op);

  llvm::DenseMap<Value, HostTensor> env;
  std::string &error;
};

} // namespace

bool Interpreter::attention(AttentionOp op) {
  ref::AttentionParams p;
  p.scale = op.getEffectiveScale();
  p.causal = op.getCausal();
  if (auto w = op.getWindow())
    p.window = std::make_pair((*w)[0], (*w)[1]);
  p.softcap = opt(op.getSoftcap());
  ref::BoolTensor boolMask;
  ref::RefTensor addMask, sinks;
  ref::IndexTensor num, idx, fullNum, fullIdx;
  if (Value m = op.getMask()) {
    if (getElementTypeOrSelf(m.getType()).isInteger(1)) {
      boolMask = integral<uint8_t>(m);
      p.boolMask = &boolMask;
    } else {
      addMask = real(m);
      p.additiveMask = &addMask;
    }
  }
  if (op.getKvNumBlocks()) {
    num = integral<int32_t>(op.getKvNumBlocks());
    idx = integral<int32_t>(op.getKvIndices());
    p.kvNumBlocks = &num;
    p.kvIndices = &idx;
  }
  if (op.getFullKvNumBlocks()) {
    fullNum = integral<int32_t>(op.getFullKvNumBlocks());
    fullIdx = integral<int32_t>(op.getFullKvIndices());
    p.fullKvNumBlocks = &fullNum;
    p.fullKvIndices = &fullIdx;
  }
  if (op.getBlockQ())
    p.blockQ = *op.getBlockQ();
  if (op.getBlockK())
    p.blockK = *op.getBlockK();
  if (Value s = op.getSinks()) {
    sinks = real(s);
    p.sinks = &sinks;
  }
  ref::IndexTensor kvLens, blockTable;
  if (Value lens = op.getKvLens()) {
    kvLens = integral<int32_t>(lens);
    p.kvLens = &kvLens;
  }
  if (Value table = op.getBlockTable()) {
    blockTable = integral<int32_t>(table);
    p.blockTable = &blockTable;
  }
  // Tensors a region captures (bias tables) are read from the function's
  // values, row-major.
  CapturedElement captured = [this](Value tensor, ArrayRef<int64_t> indices) {
    auto it = env.find(tensor);
    if (it == env.end() || indices.size() != it->second.shape.size())
      return std::nan("");
    int64_t flat = 0;
    for (auto [i, extent] : llvm::zip(indices, it->second.shape)) {
      if (i < 0 || i >= extent)
        return std::nan("");
      flat = flat * extent + i;
    }
    return it->second.values[size_t(flat)];
  };
  if (!op.getScoreMod().empty()) {
    if (!canEvaluate(op.getScoreMod(), error))
      return false;
    Region *region = &op.getScoreMod();
    p.scoreMod = [region, captured](double s, int64_t b, int64_t h, int64_t i, int64_t j) {
      return evaluateRegion(*region, {s, double(b), double(h), double(i), double(j)},
                            captured);
    };
  }
  if (!op.getMaskMod().empty()) {
    if (!canEvaluate(op.getMaskMod(), error))
      return false;
    Region *region = &op.getMaskMod();
    p.maskMod = [region, captured](int64_t b, int64_t h, int64_t i, int64_t j) {
      return evaluateRegion(*region, {double(b), double(h), double(i), double(j)},
                            captured) != 0.0;
    };
  }
  setAttention(op, ref::attention(real(op.getQuery()), real(op.getKey()),
                                  real(op.getValue()), p));
  return true;
}

/// tensor.empty / extract_slice / insert_slice with static unit-stride slices.
bool Interpreter::sliceOp(Operation *op) {
  auto strides = [](auto s) {
    return llvm::all_of(s.getStaticStrides(), [](int64_t x) { return x == 1; }) &&
           !ShapedType::isDynamicShape(s.getStaticOffsets()) &&
           !ShapedType::isDynamicShape(s.getStaticSizes());
  };
  auto rowMajor = [](ArrayRef<int64_t> shape, ArrayRef<int64_t> index) {
    int64_t off = 0;
    for (auto [s, i] : llvm::zip(shape, index))
      off = off * s + i;
    return off;
  };
  // Visits every index of `sizes` (the unreduced slice shape).
  auto forEach = [](ArrayRef<int64_t> sizes, auto fn) {
    SmallVector<int64_t> index(sizes.size(), 0);
    int64_t total = 1;
    for (int64_t s : sizes)
      total *= s;
    for (int64_t n = 0; n < total; ++n) {
      fn(index);
      for (int64_t a = int64_t(sizes.size()) - 1; a >= 0; --a) {
        if (++index[a] < sizes[a])
          break;
        index[a] = 0;
      }
    }
  };
  if (auto empty = dyn_cast<tensor::EmptyOp>(op)) {
    auto type = cast<RankedTensorType>(empty.getType());
    HostTensor t;
    t.dtype = dtypeName(type);
    t.shape.assign(type.getShape().begin(), type.getShape().end());
    t.values.assign(t.numel(), 0.0);
    env[empty.getResult()] = std::move(t);
    return true;
  }
  if (auto ins = dyn_cast<tensor::InsertSliceOp>(op)) {
    if (!strides(ins)) {
      error = "the reference check supports only static unit-stride insert_slice";
      return false;
    }
    HostTensor dest = env[ins.getDest()];
    const HostTensor &src = env[ins.getSource()];
    ArrayRef<int64_t> offsets = ins.getStaticOffsets();
    int64_t n = 0;
    forEach(ins.getStaticSizes(), [&](ArrayRef<int64_t> index) {
      SmallVector<int64_t> at;
      for (auto [o, i] : llvm::zip(offsets, index))
        at.push_back(o + i);
      dest.values[rowMajor(dest.shape, at)] = src.values[n++];
    });
    env[ins.getResult()] = std::move(dest);
    return true;
  }
  auto ext = cast<tensor::ExtractSliceOp>(op);
  if (!strides(ext)) {
    error = "the reference check supports only static unit-stride extract_slice";
    return false;
  }
  const HostTensor &src = env[ext.getSource()];
  HostTensor out;
  out.dtype = src.dtype;
  auto type = ext.getType();
  out.shape.assign(type.getShape().begin(), type.getShape().end());
  ArrayRef<int64_t> offsets = ext.getStaticOffsets();
  forEach(ext.getStaticSizes(), [&](ArrayRef<int64_t> index) {
    SmallVector<int64_t> at;
    for (auto [o, i] : llvm::zip(offsets, index))
      at.push_back(o + i);
    out.values.push_back(src.values[rowMajor(src.shape, at)]);
  });
  env[ext.getResult()] = std::move(out);
  return true;
}

bool Interpreter::run(Operation *op) {
  return llvm::TypeSwitch<Operation *, bool>(op)
      .Case([&](AttentionOp o) { return attention(o); })
      .Case<tensor::EmptyOp, tensor::InsertSliceOp, tensor::ExtractSliceOp>(
          [&](Operation *o) { return sliceOp(o); })
      .Case([&](MergeOp o) {
        setAttention(o, ref::merge(real(o.getOuts()), real(o.getLses())));
        return true;
      })
      .Case([&](DiffAttentionOp o) {
        ref::DiffAttentionParams p;
        p.lambdaInit = o.getLambdaInit().convertToDouble();
        p.eps = o.getEps().convertToDouble();
        p.causal = o.getCausal();
        p.scale = opt(o.getScale());
        ref::RefTensor w;
        if (o.getNormWeight()) {
          w = real(o.getNormWeight());
          p.normWeight = &w;
        }
        set(o.getOut(), ref::diffAttention(real(o.getQuery1()), real(o.getKey1()),
                                           real(o.getQuery2()), real(o.getKey2()),
                                           real(o.getValue()), real(o.getLambda()), p)
                            .out);
        return true;
      })
      .Case([&](FeatureMapOp o) {
        ref::FeatureMapParams p;
        p.kind = static_cast<ref::FeatureMapKind>(o.getKind());
        ref::RefTensor w;
        if (o.getWeight()) {
          w = real(o.getWeight());
          p.weight = &w;
        }
        set(o.getOutput(), ref::featureMap(real(o.getInput()), p).out);
        return true;
      })
      .Case([&](LinearAttentionOp o) {
        ref::LinearAttentionParams p;
        p.decay = static_cast<ref::DecayKind>(o.getDecay());
        p.normalize = o.getNormalize();
        p.eps = o.getEps().convertToDouble();
        p.scale = o.getScale().convertToDouble();
        ref::RefTensor g, s, z;
        if (o.getGate()) { g = real(o.getGate()); p.g = &g; }
        if (o.getStateIn()) { s = real(o.getStateIn()); p.stateIn = &s; }
        if (o.getNormIn()) { z = real(o.getNormIn()); p.zIn = &z; }
        auto r = ref::linearAttention(real(o.getQuery()), real(o.getKey()),
                                      real(o.getValue()), p);
        set(o.getOut(), r.out);
        if (o.getStateOut())
          set(o.getStateOut(), r.stateOut);
        if (o.getNormOut())
          set(o.getNormOut(), r.zOut);
        return true;
      })
      .Case([&](DeltaRuleOp o) {
        ref::DeltaRuleParams p;
        p.kind = static_cast<ref::DeltaRuleKind>(o.getKind());
        p.scale = o.getScale().convertToDouble();
        p.l2norm = o.getL2norm();
        ref::RefTensor g, s;
        if (o.getGate()) { g = real(o.getGate()); p.g = &g; }
        if (o.getStateIn()) { s = real(o.getStateIn()); p.stateIn = &s; }
        auto r = ref::deltaRule(real(o.getQuery()), real(o.getKey()),
                                real(o.getValue()), real(o.getBeta()), p);
        set(o.getOut(), r.out);
        if (o.getStateOut())
          set(o.getStateOut(), r.stateOut);
        return true;
      })
      .Case([&](LogLinearOp o) {
        ref::LogLinearParams p;
        p.base = static_cast<ref::LogLinearBase>(o.getBase());
        p.scale = o.getScale().convertToDouble();
        ref::RefTensor g, beta;
        if (o.getGate()) { g = real(o.getGate()); p.g = &g; }
        if (o.getBeta()) { beta = real(o.getBeta()); p.beta = &beta; }
        p.streaming = o.isStreaming();
        ref::RefTensor stateIn;
        ref::IndexTensor start;
        if (o.getStateIn()) { stateIn = real(o.getStateIn()); p.stateIn = &stateIn; }
        if (o.getStart()) { start = integral<int32_t>(o.getStart()); p.start = &start; }
        ref::LogLinearResult r = ref::logLinear(real(o.getQuery()), real(o.getKey()),
                                                real(o.getValue()), real(o.getLambda()), p);
        set(o.getOut(), r.out);
        if (o.getStateOut())
          set(o.getStateOut(), r.stateOut);
        return true;
      })
      .Case([&](LolcatsDecodeOp o) {
        ref::LolcatsState state{real(o.getState()), real(o.getNorm()),
                                real(o.getWindowKey()), real(o.getWindowValue()),
                                real(o.getWindowFeature())};
        ref::LolcatsDecodeResult r = ref::lolcatsDecode(
            real(o.getQuery()), real(o.getKey()), real(o.getValue()),
            real(o.getFeatureQuery()), real(o.getFeatureKey()), real(o.getGamma()),
            integral<int32_t>(o.getPosition()), state, opt(o.getScale()));
        set(o.getOut(), r.out);
        set(o.getStateOut(), r.next.state);
        set(o.getNormOut(), r.next.norm);
        set(o.getWindowKeyOut(), r.next.windowKey);
        set(o.getWindowValueOut(), r.next.windowValue);
        set(o.getWindowFeatureOut(), r.next.windowFeature);
        return true;
      })
      .Case([&](LolcatsHybridOp o) {
        ref::LolcatsParams p;
        p.window = o.getWindow();
        p.mode = static_cast<ref::LolcatsMode>(o.getMode());
        p.scale = opt(o.getScale());
        set(o.getOut(), ref::lolcatsHybrid(real(o.getQuery()), real(o.getKey()),
                                           real(o.getValue()), real(o.getFeatureQuery()),
                                           real(o.getFeatureKey()), real(o.getGamma()), p)
                            .out);
        return true;
      })
      .Case([&](SparseAttentionOp o) {
        ref::SparseAttentionParams p;
        p.queryBlock = o.getQueryBlock();
        p.keyBlock = o.getKeyBlock();
        p.scale = opt(o.getScale());
        p.causal = o.getCausal();
        setAttention(o, ref::sparseAttention(real(o.getQuery()), real(o.getKey()),
                                             real(o.getValue()),
                                             integral<int32_t>(o.getIndices()), p));
        return true;
      })
      .Case([&](TopkSelectOp o) {
        set(o.getIndices(),
            ref::topkSelect(real(o.getQuery()), real(o.getKey()),
                            selection(o.getTopk(), o.getCausal(), o.getSinkTokens(),
                                      o.getLocalWindow()))
                .indices);
        return true;
      })
      .Case([&](AdamasSelectOp o) {
        set(o.getIndices(),
            ref::adamasSelect(real(o.getQuery()), real(o.getKey()),
                              selection(o.getTopk(), o.getCausal(), o.getSinkTokens(),
                                        o.getLocalWindow()))
                .indices);
        return true;
      })
      .Case([&](PageBoundsOp o) {
        auto r = ref::pageBounds(real(o.getKey()), o.getPageSize());
        set(o.getKmin(), r.kmin);
        set(o.getKmax(), r.kmax);
        return true;
      })
      .Case([&](QuestSelectOp o) {
        ref::QuestParams p;
        static_cast<ref::SelectionParams &>(p) = selection(
            o.getTopk(), o.getCausal(), o.getSinkTokens(), o.getLocalWindow());
        p.pageSize = o.getPageSize();
        p.keyLength = o.getKeyLength();
        set(o.getIndices(), ref::questSelect(real(o.getQuery()), real(o.getKmin()),
                                             real(o.getKmax()), p)
                                .indices);
        return true;
      })
      .Case([&](DsaIndexerOp o) {
        set(o.getIndices(),
            ref::dsaIndexer(real(o.getQuery()), real(o.getKey()), real(o.getWeights()),
                            selection(o.getTopk(), o.getCausal(), o.getSinkTokens(),
                                      o.getLocalWindow()))
                .indices);
        return true;
      })
      .Case([&](QuantAttentionOp o) {
        ref::QuantAttentionParams p;
        p.bits = o.getBits();
        p.groupSize = o.getGroupSize();
        p.scale = opt(o.getScale());
        p.causal = o.getCausal();
        ref::RefTensor kz, vz;
        if (o.getKeyZero()) { kz = real(o.getKeyZero()); p.kZero = &kz; }
        if (o.getValueZero()) { vz = real(o.getValueZero()); p.vZero = &vz; }
        ref::IndexTensor lens;
        if (o.getKvLens()) { lens = integral<int32_t>(o.getKvLens()); p.kvLens = &lens; }
        setAttention(o, ref::quantAttention(real(o.getQuery()),
                                            integral<int8_t>(o.getKeyCodes()),
                                            real(o.getKeyScale()),
                                            integral<int8_t>(o.getValueCodes()),
                                            real(o.getValueScale()), p));
        return true;
      })
      .Case([&](PQFitOp o) {
        auto type = o.getCodebooks().getType();
        ref::PqFitParams p;
        p.m = type.getDimSize(1);
        p.kc = type.getDimSize(2);
        p.iters = o.getIters();
        p.seed = static_cast<uint64_t>(o.getSeed());
        set(o.getCodebooks(), ref::pqFit(real(o.getKeys()), p).codebooks);
        return true;
      })
      .Case([&](PQEncodeOp o) {
        set(o.getCodes(), ref::pqEncode(real(o.getKey()), real(o.getCodebooks())).codes);
        return true;
      })
      .Case([&](PQAttentionOp o) {
        ref::PqAttentionParams p;
        p.scale = opt(o.getScale());
        p.causal = o.getCausal();
        ref::IndexTensor lens;
        if (o.getKvLens()) { lens = integral<int32_t>(o.getKvLens()); p.kvLens = &lens; }
        setAttention(o, ref::pqAttention(real(o.getQuery()),
                                         integral<int8_t>(o.getCodes()),
                                         real(o.getCodebooks()),
                                         real(o.getValue()), p));
        return true;
      })
      .Default([&](Operation *o) {
        error = "the reference check has no meaning for '" +
                o->getName().getStringRef().str() + "'";
        return false;
      });
}

bool attn::interpretWithReference(func::FuncOp fn,
                                  const std::vector<HostTensor> &inputs,
                                  std::vector<HostTensor> &outputs,
                                  std::string &error) {
  if (inputs.size() != fn.getNumArguments()) {
    error = "expected " + std::to_string(fn.getNumArguments()) + " inputs, got " +
            std::to_string(inputs.size());
    return false;
  }
  Interpreter interp(error);
  for (auto [arg, input] : llvm::zip(fn.getArguments(), inputs))
    interp.bind(arg, input);
  for (Operation &op : fn.getBody().front()) {
    if (auto ret = dyn_cast<func::ReturnOp>(op)) {
      outputs.clear();
      for (Value v : ret.getOperands())
        outputs.push_back(interp.get(v));
      return true;
    }
    try {
      if (!interp.run(&op))
        return false;
    } catch (const std::exception &e) {
      error = "the reference rejected '" + op.getName().getStringRef().str() +
              "': " + e.what();
      return false;
    }
  }
  error = "function has no return";
  return false;
}
