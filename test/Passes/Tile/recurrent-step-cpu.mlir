// attn-tile's step kernel for the recurrences (passes/Tile/RecurrentStepCpu.cpp):
// decode steps of linear_attention / delta_rule (at most 16 tokens) and the
// streaming form of log_linear. Tasks own whole state columns, so no
// linalg.generic (the naive recurrence) is left anywhere.
// RUN: attn-opt %s --attn-tile --split-input-file | FileCheck %s --implicit-check-not=linalg.generic

// Gated DeltaNet, one token, D = Dv = 128: a task per (batch, head) owns
// all 8 column vectors; q and k are l2-normalised once (sqrt of the lane
// sum); pred = k^T S is one pass of 8 accumulator chains over the rows of
// the state operand, the update a second pass that writes the state result
// and accumulates q^T S' in 8 more; the output row is rounded to bf16.
// CHECK-LABEL: func.func @gdn_step
// CHECK-NOT: attn.delta_rule
// CHECK: %[[SIN:.*]] = bufferization.to_buffer %arg5 read_only
// CHECK: %[[SOUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<2x4x128x128xf32>
// CHECK: scf.parallel (%[[B:.*]], %[[H:.*]], %{{.*}}) = (%c0, %c0, %c0) to (%c2, %c4, %c1)
// CHECK: math.sqrt
// CHECK: math.sqrt
// CHECK: math.exp
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.load %[[SIN]][%[[B]], %[[H]], %{{.*}}, %{{.*}}] : memref<2x4x128x128xf32>, vector<16xf32>
// CHECK: scf.for {{.*}} -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.load %[[SIN]]
// CHECK: vector.store %{{.*}}, %[[SOUT]][%[[B]], %[[H]], %{{.*}}, %{{.*}}] : memref<2x4x128x128xf32>, vector<16xf32>
// CHECK: arith.truncf %{{.*}} : vector<16xf32> to vector<16xbf16>
func.func @gdn_step(%q: tensor<2x4x1x128xbf16>, %k: tensor<2x4x1x128xbf16>, %v: tensor<2x4x1x128xbf16>, %b: tensor<2x4x1xf32>, %g: tensor<2x4x1xf32>, %s0: tensor<2x4x128x128xf32>)
    -> (tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>) {
  %o, %s = attn.delta_rule gated %q, %k, %v, %b : tensor<2x4x1xf32> gate(%g : tensor<2x4x1xf32>) state(%s0 : tensor<2x4x128x128xf32>) {l2norm} : tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16>, tensor<2x4x1x128xbf16> -> tensor<2x4x1x128xbf16>, state tensor<2x4x128x128xf32>
  return %o, %s : tensor<2x4x1x128xbf16>, tensor<2x4x128x128xf32>
}

// -----

// Linear attention over 16 tokens (the longest call the step takes), Dv =
// 48: tasks of 3 column vectors, rows unrolled by 2 for 6 chains; token 0
// reads the state operand, tokens 1..15 the state result in place.
// CHECK-LABEL: func.func @linear_draft16
// CHECK: %[[SIN:.*]] = bufferization.to_buffer %arg3 read_only
// CHECK: %[[SOUT:.*]] = memref.alloc() {alignment = 64 : i64} : memref<1x2x32x48xf32>
// CHECK: scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c2, %c1)
// CHECK: scf.for {{.*}} = %c0 to %c32 step %c2 iter_args({{.*}}) -> (vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>, vector<16xf32>)
// CHECK: vector.load %[[SIN]]
// CHECK: scf.for %{{.*}} = %c1 to %c16 step %c1
// CHECK: scf.for {{.*}} = %c0 to %c32 step %c2
// CHECK: vector.load %[[SOUT]]
// CHECK: vector.store %{{.*}}, %[[SOUT]]
func.func @linear_draft16(%q: tensor<1x2x16x32xf32>, %k: tensor<1x2x16x32xf32>, %v: tensor<1x2x16x48xf32>, %s0: tensor<1x2x32x48xf32>)
    -> (tensor<1x2x16x48xf32>, tensor<1x2x32x48xf32>) {
  %o, %s = attn.linear_attention none %q, %k, %v state(%s0 : tensor<1x2x32x48xf32>) : tensor<1x2x16x32xf32>, tensor<1x2x16x32xf32>, tensor<1x2x16x48xf32> -> tensor<1x2x16x48xf32>, state tensor<1x2x32x48xf32>
  return %o, %s : tensor<1x2x16x48xf32>, tensor<1x2x32x48xf32>
}

