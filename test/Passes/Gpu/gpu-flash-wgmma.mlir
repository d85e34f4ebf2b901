// The Hopper flash kernel (attn-gpu-tile wgmma=true, the pipeline's choice
// for chip sm_90a, its default): Q, K and V stay in shared memory in 128-byte
// swizzled panels, S = Q K^T runs as wgmma.mma_async with both operands
// read through shared-memory descriptors, O += P V with P from registers
// and V through an N-major descriptor.
// RUN: attn-opt %s --split-input-file "--attn-gpu-tile=wgmma=true" | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s --split-input-file "--attn-gpu-tile=wgmma=true" --attn-decompose "--one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --attn-gpu-map --cse | FileCheck %s --check-prefix=MAP
// RUN: env -u CUDA_HOME attn-opt %s --split-input-file "--attn-gpu-pipeline=format=isa" | FileCheck %s --check-prefix=PTX
// The mma.sync kernel for other chips:
// RUN: env -u CUDA_HOME attn-opt %s --split-input-file "--attn-gpu-pipeline=format=isa chip=sm_80" | FileCheck %s --check-prefix=SM80

// TILE-LABEL: func.func @causal_gqa
// TILE: call @__attn_gpu_flash_0({{.*}}) {attn.gpu_kernel = {causal, kernel = "flash", scale = {{.*}} : f64, wgmma}}

// Shared memory: K and V two slots of 64 x 128 bf16 each, Q one tile, and
// 1 KiB to align them to the swizzle's 1024 bytes (2 x 2 x 16384 + 16384 +
// 1024). The slots start at the first 1024-byte boundary of the window.
// Descriptors: K and Q K-major (SBO 1024 bytes: 64 << 32; LBO 16: 1 << 16;
// 128-byte swizzle: 1 << 62), V N-major (LBO = the 64-column panel stride,
// 64 rows x 128 bytes: 512 << 16).
// MAP-LABEL: func.func @causal_gqa
// MAP: gpu.launch {{.*}} threads({{.*}}) in ({{.*}} = %c128, {{.*}}) dynamic_shared_memory_size %c82944_i32
// MAP: %[[RAW:.*]] = gpu.dynamic_shared_memory
// MAP: memref.extract_aligned_pointer_as_index %[[RAW]]
// MAP: arith.andi {{.*}}, %c-1024_i64
// MAP: memref.view {{.*}} to memref<2x8192xbf16, #gpu.address_space<workgroup>>
// MAP: memref.view {{.*}} to memref<2x8192xbf16, #gpu.address_space<workgroup>>
// MAP: memref.view {{.*}} to memref<1x8192xbf16, #gpu.address_space<workgroup>>
// Q's 16-byte chunks land at chunk c ^ (row % 8) of their row.
// MAP: arith.xori
// MAP: vector.store
// MAP: %c4611686293305360384_i64 = arith.constant 4611686293305360384 : i64
// MAP: %c4611686293338849280_i64 = arith.constant 4611686293338849280 : i64
// MAP: "fence.proxy.async.shared::cta;"
// MAP: gpu.barrier
// MAP: scf.for
// MAP: nvgpu.device_async_copy
// MAP: "fence.proxy.async.shared::cta;"
// MAP-NEXT: gpu.barrier
// MAP: "wgmma.fence.sync.aligned;"
// S: eight k16 steps (D = 128), the first without accumulation.
// MAP-COUNT-8: wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16 {{.*}}, p, 1, 1, 0, 0;
// MAP: "wgmma.commit_group.sync.aligned;"
// MAP-NEXT: "wgmma.wait_group.sync.aligned 0;"
// MAP: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// MAP: "wgmma.fence.sync.aligned;"
// O: four k16 steps of 16 keys, P in four registers, V transposed.
// MAP-COUNT-4: wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16 {{.*}}, {$64, $65, $66, $67}, $68, p, 1, 1, 1;
// MAP: "wgmma.commit_group.sync.aligned;"
// MAP-NEXT: "wgmma.wait_group.sync.aligned 0;"
// MAP: gpu.barrier
// MAP-NOT: nvvm.mma.sync
// MAP-NOT: nvgpu.ldmatrix

// PTX: gpu.binary @causal_gqa_kernel {{.*}}chip = "sm_90a"{{.*}}.target sm_90a{{.*}}cp.async.cg.shared.global{{.*}}wgmma.fence.sync.aligned{{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.bf16.bf16{{.*}}wgmma.mma_async.sync.aligned.m64n128k16.f32.bf16.bf16
// SM80: gpu.binary @causal_gqa_kernel {{.*}}.target sm_80{{.*}}mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
// SM80-NOT: wgmma
func.func @causal_gqa(%q: tensor<2x6x150x128xbf16>, %k: tensor<2x2x197x128xbf16>,
                      %v: tensor<2x2x197x128xbf16>) -> tensor<2x6x150x128xbf16> {
  %o = attn.attention %q, %k, %v {causal}
      : tensor<2x6x150x128xbf16>, tensor<2x2x197x128xbf16>, tensor<2x2x197x128xbf16>
      -> tensor<2x6x150x128xbf16>
  return %o : tensor<2x6x150x128xbf16>
}

// -----

// D = 64, f16, split-KV decode: one panel a tile; S in four k16 steps, O
// on m64n64k16.
// MAP-LABEL: func.func @decode
// MAP: dynamic_shared_memory_size %c41984_i32
// MAP-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {{.*}}, p, 1, 1, 0, 0;
// MAP-COUNT-4: wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16 {{.*}}, {$32, $33, $34, $35}, $36, p, 1, 1, 1;
// PTX: gpu.binary @decode_kernel {{.*}}wgmma.mma_async.sync.aligned.m64n64k16.f32.f16.f16
func.func @decode(%q: tensor<2x8x1x64xf16>, %k: tensor<2x2x1000x64xf16>,
                  %v: tensor<2x2x1000x64xf16>) -> tensor<2x8x1x64xf16> {
  %o = attn.attention %q, %k, %v
      : tensor<2x8x1x64xf16>, tensor<2x2x1000x64xf16>, tensor<2x2x1000x64xf16>
      -> tensor<2x8x1x64xf16>
  return %o : tensor<2x8x1x64xf16>
}
