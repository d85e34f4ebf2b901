// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s
// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s --check-prefix=NOEXP

// Naive decomposition of attn.log_linear. The linear and mamba2 bases use
// the quadratic formula
//   out_t = sum_{s<=t} lambda[t, lev(t,s)] (scale q_t.k_s) decay(t,s) v_s
// with lev(t,s) = bit_length(t xor s) = 64 - ctlz(t xor s) on i64 and
// decay(t,s) = exp(sum_{r=s+1..t} g_r) (mamba2); gated_deltanet uses the
// recurrent level form of docs/Rationale.md.

// Mamba2 base, L = 5 (not a power of two: ceil(log2 5) + 1 = 4 levels),
// scale 0.25.
// CHECK-LABEL: func.func @mamba2_l5
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x2x5x16xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x2x5x16xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x2x5x8xf32>, %[[LAM:[a-zA-Z0-9_]+]]: tensor<1x2x5x4xf32>, %[[G:[a-zA-Z0-9_]+]]: tensor<1x2x5xf32>
// CHECK-NOT: attn.
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : i64
// scores[t,s] = q_t . k_s
// CHECK: %[[SCORES:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[Q]], %[[K]] : {{.*}}) outs(%{{.*}} : tensor<1x2x5x5xf32>)
// logDecay[t,s] = sum over r of g_r where s < r <= t.
// CHECK: %[[LOGDECAY:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[G]] : tensor<1x2x5xf32>) outs(%{{.*}} : tensor<1x2x5x5xf32>)
// CHECK-NEXT: ^bb0(%[[g:.*]]: f32, %[[acc:.*]]: f32):
// CHECK-NEXT: %[[T:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[S:.*]] = linalg.index 3 : index
// CHECK-NEXT: %[[R:.*]] = linalg.index 4 : index
// CHECK-NEXT: %[[AFTER:.*]] = arith.cmpi ult, %[[S]], %[[R]] : index
// CHECK-NEXT: %[[UPTO:.*]] = arith.cmpi ule, %[[R]], %[[T]] : index
// CHECK-NEXT: %[[IN:.*]] = arith.andi %[[AFTER]], %[[UPTO]] : i1
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[acc]], %[[g]] : f32
// CHECK-NEXT: arith.select %[[IN]], %[[SUM]], %[[acc]] : f32
// w[t,s] = lambda[t, lev(t,s)] * 0.25 * score * exp(logDecay) for s <= t, else 0.
// CHECK: %[[W:.*]] = linalg.generic {{.*}} ins(%[[SCORES]], %[[LOGDECAY]] :
// CHECK-NEXT: ^bb0(%[[score:.*]]: f32, %[[ld:.*]]: f32, %{{.*}}: f32):
// CHECK-DAG: %[[B:.*]] = linalg.index 0 : index
// CHECK-DAG: %[[H:.*]] = linalg.index 1 : index
// CHECK-DAG: %[[WT:.*]] = linalg.index 2 : index
// CHECK-DAG: %[[WS:.*]] = linalg.index 3 : index
// CHECK: %[[CAUSAL:.*]] = arith.cmpi ule, %[[WS]], %[[WT]] : index
// CHECK-DAG: %[[S64:.*]] = arith.index_cast %[[WS]] : index to i64
// CHECK-DAG: %[[T64:.*]] = arith.index_cast %[[WT]] : index to i64
// CHECK: %[[X:.*]] = arith.xori %[[T64]], %[[S64]] : i64
// CHECK-NEXT: %[[LZ:.*]] = math.ctlz %[[X]] : i64
// CHECK-NEXT: %[[BITS:.*]] = arith.subi %[[C64]], %[[LZ]] : i64
// CHECK-NEXT: %[[LEV:.*]] = arith.index_cast %[[BITS]] : i64 to index
// CHECK-NEXT: %[[LEVSAFE:.*]] = arith.select %[[CAUSAL]], %[[LEV]], %{{.*}} : index
// CHECK-NEXT: %[[LAMBDA:.*]] = tensor.extract %[[LAM]][%[[B]], %[[H]], %[[WT]], %[[LEVSAFE]]] : tensor<1x2x5x4xf32>
// CHECK-NEXT: %[[LS:.*]] = arith.mulf %[[LAMBDA]], %[[SCALE]] : f32
// CHECK-NEXT: %[[LSQ:.*]] = arith.mulf %[[LS]], %[[score]] : f32
// CHECK-NEXT: %[[DECAY:.*]] = math.exp %[[ld]] : f32
// CHECK-NEXT: %[[WV:.*]] = arith.mulf %[[LSQ]], %[[DECAY]] : f32
// CHECK-NEXT: arith.select %[[CAUSAL]], %[[WV]], %{{.*}} : f32
// out[t,e] = sum_s w[t,s] v[s,e]
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "parallel", "reduction"]} ins(%[[W]], %[[V]] : {{.*}}) outs(%{{.*}} : tensor<1x2x5x8xf32>)
// CHECK: return %[[OUT]]
func.func @mamba2_l5(%q: tensor<1x2x5x16xf32>, %k: tensor<1x2x5x16xf32>, %v: tensor<1x2x5x8xf32>, %lam: tensor<1x2x5x4xf32>, %g: tensor<1x2x5xf32>) -> tensor<1x2x5x8xf32> {
  %o = attn.log_linear mamba2 %q, %k, %v, %lam : tensor<1x2x5x4xf32> gate(%g : tensor<1x2x5xf32>) {scale = 0.25} : tensor<1x2x5x16xf32>, tensor<1x2x5x16xf32>, tensor<1x2x5x8xf32> -> tensor<1x2x5x8xf32>
  return %o : tensor<1x2x5x8xf32>
}

