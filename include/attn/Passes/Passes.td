//===- Passes.td - passes of the attn compiler ------------*- tablegen -*-===//
//
// Every pass of the attn compiler, with the description attn-opt --help and
// docs show.
//
//===----------------------------------------------------------------------===//

#ifndef ATTN_PASSES_PASSES_TD
#define ATTN_PASSES_PASSES_TD

include "mlir/Pass/PassBase.td"

def AttnDecompose : Pass<"attn-decompose"> {
  let summary = "Rewrite every attn op into naive linalg/tensor/arith/math/scf IR";
  let description = [{
    The compiler's own semantic oracle: each attn op becomes the textbook
    computation of docs/Rationale.md on tensors, in f32 whatever the input
    element type. Softmax-family ops build the full score matrix
    (`[B, Hq, Lq, Lk]`) with linalg.generic ops (GQA through a `floordiv`
    indexing map on the key/value head); recurrences run as scf.for loops
    over tokens carrying their state tensors. Where the results are discrete
    and must equal the fp64 reference's exactly (selection indices, PQ
    codes, pq_fit's k-means), the scores and distances that decide them are
    computed in f64 in the reference's order; the selection ops end in an
    scf loop per query row. It favours clarity over speed; the tiling
    passes produce the fast forms and are checked against it.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::linalg::LinalgDialect",
    "mlir::math::MathDialect", "mlir::scf::SCFDialect",
    "mlir::tensor::TensorDialect"
  ];
}


def AttnTile : Pass<"attn-tile"> {
  let summary = "Rewrite attn ops into their tiled, fused fast forms for the CPU";
  let description = [{
    Ops with static shapes (and D, Dv multiples of 16) become CPU kernels on
    buffers (docs/CpuPipeline.md). attn.attention: prefill on a flash-style
    kernel, one scf.parallel task per (batch, kv head, query block) that
    packs each K/V block once for the G query heads sharing it, scores on
    4 x 64 register tiles of vector<16xf32>, an online softmax, key blocks
    no row can see skipped (causal, window, block lists whose block sizes
    are multiples of the tiles), masks, mask tensors and score/mask-mod
    regions applied to each 16-key score vector; decode (Lq <= 16,
    Lk >= 4 Lq) on split-KV tasks that read K/V in place and a parallel
    merge. attn.quant_attention and attn.pq_attention take the same two
    kernels with dequantisation (or PQ keys rebuilt, or PQ lookup tables)
    fused into the K/V reads; attn.sparse_attention gathers each list's
    distinct keys; attn.linear_attention, attn.delta_rule and
    attn.log_linear take chunkwise kernels (elementwise feature maps
    feeding linear attention fused into them); attn.lolcats_hybrid one
    pass over blocks of the window. Other ops keep their attn form for
    attn-decompose.
  }];
  let options = [
    Option<"blockQ", "block-q", "int64_t", /*default=*/"64",
           "Query rows per task and head (a multiple of 4)">,
    Option<"avx512", "avx512", "bool", /*default=*/"false",
           "The target has AVX-512: 4-bit PQ codes are scored by in-register "
           "table lookups (vpermps) instead of gathers">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::linalg::LinalgDialect", "mlir::math::MathDialect",
    "mlir::memref::MemRefDialect", "mlir::scf::SCFDialect",
    "mlir::vector::VectorDialect", "mlir::LLVM::LLVMDialect"
  ];
}

def AttnApproximateMath : Pass<"attn-approximate-math"> {
  let summary = "Polynomial approximations of exp, log and tanh";
  let description = [{
    Replaces math.exp, math.log and math.tanh by MLIR's polynomial
    approximations (a few ulp in f32), which lower to vector instructions;
    as libm calls each vector lane would be a separate call.
  }];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::math::MathDialect",
    "mlir::vector::VectorDialect"
  ];
}

def AttnInlineAllocaScopes : Pass<"attn-inline-alloca-scopes"> {
  let summary = "Inline memref.alloca_scope ops that hold no stack allocation";
  let description = [{
    scf-to-openmp wraps each parallel body in memref.alloca_scope, whose
    region must stay a single block, so loops inside it cannot be lowered to
    control flow. The attn kernels allocate their scratch on the heap, so a
    scope without memref.alloca bounds nothing and is inlined into its
    parent. Scopes that do hold allocas are kept.
  }];
}

def AttnStridedCopiesToLoops : Pass<"attn-strided-copies-to-loops"> {
  let summary = "Rewrite memref.copy between strided buffers as linalg.copy";
  let description = [{
    Bufferising tensor slices (extract_slice / insert_slice over an inner
    axis) leaves memref.copy ops whose operands are not contiguous. The LLVM
    lowering turns those into calls to `memrefCopy` of MLIR's C runner
    library, which attn's kernels do not link, so the library failed to
    load. Copies with a non-identity layout on either side become
    linalg.copy, which linalg-to-loops lowers to loops; contiguous copies
    stay memref.copy (an intrinsic memcpy).
  }];
  let dependentDialects = ["mlir::linalg::LinalgDialect"];
}

