#!/usr/bin/env python3
"""GPU benchmark: attn's CUDA kernels (compiled on the build machine by
bench/gpu/prepare.sh) beside PyTorch's SDPA backends (cuDNN, FlashAttention-2)
and FlexAttention, on the same tensors in the same run.

    python3 bench/gpu/bench.py CARRY_DIR [--json FILE] [--no-flex] [--only A,B]

Per case: random bf16 inputs (never zeros), one correctness check of attn's
output against cuDNN's (max-norm relative error), then 5 rounds that time
every kernel in turn (median of 10 CUDA-event timings after warm-up); each
kernel's time is the median over the rounds. TFLOP/s counts
4 B Hq Lq Lk D (halved for causal; for a window, the visible pairs); decode
cases report GB/s of K and V read. Ratio = attn time / anchor time inverted
(> 1 means attn is faster). Paged cases: attn reads the page pools in place
through the page table; the anchors run on a contiguous copy of the same
cache contents (PyTorch's SDPA takes no page table), so they are the best
case for PyTorch.
"""

import argparse
import json
import os
import sys

import torch
import torch.nn.functional as F
from torch.nn.attention import SDPBackend, sdpa_kernel

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "python"))
sys.path.insert(0, here)
import attn  # noqa: E402
from cases import CASES  # noqa: E402