// -----

// Linear base on bf16, L = 16 (5 levels): the same level weights without a
// decay, so no exp at all; the result is rounded to bf16.
// NOEXP-LABEL: func.func @linear_l16_bf16
// NOEXP-NOT: math.exp
// NOEXP: return
// CHECK-LABEL: func.func @linear_l16_bf16
// CHECK-NOT: attn.
// CHECK: %[[SCORES:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %{{.*}} : tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>) outs(%{{.*}} : tensor<1x2x16x16xf32>)
// CHECK: arith.extf %{{.*}} : bf16 to f32
// CHECK: %[[W:.*]] = linalg.generic {{.*}} ins(%[[SCORES]] : tensor<1x2x16x16xf32>)
// CHECK: math.ctlz
// CHECK: tensor.extract %{{.*}} : tensor<1x2x16x5xf32>
// CHECK: %[[PV:.*]] = linalg.generic {{.*}} ins(%[[W]], %{{.*}} : tensor<1x2x16x16xf32>, tensor<1x2x16x8xbf16>)
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[PV]] : tensor<1x2x16x8xf32>) outs(%{{.*}} : tensor<1x2x16x8xbf16>)
// CHECK: arith.truncf %{{.*}} : f32 to bf16
// CHECK: return %[[OUT]]
func.func @linear_l16_bf16(%q: tensor<1x2x16x8xbf16>, %k: tensor<1x2x16x8xbf16>, %v: tensor<1x2x16x8xbf16>, %lam: tensor<1x2x16x5xf32>) -> tensor<1x2x16x8xbf16> {
  %o = attn.log_linear linear %q, %k, %v, %lam : tensor<1x2x16x5xf32> : tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16>, tensor<1x2x16x8xbf16> -> tensor<1x2x16x8xbf16>
  return %o : tensor<1x2x16x8xbf16>
}

// -----

