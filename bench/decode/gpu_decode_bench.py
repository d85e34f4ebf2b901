#!/usr/bin/env python3
"""Decode on the GPU through attn's runtime caches in device memory, beside
PyTorch's CUDA scaled_dot_product_attention on the same cache contents (the
GPU half of the caches issue's benchmark).

    python3 bench/decode/gpu_decode_bench.py --emit DIR      # here: kernel sources
    python3 bench/decode/gpu_decode_bench.py CARRY [--json FILE] [--kinds a,b]   # there

The kernels are compiled here with --target=cuda (bench/gpu/prepare.sh puts
them in CARRY/gpudecode/NAME/). One decode step of B = 8 sequences of equal
length: Hq = 32, Hkv = 8, D = 128, bf16. The caches are attn.KVCache /
attn.QuantCache with device="cuda", filled by appends of random torch CUDA
tensors; the kernels read their views in place (pages through the block
table, int8/int4 codes with the residual window). PyTorch reads the same
device memory: a slice of the contiguous cache, the pages gathered through
the block table, the codes dequantised, PQ keys rebuilt from their centroids (what a
PyTorch user has without a fused kernel); its gather and dequantisation are
timed with it. The
recurrent rows step one sequence's state (H = 32, 128 x 128 f32 states) from
attn.StateCache(device="cuda"): linear attention, Gated DeltaNet, KDA,
log-linear on the Mamba-2 and Gated DeltaNet bases (bit_length(context) + 1
level states, the step at position `context`, so its carries) and the
LoLCATs hybrid (window ring of 64, 128 features, an evicting step);
PyTorch's anchor is the same step written in torch on the same state
buffers (batched GEMVs, rank-1 updates, the level carries, the ring). Times are medians
of alternating rounds of back-to-back calls with a synchronize at the end
(launch overhead included, as a decode loop without graphs pays it).
"""

import json
import os
import sys
import time

B, HQ, HKV, D, PAGE, GROUP = 8, 32, 8, 128, 64, 64
H_REC, F_REC = 32, 128
KV_CONTEXTS = (1024, 4096, 16384, 32768, 131072)
QUANT_CONTEXTS = (1024, 4096, 16384, 32768, 131072)
PQ_CONTEXTS = QUANT_CONTEXTS  # keys are encoded on the host (all cores) at append
PQ_M, PQ_KC = 32, 256
KINDS = ("contiguous", "paged", "int8", "int4", "pq")


def capacity(n):
    return (n + 64 + PAGE - 1) // PAGE * PAGE


def ty(shape, elem):
    return "tensor<" + "x".join(map(str, shape)) + "x" + elem + ">"


def contexts(kind):
    if kind == "pq":
        return PQ_CONTEXTS
    return KV_CONTEXTS if kind in ("contiguous", "paged") else QUANT_CONTEXTS


