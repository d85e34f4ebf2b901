"""The GPU benchmark cases (shared by prepare.sh, which compiles them, and
bench.py, which runs them): shapes of ../shared/ANCHORS.md, bf16."""

# name: (B, Hq, Hkv, Lq, Lk, D, causal, window_left or None[, page size])
# With a page size the kernel reads a paged cache in place: K/V are pools
# [B * Lk / page, Hkv, page, D] addressed through a page table [B, Lk / page]
# with key counts [B] (the layout of runtime/include/attnrt_cache.h).
CASES = {
    "mha_d128_l4k": (4, 16, 16, 4096, 4096, 128, False, None),
    "mha_d128_l4k_causal": (4, 16, 16, 4096, 4096, 128, True, None),
    "mha_d128_l16k": (1, 16, 16, 16384, 16384, 128, False, None),
    "mha_d128_l16k_causal": (1, 16, 16, 16384, 16384, 128, True, None),
    "mha_d64_l16k": (1, 32, 32, 16384, 16384, 64, False, None),
    "gqa_d128_l4k_causal": (4, 32, 8, 4096, 4096, 128, True, None),
    "window1024_d128_l16k": (1, 16, 16, 16384, 16384, 128, True, 1023),
    "decode_gqa_d128_4k": (8, 32, 8, 1, 4096, 128, False, None),
    "decode_gqa_d128_32k": (8, 32, 8, 1, 32768, 128, False, None),
    "decode_paged16_d128_32k": (8, 32, 8, 1, 32768, 128, False, None, 16),
}


def mlir(name):
    b, hq, hkv, lq, lk, d, causal, window, *page = CASES[name]
    attrs = []
    if causal:
        attrs.append("causal")
    if window is not None:
        attrs.append(f"window = array<i64: {window}, 0>")
    attr = (" {" + ", ".join(attrs) + "}") if attrs else ""
    q = f"tensor<{b}x{hq}x{lq}x{d}xbf16>"
    if page:
        ps = page[0]
        pool = f"tensor<{b * lk // ps}x{hkv}x{ps}x{d}xbf16>"
        lens, table = f"tensor<{b}xi32>", f"tensor<{b}x{lk // ps}xi32>"
        return (f"func.func @{name}(%q: {q}, %k: {pool}, %v: {pool}, %n: {lens},"
                f" %t: {table}) -> {q} {{\n"
                f"  %o = attn.attention %q, %k, %v kv_lens(%n : {lens})"
                f" block_table(%t : {table}){attr} : {q}, {pool}, {pool} -> {q}\n"
                f"  return %o : {q}\n}}\n")
    kv = f"tensor<{b}x{hkv}x{lk}x{d}xbf16>"
    return (f"func.func @{name}(%q: {q}, %k: {kv}, %v: {kv}) -> {q} {{\n"
            f"  %o = attn.attention %q, %k, %v{attr} : {q}, {kv}, {kv} -> {q}\n"
            f"  return %o : {q}\n}}\n")


if __name__ == "__main__":
    import os
    import sys
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name in CASES:
        with open(os.path.join(out, name + ".mlir"), "w") as f:
            f.write(mlir(name))
