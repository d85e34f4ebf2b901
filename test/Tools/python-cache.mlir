// attn.KVCache / attn.QuantCache / attn.StateCache / attn.PQCache from
// Python: a paged bf16 cache filled by appends (two sequences, one forked),
// read in place by a compiled decode kernel through the view arrays, checked
// against attention written in NumPy float64 over each sequence's own
// tokens; an int8 cache's view shapes and residual window; linear-attention
// steps through a StateCache (begin/commit, rollback to a checkpoint)
// against NumPy; PQ caches (256 and 16 centroids) filled to the capacity,
// forked and truncated, their codes against a NumPy nearest-centroid
// encoding and attn.pq_attention over the view; failed calls raise AttnError
// and change nothing.
// REQUIRES: numpy
// RUN: rm -rf %t && attn-compile %s -o %t --name pycache
// RUN: env PYTHONPATH=%attn_src/python ATTN_RUNTIME=%attn_lib/libattnrt.so %python %S/Inputs/python_cache.py %t | FileCheck %s

// CHECK: paged decode seq 0 PASS
// CHECK: paged decode seq 1 PASS
// CHECK: paged decode seq 2 PASS
// CHECK: capacity error: attnrt_kv_append: sequence 1 has 40 of 64 tokens; appending 30 would exceed the capacity
// CHECK: length after failed append 40
// CHECK: shape error: append: key must be [2, n, 32], got [2, 3, 31]
// CHECK: quant view key_codes (3, 2, 64, 32) key_scale (3, 2, 4, 32) residual 5 quantized 16
// CHECK: quant decode PASS
// CHECK: state step 0 PASS
// CHECK: state step 1 PASS
// CHECK: state step 2 PASS
// CHECK: state rollback PASS
// CHECK: state step 3 PASS
// CHECK: state error: attnrt_state_step_begin: {{.*}}open
// CHECK: pq256 append fork PASS
// CHECK: pq256 truncate PASS
// CHECK: pq256 decode seq 0 PASS
// CHECK: pq256 decode seq 1 PASS
// CHECK: pq256 decode seq 2 PASS
// CHECK: pq256 capacity error: attnrt_pq_append: sequence 0 has 24 of 24 tokens; appending 1 would exceed the capacity
// CHECK: pq256 non-finite error: attnrt_pq_append: key element 167 is nan, which cannot be quantised or encoded
// CHECK: pq256 dtype error: append: key must be a numpy float32 array
// CHECK: pq256 codebooks error: PQCache: codebooks must be [2, 8, 256, 4], got [2, 8, 256, 2]
// CHECK: pq256 unchanged PASS
// CHECK: pq256 memory PASS
// CHECK: pq256 released length 0
// CHECK: pq16 append fork PASS
// CHECK: pq16 truncate PASS
// CHECK: pq16 decode seq 0 PASS
// CHECK: pq16 decode seq 1 PASS
// CHECK: pq16 decode seq 2 PASS
// CHECK: pq16 capacity error: attnrt_pq_append: sequence 0 has 24 of 24 tokens; appending 1 would exceed the capacity
// CHECK: pq16 non-finite error: attnrt_pq_append: key element 167 is nan, which cannot be quantised or encoded
// CHECK: pq16 dtype error: append: key must be a numpy float32 array
// CHECK: pq16 codebooks error: PQCache: codebooks must be [2, 8, 16, 4], got [2, 8, 16, 2]
// CHECK: pq16 unchanged PASS
// CHECK: pq16 memory PASS
// CHECK: pq16 released length 0

func.func @paged(%q: tensor<3x4x1x32xbf16>, %k: tensor<24x2x8x32xbf16>, %v: tensor<24x2x8x32xbf16>,
                 %n: tensor<3xi32>, %t: tensor<3x8xi32>) -> tensor<3x4x1x32xbf16> {
  %o = attn.attention %q, %k, %v kv_lens(%n : tensor<3xi32>) block_table(%t : tensor<3x8xi32>)
      : tensor<3x4x1x32xbf16>, tensor<24x2x8x32xbf16>, tensor<24x2x8x32xbf16> -> tensor<3x4x1x32xbf16>
  return %o : tensor<3x4x1x32xbf16>
}

func.func @quant(%q: tensor<3x4x1x32xf32>, %kc: tensor<3x2x64x32xi8>, %ks: tensor<3x2x4x32xf32>,
                 %vc: tensor<3x2x64x32xi8>, %vs: tensor<3x2x64x2xf32>, %qn: tensor<3xi32>)
    -> tensor<3x4x1x32xf32> {
  %o = attn.quant_attention %q, key(%kc, %ks : tensor<3x2x64x32xi8>, tensor<3x2x4x32xf32>)
      value(%vc, %vs : tensor<3x2x64x32xi8>, tensor<3x2x64x2xf32>) kv_lens(%qn : tensor<3xi32>)
      {bits = 8 : i64, group_size = 16 : i64} : tensor<3x4x1x32xf32> -> tensor<3x4x1x32xf32>
  return %o : tensor<3x4x1x32xf32>
}

func.func @lin_step(%q: tensor<1x2x1x16xf32>, %k: tensor<1x2x1x16xf32>, %v: tensor<1x2x1x8xf32>,
                    %s: tensor<1x2x16x8xf32>) -> (tensor<1x2x1x8xf32>, tensor<1x2x16x8xf32>) {
  %o, %s1 = attn.linear_attention none %q, %k, %v state(%s : tensor<1x2x16x8xf32>) {scale = 0.5}
      : tensor<1x2x1x16xf32>, tensor<1x2x1x16xf32>, tensor<1x2x1x8xf32>
      -> tensor<1x2x1x8xf32>, state tensor<1x2x16x8xf32>
  return %o, %s1 : tensor<1x2x1x8xf32>, tensor<1x2x16x8xf32>
}

func.func @pq256(%q: tensor<3x4x1x32xf32>, %c: tensor<3x2x24x8xi8>, %cb: tensor<2x8x256x4xf32>,
                 %v: tensor<3x2x24x16xf32>, %n: tensor<3xi32>) -> tensor<3x4x1x16xf32> {
  %o = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<3xi32>)
      : tensor<3x4x1x32xf32>, tensor<3x2x24x8xi8>, tensor<2x8x256x4xf32>, tensor<3x2x24x16xf32>
      -> tensor<3x4x1x16xf32>
  return %o : tensor<3x4x1x16xf32>
}

func.func @pq16(%q: tensor<3x4x1x32xbf16>, %c: tensor<3x2x24x4xi8>, %cb: tensor<2x8x16x4xf32>,
                %v: tensor<3x2x24x16xbf16>, %n: tensor<3xi32>) -> tensor<3x4x1x16xbf16> {
  %o = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : tensor<3xi32>)
      : tensor<3x4x1x32xbf16>, tensor<3x2x24x4xi8>, tensor<2x8x16x4xf32>, tensor<3x2x24x16xbf16>
      -> tensor<3x4x1x16xbf16>
  return %o : tensor<3x4x1x16xbf16>
}
// CHECK: device error: KVCache: device must be 'cpu' or 'cuda'
// CHECK: cuda state cache: {{created|UNAVAILABLE}}
