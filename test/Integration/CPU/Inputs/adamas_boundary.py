"""Writes query.npy and key.npy (f32) for adamas_select.mlir's boundary case.

Keys and queries are given in the transformed space (k' = H k / sqrt(D),
D = 4) with dyadic values, so every transform is exact and the 2-bit levels
are known: with s = max|k'| / 1.5 = 2, key 1 has k' = (3, 2, -2, 0), whose
last three values sit exactly on level boundaries (x / s = 1, -1, 0) and must
round up, to kq = (3, 3, -1, 1). Key 0 is what key 1 would quantise to if the
boundaries rounded down, kq = (3, 1, -3, -1); key 3 is zero (s = 0).
Query 0 is kq of key 1, so it picks key 1 first only if the boundaries round
up; otherwise keys 0 and 1 tie and the lower index, 0, comes first.
Usage: adamas_boundary.py OUTDIR
"""
import struct
import sys

HADAMARD = [[1, 1, 1, 1], [1, -1, 1, -1], [1, 1, -1, -1], [1, -1, -1, 1]]


def untransform(xt):
    # (H / 2) is its own inverse for D = 4.
    return [sum(h * x for h, x in zip(row, xt)) / 2 for row in HADAMARD]


def write_npy(path, shape, values):
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (%s), }" % (
        ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else ""))
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)))
        f.write(header.encode("latin1"))
        f.write(struct.pack("<%df" % len(values), *values))


keys = [(3, 1.25, -2.75, -0.5), (3, 2, -2, 0), (-3, 0.5, 0.5, 0.5), (0, 0, 0, 0)]
queries = [(3, 3, -1, 1), (0.25, 0.25, 0.25, 0.25)]
out = sys.argv[1]
write_npy(out + "/key.npy", [1, 1, 4, 4], [v for k in keys for v in untransform(k)])
write_npy(out + "/query.npy", [1, 1, 2, 4],
          [v for q in queries for v in untransform(q)])
