//===- AttnOps.td - ops of the attn dialect --------------------*- tablegen -*-===//
//
// One op per attention family. Shapes, defaults and encodings are fixed in
// docs/Rationale.md; the C++ verifiers in dialects/Attn check every relation
// between static sizes with a diagnostic that names the operand and the axis.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_DIALECT_ATTN_ATTNOPS_TD
#define ATTN_DIALECT_ATTN_ATTNOPS_TD

include "attn/Dialect/Attn/AttnBase.td"
include "attn/Dialect/Attn/AttnEnums.td"
include "mlir/Interfaces/SideEffectInterfaces.td"
include "mlir/IR/OpBase.td"

//===----------------------------------------------------------------------===//
// Softmax family
//===----------------------------------------------------------------------===//

def Attn_AttentionOp : Attn_Op<"attention",
    [AttrSizedOperandSegments, RecursiveMemoryEffects]> {
  let summary = "softmax attention: MHA/GQA/MQA, causal, window, masks, "
                "block sparsity, softcap, score/mask mods, sinks, lse";
  let description = [{
    `out[b,h,i,:] = sum_j softmax_j(s[i,j]) v[b,h/G,j,:]` over the visible keys,
    with `s[i,j] = scale * <q[b,h,i], k[b,h/G,j]>` (scale defaults to
    `1/sqrt(D)`), then `softcap * tanh(s / softcap)`, then the `score_mod`
    region, then an additive mask. A key is visible when the causal rule
    (bottom-right: `j <= i + Lk - Lq`), the window `[left, right]`, a boolean
    mask, the block lists and the `mask_mod` region all allow it. Fully
    masked rows give 0 and lse = -inf. GQA/MQA come from `Hq % Hkv == 0`.

    Caches (docs/Caches.md): `kv_lens [B]` (i32) gives each batch row its
    key count `n_b = clamp(kv_lens[b], 0, Lk)`; keys `j >= n_b` are
    invisible and the causal and window rules align at `n_b` instead of Lk.
    With `block_table [B, NP]` (i32) the key and value operands are page
    pools `[P, Hkv, PS, D]` / `[P, Hkv, PS, Dv]`: logical key `j` of row `b`
    is row `j % PS` of page `block_table[b, j / PS]`, and `Lk = NP * PS`.

    ```mlir
    %o, %lse = attn.attention %q, %k, %v {causal}
        : tensor<2x32x128x128xbf16>, tensor<2x8x128x128xbf16>, tensor<2x8x128x128xbf16>
        -> tensor<2x32x128x128xbf16>, tensor<2x32x128xf32>
    ```
  }];
  let arguments = (ins
    Attn_FloatTensor:$query,
    Attn_FloatTensor:$key,
    Attn_FloatTensor:$value,
    Optional<Attn_MaskTensor>:$mask,
    Optional<Attn_I32Tensor>:$kv_num_blocks,
    Optional<Attn_I32Tensor>:$kv_indices,
    Optional<Attn_I32Tensor>:$full_kv_num_blocks,
    Optional<Attn_I32Tensor>:$full_kv_indices,
    Optional<Attn_F32Tensor>:$sinks,
    Optional<Attn_I32Tensor>:$kv_lens,
    Optional<Attn_I32Tensor>:$block_table,
    OptionalAttr<F64Attr>:$scale,
    UnitAttr:$causal,
    OptionalAttr<DenseI64ArrayAttr>:$window,
    OptionalAttr<F64Attr>:$softcap,
    OptionalAttr<I64Attr>:$block_q,
    OptionalAttr<I64Attr>:$block_k
  );
  let results = (outs Attn_FloatTensor:$out, Optional<Attn_F32Tensor>:$lse);
  let regions = (region MaxSizedRegion<1>:$score_mod, MaxSizedRegion<1>:$mask_mod);
  let assemblyFormat = [{
    $query `,` $key `,` $value
    (`mask` `(` $mask^ `:` type($mask) `)`)?
    (`blocks` `(` $kv_num_blocks^ `,` $kv_indices `:` type($kv_num_blocks) `,` type($kv_indices) `)`)?
    (`full_blocks` `(` $full_kv_num_blocks^ `,` $full_kv_indices `:` type($full_kv_num_blocks) `,` type($full_kv_indices) `)`)?
    (`sinks` `(` $sinks^ `:` type($sinks) `)`)?
    (`kv_lens` `(` $kv_lens^ `:` type($kv_lens) `)`)?
    (`block_table` `(` $block_table^ `:` type($block_table) `)`)?
    (`score_mod` $score_mod^)?
    (`mask_mod` $mask_mod^)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($out) (`,` type($lse)^)?
  }];
  let hasVerifier = 1;
  let hasRegionVerifier = 1;
  let extraClassDeclaration = [{
    /// The scale applied to q.k: the attribute or 1/sqrt(D).
    double getEffectiveScale();
  }];
}

