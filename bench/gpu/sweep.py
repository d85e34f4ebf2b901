#!/usr/bin/env python3
"""GPU correctness sweep: runs every case that bench/gpu/prepare.sh compiled
(a CUDA kernel library, random inputs and the fp64 reference's outputs, both
written on the build machine) on the GPU through libattnrt and compares.

    python3 bench/gpu/sweep.py CASES_DIR [--json FILE] [--only NAME]

Each case runs in its own process, so a kernel fault (which leaves the CUDA
context unusable) fails that case alone.

Outputs start as NaN (floats) or a sentinel (integers), so an element the
kernel never writes fails. The error is max|out - ref| / max|ref| as in
attn-run --check; tolerance 1e-4 for f32 outputs, 1e-2 for f16/bf16, exact
for integers. Exit status 1 when any output fails.
"""

import argparse
import glob
import json
import os
import subprocess
import sys
import time

import numpy as np
import torch

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "..", "python"))
import attn  # noqa: E402

TOL = {"f32": 1e-4, "f16": 1e-2, "bf16": 1e-2}
TORCH = {"f32": torch.float32, "f16": torch.float16, "bf16": torch.bfloat16,
         "i32": torch.int32, "i8": torch.int8, "i1": torch.bool}


def rel_error(out, ref):
    if out.shape != ref.shape:
        return float("inf")
    out = out.astype(np.float64)
    ref = ref.astype(np.float64)
    special = ~np.isfinite(ref) | ~np.isfinite(out)
    if special.any():
        a, b = out[special], ref[special]
        if not np.array_equal(a, b, equal_nan=False) or np.isnan(a).any():
            return 1.0
    keep = ~special
    if not keep.any():
        return 0.0
    max_ref = np.abs(ref[keep]).max()
    diff = np.abs(out[keep] - ref[keep]).max()
    return diff / max_ref if max_ref > 0 else diff


def to_device(array, dtype):
    t = torch.from_numpy(np.ascontiguousarray(array))
    return t.to(TORCH[dtype]).cuda()


def poisoned(arg):
    shape = tuple(arg["shape"])
    dtype = TORCH[arg["dtype"]]
    if dtype.is_floating_point:
        return torch.full(shape, float("nan"), dtype=dtype, device="cuda")
    if dtype == torch.bool:
        return torch.ones(shape, dtype=dtype, device="cuda")
    return torch.full(shape, -123456789 if dtype == torch.int32 else -77,
                      dtype=dtype, device="cuda")


def run_case(case):
    """Rows of one case directory (in this process)."""
    rows = []
    name = os.path.basename(os.path.normpath(case))
    libs = glob.glob(os.path.join(case, "lib*.so"))
    if len(libs) != 1:
        return [(name, "-", "-", "-", "-", float("nan"), 0.0,
                 f"ERROR expected one kernel library, found {len(libs)}")]
    try:
        lib = attn.load(libs[0])
    except attn.AttnError as e:
        return [(name, "-", "-", "-", "-", float("nan"), 0.0, "ERROR " + str(e)[-90:])]
    for entry in lib.entries.values():
        try:
            ins = [to_device(np.load(os.path.join(case, "in", f"{entry.name}.{a['name']}.npy")),
                             a["dtype"]) for a in entry.inputs]
            outs = [poisoned(a) for a in entry.outputs]
            lib.call(entry.name, *ins, *outs)
            torch.cuda.synchronize()
            t0 = time.perf_counter()
            lib.call(entry.name, *ins, *outs)
            torch.cuda.synchronize()
            ms = (time.perf_counter() - t0) * 1e3
        except attn.AttnError as e:
            rows.append((name, entry.name, "-", "-", "-", float("nan"), 0.0,
                         "ERROR " + str(e)[-90:]))
            return rows
        for a, o in zip(entry.outputs, outs):
            ref = np.load(os.path.join(case, "ref", f"{entry.name}.{a['name']}.npy"))
            got = o.float().cpu().numpy() if o.dtype.is_floating_point else o.cpu().numpy()
            err = rel_error(got, ref)
            ok = err <= TOL.get(a["dtype"], 0.0)
            rows.append((name, entry.name, a["name"], "x".join(map(str, a["shape"])),
                         a["dtype"], float(err), ms, "PASS" if ok else "FAIL"))
    lib.close()
    return rows


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("cases")
    ap.add_argument("--json")
    ap.add_argument("--only", help="run this case in this process, print JSON rows")
    args = ap.parse_args()
    if args.only:
        print(json.dumps(run_case(os.path.join(args.cases, args.only))))
        return 0
    rows = []
    for case in sorted(glob.glob(os.path.join(args.cases, "*", ""))):
        name = os.path.basename(os.path.normpath(case))
        proc = subprocess.run([sys.executable, __file__, args.cases, "--only", name],
                              capture_output=True, text=True, timeout=300)
        try:
            rows += [tuple(r) for r in json.loads(proc.stdout.strip().splitlines()[-1])]
        except (ValueError, IndexError):
            rows.append((name, "-", "-", "-", "-", float("nan"), 0.0,
                         f"ERROR exit {proc.returncode}: {proc.stderr.strip()[-90:]}"))
    failures = sum(r[7] != "PASS" for r in rows)
    print(f"{'case':28} {'entry':26} {'output':8} {'shape':16} {'dtype':5} "
          f"{'max rel err':>11} {'ms':>9}  status")
    for r in rows:
        print(f"{r[0]:28} {r[1]:26} {r[2]:8} {r[3]:16} {r[4]:5} {r[5]:11.2e} "
              f"{r[6]:9.3f}  {r[7]}")
    print(f"\n{len(rows)} outputs on {torch.cuda.get_device_name()}, "
          f"{failures} failures")
    if args.json:
        with open(args.json, "w") as f:
            json.dump([dict(zip(["case", "entry", "output", "shape", "dtype",
                                 "max_rel_err", "ms", "status"], r)) for r in rows],
                      f, indent=1)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
