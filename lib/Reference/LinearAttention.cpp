//===- LinearAttention.cpp - Linear attention and LoLCATs -------*- C++ -*-===//
//
// This file implements attn.feature_map, attn.linear_attention and
// attn.lolcats_hybrid. Linear attention is evaluated token by token through
// its recurrence (the definition in Rationale.md), never in a chunked form,
// so that chunked kernels have an independent oracle.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>

namespace attn {
namespace reference {

using namespace detail;

//===----------------------------------------------------------------------===//
// attn.feature_map
//===----------------------------------------------------------------------===//

namespace {

/// Softmax of n numbers into out (the inputs are finite, so no empty case).
void softmaxInto(const double *x, int64_t n, double *out) {
  double m = -kInf;
  for (int64_t i = 0; i < n; ++i)
    m = std::max(m, x[i]);
  double sum = 0.0;
  for (int64_t i = 0; i < n; ++i)
    sum += out[i] = std::exp(x[i] - m);
  for (int64_t i = 0; i < n; ++i)
    out[i] /= sum;
}

} // namespace

FeatureMapResult featureMap(const RefTensor &x,
                            const FeatureMapParams &params) {
  const char *op = "feature_map";
  checkRank(op, "x", x, 4);
  int64_t batch = x.dim(0), heads = x.dim(1), len = x.dim(2), d = x.dim(3);
  if (params.kind != FeatureMapKind::Hedgehog) {
    if (params.weight)
      fail(op, "'weight' is only used by the hedgehog feature map");
    FeatureMapResult r{RefTensor(x.shape)};
    for (size_t i = 0; i < x.data.size(); ++i) {
      double e = x.data[i];
      switch (params.kind) {
      case FeatureMapKind::Identity:
        r.out.data[i] = e;
        break;
      case FeatureMapKind::EluPlusOne:
        r.out.data[i] = e > 0.0 ? e + 1.0 : std::exp(e);
        break;
      case FeatureMapKind::Relu:
        r.out.data[i] = std::max(e, 0.0);
        break;
      case FeatureMapKind::Hedgehog:
        break;
      }
    }
    return r;
  }

  if (!params.weight)
    fail(op, "'weight' [H, D, F/2] is required by the hedgehog feature map");
  const RefTensor &w = *params.weight;
  checkRank(op, "weight", w, 3);
  checkShape(op, "weight", w, {heads, d, -1});
  int64_t half = w.dim(2);
  FeatureMapResult r{RefTensor({batch, heads, len, 2 * half})};
  std::vector<double> proj(static_cast<size_t>(half)),
      neg(static_cast<size_t>(half));
  for (int64_t b = 0; b < batch; ++b)
    for (int64_t h = 0; h < heads; ++h)
      for (int64_t t = 0; t < len; ++t) {
        const double *xt = row4(x, b, h, t);
        for (int64_t f = 0; f < half; ++f) {
          double s = 0.0;
          for (int64_t e = 0; e < d; ++e)
            s += xt[e] * w.data[off3(w.shape, h, e, f)];
          proj[f] = s;
          neg[f] = -s;
        }
        double *out = row4(r.out, b, h, t);
        softmaxInto(proj.data(), half, out);
        softmaxInto(neg.data(), half, out + half);
      }
  return r;
}

//===----------------------------------------------------------------------===//
// attn.linear_attention
//===----------------------------------------------------------------------===//

LinearAttentionResult linearAttention(const RefTensor &q, const RefTensor &k,
                                      const RefTensor &v,
                                      const LinearAttentionParams &params) {
  const char *op = "linear_attention";
  checkRank(op, "q", q, 4);
  int64_t batch = q.dim(0), heads = q.dim(1), len = q.dim(2), f = q.dim(3);
  checkShape(op, "k", k, q.shape);
  checkShape(op, "v", v, {batch, heads, len, -1});
  int64_t dv = v.dim(3);

  const RefTensor *g = params.g;
  switch (params.decay) {
  case DecayKind::None:
    if (g)
      fail(op, "'g' must not be given with decay 'none'");
    break;
  case DecayKind::Constant:
    if (!g)
      fail(op, "'g' [H] is required with decay 'constant'");
    checkShape(op, "g", *g, {heads});
    break;
  case DecayKind::Scalar:
    if (!g)
      fail(op, "'g' [B,H,L] is required with decay 'scalar'");
    checkShape(op, "g", *g, {batch, heads, len});
    break;
  case DecayKind::Vector:
    if (!g)
      fail(op, "'g' [B,H,L,F] is required with decay 'vector'");
    checkShape(op, "g", *g, {batch, heads, len, f});
    break;
  }
  if (params.stateIn)
    checkShape(op, "state_in", *params.stateIn, {batch, heads, f, dv});
  if (params.zIn) {
    if (!params.normalize)
      fail(op, "'z_in' is only used with normalize");
    if (!params.stateIn)
      fail(op, "'z_in' requires 'state_in'");
    checkShape(op, "z_in", *params.zIn, {batch, heads, f});
  } else if (params.normalize && params.stateIn) {
    fail(op,
         "'z_in' [B,H,F] is required with 'state_in' when normalize is set");
  }

  LinearAttentionResult r;
  r.out = RefTensor({batch, heads, len, dv});
  r.stateOut = RefTensor({batch, heads, f, dv});
  if (params.normalize)
    r.zOut = RefTensor({batch, heads, f});
  std::vector<double> decay(static_cast<size_t>(f), 1.0);
  std::vector<double> qs(static_cast<size_t>(f));
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      // S is [F, Dv] row-major, z is [F]; both start from the given state.
      std::vector<double> s(static_cast<size_t>(f * dv), 0.0),
          z(static_cast<size_t>(f), 0.0);
      if (params.stateIn)
        std::copy_n(row4(*params.stateIn, b, h, 0), f * dv, s.begin());
      if (params.zIn)
        std::copy_n(params.zIn->data.begin() + off3(params.zIn->shape, b, h, 0),
                    f, z.begin());
      for (int64_t t = 0; t < len; ++t) {
        for (int64_t e = 0; e < f; ++e) {
          switch (params.decay) {
          case DecayKind::None:
            decay[e] = 1.0;
            break;
          case DecayKind::Constant:
            decay[e] = std::exp(g->data[h]);
            break;
          case DecayKind::Scalar:
            decay[e] = std::exp(g->data[off3(g->shape, b, h, t)]);
            break;
          case DecayKind::Vector:
            decay[e] = std::exp(g->data[off4(g->shape, b, h, t, e)]);
            break;
          }
        }
        const double *kt = row4(k, b, h, t), *vt = row4(v, b, h, t),
                     *qt = row4(q, b, h, t);
        for (int64_t e = 0; e < f; ++e) {
          double *se = s.data() + e * dv;
          for (int64_t c = 0; c < dv; ++c)
            se[c] = decay[e] * se[c] + kt[e] * vt[c];
          z[e] = decay[e] * z[e] + kt[e];
          qs[e] = params.scale * qt[e];
        }
        double *out = row4(r.out, b, h, t);
        for (int64_t e = 0; e < f; ++e)
          for (int64_t c = 0; c < dv; ++c)
            out[c] += qs[e] * s[e * dv + c];
        if (params.normalize) {
          double den = dot(qs.data(), z.data(), f) + params.eps;
          for (int64_t c = 0; c < dv; ++c)
            out[c] /= den;
        }
      }
      std::copy(s.begin(), s.end(), row4(r.stateOut, b, h, 0));
      if (params.normalize)
        std::copy(z.begin(), z.end(),
                  r.zOut.data.begin() + off3(r.zOut.shape, b, h, 0));
    }
  }
  return r;
}