def Attn_YieldOp : Attn_Op<"yield",
    [Pure, Terminator, ParentOneOf<["AttentionOp"]>]> {
  let summary = "ends a score_mod or mask_mod region";
  let description = [{
    Returns the modified score (f32) from a `score_mod` region or the
    visibility (i1) from a `mask_mod` region.
  }];
  let arguments = (ins AnyType:$value);
  let assemblyFormat = "$value attr-dict `:` type($value)";
}

def Attn_MergeOp : Attn_Op<"merge", [Pure]> {
  let summary = "merge partial attention results by their log-sum-exp";
  let description = [{
    `lse = logaddexp_n(lses[n])`, `out = sum_n exp(lses[n] - lse) outs[n]`.
    Partials are stacked on a leading axis `N`; a partial with lse = -inf
    contributes nothing, and all -inf gives 0 and -inf.
  }];
  let arguments = (ins Attn_FloatTensor:$outs, Attn_F32Tensor:$lses);
  let results = (outs Attn_FloatTensor:$out, Attn_F32Tensor:$lse);
  let assemblyFormat = [{
    $outs `,` $lses attr-dict `:` type($outs) `,` type($lses)
    `->` type($out) `,` type($lse)
  }];
  let hasVerifier = 1;
}

def Attn_DiffAttentionOp : Attn_Op<"diff_attention", [Pure,
    AllTypesMatch<["query1", "query2"]>, AllTypesMatch<["key1", "key2"]>]> {
  let summary = "differential attention with per-head RMS norm";
  let description = [{
    `o = softmax(s1) v - lambda[h] softmax(s2) v`, then
    `out = o / sqrt(mean(o^2) + eps) * norm_weight * (1 - lambda_init)`.
  }];
  let arguments = (ins
    Attn_FloatTensor:$query1, Attn_FloatTensor:$key1,
    Attn_FloatTensor:$query2, Attn_FloatTensor:$key2,
    Attn_FloatTensor:$value, Attn_F32Tensor:$lambda,
    Optional<Attn_F32Tensor>:$norm_weight,
    F64Attr:$lambda_init,
    DefaultValuedAttr<F64Attr, "1e-5">:$eps,
    OptionalAttr<F64Attr>:$scale,
    UnitAttr:$causal);
  let results = (outs Attn_FloatTensor:$out);
  let assemblyFormat = [{
    `(` $query1 `,` $key1 `)` `,` `(` $query2 `,` $key2 `)` `,` $value
    `lambda` `(` $lambda `:` type($lambda) `)`
    (`norm` `(` $norm_weight^ `:` type($norm_weight) `)`)?
    attr-dict `:` type($query1) `,` type($key1) `,` type($value) `->` type($out)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Feature maps and linear attention
//===----------------------------------------------------------------------===//

def Attn_FeatureMapOp : Attn_Op<"feature_map", [Pure]> {
  let summary = "feature map phi of linear attention";
  let description = [{
    `identity`, `elu_plus_one`, `relu` keep F = D; `hedgehog` (LoLCATs) is
    `[softmax(x W) || softmax(-x W)]` with `W [H, D, F/2]`, so F = 2 * F/2.
  }];
  let arguments = (ins Attn_FeatureMapKind:$kind, Attn_FloatTensor:$input,
                       Optional<Attn_FloatTensor>:$weight);
  let results = (outs Attn_FloatTensor:$output);
  let assemblyFormat = [{
    $kind $input (`weight` `(` $weight^ `:` type($weight) `)`)?
    attr-dict `:` type($input) `->` type($output)
  }];
  let hasVerifier = 1;
}

def Attn_LinearAttentionOp : Attn_Op<"linear_attention",
    [AttrSizedOperandSegments, AttrSizedResultSegments, Pure]> {
  let summary = "causal linear attention with decay, normaliser and state";
  let description = [{
    Per (b, h): `S_t = a_t (.) S_{t-1} + k_t v_t^T`, `z_t = a_t (.) z_{t-1} + k_t`,
    `out_t = (scale q_t)^T S_t` (divided by `(scale q_t)^T z_t + eps` when
    `normalize`). The decay `a_t` is 1 (`none`), `exp(g[h])` (`constant`),
    `exp(g[b,h,t])` (`scalar`) or `exp(g[b,h,t,f])` per row (`vector`).
    q and k are already feature-mapped (`attn.feature_map`).
  }];
  let arguments = (ins
    Attn_DecayKind:$decay,
    Attn_FloatTensor:$query, Attn_FloatTensor:$key, Attn_FloatTensor:$value,
    Optional<Attn_F32Tensor>:$gate,
    Optional<Attn_F32Tensor>:$state_in,
    Optional<Attn_F32Tensor>:$norm_in,
    UnitAttr:$normalize,
    DefaultValuedAttr<F64Attr, "1e-6">:$eps,
    DefaultValuedAttr<F64Attr, "1.0">:$scale);
  let results = (outs Attn_FloatTensor:$out,
                      Optional<Attn_F32Tensor>:$state_out,
                      Optional<Attn_F32Tensor>:$norm_out);
  let assemblyFormat = [{
    $decay $query `,` $key `,` $value
    (`gate` `(` $gate^ `:` type($gate) `)`)?
    (`state` `(` $state_in^ `:` type($state_in) `)`)?
    (`norm` `(` $norm_in^ `:` type($norm_in) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($out) (`,` `state` type($state_out)^)? (`,` `norm` type($norm_out)^)?
  }];
  let hasVerifier = 1;
}

def Attn_DeltaRuleOp : Attn_Op<"delta_rule",
    [AttrSizedOperandSegments, Pure]> {
  let summary = "delta-rule recurrence: DeltaNet, Gated DeltaNet, KDA";
  let description = [{
    `S_t = A_t (I - beta_t k_t k_t^T) S_{t-1} + beta_t k_t v_t^T`,
    `out_t = S_t^T (scale q_t)`; `deltanet`: A = I; `gated`: A = exp(g_t);
    `kda`: `S_t = (I - b k k^T) Diag(exp(g_t)) S_{t-1} + b k v^T`.
    `l2norm` normalises q and k per token first.
  }];
  let arguments = (ins
    Attn_DeltaKind:$kind,
    Attn_FloatTensor:$query, Attn_FloatTensor:$key, Attn_FloatTensor:$value,
    Attn_F32Tensor:$beta,
    Optional<Attn_F32Tensor>:$gate,
    Optional<Attn_F32Tensor>:$state_in,
    UnitAttr:$l2norm,
    DefaultValuedAttr<F64Attr, "1.0">:$scale);
  let results = (outs Attn_FloatTensor:$out, Optional<Attn_F32Tensor>:$state_out);
  let assemblyFormat = [{
    $kind $query `,` $key `,` $value `,` $beta `:` type($beta)
    (`gate` `(` $gate^ `:` type($gate) `)`)?
    (`state` `(` $state_in^ `:` type($state_in) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($out) (`,` `state` type($state_out)^)?
  }];
  let hasVerifier = 1;
}

def Attn_LogLinearOp : Attn_Op<"log_linear",
    [AttrSizedOperandSegments, Pure]> {
  let summary = "log-linear attention over Fenwick-tree levels";
  let description = [{
    `out_t = sum_{s<=t} lambda[t, lev(t,s)] (q_t.k_s) decay(t,s) v_s` with
    `lev(t,s) = bit_length(t XOR s)`, `lev(t,t) = 0`; the `gated_deltanet`
    base keeps one delta-rule state per level (docs/Rationale.md gives the
    recurrent form). `lambda` has `ceil(log2 L) + 1` levels.

    Streaming (docs/Caches.md): with `state_in [B,H,NL,D,Dv]` (the level
    states after the tokens before this call), `start [B]` (i32, the
    absolute position of token 0, default 0) or a `state_out` result, the op
    runs the recurrent form for every base from those states and positions;
    `lambda` then has NL levels, and a carry that would go past the last
    level stays in it (positions below 2^(NL-1) never do).
  }];
  let arguments = (ins
    Attn_LogLinearBase:$base,
    Attn_FloatTensor:$query, Attn_FloatTensor:$key, Attn_FloatTensor:$value,
    Attn_F32Tensor:$lambda,
    Optional<Attn_F32Tensor>:$gate,
    Optional<Attn_F32Tensor>:$beta,
    Optional<Attn_F32Tensor>:$state_in,
    Optional<Attn_I32Tensor>:$start,
    DefaultValuedAttr<F64Attr, "1.0">:$scale);
  let results = (outs Attn_FloatTensor:$out, Optional<Attn_F32Tensor>:$state_out);
  let assemblyFormat = [{
    $base $query `,` $key `,` $value `,` $lambda `:` type($lambda)
    (`gate` `(` $gate^ `:` type($gate) `)`)?
    (`beta` `(` $beta^ `:` type($beta) `)`)?
    (`state` `(` $state_in^ `:` type($state_in) `)`)?
    (`start` `(` $start^ `:` type($start) `)`)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->` type($out)
    (`,` `state` type($state_out)^)?
  }];
  let extraClassDeclaration = [{
    /// State in or out, or start positions: the streaming form.
    bool isStreaming() { return getStateIn() || getStart() || getStateOut(); }
  }];
  let hasVerifier = 1;
}

def Attn_LolcatsHybridOp : Attn_Op<"lolcats_hybrid",
    [Pure, AllTypesMatch<["feature_query", "feature_key"]>]> {
  let summary = "LoLCATs: sliding-window softmax plus linear attention, one normaliser";
  let description = [{
    For query n: window logits `s = scale q.k` over `W_n` (the last `window`
    keys, or the `terrace`), linear terms `phi_q(q_n)^T sum phi_k(k_j) v_j^T`
    over older keys, `out = num / den` with the window terms weighted by
    `sigmoid(gamma[h]) exp(s - max s)`.
  }];
  let arguments = (ins
    Attn_FloatTensor:$query, Attn_FloatTensor:$key, Attn_FloatTensor:$value,
    Attn_FloatTensor:$feature_query, Attn_FloatTensor:$feature_key,
    Attn_F32Tensor:$gamma,
    DefaultValuedAttr<I64Attr, "64">:$window,
    DefaultValuedAttr<Attn_HybridWindowKind, "::attn::HybridWindowKind::sliding">:$mode,
    OptionalAttr<F64Attr>:$scale);
  let results = (outs Attn_FloatTensor:$out);
  let assemblyFormat = [{
    $query `,` $key `,` $value `features` `(` $feature_query `,` $feature_key `:` type($feature_query) `)`
    `gamma` `(` $gamma `:` type($gamma) `)` (`mode` $mode^)?
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->` type($out)
  }];
  let hasVerifier = 1;
}

def Attn_LolcatsDecodeOp : Attn_Op<"lolcats_decode",
    [Pure, AllTypesMatch<["feature_query", "feature_key"]>,
     AllTypesMatch<["state", "state_out"]>, AllTypesMatch<["norm", "norm_out"]>,
     AllTypesMatch<["window_key", "window_key_out"]>,
     AllTypesMatch<["window_value", "window_value_out"]>,
     AllTypesMatch<["window_feature", "window_feature_out"]>]> {
  let summary = "one decode step of the sliding LoLCATs hybrid over its streaming state";
  let description = [{
    The state of a sequence after `position[b]` tokens (docs/Caches.md): the
    linear terms `state [B,H,F,Dv]`, `norm [B,H,F]` of the keys that left
    the window, and a ring of the last W tokens' keys, values and key
    features (`window_key [B,H,W,D]`, `window_value [B,H,W,Dv]`,
    `window_feature [B,H,W,F]`, f32; W is the window). Token p =
    position[b] goes to slot p mod W; the token it replaces (p - W, when
    p >= W) leaves the window: `state += phi_k v^T`, `norm += phi_k`. The
    result is `lolcats_hybrid`'s sliding output for token p, and the
    updated state. Negative positions read as 0.
  }];
  let arguments = (ins
    Attn_FloatTensor:$query, Attn_FloatTensor:$key, Attn_FloatTensor:$value,
    Attn_FloatTensor:$feature_query, Attn_FloatTensor:$feature_key,
    Attn_F32Tensor:$gamma, Attn_I32Tensor:$position,
    Attn_F32Tensor:$state, Attn_F32Tensor:$norm,
    Attn_F32Tensor:$window_key, Attn_F32Tensor:$window_value,
    Attn_F32Tensor:$window_feature,
    OptionalAttr<F64Attr>:$scale);
  let results = (outs Attn_FloatTensor:$out, Attn_F32Tensor:$state_out,
                      Attn_F32Tensor:$norm_out, Attn_F32Tensor:$window_key_out,
                      Attn_F32Tensor:$window_value_out,
                      Attn_F32Tensor:$window_feature_out);
  let assemblyFormat = [{
    $query `,` $key `,` $value `features` `(` $feature_query `,` $feature_key `:` type($feature_query) `)`
    `gamma` `(` $gamma `:` type($gamma) `)` `position` `(` $position `:` type($position) `)`
    `state` `(` $state `,` $norm `:` type($state) `,` type($norm) `)`
    `window` `(` $window_key `,` $window_value `,` $window_feature `:`
      type($window_key) `,` type($window_value) `,` type($window_feature) `)`
    attr-dict `:` type($query) `,` type($key) `,` type($value) `->` type($out)
  }];
  let hasVerifier = 1;
}

//===----------------------------------------------------------------------===//
// Token-sparse attention and selection
//===----------------------------------------------------------------------===//

def Attn_SparseAttentionOp : Attn_Op<"sparse_attention", [Pure]> {
  let summary = "softmax attention over selected key blocks";
  let description = [{
    `indices [B, Hi, ceil(Lq/query_block), K]` (i32, -1 pads, Hi in {1, Hkv,
    Hq}) name key blocks of `key_block` keys; softmax attention over the keys
    of the listed blocks (duplicates count once), intersected with the causal
    rule when `causal` is set.
  }];
  let arguments = (ins
    Attn_FloatTensor:$query, Attn_FloatTensor:$key, Attn_FloatTensor:$value,
    Attn_I32Tensor:$indices,
    DefaultValuedAttr<I64Attr, "1">:$query_block,
    DefaultValuedAttr<I64Attr, "1">:$key_block,
    OptionalAttr<F64Attr>:$scale,
    UnitAttr:$causal);
  let results = (outs Attn_FloatTensor:$out, Optional<Attn_F32Tensor>:$lse);
  let assemblyFormat = [{
    $query `,` $key `,` $value `,` $indices `:` type($indices)
    attr-dict `:` type($query) `,` type($key) `,` type($value)
    `->` type($out) (`,` type($lse)^)?
  }];
  let hasVerifier = 1;
}

class Attn_SelectOp<string mnemonic, list<Trait> traits = []>
    : Attn_Op<mnemonic, !listconcat([Pure], traits)> {
  let results = (outs Attn_I32Tensor:$indices);
  let hasVerifier = 1;
}

def Attn_TopkSelectOp : Attn_SelectOp<"topk_select"> {
  let summary = "exact top-k keys by q.k";
  let description = [{
    Per query, the `topk` visible keys with the largest `q.k`, descending, ties
    to the lower index, -1 padded; `sink_tokens` and `local_window` keys are
    forced in first. Result `[B, Hq, Lq, topk]`.
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_FloatTensor:$key,
                       I64Attr:$topk, UnitAttr:$causal,
                       DefaultValuedAttr<I64Attr, "0">:$sink_tokens,
                       DefaultValuedAttr<I64Attr, "0">:$local_window);
  let assemblyFormat = [{
    $query `,` $key attr-dict `:` type($query) `,` type($key) `->` type($indices)
  }];
}

def Attn_AdamasSelectOp : Attn_SelectOp<"adamas_select"> {
  let summary = "Adamas: Hadamard transform, 2-bit keys, Manhattan top-k";
  let description = [{
    `q' = H q / sqrt(D)`, `k' = H k / sqrt(D)`, keys quantised per token to
    `{-1.5,-0.5,0.5,1.5} * max|k'|/1.5`, score `-sum_d |q'_d - kq_d|`.
    D must be a power of two. Result `[B, Hq, Lq, topk]`.
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_FloatTensor:$key,
                       I64Attr:$topk, UnitAttr:$causal,
                       DefaultValuedAttr<I64Attr, "0">:$sink_tokens,
                       DefaultValuedAttr<I64Attr, "0">:$local_window);
  let assemblyFormat = [{
    $query `,` $key attr-dict `:` type($query) `,` type($key) `->` type($indices)
  }];
}

def Attn_PageBoundsOp : Attn_Op<"page_bounds", [Pure]> {
  let summary = "per-page elementwise min and max of keys (Quest metadata)";
  let description = [{
    `kmin[b,h,p,d] = min` and `kmax = max` of `k[b,h,j,d]` over the keys of
    page p (`page_size` keys; the last page may be partial).
  }];
  let arguments = (ins Attn_FloatTensor:$key, I64Attr:$page_size);
  let results = (outs Attn_F32Tensor:$kmin, Attn_F32Tensor:$kmax);
  let assemblyFormat = [{
    $key attr-dict `:` type($key) `->` type($kmin) `,` type($kmax)
  }];
  let hasVerifier = 1;
}

def Attn_QuestSelectOp : Attn_SelectOp<"quest_select",
    [AllTypesMatch<["kmin", "kmax"]>]> {
  let summary = "Quest: top pages by the bound sum_d max(q_d m_d, q_d M_d)";
  let description = [{
    Returns page indices `[B, Hq, Lq, topk]`; use them with
    `attn.sparse_attention {key_block = page_size}`.
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_F32Tensor:$kmin,
                       Attn_F32Tensor:$kmax, I64Attr:$page_size, I64Attr:$topk,
                       I64Attr:$key_length, UnitAttr:$causal,
                       DefaultValuedAttr<I64Attr, "0">:$sink_tokens,
                       DefaultValuedAttr<I64Attr, "0">:$local_window);
  let assemblyFormat = [{
    $query `,` $kmin `,` $kmax attr-dict `:` type($query) `,` type($kmin)
    `->` type($indices)
  }];
}

def Attn_DsaIndexerOp : Attn_SelectOp<"dsa_indexer"> {
  let summary = "DeepSeek sparse attention indexer";
  let description = [{
    `score[i,j] = sum_h w[b,h,i] relu(qi[b,h,i] . ki[b,0,j])`; the `topk` best
    keys per query, shared by all attention heads: result `[B, 1, Lq, topk]`.
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_FloatTensor:$key,
                       Attn_F32Tensor:$weights, I64Attr:$topk, UnitAttr:$causal,
                       DefaultValuedAttr<I64Attr, "0">:$sink_tokens,
                       DefaultValuedAttr<I64Attr, "0">:$local_window);
  let assemblyFormat = [{
    $query `,` $key `,` $weights attr-dict `:` type($query) `,` type($key) `,`
    type($weights) `->` type($indices)
  }];
}

//===----------------------------------------------------------------------===//
// Quantised KV
//===----------------------------------------------------------------------===//

def Attn_QuantAttentionOp : Attn_Op<"quant_attention",
    [AttrSizedOperandSegments, Pure]> {
  let summary = "softmax attention over int8/int4 keys and values, dequantised in the tiles";
  let description = [{
    Keys are quantised per channel in groups of `group_size` tokens
    (`k_scale [B,Hkv,ceil(Lk/g),D]`), values per token in groups of
    `group_size` channels (`v_scale [B,Hkv,Lk,ceil(Dv/g)]`). With zero points,
    codes are unsigned and `x = scale * code + zero`; without, codes are signed
    and `x = scale * code`. 4-bit codes are packed two per byte along the last
    axis, low nibble first. `kv_lens [B]` limits each batch row to its first
    `clamp(kv_lens[b], 0, Lk)` keys, as in `attn.attention`.
  }];
  let arguments = (ins
    Attn_FloatTensor:$query,
    Attn_CodeTensor:$key_codes, Attn_F32Tensor:$key_scale,
    Optional<Attn_F32Tensor>:$key_zero,
    Attn_CodeTensor:$value_codes, Attn_F32Tensor:$value_scale,
    Optional<Attn_F32Tensor>:$value_zero,
    Optional<Attn_I32Tensor>:$kv_lens,
    I64Attr:$bits, I64Attr:$group_size,
    OptionalAttr<F64Attr>:$scale, UnitAttr:$causal);
  let results = (outs Attn_FloatTensor:$out, Optional<Attn_F32Tensor>:$lse);
  let assemblyFormat = [{
    $query `,` `key` `(` $key_codes `,` $key_scale (`,` `zero` $key_zero^)? `:`
      type($key_codes) `,` type($key_scale) (`,` type($key_zero)^)? `)`
    `value` `(` $value_codes `,` $value_scale (`,` `zero` $value_zero^)? `:`
      type($value_codes) `,` type($value_scale) (`,` type($value_zero)^)? `)`
    (`kv_lens` `(` $kv_lens^ `:` type($kv_lens) `)`)?
    attr-dict `:` type($query) `->` type($out) (`,` type($lse)^)?
  }];
  let hasVerifier = 1;
}

def Attn_PQFitOp : Attn_Op<"pq_fit", [Pure]> {
  let summary = "fit product-quantisation codebooks by k-means";
  let description = [{
    Per head and sub-space, k-means++ seeding and `iters` Lloyd iterations on
    calibration keys `[H, N, D]`, deterministic under `seed`; result
    `[H, m, Kc, D/m]` with Kc in {16, 256}.
  }];
  let arguments = (ins Attn_FloatTensor:$keys,
                       DefaultValuedAttr<I64Attr, "25">:$iters,
                       DefaultValuedAttr<I64Attr, "0">:$seed);
  let results = (outs Attn_F32Tensor:$codebooks);
  let assemblyFormat = "$keys attr-dict `:` type($keys) `->` type($codebooks)";
  let hasVerifier = 1;
}

def Attn_PQEncodeOp : Attn_Op<"pq_encode", [Pure]> {
  let summary = "encode keys as nearest-centroid codes";
  let description = [{
    `code[b,h,j,s] = argmin_c |k_s - centroid[h,s,c]|^2` (ties to the lower c);
    `[B,H,L,m]` bytes for Kc = 256, `[B,H,L,m/2]` packed nibbles for Kc = 16.
  }];
  let arguments = (ins Attn_FloatTensor:$key, Attn_F32Tensor:$codebooks);
  let results = (outs Attn_CodeTensor:$codes);
  let assemblyFormat = [{
    $key `,` $codebooks attr-dict `:` type($key) `,` type($codebooks) `->` type($codes)
  }];
  let hasVerifier = 1;
}

def Attn_PQAttentionOp : Attn_Op<"pq_attention", [Pure]> {
  let summary = "softmax attention with PQ keys scored by lookup tables (LOOKAT)";
  let description = [{
    Per query, `T[s,c] = <q_s, centroid[s,c]>`; `score_j = scale * sum_s
    T[s, code[j,s]]`; then softmax over visible keys and V as in
    `attn.attention`, including the optional `kv_lens [B]`.
  }];
  let arguments = (ins Attn_FloatTensor:$query, Attn_CodeTensor:$codes,
                       Attn_F32Tensor:$codebooks, Attn_FloatTensor:$value,
                       Optional<Attn_I32Tensor>:$kv_lens,
                       OptionalAttr<F64Attr>:$scale, UnitAttr:$causal);
  let results = (outs Attn_FloatTensor:$out, Optional<Attn_F32Tensor>:$lse);
  let assemblyFormat = [{
    $query `,` $codes `,` $codebooks `,` $value
    (`kv_lens` `(` $kv_lens^ `:` type($kv_lens) `)`)? attr-dict `:` type($query) `,`
    type($codes) `,` type($codebooks) `,` type($value) `->` type($out) (`,` type($lse)^)?
  }];
  let hasVerifier = 1;
}

#endif // ATTN_DIALECT_ATTN_ATTNOPS_TD
