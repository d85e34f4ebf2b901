// A C program includes the header attn-compile emits, links the emitted
// library and calls the kernel through plain pointers, as a framework would;
// it checks the result against its own double-precision attention.
// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-compile %s -o %t --name capi
// RUN: FileCheck %s --check-prefix=HEADER < %t/capi.h
// RUN: cc -std=c11 -O1 -I%t %S/Inputs/capi_main.c -L%t -lcapi -Wl,-rpath,%t -lm -o %t/main
// RUN: %t/main | FileCheck %s

// HEADER: void causal_gqa(const float *query, const float *key, const float *value, float *result0);
// HEADER: void causal_gqa_packed(void **args);
// CHECK: causal_gqa max abs err {{[0-9.e-]+}} OK

func.func @causal_gqa(%q: tensor<1x4x9x8xf32>, %k: tensor<1x2x11x8xf32>,
                      %v: tensor<1x2x11x8xf32>) -> tensor<1x4x9x8xf32> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x4x9x8xf32>, tensor<1x2x11x8xf32>, tensor<1x2x11x8xf32>
      -> tensor<1x4x9x8xf32>
  return %o : tensor<1x4x9x8xf32>
}
