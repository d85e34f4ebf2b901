//===- DeltaRule.cpp - Delta rule and log-linear attention ------*- C++ -*-===//
//
// This file implements attn.delta_rule through its token recurrence and
// attn.log_linear: the quadratic Fenwick-level formula for the linear and
// mamba2 bases, and the per-level recurrent form with binary carries for the
// gated_deltanet base, which has no closed quadratic form.
//
//===----------------------------------------------------------------------===//

#include "Internal.h"

#include <algorithm>

namespace attn {
namespace reference {

using namespace detail;

namespace {

/// x / sqrt(sum x^2 + 1e-6) into out.
void l2Normalize(const double *x, int64_t n, double *out) {
  double inv = 1.0 / std::sqrt(dot(x, x, n) + 1e-6);
  for (int64_t i = 0; i < n; ++i)
    out[i] = x[i] * inv;
}

/// S <- a (I - beta k k^T) S + beta k v^T for S [D, Dv] row-major; `rowDecay`
/// (per row of S) is applied before the projection, as KDA defines it, while
/// `decay` scales the projected state, as Gated DeltaNet defines it. Linear
/// in S apart from the rank-one write, which `write` switches on.
void deltaStep(std::vector<double> &s, const double *k, const double *v,
               double beta, double decay, const double *rowDecay, int64_t d,
               int64_t dv, bool write, std::vector<double> &scratch) {
  if (rowDecay)
    for (int64_t e = 0; e < d; ++e)
      for (int64_t c = 0; c < dv; ++c)
        s[e * dv + c] *= rowDecay[e];
  // scratch = k^T S, the value currently stored under key k.
  scratch.assign(static_cast<size_t>(dv), 0.0);
  for (int64_t e = 0; e < d; ++e)
    for (int64_t c = 0; c < dv; ++c)
      scratch[c] += k[e] * s[e * dv + c];
  for (int64_t e = 0; e < d; ++e)
    for (int64_t c = 0; c < dv; ++c) {
      double x = s[e * dv + c] - beta * k[e] * scratch[c];
      s[e * dv + c] = decay * x + (write ? beta * k[e] * v[c] : 0.0);
    }
}

} // namespace

//===----------------------------------------------------------------------===//
// attn.delta_rule
//===----------------------------------------------------------------------===//

DeltaRuleResult deltaRule(const RefTensor &q, const RefTensor &k,
                          const RefTensor &v, const RefTensor &beta,
                          const DeltaRuleParams &params) {
  const char *op = "delta_rule";
  checkRank(op, "q", q, 4);
  int64_t batch = q.dim(0), heads = q.dim(1), len = q.dim(2), d = q.dim(3);
  checkShape(op, "k", k, q.shape);
  checkShape(op, "v", v, {batch, heads, len, -1});
  checkShape(op, "beta", beta, {batch, heads, len});
  int64_t dv = v.dim(3);
  const RefTensor *g = params.g;
  switch (params.kind) {
  case DeltaRuleKind::DeltaNet:
    if (g)
      fail(op, "'g' must not be given with kind 'deltanet'");
    break;
  case DeltaRuleKind::Gated:
    if (!g)
      fail(op, "'g' [B,H,L] is required with kind 'gated'");
    checkShape(op, "g", *g, {batch, heads, len});
    break;
  case DeltaRuleKind::Kda:
    if (!g)
      fail(op, "'g' [B,H,L,D] is required with kind 'kda'");
    checkShape(op, "g", *g, {batch, heads, len, d});
    break;
  }
  if (params.stateIn)
    checkShape(op, "state_in", *params.stateIn, {batch, heads, d, dv});

  DeltaRuleResult r{RefTensor({batch, heads, len, dv}),
                    RefTensor({batch, heads, d, dv})};
  std::vector<double> qt(static_cast<size_t>(d)), kt(static_cast<size_t>(d)),
      rowDecay(static_cast<size_t>(d)), scratch;
  for (int64_t b = 0; b < batch; ++b) {
    for (int64_t h = 0; h < heads; ++h) {
      std::vector<double> s(static_cast<size_t>(d * dv), 0.0);
      if (params.stateIn)
        std::copy_n(row4(*params.stateIn, b, h, 0), d * dv, s.begin());
      for (int64_t t = 0; t < len; ++t) {
        if (params.l2norm) {
          l2Normalize(row4(q, b, h, t), d, qt.data());
          l2Normalize(row4(k, b, h, t), d, kt.data());
        } else {
          std::copy_n(row4(q, b, h, t), d, qt.begin());
          std::copy_n(row4(k, b, h, t), d, kt.begin());
        }
        double decay = 1.0;
        const double *rows = nullptr;
        if (params.kind == DeltaRuleKind::Gated) {
          decay = std::exp(g->data[off3(g->shape, b, h, t)]);
        } else if (params.kind == DeltaRuleKind::Kda) {
          for (int64_t e = 0; e < d; ++e)
            rowDecay[e] = std::exp(g->data[off4(g->shape, b, h, t, e)]);
          rows = rowDecay.data();
        }
        deltaStep(s, kt.data(), row4(v, b, h, t),
                  beta.data[off3(beta.shape, b, h, t)], decay, rows, d, dv,
                  /*write=*/true, scratch);
        double *out = row4(r.out, b, h, t);
        for (int64_t e = 0; e < d; ++e)
          for (int64_t c = 0; c < dv; ++c)
            out[c] += params.scale * qt[e] * s[e * dv + c];
      }
      std::copy(s.begin(), s.end(), row4(r.stateOut, b, h, 0));
    }
  }
  return r;
}

//===----------------------------------------------------------------------===//
// attn.log_linear
//===----------------------------------------------------------------------===//

int64_t logLinearLevelCount(int64_t length) {
  int64_t c = 0;
  while ((int64_t(1) << c) < length)
    ++c;
  return c + 1;
}

int64_t logLinearLevel(int64_t t, int64_t s) {
  uint64_t x = static_cast<uint64_t>(t ^ s);
  int64_t bits = 0;
  for (; x; x >>= 1)
    ++bits;
  return bits;
}

LogLinearResult logLinear(const RefTensor &q, const RefTensor &k,
                          const RefTensor &v, const RefTensor &lambda,
                          const LogLinearParams &params) {
  const char *op = "log_linear";
  checkRank(op, "q", q, 4);
  int64_t batch = q.dim(0), heads = q.dim(1), len = q.dim(2), d = q.dim(3);
  checkShape(op, "k", k, q.shape);
  checkShape(op, "v", v, {batch, heads, len, -1});
  int64_t dv = v.dim(3);
  bool streaming = params.streaming || params.stateIn || params.start;
  int64_t nlev = streaming ? lambda.dim(3) : logLinearLevelCount(len);
  checkShape(op, "lambda", lambda, {batch, heads, len, nlev});
  if (nlev < 1)
    fail(op, "'lambda' needs at least one level");
  if (params.stateIn)
    checkShape(op, "state_in", *params.stateIn, {batch, heads, nlev, d, dv});
  if (params.start)
    checkShape(op, "start", *params.start, {batch});
  const RefTensor *g = params.g, *beta = params.beta;
  if (params.base == LogLinearBase::Linear) {
    if (g)
      fail(op, "'g' must not be given with base 'linear'");
  } else {
    if (!g)
      fail(op,
           "'g' [B,H,L] is required with bases 'mamba2' and 'gated_deltanet'");
    checkShape(op, "g", *g, {batch, heads, len});
  }
  if (params.base == LogLinearBase::GatedDeltaNet) {
    if (!beta)
      fail(op, "'beta' [B,H,L] is required with base 'gated_deltanet'");
    checkShape(op, "beta", *beta, {batch, heads, len});
  } else if (beta) {
    fail(op, "'beta' is only used with base 'gated_deltanet'");
  }

  LogLinearResult r{RefTensor({batch, heads, len, dv})};
  if (params.base != LogLinearBase::GatedDeltaNet && !streaming) {
    // out_t = sum_{s<=t} lambda[t, lev(t,s)] (scale q_t . k_s) decay(t,s) v_s
    // with decay(t,s) = exp(sum_{r=s+1..t} g_r), summed walking s downwards.
    for (int64_t b = 0; b < batch; ++b)
      for (int64_t h = 0; h < heads; ++h)
        for (int64_t t = 0; t < len; ++t) {
          const double *qt = row4(q, b, h, t);
          const double *lam = row4(lambda, b, h, t);
          double *out = row4(r.out, b, h, t);
          double logDecay = 0.0;
          for (int64_t s = t; s >= 0; --s) {
            if (s < t && g)
              logDecay += g->data[off3(g->shape, b, h, s + 1)];
            double w = lam[logLinearLevel(t, s)] * params.scale *
                       dot(qt, row4(k, b, h, s), d) * std::exp(logDecay);
            const double *vs = row4(v, b, h, s);
            for (int64_t c = 0; c < dv; ++c)
              out[c] += w * vs[c];
          }
        }
    return r;
  }

  // The recurrent form: one [D, Dv] state per Fenwick level.
  if (streaming)
    r.stateOut = RefTensor({batch, heads, nlev, d, dv});
  std::vector<double> scratch;
  int64_t levelSize = d * dv;
  for (int64_t b = 0; b < batch; ++b) {
    // Kernels cannot report a bad position: a negative one reads as 0.
    int64_t start = params.start ? std::max<int64_t>(params.start->data[b], 0) : 0;
    for (int64_t h = 0; h < heads; ++h) {
      std::vector<std::vector<double>> levels(
          static_cast<size_t>(nlev),
          std::vector<double>(static_cast<size_t>(levelSize), 0.0));
      if (params.stateIn)
        for (int64_t l = 0; l < nlev; ++l)
          std::copy_n(params.stateIn->data.begin() +
                          (((b * heads + h) * nlev + l) * levelSize),
                      levelSize, levels[l].begin());
      for (int64_t t = 0; t < len; ++t) {
        int64_t pos = start + t;
        if (pos >= 1) {
          // Binary-counter carry: levels below c merge into level c (the
          // last level when c would pass it).
          int64_t c = std::min(logLinearLevel(pos, pos - 1), nlev - 1);
          for (int64_t l = 0; l < c; ++l) {
            for (int64_t x = 0; x < levelSize; ++x)
              levels[c][x] += levels[l][x];
            std::fill(levels[l].begin(), levels[l].end(), 0.0);
          }
        }
        const double *kt = row4(k, b, h, t), *vt = row4(v, b, h, t);
        double decay = g ? std::exp(g->data[off3(g->shape, b, h, t)]) : 1.0;
        if (params.base == LogLinearBase::GatedDeltaNet) {
          double bt = beta->data[off3(beta->shape, b, h, t)];
          // Every level sees the transition; only level 0 receives the write.
          for (int64_t l = 0; l < nlev; ++l)
            deltaStep(levels[l], kt, vt, bt, decay, nullptr, d, dv,
                      /*write=*/l == 0, scratch);
        } else {
          for (auto &level : levels)
            for (double &x : level)
              x *= decay;
          for (int64_t e = 0; e < d; ++e)
            for (int64_t c = 0; c < dv; ++c)
              levels[0][e * dv + c] += kt[e] * vt[c];
        }
        const double *qt = row4(q, b, h, t);
        const double *lam = row4(lambda, b, h, t);
        double *out = row4(r.out, b, h, t);
        for (int64_t l = 0; l < nlev; ++l)
          for (int64_t e = 0; e < d; ++e)
            for (int64_t c = 0; c < dv; ++c)
              out[c] += lam[l] * params.scale * qt[e] * levels[l][e * dv + c];
      }
      if (streaming)
        for (int64_t l = 0; l < nlev; ++l)
          std::copy(levels[l].begin(), levels[l].end(),
                    r.stateOut.data.begin() + (((b * heads + h) * nlev + l) * levelSize));
    }
  }
  return r;
}

} // namespace reference
} // namespace attn
