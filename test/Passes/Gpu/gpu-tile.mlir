// attn-gpu-tile: f16/bf16 attention with D = Dv in {64, 128} and causal or
// window visibility becomes a kernel call on buffers; attn-gpu-map expands
// it into the tensor-core flash kernel; other attention stays.
// RUN: attn-opt %s --split-input-file --attn-gpu-tile | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s --split-input-file --attn-gpu-tile --attn-decompose "--one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --attn-gpu-map --cse | FileCheck %s --check-prefix=MAP
// RUN: env -u CUDA_HOME attn-opt %s --split-input-file "--attn-gpu-pipeline=format=isa chip=sm_90" | FileCheck %s --check-prefix=PTX

// TILE: func.func private @__attn_gpu_flash_0(memref<2x6x150x128xbf16>, memref<2x2x197x128xbf16>, memref<2x2x197x128xbf16>, memref<2x6x150x128xbf16>, memref<2x6x150xf32>)
// TILE-LABEL: func.func @causal_gqa
// TILE: %[[O:.*]] = memref.alloc() {alignment = 256 : i64} : memref<2x6x150x128xbf16>
// TILE: call @__attn_gpu_flash_0({{.*}}, %[[O]], {{.*}}) {attn.gpu_kernel = {causal, kernel = "flash", lse, scale = 0.088388347648318{{[0-9]*}} : f64, window = array<i64: 30, 0>}}
// TILE-NOT: attn.attention

// Grid (ceil(150 / 64), 6, 2) of 128 threads; K and V each in two slots of
// 64 x 136 (16-byte padded rows) dynamic shared memory, 2 x 2 x 17408 bytes,
// filled by cp.async (the next block's copies in flight, a wait for this
// block's); S and PV on mma.sync, ldmatrix (transposed for V), exp2 on
// ex2.approx, row statistics over 4 lanes.
// MAP-NOT: func.func private @__attn_gpu_flash
// MAP-LABEL: func.func @causal_gqa
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c3, {{.*}} = %c6, {{.*}} = %c2) threads({{.*}}) in ({{.*}} = %c128, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) dynamic_shared_memory_size %c69632_i32
// MAP: gpu.dynamic_shared_memory
// MAP: memref.view {{.*}} to memref<2x64x136xbf16, #gpu.address_space<workgroup>>
// MAP: memref.view {{.*}}[%c34816][] {{.*}} to memref<2x64x136xbf16, #gpu.address_space<workgroup>>
// MAP: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = false}
// MAP: nvgpu.device_async_copy {{.*}} {bypassL1}
// MAP: nvgpu.device_async_create_group
// MAP: scf.for
// MAP: nvgpu.device_async_wait {{.*}} {numGroups = 2 : i32}
// MAP: gpu.barrier
// MAP: nvvm.mma.sync
// MAP-SAME: multiplicandAPtxType = #nvvm.mma_type<bf16>
// MAP: gpu.shuffle  xor
// MAP: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// MAP: nvgpu.ldmatrix {{.*}} {numTiles = 4 : i32, transpose = true}

// PTX-LABEL: llvm.func @causal_gqa(
// PTX: gpu.binary @causal_gqa_kernel {{.*}}ldmatrix.sync.aligned.m8n8.x4.shared.b16{{.*}}cp.async.cg.shared.global{{.*}}mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32{{.*}}ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16
func.func @causal_gqa(%q: tensor<2x6x150x128xbf16>, %k: tensor<2x2x197x128xbf16>,
                      %v: tensor<2x2x197x128xbf16>)
    -> (tensor<2x6x150x128xbf16>, tensor<2x6x150xf32>) {
  %o, %l = attn.attention %q, %k, %v {causal, window = array<i64: 30, 0>}
      : tensor<2x6x150x128xbf16>, tensor<2x2x197x128xbf16>, tensor<2x2x197x128xbf16>
      -> tensor<2x6x150x128xbf16>, tensor<2x6x150xf32>
  return %o, %l : tensor<2x6x150x128xbf16>, tensor<2x6x150xf32>
}

// -----

