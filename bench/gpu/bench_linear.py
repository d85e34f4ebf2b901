#!/usr/bin/env python3
"""attn's linear-family GPU kernels beside flash-linear-attention (FLA) on
the same tensors: chunk_linear_attn (normalize=False), chunk_simple_gla,
chunk_gated_delta_rule (q/k L2-normalised in the kernel), chunk_gla
(per-channel decay) and chunk_kda (q/k L2-normalised in the kernel).

    PYTHONPATH=FLA_DIR python3 bench/gpu/bench_linear.py CARRY_DIR [--json F]

FLA is fetched from github (fla-org/flash-linear-attention) and its fla/
folder travels in the git-ignored carry directory; it is never committed.
Shapes: bench/gpu/linear_cases.py. attn's layout is [B, H, T, K], FLA's
[B, T, H, K]; the same values go to both. Error: max-norm relative, attn
against FLA. Times: medians of CUDA-event timings, attn and FLA alternated
over 5 rounds (median of the round medians)."""

import json
import os
import sys

import torch
import torch.nn.functional as F

here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(here, "..", "..", "python"))
sys.path.insert(0, here)
import attn  # noqa: E402
from bench import median_ms  # noqa: E402
from linear_cases import CASES, K, SCALE  # noqa: E402


def main():
    from fla.ops.gated_delta_rule import chunk_gated_delta_rule
    from fla.ops.gla import chunk_gla
    from fla.ops.kda import chunk_kda
    from fla.ops.linear_attn import chunk_linear_attn
    from fla.ops.simple_gla import chunk_simple_gla
    carry = sys.argv[1]
    torch.manual_seed(0)
    rows = []
    for name, family, B, H, T in CASES:
        lib = attn.load(os.path.join(carry, "linear", name, f"lib{name}.so"))
        q, k, v = (torch.randn(B, H, T, K, device="cuda", dtype=torch.bfloat16)
                   for _ in range(3))
        g = F.logsigmoid(torch.randn(B, H, T, device="cuda")) / 8  # log decay < 0
        gk = F.logsigmoid(torch.randn(B, H, T, K, device="cuda")) / 8  # per channel
        beta = torch.sigmoid(torch.randn(B, H, T, device="cuda"))
        out = torch.full((B, H, T, K), float("nan"), device="cuda", dtype=torch.bfloat16)
        tq, tk, tv = (x.transpose(1, 2).contiguous() for x in (q, k, v))
        tg, tb = g.transpose(1, 2).contiguous(), beta.transpose(1, 2).contiguous()
        tgk = gk.transpose(1, 2).contiguous()
        if family == "linear_none":
            ours = lambda: lib.call(name, q, k, v, out)  # noqa: E731
            fla = lambda: chunk_linear_attn(tq, tk, tv, scale=SCALE, normalize=False)[0]  # noqa: E731
        elif family == "simple_gla":
            ours = lambda: lib.call(name, q, k, v, g, out)  # noqa: E731
            fla = lambda: chunk_simple_gla(tq, tk, tv, g=tg, scale=SCALE)[0]  # noqa: E731
        elif family == "gla":
            ours = lambda: lib.call(name, q, k, v, gk, out)  # noqa: E731
            fla = lambda: chunk_gla(tq, tk, tv, g=tgk, scale=SCALE)[0]  # noqa: E731
        elif family == "kda":
            ours = lambda: lib.call(name, q, k, v, beta, gk, out)  # noqa: E731
            fla = lambda: chunk_kda(  # noqa: E731
                tq, tk, tv, g=tgk, beta=tb.to(torch.bfloat16), scale=SCALE,
                use_qk_l2norm_in_kernel=True)[0]
        else:
            ours = lambda: lib.call(name, q, k, v, beta, g, out)  # noqa: E731
            fla = lambda: chunk_gated_delta_rule(  # noqa: E731
                tq, tk, tv, g=tg, beta=tb.to(torch.bfloat16), scale=SCALE,
                use_qk_l2norm_in_kernel=True)[0]
        ours()
        ref = fla().transpose(1, 2).float()
        err = ((out.float() - ref).abs().max() / ref.abs().max()).item()
        rounds = [(median_ms(ours, warmup=1, reps=10), median_ms(fla, warmup=1, reps=10))
                  for _ in range(5)]
        t_ours = sorted(r[0] for r in rounds)[2]
        t_fla = sorted(r[1] for r in rounds)[2]
        row = {"case": name, "B": B, "H": H, "T": T, "K": K, "max_rel_err_vs_fla": err,
               "attn_ms": t_ours, "fla_ms": t_fla, "attn_over_fla_time": t_ours / t_fla}
        rows.append(row)
        print(json.dumps(row), flush=True)
        lib.close()
    print(f"\n{'case':28} {'attn ms':>9} {'FLA ms':>8} {'attn/FLA time':>14} {'err vs FLA':>11}")
    for r in rows:
        print(f"{r['case']:28} {r['attn_ms']:9.3f} {r['fla_ms']:8.3f} "
              f"{r['attn_over_fla_time']:14.2f} {r['max_rel_err_vs_fla']:11.1e}")
    print(f"\nK=V={K} bf16, {torch.cuda.get_device_name()}; attn: the chunkwise "
          "kernels (passes/Gpu/ChunkwiseMmaGpu.cpp on tensor cores where it "
          "applies, else passes/Gpu/ChunkwiseGpu.cpp)")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