// Gated DeltaNet base, L = 5, 4 levels: scf.for over tokens carrying the
// output and the level states [B,H,NLEV,D,Dv] = [1,2,4,8,8]. At token t the
// carry level is c = bit_length(t xor (t-1)) (0 at t = 0); levels below c
// merge into level c and are cleared; every level gets the transition
// exp(g_t) (S - beta k k^T S); only level 0 gets beta k v^T; and
// out_t = sum_l lambda[t,l] S_l^T q_t.
// CHECK-DAG: #[[LEVTOK:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d2)>
// CHECK-DAG: #[[QTOK:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, 0, d3)>
// CHECK-DAG: #[[ID5:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d2, d3, d4)>
// CHECK-DAG: #[[MATRIX:.*]] = affine_map<(d0, d1, d2, d3, d4) -> (d0, d1, d3, d4)>
// CHECK-LABEL: func.func @gated_deltanet_l5
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x2x5x8xf32>, %{{.*}}: tensor<1x2x5x8xf32>, %{{.*}}: tensor<1x2x5x8xf32>, %[[LAM:[a-zA-Z0-9_]+]]: tensor<1x2x5x4xf32>
// CHECK-NOT: attn.
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C64:.*]] = arith.constant 64 : i64
// CHECK-DAG: %[[C5:.*]] = arith.constant 5 : index
// CHECK: %[[LEVELS0:.*]] = linalg.fill ins(%{{.*}} : f32) outs(%{{.*}} : tensor<1x2x4x8x8xf32>)
// CHECK: %[[R:.*]]:2 = scf.for %[[T:.*]] = %[[C0]] to %[[C5]] step %[[C1]] iter_args(%[[OUT:.*]] = %{{.*}}, %[[LEVELS:.*]] = %[[LEVELS0]]) -> (tensor<1x2x5x8xf32>, tensor<1x2x4x8x8xf32>)
// CHECK: %[[FIRST:.*]] = arith.cmpi eq, %[[T]], %[[C0]] : index
// CHECK: %[[PREV:.*]] = arith.subi %[[T]], %[[C1]] : index
// CHECK: %[[PREV64:.*]] = arith.index_cast %[[PREV]] : index to i64
// CHECK: %[[T64:.*]] = arith.index_cast %[[T]] : index to i64
// CHECK: %[[X:.*]] = arith.xori %[[T64]], %[[PREV64]] : i64
// CHECK: math.ctlz %[[X]] : i64
// CHECK: %[[CARRY:.*]] = arith.select %[[FIRST]], %[[C0]], %{{.*}} : index
// below = sum of the levels l < c.
// CHECK: %[[BELOW:.*]] = linalg.generic {indexing_maps = [#[[ID5]], #[[MATRIX]]], iterator_types = ["parallel", "parallel", "reduction", "parallel", "parallel"]} ins(%[[LEVELS]] : tensor<1x2x4x8x8xf32>)
// CHECK: arith.cmpi ult, %{{.*}}, %[[CARRY]] : index
// S_c += below, S_{l<c} = 0, in place on the carried levels.
// CHECK: %[[MERGED:.*]] = linalg.generic {{.*}} ins(%[[BELOW]] : tensor<1x2x8x8xf32>) outs(%[[LEVELS]] : tensor<1x2x4x8x8xf32>)
// CHECK-NEXT: ^bb0(%[[below:.*]]: f32, %[[sl:.*]]: f32):
// CHECK-NEXT: %[[LV:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[UNDER:.*]] = arith.cmpi ult, %[[LV]], %[[CARRY]] : index
// CHECK-NEXT: %[[ATC:.*]] = arith.cmpi eq, %[[LV]], %[[CARRY]] : index
// CHECK-NEXT: %[[SUM:.*]] = arith.addf %[[sl]], %[[below]] : f32
// CHECK-NEXT: %[[KEEP:.*]] = arith.select %[[ATC]], %[[SUM]], %[[sl]] : f32
// CHECK-NEXT: arith.select %[[UNDER]], %{{.*}}, %[[KEEP]] : f32
// CHECK: %[[REC:.*]] = linalg.generic {{.*}} ins(%{{.*}}, %[[MERGED]] : tensor<1x2x1x8xf32>, tensor<1x2x4x8x8xf32>) outs(%{{.*}} : tensor<1x2x4x8xf32>)
// CHECK: %[[STEPPED:.*]] = linalg.generic {{.*}} ins(%[[REC]], {{.*}}) outs(%[[MERGED]] : tensor<1x2x4x8x8xf32>)
// CHECK-NEXT: ^bb0(%[[rec:.*]]: f32, %[[k:.*]]: f32, %[[v:.*]]: f32, %[[beta:.*]]: f32, %[[g:.*]]: f32, %[[old:.*]]: f32):
// CHECK-NEXT: %[[LEVEL:.*]] = linalg.index 2 : index
// CHECK-NEXT: %[[BK:.*]] = arith.mulf %[[beta]], %[[k]] : f32
// CHECK-NEXT: %[[BKR:.*]] = arith.mulf %[[BK]], %[[rec]] : f32
// CHECK-NEXT: %[[ERASED:.*]] = arith.subf %[[old]], %[[BKR]] : f32
// CHECK-NEXT: %[[A:.*]] = math.exp %[[g]] : f32
// CHECK-NEXT: %[[KEPT:.*]] = arith.mulf %[[A]], %[[ERASED]] : f32
// CHECK-NEXT: %[[BKV:.*]] = arith.mulf %[[BK]], %[[v]] : f32
// CHECK-NEXT: %[[WRITTEN:.*]] = arith.addf %[[KEPT]], %[[BKV]] : f32
// CHECK-NEXT: %[[IS0:.*]] = arith.cmpi eq, %[[LEVEL]], %[[C0]] : index
// CHECK-NEXT: arith.select %[[IS0]], %[[WRITTEN]], %[[KEPT]] : f32
// out_t = sum over levels and d of lambda[t,l] q_t[d] S_l[d,:]
// CHECK-DAG: %[[LAMT:.*]] = tensor.extract_slice %[[LAM]][0, 0, %[[T]], 0] [1, 2, 1, 4]
// CHECK-DAG: %[[QT:.*]] = tensor.extract_slice %[[Q]][0, 0, %[[T]], 0] [1, 2, 1, 8]
// CHECK: %[[OT:.*]] = linalg.generic {indexing_maps = [#[[LEVTOK]], #[[QTOK]], #[[ID5]], #{{.*}}], iterator_types = ["parallel", "parallel", "reduction", "reduction", "parallel"]} ins(%[[LAMT]], %[[QT]], %[[STEPPED]] :
// CHECK: %[[OUT1:.*]] = tensor.insert_slice %[[OT]] into %[[OUT]][0, 0, %[[T]], 0]
// CHECK: scf.yield %[[OUT1]], %[[STEPPED]]
// CHECK: return %[[R]]#0
func.func @gated_deltanet_l5(%q: tensor<1x2x5x8xf32>, %k: tensor<1x2x5x8xf32>, %v: tensor<1x2x5x8xf32>, %lam: tensor<1x2x5x4xf32>, %g: tensor<1x2x5xf32>, %b: tensor<1x2x5xf32>) -> tensor<1x2x5x8xf32> {
  %o = attn.log_linear gated_deltanet %q, %k, %v, %lam : tensor<1x2x5x4xf32> gate(%g : tensor<1x2x5xf32>) beta(%b : tensor<1x2x5xf32>) : tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32>, tensor<1x2x5x8xf32> -> tensor<1x2x5x8xf32>
  return %o : tensor<1x2x5x8xf32>
}

