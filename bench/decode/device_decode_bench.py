#!/usr/bin/env python3
"""Decode through attn's runtime caches beside PyTorch's CPU
scaled_dot_product_attention on the same cache contents (the anchor of the
caches issue), on the GPU machine's 16-core CPU.

    python3 bench/decode/device_decode_bench.py --emit DIR   # here: kernel sources
    python3 bench/decode/device_decode_bench.py CARRY [--json FILE]   # there

The kernels are compiled on the build machine (bench/gpu/prepare.sh puts
them in CARRY/decode/NAME/); libomp travels in CARRY/lib. One decode step of
one sequence: Hq = 32, Hkv = 8, D = 128, bf16. The caches are filled through
attn.KVCache / attn.QuantCache; PyTorch reads the same arrays: a slice of
the contiguous cache, the pages gathered through the block table, the int8
codes dequantised (what a PyTorch user has without a fused kernel). Only the
attention is timed (appends are not), median of alternating rounds. libomp
is told not to spin (KMP_BLOCKTIME=0) so the two runtimes do not fight over
the cores.
"""

import json
import os
import subprocess
import sys
import time

HQ, HKV, D, PAGE, GROUP = 32, 8, 128, 64, 64
CONTEXTS = (1024, 4096, 16384, 32768)
KINDS = ("contiguous", "paged", "int8")


def capacity(n):
    return (n + 64 + PAGE - 1) // PAGE * PAGE


def ty(shape, elem):
    return "tensor<" + "x".join(map(str, shape)) + "x" + elem + ">"


