// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s --check-prefix=NOEXP

// Naive decomposition of attn.delta_rule: l2norm of q and k before the
// loop (when asked), then one scf.for over the tokens carrying the f32
// output and the state S [B,H,D,Dv]; each step applies the transition of the
// kind in place (in lib/Reference's order), writes beta k v^T and computes
// out_t = S_t^T (scale q_t) into the output's token slot.

// KDA with l2norm, scale 0.5 and state in/out: q and k are normalised as
// x * (1 / sqrt(sum x^2 + 1e-6)); each step first decays the rows of S by
// exp(g_t[d]), then recalls k^T S and applies
// S - (beta k) (k^T S) + (beta k) v.
// CHECK-DAG: #[[TOK_D:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d2)>
// CHECK-DAG: #[[TOK_BH:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @kda_l2norm_state
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x2x16x8xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x2x16x8xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x2x16x4xf32>, %[[B:[a-zA-Z0-9_]+]]: tensor<1x2x16xf32>, %[[G:[a-zA-Z0-9_]+]]: tensor<1x2x16x8xf32>, %[[S0:[a-zA-Z0-9_]+]]: tensor<1x2x8x4xf32>
// CHECK-NOT: attn.
// CHECK-DAG: %[[HALF:.*]] = arith.constant 5.000000e-01 : f32
// CHECK-DAG: %[[NORM_EPS:.*]] = arith.constant 9.99999997E-7 : f32
// CHECK: %[[QSQ:.*]] = linalg.generic {{.*}} ins(%[[Q]] : tensor<1x2x16x8xf32>)
// CHECK: %[[QN:.*]] = linalg.generic {{.*}} ins(%[[Q]], %[[QSQ]] :
// CHECK-NEXT: ^bb0(%[[x:.*]]: f32, %[[sq:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: %[[E:.*]] = arith.addf %[[sq]], %[[NORM_EPS]] : f32
// CHECK-NEXT: %[[N:.*]] = math.sqrt %[[E]] : f32
// CHECK-NEXT: %[[INV:.*]] = arith.divf %{{.*}}, %[[N]] : f32
// CHECK-NEXT: arith.mulf %[[x]], %[[INV]] : f32
// CHECK: %[[KSQ:.*]] = linalg.generic {{.*}} ins(%[[K]] : tensor<1x2x16x8xf32>)
// CHECK: %[[KN:.*]] = linalg.generic {{.*}} ins(%[[K]], %[[KSQ]] :
// CHECK: %[[STATE0:.*]] = linalg.copy ins(%[[S0]] : tensor<1x2x8x4xf32>)
// CHECK: %[[R:.*]]:2 = scf.for %[[T:.*]] = {{.*}} iter_args(%[[OUT:.*]] = %{{.*}}, %[[S:.*]] = %[[STATE0]])
// CHECK-DAG: %[[QT:.*]] = tensor.extract_slice %[[QN]][0, 0, %[[T]], 0]
// CHECK-DAG: %[[KT:.*]] = tensor.extract_slice %[[KN]][0, 0, %[[T]], 0]
// CHECK-DAG: %[[VT:.*]] = tensor.extract_slice %[[V]][0, 0, %[[T]], 0]
// CHECK-DAG: %[[BT:.*]] = tensor.extract_slice %[[B]][0, 0, %[[T]]]
// CHECK-DAG: %[[GT:.*]] = tensor.extract_slice %[[G]][0, 0, %[[T]], 0]
// Diag(exp(g_t)) S, in place.
// CHECK: %[[SD:.*]] = linalg.generic {indexing_maps = [#[[TOK_D]], #[[ID]]], {{.*}} ins(%[[GT]] : tensor<1x2x1x8xf32>) outs(%[[S]] : tensor<1x2x8x4xf32>)
// CHECK-NEXT: ^bb0(%[[g:.*]]: f32, %[[s:.*]]: f32):
// CHECK-NEXT: %[[A:.*]] = math.exp %[[g]] : f32
// CHECK-NEXT: arith.mulf %[[A]], %[[s]] : f32
// recalled[e] = sum_d k[d] S[d,e]
// CHECK: %[[REC:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]} ins(%[[KT]], %[[SD]] :
// CHECK: %[[S1:.*]] = linalg.generic {{.*}} ins(%[[REC]], %[[KT]], %[[VT]], %[[BT]] : {{.*}}) outs(%[[SD]] : tensor<1x2x8x4xf32>)
// CHECK-NEXT: ^bb0(%[[rec:.*]]: f32, %[[k:.*]]: f32, %[[v:.*]]: f32, %[[beta:.*]]: f32, %[[old:.*]]: f32):
// CHECK-NEXT: %[[BK:.*]] = arith.mulf %[[beta]], %[[k]] : f32
// CHECK-NEXT: %[[BKR:.*]] = arith.mulf %[[BK]], %[[rec]] : f32
// CHECK-NEXT: %[[ERASED:.*]] = arith.subf %[[old]], %[[BKR]] : f32
// CHECK-NEXT: %[[BKV:.*]] = arith.mulf %[[BK]], %[[v]] : f32
// CHECK-NEXT: %[[NEW:.*]] = arith.addf %[[ERASED]], %[[BKV]] : f32
// CHECK-NEXT: linalg.yield %[[NEW]]
// out_t[e] = sum_d (0.5 q_t[d]) S[d,e]
// CHECK: %[[OT:.*]] = linalg.generic {{.*}} ins(%[[QT]], %[[S1]] :
// CHECK-NEXT: ^bb0(%[[q:.*]]: f32, %{{.*}}: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.mulf %[[HALF]], %[[q]] : f32
// CHECK: %[[OUT1:.*]] = tensor.insert_slice %[[OT]] into %[[OUT]][0, 0, %[[T]], 0]
// CHECK: scf.yield %[[OUT1]], %[[S1]]
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @kda_l2norm_state(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %b: tensor<1x2x16xf32>, %g: tensor<1x2x16x8xf32>, %s0: tensor<1x2x8x4xf32>) -> (tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>) {
  %o, %s1 = attn.delta_rule kda %q, %k, %v, %b : tensor<1x2x16xf32> gate(%g : tensor<1x2x16x8xf32>) state(%s0 : tensor<1x2x8x4xf32>) {l2norm, scale = 0.5} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x16x4xf32>, state tensor<1x2x8x4xf32>
  return %o, %s1 : tensor<1x2x16x4xf32>, tensor<1x2x8x4xf32>
}