// f32 operands, D = 96, softcap, a negative scale (the kernel folds the
// scale into the exponent after the row maximum): the generic path.
// TILE-LABEL: func.func @generic
// TILE-COUNT-4: attn.attention
// PTX-LABEL: llvm.func @generic(
// PTX-NOT: mma.sync
func.func @generic(%q: tensor<1x2x9x64xf32>, %k: tensor<1x2x9x64xf32>,
                   %v: tensor<1x2x9x64xf32>, %h: tensor<1x2x9x96xf16>,
                   %s: tensor<1x2x9x64xbf16>)
    -> (tensor<1x2x9x64xf32>, tensor<1x2x9x96xf16>, tensor<1x2x9x64xbf16>,
        tensor<1x2x9x64xbf16>) {
  %o = attn.attention %q, %k, %v : tensor<1x2x9x64xf32>, tensor<1x2x9x64xf32>, tensor<1x2x9x64xf32> -> tensor<1x2x9x64xf32>
  %o2 = attn.attention %h, %h, %h : tensor<1x2x9x96xf16>, tensor<1x2x9x96xf16>, tensor<1x2x9x96xf16> -> tensor<1x2x9x96xf16>
  %o3 = attn.attention %s, %s, %s {softcap = 5.0 : f64} : tensor<1x2x9x64xbf16>, tensor<1x2x9x64xbf16>, tensor<1x2x9x64xbf16> -> tensor<1x2x9x64xbf16>
  %o4 = attn.attention %s, %s, %s {scale = -0.5 : f64} : tensor<1x2x9x64xbf16>, tensor<1x2x9x64xbf16>, tensor<1x2x9x64xbf16> -> tensor<1x2x9x64xbf16>
  return %o, %o2, %o3, %o4 : tensor<1x2x9x64xf32>, tensor<1x2x9x96xf16>, tensor<1x2x9x64xbf16>, tensor<1x2x9x64xbf16>
}

// -----

// Decode: 4 query heads per kv head x 1 query = 4 rows share one tile per
// kv head; 32768 keys = 512 key blocks split over ceil(528 / (8 x 8)) = 9
// ranges of 57 blocks (grid 9 x Hkv x B); f32 partials O/l [9, B, Hq, 1, D]
// and lse [9, B, Hq, 1] are merged by a second launch, one thread per
// output element (8 x 32 x 128 / 256 = 128 blocks), then freed.
// MAP-LABEL: func.func @decode
// MAP: %[[O:.*]] = gpu.alloc () : memref<9x8x32x1x128xf32>
// MAP: %[[L:.*]] = gpu.alloc () : memref<9x8x32x1xf32>
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c9, {{.*}} = %c8, {{.*}} = %c8) threads({{.*}}) in ({{.*}} = %c128,
// MAP: vector.store {{.*}}, %[[O]]
// MAP: memref.store {{.*}}, %[[L]]
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c128, {{.*}}) threads({{.*}}) in ({{.*}} = %c256,
// MAP-COUNT-9: memref.load %[[L]]
// MAP: gpu.dealloc %[[O]]
// MAP: gpu.dealloc %[[L]]
// PTX-LABEL: llvm.func @decode(
// PTX: gpu.binary @decode_kernel {{.*}}mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @decode(%q: tensor<8x32x1x128xbf16>, %k: tensor<8x8x32768x128xbf16>,
                  %v: tensor<8x8x32768x128xbf16>) -> tensor<8x32x1x128xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<8x32x1x128xbf16>, tensor<8x8x32768x128xbf16>, tensor<8x8x32768x128xbf16>
      -> tensor<8x32x1x128xbf16>
  return %o : tensor<8x32x1x128xbf16>
}

// -----

// A paged cache with key counts, read in place: the call takes kv_lens and
// the page table after out; each cp.async source row is found through the
// table (page = table[b][key / 16], row key % 16, clamped into the pool),
// copies past the row's count read nothing, and the key-block loop stops at
// the count.
// TILE-LABEL: func.func @paged
// TILE: call @__attn_gpu_flash_0({{.*}}) {attn.gpu_kernel = {causal, kernel = "flash", kv_lens, paged, scale = 1.250000e-01 : f64}} : (memref<2x4x70x64xbf16>, memref<30x2x16x64xbf16>, memref<30x2x16x64xbf16>, memref<2x4x70x64xbf16>, memref<2xi32>, memref<2x12xi32>) -> ()
// MAP-LABEL: func.func @paged
// MAP: gpu.launch
// MAP: memref.load %arg3
// MAP: memref.load %arg4
// MAP: nvgpu.device_async_copy
// PTX-LABEL: llvm.func @paged(
// PTX: gpu.binary @paged_kernel {{.*}}cp.async.cg.shared.global{{.*}}mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32
func.func @paged(%q: tensor<2x4x70x64xbf16>, %k: tensor<30x2x16x64xbf16>,
                 %v: tensor<30x2x16x64xbf16>, %n: tensor<2xi32>, %t: tensor<2x12xi32>)
    -> tensor<2x4x70x64xbf16> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<2xi32>)
      block_table(%t : tensor<2x12xi32>) {causal}
      : tensor<2x4x70x64xbf16>, tensor<30x2x16x64xbf16>, tensor<30x2x16x64xbf16>
      -> tensor<2x4x70x64xbf16>
  return %o : tensor<2x4x70x64xbf16>
}
