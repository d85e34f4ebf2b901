"""compare_npy.py A.npy B.npy TOL: prints 'agree' when max|a-b| / max|b| <= TOL
for two f32 .npy files of the same shape (stdlib only), else the error."""
import struct
import sys


def read(path):
    with open(path, "rb") as f:
        data = f.read()
    header_len = struct.unpack("<H", data[8:10])[0]
    header = data[10:10 + header_len].decode()
    assert "'<f4'" in header, header
    body = data[10 + header_len:]
    return header.split("'shape':")[1], struct.unpack("<%df" % (len(body) // 4), body)


shape_a, a = read(sys.argv[1])
shape_b, b = read(sys.argv[2])
if shape_a != shape_b:
    sys.exit("shapes differ: %s vs %s" % (shape_a, shape_b))
err = max(abs(x - y) for x, y in zip(a, b)) / max(abs(y) for y in b)
print("agree" if err <= float(sys.argv[3]) else "differ: %g" % err)
