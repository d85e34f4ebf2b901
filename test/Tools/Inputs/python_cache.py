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