// -----

// 17 tokens: the chunkwise kernel (its [C, C] score scratch), not the step.
// CHECK-LABEL: func.func @linear_chunk17
// CHECK: memref.alloc() {alignment = 64 : i64} : memref<32x32xf32>
func.func @linear_chunk17(%q: tensor<1x2x17x32xf32>, %k: tensor<1x2x17x32xf32>, %v: tensor<1x2x17x48xf32>)
    -> tensor<1x2x17x48xf32> {
  %o = attn.linear_attention none %q, %k, %v : tensor<1x2x17x32xf32>, tensor<1x2x17x32xf32>, tensor<1x2x17x48xf32> -> tensor<1x2x17x48xf32>
  return %o : tensor<1x2x17x48xf32>
}

// -----

// log_linear mamba2, one token from start positions: the carry level c =
// min(bit_length(p XOR (p - 1)), NL - 1) (0 at p = 0); levels from the last
// down, each under scf.if: above c its own rows, at c its rows plus every
// level below (an inner loop up to c), below c cleared; lambda-weighted
// outputs summed in a task scratch of Dv floats.
// CHECK-LABEL: func.func @ll_step
// CHECK-NOT: attn.log_linear
// CHECK: scf.parallel ({{.*}}) = (%c0, %c0, %c0) to (%c1, %c2, %c1)
// CHECK: %[[SCRATCH:.*]] = memref.alloc() {alignment = 64 : i64} : memref<64xf32>
// CHECK: math.ctlz %{{.*}} : i64
// CHECK: %[[CAP:.*]] = arith.minsi %{{.*}}, %c5 : index
// CHECK: %[[C:.*]] = arith.select %{{.*}}, %c0, %[[CAP]] : index
// CHECK: scf.for %{{.*}} = %c0 to %c6 step %c1
// CHECK: %[[L:.*]] = arith.subi %c5, %{{.*}} : index
// CHECK: %[[ABOVE:.*]] = arith.cmpi ugt, %[[L]], %[[C]] : index
// CHECK: %[[AT:.*]] = arith.cmpi eq, %[[L]], %[[C]] : index
// CHECK: scf.if %[[ABOVE]]
// CHECK: vector.store %{{.*}}, %[[SCRATCH]]
// CHECK: } else {
// CHECK: scf.if %[[AT]]
// CHECK: scf.for %{{.*}} = %c0 to %[[C]] step %c1
func.func @ll_step(%q: tensor<1x2x1x32xf32>, %k: tensor<1x2x1x32xf32>, %v: tensor<1x2x1x64xf32>, %lam: tensor<1x2x1x6xf32>, %g: tensor<1x2x1xf32>, %s0: tensor<1x2x6x32x64xf32>, %p: tensor<1xi32>)
    -> (tensor<1x2x1x64xf32>, tensor<1x2x6x32x64xf32>) {
  %o, %s = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x1x6xf32> gate(%g : tensor<1x2x1xf32>) state(%s0 : tensor<1x2x6x32x64xf32>) start(%p : tensor<1xi32>) : tensor<1x2x1x32xf32>, tensor<1x2x1x32xf32>, tensor<1x2x1x64xf32> -> tensor<1x2x1x64xf32>, state tensor<1x2x6x32x64xf32>
  return %o, %s : tensor<1x2x1x64xf32>, tensor<1x2x6x32x64xf32>
}
