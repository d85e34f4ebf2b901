#!/usr/bin/env python3
"""The README's main job: compile every example attention graph for the CPU,
run it on random inputs, check it against the fp64 reference and print a
table (example, entry, output, shape, dtype, max relative error, time).

Each example runs through attn-run (which calls attn-compile's library). The
job fails if any example fails to compile or to match the reference.
"""
import argparse
import json
import os
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", required=True, help="build directory")
    parser.add_argument("--bench", type=int, default=5, help="timed runs per entry")
    parser.add_argument("files", nargs="+", help="example .mlir files")
    args = parser.parse_args()

    run = os.path.join(args.build, "bin", "attn-run")
    header = ("example", "entry", "output", "shape", "dtype", "max rel err", "ms", "status")
    rows, failures = [], []
    for path in args.files:
        name = os.path.basename(path)
        proc = subprocess.run(
            [run, path, "--random", "--seed", "1", "--check", "--json",
             "--bench", str(args.bench)],
            capture_output=True, text=True)
        records = [json.loads(l) for l in proc.stdout.splitlines() if l.startswith("{")]
        for r in records:
            rows.append((name, r["entry"], r["output"], r["shape"], r["dtype"],
                         "%.2e" % r["max_rel_err"], "%.3f" % r["median_ms"], r["status"]))
        if proc.returncode != 0 or not records:
            reason = proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else "check failed"
            failures.append((name, reason))
            if not records:
                rows.append((name, "-", "-", "-", "-", "-", "-", "FAIL"))
    widths = [max(len(str(r[i])) for r in rows + [header]) for i in range(len(header))]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    print(fmt.format(*header))
    print(fmt.format(*("-" * w for w in widths)))
    for r in rows:
        print(fmt.format(*r))
    print("\n%d examples, %d outputs checked against the fp64 reference, %d failures"
          % (len(args.files), sum(r[7] == "PASS" for r in rows), len(failures)))
    for name, reason in failures:
        print("FAILED %s: %s" % (name, reason), file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
