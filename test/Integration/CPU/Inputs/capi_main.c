/* Calls the attn-compiled causal_gqa kernel from C and compares it with a
 * direct double-precision attention written here. */
#include "capi.h"

#include <math.h>
#include <stdio.h>

enum { B = 1, HQ = 4, HKV = 2, LQ = 9, LK = 11, D = 8 };

static float q[B * HQ * LQ * D], k[B * HKV * LK * D], v[B * HKV * LK * D];
static float out[B * HQ * LQ * D];

/* Deterministic non-zero values in [-1, 1). */
static float next(unsigned *state) {
  *state = *state * 1664525u + 1013904223u;
  return (float)((*state >> 8) & 0xffff) / 32768.0f - 1.0f;
}

int main(void) {
  unsigned state = 12345u;
  for (int i = 0; i < B * HQ * LQ * D; ++i) q[i] = next(&state);
  for (int i = 0; i < B * HKV * LK * D; ++i) k[i] = next(&state);
  for (int i = 0; i < B * HKV * LK * D; ++i) v[i] = next(&state);
  causal_gqa(q, k, v, out);

  double maxErr = 0.0, scale = 1.0 / sqrt((double)D);
  for (int h = 0; h < HQ; ++h) {
    int g = h / (HQ / HKV);
    for (int i = 0; i < LQ; ++i) {
      double s[LK], m = -INFINITY, l = 0.0;
      int last = i + LK - LQ; /* bottom-right causal */
      for (int j = 0; j <= last; ++j) {
        double dot = 0.0;
        for (int d = 0; d < D; ++d)
          dot += (double)q[(h * LQ + i) * D + d] * k[(g * LK + j) * D + d];
        s[j] = dot * scale;
        if (s[j] > m) m = s[j];
      }
      for (int j = 0; j <= last; ++j) l += exp(s[j] - m);
      for (int d = 0; d < D; ++d) {
        double acc = 0.0;
        for (int j = 0; j <= last; ++j) acc += exp(s[j] - m) / l * v[(g * LK + j) * D + d];
        double err = fabs(acc - out[(h * LQ + i) * D + d]);
        if (err > maxErr) maxErr = err;
      }
    }
  }
  printf("causal_gqa max abs err %g %s\n", maxErr, maxErr < 1e-5 ? "OK" : "FAILED");
  return maxErr < 1e-5 ? 0 : 1;
}
