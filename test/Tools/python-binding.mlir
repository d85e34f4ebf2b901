// The Python binding (python/attn) loads a CPU kernel library, calls its
// entries on NumPy arrays (bf16 as uint16 bit patterns) with the outputs
// allocated for the caller, matches the fp64 reference, and turns wrong
// calls into AttnError messages naming the argument, never a crash.
// REQUIRES: numpy
// RUN: rm -rf %t && attn-compile %s -o %t --name py
// RUN: attn-run %s --random --seed 5 --check --save-inputs %t/in --save-reference %t/ref
// RUN: env PYTHONPATH=%attn_src/python ATTN_RUNTIME=%attn_lib/libattnrt.so %python %S/Inputs/python_binding.py %t | FileCheck %s

// CHECK: target cpu
// CHECK: gqa result0 PASS
// CHECK: gqa result1 PASS
// CHECK: half result0 PASS
// CHECK: count error: gqa takes 3 inputs, got 2
// CHECK: shape error: gqa: argument 'query' needs float32[1, 4, 37, 32], got float32[1, 4, 37, 31]
// CHECK: dtype error: gqa: argument 'query' needs float32[1, 4, 37, 32], got float64[1, 4, 37, 32]
// CHECK: layout error: gqa: argument 'query' must be C-contiguous

func.func @gqa(%q: tensor<1x4x37x32xf32>, %k: tensor<1x2x41x32xf32>,
               %v: tensor<1x2x41x16xf32>)
    -> (tensor<1x4x37x16xf32>, tensor<1x4x37xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal}
      : tensor<1x4x37x32xf32>, tensor<1x2x41x32xf32>, tensor<1x2x41x16xf32>
      -> tensor<1x4x37x16xf32>, tensor<1x4x37xf32>
  return %o, %l : tensor<1x4x37x16xf32>, tensor<1x4x37xf32>
}

func.func @half(%q: tensor<2x2x9x16xbf16>, %k: tensor<2x2x9x16xbf16>,
                %v: tensor<2x2x9x16xbf16>) -> tensor<2x2x9x16xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<2x2x9x16xbf16>, tensor<2x2x9x16xbf16>, tensor<2x2x9x16xbf16>
      -> tensor<2x2x9x16xbf16>
  return %o : tensor<2x2x9x16xbf16>
}
