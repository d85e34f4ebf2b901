"""The linear-family GPU benchmark cases (prepare.sh compiles them; the
flash-linear-attention comparison, bench_linear.py, runs them): bf16 q/k/v
[B, H, T, K], f32 gates, K = V = 128. A case is (name, family, B, H, T);
names carry the shape."""

K = 128
SCALE = K ** -0.5

FAMILIES = ["linear_none", "simple_gla", "gated_deltanet", "gla", "kda"]
SHAPES = [(1, 16, 1024), (4, 16, 4096)]
CASES = [(f"{fam}_b{b}_t{t}", fam, b, h, t) for (b, h, t) in SHAPES for fam in FAMILIES]


def mlir(name, family, b, h, t):
    x = f"tensor<{b}x{h}x{t}x{K}xbf16>"
    g = f"tensor<{b}x{h}x{t}xf32>"
    gk = f"tensor<{b}x{h}x{t}x{K}xf32>"  # per-channel log decays
    if family == "gla":
        return (f"func.func @{name}(%q: {x}, %k: {x}, %v: {x}, %g: {gk}) -> {x} {{\n"
                f"  %o = attn.linear_attention vector %q, %k, %v gate(%g : {gk})"
                f" {{scale = {SCALE!r} : f64}} : {x}, {x}, {x} -> {x}\n"
                f"  return %o : {x}\n}}\n")
    if family == "kda":
        return (f"func.func @{name}(%q: {x}, %k: {x}, %v: {x}, %beta: {g}, %g: {gk}) -> {x} {{\n"
                f"  %o = attn.delta_rule kda %q, %k, %v, %beta : {g} gate(%g : {gk})"
                f" {{l2norm, scale = {SCALE!r} : f64}} : {x}, {x}, {x} -> {x}\n"
                f"  return %o : {x}\n}}\n")
    if family == "linear_none":
        return (f"func.func @{name}(%q: {x}, %k: {x}, %v: {x}) -> {x} {{\n"
                f"  %o = attn.linear_attention none %q, %k, %v {{scale = {SCALE!r} : f64}}"
                f" : {x}, {x}, {x} -> {x}\n  return %o : {x}\n}}\n")
    if family == "simple_gla":
        return (f"func.func @{name}(%q: {x}, %k: {x}, %v: {x}, %g: {g}) -> {x} {{\n"
                f"  %o = attn.linear_attention scalar %q, %k, %v gate(%g : {g})"
                f" {{scale = {SCALE!r} : f64}} : {x}, {x}, {x} -> {x}\n"
                f"  return %o : {x}\n}}\n")
    return (f"func.func @{name}(%q: {x}, %k: {x}, %v: {x}, %beta: {g}, %g: {g}) -> {x} {{\n"
            f"  %o = attn.delta_rule gated %q, %k, %v, %beta : {g} gate(%g : {g})"
            f" {{l2norm, scale = {SCALE!r} : f64}} : {x}, {x}, {x} -> {x}\n"
            f"  return %o : {x}\n}}\n")


if __name__ == "__main__":
    import os
    import sys
    os.makedirs(sys.argv[1], exist_ok=True)
    for case in CASES:
        with open(os.path.join(sys.argv[1], case[0] + ".mlir"), "w") as f:
            f.write(mlir(*case))
