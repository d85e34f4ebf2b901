// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s --check-prefix=NOEXP

// Naive decomposition of attn.linear_attention: one scf.for over the tokens
// carrying the f32 output and the state S [B,H,F,Dv] (and z [B,H,F] when
// normalised) as iter_args; each step updates the state in place with a
// linalg.generic that applies the decay exp(g) of the log-space gate, then
// computes out_t into the output's token slot.

// Vector decay (GLA), state carried in and out: S starts from a copy of
// state_in, the gate slice of token t is g[b,h,t,f] (one decay per row f),
// and the final S is the state_out result.
// CHECK-DAG: #[[TOK_F:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d2)>
// CHECK-DAG: #[[TOK_E:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0, d3)>
// CHECK-DAG: #[[ID:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, d2, d3)>
// CHECK-LABEL: func.func @linear_vector_state
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x2x32x16xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x2x32x16xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x2x32x8xf32>, %[[G:[a-zA-Z0-9_]+]]: tensor<1x2x32x16xf32>, %[[S0:[a-zA-Z0-9_]+]]: tensor<1x2x16x8xf32>
// CHECK-NOT: attn.
// CHECK-DAG: %[[L:.*]] = arith.constant 32 : index
// CHECK-DAG: %[[OUT0:.*]] = linalg.fill
// CHECK-DAG: %[[STATE0:.*]] = linalg.copy ins(%[[S0]] : tensor<1x2x16x8xf32>)
// CHECK: %[[R:.*]]:2 = scf.for %[[T:.*]] = %{{.*}} to %[[L]] step %{{.*}} iter_args(%[[OUT:.*]] = %[[OUT0]], %[[S:.*]] = %[[STATE0]])
// CHECK-DAG: %[[QT:.*]] = tensor.extract_slice %[[Q]][0, 0, %[[T]], 0] [1, 2, 1, 16]
// CHECK-DAG: %[[KT:.*]] = tensor.extract_slice %[[K]][0, 0, %[[T]], 0] [1, 2, 1, 16]
// CHECK-DAG: %[[VT:.*]] = tensor.extract_slice %[[V]][0, 0, %[[T]], 0] [1, 2, 1, 8]
// CHECK-DAG: %[[GT:.*]] = tensor.extract_slice %[[G]][0, 0, %[[T]], 0] [1, 2, 1, 16]
// S[f,e] = exp(g_t[f]) S[f,e] + k_t[f] v_t[e], in place on the carried S.
// CHECK: %[[S1:.*]] = linalg.generic {indexing_maps = [#[[TOK_F]], #[[TOK_E]], #[[TOK_F]], #[[ID]]], iterator_types = ["parallel", "parallel", "parallel", "parallel"]} ins(%[[KT]], %[[VT]], %[[GT]] : {{.*}}) outs(%[[S]] : tensor<1x2x16x8xf32>)
// CHECK-NEXT: ^bb0(%[[k:.*]]: f32, %[[v:.*]]: f32, %[[g:.*]]: f32, %[[s:.*]]: f32):
// CHECK-NEXT: %[[A:.*]] = math.exp %[[g]] : f32
// CHECK-NEXT: %[[KEPT:.*]] = arith.mulf %[[A]], %[[s]] : f32
// CHECK-NEXT: %[[KV:.*]] = arith.mulf %[[k]], %[[v]] : f32
// CHECK-NEXT: %[[NEW:.*]] = arith.addf %[[KEPT]], %[[KV]] : f32
// CHECK-NEXT: linalg.yield %[[NEW]]
// out_t[e] = sum_f q_t[f] S[f,e], reduced over f into token t's slot.
// CHECK: %[[SLOT:.*]] = tensor.extract_slice %[[OUT]][0, 0, %[[T]], 0] [1, 2, 1, 8]
// CHECK: %[[ZERO:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%[[SLOT]] : tensor<1x2x1x8xf32>)
// CHECK: %[[OT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[QT]], %[[S1]] : {{.*}}) outs(%[[ZERO]] : tensor<1x2x1x8xf32>)
// CHECK: %[[OUT1:.*]] = tensor.insert_slice %[[OT]] into %[[OUT]][0, 0, %[[T]], 0] [1, 2, 1, 8]
// CHECK: scf.yield %[[OUT1]], %[[S1]]
// CHECK: return %[[R]]#0, %[[R]]#1
func.func @linear_vector_state(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x8xf32>, %g: tensor<1x2x32x16xf32>, %s0: tensor<1x2x16x8xf32>) -> (tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>) {
  %o, %s1 = attn.linear_attention vector %q, %k, %v gate(%g : tensor<1x2x32x16xf32>) state(%s0 : tensor<1x2x16x8xf32>) : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x8xf32>, state tensor<1x2x16x8xf32>
  return %o, %s1 : tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>
}

// -----