//===----------------------------------------------------------------------===//
// attn.lolcats_hybrid
//===----------------------------------------------------------------------===//

LolcatsResult lolcatsHybrid(const RefTensor &q, const RefTensor &k,
                            const RefTensor &v, const RefTensor &fq,
                            const RefTensor &fk, const RefTensor &gamma,
                            const LolcatsParams &params) {
  const char *op = "lolcats_hybrid";
  checkRank(op, "q", q, 4);
  int64_t batch = q.dim(0), heads = q.dim(1), len = q.dim(2), d = q.dim(3);
  checkShape(op, "k", k, q.shape);
  checkShape(op, "v", v, {batch, heads, len, -1});
  checkShape(op, "fq", fq, {batch, heads, len, -1});
  checkShape(op, "fk", fk, fq.shape);
  checkShape(op, "gamma", gamma, {heads});
  if (params.window < 1)
    fail(op, "'window' must be >= 1, got " + std::to_string(params.window));
  int64_t dv = v.dim(3), f = fq.dim(3), w = params.window;
  double scale = params.scale.value_or(1.0 / std::sqrt(static_cast<double>(d)));

  LolcatsResult r{RefTensor({batch, heads, len, dv})};
  std::vector<double> num(static_cast<size_t>(dv)), logits;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      double weight = 1.0 / (1.0 + std::exp(-gamma.data[h]));
      // Linear state over the keys older than the window: [F, Dv] and [F].
      // The window start never moves back, so keys are added as they leave.
      std::vector<double> s(static_cast<size_t>(f * dv), 0.0),
          z(static_cast<size_t>(f), 0.0);
      int64_t evicted = 0;
      for (int64_t n = 0; n < len; ++n) {
        int64_t start = params.mode == LolcatsMode::Sliding
                            ? std::max<int64_t>(0, n - w + 1)
                            : std::max<int64_t>(0, (n / w - 1) * w);
        for (; evicted < start; ++evicted) {
          const double *kj = row4(fk, b, h, evicted),
                       *vj = row4(v, b, h, evicted);
          for (int64_t e = 0; e < f; ++e) {
            for (int64_t c = 0; c < dv; ++c)
              s[e * dv + c] += kj[e] * vj[c];
            z[e] += kj[e];
          }
        }
        const double *qn = row4(q, b, h, n), *fqn = row4(fq, b, h, n);
        logits.assign(static_cast<size_t>(n - start + 1), 0.0);
        double cmax = -kInf;
        for (int64_t i = start; i <= n; ++i) {
          logits[i - start] = scale * dot(qn, row4(k, b, h, i), d);
          cmax = std::max(cmax, logits[i - start]);
        }
        std::fill(num.begin(), num.end(), 0.0);
        double den = 0.0;
        for (int64_t i = start; i <= n; ++i) {
          double p = weight * std::exp(logits[i - start] - cmax);
          den += p;
          const double *vi = row4(v, b, h, i);
          for (int64_t c = 0; c < dv; ++c)
            num[c] += p * vi[c];
        }
        // The linear terms are not rescaled by exp(-cmax) (OPS.md section 5).
        for (int64_t e = 0; e < f; ++e) {
          for (int64_t c = 0; c < dv; ++c)
            num[c] += fqn[e] * s[e * dv + c];
          den += fqn[e] * z[e];
        }
        double *out = row4(r.out, b, h, n);
        for (int64_t c = 0; c < dv; ++c)
          out[c] = num[c] / den;
      }
    }
  }
  return r;
}