def median_ms(fn, warmup=3, reps=20):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    times.sort()
    return times[len(times) // 2]


def visible_pairs(lq, lk, causal, window):
    if not causal:
        return lq * lk
    total = 0
    for i in range(lq):
        hi = i + lk - lq
        lo = 0 if window is None else max(0, hi - window)
        total += max(0, hi - lo + 1)
    return total


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("carry")
    ap.add_argument("--json")
    ap.add_argument("--no-flex", action="store_true")
    ap.add_argument("--only", help="comma-separated case names")
    args = ap.parse_args()
    torch.manual_seed(0)
    rows = []
    flex = None
    if not args.no_flex:
        try:
            from torch.nn.attention.flex_attention import create_block_mask, flex_attention
            flex = (torch.compile(flex_attention), create_block_mask)
        except Exception as e:  # noqa: BLE001
            print("FlexAttention unavailable:", e)
    for name, (b, hq, hkv, lq, lk, d, causal, window, *page) in CASES.items():
        if args.only and name not in args.only.split(","):
            continue
        lib = attn.load(os.path.join(args.carry, "bench", name, f"lib{name}.so"))
        q = torch.randn(b, hq, lq, d, device="cuda", dtype=torch.bfloat16)
        out = torch.full((b, hq, lq, d), float("nan"), device="cuda", dtype=torch.bfloat16)
        if page:
            # Pools of pages in a random order; k, v: the same contents,
            # contiguous, for the anchors.
            ps = page[0]
            n_pages = lk // ps
            k_pool, v_pool = (torch.randn(b * n_pages, hkv, ps, d, device="cuda",
                                          dtype=torch.bfloat16) for _ in range(2))
            table = torch.randperm(b * n_pages, device="cuda").view(b, n_pages).int()
            lens = torch.full((b,), lk, device="cuda", dtype=torch.int32)
            k, v = (pool[table.long()].permute(0, 2, 1, 3, 4).reshape(b, hkv, lk, d)
                    .contiguous() for pool in (k_pool, v_pool))
            run_attn = lambda: lib.call(name, q, k_pool, v_pool, lens, table, out)  # noqa: E731
        else:
            k = torch.randn(b, hkv, lk, d, device="cuda", dtype=torch.bfloat16)
            v = torch.randn(b, hkv, lk, d, device="cuda", dtype=torch.bfloat16)
            run_attn = lambda: lib.call(name, q, k, v, out)  # noqa: E731
        gqa = hq != hkv
        mask = None
        if window is not None:
            i = torch.arange(lq, device="cuda")[:, None] + (lk - lq)
            j = torch.arange(lk, device="cuda")[None, :]
            mask = (j <= i) & (j >= i - window)

        def sdpa(backend):
            def f():
                with sdpa_kernel(backend):
                    return F.scaled_dot_product_attention(
                        q, k, v, attn_mask=mask, is_causal=causal and mask is None,
                        enable_gqa=gqa)
            return f

        anchors = {}
        for label, backend in (("cudnn", SDPBackend.CUDNN_ATTENTION),
                               ("fa2", SDPBackend.FLASH_ATTENTION)):
            if mask is not None:
                continue  # these backends take no arbitrary mask
            try:
                sdpa(backend)()
                anchors[label] = sdpa(backend)
            except RuntimeError as e:
                print(f"{name}: SDPA {label} unavailable: {str(e).splitlines()[0][:80]}")
        if flex and (window is not None or (causal and lq == lk and lq >= 16384)):
            fa, cbm = flex
            w = window

            def mod(bb, hh, qi, kj):
                vis = kj <= qi
                if w is not None:
                    vis = vis & (kj >= qi - w)
                return vis
            bm = cbm(mod, None, None, lq, lk, device="cuda")
            anchors["flex"] = lambda: fa(q, k, v, block_mask=bm, enable_gqa=gqa)

        if not anchors:
            print(f"{name}: skipped, no anchor in this run (FlexAttention off?)")
            lib.close()
            continue
        run_attn()
        torch.cuda.synchronize()
        ref_fn = anchors.get("cudnn") or anchors.get("fa2") or anchors.get("flex")
        ref = ref_fn().float()
        got = out.float()
        err = ((got - ref).abs().max() / ref.abs().max()).item()
        ok = bool(torch.isfinite(got).all()) and err < 2e-2
        # Rounds that alternate between the kernels, so drift of the shared
        # machine (clocks, neighbours) falls on all of them alike; the median
        # over rounds of each round's median.
        fns = {"attn": run_attn, **anchors}
        rounds = {label: [] for label in fns}
        for _ in range(5):
            for label, fn in fns.items():
                rounds[label].append(median_ms(fn, warmup=2, reps=10))
        times = {label: sorted(r)[len(r) // 2] for label, r in rounds.items()}
        t_attn = times.pop("attn")
        if lq == 1:
            gbytes = 2 * b * hkv * lk * d * 2 / 1e9
            metric = lambda ms: gbytes / (ms * 1e-3)  # noqa: E731
            unit = "GB/s"
        else:
            flops = 4 * b * hq * visible_pairs(lq, lk, causal, window) * d
            metric = lambda ms: flops / (ms * 1e-3) / 1e12  # noqa: E731
            unit = "TFLOP/s"
        row = {"case": name, "unit": unit, "check_vs": "cudnn" if "cudnn" in anchors else
               next(iter(anchors), "-"), "max_rel_err": err, "ok": ok,
               "attn_ms": t_attn, "attn": metric(t_attn)}
        for label, ms in times.items():
            row[label + "_ms"] = ms
            row[label] = metric(ms)
            row["ratio_vs_" + label] = ms / t_attn
        rows.append(row)
        lib.close()
        print(json.dumps(row), flush=True)

    labels = ["cudnn", "fa2", "flex"]
    print(f"\n{'case':24} {'unit':7} {'attn':>8} " +
          " ".join(f"{l:>8} {'x' + l:>8}" for l in labels) + "  err      check")
    for r in rows:
        cells = []
        for l in labels:
            if l in r:
                cells.append(f"{r[l]:8.1f} {r['ratio_vs_' + l]:8.2f}")
            else:
                cells.append(f"{'-':>8} {'-':>8}")
        print(f"{r['case']:24} {r['unit']:7} {r['attn']:8.1f} " + " ".join(cells) +
              f"  {r['max_rel_err']:.1e}  {'ok' if r['ok'] else 'FAIL'}")
    print(f"\n{torch.cuda.get_device_name()}, torch {torch.__version__}; x<anchor> = "
          "anchor time / attn time")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": torch.cuda.get_device_name(),
                       "torch": torch.__version__, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
