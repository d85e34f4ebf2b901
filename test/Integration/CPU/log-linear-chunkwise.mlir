// The chunkwise CPU kernel of attn.log_linear (passes/Tile/ChunkwiseRecurrentCpu.cpp,
// levelChunk) against the fp64 reference of the quadratic Fenwick formula
// (linear, mamba2) and of the per-level delta-rule recurrence
// (gated_deltanet), on random inputs: one short chunk (L = 20), exactly one
// chunk (L = 64), one key past it (L = 65: the first chunk-level state),
// ragged last chunks with three and four chunk levels (L = 333, 600), a power
// of two (L = 1024: 16 chunks, the top chunk level read by the second half),
// B and H > 1, Dv != D, f16 and bf16. D and Dv are multiples of 16 (the
// kernel's rule); log-linear.mlir keeps the other shapes and the streaming
// form on the naive path.
// RUN: attn-run %s --random --seed 41 --check | FileCheck %s
// RUN: env OMP_NUM_THREADS=1 attn-run %s --random --seed 42 --check | FileCheck %s
// A kernel whose outputs are off by 1e-3 fails the same check.
// RUN: not attn-run %s --entry ll_gdn_l333 --random --seed 41 --check --perturb-output 0.001 | FileCheck %s --check-prefix=BROKEN
// The ops really take the level kernel: no quadratic weights, no token
// recurrence; intra-chunk levels are bit lengths gathered from lambda.
// RUN: attn-opt %s --attn-tile | FileCheck %s --check-prefix=IR

// CHECK-NOT: FAIL
// BROKEN: ll_gdn_l333 {{.*}} FAIL
// IR-LABEL: func.func @ll_linear_l333
// IR-NOT: attn.log_linear
// IR: math.ctlz
// IR: vector.gather
// IR: math.cttz
// IR-NOT: attn.log_linear

// CHECK: ll_linear_l333 {{.*}} PASS
func.func @ll_linear_l333(%q: tensor<2x2x333x32xf32>, %k: tensor<2x2x333x32xf32>, %v: tensor<2x2x333x48xf32>, %lam: tensor<2x2x333x10xf32>) -> tensor<2x2x333x48xf32> {
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<2x2x333x10xf32> {scale = 0.25} : tensor<2x2x333x32xf32>, tensor<2x2x333x32xf32>, tensor<2x2x333x48xf32> -> tensor<2x2x333x48xf32>
  return %o : tensor<2x2x333x48xf32>
}

// CHECK: ll_linear_l1024 {{.*}} PASS
func.func @ll_linear_l1024(%q: tensor<1x1x1024x16xf32>, %k: tensor<1x1x1024x16xf32>, %v: tensor<1x1x1024x16xf32>, %lam: tensor<1x1x1024x11xf32>) -> tensor<1x1x1024x16xf32> {
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x1x1024x11xf32> {scale = 0.25} : tensor<1x1x1024x16xf32>, tensor<1x1x1024x16xf32>, tensor<1x1x1024x16xf32> -> tensor<1x1x1024x16xf32>
  return %o : tensor<1x1x1024x16xf32>
}

// CHECK: ll_mamba2_l20 {{.*}} PASS
func.func @ll_mamba2_l20(%q: tensor<1x3x20x16xf32>, %k: tensor<1x3x20x16xf32>, %v: tensor<1x3x20x32xf32>, %lam: tensor<1x3x20x6xf32>, %g: tensor<1x3x20xf32>) -> tensor<1x3x20x32xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x3x20x6xf32> gate(%g : tensor<1x3x20xf32>) : tensor<1x3x20x16xf32>, tensor<1x3x20x16xf32>, tensor<1x3x20x32xf32> -> tensor<1x3x20x32xf32>
  return %o : tensor<1x3x20x32xf32>
}

// CHECK: ll_mamba2_l600 {{.*}} PASS
func.func @ll_mamba2_l600(%q: tensor<1x2x600x64xf32>, %k: tensor<1x2x600x64xf32>, %v: tensor<1x2x600x32xf32>, %lam: tensor<1x2x600x11xf32>, %g: tensor<1x2x600xf32>) -> tensor<1x2x600x32xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x600x11xf32> gate(%g : tensor<1x2x600xf32>) {scale = 0.125} : tensor<1x2x600x64xf32>, tensor<1x2x600x64xf32>, tensor<1x2x600x32xf32> -> tensor<1x2x600x32xf32>
  return %o : tensor<1x2x600x32xf32>
}

