"""Driver of test/Tools/python-cache.mlir (see there)."""

import sys

import numpy as np

import attn

lib = attn.load(f"{sys.argv[1]}/libpycache.so")
rng = np.random.default_rng(3)


def bf16(x):
    """float32 -> bfloat16 bit patterns (round to nearest even)."""
    bits = x.astype(np.float32).view(np.uint32)
    return ((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16).astype(np.uint16)


def from_bf16(x):
    return (x.astype(np.uint32) << 16).view(np.float32).astype(np.float64)


def attention(q, k, v):
    """q [Hq, D], k/v [Hkv, n, D] float64 -> [Hq, D] (GQA, non-causal)."""
    g = q.shape[0] // k.shape[0]
    out = np.zeros((q.shape[0], v.shape[2]))
    for h in range(q.shape[0]):
        s = k[h // g] @ q[h] / np.sqrt(q.shape[1])
        p = np.exp(s - s.max())
        out[h] = p @ v[h // g] / p.sum()
    return out


cache = attn.KVCache(max_seqs=3, kv_heads=2, head_dim=32, capacity=64,
                     dtype="bf16", page_size=8, num_pages=24)
tokens = {}


def append(seq, n):
    k, v = (bf16(rng.uniform(-1, 1, (2, n, 32))) for _ in range(2))
    cache.append(seq, k, v)
    old = tokens.get(seq, (np.zeros((2, 0, 32)), np.zeros((2, 0, 32))))
    tokens[seq] = (np.concatenate([old[0], from_bf16(k)], 1),
                   np.concatenate([old[1], from_bf16(v)], 1))


a, b = cache.open(), cache.open()
append(a, 21)
append(b, 9)
c = cache.fork(a)
tokens[c] = tokens[a]
append(a, 5)
append(c, 3)
q = bf16(rng.uniform(-1, 1, (3, 4, 1, 32)))
view = cache.view()
out = lib.paged(q, view["key"], view["value"], view["lengths"], view["block_table"])
for seq in (a, b, c):
    want = attention(from_bf16(q[seq, :, 0]), *tokens[seq])
    err = np.abs(from_bf16(out[seq, :, 0]) - want).max() / np.abs(want).max()
    print(f"paged decode seq {seq}", "PASS" if err < 1e-2 else f"FAIL {err}")

# Errors raise AttnError with the runtime's message and change nothing.
append(b, 31)
try:
    append(b, 30)
except attn.AttnError as e:
    print("capacity error:", e)
print("length after failed append", cache.length(b))
try:
    cache.append(b, np.zeros((2, 3, 31), np.uint16), np.zeros((2, 3, 32), np.uint16))
except attn.AttnError as e:
    print("shape error:", e)

quant = attn.QuantCache(max_seqs=3, kv_heads=2, head_dim=32, capacity=64,
                        bits=8, group_size=16)
s = quant.open()
k, v = (rng.uniform(-1, 1, (2, 21, 32)).astype(np.float32) for _ in range(2))
quant.append(s, k, v)
qv = quant.view()
print("quant view key_codes", qv["key_codes"].shape, "key_scale", qv["key_scale"].shape,
      "residual", qv["residual_lengths"][s], "quantized", qv["quantized_lengths"][s])
qq = rng.uniform(-1, 1, (3, 4, 1, 32)).astype(np.float32)
qout = lib.quant(qq, qv["key_codes"], qv["key_scale"], qv["value_codes"],
                 qv["value_scale"], qv["quantized_lengths"])
# The quantised prefix (16 tokens) dequantised here: per-channel key scales
# over groups of 16 tokens, per-token value scales over 16 channels.
deq_k = qv["key_codes"][s, :, :16].astype(np.float64) * qv["key_scale"][s, :, :1]
deq_v = qv["value_codes"][s, :, :16].astype(np.float64) * np.repeat(
    qv["value_scale"][s, :, :16], 16, axis=2)
want = attention(qq[s, :, 0].astype(np.float64), deq_k, deq_v)
err = np.abs(qout[s, :, 0] - want).max() / np.abs(want).max()
print("quant decode", "PASS" if err < 1e-4 else f"FAIL {err}")

# Linear attention through a StateCache: S += k v^T, out = (0.5 q)^T S.
states = attn.StateCache(max_seqs=2, shapes=[(1, 2, 16, 8)], checkpoints=2)
seq = states.open()
S = np.zeros((2, 16, 8))
history = []


def step(i):
    global S
    q, k = (rng.uniform(-1, 1, (1, 2, 1, 16)).astype(np.float32) for _ in range(2))
    v = rng.uniform(-1, 1, (1, 2, 1, 8)).astype(np.float32)
    current, following = states.begin(seq, 1)
    o = np.empty((1, 2, 1, 8), np.float32)
    lib.call("lin_step", q, k, v, current[0], o, following[0])
    states.commit(seq)
    history.append(S.copy())
    S = S + np.einsum("hd,he->hde", k[0, :, 0].astype(np.float64), v[0, :, 0])
    want = np.einsum("hd,hde->he", 0.5 * q[0, :, 0].astype(np.float64), S)
    err = np.abs(o[0, :, 0] - want).max() / np.abs(want).max()
    print(f"state step {i}", "PASS" if err < 1e-5 else f"FAIL {err}")


for i in range(3):
    step(i)
states.truncate(seq, 2)  # back one step: the checkpoint before step 2
S = history[2]
ok = np.abs(states.read(seq, 0)[0] - S).max() < 1e-6
print("state rollback", "PASS" if ok else "FAIL")
step(3)
states.begin(seq, 1)
try:
    states.begin(seq, 1)
except attn.AttnError as e:
    print("state error:", e)
states.abort(seq)

# PQ key caches (256 centroids, f32 values; 16 centroids, two codes a byte,
# bf16 values): codes checked against a NumPy nearest-centroid encoding,
# filled to the capacity by single tokens after a prefill, read by a
# compiled attn.pq_attention through the view.


def nonzero(shape):
    return rng.uniform(0.1, 1, shape) * rng.choice([-1, 1], shape)


def pq_encode(key, book):
    """key [H, n, D], book [H, m, Kc, D/m] -> codes [H, n, m]: squared
    distance in float64, ties to the lower index (np.argmin's first)."""
    h, n, _ = key.shape
    x = key.astype(np.float64).reshape(h, n, book.shape[1], 1, book.shape[3])
    d = ((x - book.astype(np.float64)[:, None]) ** 2).sum(-1)
    return d.argmin(-1)


for kc, dt in ((256, "f32"), (16, "bf16")):
    m, sub, cap = 8, 4, 24
    book = nonzero((2, m, kc, sub)).astype(np.float32)
    book[:, :, 0] = 100  # never nearest: a code 0 would be a missed write
    book[:, :, kc // 2:] = book[:, :, :kc // 2]  # every nearest centroid ties
    pq = attn.PQCache(max_seqs=3, kv_heads=2, head_dim=32, capacity=cap,
                      subspaces=m, centroids=kc, codebooks=book, value_dim=16,
                      dtype=dt)
    given, book[:] = book.copy(), 0  # the cache holds its own copy
    book = pq.view()["codebooks"]
    vtype = np.uint16 if dt == "bf16" else np.float32
    hist = {}

    def pq_append(seq, n, key=None):
        if key is None:
            key = nonzero((2, n, 32)).astype(np.float32)
        v = nonzero((2, n, 16)).astype(np.float32)
        v = bf16(v) if dt == "bf16" else v
        pq.append(seq, key, v)
        old = hist.get(seq, (np.zeros((2, 0, m), int), np.zeros((2, 0, 16), v.dtype)))
        hist[seq] = (np.concatenate([old[0], pq_encode(key, book)], 1),
                     np.concatenate([old[1], v], 1))

    def pq_check(what):
        view = pq.view()
        codes = view["codes"].view(np.uint8)
        if kc == 16:  # low nibble first
            codes = np.stack([codes & 15, codes >> 4], -1).reshape(3, 2, cap, m)
        ok = np.array_equal(view["codebooks"], given)
        for s, (c, v) in hist.items():
            n = c.shape[1]
            ok &= view["lengths"][s] == pq.length(s) == n and (c != 0).all()
            ok &= np.array_equal(codes[s, :, :n], c)
            ok &= np.array_equal(view["value"][s, :, :n], v)
        print(f"pq{kc} {what}", "PASS" if ok else "FAIL")

    a, b = pq.open(), pq.open()
    pq_append(a, 13)  # prefill
    pq_append(b, 5)
    c = pq.fork(a)
    hist[c] = hist[a]
    for _ in range(cap - 13):  # single tokens up to the capacity
        pq_append(a, 1)
    pq_append(c, 1)
    pq_check("append fork")
    pq.truncate(c, 9)
    hist[c] = tuple(x[:, :9] for x in hist[c])
    pq_append(c, 2)
    pq_check("truncate")

    view = pq.view()
    q = nonzero((3, 4, 1, 32)).astype(np.float32)
    q = bf16(q) if dt == "bf16" else q
    out = getattr(lib, f"pq{kc}")(q, view["codes"], view["codebooks"],
                                  view["value"], view["lengths"])
    f64 = from_bf16 if dt == "bf16" else lambda x: x.astype(np.float64)
    for s in (a, b, c):
        codes, v = hist[s]
        # Decoded keys: centroid codes[h, t, j] of sub-space j, concatenated.
        k = np.stack([book[h, np.arange(m), codes[h]].reshape(-1, 32)
                      for h in range(2)])
        want = attention(f64(q[s, :, 0]), k.astype(np.float64), f64(v))
        err = np.abs(f64(out[s, :, 0]) - want).max() / np.abs(want).max()
        tol = 1e-2 if dt == "bf16" else 1e-5
        print(f"pq{kc} decode seq {s}", "PASS" if err < tol else f"FAIL {err}")

    # Refused calls raise and change nothing: past the capacity, a non-finite
    # key in the last token, a float16 key, codebooks of the wrong shape.
    before = {k: x.copy() for k, x in pq.view().items()}
    bad = nonzero((2, 3, 32)).astype(np.float32)
    bad[1, 2, 7] = np.nan
    for what, call in (
            ("capacity", lambda: pq_append(a, 1)),
            ("non-finite", lambda: pq_append(b, 3, bad)),
            ("dtype", lambda: pq.append(b, np.ones((2, 1, 32), np.float16),
                                        np.ones((2, 1, 16), vtype))),
            ("codebooks", lambda: attn.PQCache(3, 2, 32, cap, m, kc,
                                               np.ones((2, m, kc, 2), np.float32)))):
        try:
            call()
            print(f"pq{kc} {what} error: none")
        except attn.AttnError as e:
            print(f"pq{kc} {what} error:", e)
    after = pq.view()
    print(f"pq{kc} unchanged", "PASS" if all(
        np.array_equal(before[k], after[k]) for k in before) else "FAIL")
    mem = pq.memory()
    row = (m if kc == 256 else m // 2) + 16 * (4 if dt == "f32" else 2)
    print(f"pq{kc} memory", "PASS" if mem["free_pages"] == -1 and mem["used_bytes"]
          == sum(pq.length(s) for s in (a, b, c)) * 2 * row else f"FAIL {mem}")
    pq.release(c)
    print(f"pq{kc} released length", pq.view()["lengths"][c])
    pq.close()

# Where a cache lives: an unknown device is refused by the binding; "cuda"
# needs a driver and a device (the runtime's message when there is none).
try:
    attn.KVCache(1, 2, 32, 64, device="tpu")
    print("device error: none")
except attn.AttnError as e:
    print("device error:", e)
try:
    attn.StateCache(1, [(4, 4)], device="cuda").close()
    print("cuda state cache: created")
except attn.AttnError as e:
    print("cuda state cache:", "UNAVAILABLE" if "CUDA driver" in str(e) else e)
