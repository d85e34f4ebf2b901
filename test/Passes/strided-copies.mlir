// attn-strided-copies-to-loops: a memref.copy with a strided side becomes
// linalg.copy (lowered to loops later, no call to the C runner's
// memrefCopy); a contiguous copy stays memref.copy.
// RUN: attn-opt %s --attn-strided-copies-to-loops | FileCheck %s

// CHECK-LABEL: func.func @strided_source
// CHECK-NOT: memref.copy
// CHECK: linalg.copy ins(%{{.*}} : memref<2x3xf32, strided<[5, 1], offset: 1>>) outs(%{{.*}} : memref<2x3xf32>)
func.func @strided_source(%src: memref<2x5xf32>, %dst: memref<2x3xf32>) {
  %s = memref.subview %src[0, 1] [2, 3] [1, 1] : memref<2x5xf32> to memref<2x3xf32, strided<[5, 1], offset: 1>>
  memref.copy %s, %dst : memref<2x3xf32, strided<[5, 1], offset: 1>> to memref<2x3xf32>
  return
}

// CHECK-LABEL: func.func @strided_target
// CHECK: linalg.copy ins(%{{.*}} : memref<2x3xf32>) outs(%{{.*}} : memref<2x3xf32, strided<[5, 1], offset: 2>>)
func.func @strided_target(%src: memref<2x3xf32>, %dst: memref<2x5xf32>) {
  %d = memref.subview %dst[0, 2] [2, 3] [1, 1] : memref<2x5xf32> to memref<2x3xf32, strided<[5, 1], offset: 2>>
  memref.copy %src, %d : memref<2x3xf32> to memref<2x3xf32, strided<[5, 1], offset: 2>>
  return
}

// CHECK-LABEL: func.func @contiguous
// CHECK: memref.copy %{{.*}}, %{{.*}} : memref<4x8xf32> to memref<4x8xf32>
// CHECK-NOT: linalg.copy
func.func @contiguous(%src: memref<4x8xf32>, %dst: memref<4x8xf32>) {
  memref.copy %src, %dst : memref<4x8xf32> to memref<4x8xf32>
  return
}
