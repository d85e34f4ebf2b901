// RUN: attn-opt %s --attn-decompose --split-input-file | FileCheck %s

// Naive decomposition of attn.lolcats_hybrid: the quadratic form of OPS.md
// section 5. Window logits s = scale q.k, their max c over the window,
// weights p = sigmoid(gamma[h]) exp(s - c) inside the window and fq.fk
// (not rescaled by exp(-c)) for older keys, out = (p V) / sum p.

// Terrace window of 4 with the default scale 1/sqrt(D) = 1/sqrt(8):
// the window of query j starts at max(0, (j / 4 - 1) * 4).
// CHECK-LABEL: func.func @lolcats_terrace
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x2x16x8xf32>, %[[K:[a-zA-Z0-9_]+]]: tensor<1x2x16x8xf32>, %[[V:[a-zA-Z0-9_]+]]: tensor<1x2x16x4xf32>, %[[FQ:[a-zA-Z0-9_]+]]: tensor<1x2x16x6xf32>, %[[FK:[a-zA-Z0-9_]+]]: tensor<1x2x16x6xf32>, %[[GAM:[a-zA-Z0-9_]+]]: tensor<2xf32>
// CHECK-NOT: attn.
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 0.353553385 : f32
// CHECK-DAG: %[[W:.*]] = arith.constant 4 : index
// CHECK-DAG: %[[C1:.*]] = arith.constant 1 : index
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK-DAG: %[[NEGINF:.*]] = arith.constant 0xFF800000 : f32
// CHECK: %[[LOGITS:.*]] = linalg.generic {{.*}} ins(%[[Q]], %[[K]] : {{.*}}) outs(%{{.*}} : tensor<1x2x16x16xf32>)
// CHECK: %[[LIN:.*]] = linalg.generic {{.*}} ins(%[[FQ]], %[[FK]] : {{.*}}) outs(%{{.*}} : tensor<1x2x16x16xf32>)
// c[j] = max over the window of 0.3536 q.k, starting from -inf.
// CHECK: %[[MAXINIT:.*]] = linalg.fill ins(%[[NEGINF]] : f32)
// CHECK: %[[MAX:.*]] = linalg.generic {{.*}} iterator_types = ["parallel", "parallel", "parallel", "reduction"]} ins(%[[LOGITS]] : {{.*}}) outs(%[[MAXINIT]] : tensor<1x2x16xf32>)
// CHECK: %[[BLOCK:.*]] = arith.divui %{{.*}}, %[[W]] : index
// CHECK-NEXT: %[[PREVBLOCK:.*]] = arith.subi %[[BLOCK]], %[[C1]] : index
// CHECK-NEXT: %[[FROM:.*]] = arith.muli %[[PREVBLOCK]], %[[W]] : index
// CHECK-NEXT: arith.maxsi %[[FROM]], %[[C0]] : index
// CHECK: arith.maximumf
// CHECK: %[[P:.*]] = linalg.generic {{.*}} ins(%[[LOGITS]], %[[LIN]], %[[MAX]], %[[GAM]] : {{.*}}) outs(%{{.*}} : tensor<1x2x16x16xf32>)
// CHECK-NEXT: ^bb0(%[[s:.*]]: f32, %[[lin:.*]]: f32, %[[c:.*]]: f32, %[[gam:.*]]: f32, %{{.*}}: f32):
// CHECK-DAG: %[[J:.*]] = linalg.index 2 : index
// CHECK-DAG: %[[I:.*]] = linalg.index 3 : index
// gamma = sigmoid(param) = 1 / (1 + exp(-param)).
// CHECK: %[[NEG:.*]] = arith.negf %[[gam]] : f32
// CHECK-NEXT: %[[ENEG:.*]] = math.exp %[[NEG]] : f32
// CHECK-NEXT: %[[DEN:.*]] = arith.addf %{{.*}}, %[[ENEG]] : f32
// CHECK-NEXT: %[[SIG:.*]] = arith.divf %{{.*}}, %[[DEN]] : f32
// CHECK-NEXT: %[[SS:.*]] = arith.mulf %[[SCALE]], %[[s]] : f32
// CHECK-NEXT: %[[SC:.*]] = arith.subf %[[SS]], %[[c]] : f32
// CHECK-NEXT: %[[E:.*]] = math.exp %[[SC]] : f32
// CHECK-NEXT: %[[SOFT:.*]] = arith.mulf %[[SIG]], %[[E]] : f32
// CHECK: %[[START:.*]] = arith.maxsi %{{.*}}, %[[C0]] : index
// CHECK-NEXT: %[[OLDER:.*]] = arith.cmpi slt, %[[I]], %[[START]] : index
// CHECK-NEXT: %[[LINEAR:.*]] = arith.select %[[OLDER]], %[[lin]], %{{.*}} : f32
// CHECK-NEXT: %[[FROMSTART:.*]] = arith.cmpi sle, %[[START]], %[[I]] : index
// CHECK-NEXT: %[[CAUSAL:.*]] = arith.cmpi sle, %[[I]], %[[J]] : index
// CHECK-NEXT: %[[INWIN:.*]] = arith.andi %[[FROMSTART]], %[[CAUSAL]] : i1
// CHECK-NEXT: arith.select %[[INWIN]], %[[SOFT]], %[[LINEAR]] : f32
// CHECK: %[[NUM:.*]] = linalg.generic {{.*}} ins(%[[P]], %[[V]] :
// CHECK: %[[SUM:.*]] = linalg.generic {{.*}} ins(%[[P]] :
// CHECK: %[[OUT:.*]] = linalg.generic {{.*}} ins(%[[NUM]], %[[SUM]] :
// CHECK-NEXT: ^bb0(%[[num:.*]]: f32, %[[sum:.*]]: f32, %{{.*}}: f32):
// CHECK-NEXT: arith.divf %[[num]], %[[sum]] : f32
// CHECK: return %[[OUT]]
func.func @lolcats_terrace(%q: tensor<1x2x16x8xf32>, %k: tensor<1x2x16x8xf32>, %v: tensor<1x2x16x4xf32>, %fq: tensor<1x2x16x6xf32>, %fk: tensor<1x2x16x6xf32>, %gam: tensor<2xf32>) -> tensor<1x2x16x4xf32> {
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x16x6xf32>) gamma(%gam : tensor<2xf32>) mode terrace {window = 4} : tensor<1x2x16x8xf32>, tensor<1x2x16x8xf32>, tensor<1x2x16x4xf32> -> tensor<1x2x16x4xf32>
  return %o : tensor<1x2x16x4xf32>
}

