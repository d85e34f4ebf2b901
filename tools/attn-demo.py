#!/usr/bin/env python3
"""Runs the example attention graphs and prints one table row per attn op.

Each example is parsed and verified by attn-opt; a file that fails to verify
fails the demo. The table lists every attn op with its result types.
"""
import argparse
import os
import re
import subprocess
import sys


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--build", required=True, help="build directory")
    parser.add_argument("files", nargs="+", help="example .mlir files")
    args = parser.parse_args()

    opt = os.path.join(args.build, "bin", "attn-opt")
    op_line = re.compile(r"=\s*(attn\.\w+)\b.*->\s*(.*)$")
    rows, failures = [], 0
    for path in args.files:
        name = os.path.basename(path)
        proc = subprocess.run([opt, path], capture_output=True, text=True)
        if proc.returncode != 0:
            failures += 1
            rows.append((name, "-", "-", "FAILED: " + proc.stderr.strip().splitlines()[0]))
            continue
        for line in proc.stdout.splitlines():
            m = op_line.search(line)
            if m:
                rows.append((name, m.group(1), m.group(2).strip(), "verified"))
    widths = [max(len(r[i]) for r in rows + [("example", "op", "results", "status")])
              for i in range(4)]
    fmt = "  ".join("{:<%d}" % w for w in widths)
    print(fmt.format("example", "op", "results", "status"))
    print(fmt.format(*("-" * w for w in widths)))
    for r in rows:
        print(fmt.format(*r))
    print("\n%d example files, %d attn ops verified, %d failures"
          % (len(args.files), sum(r[3] == "verified" for r in rows), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
