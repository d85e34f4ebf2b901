// RUN: attn-opt %s --split-input-file --attn-gpu-map --cse --verify-diagnostics | FileCheck %s

// A parallel loop becomes one launch over its flattened iteration space,
// one thread per iteration, and buffers become device allocations.
// CHECK-LABEL: func.func @scale
// CHECK:         gpu.alloc () : memref<3x37xf32>
// CHECK:         scf.if
// CHECK:           gpu.launch blocks({{.*}}) in ({{.*}} = %[[BLOCKS:.*]], {{.*}}) threads({{.*}}) in ({{.*}} = %[[T:.*]], {{.*}})
// CHECK:             %[[ID:.*]] = arith.addi
// CHECK:             arith.cmpi slt, %[[ID]]
// CHECK:             arith.remsi %[[ID]]
// CHECK:             memref.load
// CHECK:             arith.mulf
// CHECK:             memref.store
// CHECK:           gpu.terminator
// CHECK:         gpu.dealloc %{{.*}} : memref<3x37xf32>
// CHECK-NOT:     memref.alloc
// CHECK-NOT:     scf.parallel
func.func @scale(%a: memref<3x37xf32>, %out: memref<3x37xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c3 = arith.constant 3 : index
  %c37 = arith.constant 37 : index
  %two = arith.constant 2.0 : f32
  %tmp = memref.alloc() : memref<3x37xf32>
  scf.parallel (%i, %j) = (%c0, %c0) to (%c3, %c37) step (%c1, %c1) {
    %v = memref.load %a[%i, %j] : memref<3x37xf32>
    %w = arith.mulf %v, %two : f32
    memref.store %w, %tmp[%i, %j] : memref<3x37xf32>
    scf.reduce
  }
  memref.copy %tmp, %out : memref<3x37xf32> to memref<3x37xf32>
  memref.dealloc %tmp : memref<3x37xf32>
  return
}

// -----

// Serial code that touches memory runs on one thread; a host loop around
// kernels stays on the host.
// CHECK-LABEL: func.func @serial
// CHECK:         %[[ONE:.*]] = arith.constant 1 : index
// CHECK:         gpu.launch blocks({{.*}}) in ({{.*}} = %[[ONE]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]]) threads({{.*}}) in ({{.*}} = %[[ONE]], {{.*}} = %[[ONE]], {{.*}} = %[[ONE]])
// CHECK-NEXT:      scf.for
// CHECK:         scf.for
// CHECK-NEXT:      memref.subview
// CHECK:           gpu.launch
func.func @serial(%a: memref<8xi32>, %out: memref<4x8xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %c4 = arith.constant 4 : index
  %c8 = arith.constant 8 : index
  %one = arith.constant 1 : i32
  scf.for %i = %c0 to %c8 step %c1 {
    %v = memref.load %a[%i] : memref<8xi32>
    %w = arith.addi %v, %one : i32
    memref.store %w, %a[%i] : memref<8xi32>
  }
  scf.for %r = %c0 to %c4 step %c1 {
    %row = memref.subview %out[%r, 0] [1, 8] [1, 1] : memref<4x8xf32> to memref<8xf32, strided<[1], offset: ?>>
    scf.parallel (%j) = (%c0) to (%c8) step (%c1) {
      %v = memref.load %a[%j] : memref<8xi32>
      %f = arith.sitofp %v : i32 to f32
      memref.store %f, %row[%j] : memref<8xf32, strided<[1], offset: ?>>
      scf.reduce
    }
  }
  return
}

// -----

// A loop bound read from device memory cannot be computed on the host.
func.func @device_bound(%n: memref<i32>, %out: memref<16xf32>) {
  %c0 = arith.constant 0 : index
  %c1 = arith.constant 1 : index
  %zero = arith.constant 0.0 : f32
  // expected-error @+1 {{attn-gpu-map: host code needs a value that is read from device memory}}
  %v = memref.load %n[] : memref<i32>
  %b = arith.index_cast %v : i32 to index
  scf.parallel (%j) = (%c0) to (%b) step (%c1) {
    memref.store %zero, %out[%j] : memref<16xf32>
    scf.reduce
  }
  return
}