def source(kind, n):
    """The kernel of one case in the attn dialect."""
    c = capacity(n)
    q, lens = ty((B, HQ, 1, D), "bf16"), ty((B,), "i32")
    name = f"{kind}_{n}"
    if kind == "contiguous":
        kv = ty((B, HKV, c, D), "bf16")
        return (f"func.func @{name}(%q: {q}, %k: {kv}, %v: {kv}, %n: {lens}) -> {q} {{\n"
                f"  %o = attn.attention %q, %k, %v kv_lens(%n : {lens}) : {q}, {kv}, {kv} -> {q}\n"
                f"  return %o : {q}\n}}\n")
    if kind == "paged":
        pool, table = ty((B * c // PAGE, HKV, PAGE, D), "bf16"), ty((B, c // PAGE), "i32")
        return (f"func.func @{name}(%q: {q}, %k: {pool}, %v: {pool}, %n: {lens}, %t: {table}) -> {q} {{\n"
                f"  %o = attn.attention %q, %k, %v kv_lens(%n : {lens}) block_table(%t : {table})"
                f" : {q}, {pool}, {pool} -> {q}\n  return %o : {q}\n}}\n")
    if kind == "pq":
        codes, cb = ty((B, HKV, c, PQ_M), "i8"), ty((HKV, PQ_M, PQ_KC, D // PQ_M), "f32")
        v = ty((B, HKV, c, D), "bf16")
        return (f"func.func @{name}(%q: {q}, %c: {codes}, %cb: {cb}, %v: {v}, %n: {lens}) -> {q} {{\n"
                f"  %o = attn.pq_attention %q, %c, %cb, %v kv_lens(%n : {lens}) : {q}, {codes}, {cb}, {v} -> {q}\n"
                f"  return %o : {q}\n}}\n")
    bits = 8 if kind == "int8" else 4
    width = D if bits == 8 else D // 2
    codes, ks = ty((B, HKV, c, width), "i8"), ty((B, HKV, c // GROUP, D), "f32")
    vs, res = ty((B, HKV, c, D // GROUP), "f32"), ty((B, HKV, GROUP, D), "bf16")
    lse, outs, lses = ty((B, HQ, 1), "f32"), ty((2, B, HQ, 1, D), "bf16"), ty((2, B, HQ, 1), "f32")
    return (
        f"func.func @{name}(%q: {q}, %kc: {codes}, %ks: {ks}, %vc: {codes}, %vs: {vs}, "
        f"%qn: {lens}, %rk: {res}, %rv: {res}, %rn: {lens}) -> {q} {{\n"
        f"  %o0, %l0 = attn.quant_attention %q, key(%kc, %ks : {codes}, {ks}) value(%vc, %vs : {codes}, {vs})"
        f" kv_lens(%qn : {lens}) {{bits = {bits} : i64, group_size = {GROUP} : i64}} : {q} -> {q}, {lse}\n"
        f"  %o1, %l1 = attn.attention %q, %rk, %rv kv_lens(%rn : {lens}) : {q}, {res}, {res} -> {q}, {lse}\n"
        f"  %eo = tensor.empty() : {outs}\n  %el = tensor.empty() : {lses}\n"
        f"  %a = tensor.insert_slice %o0 into %eo[0, 0, 0, 0, 0] [1, {B}, {HQ}, 1, {D}] [1, 1, 1, 1, 1] : {q} into {outs}\n"
        f"  %b = tensor.insert_slice %o1 into %a[1, 0, 0, 0, 0] [1, {B}, {HQ}, 1, {D}] [1, 1, 1, 1, 1] : {q} into {outs}\n"
        f"  %c = tensor.insert_slice %l0 into %el[0, 0, 0, 0] [1, {B}, {HQ}, 1] [1, 1, 1, 1] : {lse} into {lses}\n"
        f"  %d = tensor.insert_slice %l1 into %c[1, 0, 0, 0] [1, {B}, {HQ}, 1] [1, 1, 1, 1] : {lse} into {lses}\n"
        f"  %o, %l = attn.merge %b, %d : {outs}, {lses} -> {q}, {lse}\n  return %o : {q}\n}}\n")


RECURRENT = ("linear", "gated_deltanet", "kda", "loglinear", "loglinear_gdn", "lolcats")
LOG_CONTEXTS = KV_CONTEXTS  # log-linear: the level count grows with the context
WINDOW = 64  # LoLCATs' sliding window


def levels(n):
    """Level states of a log-linear step at position n (and the steps after
    it): positions below 2^(levels - 1) keep exact Fenwick levels."""
    return (n + 64).bit_length() + 1


def recurrent_cases(kind):
    """(name, context) of each compiled recurrent kernel."""
    if kind.startswith("loglinear"):
        return [(f"{kind}_{n}", n) for n in LOG_CONTEXTS]
    return [(kind, 0)]


def recurrent_source(kind, n=0):
    t = ty((1, H_REC, 1, F_REC), "f32")
    g = ty((1, H_REC, 1), "f32")
    s = ty((1, H_REC, F_REC, F_REC), "f32")
    if kind == "linear":
        return (f"func.func @linear(%q: {t}, %k: {t}, %v: {t}, %g: {g}, %s: {s}) -> ({t}, {s}) {{\n"
                f"  %o, %s1 = attn.linear_attention scalar %q, %k, %v gate(%g : {g}) state(%s : {s})"
                f" : {t}, {t}, {t} -> {t}, state {s}\n  return %o, %s1 : {t}, {s}\n}}\n")
    if kind == "gated_deltanet":
        return (f"func.func @gated_deltanet(%q: {t}, %k: {t}, %v: {t}, %b: {g}, %g: {g}, %s: {s}) -> ({t}, {s}) {{\n"
                f"  %o, %s1 = attn.delta_rule gated %q, %k, %v, %b : {g} gate(%g : {g}) state(%s : {s})"
                f" {{l2norm}} : {t}, {t}, {t} -> {t}, state {s}\n  return %o, %s1 : {t}, {s}\n}}\n")
    if kind == "kda":
        return (f"func.func @kda(%q: {t}, %k: {t}, %v: {t}, %b: {g}, %g: {t}, %s: {s}) -> ({t}, {s}) {{\n"
                f"  %o, %s1 = attn.delta_rule kda %q, %k, %v, %b : {g} gate(%g : {t}) state(%s : {s})"
                f" {{l2norm}} : {t}, {t}, {t} -> {t}, state {s}\n  return %o, %s1 : {t}, {s}\n}}\n")
    if kind.startswith("loglinear"):
        nl = levels(n)
        lam = ty((1, H_REC, 1, nl), "f32")
        ls = ty((1, H_REC, nl, F_REC, F_REC), "f32")
        p = ty((1,), "i32")
        name = f"{kind}_{n}"
        if kind == "loglinear":
            return (f"func.func @{name}(%q: {t}, %k: {t}, %v: {t}, %lam: {lam}, %g: {g}, %s: {ls}, %p: {p}) -> ({t}, {ls}) {{\n"
                    f"  %o, %s1 = attn.log_linear mamba2 %q, %k, %v, %lam : {lam} gate(%g : {g}) state(%s : {ls})"
                    f" start(%p : {p}) : {t}, {t}, {t} -> {t}, state {ls}\n  return %o, %s1 : {t}, {ls}\n}}\n")
        return (f"func.func @{name}(%q: {t}, %k: {t}, %v: {t}, %lam: {lam}, %g: {g}, %b: {g}, %s: {ls}, %p: {p}) -> ({t}, {ls}) {{\n"
                f"  %o, %s1 = attn.log_linear gated_deltanet %q, %k, %v, %lam : {lam} gate(%g : {g}) beta(%b : {g})"
                f" state(%s : {ls}) start(%p : {p}) : {t}, {t}, {t} -> {t}, state {ls}\n"
                f"  return %o, %s1 : {t}, {ls}\n}}\n")
    # LoLCATs: the new token's features from its feature map, gamma per
    # head, the linear terms and the window ring.
    h, p, z = ty((H_REC,), "f32"), ty((1,), "i32"), ty((1, H_REC, F_REC), "f32")
    ring = ty((1, H_REC, WINDOW, F_REC), "f32")
    return (f"func.func @lolcats(%q: {t}, %k: {t}, %v: {t}, %fq: {t}, %fk: {t}, %g: {h}, %p: {p}, %s: {s}, "
            f"%z: {z}, %wk: {ring}, %wv: {ring}, %wf: {ring}) -> ({t}, {s}, {z}, {ring}, {ring}, {ring}) {{\n"
            f"  %o, %s1, %z1, %wk1, %wv1, %wf1 = attn.lolcats_decode %q, %k, %v features(%fq, %fk : {t})"
            f" gamma(%g : {h}) position(%p : {p}) state(%s, %z : {s}, {z})"
            f" window(%wk, %wv, %wf : {ring}, {ring}, {ring}) : {t}, {t}, {t} -> {t}\n"
            f"  return %o, %s1, %z1, %wk1, %wv1, %wf1 : {t}, {s}, {z}, {ring}, {ring}, {ring}\n}}\n")


def timed(fn, sync, reps):
    fn()
    sync()
    t0 = time.perf_counter()
    for _ in range(reps):
        fn()
    sync()
    return (time.perf_counter() - t0) / reps


def compare(run_attn, run_torch, sync, reps):
    """Median of 5 alternating rounds of `reps` back-to-back calls each."""
    a, t = [], []
    for _ in range(5):
        a.append(timed(run_attn, sync, reps))
        t.append(timed(run_torch, sync, reps))
    return sorted(a)[2], sorted(t)[2]


def recurrent_row(attn, torch, carry, kind, name, n, dev, sync):
    """One step of one sequence's recurrent state from attn.StateCache on
    the GPU beside the same step written in torch; position n (log-linear's
    carries; LoLCATs' ring slot and eviction)."""
    F = torch.nn.functional
    lib = attn.load(os.path.join(carry, "gpudecode", name, f"lib{name}.so"))
    hf = (1, H_REC, 1, F_REC)
    q, k, v = (torch.randn(*hf, device=dev) * 0.1 for _ in range(3))
    g = -torch.rand(1, H_REC, 1, device=dev) * 0.1
    beta = torch.rand(1, H_REC, 1, device=dev)
    o = torch.empty(*hf, device=dev)
    mat = (H_REC, F_REC, F_REC)
    if kind.startswith("loglinear"):
        nl = levels(n)
        shapes = [(1, H_REC, nl, F_REC, F_REC)]
    elif kind == "lolcats":
        ring = (1, H_REC, WINDOW, F_REC)
        shapes = [(1,) + mat, (1, H_REC, F_REC), ring, ring, ring]
    else:
        shapes = [(1,) + mat]
    cache = attn.StateCache(1, shapes, checkpoints=1, device="cuda")
    seq = cache.open()
    ins, outs = cache.begin(seq, 1)
    for t in ins:  # a non-zero state to start from
        t.copy_(torch.rand_like(t) * 0.1)
    pos = torch.tensor([n if kind.startswith("loglinear") else WINDOW + 5], dtype=torch.int32,
                       device=dev)
    p = int(pos[0])
    if kind == "kda":
        g = -torch.rand(*hf, device=dev) * 0.1
    if kind.startswith("loglinear"):
        lam = torch.rand(1, H_REC, 1, nl, device=dev) + 0.1
    if kind == "lolcats":
        fq, fk = (torch.rand(*hf, device=dev) + 0.05 for _ in range(2))
        gamma = torch.randn(H_REC, device=dev)

    if kind == "linear":
        args = (q, k, v, g, ins[0], o, outs[0])
    elif kind in ("gated_deltanet", "kda"):
        args = (q, k, v, beta, g, ins[0], o, outs[0])
    elif kind == "loglinear":
        args = (q, k, v, lam, g, ins[0], pos, o, outs[0])
    elif kind == "loglinear_gdn":
        args = (q, k, v, lam, g, beta, ins[0], pos, o, outs[0])
    else:
        args = (q, k, v, fq, fk, gamma, pos, *ins, o, *outs)

    def run_attn():
        lib.call(name, *args)

    q0, k0, v0 = q[0, :, 0], k[0, :, 0], v[0, :, 0]

    def run_torch():
        # The same step in torch, reading the same state buffers.
        if kind == "linear":
            s = ins[0][0] * torch.exp(g[0, :, 0])[:, None, None]
            return (q0[:, None, :] @ (s + k0[:, :, None] * v0[:, None, :]))[:, 0]
        if kind in ("gated_deltanet", "kda"):
            kk, qq = F.normalize(k0, dim=-1), F.normalize(q0, dim=-1)
            b = beta[0, :, 0, None, None]
            if kind == "kda":  # rows decayed before the erase
                s = ins[0][0] * torch.exp(g[0, :, 0])[:, :, None]
                pred = (kk[:, None, :] @ s)[:, 0]
                s1 = s + b * kk[:, :, None] * (v0 - pred)[:, None, :]
            else:
                a = torch.exp(g[0, :, 0])[:, None, None]
                s = ins[0][0]
                pred = (kk[:, None, :] @ s)[:, 0]
                s1 = a * (s - b * kk[:, :, None] * pred[:, None, :]) + b * kk[:, :, None] * v0[:, None, :]
            return (qq[:, None, :] @ s1)[:, 0]
        if kind.startswith("loglinear"):
            c = 0 if p == 0 else min(((p ^ (p - 1)).bit_length()), nl - 1)
            s = ins[0][0].clone()
            if c > 0:
                s[:, c] += s[:, :c].sum(1)
                s[:, :c] = 0
            a = torch.exp(g[0, :, 0])[:, None, None, None]
            kv = k0[:, :, None] * v0[:, None, :]
            if kind == "loglinear":
                s = s * a
                s[:, 0] += kv
            else:
                b = beta[0, :, 0, None, None, None]
                pred = torch.einsum("hd,hlde->hle", k0, s)
                s = a * (s - b * k0[:, None, :, None] * pred[:, :, None, :])
                s[:, 0] += b[:, 0] * kv
            return torch.einsum("hl,hd,hlde->he", lam[0, :, 0], q0, s)
        # LoLCATs
        slot = p % WINDOW
        s, z = ins[0][0], ins[1][0]
        wk, wv, wf = (r[0].clone() for r in ins[2:])
        if p >= WINDOW:
            s = s + wf[:, slot, :, None] * wv[:, slot, None, :]
            z = z + wf[:, slot]
        wk[:, slot], wv[:, slot], wf[:, slot] = k0, v0, fk[0, :, 0]
        count = min(p + 1, WINDOW)
        sc = (wk[:, :count] @ q0[:, :, None])[:, :, 0] / F_REC ** 0.5
        w = torch.sigmoid(gamma)[:, None] * torch.exp(sc - sc.max(-1, keepdim=True).values)
        num = (w[:, None, :] @ wv[:, :count])[:, 0] + (fq[0, :, 0, None, :] @ s)[:, 0]
        den = w.sum(-1) + (fq[0, :, 0] * z).sum(-1)
        return num / den[:, None]

    run_attn()
    want = run_torch()
    got = o[0, :, 0]
    err = float((got - want).abs().max() / want.abs().max())
    attn_s, torch_s = compare(run_attn, run_torch, sync, 100 if kind.startswith("loglinear") else 200)
    cache.commit(seq)
    state_bytes = 2 * 4 * sum(int(torch.tensor(sh).prod()) for sh in shapes)
    row = {"cache": kind, "context": n, "batch": 1,
           "attn_us": attn_s * 1e6, "torch_us": torch_s * 1e6,
           "ratio_vs_torch": torch_s / attn_s,
           "attn_GBps": state_bytes / attn_s / 1e9,
           "tokens_per_s": 1 / attn_s, "append_us_per_step": 0.0,
           "MB_read_per_token": state_bytes / 1e6, "fill_s": 0.0,
           "max_rel_err_vs_torch": err}
    cache.close()
    lib.close()
    return row


def run(carry, only=None):
    """Rows of every kind (or of the kinds in `only`)."""
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
    import attn
    torch.manual_seed(0)
    dev = "cuda"
    sync = torch.cuda.synchronize
    rows = []

    def bf16(*shape):
        return torch.randn(*shape, device=dev).mul_(0.5).to(torch.bfloat16)

    for kind in KINDS:
        if only and kind not in only:
            continue
        for n in contexts(kind):
            name = f"{kind}_{n}"
            lib = attn.load(os.path.join(carry, "gpudecode", name, f"lib{name}.so"))
            c = capacity(n)
            if kind == "pq":
                books = torch.randn(HKV, PQ_M, PQ_KC, D // PQ_M) * 0.5
                cache = attn.PQCache(B, HKV, D, c, PQ_M, PQ_KC, books.numpy(), dtype="bf16",
                                     device="cuda")
            elif kind.startswith("int"):
                cache = attn.QuantCache(B, HKV, D, c, bits=8 if kind == "int8" else 4,
                                        group_size=GROUP, dtype="bf16", device="cuda")
            else:
                paged = kind == "paged"
                cache = attn.KVCache(B, HKV, D, c, dtype="bf16",
                                     page_size=PAGE if paged else 0,
                                     num_pages=B * c // PAGE if paged else 0, device="cuda")
            seqs = [cache.open() for _ in range(B)]
            t0 = time.perf_counter()
            for s in seqs:
                for start in range(0, n, 8192):
                    m = min(8192, n - start)
                    key = bf16(HKV, m, D).float() if kind == "pq" else bf16(HKV, m, D)
                    cache.append(s, key, bf16(HKV, m, D))
            sync()
            fill_s = time.perf_counter() - t0
            view = cache.view()
            q = bf16(B, HQ, 1, D)
            out = torch.empty_like(q)
            if kind == "contiguous":
                args = (q, view["key"], view["value"], view["lengths"], out)
                k_all, v_all = view["key"], view["value"]

                def run_torch():
                    return F.scaled_dot_product_attention(
                        q, k_all[:, :, :n], v_all[:, :, :n], enable_gqa=True)
                kv_bytes = 2 * B * HKV * n * D * 2
            elif kind == "paged":
                args = (q, view["key"], view["value"], view["lengths"], view["block_table"], out)
                pk, pv = view["key"], view["value"]
                used = view["block_table"][:, : (n + PAGE - 1) // PAGE].long()

                def run_torch():
                    k = pk[used].permute(0, 2, 1, 3, 4).reshape(B, HKV, -1, D)[:, :, :n]
                    v = pv[used].permute(0, 2, 1, 3, 4).reshape(B, HKV, -1, D)[:, :, :n]
                    return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
                kv_bytes = 2 * B * HKV * n * D * 2
            elif kind == "pq":
                args = (q, view["codes"], view["codebooks"], view["value"], view["lengths"], out)
                codes, cbk, vals = view["codes"], view["codebooks"], view["value"]
                heads = torch.arange(HKV, device=dev)[:, None, None]
                subs = torch.arange(PQ_M, device=dev)[None, None, :]

                def run_torch():
                    # Keys rebuilt from their centroids, then SDPA.
                    idx = codes[:, :, :n].long() & 255  # [B, H, n, m], unsigned
                    k = cbk[heads, subs, idx].reshape(B, HKV, n, D).to(torch.bfloat16)
                    return F.scaled_dot_product_attention(q, k, vals[:, :, :n], enable_gqa=True)
                kv_bytes = B * HKV * n * (PQ_M + D * 2)
            else:
                args = (q, view["key_codes"], view["key_scale"], view["value_codes"],
                        view["value_scale"], view["quantized_lengths"], view["residual_key"],
                        view["residual_value"], view["residual_lengths"], out)
                nq = int(view["quantized_lengths"][0])
                nr = int(view["residual_lengths"][0])
                kc, vc = view["key_codes"], view["value_codes"]
                ks, vs = view["key_scale"], view["value_scale"]
                rk, rv = view["residual_key"], view["residual_value"]
                four = kind == "int4"

                def unpack(codes):
                    if not four:
                        return codes.float()
                    lo = (codes << 4) >> 4  # sign-extended low nibble
                    hi = codes >> 4
                    return torch.stack((lo, hi), -1).flatten(-2).float()

                def run_torch():
                    k = unpack(kc[:, :, :nq]) * ks[:, :, : nq // GROUP].repeat_interleave(GROUP, 2)
                    v = unpack(vc[:, :, :nq]) * vs[:, :, :nq].repeat_interleave(GROUP, 3)
                    k = torch.cat([k.to(torch.bfloat16), rk[:, :, :nr]], 2)
                    v = torch.cat([v.to(torch.bfloat16), rv[:, :, :nr]], 2)
                    return F.scaled_dot_product_attention(q, k, v, enable_gqa=True)
                per = 1 if kind == "int8" else 0.5
                kv_bytes = int(2 * B * HKV * nq * (D * per + 4)) + B * HKV * nq // GROUP * D * 4 \
                    + 2 * B * HKV * nr * D * 2

            def run_attn():
                lib.call(name, *args)

            run_attn()
            want = run_torch().float()
            err = float((out.float() - want).abs().max() / want.abs().max())
            reps = 50 if n <= 16384 else 20
            attn_s, torch_s = compare(run_attn, run_torch, sync, reps)
            # One decode step's appends: a token for each sequence.
            k1, v1 = bf16(HKV, 1, D), bf16(HKV, 1, D)
            if kind == "pq":
                k1 = k1.float()
            steps = 10
            t0 = time.perf_counter()
            for _ in range(steps):
                for s in seqs:
                    cache.append(s, k1, v1)
            sync()
            append_s = (time.perf_counter() - t0) / steps
            rows.append({"cache": kind, "context": n, "batch": B,
                         "attn_us": attn_s * 1e6, "torch_us": torch_s * 1e6,
                         "ratio_vs_torch": torch_s / attn_s,
                         "attn_GBps": kv_bytes / attn_s / 1e9,
                         "tokens_per_s": B / (attn_s + append_s),
                         "append_us_per_step": append_s * 1e6,
                         "MB_read_per_token": kv_bytes / B / 1e6,
                         "fill_s": fill_s, "max_rel_err_vs_torch": err})
            print(json.dumps(rows[-1]), flush=True)
            del view, args
            cache.close()
            lib.close()
            torch.cuda.empty_cache()

    # Recurrent states: one sequence's step.
    for kind in RECURRENT:
        if only and kind not in only:
            continue
        for name, n in recurrent_cases(kind):
            rows.append(recurrent_row(attn, torch, carry, kind, name, n, dev, sync))
            print(json.dumps(rows[-1]), flush=True)
            torch.cuda.empty_cache()
    return rows


def main():
    if sys.argv[1] == "--emit":
        os.makedirs(sys.argv[2], exist_ok=True)
        for kind in KINDS:
            for n in contexts(kind):
                with open(os.path.join(sys.argv[2], f"{kind}_{n}.mlir"), "w") as f:
                    f.write(source(kind, n))
        for kind in RECURRENT:
            for name, n in recurrent_cases(kind):
                with open(os.path.join(sys.argv[2], f"{name}.mlir"), "w") as f:
                    f.write(recurrent_source(kind, n))
        return
    only = sys.argv[sys.argv.index("--kinds") + 1].split(",") if "--kinds" in sys.argv else None
    rows = run(sys.argv[1], only)
    print(f"{'cache':15} {'context':>8} {'B':>2} {'attn us':>9} {'torch us':>9} {'x torch':>8} "
          f"{'GB/s':>7} {'tok/s':>9} {'append us':>10} {'MB/token':>9} {'err':>8}")
    for r in rows:
        print(f"{r['cache']:15} {r['context']:8d} {r['batch']:2d} {r['attn_us']:9.1f} "
              f"{r['torch_us']:9.1f} {r['ratio_vs_torch']:8.2f} {r['attn_GBps']:7.0f} "
              f"{r['tokens_per_s']:9.0f} {r['append_us_per_step']:10.1f} "
              f"{r['MB_read_per_token']:9.2f} {r['max_rel_err_vs_torch']:8.1e}")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