def source(kind, n):
    """The kernel of one case in the attn dialect."""
    c = capacity(n)
    q, lens = ty((1, HQ, 1, D), "bf16"), ty((1,), "i32")
    name = f"{kind}_{n}"
    if kind == "contiguous":
        kv = ty((1, HKV, c, D), "bf16")
        return (f"func.func @{name}(%q: {q}, %k: {kv}, %v: {kv}, %n: {lens}) -> {q} {{\n"
                f"  %o = attn.attention %q, %k, %v kv_lens(%n : {lens}) : {q}, {kv}, {kv} -> {q}\n"
                f"  return %o : {q}\n}}\n")
    if kind == "paged":
        pool, table = ty((c // PAGE, HKV, PAGE, D), "bf16"), ty((1, c // PAGE), "i32")
        return (f"func.func @{name}(%q: {q}, %k: {pool}, %v: {pool}, %n: {lens}, %t: {table}) -> {q} {{\n"
                f"  %o = attn.attention %q, %k, %v kv_lens(%n : {lens}) block_table(%t : {table})"
                f" : {q}, {pool}, {pool} -> {q}\n  return %o : {q}\n}}\n")
    codes, ks = ty((1, HKV, c, D), "i8"), ty((1, HKV, c // GROUP, D), "f32")
    vs, res = ty((1, HKV, c, D // GROUP), "f32"), ty((1, HKV, GROUP, D), "bf16")
    lse, outs, lses = ty((1, HQ, 1), "f32"), ty((2, 1, HQ, 1, D), "bf16"), ty((2, 1, HQ, 1), "f32")
    return (
        f"func.func @{name}(%q: {q}, %kc: {codes}, %ks: {ks}, %vc: {codes}, %vs: {vs}, "
        f"%qn: {lens}, %rk: {res}, %rv: {res}, %rn: {lens}) -> {q} {{\n"
        f"  %o0, %l0 = attn.quant_attention %q, key(%kc, %ks : {codes}, {ks}) value(%vc, %vs : {codes}, {vs})"
        f" kv_lens(%qn : {lens}) {{bits = 8 : i64, group_size = {GROUP} : i64}} : {q} -> {q}, {lse}\n"
        f"  %o1, %l1 = attn.attention %q, %rk, %rv kv_lens(%rn : {lens}) : {q}, {res}, {res} -> {q}, {lse}\n"
        f"  %eo = tensor.empty() : {outs}\n  %el = tensor.empty() : {lses}\n"
        f"  %a = tensor.insert_slice %o0 into %eo[0, 0, 0, 0, 0] [1, 1, {HQ}, 1, {D}] [1, 1, 1, 1, 1] : {q} into {outs}\n"
        f"  %b = tensor.insert_slice %o1 into %a[1, 0, 0, 0, 0] [1, 1, {HQ}, 1, {D}] [1, 1, 1, 1, 1] : {q} into {outs}\n"
        f"  %c = tensor.insert_slice %l0 into %el[0, 0, 0, 0] [1, 1, {HQ}, 1] [1, 1, 1, 1] : {lse} into {lses}\n"
        f"  %d = tensor.insert_slice %l1 into %c[1, 0, 0, 0] [1, 1, {HQ}, 1] [1, 1, 1, 1] : {lse} into {lses}\n"
        f"  %o, %l = attn.merge %b, %d : {outs}, {lses} -> {q}, {lse}\n  return %o : {q}\n}}\n")


def median_time(fn, reps=10):
    fn()
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def child(carry, threads):
    import numpy as np
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
    import attn
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)

    def bf16(shape):
        bits = rng.uniform(-1, 1, shape).astype(np.float32).view(np.uint32)
        return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)

    def as_torch(arr):
        return torch.from_numpy(np.array(arr, copy=False)).view(torch.bfloat16) \
            if arr.dtype == np.uint16 else torch.from_numpy(np.array(arr, copy=False))

    rows = []
    for kind in KINDS:
        for n in CONTEXTS:
            name = f"{kind}_{n}"
            lib = attn.load(os.path.join(carry, "decode", name, f"lib{name}.so"))
            c = capacity(n)
            if kind == "int8":
                cache = attn.QuantCache(1, HKV, D, c, bits=8, group_size=GROUP, dtype="bf16")
            else:
                cache = attn.KVCache(1, HKV, D, c, dtype="bf16",
                                     page_size=PAGE if kind == "paged" else 0,
                                     num_pages=c // PAGE if kind == "paged" else 0)
            seq = cache.open()
            for start in range(0, n, 4096):
                m = min(4096, n - start)
                cache.append(seq, bf16((HKV, m, D)), bf16((HKV, m, D)))
            view = cache.view()
            q = bf16((1, HQ, 1, D))
            out = np.zeros((1, HQ, 1, D), np.uint16)
            tq = as_torch(q)
            if kind == "contiguous":
                args = (q, view["key"], view["value"], view["lengths"], out)
                tk, tv = as_torch(view["key"]), as_torch(view["value"])

                def run_torch():
                    return F.scaled_dot_product_attention(
                        tq, tk[:, :, :n], tv[:, :, :n], enable_gqa=True)
            elif kind == "paged":
                args = (q, view["key"], view["value"], view["lengths"],
                        view["block_table"], out)
                pk, pv = as_torch(view["key"]), as_torch(view["value"])
                table = torch.from_numpy(np.array(view["block_table"][0], copy=True)).long()
                used = table[: (n + PAGE - 1) // PAGE]

                def run_torch():
                    k = pk[used].permute(1, 0, 2, 3).reshape(1, HKV, -1, D)[:, :, :n]
                    v = pv[used].permute(1, 0, 2, 3).reshape(1, HKV, -1, D)[:, :, :n]
                    return F.scaled_dot_product_attention(tq, k, v, enable_gqa=True)
            else:
                args = (q, view["key_codes"], view["key_scale"], view["value_codes"],
                        view["value_scale"], view["quantized_lengths"], view["residual_key"],
                        view["residual_value"], view["residual_lengths"], out)
                nq, nr = int(view["quantized_lengths"][0]), int(view["residual_lengths"][0])
                kc, vc = (torch.from_numpy(np.array(view[x], copy=False)) for x in
                          ("key_codes", "value_codes"))
                ks, vs = (torch.from_numpy(np.array(view[x], copy=False)) for x in
                          ("key_scale", "value_scale"))
                rk, rv = as_torch(view["residual_key"]), as_torch(view["residual_value"])

                def run_torch():
                    k = kc[:, :, :nq].float() * ks[:, :, : nq // GROUP].repeat_interleave(GROUP, 2)
                    v = vc[:, :, :nq].float() * vs[:, :, :nq].repeat_interleave(GROUP, 3)
                    k = torch.cat([k.bfloat16(), rk[:, :, :nr]], 2)
                    v = torch.cat([v.bfloat16(), rv[:, :, :nr]], 2)
                    return F.scaled_dot_product_attention(tq, k, v, enable_gqa=True)

            def run_attn():
                lib.call(name, *args)

            run_attn()
            ref = run_torch().float().numpy()
            got = (out.astype(np.uint32) << 16).view(np.float32)
            err = float(np.abs(got - ref).max() / np.abs(ref).max())
            times = {"attn": [], "torch": []}
            for _ in range(3):
                times["attn"].append(median_time(run_attn))
                times["torch"].append(median_time(run_torch))
            med = {k: sorted(v)[1] for k, v in times.items()}
            rows.append({"cache": kind, "context": n, "threads": threads,
                         "attn_ms": med["attn"] * 1e3, "torch_ms": med["torch"] * 1e3,
                         "ratio_vs_torch": med["torch"] / med["attn"],
                         "max_rel_err_vs_torch": err})
            cache.close()
            lib.close()
    print(json.dumps(rows))


def main():
    if sys.argv[1] == "--emit":
        os.makedirs(sys.argv[2], exist_ok=True)
        for kind in KINDS:
            for n in CONTEXTS:
                with open(os.path.join(sys.argv[2], f"{kind}_{n}.mlir"), "w") as f:
                    f.write(source(kind, n))
        return
    carry = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--child":
        child(carry, int(sys.argv[3]))
        return
    rows = []
    for threads in (1, 16):
        # Both runtimes share the process: LLVM's libomp threads would spin
        # for 200 ms after each attn call and steal PyTorch's cores.
        env = dict(os.environ, OMP_NUM_THREADS=str(threads), KMP_BLOCKTIME="0")
        env["LD_LIBRARY_PATH"] = os.path.join(carry, "lib") + ":" + env.get("LD_LIBRARY_PATH", "")
        proc = subprocess.run([sys.executable, __file__, carry, "--child", str(threads)],
                              env=env, capture_output=True, text=True, timeout=900)
        if proc.returncode:
            print(proc.stderr[-3000:])
            sys.exit(1)
        rows += json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{'cache':11} {'context':>8} {'threads':>7} {'attn ms':>9} {'torch ms':>9} "
          f"{'x torch':>8} {'err vs torch':>13}")
    for r in rows:
        print(f"{r['cache']:11} {r['context']:8d} {r['threads']:7d} {r['attn_ms']:9.3f} "
              f"{r['torch_ms']:9.3f} {r['ratio_vs_torch']:8.2f} {r['max_rel_err_vs_torch']:13.1e}")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