// -----

// The streaming form of the linear base takes the recurrent level form: the
// carried states start from a copy of state_in; each token's carry level is
// bit_length(p XOR (p-1)) at p = t + max(start[b], 0), capped at the last
// level (4); the final states are the state_out result.
// CHECK-LABEL: func.func @stream_linear
// CHECK-SAME: %[[S:[a-zA-Z0-9_]+]]: tensor<2x2x5x8x4xf32>, %[[P:[a-zA-Z0-9_]+]]: tensor<2xi32>
// CHECK: %[[LAST:.*]] = arith.subi %c5, %c1 : index
// CHECK: %[[COPY:.*]] = linalg.copy ins(%[[S]] : tensor<2x2x5x8x4xf32>)
// CHECK: %[[LOOP:.*]]:2 = scf.for %{{.*}} = %c0 to %c3 step %c1 iter_args(%{{.*}} = %{{.*}}, %{{.*}} = %[[COPY]])
// CHECK: tensor.extract %[[P]]
// CHECK: arith.maxsi %{{.*}}, %c0_i32 : i32
// CHECK: math.ctlz
// CHECK: arith.minsi %{{.*}}, %[[LAST]] : index
// CHECK: return %[[LOOP]]#0, %[[LOOP]]#1
// NOEXP-LABEL: func.func @stream_linear
func.func @stream_linear(%q: tensor<2x2x3x8xf32>, %v: tensor<2x2x3x4xf32>, %lam: tensor<2x2x3x5xf32>, %s: tensor<2x2x5x8x4xf32>, %p: tensor<2xi32>) -> (tensor<2x2x3x4xf32>, tensor<2x2x5x8x4xf32>) {
  %o, %s1 = attn.log_linear linear %q, %q, %v, %lam : tensor<2x2x3x5xf32> state(%s : tensor<2x2x5x8x4xf32>) start(%p : tensor<2xi32>) : tensor<2x2x3x8xf32>, tensor<2x2x3x8xf32>, tensor<2x2x3x4xf32> -> tensor<2x2x3x4xf32>, state tensor<2x2x5x8x4xf32>
  return %o, %s1 : tensor<2x2x3x4xf32>, tensor<2x2x5x8x4xf32>
}
