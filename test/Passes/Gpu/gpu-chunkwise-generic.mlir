// The chunkwise GPU kernel takes scalar decays only: per-channel decays keep
// the generic GPU path (and still compile to PTX).
// RUN: attn-opt %s --attn-gpu-tile | FileCheck %s --check-prefix=TILE
// RUN: env -u CUDA_HOME attn-opt %s "--attn-gpu-pipeline=format=isa" | FileCheck %s --check-prefix=PTX

// Per-channel decays (GLA's vector decay, KDA) keep the generic path.
// TILE-LABEL: func.func @per_channel
// TILE: attn.linear_attention vector
// TILE: attn.delta_rule kda
// TILE-NOT: __attn_gpu_chunkwise
// PTX: gpu.binary
func.func @per_channel(%q: tensor<1x2x9x16xf32>, %v: tensor<1x2x9x16xf32>,
                       %g: tensor<1x2x9x16xf32>, %b: tensor<1x2x9xf32>)
    -> (tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>) {
  %o = attn.linear_attention vector %q, %q, %v gate(%g : tensor<1x2x9x16xf32>)
      : tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x2x9x16xf32>
  %o2 = attn.delta_rule kda %q, %q, %v, %b : tensor<1x2x9xf32> gate(%g : tensor<1x2x9x16xf32>)
      : tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x2x9x16xf32>
  return %o, %o2 : tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>
}
