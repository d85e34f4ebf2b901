// Kernel for the runtime unit tests: with a single key the softmax weight is
// exactly 1, so out[b, h, 0, :] = v[b, h / 2, 0, :] bit for bit.
func.func @one_key(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>,
                   %v: tensor<1x2x1x8xf32>) -> tensor<1x4x1x8xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}

// The same kernel under the name of a libc function (POSIX regexp's `step`):
// the library must call its own entry, not the one libc exports.
func.func @step(%q: tensor<1x4x1x8xf32>, %k: tensor<1x2x1x8xf32>,
                %v: tensor<1x2x1x8xf32>) -> tensor<1x4x1x8xf32> {
  %o = attn.attention %q, %k, %v
      : tensor<1x4x1x8xf32>, tensor<1x2x1x8xf32>, tensor<1x2x1x8xf32> -> tensor<1x4x1x8xf32>
  return %o : tensor<1x4x1x8xf32>
}