LolcatsDecodeResult lolcatsDecode(const RefTensor &q, const RefTensor &k,
                                  const RefTensor &v, const RefTensor &fq,
                                  const RefTensor &fk, const RefTensor &gamma,
                                  const IndexTensor &position,
                                  const LolcatsState &in,
                                  std::optional<double> scaleAttr) {
  const char *op = "lolcats_decode";
  checkRank(op, "q", q, 4);
  int64_t batch = q.dim(0), heads = q.dim(1), d = q.dim(3);
  checkShape(op, "q", q, {batch, heads, 1, d});
  checkShape(op, "k", k, q.shape);
  checkShape(op, "v", v, {batch, heads, 1, -1});
  checkShape(op, "fq", fq, {batch, heads, 1, -1});
  checkShape(op, "fk", fk, fq.shape);
  checkShape(op, "gamma", gamma, {heads});
  checkShape(op, "position", position, {batch});
  int64_t dv = v.dim(3), f = fq.dim(3);
  checkShape(op, "state", in.state, {batch, heads, f, dv});
  checkShape(op, "norm", in.norm, {batch, heads, f});
  checkShape(op, "window_key", in.windowKey, {batch, heads, -1, d});
  int64_t w = in.windowKey.dim(2);
  if (w < 1)
    fail(op, "the window must hold at least one token");
  checkShape(op, "window_value", in.windowValue, {batch, heads, w, dv});
  checkShape(op, "window_feature", in.windowFeature, {batch, heads, w, f});
  double scale = scaleAttr.value_or(1.0 / std::sqrt(static_cast<double>(d)));

  LolcatsDecodeResult r{RefTensor({batch, heads, 1, dv}), in};
  LolcatsState &s = r.next;
  std::vector<double> num(static_cast<size_t>(dv));
  for (int64_t b = 0; b < batch; ++b) {
    int64_t p = std::max<int64_t>(position.data[b], 0), slot = p % w;
    int64_t count = std::min(p + 1, w);
    for (int64_t h = 0; h < heads; ++h) {
      double *st = s.state.data.data() + off4(s.state.shape, b, h, 0, 0);
      double *nz = s.norm.data.data() + off3(s.norm.shape, b, h, 0);
      if (p >= w) { // token p - W leaves the window
        const double *fo = row4(s.windowFeature, b, h, slot),
                     *vo = row4(s.windowValue, b, h, slot);
        for (int64_t e = 0; e < f; ++e) {
          for (int64_t c = 0; c < dv; ++c)
            st[e * dv + c] += fo[e] * vo[c];
          nz[e] += fo[e];
        }
      }
      std::copy_n(row4(k, b, h, 0), d, row4(s.windowKey, b, h, slot));
      std::copy_n(row4(v, b, h, 0), dv, row4(s.windowValue, b, h, slot));
      std::copy_n(row4(fk, b, h, 0), f, row4(s.windowFeature, b, h, slot));

      const double *qn = row4(q, b, h, 0), *fqn = row4(fq, b, h, 0);
      double weight = 1.0 / (1.0 + std::exp(-gamma.data[h]));
      double cmax = -kInf;
      std::vector<double> logits(static_cast<size_t>(count));
      for (int64_t j = 0; j < count; ++j) {
        logits[j] = scale * dot(qn, row4(s.windowKey, b, h, j), d);
        cmax = std::max(cmax, logits[j]);
      }
      std::fill(num.begin(), num.end(), 0.0);
      double den = 0.0;
      for (int64_t j = 0; j < count; ++j) {
        double pj = weight * std::exp(logits[j] - cmax);
        den += pj;
        const double *vj = row4(s.windowValue, b, h, j);
        for (int64_t c = 0; c < dv; ++c)
          num[c] += pj * vj[c];
      }
      for (int64_t e = 0; e < f; ++e) {
        for (int64_t c = 0; c < dv; ++c)
          num[c] += fqn[e] * st[e * dv + c];
        den += fqn[e] * nz[e];
      }
      double *out = row4(r.out, b, h, 0);
      for (int64_t c = 0; c < dv; ++c)
        out[c] = num[c] / den;
    }
  }
  return r;
}

} // namespace reference
} // namespace attn