// Decay none with the normaliser, eps 1e-5 and scale 0.125: no exp in the
// updates, z [B,H,F] = [1,2,16] carried beside S and returned as norm_out,
// out_t / ((0.125 q_t).z + 1e-5).
// NOEXP-LABEL: func.func @linear_normalized
// NOEXP-NOT: math.exp
// NOEXP: return
// CHECK-LABEL: func.func @linear_normalized
// CHECK-NOT: attn.
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 1.250000e-01 : f32
// CHECK-DAG: %[[EPS:.*]] = arith.constant 9.99999974E-6 : f32
// CHECK: %[[R:.*]]:3 = scf.for {{.*}} iter_args(%[[OUT:.*]] = %{{.*}}, %[[S:.*]] = %{{.*}}, %[[Z:.*]] = %{{.*}}) -> (tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>)
// CHECK: %[[S1:.*]] = linalg.generic {{.*}} outs(%[[S]] : tensor<1x2x16x8xf32>)
// CHECK: arith.mulf %[[SCALE]], %{{.*}} : f32
// CHECK: %[[Z1:.*]] = linalg.generic {{.*}} outs(%[[Z]] : tensor<1x2x16xf32>)
// CHECK-NEXT: ^bb0(%[[k:.*]]: f32, %[[z:.*]]: f32):
// CHECK-NEXT: arith.addf %[[z]], %[[k]] : f32
// CHECK: %[[DOT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "reduction"]} ins(%{{.*}}, %[[Z1]] : tensor<1x2x1x16xf32>, tensor<1x2x16xf32>) outs(%{{.*}} : tensor<1x2xf32>)
// CHECK: linalg.generic {{.*}} ins(%[[DOT]] : tensor<1x2xf32>)
// CHECK-NEXT: ^bb0(%[[dot:.*]]: f32, %[[o:.*]]: f32):
// CHECK-NEXT: %[[DEN:.*]] = arith.addf %[[dot]], %[[EPS]] : f32
// CHECK-NEXT: arith.divf %[[o]], %[[DEN]] : f32
// CHECK: scf.yield %{{.*}}, %[[S1]], %[[Z1]]
// CHECK: return %[[R]]#0, %[[R]]#1, %[[R]]#2
func.func @linear_normalized(%q: tensor<1x2x32x16xf32>, %k: tensor<1x2x32x16xf32>, %v: tensor<1x2x32x8xf32>) -> (tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>) {
  %o, %s1, %z1 = attn.linear_attention none %q, %k, %v {normalize, eps = 1.0e-5, scale = 0.125} : tensor<1x2x32x16xf32>, tensor<1x2x32x16xf32>, tensor<1x2x32x8xf32> -> tensor<1x2x32x8xf32>, state tensor<1x2x16x8xf32>, norm tensor<1x2x16xf32>
  return %o, %s1, %z1 : tensor<1x2x32x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16xf32>
}

// -----

// Constant decay (RetNet) on bf16: the gate [H] is read per head (d1) at
// every step, q/k/v are extended to f32 in the bodies, and the f32 output
// is rounded to bf16 after the loop; no state result is asked for.
// CHECK-DAG: #[[HEAD:.*]] = affine_map<(d0, d1, d2, d3) -> (d1)>
// CHECK-LABEL: func.func @linear_constant_bf16
// CHECK-SAME: %[[G:[a-zA-Z0-9_]+]]: tensor<4xf32>
// CHECK-NOT: attn.
// CHECK: %[[R:.*]]:2 = scf.for
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[HEAD]], #{{.*}}], {{.*}} ins(%{{.*}}, %{{.*}}, %[[G]] : tensor<1x4x1x32xbf16>, tensor<1x4x1x64xbf16>, tensor<4xf32>)
// CHECK: math.exp
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: scf.yield
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[R]]#0 : tensor<1x4x16x64xf32>) outs(%{{.*}} : tensor<1x4x16x64xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %[[OUT]] : tensor<1x4x16x64xbf16>
func.func @linear_constant_bf16(%q: tensor<1x4x16x32xbf16>, %k: tensor<1x4x16x32xbf16>, %v: tensor<1x4x16x64xbf16>, %g: tensor<4xf32>) -> tensor<1x4x16x64xbf16> {
  %o = attn.linear_attention constant %q, %k, %v gate(%g : tensor<4xf32>) : tensor<1x4x16x32xbf16>, tensor<1x4x16x32xbf16>, tensor<1x4x16x64xbf16> -> tensor<1x4x16x64xbf16>
  return %o : tensor<1x4x16x64xbf16>
}

// -----

// Scalar decay (Mamba2) with dynamic batch and length: the loop runs to
// L = dim 2 of q, and the gate slice g[b,h,t] is read at (d0, d1, 0).
// CHECK-DAG: #[[TOK_BH:.*]] = affine_map<(d0, d1, d2, d3) -> (d0, d1, 0)>
// CHECK-LABEL: func.func @linear_scalar_dynamic
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<?x4x?x32xf16>
// CHECK-NOT: attn.
// CHECK-DAG: %[[C2:.*]] = arith.constant 2 : index
// CHECK-DAG: %[[L:.*]] = tensor.dim %[[Q]], %[[C2]] : tensor<?x4x?x32xf16>
// CHECK: scf.for %{{.*}} = %{{.*}} to %[[L]]
// CHECK: linalg.generic {indexing_maps = [#{{.*}}, #{{.*}}, #[[TOK_BH]], #{{.*}}]
// CHECK: math.exp
// CHECK: return %{{.*}} : tensor<?x4x?x16xf16>
func.func @linear_scalar_dynamic(%q: tensor<?x4x?x32xf16>, %k: tensor<?x4x?x32xf16>, %v: tensor<?x4x?x16xf16>, %g: tensor<?x4x?xf32>) -> tensor<?x4x?x16xf16> {
  %o = attn.linear_attention scalar %q, %k, %v gate(%g : tensor<?x4x?xf32>) : tensor<?x4x?x32xf16>, tensor<?x4x?x32xf16>, tensor<?x4x?x16xf16> -> tensor<?x4x?x16xf16>
  return %o : tensor<?x4x?x16xf16>
}