def AttnGpuTile : Pass<"attn-gpu-tile"> {
  let summary = "Hand-built CUDA kernels: tensor-core flash attention, chunkwise recurrences";
  let description = [{
    Rewrites attn.linear_attention (every decay) and attn.delta_rule
    (DeltaNet, Gated DeltaNet, KDA) into calls of `__attn_gpu_chunkwise*`
    that attn-gpu-map expands into the chunkwise kernels
    (passes/Gpu/ChunkwiseGpu.cpp), attn.quant_attention with decode shapes
    (at most 64 query rows a kv head) into `__attn_gpu_compressed_decode*`
    calls expanded into a split-KV kernel that dequantises int8/int4 codes
    in registers (passes/Gpu/CompressedDecodeGpu.cpp), attn.pq_attention
    with decode shapes into `__attn_gpu_pq_decode*` calls expanded into a
    split-KV kernel scoring PQ codes by lookup tables built in shared memory
    (passes/Gpu/PqDecodeGpu.cpp), and attn.attention with f16/bf16 operands, static shapes,
    D = Dv in {64, 128} and only causal/window visibility (no mask tensor,
    block lists, sinks, softcap or mod regions) into a call of a private
    declaration `__attn_gpu_flash*` on buffers, its parameters in the
    `attn.gpu_kernel` attribute, which bufferisation and deallocation treat
    as an opaque call; attn-gpu-map expands it into a flash kernel launch: a block of 4 warps per 64 query rows and head, K/V tiles of 64
    keys staged in shared memory, S = Q K^T and O += P V on mma.sync
    m16n8k16 with f32 accumulation, the online softmax in registers, and
    key blocks outside the causal/window band skipped; runtime caches
    (kv_lens, block_table) are read in place. With `wgmma` (Hopper, sm_90a)
    the flash kernel keeps Q, K and V in shared memory in 128-byte swizzled
    panels and runs S = Q K^T and O += P V as warpgroup
    wgmma.mma_async instructions instead. Other ops keep their attn form for
    attn-decompose and attn-gpu-map.
  }];
  let options = [
    Option<"wgmma", "wgmma", "bool", /*default=*/"false",
           "Flash kernels on Hopper's warpgroup MMA (needs chip sm_90a)">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::bufferization::BufferizationDialect",
    "mlir::gpu::GPUDialect", "mlir::LLVM::LLVMDialect",
    "mlir::math::MathDialect", "mlir::memref::MemRefDialect",
    "mlir::nvgpu::NVGPUDialect", "mlir::scf::SCFDialect",
    "mlir::vector::VectorDialect"
  ];
}
def AttnGpuLaunchBounds : Pass<"attn-gpu-launch-bounds", "mlir::ModuleOp"> {
  let summary = "Occupancy hints of attn's kernels as NVVM launch bounds";
  let description = [{
    Runs after gpu-kernel-outlining. A kernel whose body holds an op marked
    `attn.min_blocks_per_sm = N` (attn-gpu-map's expansions mark their
    shared-memory op) gets `nvvm.maxntid` (its known block size) and
    `nvvm.minctasm = N`, which become PTX's `.maxntid` and `.minnctapersm`:
    ptxas then keeps registers low enough for N blocks a multiprocessor.
    The marker is removed.
  }];
  let dependentDialects = ["mlir::NVVM::NVVMDialect"];
}

def AttnGpuMap : Pass<"attn-gpu-map", "mlir::ModuleOp"> {
  let summary = "Map bufferised host loops onto GPU launches";
  let description = [{
    Runs on functions whose tensors are already buffers and whose linalg ops
    are scf.parallel loops. Kernel calls of attn-gpu-tile become their
    gpu.launch and their declarations go. The function becomes host code that only
    allocates device buffers and launches kernels:
    - each outermost scf.parallel becomes a gpu.launch over its flattened
      iteration space, 256 threads a block, one iteration a thread;
    - memref.alloc / memref.dealloc become gpu.alloc / gpu.dealloc;
    - memref.copy becomes a parallel copy loop, mapped like the others;
    - any other op that reads or writes memory (serial scatter loops of the
      decompositions, scalar stores) runs in a one-thread launch;
    - scf.for / scf.if whose bodies launch kernels stay on the host and are
      mapped recursively.
    Host code that needs a value read from device memory (a loop bound
    loaded from a buffer, a loop result) is rejected with a diagnostic.
    In the launches, math.floor, ceil, sqrt, absf and fma become calls of
    the LLVM intrinsics, which NVPTX selects natively (convert-gpu-to-nvvm would call
    libdevice, which needs the CUDA toolkit at compile time).
  }];
  let options = [
    Option<"blockSize", "block-size", "int64_t", /*default=*/"256",
           "Threads per block of the mapped parallel loops">
  ];
  let dependentDialects = [
    "mlir::arith::ArithDialect", "mlir::gpu::GPUDialect",
    "mlir::LLVM::LLVMDialect", "mlir::math::MathDialect",
    "mlir::memref::MemRefDialect", "mlir::NVVM::NVVMDialect",
    "mlir::nvgpu::NVGPUDialect", "mlir::scf::SCFDialect",
    "mlir::vector::VectorDialect"
  ];
}
#endif // ATTN_PASSES_PASSES_TD
