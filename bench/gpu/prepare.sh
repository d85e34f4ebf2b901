#!/bin/sh
# Builds what the GPU machine needs (it has no LLVM) into .gpu-carry/, which
# git ignores and the device call carries:
#   .gpu-carry/lib/libattnrt.so    the runtime (mgpu* functions)
#   .gpu-carry/bin/                the runtime's GPU tests
#   .gpu-carry/cases/NAME/         per case: libNAME.so (CUDA kernels, cubin),
#                                  in/ENTRY.ARG.npy (random inputs) and
#                                  ref/ENTRY.OUT.npy (the fp64 reference)
#   .gpu-carry/bench/NAME/         the benchmark kernels of bench/gpu/cases.py
#   .gpu-carry/cpu/NAME/           CPU kernels for bench/cpu/device_cpu_bench.py
#   .gpu-carry/decode/NAME/        CPU decode kernels for bench/decode/device_decode_bench.py
#   .gpu-carry/linear/NAME/, fla/  bench/gpu/bench_linear.py's kernels and FLA
# Cases: every example and every CPU integration test file (all their
# entries: odd shapes, GQA, masks, ragged lengths, f16/bf16), except those
# using attn.pq_fit, which has no GPU mapping, and those whose inputs and
# references exceed 10 MB (the device call carries 64 MiB in all).
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
ninja -C build -j2 attn-compile attn-run attnrt >/dev/null
out=.gpu-carry
rm -rf "$out"
mkdir -p "$out/lib" "$out/cases"
cp build/lib/libattnrt.so "$out/lib/"
# The runtime's GPU tests (GoogleTest; they skip without a device here).
ninja -C build -j2 attn-cuda-runtime-tests >/dev/null
mkdir -p "$out/bin"
cp build/bin/attn-cuda-runtime-tests build/lib/libattn-fake-gpu-kernel.so "$out/bin/"
for f in examples/*.mlir test/Integration/CPU/*.mlir; do
  grep -q "attn.pq_fit" "$f" && continue
  name=$(basename "$f" .mlir | tr '-' '_')
  case "$f" in test/*) name="it_$name" ;; esac
  dir="$out/cases/$name"
  build/bin/attn-compile "$f" --target=cuda --gpu-format=bin -o "$dir" --name "$name"
  build/bin/attn-run "$f" --random --seed 7 --check \
    --save-inputs "$dir/in" --save-reference "$dir/ref" >/dev/null
  if [ "$(du -sm "$dir" | cut -f1)" -gt 10 ]; then
    echo "skipped $f: its inputs and references exceed 10 MB"
    rm -rf "$dir"
  fi
done
du -sh "$out"

# Benchmark kernels (bench/gpu/cases.py): .gpu-carry/bench/NAME/libNAME.so.
python3 bench/gpu/cases.py "$out/bench-src"
for f in "$out"/bench-src/*.mlir; do
  name=$(basename "$f" .mlir)
  build/bin/attn-compile "$f" --target=cuda --gpu-format=bin -o "$out/bench/$name" --name "$name"
done
du -sh "$out"

# CPU decode kernels over runtime caches for bench/decode/device_decode_bench.py.
python3 bench/decode/device_decode_bench.py --emit "$out/decode-src"
for f in "$out"/decode-src/*.mlir; do
  name=$(basename "$f" .mlir)
  build/bin/attn-compile "$f" --target=cpu -o "$out/decode/$name" --name "$name"
done
# CPU kernels for bench/cpu/device_cpu_bench.py (the GPU machine's 16-core
# CPU against PyTorch's CPU attention), with LLVM's libomp beside them.
cp -L /usr/lib/llvm-22/lib/libomp.so.5 "$out/lib/"
for c in "cpu_l4k:" "cpu_l4k_causal:{causal}"; do
  name=${c%%:*}; attr=${c#*:}
  t="tensor<1x16x4096x128xf32>"
  printf 'func.func @%s(%%q: %s, %%k: %s, %%v: %s) -> %s {\n  %%o = attn.attention %%q, %%k, %%v %s : %s, %s, %s -> %s\n  return %%o : %s\n}\n' \
    "$name" "$t" "$t" "$t" "$t" "$attr" "$t" "$t" "$t" "$t" "$t" > "$out/bench-src/$name.mlir"
  build/bin/attn-compile "$out/bench-src/$name.mlir" --target=cpu -o "$out/cpu/$name" --name "$name"
done
du -sh "$out"

# The linear-family kernels for bench/gpu/bench_linear.py, and
# flash-linear-attention's fla/ folder when FLA_SRC names a checkout of
# github.com/fla-org/flash-linear-attention (it travels, never committed).
python3 bench/gpu/linear_cases.py "$out/linear-src"
for f in "$out"/linear-src/*.mlir; do
  name=$(basename "$f" .mlir)
  build/bin/attn-compile "$f" --target=cuda --gpu-format=bin -o "$out/linear/$name" --name "$name"
done
if [ -n "${FLA_SRC:-}" ]; then
  mkdir -p "$out/fla"
  git -C "$FLA_SRC" archive HEAD fla | tar -x -C "$out/fla"
fi
du -sh "$out"

# CUDA decode kernels over caches in device memory for
# bench/decode/gpu_decode_bench.py: .gpu-carry/gpudecode/NAME/libNAME.so.
python3 bench/decode/gpu_decode_bench.py --emit "$out/gpudecode-src"
for f in "$out"/gpudecode-src/*.mlir; do
  name=$(basename "$f" .mlir)
  build/bin/attn-compile "$f" --target=cuda --gpu-format=bin -o "$out/gpudecode/$name" --name "$name"
done
du -sh "$out"
