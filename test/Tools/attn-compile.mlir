// attn-compile writes a library, a header and a manifest, and rejects entry
// points that cannot become C functions with a message naming the function
// and the argument.
// RUN: rm -rf %t && mkdir -p %t
// RUN: attn-compile %s -o %t --name tools
// RUN: FileCheck %s --check-prefix=MANIFEST < %t/tools.json
// RUN: test -f %t/libtools.so
// RUN: not attn-compile %S/Inputs/dynamic-entry.mlir -o %t/bad 2>&1 | FileCheck %s --check-prefix=DYNAMIC
// RUN: not attn-compile %s -o %t/bad --target=tpu 2>&1 | FileCheck %s --check-prefix=TARGET
// RUN: not attn-compile %t/missing.mlir -o %t/bad 2>&1 | FileCheck %s --check-prefix=MISSING

// MANIFEST: "library": "libtools.so"
// MANIFEST: {"name": "decode"
// MANIFEST: {"name": "query", "role": "attention.query", "dtype": "bf16", "shape": [1, 4, 1, 16], "direction": "in"}
// MANIFEST: {"name": "key", "role": "attention.key", "dtype": "bf16", "shape": [1, 4, 10, 16], "direction": "in"}
// MANIFEST: {"name": "result0", "role": "", "dtype": "bf16", "shape": [1, 4, 1, 16], "direction": "out"}

// DYNAMIC: entry point 'dyn': argument 0 has dynamic shape 'tensor<1x2x?x8xf32>'; compile a version with static sizes
// TARGET: attn-compile: unknown target 'tpu' (supported: cpu, cuda)
// MISSING: missing.mlir

func.func @decode(%q: tensor<1x4x1x16xbf16>, %k: tensor<1x4x10x16xbf16>,
                  %v: tensor<1x4x10x16xbf16>) -> tensor<1x4x1x16xbf16> {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x1x16xbf16>, tensor<1x4x10x16xbf16>, tensor<1x4x10x16xbf16>
      -> tensor<1x4x1x16xbf16>
  return %o : tensor<1x4x1x16xbf16>
}