// -----

// A kernel call written by hand is checked like attn-gpu-tile's own.
func.func private @__attn_gpu_flash_0(memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>)
func.func @bad_scale(%q: memref<1x2x9x64xbf16>, %o: memref<1x2x9x64xbf16>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: scale must be a finite positive float}}
  call @__attn_gpu_flash_0(%q, %q, %q, %o) {attn.gpu_kernel = {kernel = "flash", scale = -1.0 : f64}} : (memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>) -> ()
  return
}

// -----

func.func private @__attn_gpu_flash_0(memref<1x2x9x64xf32>, memref<1x2x9x64xf32>, memref<1x2x9x64xf32>, memref<1x2x9x64xf32>)
func.func @bad_type(%q: memref<1x2x9x64xf32>, %o: memref<1x2x9x64xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: q must hold f16 or bf16}}
  call @__attn_gpu_flash_0(%q, %q, %q, %o) {attn.gpu_kernel = {kernel = "flash", scale = 0.125 : f64}} : (memref<1x2x9x64xf32>, memref<1x2x9x64xf32>, memref<1x2x9x64xf32>, memref<1x2x9x64xf32>) -> ()
  return
}

// -----

// Chunkwise kernel calls name their operands; a role the kernel does not
// know, a missing beta for the delta rule or a mis-shaped state is refused.
func.func private @__attn_gpu_chunkwise_0(memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>)
func.func @bad_role(%q: memref<1x2x9x16xf32>, %o: memref<1x2x9x16xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: unknown or repeated operand role key}}
  call @__attn_gpu_chunkwise_0(%q, %q, %q, %o) {attn.gpu_kernel = {kernel = "chunkwise", family = "linear", gate = "none", scale = 1.0 : f64, operands = ["q", "key", "v", "out"]}} : (memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>) -> ()
  return
}

// -----

func.func private @__attn_gpu_chunkwise_0(memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>)
func.func @no_beta(%q: memref<1x2x9x16xf32>, %o: memref<1x2x9x16xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: operands do not match the family, gate and normalize parameters}}
  call @__attn_gpu_chunkwise_0(%q, %q, %q, %o) {attn.gpu_kernel = {kernel = "chunkwise", family = "delta", gate = "none", scale = 1.0 : f64, operands = ["q", "k", "v", "out"]}} : (memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>) -> ()
  return
}

// -----

func.func private @__attn_gpu_chunkwise_0(memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x16x8xf32>, memref<1x2x9x16xf32>)
func.func @bad_state(%q: memref<1x2x9x16xf32>, %s: memref<1x2x16x8xf32>, %o: memref<1x2x9x16xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: gate, beta, state or norm shapes do not match q and v}}
  call @__attn_gpu_chunkwise_0(%q, %q, %q, %s, %o) {attn.gpu_kernel = {kernel = "chunkwise", family = "linear", gate = "none", scale = 1.0 : f64, operands = ["q", "k", "v", "state_in", "out"]}} : (memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x9x16xf32>, memref<1x2x16x8xf32>, memref<1x2x9x16xf32>) -> ()
  return
}

// -----

func.func private @__attn_gpu_flash_0(memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>)
func.func @lens_missing(%q: memref<1x2x9x64xbf16>, %o: memref<1x2x9x64xbf16>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: expected q, k, v, out and the lse, kv_lens and page table buffers its parameters name}}
  call @__attn_gpu_flash_0(%q, %q, %q, %o) {attn.gpu_kernel = {kernel = "flash", kv_lens, scale = 0.125 : f64}} : (memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>, memref<1x2x9x64xbf16>) -> ()
  return
}

// -----

