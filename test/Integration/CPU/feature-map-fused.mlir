// Elementwise feature maps (identity, elu+1, relu) fused into the chunkwise
// linear-attention kernel: applied as each chunk's q/k rows are packed, so
// the mapped [B, H, L, D] tensors are never written. Checked against the
// fp64 reference of the unfused ops.
// RUN: attn-run %s --random --seed 81 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 82 --check | FileCheck %s
// RUN: not attn-run %s --entry elu_scalar_decay --random --seed 81 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// BROKEN: elu_scalar_decay {{.*}} FAIL
// RUN: attn-opt %s --attn-tile --split-input-file | FileCheck %s --check-prefix=IR

// elu+1 on q and k, scalar decay, normaliser, L = 150 (3 chunks, ragged),
// D = 64, Dv = 32. After attn-tile no feature map is left: the packing
// loop compares, adds 1 and exponentiates the loaded rows.
// CHECK: elu_scalar_decay {{.*}} PASS
// IR-LABEL: func.func @elu_scalar_decay
// IR-NOT: attn.feature_map
// IR: arith.cmpf ogt, %{{.*}}, %{{.*}} : vector<16xf32>
// IR: math.exp %{{.*}} : vector<16xf32>
// IR: arith.select
// IR-NOT: attn.feature_map
// IR: return
func.func @elu_scalar_decay(%q: tensor<1x2x150x64xf32>, %k: tensor<1x2x150x64xf32>,
                            %v: tensor<1x2x150x32xf32>, %g: tensor<1x2x150xf32>)
    -> tensor<1x2x150x32xf32> {
  %fq = attn.feature_map elu_plus_one %q : tensor<1x2x150x64xf32> -> tensor<1x2x150x64xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x2x150x64xf32> -> tensor<1x2x150x64xf32>
  %o = attn.linear_attention scalar %fq, %fk, %v gate(%g : tensor<1x2x150xf32>) {normalize}
      : tensor<1x2x150x64xf32>, tensor<1x2x150x64xf32>, tensor<1x2x150x32xf32>
      -> tensor<1x2x150x32xf32>
  return %o : tensor<1x2x150x32xf32>
}

// -----

// relu in bf16 (the map's result rounded to bf16 as the separate op's
// would be), no decay, L = 77.
// CHECK: relu_bf16 {{.*}} bf16 {{.*}} PASS
// IR-LABEL: func.func @relu_bf16
// IR-NOT: attn.feature_map
// IR: arith.maximumf %{{.*}}, %{{.*}} : vector<16xf32>
// IR: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
func.func @relu_bf16(%q: tensor<1x2x77x32xbf16>, %k: tensor<1x2x77x32xbf16>,
                     %v: tensor<1x2x77x32xbf16>) -> tensor<1x2x77x32xbf16> {
  %fq = attn.feature_map relu %q : tensor<1x2x77x32xbf16> -> tensor<1x2x77x32xbf16>
  %fk = attn.feature_map relu %k : tensor<1x2x77x32xbf16> -> tensor<1x2x77x32xbf16>
  %o = attn.linear_attention none %fq, %fk, %v {normalize, scale = 0.2 : f64}
      : tensor<1x2x77x32xbf16>, tensor<1x2x77x32xbf16>, tensor<1x2x77x32xbf16>
      -> tensor<1x2x77x32xbf16>
  return %o : tensor<1x2x77x32xbf16>
}

// -----

// The mapped keys are also returned: the kernel still reads the raw keys
// and maps them itself, and the feature map stays for the other use (on
// the elementwise map kernel, FeatureMapCpu.cpp, once linear attention no
// longer uses it). Identity map on q; per-channel (GLA) decay; L = 65.
// CHECK: shared_map_vector_decay {{.*}} PASS
// CHECK: shared_map_vector_decay {{.*}} PASS
// IR-LABEL: func.func @shared_map_vector_decay
// IR-NOT: attn.feature_map
// IR-NOT: attn.linear_attention
// IR: math.exp %{{.*}} : vector<16xf32>
// IR: return
func.func @shared_map_vector_decay(%q: tensor<1x1x65x16xf32>, %k: tensor<1x1x65x16xf32>,
                                   %v: tensor<1x1x65x16xf32>, %g: tensor<1x1x65x16xf32>)
    -> (tensor<1x1x65x16xf32>, tensor<1x1x65x16xf32>) {
  %fq = attn.feature_map identity %q : tensor<1x1x65x16xf32> -> tensor<1x1x65x16xf32>
  %fk = attn.feature_map elu_plus_one %k : tensor<1x1x65x16xf32> -> tensor<1x1x65x16xf32>
  %o = attn.linear_attention vector %fq, %fk, %v gate(%g : tensor<1x1x65x16xf32>)
      : tensor<1x1x65x16xf32>, tensor<1x1x65x16xf32>, tensor<1x1x65x16xf32>
      -> tensor<1x1x65x16xf32>
  return %o, %fk : tensor<1x1x65x16xf32>, tensor<1x1x65x16xf32>
}