// -----

// Gated DeltaNet on f16, no state: the scalar decay exp(g_t) scales the
// projected state, S <- exp(g_t) (S - beta k k^T S) + beta k v^T, after the
// erase and before the write; the output is rounded to f16 after the loop.
// CHECK-LABEL: func.func @gated_f16
// CHECK-NOT: attn.
// CHECK: %[[R:.*]]:2 = scf.for
// CHECK: %[[REC:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction", "parallel"]}
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #{{.*}}, #[[TOK_BH:[a-z0-9_]+]], #[[TOK_BH]], #{{.*}}], {{.*}} ins(%[[REC]], {{.*}} : tensor<1x4x32xf32>, tensor<1x4x1x32xf16>, tensor<1x4x1x32xf16>, tensor<1x4x1xf32>, tensor<1x4x1xf32>)
// CHECK-NEXT: ^bb0(%[[rec:.*]]: f32, %[[k:.*]]: f16, %[[v:.*]]: f16, %[[beta:.*]]: f32, %[[g:.*]]: f32, %[[old:.*]]: f32):
// CHECK-NEXT: %[[K32:.*]] = arith.extf %[[k]] : f16 to f32
// CHECK-NEXT: %[[BK:.*]] = arith.mulf %[[beta]], %[[K32]] : f32
// CHECK-NEXT: %[[BKR:.*]] = arith.mulf %[[BK]], %[[rec]] : f32
// CHECK-NEXT: %[[ERASED:.*]] = arith.subf %[[old]], %[[BKR]] : f32
// CHECK-NEXT: %[[A:.*]] = math.exp %[[g]] : f32
// CHECK-NEXT: %[[KEPT:.*]] = arith.mulf %[[A]], %[[ERASED]] : f32
// CHECK-NEXT: %[[V32:.*]] = arith.extf %[[v]] : f16 to f32
// CHECK-NEXT: %[[BKV:.*]] = arith.mulf %[[BK]], %[[V32]] : f32
// CHECK-NEXT: arith.addf %[[KEPT]], %[[BKV]] : f32
// CHECK: scf.yield
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[R]]#0 : tensor<1x4x64x32xf32>) outs(%{{.*}} : tensor<1x4x64x32xf16>)
// CHECK: return %[[OUT]] : tensor<1x4x64x32xf16>
func.func @gated_f16(%q: tensor<1x4x64x32xf16>, %k: tensor<1x4x64x32xf16>, %v: tensor<1x4x64x32xf16>, %b: tensor<1x4x64xf32>, %g: tensor<1x4x64xf32>) -> tensor<1x4x64x32xf16> {
  %o = attn.delta_rule gated %q, %k, %v, %b : tensor<1x4x64xf32> gate(%g : tensor<1x4x64xf32>) : tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16>, tensor<1x4x64x32xf16> -> tensor<1x4x64x32xf16>
  return %o : tensor<1x4x64x32xf16>
}

// -----

// DeltaNet (A = I) with dynamic length: no exp anywhere, no l2norm (no sqrt),
// the loop runs to L = dim 2 of q.
// NOEXP-LABEL: func.func @deltanet_dynamic
// NOEXP-NOT: math.exp
// NOEXP-NOT: math.sqrt
// NOEXP: return
// CHECK-LABEL: func.func @deltanet_dynamic
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<2x2x?x8xf32>
// CHECK-NOT: attn.
// CHECK: %[[L:.*]] = tensor.dim %[[Q]], %{{.*}} : tensor<2x2x?x8xf32>
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[L]]
// CHECK: return %{{.*}} : tensor<2x2x?x4xf32>
func.func @deltanet_dynamic(%q: tensor<2x2x?x8xf32>, %k: tensor<2x2x?x8xf32>, %v: tensor<2x2x?x4xf32>, %b: tensor<2x2x?xf32>) -> tensor<2x2x?x4xf32> {
  %o = attn.delta_rule deltanet %q, %k, %v, %b : tensor<2x2x?xf32> : tensor<2x2x?x8xf32>, tensor<2x2x?x8xf32>, tensor<2x2x?x4xf32> -> tensor<2x2x?x4xf32>
  return %o : tensor<2x2x?x4xf32>
}
