// attn-gpu-tile: attn.pq_attention with a decode shape (G x Lq <= 64 rows a
// kv head) becomes a "pq_decode" kernel call on buffers, its operands named
// by role; attn-gpu-map expands it into the split-KV kernel (the rows'
// lookup tables built in shared memory, a key a lane scored by one table
// vector a sub-space, warp-wide maxima by xor shuffles, online softmax on
// ex2, probabilities passed through shared memory between warp syncs) and
// the merge launch. Prefill shapes keep the generic path.
// RUN: attn-opt %s --split-input-file --attn-gpu-tile | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s --split-input-file --attn-gpu-tile --attn-decompose "--one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --attn-gpu-map --cse | FileCheck %s --check-prefix=MAP
// RUN: env -u CUDA_HOME attn-opt %s --split-input-file "--attn-gpu-pipeline=format=isa chip=sm_90" | FileCheck %s --check-prefix=PTX

// TILE-LABEL: func.func @pq8_decode
// TILE: call @__attn_gpu_pq_decode_0({{.*}}) {attn.gpu_kernel = {kernel = "pq_decode", operands = ["q", "codes", "codebooks", "value", "kv_lens", "out", "lse"], scale = 0.088388347648318{{[0-9]*}} : f64}}
// TILE-NOT: attn.pq_attention

// 1000 keys are 32 tiles of 32 keys; B x Hkv = 4 blocks a split, a block a
// multiprocessor (its shared memory), so 4 splits of 8 tiles (one a warp).
// Shared memory: the 4 rows' tables of m x Kc = 32 x 256 entries (32768
// floats), the warps' probabilities [8][32][4] (1024), their m, l [8][4]
// and o [8][4][128] (4160): 151808 bytes. Codes are loaded 16 bytes at a
// time, each table entry as one vector of the 4 rows.
// MAP-LABEL: func.func @pq8_decode
// MAP: gpu.alloc () : memref<4x2x8x1x128xf32>
// MAP: gpu.alloc () : memref<4x2x8x1xf32>
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c4, {{.*}} = %c2, {{.*}} = %c2) threads({{.*}}) in ({{.*}} = %c256, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) dynamic_shared_memory_size %c151808_i32
// MAP: scf.for
// MAP: vector.load {{.*}} : memref<2x32x256x4xf32>, vector<4xf32>
// MAP: vector.store {{.*}} : memref<37952xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// MAP: gpu.barrier
// MAP: scf.for
// MAP: vector.load {{.*}} : memref<2x2x1000x32xi8>, vector<16xi8>
// MAP: vector.bitcast {{.*}} : vector<16xi8> to vector<4xi32>
// MAP: vector.load {{.*}} : memref<2x2x1000x32xi8>, vector<16xi8>
// MAP: vector.load {{.*}} : memref<2x2x1000x128xbf16>, vector<4xbf16>
// MAP: vector.load {{.*}} : memref<37952xf32, #gpu.address_space<workgroup>>, vector<4xf32>
// MAP: gpu.shuffle  xor {{.*}}, %c16_i32{{.*}}, %c32_i32
// MAP: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// MAP: llvm.call_intrinsic "llvm.nvvm.bar.warp.sync"
// MAP: llvm.call_intrinsic "llvm.nvvm.bar.warp.sync"
// MAP: scf.yield
// MAP: gpu.barrier
// MAP: memref.store {{.*}} : memref<4x2x8x1x128xf32>
// MAP: gpu.launch blocks
// MAP: memref.store {{.*}} : memref<2x8x1x128xbf16>
// MAP: gpu.dealloc

// PTX-LABEL: llvm.func @pq8_decode(
// PTX: gpu.binary @pq8_decode_kernel {{.*}}bar.warp.sync{{.*}}ld.shared.v4{{.*}}shfl.sync.bfly.b32{{.*}}ex2.approx.ftz.f32
// PTX: gpu.binary
func.func @pq8_decode(%q: tensor<2x8x1x128xbf16>, %c: tensor<2x2x1000x32xi8>,
                      %cb: tensor<2x32x256x4xf32>, %v: tensor<2x2x1000x128xbf16>,
                      %n: tensor<2xi32>) -> (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>) {
  %o, %l = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<2xi32>)
      : tensor<2x8x1x128xbf16>, tensor<2x2x1000x32xi8>, tensor<2x32x256x4xf32>,
        tensor<2x2x1000x128xbf16> -> tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
  return %o, %l : tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
}

// -----

// 4-bit codes (Kc = 16: nibbles masked out of 32-bit words, an 8-byte load
// of 16 codes), f32, causal, Dv = 40: lane groups of 8 lanes a value row,
// 5 channels a lane. Two tiles take one split, which writes the output
// directly (no partials, no merge launch).
// TILE-LABEL: func.func @pq4_one_split
// TILE: {attn.gpu_kernel = {causal, kernel = "pq_decode", operands = ["q", "codes", "codebooks", "value", "out"], scale = 1.250000e-01 : f64}}
// MAP-LABEL: func.func @pq4_one_split
// MAP-NOT: gpu.alloc () : memref<{{[0-9]+}}x1x3x1x40xf32>
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c256
// MAP: vector.load {{.*}} : memref<1x1x50x8xi8>, vector<8xi8>
// MAP: vector.load {{.*}} : memref<1x1x50x40xf32>, vector<5xf32>
// MAP: arith.andi {{.*}}, %c15_i32 : i32
// MAP: memref.store {{.*}} : memref<1x3x1x40xf32>
// MAP-NOT: gpu.launch
// MAP: return
func.func @pq4_one_split(%q: tensor<1x3x1x64xf32>, %c: tensor<1x1x50x8xi8>,
                         %cb: tensor<1x16x16x4xf32>, %v: tensor<1x1x50x40xf32>)
    -> tensor<1x3x1x40xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v {causal}
      : tensor<1x3x1x64xf32>, tensor<1x1x50x8xi8>, tensor<1x16x16x4xf32>,
        tensor<1x1x50x40xf32> -> tensor<1x3x1x40xf32>
  return %o : tensor<1x3x1x40xf32>
}

// -----

// A prefill chunk (G x Lq = 74 rows) keeps the generic path.
// TILE-LABEL: func.func @pq_prefill_generic
// TILE: attn.pq_attention
// TILE-NOT: pq_decode
func.func @pq_prefill_generic(%q: tensor<1x2x37x16xf32>, %c: tensor<1x1x37x4xi8>,
                              %cb: tensor<1x4x256x4xf32>, %v: tensor<1x1x37x16xf32>)
    -> tensor<1x2x37x16xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v {causal}
      : tensor<1x2x37x16xf32>, tensor<1x1x37x4xi8>, tensor<1x4x256x4xf32>,
        tensor<1x1x37x16xf32> -> tensor<1x2x37x16xf32>
  return %o : tensor<1x2x37x16xf32>
}
