// attn-gpu-tile: attn.quant_attention with a decode shape (G x Lq <= 64 rows
// a kv head) becomes a "compressed_decode" kernel call on buffers, its
// operands named by role; attn-gpu-map expands it into the split-KV kernel
// (codes dequantised in registers, scores summed over a lane group by xor
// shuffles, online softmax on ex2) and the merge launch. Prefill shapes
// keep the generic path.
// RUN: attn-opt %s --split-input-file --attn-gpu-tile | FileCheck %s --check-prefix=TILE
// RUN: attn-opt %s --split-input-file --attn-gpu-tile --attn-decompose "--one-shot-bufferize=bufferize-function-boundaries function-boundary-type-conversion=identity-layout-map" --attn-gpu-map --cse | FileCheck %s --check-prefix=MAP
// RUN: env -u CUDA_HOME attn-opt %s --split-input-file "--attn-gpu-pipeline=format=isa chip=sm_90" | FileCheck %s --check-prefix=PTX

// TILE-LABEL: func.func @int8_decode
// TILE: call @__attn_gpu_compressed_decode_0({{.*}}) {attn.gpu_kernel = {bits = 8 : i64, group_size = 64 : i64, kernel = "compressed_decode", operands = ["q", "key_codes", "key_scale", "value_codes", "value_scale", "kv_lens", "out", "lse"], scale = 0.088388347648318{{[0-9]*}} : f64}}
// TILE-NOT: attn.quant_attention

// 1000 keys are 16 tiles of 64, one split each (B x Hkv = 4 blocks a
// split); D = 128 gives lane groups of 16 lanes, 8 channels a lane (an
// 8-byte load of codes), 8 groups a block; shared memory for the groups'
// m, l [8][4] and o [8][4][128] (f32): 16640 bytes.
// MAP-LABEL: func.func @int8_decode
// MAP: gpu.alloc () : memref<16x2x8x1x128xf32>
// MAP: gpu.alloc () : memref<16x2x8x1xf32>
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c16, {{.*}} = %c2, {{.*}} = %c2) threads({{.*}}) in ({{.*}} = %c128, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) dynamic_shared_memory_size %c16640_i32
// MAP: scf.for
// MAP: vector.load {{.*}} : memref<2x2x1000x128xi8>, vector<8xi8>
// MAP: vector.load {{.*}} : memref<2x2x16x128xf32>, vector<8xf32>
// MAP: vector.bitcast {{.*}} : vector<8xi8> to vector<2xi32>
// MAP: arith.ori {{.*}} : i32
// MAP: arith.bitcast {{.*}} : i32 to f32
// MAP: gpu.shuffle  xor {{.*}}, %c1_i32, %c32_i32
// MAP: gpu.shuffle  xor {{.*}}, %c8_i32, %c32_i32
// MAP: llvm.call_intrinsic "llvm.nvvm.ex2.approx.ftz.f"
// MAP: scf.yield
// MAP: gpu.barrier
// MAP: memref.store {{.*}} : memref<16x2x8x1x128xf32>
// MAP: gpu.launch blocks
// MAP: memref.store {{.*}} : memref<2x8x1x128xbf16>
// MAP: gpu.dealloc

// No integer-to-float conversion in the kernel: codes become floats
// through the mantissa of 2^23.
// PTX-LABEL: llvm.func @int8_decode(
// PTX: gpu.binary @int8_decode_kernel {{.*}}shfl.sync.bfly.b32{{.*}}ex2.approx.ftz.f32
// PTX-NOT: cvt.rn.f32.s
// PTX: gpu.binary
func.func @int8_decode(%q: tensor<2x8x1x128xbf16>, %kc: tensor<2x2x1000x128xi8>,
                       %ks: tensor<2x2x16x128xf32>, %vc: tensor<2x2x1000x128xi8>,
                       %vs: tensor<2x2x1000x2xf32>, %n: tensor<2xi32>)
    -> (tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>) {
  %o, %l = attn.quant_attention %q, key(%kc, %ks : tensor<2x2x1000x128xi8>, tensor<2x2x16x128xf32>)
      value(%vc, %vs : tensor<2x2x1000x128xi8>, tensor<2x2x1000x2xf32>) kv_lens(%n : tensor<2xi32>)
      {bits = 8 : i64, group_size = 64 : i64} : tensor<2x8x1x128xbf16> -> tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
  return %o, %l : tensor<2x8x1x128xbf16>, tensor<2x8x1xf32>
}

// -----

// int4 with zero points, f32, one tile: a single split writes the output
// directly (no partials, no merge launch). 4-bit codes: nibbles are masked
// out of 32-bit words (D = 64: lanes of 8 channels, a 4-byte load).
// TILE-LABEL: func.func @int4_zeros_one_split
// TILE: kernel = "compressed_decode", operands = ["q", "key_codes", "key_scale", "key_zero", "value_codes", "value_scale", "value_zero", "out"]
// MAP-LABEL: func.func @int4_zeros_one_split
// MAP-NOT: gpu.alloc () : memref<{{[0-9]+}}x1x4x1x64xf32>
// MAP: gpu.launch blocks({{.*}}) in ({{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}, {{.*}} = %c1{{.*}}) threads({{.*}}) in ({{.*}} = %c128
// MAP: vector.load {{.*}} : memref<1x1x50x32xi8>, vector<4xi8>
// MAP: arith.andi {{.*}}, %c15_i32 : i32
// MAP: memref.store {{.*}} : memref<1x4x1x64xf32>
// MAP-NOT: gpu.launch
// MAP: return
func.func @int4_zeros_one_split(%q: tensor<1x4x1x64xf32>, %kc: tensor<1x1x50x32xi8>,
                                %ks: tensor<1x1x2x64xf32>, %kz: tensor<1x1x2x64xf32>,
                                %vc: tensor<1x1x50x32xi8>, %vs: tensor<1x1x50x2xf32>,
                                %vz: tensor<1x1x50x2xf32>) -> tensor<1x4x1x64xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks, zero %kz : tensor<1x1x50x32xi8>, tensor<1x1x2x64xf32>, tensor<1x1x2x64xf32>)
      value(%vc, %vs, zero %vz : tensor<1x1x50x32xi8>, tensor<1x1x50x2xf32>, tensor<1x1x50x2xf32>)
      {bits = 4 : i64, group_size = 32 : i64} : tensor<1x4x1x64xf32> -> tensor<1x4x1x64xf32>
  return %o : tensor<1x4x1x64xf32>
}

// -----

// A prefill chunk (G x Lq = 74 rows) keeps the generic path.
// TILE-LABEL: func.func @prefill_generic
// TILE: attn.quant_attention
// TILE-NOT: compressed_decode
func.func @prefill_generic(%q: tensor<1x2x37x32xf32>, %kc: tensor<1x1x37x32xi8>,
                           %ks: tensor<1x1x1x32xf32>, %vc: tensor<1x1x37x32xi8>,
                           %vs: tensor<1x1x37x1xf32>) -> tensor<1x2x37x32xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<1x1x37x32xi8>, tensor<1x1x1x32xf32>)
      value(%vc, %vs : tensor<1x1x37x32xi8>, tensor<1x1x37x1xf32>)
      {bits = 8 : i64, group_size = 64 : i64, causal} : tensor<1x2x37x32xf32> -> tensor<1x2x37x32xf32>
  return %o : tensor<1x2x37x32xf32>
}
