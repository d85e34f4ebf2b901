#!/bin/sh
# Recompiles the kernels already in .gpu-carry/ (made by prepare.sh) with
# the current attn-compile, keeping their random inputs and fp64 references
# (which do not depend on the compiler): the quick step between a compiler
# change and the next device call. Cases named on the command line (example
# or integration-test files) are added first, inputs and references included.
#   bench/gpu/recompile.sh [FILE.mlir ...]
set -eu
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
out=.gpu-carry
[ -d "$out/cases" ] || { echo "recompile.sh: no $out/cases; run bench/gpu/prepare.sh first" >&2; exit 1; }
ninja -C build -j2 attn-compile attn-run attnrt >/dev/null
cp build/lib/libattnrt.so "$out/lib/"
case_name() {
  name=$(basename "$1" .mlir | tr '-' '_')
  case "$1" in test/*) name="it_$name" ;; esac
  echo "$name"
}
for f in "$@"; do
  [ -f "$f" ] || { echo "recompile.sh: no such file: $f" >&2; exit 1; }
  dir="$out/cases/$(case_name "$f")"
  build/bin/attn-run "$f" --random --seed 7 --check \
    --save-inputs "$dir/in" --save-reference "$dir/ref" >/dev/null
done
for f in examples/*.mlir test/Integration/CPU/*.mlir; do
  name=$(case_name "$f")
  [ -d "$out/cases/$name" ] || continue
  build/bin/attn-compile "$f" --target=cuda --gpu-format=bin -o "$out/cases/$name" --name "$name"
done
# The benchmark kernels, from freshly written sources (so none keeps an old
# library because its source went missing).
# (Their own folder: prepare.sh also keeps CPU kernels' sources in bench-src.)
src="$out/recompile-src"
rm -rf "$src"
python3 bench/gpu/cases.py "$src/bench"
python3 bench/gpu/linear_cases.py "$src/linear"
for kind in bench linear; do
  for f in "$src/$kind"/*.mlir; do
    name=$(basename "$f" .mlir)
    build/bin/attn-compile "$f" --target=cuda --gpu-format=bin -o "$out/$kind/$name" --name "$name"
  done
done
du -sh "$out"
