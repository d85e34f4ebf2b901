// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s

// Naive decomposition of attn.feature_map: one elementwise linalg.generic
// for identity, elu_plus_one and relu (computed in f32, rounded back to the
// input type), and for hedgehog the projection x W, the row max and sum of
// the softmax of +xW and of -xW over F/2, and one generic writing
// [softmax(xW) || softmax(-xW)].

// elu_plus_one: x > 0 ? x + 1 : exp(x), F = D = 64.
// CHECK-LABEL: func.func @fmap_elu_plus_one
// CHECK-SAME: %[[X:[a-zA-Z0-9_]+]]: tensor<1x8x16x64xf32>
// CHECK-NOT: attn.
// CHECK-DAG: %[[ONE:.*]] = arith.constant 1.000000e+00 : f32
// CHECK-DAG: %[[ZERO:.*]] = arith.constant 0.000000e+00 : f32
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[X]] : tensor<1x8x16x64xf32>)
// CHECK-NEXT: ^bb0(%[[x:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[POS:.*]] = arith.cmpf ogt, %[[x]], %[[ZERO]] : f32
// CHECK-NEXT: %[[SHIFT:.*]] = arith.addf %[[x]], %[[ONE]] : f32
// CHECK-NEXT: %[[EXP:.*]] = math.exp %[[x]] : f32
// CHECK-NEXT: %[[R:.*]] = arith.select %[[POS]], %[[SHIFT]], %[[EXP]] : f32
// CHECK-NEXT: linalg.yield %[[R]]
// CHECK: return %[[Y]]
func.func @fmap_elu_plus_one(%x: tensor<1x8x16x64xf32>) -> tensor<1x8x16x64xf32> {
  %y = attn.feature_map elu_plus_one %x : tensor<1x8x16x64xf32> -> tensor<1x8x16x64xf32>
  return %y : tensor<1x8x16x64xf32>
}

// -----

// relu on f16 with a dynamic length: max(x, 0) in f32, then rounded to f16.
// CHECK-LABEL: func.func @fmap_relu_f16
// CHECK-NOT: attn.
// CHECK: linalg.generic
// CHECK: %[[X32:.*]] = arith.extf %{{.*}} : f16 to f32
// CHECK-NEXT: arith.maximumf %[[X32]], %{{.*}} : f32
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: return %{{.*}} : tensor<1x2x?x32xf16>
func.func @fmap_relu_f16(%x: tensor<1x2x?x32xf16>) -> tensor<1x2x?x32xf16> {
  %y = attn.feature_map relu %x : tensor<1x2x?x32xf16> -> tensor<1x2x?x32xf16>
  return %y : tensor<1x2x?x32xf16>
}

// -----

// identity on f32: a copy through one generic, nothing else.
// CHECK-LABEL: func.func @fmap_identity
// CHECK-SAME: %[[X:[a-zA-Z0-9_]+]]: tensor<2x4x8x16xf32>
// CHECK-NOT: attn.
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[X]] : tensor<2x4x8x16xf32>)
// CHECK-NEXT: ^bb0(%[[x:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: linalg.yield %[[x]] : f32
// CHECK: return %[[Y]]
func.func @fmap_identity(%x: tensor<2x4x8x16xf32>) -> tensor<2x4x8x16xf32> {
  %y = attn.feature_map identity %x : tensor<2x4x8x16xf32> -> tensor<2x4x8x16xf32>
  return %y : tensor<2x4x8x16xf32>
}

// -----

