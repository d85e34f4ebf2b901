// attn-run reads .npy inputs by argument name, writes .npy outputs, and
// names the file or argument when an input is missing, unknown, truncated,
// malformed, or has the wrong shape or dtype.
// RUN: rm -rf %t && mkdir -p %t
// Random inputs, outputs written as .npy; then inputs from .npy files
// written by a stdlib-only script, passed by argument name.
// RUN: attn-run %s --random --seed 5 --output-dir %t/first --check | FileCheck %s --check-prefix=RUN1
// RUN: python3 %S/Inputs/make_inputs.py %t
// RUN: attn-run %s --input query=%t/q.npy --input key=%t/k.npy --input value=%t/v.npy --check --output-dir %t/second | FileCheck %s --check-prefix=RUN2
// RUN: not attn-run %s --input query=%t/q.npy --input key=%t/k.npy 2>&1 | FileCheck %s --check-prefix=MISSING
// RUN: not attn-run %s --input query=%t/bad_shape.npy --random 2>&1 | FileCheck %s --check-prefix=SHAPE
// RUN: not attn-run %s --input query=%t/bad_dtype.npy --random 2>&1 | FileCheck %s --check-prefix=DTYPE
// RUN: not attn-run %s --random --entry nope 2>&1 | FileCheck %s --check-prefix=ENTRY
// RUN: not attn-run %s --random --input querry=%t/q.npy 2>&1 | FileCheck %s --check-prefix=UNKNOWN
// RUN: not attn-run %s --random --input query=%t/truncated.npy 2>&1 | FileCheck %s --check-prefix=TRUNCATED
// RUN: not attn-run %s --random --input query=%t/bad_header.npy 2>&1 | FileCheck %s --check-prefix=HEADER

// RUN1: small{{.*}}result0{{.*}}PASS
// RUN2: small{{.*}}result0{{.*}}PASS
// MISSING: no input for argument 'value' of 'small': pass --input value=FILE.npy or --random
// SHAPE: bad_shape.npy: argument 'query' of 'small' needs shape 1x2x3x4, the file has 2x3x4
// DTYPE: bad_dtype.npy: dtype '<i4' does not fit a f32 argument
// ENTRY: no entry point named 'nope'
// TRUNCATED: truncated.npy: the file holds 80 data bytes, its shape needs 96
// HEADER: bad_header.npy: malformed shape (1, -2, x, 4)
// UNKNOWN: --input querry={{.*}}q.npy: no input argument named 'querry'

func.func @small(%q: tensor<1x2x3x4xf32>, %k: tensor<1x2x5x4xf32>,
                 %v: tensor<1x2x5x4xf32>) -> tensor<1x2x3x4xf32> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<1x2x3x4xf32>, tensor<1x2x5x4xf32>, tensor<1x2x5x4xf32> -> tensor<1x2x3x4xf32>
  return %o : tensor<1x2x3x4xf32>
}