// Compressed-decode calls: 3-bit codes, and value scales of the wrong
// shape (one per channel group of Dv = 16 in groups of 8 is 2, not 3).
func.func private @__attn_gpu_compressed_decode_0(memref<1x2x1x16xf32>, memref<1x1x9x16xi8>, memref<1x1x2x16xf32>, memref<1x1x9x16xi8>, memref<1x1x9x3xf32>, memref<1x2x1x16xf32>)
func.func @three_bits(%q: memref<1x2x1x16xf32>, %kc: memref<1x1x9x16xi8>, %ks: memref<1x1x2x16xf32>, %vs: memref<1x1x9x3xf32>, %o: memref<1x2x1x16xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: bits must be 4 or 8}}
  call @__attn_gpu_compressed_decode_0(%q, %kc, %ks, %kc, %vs, %o) {attn.gpu_kernel = {kernel = "compressed_decode", bits = 3 : i64, group_size = 8 : i64, scale = 0.25 : f64, operands = ["q", "key_codes", "key_scale", "value_codes", "value_scale", "out"]}} : (memref<1x2x1x16xf32>, memref<1x1x9x16xi8>, memref<1x1x2x16xf32>, memref<1x1x9x16xi8>, memref<1x1x9x3xf32>, memref<1x2x1x16xf32>) -> ()
  return
}

// -----

func.func private @__attn_gpu_compressed_decode_0(memref<1x2x1x16xf32>, memref<1x1x9x16xi8>, memref<1x1x2x16xf32>, memref<1x1x9x16xi8>, memref<1x1x9x3xf32>, memref<1x2x1x16xf32>)
func.func @value_scale_shape(%q: memref<1x2x1x16xf32>, %kc: memref<1x1x9x16xi8>, %ks: memref<1x1x2x16xf32>, %vs: memref<1x1x9x3xf32>, %o: memref<1x2x1x16xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: shapes must be q [B, Hq, Lq, D]}}
  call @__attn_gpu_compressed_decode_0(%q, %kc, %ks, %kc, %vs, %o) {attn.gpu_kernel = {kernel = "compressed_decode", bits = 8 : i64, group_size = 8 : i64, scale = 0.25 : f64, operands = ["q", "key_codes", "key_scale", "value_codes", "value_scale", "out"]}} : (memref<1x2x1x16xf32>, memref<1x1x9x16xi8>, memref<1x1x2x16xf32>, memref<1x1x9x16xi8>, memref<1x1x9x3xf32>, memref<1x2x1x16xf32>) -> ()
  return
}

// -----

// PQ-decode calls: 3 sub-spaces of 16-centroid codebooks (4-bit codes pack
// two a byte, so m must be even), and codes one byte too narrow for m = 4.
func.func private @__attn_gpu_pq_decode_0(memref<1x2x1x12xf32>, memref<1x1x9x2xi8>, memref<1x3x16x4xf32>, memref<1x1x9x8xf32>, memref<1x2x1x8xf32>)
func.func @pq_odd_nibbles(%q: memref<1x2x1x12xf32>, %c: memref<1x1x9x2xi8>, %cb: memref<1x3x16x4xf32>, %v: memref<1x1x9x8xf32>, %o: memref<1x2x1x8xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: shapes must be q [B, Hq, Lq, D], out [B, Hq, Lq, Dv], codebooks f32 [Hkv, m, Kc, D / m] with Kc 16 (m even) or 256}}
  call @__attn_gpu_pq_decode_0(%q, %c, %cb, %v, %o) {attn.gpu_kernel = {kernel = "pq_decode", scale = 0.25 : f64, operands = ["q", "codes", "codebooks", "value", "out"]}} : (memref<1x2x1x12xf32>, memref<1x1x9x2xi8>, memref<1x3x16x4xf32>, memref<1x1x9x8xf32>, memref<1x2x1x8xf32>) -> ()
  return
}

// -----

