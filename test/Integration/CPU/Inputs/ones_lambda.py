"""Writes q, k, v, g and an all-ones lambda for log-linear-equals-base.mlir."""
import random
import struct
import sys


def write(path, shape, values):
    text = "(" + ", ".join(map(str, shape)) + ")"
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': %s, }" % text
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%df" % len(values), *values))


rng = random.Random(42)
out = sys.argv[1]
uniform = lambda n, lo, hi: [rng.uniform(lo, hi) for _ in range(n)]
write(out + "/q.npy", (1, 2, 37, 16), uniform(2 * 37 * 16, -1, 1))
write(out + "/k.npy", (1, 2, 37, 16), uniform(2 * 37 * 16, -1, 1))
write(out + "/v.npy", (1, 2, 37, 24), uniform(2 * 37 * 24, -1, 1))
write(out + "/g.npy", (1, 2, 37), uniform(2 * 37, -0.5, -0.01))
write(out + "/lam.npy", (1, 2, 37, 7), [1.0] * (2 * 37 * 7))
