// The CPU kernel of attn.lolcats_decode (passes/Tile/LolcatsDecodeCpu.cpp),
// one token of the sliding LoLCATs hybrid over its streaming state, against
// the fp64 reference on random inputs: positions per batch row before,
// inside and past the first window (evictions into the linear terms,
// wrapped slots; -1 reads as 0), rings of 1, 6 and 64 tokens, D != Dv != F,
// bf16 tokens and features, the five updated state tensors checked too.
// Shapes off the kernel's rule (multiples of 16) stay naive
// (lolcats-hybrid.mlir).
// RUN: attn-run %s --random --seed 51 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 52 --check | FileCheck %s
// RUN: not attn-run %s --entry ring6 --random --seed 51 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR

// CHECK-NOT: FAIL
// BROKEN: ring6 {{.*}} FAIL
// IR-NOT: attn.lolcats_decode
// IR-NOT: linalg.generic
// IR: scf.parallel

// CHECK-COUNT-6: ring6 {{.*}} PASS
func.func @ring6(%q: tensor<3x2x1x32xf32>, %k: tensor<3x2x1x32xf32>, %v: tensor<3x2x1x48xf32>,
                 %fq: tensor<3x2x1x64xf32>, %fk: tensor<3x2x1x64xf32>, %g: tensor<2xf32>,
                 %p: tensor<3xi32>, %s: tensor<3x2x64x48xf32>, %z: tensor<3x2x64xf32>,
                 %wk: tensor<3x2x6x32xf32>, %wv: tensor<3x2x6x48xf32>, %wf: tensor<3x2x6x64xf32>)
    -> (tensor<3x2x1x48xf32>, tensor<3x2x64x48xf32>, tensor<3x2x64xf32>, tensor<3x2x6x32xf32>,
        tensor<3x2x6x48xf32>, tensor<3x2x6x64xf32>) {
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %k, %v
      features(%fq, %fk : tensor<3x2x1x64xf32>) gamma(%g : tensor<2xf32>)
      position(%p : tensor<3xi32>) state(%s, %z : tensor<3x2x64x48xf32>, tensor<3x2x64xf32>)
      window(%wk, %wv, %wf : tensor<3x2x6x32xf32>, tensor<3x2x6x48xf32>, tensor<3x2x6x64xf32>)
      : tensor<3x2x1x32xf32>, tensor<3x2x1x32xf32>, tensor<3x2x1x48xf32> -> tensor<3x2x1x48xf32>
  return %o, %s1, %z1, %wk1, %wv1, %wf1 : tensor<3x2x1x48xf32>, tensor<3x2x64x48xf32>, tensor<3x2x64xf32>,
      tensor<3x2x6x32xf32>, tensor<3x2x6x48xf32>, tensor<3x2x6x64xf32>
}

// bf16 tokens and features, the LoLCATs window of 64, scale given.
// CHECK-COUNT-6: ring64_bf16 {{.*}} PASS
func.func @ring64_bf16(%q: tensor<2x3x1x64xbf16>, %k: tensor<2x3x1x64xbf16>, %v: tensor<2x3x1x64xbf16>,
                       %fq: tensor<2x3x1x32xbf16>, %fk: tensor<2x3x1x32xbf16>, %g: tensor<3xf32>,
                       %p: tensor<2xi32>, %s: tensor<2x3x32x64xf32>, %z: tensor<2x3x32xf32>,
                       %wk: tensor<2x3x64x64xf32>, %wv: tensor<2x3x64x64xf32>, %wf: tensor<2x3x64x32xf32>)
    -> (tensor<2x3x1x64xbf16>, tensor<2x3x32x64xf32>, tensor<2x3x32xf32>, tensor<2x3x64x64xf32>,
        tensor<2x3x64x64xf32>, tensor<2x3x64x32xf32>) {
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %k, %v
      features(%fq, %fk : tensor<2x3x1x32xbf16>) gamma(%g : tensor<3xf32>)
      position(%p : tensor<2xi32>) state(%s, %z : tensor<2x3x32x64xf32>, tensor<2x3x32xf32>)
      window(%wk, %wv, %wf : tensor<2x3x64x64xf32>, tensor<2x3x64x64xf32>, tensor<2x3x64x32xf32>)
      {scale = 0.1} : tensor<2x3x1x64xbf16>, tensor<2x3x1x64xbf16>, tensor<2x3x1x64xbf16> -> tensor<2x3x1x64xbf16>
  return %o, %s1, %z1, %wk1, %wv1, %wf1 : tensor<2x3x1x64xbf16>, tensor<2x3x32x64xf32>, tensor<2x3x32xf32>,
      tensor<2x3x64x64xf32>, tensor<2x3x64x64xf32>, tensor<2x3x64x32xf32>
}

// A window of one token: every position past 0 evicts.
// CHECK-COUNT-6: ring1 {{.*}} PASS
func.func @ring1(%q: tensor<2x1x1x16xf32>, %k: tensor<2x1x1x16xf32>, %v: tensor<2x1x1x16xf32>,
                 %fq: tensor<2x1x1x16xf32>, %fk: tensor<2x1x1x16xf32>, %g: tensor<1xf32>,
                 %p: tensor<2xi32>, %s: tensor<2x1x16x16xf32>, %z: tensor<2x1x16xf32>,
                 %wk: tensor<2x1x1x16xf32>, %wv: tensor<2x1x1x16xf32>, %wf: tensor<2x1x1x16xf32>)
    -> (tensor<2x1x1x16xf32>, tensor<2x1x16x16xf32>, tensor<2x1x16xf32>, tensor<2x1x1x16xf32>,
        tensor<2x1x1x16xf32>, tensor<2x1x1x16xf32>) {
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %k, %v
      features(%fq, %fk : tensor<2x1x1x16xf32>) gamma(%g : tensor<1xf32>)
      position(%p : tensor<2xi32>) state(%s, %z : tensor<2x1x16x16xf32>, tensor<2x1x16xf32>)
      window(%wk, %wv, %wf : tensor<2x1x1x16xf32>, tensor<2x1x1x16xf32>, tensor<2x1x1x16xf32>)
      : tensor<2x1x1x16xf32>, tensor<2x1x1x16xf32>, tensor<2x1x1x16xf32> -> tensor<2x1x1x16xf32>
  return %o, %s1, %z1, %wk1, %wv1, %wf1 : tensor<2x1x1x16xf32>, tensor<2x1x16x16xf32>, tensor<2x1x16xf32>,
      tensor<2x1x1x16xf32>, tensor<2x1x1x16xf32>, tensor<2x1x1x16xf32>
}