// hedgehog on bf16, W [H, D, F/2] = [2, 8, 3], F = 6: proj = x W reduced
// over D with W read per head; the +xW and -xW softmax statistics; feature
// f < 3 reads proj[f], feature 3 + j reads -proj[j].
// CHECK-DAG: #[[XMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d4)>
// CHECK-DAG: #[[WMAP:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d1, d4, d3)>
// CHECK-LABEL: func.func @fmap_hedgehog_bf16
// CHECK-SAME: %[[X:[a-zA-Z0-9_]+]]: tensor<1x2x4x8xbf16>, %[[W:[a-zA-Z0-9_]+]]: tensor<2x8x3xbf16>
// CHECK-NOT: attn.
// CHECK-DAG: %[[HALF:.*]] = arith.constant 3 : index
// CHECK: %[[PROJ:.*]] = linalg.generic {indexing_maps = [#[[XMAP]], #[[WMAP]], #{{.*}}], iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[X]], %[[W]] : tensor<1x2x4x8xbf16>, tensor<2x8x3xbf16>) outs(%{{.*}} : tensor<1x2x4x3xf32>)
// CHECK: %[[MAXP:.*]] = linalg.generic {{.*}} ins(%[[PROJ]] : tensor<1x2x4x3xf32>)
// CHECK: %[[SUMP:.*]] = linalg.generic {{.*}} ins(%[[PROJ]], %[[MAXP]] :
// CHECK: math.exp
// CHECK: %[[MAXN:.*]] = linalg.generic {{.*}} ins(%[[PROJ]] : tensor<1x2x4x3xf32>)
// CHECK: arith.negf
// CHECK: %[[SUMN:.*]] = linalg.generic {{.*}} ins(%[[PROJ]], %[[MAXN]] :
// CHECK: %[[PHI:.*]] = linalg.generic {{.*}} ins(%[[MAXP]], %[[SUMP]], %[[MAXN]], %[[SUMN]] : {{.*}}) outs(%{{.*}} : tensor<1x2x4x6xf32>)
// CHECK-NEXT: ^bb0(%[[mp:.*]]: f32, %[[sp:.*]]: f32, %[[mn:.*]]: f32, %[[sn:.*]]: f32, %{{.*}}: f32):
// CHECK-DAG: %[[B:.*]] = linalg.index 0 : index
// CHECK-DAG: %[[H:.*]] = linalg.index 1 : index
// CHECK-DAG: %[[L:.*]] = linalg.index 2 : index
// CHECK-DAG: %[[F:.*]] = linalg.index 3 : index
// CHECK: %[[SECOND:.*]] = arith.cmpi uge, %[[F]], %[[HALF]] : index
// CHECK-NEXT: %[[FJ:.*]] = arith.subi %[[F]], %[[HALF]] : index
// CHECK-NEXT: %[[J:.*]] = arith.select %[[SECOND]], %[[FJ]], %[[F]] : index
// CHECK-NEXT: %[[P:.*]] = tensor.extract %[[PROJ]][%[[B]], %[[H]], %[[L]], %[[J]]] : tensor<1x2x4x3xf32>
// CHECK-NEXT: %[[NP:.*]] = arith.negf %[[P]] : f32
// CHECK-NEXT: %[[SX:.*]] = arith.select %[[SECOND]], %[[NP]], %[[P]] : f32
// CHECK-NEXT: %[[M:.*]] = arith.select %[[SECOND]], %[[mn]], %[[mp]] : f32
// CHECK-NEXT: %[[S:.*]] = arith.select %[[SECOND]], %[[sn]], %[[sp]] : f32
// CHECK-NEXT: %[[D:.*]] = arith.subf %[[SX]], %[[M]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[D]] : f32
// CHECK-NEXT: arith.divf %[[E]], %[[S]] : f32
// CHECK: %[[Y:.*]] = linalg.generic {{.*}} ins(%[[PHI]] : tensor<1x2x4x6xf32>) outs(%{{.*}} : tensor<1x2x4x6xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %[[Y]]
func.func @fmap_hedgehog_bf16(%x: tensor<1x2x4x8xbf16>, %w: tensor<2x8x3xbf16>) -> tensor<1x2x4x6xbf16> {
  %y = attn.feature_map hedgehog %x weight(%w : tensor<2x8x3xbf16>) : tensor<1x2x4x8xbf16> -> tensor<1x2x4x6xbf16>
  return %y : tensor<1x2x4x6xbf16>
}
