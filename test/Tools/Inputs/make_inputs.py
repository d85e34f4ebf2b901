"""Writes .npy inputs for attn-run.mlir without NumPy (stdlib only)."""
import struct
import sys


def write(path, descr, shape, values, fmt):
    shape_text = "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"
    header = "{'descr': '%s', 'fortran_order': False, 'shape': %s, }" % (descr, shape_text)
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    with open(path, "wb") as f:
        f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
        f.write(struct.pack("<%d%s" % (len(values), fmt), *values))


def ramp(n, seed):
    return [((i * 7919 + seed * 104729) % 2001) / 1000.0 - 1.0 + 1e-3 for i in range(n)]


out = sys.argv[1]
write(out + "/q.npy", "<f4", (1, 2, 3, 4), ramp(24, 1), "f")
write(out + "/k.npy", "<f4", (1, 2, 5, 4), ramp(40, 2), "f")
write(out + "/v.npy", "<f4", (1, 2, 5, 4), ramp(40, 3), "f")
write(out + "/bad_shape.npy", "<f4", (2, 3, 4), ramp(24, 4), "f")
write(out + "/bad_dtype.npy", "<i4", (1, 2, 3, 4), list(range(24)), "i")

# A header that promises 24 floats over 20 of data, and one with a junk shape.
write(out + "/truncated.npy", "<f4", (1, 2, 3, 4), ramp(20, 5), "f")
with open(out + "/bad_header.npy", "wb") as f:
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (1, -2, x, 4), }"
    header += " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode())
