// Per-channel decays (GLA's vector decay, KDA) take the chunkwise GPU kernel
// too: gate = "channel", the cumulative decays [D, 68] join shared memory,
// and the scores take one exp a term.
// RUN: attn-opt %s --attn-gpu-tile | FileCheck %s --check-prefix=TILE
// RUN: env -u CUDA_HOME attn-opt %s "--attn-gpu-pipeline=format=isa" | FileCheck %s --check-prefix=PTX

// TILE-LABEL: func.func @per_channel
// TILE: call @__attn_gpu_chunkwise_{{[0-9]}}({{.*}}) {attn.gpu_kernel = {family = "linear", gate = "channel", kernel = "chunkwise"
// TILE: call @__attn_gpu_chunkwise_{{[0-9]}}({{.*}}) {attn.gpu_kernel = {family = "delta", gate = "channel", kernel = "chunkwise"
// TILE-NOT: attn.linear_attention
// TILE-NOT: attn.delta_rule
// PTX: gpu.binary @per_channel_kernel {{.*}}ex2.approx.ftz.f32
func.func @per_channel(%q: tensor<1x2x9x16xf32>, %v: tensor<1x2x9x16xf32>,
                       %g: tensor<1x2x9x16xf32>, %b: tensor<1x2x9xf32>)
    -> (tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>) {
  %o = attn.linear_attention vector %q, %q, %v gate(%g : tensor<1x2x9x16xf32>)
      : tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x2x9x16xf32>
  %o2 = attn.delta_rule kda %q, %q, %v, %b : tensor<1x2x9xf32> gate(%g : tensor<1x2x9x16xf32>)
      : tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32> -> tensor<1x2x9x16xf32>
  return %o, %o2 : tensor<1x2x9x16xf32>, tensor<1x2x9x16xf32>
}

// Their cumulative decays [D, 68] would not fit a block's shared memory
// above D = 208: KDA at D = 256 keeps the generic path.
// TILE-LABEL: func.func @kda_d256
// TILE: attn.delta_rule kda
// TILE-NOT: __attn_gpu_chunkwise
func.func @kda_d256(%q: tensor<1x1x9x256xf32>, %v: tensor<1x1x9x16xf32>,
                    %g: tensor<1x1x9x256xf32>, %b: tensor<1x1x9xf32>)
    -> tensor<1x1x9x16xf32> {
  %o = attn.delta_rule kda %q, %q, %v, %b : tensor<1x1x9xf32> gate(%g : tensor<1x1x9x256xf32>)
      : tensor<1x1x9x256xf32>, tensor<1x1x9x256xf32>, tensor<1x1x9x16xf32> -> tensor<1x1x9x16xf32>
  return %o : tensor<1x1x9x16xf32>
}