// -----

// Sliding window of 1 key on f16 with a dynamic length and scale 0.25: the
// window of query j starts at max(0, j - 0) (only j itself), so every older
// key is linear; the square weight matrix is [L, L] from the dynamic L.
// CHECK-LABEL: func.func @lolcats_sliding_window_one
// CHECK-SAME: %[[Q:[a-zA-Z0-9_]+]]: tensor<1x2x?x16xf16>
// CHECK-NOT: attn.
// CHECK-DAG: %[[SCALE:.*]] = arith.constant 2.500000e-01 : f32
// CHECK-DAG: %[[C0:.*]] = arith.constant 0 : index
// CHECK: %[[L:.*]] = tensor.dim %[[Q]], %{{.*}} : tensor<1x2x?x16xf16>
// CHECK: tensor.empty(%[[L]], %{{.*}}) : tensor<1x2x?x?xf32>
// CHECK: linalg.generic
// CHECK: arith.extf %{{.*}} : f16 to f32
// CHECK: %[[J:.*]] = linalg.index 2 : index
// CHECK: arith.mulf %[[SCALE]], %{{.*}} : f32
// CHECK: %[[START:.*]] = arith.subi %[[J]], %[[C0]] : index
// CHECK-NEXT: arith.maxsi %[[START]], %[[C0]] : index
// CHECK: arith.truncf %{{.*}} : f32 to f16
// CHECK: return %{{.*}} : tensor<1x2x?x16xf16>
func.func @lolcats_sliding_window_one(%q: tensor<1x2x?x16xf16>, %k: tensor<1x2x?x16xf16>, %v: tensor<1x2x?x16xf16>, %fq: tensor<1x2x?x32xf16>, %fk: tensor<1x2x?x32xf16>, %gam: tensor<2xf32>) -> tensor<1x2x?x16xf16> {
  %o = attn.lolcats_hybrid %q, %k, %v features(%fq, %fk : tensor<1x2x?x32xf16>) gamma(%gam : tensor<2xf32>) {window = 1, scale = 0.25} : tensor<1x2x?x16xf16>, tensor<1x2x?x16xf16>, tensor<1x2x?x16xf16> -> tensor<1x2x?x16xf16>
  return %o : tensor<1x2x?x16xf16>
}

// -----

// attn.lolcats_decode: the slot of token p = max(position, 0) is p mod W
// (W = 3); when p >= W the token there leaves the window into state and
// norm; the ring slot takes the new token; window logits are -inf past
// min(p + 1, W) slots; p = sigmoid(gamma) exp(s - max) joins phi_q . state
// and phi_q . norm in num / den.
// CHECK-LABEL: func.func @decode_step
// CHECK: %[[STATE:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x4x8xf32>)
// CHECK:   arith.remui %{{.*}}, %c3 : index
// CHECK:   %[[EVICT:.*]] = arith.cmpi uge, %{{.*}}, %c3 : index
// CHECK:   arith.select %[[EVICT]]
// CHECK: linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x4xf32>)
// CHECK:   arith.cmpi uge
// CHECK: %[[RING:.*]] = linalg.generic {{.*}} ins(%{{.*}} : tensor<1x2x3x8xf32>)
// CHECK:   %[[HERE:.*]] = arith.cmpi eq
// CHECK:   arith.select %[[HERE]]
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[RING]] : tensor<1x2x1x8xf32>, tensor<1x2x3x8xf32>)
// CHECK: arith.cmpi ult
// CHECK: arith.negf
// CHECK: math.exp
// CHECK: linalg.generic {{.*}} ins(%{{.*}}, %[[STATE]] : tensor<1x2x1x4xf32>, tensor<1x2x4x8xf32>)
// CHECK: arith.divf
func.func @decode_step(%q: tensor<1x2x1x8xf32>, %fq: tensor<1x2x1x4xf32>, %g: tensor<2xf32>, %p: tensor<1xi32>, %s: tensor<1x2x4x8xf32>, %z: tensor<1x2x4xf32>, %wk: tensor<1x2x3x8xf32>, %wf: tensor<1x2x3x4xf32>) -> (tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>) {
  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %q, %q features(%fq, %fq : tensor<1x2x1x4xf32>) gamma(%g : tensor<2xf32>) position(%p : tensor<1xi32>) state(%s, %z : tensor<1x2x4x8xf32>, tensor<1x2x4xf32>) window(%wk, %wk, %wf : tensor<1x2x3x8xf32>, tensor<1x2x3x8xf32>, tensor<1x2x3x4xf32>) : tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x2x1x8xf32>
  return %o, %s1 : tensor<1x2x1x8xf32>, tensor<1x2x4x8xf32>
}
