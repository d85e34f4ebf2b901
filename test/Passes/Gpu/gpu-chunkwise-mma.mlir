// attn-gpu-map expands a kernel = "chunkwise" call of f16/bf16 linear
// attention (decay none/constant/scalar, no normaliser, D in {64, 128}, Dv
// a multiple of 32, more than one chunk) into the tensor-core form of
// passes/Gpu/ChunkwiseMmaGpu.cpp: a state launch that walks the chunks and
// writes each chunk's incoming state to scratch, then a chunk-parallel
// output launch. Everything else keeps the SIMT kernels
// (gpu-chunkwise.mlir): f32 operands, a decayed state output.
// RUN: attn-opt %s --split-input-file --attn-gpu-tile --attn-decompose "--one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --attn-gpu-map --cse | FileCheck %s --check-prefix=MAP
// RUN: env -u CUDA_HOME attn-opt %s --split-input-file "--attn-gpu-pipeline=format=isa" | FileCheck %s --check-prefix=PTX

// 150 tokens: 3 chunks. Scratch [B, H, NC, D, Dv] in bf16.
// State launch: grid (96 / 32, 2, 1) of 128 threads; K in two slots
// [2, 64, 64 + 8], V in two [2, 64, 32 + 8], the cumulative decays [64]
// f32: 18432 + 10240 + 256 = 28928 bytes, so four blocks an SM.
// MAP-LABEL: func.func @la_scalar
// MAP: %[[S:.*]] = gpu.alloc () : memref<1x2x3x64x96xbf16>
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c28928_i32
// MAP: gpu.dynamic_shared_memory {attn.min_blocks_per_sm = 4 : i64}
// MAP: memref.view {{.*}} to memref<2x64x72xbf16, #gpu.address_space<workgroup>>
// MAP: memref.view {{.*}} to memref<2x64x40xbf16, #gpu.address_space<workgroup>>
// The first chunk's copies before the loop; each iteration stores the
// incoming state, copies the next chunk and waits for this one.
// MAP: nvgpu.device_async_copy
// MAP: scf.for
// MAP: vector.store {{.*}}, %[[S]][{{.*}}] {alignment = 4 : i64} : memref<1x2x3x64x96xbf16>, vector<2xbf16>
// MAP: nvgpu.device_async_copy
// MAP: nvgpu.device_async_wait {{.*}} {numGroups = 1 : i32}
// MAP: gpu.shuffle  up
// MAP: gpu.barrier
// MAP: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// S += K^T (w . V): V and K^T fragments by ldmatrix.trans, mma.sync.
// MAP: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true} : memref<2x64x40xbf16
// MAP: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true} : memref<2x64x72xbf16
// MAP: nvvm.mma.sync {{.*}}multiplicandAPtxType = #nvvm.mma_type<bf16>
// MAP: gpu.barrier
// Output launch: grid (3, 2, 1); Q, K [64, 72], V [64, 104], the state
// [64, 104], decays: 2 x 9216 + 13312 + 13312 + 256 = 45312 bytes.
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c45312_i32
// MAP: nvgpu.device_async_copy {{.*}}%[[S]]
// MAP: nvgpu.device_async_wait {{.*}} {numGroups = 0 : i32}
// MAP: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// MAP: nvvm.mma.sync
// MAP: vector.store {{.*}} : memref<1x2x150x96xbf16>, vector<2xbf16>
// MAP: gpu.dealloc %[[S]]

// PTX-LABEL: gpu.binary @la_scalar_kernel [
// PTX: cp.async.cg.shared.global
// PTX: ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// PTX-LABEL: gpu.binary @la_scalar_kernel_0 [
// PTX: ldmatrix.sync.aligned.m8n8.x4.shared.b16
// PTX: mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @la_scalar(%q: tensor<1x2x150x64xbf16>, %k: tensor<1x2x150x64xbf16>, %v: tensor<1x2x150x96xbf16>, %g: tensor<1x2x150xf32>, %s0: tensor<1x2x64x96xf32>) -> tensor<1x2x150x96xbf16> {
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x2x150xf32>) state(%s0 : tensor<1x2x64x96xf32>) : tensor<1x2x150x64xbf16>, tensor<1x2x150x64xbf16>, tensor<1x2x150x96xbf16> -> tensor<1x2x150x96xbf16>
  return %o : tensor<1x2x150x96xbf16>
}

// -----

// A decayed state output in f32 keeps the SIMT kernels (256 threads).
// MAP-LABEL: func.func @la_scalar_state_out
// MAP-NOT: nvvm.mma.sync
// MAP: threads({{.*}}) in ({{.*}} = %c256
// MAP-NOT: nvvm.mma.sync
// MAP: return
func.func @la_scalar_state_out(%q: tensor<1x2x150x64xbf16>, %k: tensor<1x2x150x64xbf16>, %v: tensor<1x2x150x64xbf16>, %g: tensor<1x2x150xf32>) -> (tensor<1x2x150x64xbf16>, tensor<1x2x64x64xf32>) {
  %o, %s = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<1x2x150xf32>) : tensor<1x2x150x64xbf16>, tensor<1x2x150x64xbf16>, tensor<1x2x150x64xbf16> -> tensor<1x2x150x64xbf16>, state tensor<1x2x64x64xf32>
  return %o, %s : tensor<1x2x150x64xbf16>, tensor<1x2x64x64xf32>
}

// -----

// Gated DeltaNet: a chunk-parallel SIMT launch first (grid (3, 2, 1) of 256
// threads) writes the normalised q and k, W and U (rows padded to 192),
// then the state launch also reads W and writes V' = U - W S, and the
// output launch reads the normalised q, k and V'.
// MAP-LABEL: func.func @gdn
// MAP-DAG: %[[Q:.*]] = gpu.alloc () : memref<1x2x192x64xbf16>
// MAP-DAG: %[[U:.*]] = gpu.alloc () : memref<1x2x192x96xbf16>
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c256
// MAP: memref.store {{.*}}, %[[Q]]
// MAP: memref.store {{.*}}, %[[U]]
// MAP: %[[S:.*]] = gpu.alloc () : memref<1x2x3x64x96xbf16>
// MAP: %[[NEW:.*]] = gpu.alloc () : memref<1x2x192x96xbf16>
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c128
// MAP: nvgpu.device_async_copy %[[U]]
// MAP: nvvm.mma.sync
// MAP: vector.store {{.*}}, %[[NEW]]
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c2, {{.*}} = %c1) threads({{.*}}) in ({{.*}} = %c128
// MAP: nvgpu.device_async_copy %[[Q]]
// MAP: nvgpu.device_async_copy %[[NEW]]
// MAP: nvvm.mma.sync
func.func @gdn(%q: tensor<1x2x150x64xbf16>, %k: tensor<1x2x150x64xbf16>, %v: tensor<1x2x150x96xbf16>, %b: tensor<1x2x150xf32>, %g: tensor<1x2x150xf32>) -> tensor<1x2x150x96xbf16> {
  %o = attn.delta_rule gated %q, %k, %v, %b : tensor<1x2x150xf32> gate(%g : tensor<1x2x150xf32>) {l2norm, scale = 0.125} : tensor<1x2x150x64xbf16>, tensor<1x2x150x64xbf16>, tensor<1x2x150x96xbf16> -> tensor<1x2x150x96xbf16>
  return %o : tensor<1x2x150x96xbf16>
}