func.func private @__attn_gpu_pq_decode_0(memref<1x2x1x16xf32>, memref<1x1x9x3xi8>, memref<1x4x256x4xf32>, memref<1x1x9x8xf32>, memref<1x2x1x8xf32>)
func.func @pq_code_width(%q: memref<1x2x1x16xf32>, %c: memref<1x1x9x3xi8>, %cb: memref<1x4x256x4xf32>, %v: memref<1x1x9x8xf32>, %o: memref<1x2x1x8xf32>) {
  // expected-error @+1 {{codes i8 [B, Hkv, Lk, m (Kc 256) or m / 2 (Kc 16)]}}
  call @__attn_gpu_pq_decode_0(%q, %c, %cb, %v, %o) {attn.gpu_kernel = {kernel = "pq_decode", scale = 0.25 : f64, operands = ["q", "codes", "codebooks", "value", "out"]}} : (memref<1x2x1x16xf32>, memref<1x1x9x3xi8>, memref<1x4x256x4xf32>, memref<1x1x9x8xf32>, memref<1x2x1x8xf32>) -> ()
  return
}

// -----

// A PQ-decode call without its value.
func.func private @__attn_gpu_pq_decode_0(memref<1x2x1x16xf32>, memref<1x1x9x4xi8>, memref<1x4x256x4xf32>, memref<1x2x1x8xf32>)
func.func @pq_no_value(%q: memref<1x2x1x16xf32>, %c: memref<1x1x9x4xi8>, %cb: memref<1x4x256x4xf32>, %o: memref<1x2x1x8xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: q, codes, codebooks, value and out are required}}
  call @__attn_gpu_pq_decode_0(%q, %c, %cb, %o) {attn.gpu_kernel = {kernel = "pq_decode", scale = 0.25 : f64, operands = ["q", "codes", "codebooks", "out"]}} : (memref<1x2x1x16xf32>, memref<1x1x9x4xi8>, memref<1x4x256x4xf32>, memref<1x2x1x8xf32>) -> ()
  return
}

// -----

// Recurrent-step calls: a mamba2 step without its gate, and Dv = 48 (the
// kernel's blocks own 32 columns).
func.func private @__attn_gpu_recurrent_step_0(memref<1x2x1x16xf32>, memref<1x2x1x16xf32>, memref<1x2x1x32xf32>, memref<1x2x1x4xf32>, memref<1x2x1x32xf32>)
func.func @step_no_gate(%q: memref<1x2x1x16xf32>, %k: memref<1x2x1x16xf32>, %v: memref<1x2x1x32xf32>, %l: memref<1x2x1x4xf32>, %o: memref<1x2x1x32xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: the gate goes with the mamba2 and gated_deltanet bases, beta with gated_deltanet}}
  call @__attn_gpu_recurrent_step_0(%q, %k, %v, %l, %o) {attn.gpu_kernel = {kernel = "recurrent_step", base = "mamba2", scale = 1.0 : f64, operands = ["q", "k", "v", "lambda", "out"]}} : (memref<1x2x1x16xf32>, memref<1x2x1x16xf32>, memref<1x2x1x32xf32>, memref<1x2x1x4xf32>, memref<1x2x1x32xf32>) -> ()
  return
}

// -----

func.func private @__attn_gpu_recurrent_step_0(memref<1x2x1x16xf32>, memref<1x2x1x16xf32>, memref<1x2x1x48xf32>, memref<1x2x1x4xf32>, memref<1x2x1x48xf32>)
func.func @step_dv48(%q: memref<1x2x1x16xf32>, %k: memref<1x2x1x16xf32>, %v: memref<1x2x1x48xf32>, %l: memref<1x2x1x4xf32>, %o: memref<1x2x1x48xf32>) {
  // expected-error @+1 {{attn-gpu-map: malformed attn.gpu_kernel call: Dv must be a multiple of 32}}
  call @__attn_gpu_recurrent_step_0(%q, %k, %v, %l, %o) {attn.gpu_kernel = {kernel = "recurrent_step", base = "linear", scale = 1.0 : f64, operands = ["q", "k", "v", "lambda", "out"]}} : (memref<1x2x1x16xf32>, memref<1x2x1x16xf32>, memref<1x2x1x48xf32>, memref<1x2x1x4xf32>, memref<1x2x1x48xf32>) -> ()
  return
}
