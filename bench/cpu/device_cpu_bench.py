#!/usr/bin/env python3
"""attn's CPU kernels beside PyTorch's CPU attention on the GPU machine's
16-core CPU (the like-for-like ratio of ../shared/ANCHORS.md).

    python3 bench/cpu/device_cpu_bench.py CARRY_DIR [--json FILE]

The kernels were compiled on the build machine (bench/gpu/prepare.sh puts
them in CARRY_DIR/cpu/NAME/); libomp travels in CARRY_DIR/lib. Each thread
count runs in its own process (OMP_NUM_THREADS is read once). f32,
B=1 H=16 L=4096 D=128; GFLOP/s = 4 B H L^2 D / t (halved for causal).
"""

import json
import os
import subprocess
import sys
import time

CASES = {"cpu_l4k": False, "cpu_l4k_causal": True}
B, H, L, D = 1, 16, 4096, 128


def child(carry, threads):
    import numpy as np
    import torch
    import torch.nn.functional as F
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
    import attn
    torch.set_num_threads(threads)
    rng = np.random.default_rng(0)
    rows = []
    for name, causal in CASES.items():
        lib = attn.load(os.path.join(carry, "cpu", name, f"lib{name}.so"))
        q, k, v = (rng.standard_normal((B, H, L, D), dtype=np.float32) for _ in range(3))
        out = np.full((B, H, L, D), np.nan, dtype=np.float32)
        tq, tk, tv = (torch.from_numpy(x) for x in (q, k, v))

        def run_attn():
            lib.call(name, q, k, v, out)

        def run_torch():
            return F.scaled_dot_product_attention(tq, tk, tv, is_causal=causal)

        run_attn()
        ref = run_torch().numpy()
        err = float(np.abs(out - ref).max() / np.abs(ref).max())
        times = {"attn": [], "torch": []}
        for _ in range(3):  # alternate, as on the GPU
            for label, fn in (("attn", run_attn), ("torch", run_torch)):
                fn()
                reps = []
                for _ in range(3):
                    t0 = time.perf_counter()
                    fn()
                    reps.append(time.perf_counter() - t0)
                times[label].append(sorted(reps)[1])
        flops = 4 * B * H * L * L * D / (2 if causal else 1)
        med = {k: sorted(v)[1] for k, v in times.items()}
        rows.append({"case": name, "threads": threads, "max_rel_err_vs_torch": err,
                     "attn_gflops": flops / med["attn"] / 1e9,
                     "torch_gflops": flops / med["torch"] / 1e9,
                     "ratio_vs_torch": med["torch"] / med["attn"]})
        lib.close()
    print(json.dumps(rows))


def main():
    carry = sys.argv[1]
    if len(sys.argv) > 2 and sys.argv[2] == "--child":
        child(carry, int(sys.argv[3]))
        return
    rows = []
    for threads in (1, 16):
        env = dict(os.environ, OMP_NUM_THREADS=str(threads))
        env["LD_LIBRARY_PATH"] = os.path.join(carry, "lib") + ":" + env.get("LD_LIBRARY_PATH", "")
        proc = subprocess.run([sys.executable, __file__, carry, "--child", str(threads)],
                              env=env, capture_output=True, text=True, timeout=600)
        if proc.returncode:
            print(proc.stderr[-2000:])
            sys.exit(1)
        rows += json.loads(proc.stdout.strip().splitlines()[-1])
    print(f"{'case':16} {'threads':>7} {'attn GFLOP/s':>13} {'torch GFLOP/s':>14} "
          f"{'x torch':>8} {'err vs torch':>13}")
    for r in rows:
        print(f"{r['case']:16} {r['threads']:7d} {r['attn_gflops']:13.1f} "
              f"{r['torch_gflops']:14.1f} {r['ratio_vs_torch']:8.2f} "
              f"{r['max_rel_err_vs_torch']:13.1e}")
    if "--json" in sys.argv:
        with open(sys.argv[sys.argv.index("--json") + 1], "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
