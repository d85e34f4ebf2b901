"""Drives the Python binding (python/attn) on a CPU kernel library: every
entry on the inputs attn-run saved, compared with the fp64 reference it
saved; then the errors a caller can make."""
import glob
import os
import sys

import numpy as np

import attn

out = sys.argv[1]
lib = attn.load(glob.glob(os.path.join(out, "lib*.so"))[0])
print("target", lib.target)


def as_arg(array, dtype):
    if dtype == "bf16":  # exact bf16 values saved as f32: keep the top half
        return (array.astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
    return array.astype({"f32": np.float32, "f16": np.float16}[dtype])


def as_f64(array, dtype):
    if dtype == "bf16":
        return (array.astype(np.uint32) << 16).view(np.float32).astype(np.float64)
    return array.astype(np.float64)


for name, entry in lib.entries.items():
    ins = [as_arg(np.load(os.path.join(out, "in", f"{name}.{a['name']}.npy")), a["dtype"])
           for a in entry.inputs]
    outs = entry(*ins)
    outs = outs if isinstance(outs, tuple) else (outs,)
    for a, o in zip(entry.outputs, outs):
        ref = np.load(os.path.join(out, "ref", f"{name}.{a['name']}.npy")).astype(np.float64)
        got = as_f64(o, a["dtype"])
        err = np.abs(got - ref).max() / np.abs(ref).max()
        tol = 1e-4 if a["dtype"] == "f32" else 1e-2
        print(name, a["name"], "PASS" if err <= tol else f"FAIL {err:.3e}")

entry = next(iter(lib.entries.values()))
good = [as_arg(np.load(os.path.join(out, "in", f"{entry.name}.{a['name']}.npy")), a["dtype"])
        for a in entry.inputs]
for label, args in [
        ("count", good[:-1]),
        ("shape", [good[0][..., :-1]] + good[1:]),
        ("dtype", [good[0].astype(np.float64)] + good[1:]),
        ("layout", [np.asfortranarray(good[0])] + good[1:])]:
    try:
        entry(*args)
        print(label, "accepted")
    except attn.AttnError as e:
        print(label, "error:", e)
