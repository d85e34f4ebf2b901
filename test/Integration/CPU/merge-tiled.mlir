// attn.merge on its CPU kernel (weights once per row, rows on vectors),
// checked against the fp64 reference: random partials, and a split-KV
// computation whose second half hides every key from some rows (lse -inf
// partials weigh nothing).
// RUN: attn-run %s --random --seed 95 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 96 --check | FileCheck %s
// RUN: not attn-run %s --entry random_partials --random --seed 95 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// BROKEN: random_partials {{.*}} FAIL
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR
// IR-NOT: attn.merge
// IR-NOT: linalg.generic
// IR: scf.parallel
// IR: vector.fma

// N = 3 random partials, B = 2, H = 3, L = 5, Dv = 48, bf16 outputs.
// CHECK: random_partials {{.*}} bf16 {{.*}} PASS
// CHECK: random_partials {{.*}} PASS
func.func @random_partials(%outs: tensor<3x2x3x5x48xbf16>, %lses: tensor<3x2x3x5xf32>)
    -> (tensor<2x3x5x48xbf16>, tensor<2x3x5xf32>) {
  %o, %l = attn.merge %outs, %lses : tensor<3x2x3x5x48xbf16>, tensor<3x2x3x5xf32>
      -> tensor<2x3x5x48xbf16>, tensor<2x3x5xf32>
  return %o, %l : tensor<2x3x5x48xbf16>, tensor<2x3x5xf32>
}

// Split-KV by hand: 40 queries over keys [0, 70) and, causally, over the
// last 30 keys (rows 0..9 see none of those: lse -inf), merged.
// CHECK: split_kv_empty_half {{.*}} PASS
// CHECK: split_kv_empty_half {{.*}} PASS
func.func @split_kv_empty_half(%q: tensor<1x2x40x32xf32>, %k: tensor<1x2x100x32xf32>,
                               %v: tensor<1x2x100x16xf32>)
    -> (tensor<1x2x40x16xf32>, tensor<1x2x40xf32>) {
  %k1 = tensor.extract_slice %k[0, 0, 0, 0] [1, 2, 70, 32] [1, 1, 1, 1] : tensor<1x2x100x32xf32> to tensor<1x2x70x32xf32>
  %v1 = tensor.extract_slice %v[0, 0, 0, 0] [1, 2, 70, 16] [1, 1, 1, 1] : tensor<1x2x100x16xf32> to tensor<1x2x70x16xf32>
  %k2 = tensor.extract_slice %k[0, 0, 70, 0] [1, 2, 30, 32] [1, 1, 1, 1] : tensor<1x2x100x32xf32> to tensor<1x2x30x32xf32>
  %v2 = tensor.extract_slice %v[0, 0, 70, 0] [1, 2, 30, 16] [1, 1, 1, 1] : tensor<1x2x100x16xf32> to tensor<1x2x30x16xf32>
  %o1, %l1 = attn.attention %q, %k1, %v1
      : tensor<1x2x40x32xf32>, tensor<1x2x70x32xf32>, tensor<1x2x70x16xf32>
      -> tensor<1x2x40x16xf32>, tensor<1x2x40xf32>
  %o2, %l2 = attn.attention %q, %k2, %v2 {causal}
      : tensor<1x2x40x32xf32>, tensor<1x2x30x32xf32>, tensor<1x2x30x16xf32>
      -> tensor<1x2x40x16xf32>, tensor<1x2x40xf32>
  %eo = tensor.empty() : tensor<2x1x2x40x16xf32>
  %so1 = tensor.insert_slice %o1 into %eo[0, 0, 0, 0, 0] [1, 1, 2, 40, 16] [1, 1, 1, 1, 1]
      : tensor<1x2x40x16xf32> into tensor<2x1x2x40x16xf32>
  %so = tensor.insert_slice %o2 into %so1[1, 0, 0, 0, 0] [1, 1, 2, 40, 16] [1, 1, 1, 1, 1]
      : tensor<1x2x40x16xf32> into tensor<2x1x2x40x16xf32>
  %el = tensor.empty() : tensor<2x1x2x40xf32>
  %sl1 = tensor.insert_slice %l1 into %el[0, 0, 0, 0] [1, 1, 2, 40] [1, 1, 1, 1]
      : tensor<1x2x40xf32> into tensor<2x1x2x40xf32>
  %sl = tensor.insert_slice %l2 into %sl1[1, 0, 0, 0] [1, 1, 2, 40] [1, 1, 1, 1]
      : tensor<1x2x40xf32> into tensor<2x1x2x40xf32>
  %o, %l = attn.merge %so, %sl : tensor<2x1x2x40x16xf32>, tensor<2x1x2x40xf32>
      -> tensor<1x2x40x16xf32>, tensor<1x2x40xf32>
  return %o, %l : tensor<1x2x40x16xf32>, tensor<1x2x40xf32>
}
