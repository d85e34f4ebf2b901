"""The linear-family GPU benchmark cases (prepare.sh compiles them; the
flash-linear-attention comparison, bench_linear.py, runs them): bf16 q/k/v
[B, H, T, K], f32 gates. Small enough that attn's generic GPU path (token
recurrences, docs/GpuPipeline.md) finishes in seconds."""

B, H, T, K = 1, 16, 1024, 128
SCALE = K ** -0.5

CASES = ["linear_none", "simple_gla", "gated_deltanet"]


def mlir(name):
    x = f"tensor<{B}x{H}x{T}x{K}xbf16>"
    g = f"tensor<{B}x{H}x{T}xf32>"
    if name == "linear_none":
        return (f"func.func @{name}(%q: {x}, %k: {x}, %v: {x}) -> {x} {{\n"
                f"  %o = attn.linear_attention none %q, %k, %v {{scale = {SCALE!r} : f64}}"
                f" : {x}, {x}, {x} -> {x}\n  return %o : {x}\n}}\n")
    if name == "simple_gla":
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
    for name in CASES:
        with open(os.path.join(sys.argv[1], name + ".mlir"), "w") as f:
            f.write(mlir(name))
