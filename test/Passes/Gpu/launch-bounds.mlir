// attn-gpu-launch-bounds: a kernel whose body holds an op marked
// attn.min_blocks_per_sm = N gets nvvm.maxntid (its known block size) and
// nvvm.minctasm = N, and the marker goes; other kernels are left alone.
// RUN: attn-opt %s --attn-gpu-launch-bounds | FileCheck %s

// CHECK-LABEL: gpu.func @marked
// CHECK-SAME: nvvm.maxntid = array<i32: 256, 1, 1>
// CHECK-SAME: nvvm.minctasm = 2 : i32
// CHECK-NOT: attn.min_blocks_per_sm
// CHECK-LABEL: gpu.func @plain
// CHECK-NOT: nvvm.minctasm
module attributes {gpu.container_module} {
  gpu.module @m {
    gpu.func @marked(%out: memref<4xf32>) kernel attributes {known_block_size = array<i32: 256, 1, 1>} {
      %c0 = arith.constant 0 : index
      %x = arith.constant {attn.min_blocks_per_sm = 2 : i64} 1.0 : f32
      memref.store %x, %out[%c0] : memref<4xf32>
      gpu.return
    }
    gpu.func @plain(%out: memref<4xf32>) kernel attributes {known_block_size = array<i32: 128, 1, 1>} {
      %c0 = arith.constant 0 : index
      %x = arith.constant 2.0 : f32
      memref.store %x, %out[%c0] : memref<4xf32>
      gpu.return
    }
  }
}
