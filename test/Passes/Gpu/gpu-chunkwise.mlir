// attn-gpu-tile: attn.linear_attention (decay none/constant/scalar) and
// attn.delta_rule (DeltaNet, Gated DeltaNet) become kernel = "chunkwise"
// calls that name their operands; attn-gpu-map expands them into the
// chunkwise kernel of passes/Gpu/ChunkwiseGpu.cpp (per-channel decays:
// gpu-chunkwise-channel.mlir).
// RUN: attn-opt %s --split-input-file --attn-gpu-tile | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s --split-input-file --attn-gpu-tile --attn-decompose "--one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --attn-gpu-map --cse | FileCheck %s --check-prefix=MAP
// RUN: env -u CUDA_HOME attn-opt %s --split-input-file "--attn-gpu-pipeline=format=isa" | FileCheck %s --check-prefix=PTX

// TILE-LABEL: func.func @gdn
// TILE: call @__attn_gpu_chunkwise_0({{.*}}) {attn.gpu_kernel = {family = "delta", gate = "token", kernel = "chunkwise", l2norm, operands = ["q", "k", "v", "gate", "beta", "state_in", "out", "state_out"], scale = 1.250000e-01 : f64}}
// TILE-NOT: attn.delta_rule

// The sequential launch: grid (ceil(48 / 32), 2, 1) of 256 threads. Shared
// memory: q [64, 65],
// k^T [64, 68], the state slice [64, 32], the values [64, 32], the scores
// [64, 65] (L, then A), five per-token vectors: 2 x 16640 + 17408 +
// 2 x 8192 + 5 x 256 = 68352 bytes, so two blocks fit an SM: the kernel
// asks for them (launch bounds in the PTX).
// Three chunks: a chunk-parallel launch first (grid (3, 2, 1); q, k^T, the
// scores, two per-token vectors: 16640 + 17408 + 16640 + 2 x 256 = 51200
// bytes) writes each chunk's L and A to global scratch [1, 2, 3, 64, 64],
// then the sequential launch reads them, and the scratch is freed.
// MAP-NOT: func.func private @__attn_gpu_chunkwise
// MAP-LABEL: func.func @gdn
// MAP: %[[A:.*]] = gpu.alloc () : memref<1x2x3x64x64xf32>
// MAP: %[[L:.*]] = gpu.alloc () : memref<1x2x3x64x64xf32>
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c256, {{.*}}) dynamic_shared_memory_size %c51200_i32
// MAP: memref.store {{.*}}, %[[L]]
// MAP: memref.store {{.*}}, %[[A]]
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c2, {{.*}} = %c2{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c256, {{.*}}) dynamic_shared_memory_size %c68352_i32
// MAP: gpu.dynamic_shared_memory {{.*}}attn.min_blocks_per_sm = 2
// MAP: memref.view {{.*}} to memref<64x65xf32, #gpu.address_space<workgroup>>
// MAP: scf.for
// MAP: gpu.barrier
// MAP: gpu.shuffle  xor
// MAP: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// MAP: memref.load %[[L]]
// MAP: memref.load %[[A]]
// MAP: gpu.dealloc %[[A]]
// MAP: gpu.dealloc %[[L]]
// PTX-LABEL: llvm.func @gdn(
// PTX: gpu.binary @gdn_kernel {{.*}}.maxntid 256, 1, 1{{.*}}.minnctapersm 2{{.*}}bar.sync{{.*}}shfl.sync.bfly.b32{{.*}}ex2.approx.ftz.f32{{.*}}fma.rn.f32
func.func @gdn(%q: tensor<1x2x150x64xbf16>, %k: tensor<1x2x150x64xbf16>,
               %v: tensor<1x2x150x48xbf16>, %b: tensor<1x2x150xf32>,
               %g: tensor<1x2x150xf32>, %s0: tensor<1x2x64x48xf32>)
    -> (tensor<1x2x150x48xbf16>, tensor<1x2x64x48xf32>) {
  %o, %s = attn.delta_rule gated %q, %k, %v, %b : tensor<1x2x150xf32>
      gate(%g : tensor<1x2x150xf32>) state(%s0 : tensor<1x2x64x48xf32>)
      {l2norm, scale = 0.125 : f64}
      : tensor<1x2x150x64xbf16>, tensor<1x2x150x64xbf16>, tensor<1x2x150x48xbf16>
      -> tensor<1x2x150x48xbf16>, state tensor<1x2x64x48xf32>
  return %o, %s : tensor<1x2x150x48xbf16>, tensor<1x2x64x48xf32>
}

// -----

// Normalised linear attention with a per-head decay, state and norm in and
// out: the z vector joins shared memory, and norm_out is written once.
// TILE-LABEL: func.func @linear_norm
// TILE: call @__attn_gpu_chunkwise_0({{.*}}) {attn.gpu_kernel = {eps = 9.99{{[0-9]*}}E-7 : f64, family = "linear", gate = "head", kernel = "chunkwise", normalize, operands = ["q", "k", "v", "gate", "state_in", "norm_in", "out", "state_out", "norm_out"], scale = 1.000000e+00 : f64}}
// MAP-LABEL: func.func @linear_norm
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c3{{.*}}, {{.*}} = %c2{{.*}}) threads({{.*}}) in ({{.*}} = %c256,
func.func @linear_norm(%q: tensor<2x3x37x32xf32>, %k: tensor<2x3x37x32xf32>,
                       %v: tensor<2x3x37x24xf32>, %g: tensor<3xf32>,
                       %s0: tensor<2x3x32x24xf32>, %z0: tensor<2x3x32xf32>)
    -> (tensor<2x3x37x24xf32>, tensor<2x3x32x24xf32>, tensor<2x3x32xf32>) {
  %o, %s, %z = attn.linear_attention constant %q, %k, %v gate(%g : tensor<3xf32>)
      state(%s0 : tensor<2x3x32x24xf32>) norm(%z0 : tensor<2x3x32xf32>) {normalize}
      : tensor<2x3x37x32xf32>, tensor<2x3x37x32xf32>, tensor<2x3x37x24xf32>
      -> tensor<2x3x37x24xf32>, state tensor<2x3x32x24xf32>, norm tensor<2x3x32xf32>
  return %o, %s, %z : tensor<2x3x37x24xf32>, tensor<2x3x32x24xf32>, tensor<2x3x32xf32>
}
