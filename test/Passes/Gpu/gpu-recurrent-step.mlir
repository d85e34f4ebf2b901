// attn-gpu-tile: the streaming form of attn.log_linear (level states,
// start positions) becomes a "recurrent_step" kernel call on buffers, its
// operands named by role; attn-gpu-map expands it into one launch: blocks
// of 32 state columns (grid Dv / 32 x H x B), 256 threads whose rows of
// every level stay with them; q and k staged in shared memory; the carry
// level from the position; levels from the last down under uniform
// branches (above the carry, at it with the levels below summed in, below
// it cleared); the delta rule's pred and the output summed across the
// warps in shared memory. The whole-sequence form keeps the generic path.
// RUN: attn-opt %s --split-input-file --attn-gpu-tile | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s --split-input-file --attn-gpu-tile --attn-decompose "--one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --attn-gpu-map --cse | FileCheck %s --check-prefix=MAP
// RUN: env -u CUDA_HOME attn-opt %s --split-input-file "--attn-gpu-pipeline=format=isa chip=sm_90" | FileCheck %s --check-prefix=PTX

// TILE-LABEL: func.func @ll_gdn_step
// TILE: call @__attn_gpu_recurrent_step_0({{.*}}) {attn.gpu_kernel = {base = "gated_deltanet", kernel = "recurrent_step", operands = ["q", "k", "v", "lambda", "gate", "beta", "state_in", "start", "out", "state_out"], scale = 1.000000e+00 : f64}}
// TILE-NOT: attn.log_linear

// Shared memory: q and k (2 x 128 floats) and the warps' sums [8][32]:
// 2048 bytes. Each thread writes its 16 rows of the level (128 / 8 warps).
// MAP-LABEL: func.func @ll_gdn_step
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c4, {{.*}} = %c2) threads({{.*}}) in ({{.*}} = %c256, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) dynamic_shared_memory_size %c2048_i32
// MAP: gpu.barrier
// MAP: math.ctlz %{{.*}} : i64
// MAP: %[[CAP:.*]] = arith.minsi %{{.*}}, %c11 : index
// MAP: scf.for %{{.*}} = %c0 to %c12 step %c1 iter_args(%{{.*}} = %{{.*}}) -> (f32)
// MAP: scf.if %{{.*}} -> (f32)
// MAP: gpu.barrier
// MAP-COUNT-16: memref.store %{{.*}}, %{{.*}}[%{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}, %{{.*}}] : memref<2x4x12x128x128xf32>
// MAP: scf.if %{{.*}} -> (f32)
// MAP: scf.for %{{.*}} = %c0 to %{{.*}} step %c1 iter_args(%{{.*}} = %{{.*}}) -> (f32)
// MAP: arith.truncf %{{.*}} : f32 to bf16
// PTX-LABEL: llvm.func @ll_gdn_step
// PTX: gpu.binary
// PTX-SAME: bar.sync
func.func @ll_gdn_step(%q: tensor<2x4x1x128xbf16>, %k: tensor<2x4x1x128xbf16>, %v: tensor<2x4x1x128xbf16>, %lam: tensor<2x4x1x12xf32>, %g: tensor<2x4x1xf32>, %b: tensor<2x4x1xf32>, %s0: tensor<2x4x12x128x128xf32>, %p: tensor<2xi32>)
    -> (tensor<2x4x1x128xbf16>, tensor<2x4x12x128x128xf32>) {
  %o, %s = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<2x4x1x12xf32> gate(%g : tensor<2x4x1xf32>) beta(%b : tensor<2x4x1xf32>) state(%s0 : tensor<2x4x12x128x128xf32>) start(%p : tensor<2xi32>) : tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16> -> tensor<2x4x1x128xbf16>, state tensor<2x4x12x128x128xf32>
  return %o, %s : tensor<2x4x1x128xbf16>, tensor<2x4x12x128x128xf32>
}

// -----

// A mamba2 chunk of 5 tokens: token 0 reads the state operand, tokens 1-4
// the state result in place.
// TILE-LABEL: func.func @ll_mamba2_chunk
// TILE: kernel = "recurrent_step"
// MAP-LABEL: func.func @ll_mamba2_chunk
// MAP: gpu.launch
// MAP: scf.for %{{.*}} = %c1 to %c5 step %c1
func.func @ll_mamba2_chunk(%q: tensor<1x2x5x32xf32>, %k: tensor<1x2x5x32xf32>, %v: tensor<1x2x5x64xf32>, %lam: tensor<1x2x5x6xf32>, %g: tensor<1x2x5xf32>, %s0: tensor<1x2x6x32x64xf32>, %p: tensor<1xi32>)
    -> (tensor<1x2x5x64xf32>, tensor<1x2x6x32x64xf32>) {
  %o, %s = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x5x6xf32> gate(%g : tensor<1x2x5xf32>) state(%s0 : tensor<1x2x6x32x64xf32>) start(%p : tensor<1xi32>) : tensor<1x2x5x32xf32>, tensor<1x2x5x32xf32>, tensor<1x2x5x64xf32> -> tensor<1x2x5x64xf32>, state tensor<1x2x6x32x64xf32>
  return %o, %s : tensor<1x2x5x64xf32>, tensor<1x2x6x32x64xf32>
}

// -----

// The whole-sequence form stays generic.
// TILE-LABEL: func.func @ll_whole
// TILE: attn.log_linear
// TILE-NOT: recurrent_step
func.func @ll_whole(%q: tensor<1x2x8x32xf32>, %k: tensor<1x2x8x32xf32>, %v: tensor<1x2x8x64xf32>, %lam: tensor<1x2x8x4xf32>, %g: tensor<1x2x8xf32>) -> tensor<1x2x8x64xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x8x4xf32> gate(%g : tensor<1x2x8xf32>) : tensor<1x2x8x32xf32>, tensor<1x2x8x32xf32>, tensor<1x2x8x64xf32> -> tensor<1x2x8x64xf32>
  return %o : tensor<1x2x8x64xf32>
}