// CHECK: ll_mamba2_bf16 {{.*}} bf16 {{.*}} PASS
func.func @ll_mamba2_bf16(%q: tensor<1x2x150x32xbf16>, %k: tensor<1x2x150x32xbf16>, %v: tensor<1x2x150x16xbf16>, %lam: tensor<1x2x150x9xf32>, %g: tensor<1x2x150xf32>) -> tensor<1x2x150x16xbf16> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x150x9xf32> gate(%g : tensor<1x2x150xf32>) : tensor<1x2x150x32xbf16>, tensor<1x2x150x32xbf16>, tensor<1x2x150x16xbf16> -> tensor<1x2x150x16xbf16>
  return %o : tensor<1x2x150x16xbf16>
}

// CHECK: ll_gdn_l64 {{.*}} PASS
func.func @ll_gdn_l64(%q: tensor<1x2x64x16xf32>, %k: tensor<1x2x64x16xf32>, %v: tensor<1x2x64x16xf32>, %lam: tensor<1x2x64x7xf32>, %g: tensor<1x2x64xf32>, %b: tensor<1x2x64xf32>) -> tensor<1x2x64x16xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x64x7xf32> gate(%g : tensor<1x2x64xf32>) beta(%b : tensor<1x2x64xf32>) {scale = 0.5} : tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32>, tensor<1x2x64x16xf32> -> tensor<1x2x64x16xf32>
  return %o : tensor<1x2x64x16xf32>
}

// CHECK: ll_gdn_l65 {{.*}} PASS
func.func @ll_gdn_l65(%q: tensor<2x1x65x16xf32>, %k: tensor<2x1x65x16xf32>, %v: tensor<2x1x65x32xf32>, %lam: tensor<2x1x65x8xf32>, %g: tensor<2x1x65xf32>, %b: tensor<2x1x65xf32>) -> tensor<2x1x65x32xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<2x1x65x8xf32> gate(%g : tensor<2x1x65xf32>) beta(%b : tensor<2x1x65xf32>) {scale = 0.5} : tensor<2x1x65x16xf32>, tensor<2x1x65x16xf32>, tensor<2x1x65x32xf32> -> tensor<2x1x65x32xf32>
  return %o : tensor<2x1x65x32xf32>
}

// CHECK: ll_gdn_l333 {{.*}} PASS
func.func @ll_gdn_l333(%q: tensor<1x2x333x32xf32>, %k: tensor<1x2x333x32xf32>, %v: tensor<1x2x333x48xf32>, %lam: tensor<1x2x333x10xf32>, %g: tensor<1x2x333xf32>, %b: tensor<1x2x333xf32>) -> tensor<1x2x333x48xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x333x10xf32> gate(%g : tensor<1x2x333xf32>) beta(%b : tensor<1x2x333xf32>) {scale = 0.25} : tensor<1x2x333x32xf32>, tensor<1x2x333x32xf32>, tensor<1x2x333x48xf32> -> tensor<1x2x333x48xf32>
  return %o : tensor<1x2x333x48xf32>
}

// CHECK: ll_gdn_f16 {{.*}} f16 {{.*}} PASS
func.func @ll_gdn_f16(%q: tensor<1x2x200x32xf16>, %k: tensor<1x2x200x32xf16>, %v: tensor<1x2x200x32xf16>, %lam: tensor<1x2x200x9xf32>, %g: tensor<1x2x200xf32>, %b: tensor<1x2x200xf32>) -> tensor<1x2x200x32xf16> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x200x9xf32> gate(%g : tensor<1x2x200xf32>) beta(%b : tensor<1x2x200xf32>) {scale = 0.25} : tensor<1x2x200x32xf16>, tensor<1x2x200x32xf16>, tensor<1x2x200x32xf16> -> tensor<1x2x200x32xf16>
  return %o : tensor<1x2x200x32xf16>
}
