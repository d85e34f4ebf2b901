//===- FlashAttentionGpu.cpp - the tensor-core flash kernel for CUDA ------===//
//
// This file implements attn-gpu-tile and the kernel it stands for:
// attn.attention with f16/bf16 operands, D = Dv in {64, 128} and
// causal/window visibility (no mask tensor, block lists, sinks, softcap or
// mod regions; runtime caches through kv_lens and block_table are read in
// place) becomes a kernel call (GpuKernels.h) that attn-gpu-map
// expands into one gpu.launch of a flash attention kernel on the tensor
// cores (sm_80+ mma.sync, f32 accumulation; on sm_90a wgmma, see below):
//
//   grid (ceil(Lq / 64), Hq, B), 128 threads: warp w owns query rows
//   16w..16w+15 of the block. Q is staged through shared memory once and
//   kept as ldmatrix A fragments in registers. The 64-key blocks the
//   causal/window rules leave visible stream through two slots of dynamic
//   shared memory for K and two for V (rows padded by 16 bytes against bank
//   conflicts): cp.async copies of block n + 1 are in flight while block n
//   is computed. S = Q K^T
//   runs as 8 x D/16 mma.sync m16n8k16, the online softmax works in
//   registers in the log2 domain (row statistics reduced over the 4 lanes of
//   a row with shuffles), P is rounded to the operand type and re-used as A
//   fragments in place (the accumulator layout of two 8-key tiles is the A
//   layout of one 16-key step), and O += P V runs on ldmatrix.trans B
//   fragments of V. Out-of-range rows and keys are zero-filled and masked.
//
// Fragment layouts: GpuMmaBuilder.h.
//
// With `wgmma` (Hopper, sm_90a) the block shape, masks, softmax and
// epilogue stay; Q, K and V stay in shared memory in 128-byte swizzled
// panels and the products run on warpgroup wgmma.mma_async (S from two
// shared-memory descriptors, O from P in registers and an N-major V), whose
// accumulator and register-A layouts per 16-row warp slice are the mma.sync
// ones above (docs/GpuPipeline.md has the layouts and descriptors).
//
//===----------------------------------------------------------------------===//

#include "GpuKernels.h"
#include "GpuMmaBuilder.h"

#include "attn/Passes/Passes.h"

#include "attn/Dialect/Attn/AttnDialect.h"
#include "../KernelBuffers.h"

#include "mlir/Dialect/Arith/IR/Arith.h"
#include "mlir/Dialect/Bufferization/IR/Bufferization.h"
#include "mlir/Dialect/GPU/IR/GPUDialect.h"
#include "mlir/Dialect/LLVMIR/LLVMDialect.h"
#include "mlir/Dialect/LLVMIR/NVVMDialect.h"
#include "mlir/Dialect/Math/IR/Math.h"
#include "mlir/Dialect/MemRef/IR/MemRef.h"
#include "mlir/Dialect/NVGPU/IR/NVGPUDialect.h"
#include "mlir/Dialect/SCF/IR/SCF.h"
#include "mlir/Dialect/Vector/IR/VectorOps.h"
#include "mlir/IR/ImplicitLocOpBuilder.h"
#include "mlir/IR/PatternMatch.h"
#include "mlir/IR/SymbolTable.h"
#include "mlir/Transforms/GreedyPatternRewriteDriver.h"

namespace attn {
#define GEN_PASS_DEF_ATTNGPUTILE
#include "attn/Passes/Passes.h.inc"
} // namespace attn

#include <algorithm>
#include <cmath>
#include <limits>

using namespace mlir;
using namespace attn;

namespace {

constexpr int64_t kRowsPerWarp = 16;  // one m16 fragment row block
// 4 warps of 16 query rows. 128-row blocks of 8 warps (each K/V tile feeding
// twice the rows) measured 0.85-1.07x of these on the H100
// (bench/results/gpu-bench-2026-11-22-h100-rows128.txt, commit e37c0c1):
// one block per SM leaves no other block to run through its barriers and
// copy waits.
constexpr int64_t kRowsPerBlock = 64;
constexpr int64_t kThreads = kRowsPerBlock / kRowsPerWarp * 32;
constexpr int64_t kKeysPerBlock = 64; // 8 n-tiles of 8 keys
constexpr int64_t kPad = 8;           // elements: 16 bytes a row
static_assert(kRowsPerBlock == kKeysPerBlock, "Q and K/V tiles share a layout");
static_assert(kThreads == 128, "wgmma: one warpgroup, warp w owns rows 16w..16w+15");
static_assert(kThreads % 8 == 0, "eight threads copy one 128-byte panel row");

struct GpuFlashShape {
  int64_t batch, heads, kvHeads, lq, lk, d;
  double scale;
  bool causal = false;
  std::optional<std::pair<int64_t, int64_t>> window;
  Type elementType;
  /// 0: prefill (one block per 64 query rows and head). Otherwise split-KV
  /// decode: the G x Lq rows of a kv head share a block (each K/V tile is
  /// read once per group), the key blocks are cut into `splits` ranges run
  /// by separate blocks, and a merge launch combines their partial results.
  int64_t splits = 0;
  /// Runtime caches read in place: per-row key counts [B] (i32), and K/V
  /// as page pools [P, Hkv, pageSize, D] through a page table [B, NP].
  bool kvLens = false, paged = false;
  int64_t pageSize = 0, pages = 0;
  /// Hopper: Q, K and V stay in shared memory in 128-byte swizzled panels and the
  /// products run on warpgroup wgmma.mma_async (S from two shared-memory
  /// descriptors, O from P in registers and a descriptor of V).
  bool wgmma = false;
};

/// Where a block-local query row of the tile lives in q/out.
struct RowPlace {
  Value head, query, valid;
};

/// Builds the kernel body inside a gpu.launch.
class GpuFlashEmitter : public GpuMmaBuilder {
public:
  GpuFlashEmitter(ImplicitLocOpBuilder &b, const GpuFlashShape &s)
      : GpuMmaBuilder(b, s.elementType), s(s) {}

  /// The kernel launch (and, for decode, the merge launch into out/lse of
  /// the partials oPart [S, B, Hq, Lq, D] and lsePart [S, B, Hq, Lq], f32).
  void emit(Value q, Value k, Value v, Value out, Value lse, Value oPart,
            Value lsePart, Value kvLens = {}, Value blockTable = {});

private:
  /// ldmatrix from slot `slot` of a [2, 64, D + pad] shared buffer.
  Value ldmatrix(Value smem, Value slot, Value row, Value col, int tiles,
                 bool transpose) {
    return GpuMmaBuilder::ldmatrix(smem, ValueRange{slot, row, col}, tiles, transpose);
  }
  /// Shuffle-xor reduction over the 4 lanes of a fragment row.
  Value rowReduce(Value x, bool max) {
    for (int offset : {1, 2}) {
      Value other = gpu::ShuffleOp::create(b, x, offset, 32, gpu::ShuffleMode::XOR)
                        .getShuffleResult();
      x = max ? Value(arith::MaximumFOp::create(b, x, other))
              : Value(arith::AddFOp::create(b, x, other));
    }
    return x;
  }
  // Hopper (s.wgmma). The asm is volatile, so it keeps its order with the
  // other asm (fences, commits, waits).
  /// Inline PTX whose outputs are tied to `tied` (f32 "f" or i32 "r"
  /// registers, updated in place) and whose other inputs are `inputs` with
  /// `constraints`; returns the new values of `tied`.
  SmallVector<Value> inlinePtx(StringRef text, ArrayRef<Value> tied,
                               ArrayRef<Value> inputs = {},
                               ArrayRef<StringRef> constraints = {});
  /// Marks values as live here: uses after it cannot move above it and
  /// definitions before it cannot sink below it (a wgmma reads and writes
  /// its registers asynchronously, between a fence and a wait).
  SmallVector<Value> pin(ArrayRef<Value> values) { return inlinePtx("", values); }
  void ptx(StringRef text) { inlinePtx(text, {}); }
  /// Commits the wgmma batch issued since the last fence, waits for it and
  /// returns its accumulators pinned.
  SmallVector<Value> wgmmaWait(ArrayRef<Value> acc) {
    ptx("wgmma.commit_group.sync.aligned;");
    ptx("wgmma.wait_group.sync.aligned 0;");
    return pin(acc);
  }
  /// C fragments (vector<2x2xf32>, [row half][column]) as the m64nN
  /// accumulator registers (4 a fragment, in the same order), and back.
  SmallVector<Value> fragsToRegs(ArrayRef<Value> frags) {
    SmallVector<Value> regs;
    for (Value f : frags)
      for (int r = 0; r < 4; ++r)
        regs.push_back(vector::ExtractOp::create(b, f, ArrayRef<int64_t>{r / 2, r % 2}));
    return regs;
  }
  void regsToFrags(ArrayRef<Value> regs, MutableArrayRef<Value> frags) {
    for (size_t j = 0; j < frags.size(); ++j)
      for (int r = 0; r < 4; ++r)
        frags[j] = vector::InsertOp::create(b, regs[4 * j + r], frags[j],
                                            ArrayRef<int64_t>{r / 2, r % 2});
  }
  /// acc (n/2 f32 a thread, the m64nNk16 accumulator layout) = A B (+ acc
  /// when `accumulate`) on one wgmma.mma_async: A from the descriptor
  /// `descA` (K-major) or from four registers `aRegs`; B from `descB`,
  /// K-major or, with `transB`, N-major.
  SmallVector<Value> wgmma(int64_t n, ArrayRef<Value> acc, Value descA,
                           ArrayRef<Value> aRegs, Value descB, bool transB,
                           bool accumulate);
  /// A shared-memory matrix descriptor, 128-byte swizzle (the matrix at
  /// byte address `address` (i64), 1024-byte aligned; `lbo` and `sbo` in
  /// bytes as PTX defines them for the operand's major-ness).
  Value descriptor(Value address, int64_t lbo, int64_t sbo);
  /// A descriptor `bytes` further on (the address field is in 16 bytes).
  Value advance(Value desc, Value bytes);
  /// Where chunk `id` (8 elements) of a [64, D] tile goes: row, column,
  /// and its place in the slot ([row, col] of a padded row, or for wgmma
  /// the 128-byte swizzled panels the descriptors describe).
  void tileChunk(Value id, Value &row, Value &col, SmallVector<Value> &dst,
                 Value slot);
  /// The cp.async copies (16 bytes each) that bring rows [row0, row0 + 64)
  /// of x[batch, head] into slot `slot` of a shared buffer, zero-filling
  /// rows at or past `rows`: destination and source indices and source
  /// sizes (null: 16 bytes), the same for K and V.
  struct TileCopies {
    SmallVector<SmallVector<Value>> dst, src;
    SmallVector<Value> elements;
  };
  TileCopies planTile(Value batch, Value head, Value row0, Value rows, Value slot,
                      Value tid);
  /// Issues `plan` from `global` into `smem` as one group (L1 bypassed);
  /// returns the group.
  Value issueTile(Value global, Value smem, const TileCopies &plan);
  /// The Q tile, rows placed by `place`.
  void stageQuery(Value q, Value batch, function_ref<RowPlace(Value)> place,
                  Value smem, Value slot, Value tid);

  const GpuFlashShape &s;
  Value blockTable; // [B, NP] i32 when K/V are page pools
};

SmallVector<Value> GpuFlashEmitter::inlinePtx(StringRef text, ArrayRef<Value> tied,
                                              ArrayRef<Value> inputs,
                                              ArrayRef<StringRef> constraints) {
  std::string cons;
  auto append = [&](StringRef c) {
    if (!cons.empty())
      cons += ",";
    cons += c.str();
  };
  SmallVector<Type> types;
  for (Value v : tied) {
    assert((v.getType().isF32() || v.getType().isInteger(32)) &&
           "tied PTX operands are f32 or 32-bit registers");
    append(v.getType().isF32() ? "=f" : "=r");
    types.push_back(v.getType());
  }
  for (StringRef c : constraints)
    append(c);
  for (size_t i = 0; i < tied.size(); ++i)
    append(std::to_string(i));
  if (tied.empty())
    append("~{memory}");
  SmallVector<Value> operands(inputs.begin(), inputs.end());
  operands.append(tied.begin(), tied.end());
  Type result = tied.empty() ? Type()
                : tied.size() == 1
                    ? types[0]
                    : Type(LLVM::LLVMStructType::getLiteral(b.getContext(), types));
  auto op = LLVM::InlineAsmOp::create(
      b, result, operands, b.getStringAttr(text), b.getStringAttr(cons),
      /*has_side_effects=*/b.getUnitAttr(), /*is_align_stack=*/UnitAttr(),
      LLVM::TailCallKindAttr::get(b.getContext(), LLVM::tailcallkind::TailCallKind::None),
      LLVM::AsmDialectAttr::get(b.getContext(), LLVM::AsmDialect::AD_ATT),
      /*operand_attrs=*/ArrayAttr());
  SmallVector<Value> out;
  if (tied.size() == 1)
    out.push_back(op.getResult(0));
  else
    for (size_t i = 0; i < tied.size(); ++i)
      out.push_back(LLVM::ExtractValueOp::create(b, op.getResult(0),
                                                 ArrayRef<int64_t>{int64_t(i)}));
  return out;
}

SmallVector<Value> GpuFlashEmitter::wgmma(int64_t n, ArrayRef<Value> acc,
                                          Value descA, ArrayRef<Value> aRegs,
                                          Value descB, bool transB,
                                          bool accumulate) {
  assert(static_cast<int64_t>(acc.size()) == n / 2 && "m64nN: n/2 f32 a thread");
  std::string type = t.isBF16() ? "bf16" : "f16";
  std::string text = "{\n.reg .pred p;\nsetp.ne.b32 p, $" +
                     std::to_string(acc.size() + (descA ? 2 : 5)) +
                     ", 0;\nwgmma.mma_async.sync.aligned.m64n" + std::to_string(n) +
                     "k16.f32." + type + "." + type + " {";
  for (size_t i = 0; i < acc.size(); ++i)
    text += (i ? ", $" : "$") + std::to_string(i);
  size_t next = acc.size();
  SmallVector<Value> inputs;
  SmallVector<StringRef> constraints;
  if (descA) {
    text += "}, $" + std::to_string(next++);
    inputs.push_back(descA);
    constraints.push_back("l");
  } else {
    text += "}, {";
    for (int i = 0; i < 4; ++i) {
      text += (i ? ", $" : "$") + std::to_string(next++);
      inputs.push_back(aRegs[i]);
      constraints.push_back("r");
    }
    text += "}";
  }
  text += ", $" + std::to_string(next++) + ", p, 1, 1";
  inputs.push_back(descB);
  constraints.push_back("l");
  inputs.push_back(arith::ConstantOp::create(b, b.getI32IntegerAttr(accumulate)));
  constraints.push_back("r");
  // imm-trans-a (descriptor A only; K-major), imm-trans-b.
  text += descA ? ", 0" : "";
  text += transB ? ", 1;\n}" : ", 0;\n}";
  return inlinePtx(text, acc, inputs, constraints);
}

Value GpuFlashEmitter::descriptor(Value address, int64_t lbo, int64_t sbo) {
  auto c64 = [&](int64_t v) { return arith::ConstantOp::create(b, b.getI64IntegerAttr(v)); };
  Value start = arith::AndIOp::create(b, arith::ShRUIOp::create(b, address, c64(4)),
                                      c64(0x3FFF));
  assert(lbo % 16 == 0 && sbo % 16 == 0 && lbo < (1 << 18) && sbo < (1 << 18) &&
         "descriptor strides are 14-bit fields of 16 bytes");
  int64_t fixed = ((lbo >> 4) << 16) | ((sbo >> 4) << 32) | (int64_t(1) << 62);
  return arith::OrIOp::create(b, start, c64(fixed));
}

Value GpuFlashEmitter::advance(Value desc, Value bytes) {
  Value units = arith::ShRUIOp::create(
      b, arith::IndexCastOp::create(b, b.getI64Type(), bytes),
      arith::ConstantOp::create(b, b.getI64IntegerAttr(4)));
  return arith::AddIOp::create(b, desc, units);
}

void GpuFlashEmitter::tileChunk(Value id, Value &row, Value &col,
                                SmallVector<Value> &dst, Value slot) {
  int64_t chunksPerRow = s.d / 8;
  if (!s.wgmma) {
    row = arith::DivUIOp::create(b, id, idx(chunksPerRow));
    col = mul(arith::RemUIOp::create(b, id, idx(chunksPerRow)), idx(8));
    dst = {slot, row, col};
    return;
  }
  // 128-byte swizzle: the tile is D/64 panels of 64 columns, a panel 64
  // rows of 128 bytes, and 16-byte chunk c of row r sits at chunk
  // c ^ (r % 8) of its row. id = c + 8 (r + 64 p): eight threads copy one
  // row of a panel, 128 bytes in global memory and in shared memory.
  Value c8 = arith::RemUIOp::create(b, id, idx(8));
  Value rest = arith::DivUIOp::create(b, id, idx(8));
  row = arith::RemUIOp::create(b, rest, idx(kKeysPerBlock));
  Value panel = arith::DivUIOp::create(b, rest, idx(kKeysPerBlock));
  col = add(mul(panel, idx(64)), mul(c8, idx(8)));
  Value swizzled = arith::XOrIOp::create(b, c8, arith::RemUIOp::create(b, row, idx(8)));
  dst = {slot, add(mul(add(mul(panel, idx(kKeysPerBlock)), row), idx(64)),
                   mul(swizzled, idx(8)))};
}

void GpuFlashEmitter::stageQuery(Value q, Value batch,
                                 function_ref<RowPlace(Value)> place, Value smem,
                                 Value slot, Value tid) {
  int64_t chunksPerRow = s.d / 8;
  int64_t chunks = kRowsPerBlock * chunksPerRow;
  auto chunk = VectorType::get({8}, t);
  Value zero = arith::ConstantOp::create(b, chunk, b.getZeroAttr(chunk));
  for (int64_t i = 0; i < chunks / kThreads; ++i) {
    Value id = add(tid, idx(i * kThreads)), row, col;
    SmallVector<Value> dst;
    tileChunk(id, row, col, dst, slot);
    RowPlace at = place(row);
    auto ifOp = scf::IfOp::create(b, chunk, at.valid, true);
    {
      OpBuilder::InsertionGuard g(b);
      b.setInsertionPointToStart(&ifOp.getThenRegion().front());
      auto load = vector::LoadOp::create(b, chunk, q,
                                         ValueRange{batch, at.head, at.query, col});
      load.setAlignment(16);
      scf::YieldOp::create(b, load.getResult());
      b.setInsertionPointToStart(&ifOp.getElseRegion().front());
      scf::YieldOp::create(b, zero);
    }
    auto store = vector::StoreOp::create(b, ifOp.getResult(0), smem, dst);
    store.setAlignment(16);
  }
}

GpuFlashEmitter::TileCopies GpuFlashEmitter::planTile(Value batch, Value head,
                                                      Value row0, Value rows,
                                                      Value slot, Value tid) {
  int64_t chunksPerRow = s.d / 8;
  int64_t chunks = kKeysPerBlock * chunksPerRow;
  TileCopies plan;
  // Page lookups by row: with the swizzled order copy i's row is
  // tid / 8 + (kThreads / 8 i) % 64, so for D = 128 copies 4 apart share a
  // page entry (none share for D = 64 or the padded order, where the key
  // is i).
  DenseMap<int64_t, std::pair<Value, Value>> pages;
  for (int64_t i = 0; i < chunks / kThreads; ++i) {
    Value id = add(tid, idx(i * kThreads)), row, col;
    SmallVector<Value> dst;
    tileChunk(id, row, col, dst, slot);
    Value globalRow = add(row0, row);
    // Past the end (Lk, or the row's key count): read nothing (source size
    // 0 zero-fills the 16 bytes) from a row that exists. Whole key blocks
    // of a contiguous K/V without counts are never past it.
    Value srcRow = globalRow, srcElements;
    if (s.lk % kKeysPerBlock != 0 || s.kvLens || blockTable) {
      Value inside = lt(globalRow, rows);
      srcRow = arith::MinSIOp::create(b, globalRow, idx(s.lk - 1));
      srcElements = arith::SelectOp::create(b, inside, idx(8), idx(0));
    }
    SmallVector<Value> src = {batch, head, srcRow, col};
    if (blockTable) {
      // Key srcRow sits in row srcRow % PS of page table[batch][srcRow / PS]
      // (a bad entry is clamped to a real page). All of a tile's lookups
      // are issued before its first copy, so that they overlap.
      int64_t key = s.wgmma ? (i * kThreads / 8) % kKeysPerBlock : i;
      auto [it, fresh] = pages.try_emplace(key);
      if (fresh) {
        Value entry = memref::LoadOp::create(
            b, blockTable,
            ValueRange{batch, arith::DivUIOp::create(b, srcRow, idx(s.pageSize))});
        Value page = arith::IndexCastOp::create(b, b.getIndexType(), entry);
        page = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, page, idx(0)),
                                      idx(s.pages - 1));
        it->second = {page, arith::RemUIOp::create(b, srcRow, idx(s.pageSize))};
      }
      src = {it->second.first, head, it->second.second, col};
    }
    plan.dst.push_back(dst);
    plan.src.push_back(src);
    plan.elements.push_back(srcElements);
  }
  return plan;
}

Value GpuFlashEmitter::issueTile(Value global, Value smem, const TileCopies &plan) {
  auto tokenType = nvgpu::DeviceAsyncTokenType::get(b.getContext());
  SmallVector<Value> tokens;
  for (size_t i = 0; i < plan.dst.size(); ++i)
    tokens.push_back(nvgpu::DeviceAsyncCopyOp::create(
        b, tokenType, smem, plan.dst[i], global, plan.src[i], b.getIndexAttr(8),
        plan.elements[i], b.getUnitAttr()));
  return nvgpu::DeviceAsyncCreateGroupOp::create(b, tokenType, tokens);
}

void GpuFlashEmitter::emit(Value q, Value k, Value v, Value out, Value lse,
                           Value oPart, Value lsePart, Value kvLens,
                           Value table) {
  blockTable = table;
  bool decode = s.splits > 0;
  int64_t group = s.heads / s.kvHeads;
  MLIRContext *ctx = b.getContext();
  auto workgroup = gpu::AddressSpaceAttr::get(ctx, gpu::AddressSpace::Workgroup);
  // K and V each in two slots (double buffering) of dynamic shared memory:
  // rows padded against ldmatrix bank conflicts, or (wgmma) 64 x D tiles in
  // 128-byte swizzled panels; wgmma keeps Q in a region of its own after them.
  int64_t elementBytes = t.getIntOrFloatBitWidth() / 8;
  int64_t tileElements = kKeysPerBlock * s.d;
  auto slotsType =
      s.wgmma ? MemRefType::get({2, tileElements}, t, AffineMap(), workgroup)
              : MemRefType::get({2, kKeysPerBlock, s.d + kPad}, t, AffineMap(), workgroup);
  int64_t slotBytes = s.wgmma ? tileElements * elementBytes
                              : kKeysPerBlock * (s.d + kPad) * elementBytes;
  int64_t slotsBytes = 2 * slotBytes;
  int64_t qBytes = s.wgmma ? kRowsPerBlock * s.d * elementBytes : 0;
  Value one = idx(1);
  Value gridX = idx(decode ? s.splits : (s.lq + kRowsPerBlock - 1) / kRowsPerBlock);
  Value gridY = idx(decode ? s.kvHeads : s.heads);
  // (wgmma: 1 KiB more, to align the tiles to the swizzle's 1024 bytes.)
  Value smemBytes = arith::ConstantOp::create(
      b, b.getI32IntegerAttr(2 * slotsBytes + qBytes + (s.wgmma ? 1024 : 0)));
  auto launch = gpu::LaunchOp::create(b, gridX, gridY, idx(s.batch),
                                      idx(kThreads), one, one, smemBytes);
  {
  OpBuilder::InsertionGuard guard(b);
  b.setInsertionPointToStart(&launch.getBody().front());
  Value raw = gpu::DynamicSharedMemoryOp::create(
      b, MemRefType::get({ShapedType::kDynamic}, b.getI8Type(), AffineMap(), workgroup));
  // wgmma: the first 1024-byte boundary of the shared window.
  Value base, shift = idx(0);
  if (s.wgmma) {
    base = arith::IndexCastOp::create(
        b, b.getI64Type(), memref::ExtractAlignedPointerAsIndexOp::create(b, raw));
    Value aligned = arith::AndIOp::create(
        b, arith::AddIOp::create(b, base, arith::ConstantOp::create(b, b.getI64IntegerAttr(1023))),
        arith::ConstantOp::create(b, b.getI64IntegerAttr(~int64_t(1023))));
    shift = arith::IndexCastOp::create(b, b.getIndexType(),
                                       arith::SubIOp::create(b, aligned, base));
    base = aligned;
  }
  Value sK = memref::ViewOp::create(b, slotsType, raw, shift, ValueRange{});
  Value sV = memref::ViewOp::create(
      b, slotsType, raw, s.wgmma ? add(shift, idx(slotsBytes)) : idx(slotsBytes),
      ValueRange{});
  Value blockX = launch.getBlockIds().x, blockY = launch.getBlockIds().y,
        batch = launch.getBlockIds().z, tid = launch.getThreadIds().x;
  Value kvHead = decode ? blockY : arith::DivUIOp::create(b, blockY, idx(group));
  Value q0 = decode ? idx(0) : mul(blockX, idx(kRowsPerBlock));
  // Prefill: row r is query q0 + r of this head. Decode: row r is query
  // r % Lq of head kvHead * G + r / Lq.
  auto place = [&](Value r) -> RowPlace {
    if (!decode) {
      Value query = add(q0, r);
      return {blockY, query, lt(query, idx(s.lq))};
    }
    Value head = add(mul(kvHead, idx(group)), arith::DivUIOp::create(b, r, idx(s.lq)));
    return {head, arith::RemUIOp::create(b, r, idx(s.lq)), lt(r, idx(group * s.lq))};
  };
  Value warp = arith::DivUIOp::create(b, tid, idx(32));
  Value lane = arith::RemUIOp::create(b, tid, idx(32));
  Value g = arith::DivUIOp::create(b, lane, idx(4));
  Value c = arith::RemUIOp::create(b, lane, idx(4));
  Value lane16 = arith::RemUIOp::create(b, lane, idx(16));
  Value laneHi = arith::DivUIOp::create(b, lane, idx(16));   // 0 or 1
  Value lane8 = arith::RemUIOp::create(b, lane, idx(8));
  Value laneMid = arith::RemUIOp::create(b, arith::DivUIOp::create(b, lane, idx(8)), idx(2));

  int64_t kSteps = s.d / 16;
  Value slot0 = idx(0);
  Value warpRow = mul(warp, idx(kRowsPerWarp));
  SmallVector<Value> qa;
  Value descQ, descK, descV;
  if (s.wgmma) {
    // Q stays in its region; the tensor cores read all three tiles through
    // descriptors. 8 rows of 128 bytes (1024 bytes) are one swizzle atom:
    // SBO = 1024 for Q and K (K-major, rows along M/N) and for V (N-major,
    // rows along K); V's 64-column panels are LBO = 64 x 128 bytes apart.
    Value sQ = memref::ViewOp::create(
        b, MemRefType::get({1, tileElements}, t, AffineMap(), workgroup), raw,
        add(shift, idx(2 * slotsBytes)), ValueRange{});
    stageQuery(q, batch, place, sQ, slot0, tid);
    auto at = [&](int64_t bytes) {
      return arith::AddIOp::create(b, base,
                                   arith::ConstantOp::create(b, b.getI64IntegerAttr(bytes)));
    };
    descK = descriptor(at(0), 16, 1024);
    descV = descriptor(at(slotsBytes), kKeysPerBlock * 128, 1024);
    descQ = descriptor(at(2 * slotsBytes), 16, 1024);
    ptx("fence.proxy.async.shared::cta;"); // generic writes -> tensor-core reads
    gpu::BarrierOp::create(b);
  } else {
    // Q through the V slots into A fragments (free until the prologue).
    stageQuery(q, batch, place, sV, slot0, tid);
    gpu::BarrierOp::create(b);
    for (int64_t kk = 0; kk < kSteps; ++kk)
      qa.push_back(ldmatrix(sV, slot0, add(warpRow, lane16),
                            add(idx(16 * kk), mul(laneHi, idx(8))), 4, false));
    gpu::BarrierOp::create(b); // the Q tile's slot is free again
  }

  // Visible key blocks of this query block. n = Lk, or the row's key count
  // (clamped to [0, Lk]); query i's diagonal key is i + offset, offset =
  // n - Lq.
  Value count = idx(s.lk);
  if (kvLens) {
    Value raw = memref::LoadOp::create(b, kvLens, ValueRange{batch});
    count = arith::IndexCastOp::create(b, b.getIndexType(), raw);
    count = arith::MinSIOp::create(b, arith::MaxSIOp::create(b, count, idx(0)),
                                   idx(s.lk));
  }
  Value offset = arith::SubIOp::create(b, count, idx(s.lq));
  // (Decode blocks hold every query: q0 = 0 and the last row is Lq - 1.)
  Value lastRow = arith::MinSIOp::create(b, add(q0, idx(kRowsPerBlock - 1)), idx(s.lq - 1));
  int64_t numKeyBlocks = (s.lk + kKeysPerBlock - 1) / kKeysPerBlock;
  Value kbEnd = idx(numKeyBlocks), kbBegin = idx(0);
  if (decode) {
    int64_t chunk = (numKeyBlocks + s.splits - 1) / s.splits;
    kbBegin = mul(blockX, idx(chunk));
    kbEnd = arith::MinSIOp::create(b, add(kbBegin, idx(chunk)), kbEnd);
  }
  if (kvLens) // no block past the row's count
    kbEnd = arith::MinSIOp::create(
        b, kbEnd,
        arith::DivUIOp::create(b, add(count, idx(kKeysPerBlock - 1)), idx(kKeysPerBlock)));
  std::optional<int64_t> right;
  if (s.causal)
    right = 0;
  if (s.window)
    right = right ? std::min(*right, s.window->second) : s.window->second;
  if (right) {
    // last visible key: lastRow + offset + right, so blocks up to its block.
    Value lastKey = add(add(lastRow, offset), idx(*right));
    Value end = arith::FloorDivSIOp::create(b, add(lastKey, idx(kKeysPerBlock)),
                                            idx(kKeysPerBlock));
    end = arith::MaxSIOp::create(b, end, idx(0));
    kbEnd = arith::MinSIOp::create(b, end, kbEnd);
  }
  if (s.window) {
    Value firstKey = arith::SubIOp::create(b, add(q0, offset), idx(s.window->first));
    Value begin = arith::FloorDivSIOp::create(b, firstKey, idx(kKeysPerBlock));
    kbBegin = arith::MaxSIOp::create(b, begin, kbBegin);
  }

  Type f32Type = b.getF32Type();
  Value negInf = f32(-std::numeric_limits<double>::infinity());
  Value zeroC = arith::ConstantOp::create(b, fragC(), b.getZeroAttr(fragC()));
  int64_t nTiles = kKeysPerBlock / 8, oTiles = s.d / 8;
  SmallVector<Value> init(oTiles, zeroC);
  init.append({negInf, negInf, f32(0.0), f32(0.0)}); // m0, m1, l0, l1
  double scaleLog2 = s.scale / std::log(2.0);
  bool raggedKeys = s.lk % kKeysPerBlock != 0;
  bool masks = s.causal || s.window || raggedKeys || kvLens;
  // This lane's two fragment rows: block-local warpRow + g and + 8.
  RowPlace rows[2] = {place(add(warpRow, g)), place(add(warpRow, add(g, idx(8))))};

  // Prologue: the first key block's copies; each iteration then issues the
  // next block's copies into the other slot before computing on this one.
  Value first = mul(kbBegin, idx(kKeysPerBlock));
  TileCopies firstTile = planTile(batch, kvHead, first, count, slot0, tid);
  issueTile(k, sK, firstTile);
  Value pending = issueTile(v, sV, firstTile);
  auto loop = scf::ForOp::create(
      b, kbBegin, kbEnd, one, init,
      [&](OpBuilder &nb, Location loc, Value kb, ValueRange acc) {
        OpBuilder::InsertionGuard ig(b);
        b.setInsertionPoint(nb.getInsertionBlock(), nb.getInsertionPoint());
        Value k0 = mul(kb, idx(kKeysPerBlock));
        Value slot = arith::RemUIOp::create(b, arith::SubIOp::create(b, kb, kbBegin), idx(2));
        Value next = add(kb, one);
        auto prefetch = scf::IfOp::create(b, lt(next, kbEnd), /*withElse=*/true);
        {
          OpBuilder::InsertionGuard pg(b);
          b.setInsertionPointToStart(&prefetch.getThenRegion().front());
          Value nextSlot = arith::SubIOp::create(b, one, slot);
          Value k1 = mul(next, idx(kKeysPerBlock));
          TileCopies tile = planTile(batch, kvHead, k1, count, nextSlot, tid);
          issueTile(k, sK, tile);
          Value group = issueTile(v, sV, tile);
          // This block's two groups are complete once at most two remain.
          nvgpu::DeviceAsyncWaitOp::create(b, group, b.getI32IntegerAttr(2));
          b.setInsertionPointToStart(&prefetch.getElseRegion().front());
          nvgpu::DeviceAsyncWaitOp::create(b, pending, b.getI32IntegerAttr(0));
        }
        if (s.wgmma) // cp.async wrote through the generic proxy
          ptx("fence.proxy.async.shared::cta;");
        gpu::BarrierOp::create(b); // every thread's copies of this block landed

        SmallVector<Value> sAcc(nTiles, zeroC);
        if (s.wgmma) {
          // S = Q K^T: kSteps wgmma m64n64k16, 16 elements of D a step (32
          // bytes into a 128-byte panel row; the swizzle applies to the
          // address), into 32 f32 a thread: tile j's C fragment is
          // registers 4j..4j+3 (rows g, g + 8; columns 2c, 2c + 1).
          Value kDesc = advance(descK, mul(slot, idx(slotBytes)));
          SmallVector<Value> accS(4 * nTiles, LLVM::PoisonOp::create(b, f32Type));
          ptx("wgmma.fence.sync.aligned;");
          for (int64_t kk = 0; kk < kSteps; ++kk) {
            int64_t step = kk / 4 * kKeysPerBlock * 128 + kk % 4 * 32;
            accS = wgmma(kKeysPerBlock, accS, advance(descQ, idx(step)), {},
                         advance(kDesc, idx(step)), /*transB=*/false,
                         /*accumulate=*/kk > 0);
          }
          regsToFrags(wgmmaWait(accS), sAcc);
        } else {
          // S = Q K^T for 8 tiles of 8 keys.
          // One ldmatrix.x4 holds the B fragments of tiles j and j + 1: lanes
          // 0-15 address keys 8j.., lanes 16-31 keys 8(j+1)...
          for (int64_t j = 0; j < nTiles; j += 2)
            for (int64_t kk = 0; kk < kSteps; ++kk) {
              Value bf = ldmatrix(sK, slot, add(idx(8 * j), add(mul(laneHi, idx(8)), lane8)),
                                  add(idx(16 * kk), mul(laneMid, idx(8))), 4, false);
              sAcc[j] = mma(qa[kk], bf, sAcc[j], 0);
              sAcc[j + 1] = mma(qa[kk], bf, sAcc[j + 1], 2);
            }
        }

        // Raw scores, masked to -inf where invisible (the scale, > 0, is
        // folded into the exponent below).
        SmallVector<Value> sc(2 * nTiles * 2); // [half][j][e]
        auto at = [&](int half, int64_t j, int e) -> Value & {
          return sc[(half * nTiles + j) * 2 + e];
        };
        Value scaleV = f32(scaleLog2);
        for (int half = 0; half < 2; ++half)
          for (int64_t j = 0; j < nTiles; ++j)
            for (int e = 0; e < 2; ++e) {
              Value x = vector::ExtractOp::create(b, sAcc[j], ArrayRef<int64_t>{half, e});
              at(half, j, e) = x;
            }
        if (masks) {
          for (int half = 0; half < 2; ++half) {
            Value diag = add(rows[half].query, offset); // the diagonal's key
            for (int64_t j = 0; j < nTiles; ++j)
              for (int e = 0; e < 2; ++e) {
                Value key = add(add(k0, idx(8 * j + e)), mul(c, idx(2)));
                Value vis = lt(key, count);
                auto both = [&](Value cond) { vis = arith::AndIOp::create(b, vis, cond); };
                Value delta = arith::SubIOp::create(b, diag, key); // >= 0 left of it
                if (s.causal)
                  both(arith::CmpIOp::create(b, arith::CmpIPredicate::sge, delta, idx(0)));
                if (s.window) {
                  both(arith::CmpIOp::create(b, arith::CmpIPredicate::sle, delta,
                                             idx(s.window->first)));
                  both(arith::CmpIOp::create(b, arith::CmpIPredicate::sge, delta,
                                             idx(-s.window->second)));
                }
                at(half, j, e) = arith::SelectOp::create(b, vis, at(half, j, e), negInf);
              }
          }
        }

        // Online softmax per row half.
        SmallVector<Value> results(acc.begin(), acc.end());
        SmallVector<Value> alpha(2);
        for (int half = 0; half < 2; ++half) {
          Value mx = at(half, 0, 0);
          for (int64_t j = 0; j < nTiles; ++j)
            for (int e = 0; e < 2; ++e)
              if (j || e)
                mx = arith::MaximumFOp::create(b, mx, at(half, j, e));
          mx = arith::MulFOp::create(b, rowReduce(mx, /*max=*/true), scaleV);
          Value mOld = acc[oTiles + half];
          Value mNew = arith::MaximumFOp::create(b, mOld, mx);
          // A row with no visible key so far keeps m = -inf; subtract 0 then.
          Value isInf = arith::CmpFOp::create(b, arith::CmpFPredicate::OEQ, mNew, negInf);
          Value base = arith::SelectOp::create(b, isInf, f32(0.0), mNew);
          alpha[half] = exp2(arith::SubFOp::create(b, mOld, base));
          Value sum = f32(0.0);
          for (int64_t j = 0; j < nTiles; ++j)
            for (int e = 0; e < 2; ++e) {
              Value p = exp2(math::FmaOp::create(b, at(half, j, e), scaleV,
                                                 arith::NegFOp::create(b, base)));
              at(half, j, e) = p;
              sum = arith::AddFOp::create(b, sum, p);
            }
          results[oTiles + half] = mNew;
          // Each lane keeps a partial row sum; the lanes agree on alpha.
          results[oTiles + 2 + half] = arith::AddFOp::create(
              b, arith::MulFOp::create(b, acc[oTiles + 2 + half], alpha[half]), sum);
        }
        // O *= alpha (row g: C row 0, row g + 8: C row 1).
        Value alphaC = arith::ConstantOp::create(b, fragC(), b.getZeroAttr(fragC()));
        for (int half = 0; half < 2; ++half)
          for (int e = 0; e < 2; ++e)
            alphaC = vector::InsertOp::create(b, alpha[half], alphaC,
                                              ArrayRef<int64_t>{half, e});
        for (int64_t u = 0; u < oTiles; ++u)
          results[u] = arith::MulFOp::create(b, acc[u], alphaC);

        // P as A fragments: 16-key step st takes tiles 2 st (columns 0-7)
        // and 2 st + 1 (columns 8-15).
        SmallVector<Value> pa;
        Value aInit = arith::ConstantOp::create(b, fragA(), b.getZeroAttr(fragA()));
        for (int64_t st = 0; st < nTiles / 2; ++st) {
          Value a = aInit;
          for (int reg = 0; reg < 4; ++reg) {
            int half = reg % 2;
            int64_t j = 2 * st + reg / 2;
            for (int e = 0; e < 2; ++e) {
              Value p = arith::TruncFOp::create(b, t, at(half, j, e));
              a = vector::InsertOp::create(b, p, a, ArrayRef<int64_t>{reg, e});
            }
          }
          pa.push_back(a);
        }
        if (s.wgmma) {
          // O += P V: wgmma m64nDk16 per 16 keys, P from registers (the A
          // layout is mma.sync's), V N-major: 16 keys are 16 rows of 128
          // bytes on.
          SmallVector<Value> accO = fragsToRegs(ArrayRef<Value>(results).take_front(oTiles));
          SmallVector<Value> pRegs;
          for (Value a : pa)
            for (int64_t r = 0; r < 4; ++r) {
              Value pair = vector::ExtractOp::create(b, a, ArrayRef<int64_t>{r});
              pair = vector::BitCastOp::create(b, VectorType::get({1}, b.getI32Type()), pair);
              pRegs.push_back(vector::ExtractOp::create(b, pair, ArrayRef<int64_t>{0}));
            }
          accO = pin(accO);
          pRegs = pin(pRegs);
          Value vDesc = advance(descV, mul(slot, idx(slotBytes)));
          ptx("wgmma.fence.sync.aligned;");
          for (int64_t st = 0; st < nTiles / 2; ++st)
            accO = wgmma(s.d, accO, Value(), ArrayRef<Value>(pRegs).slice(4 * st, 4),
                         advance(vDesc, idx(16 * 128 * st)), /*transB=*/true,
                         /*accumulate=*/true);
          regsToFrags(wgmmaWait(accO),
                      MutableArrayRef<Value>(results).take_front(oTiles));
        } else {
          // O += P V.
          // One ldmatrix.x4.trans holds the B fragments of value columns 8u..
          // (lanes 0-15) and 8(u+1).. (lanes 16-31).
          for (int64_t u = 0; u < oTiles; u += 2)
            for (int64_t st = 0; st < nTiles / 2; ++st) {
              Value bf = ldmatrix(sV, slot, add(idx(16 * st), lane16),
                                  add(idx(8 * u), mul(laneHi, idx(8))), 4,
                                  /*transpose=*/true);
              results[u] = mma(pa[st], bf, results[u], 0);
              results[u + 1] = mma(pa[st], bf, results[u + 1], 2);
            }
        }
        gpu::BarrierOp::create(b); // this slot may be overwritten next
        scf::YieldOp::create(b, results);
      });

  // A block without visible keys never waited for the prologue's copies.
  nvgpu::DeviceAsyncWaitOp::create(b, pending, b.getI32IntegerAttr(0));

  // Epilogue: O / l, lse = (m + log2 l) ln 2.
  ValueRange fin = loop.getResults();
  for (int half = 0; half < 2; ++half) {
    Value l = rowReduce(fin[oTiles + 2 + half], /*max=*/false);
    Value m = fin[oTiles + half];
    RowPlace at = rows[half];
    Value empty = arith::CmpFOp::create(b, arith::CmpFPredicate::OLE, l, f32(0.0));
    Value inv = arith::SelectOp::create(
        b, empty, f32(0.0), arith::DivFOp::create(b, f32(1.0), l));
    auto store = scf::IfOp::create(b, at.valid, false);
    OpBuilder::InsertionGuard ig(b);
    b.setInsertionPointToStart(&store.getThenRegion().front());
    Type pairType = VectorType::get({2}, decode ? f32Type : t);
    for (int64_t u = 0; u < oTiles; ++u) {
      Value pair = arith::ConstantOp::create(b, pairType, b.getZeroAttr(pairType));
      for (int e = 0; e < 2; ++e) {
        Value o = vector::ExtractOp::create(b, fin[u], ArrayRef<int64_t>{half, e});
        o = arith::MulFOp::create(b, o, inv);
        if (!decode)
          o = arith::TruncFOp::create(b, t, o);
        pair = vector::InsertOp::create(b, o, pair, ArrayRef<int64_t>{e});
      }
      Value col = add(idx(8 * u), mul(c, idx(2)));
      auto st = decode ? vector::StoreOp::create(
                             b, pair, oPart,
                             ValueRange{blockX, batch, at.head, at.query, col})
                       : vector::StoreOp::create(
                             b, pair, out, ValueRange{batch, at.head, at.query, col});
      st.setAlignment(decode ? 8 : 4);
    }
    if (lse || decode) {
      Value first = arith::CmpIOp::create(b, arith::CmpIPredicate::eq, c, idx(0));
      auto w = scf::IfOp::create(b, first, false);
      b.setInsertionPointToStart(&w.getThenRegion().front());
      Value log2l = LLVM::CallIntrinsicOp::create(
                        b, b.getF32Type(), b.getStringAttr("llvm.nvvm.lg2.approx.f"),
                        ValueRange{l})
                        .getResult(0);
      Value val = arith::MulFOp::create(b, arith::AddFOp::create(b, m, log2l),
                                        f32(std::log(2.0)));
      val = arith::SelectOp::create(b, empty, negInf, val);
      if (decode)
        memref::StoreOp::create(b, val, lsePart,
                                ValueRange{blockX, batch, at.head, at.query});
      else
        memref::StoreOp::create(b, val, lse, ValueRange{batch, at.head, at.query});
    }
  }
  gpu::TerminatorOp::create(b);
  }
  if (decode) // b is after the kernel's launch again
    emitSplitMerge(b, {s.splits, s.batch, s.heads, s.lq, s.d}, out, lse, oPart, lsePart);
}

struct TileAttentionForGpu : OpRewritePattern<AttentionOp> {
  TileAttentionForGpu(MLIRContext *ctx, bool wgmma)
      : OpRewritePattern(ctx), wgmma(wgmma) {}
  bool wgmma;

  LogicalResult matchAndRewrite(AttentionOp op,
                                PatternRewriter &rewriter) const override {
    auto qType = op.getQuery().getType();
    auto kType = op.getKey().getType();
    auto vType = op.getValue().getType();
    if (!qType.hasStaticShape() || !kType.hasStaticShape() || !vType.hasStaticShape())
      return rewriter.notifyMatchFailure(op, "dynamic shapes take the naive path");
    Type et = qType.getElementType();
    if (!et.isF16() && !et.isBF16())
      return rewriter.notifyMatchFailure(op, "tensor cores take f16/bf16");
    if (op.getMask() || !op.getScoreMod().empty() || !op.getMaskMod().empty() ||
        op.getKvNumBlocks() || op.getFullKvNumBlocks() || op.getSinks() ||
        op.getSoftcap())
      return rewriter.notifyMatchFailure(op, "only causal/window visibility");
    int64_t d = qType.getDimSize(3);
    if (vType.getDimSize(3) != d || (d != 64 && d != 128))
      return rewriter.notifyMatchFailure(op, "D = Dv in {64, 128}");
    if (qType.getDimSize(2) == 0 || kType.getDimSize(2) == 0)
      return rewriter.notifyMatchFailure(op, "empty sequences take the naive path");
    // The kernel takes row maxima of unscaled scores and folds the scale
    // into the exponent, which needs scale > 0 (the verifier allows < 0).
    if (op.getEffectiveScale() <= 0)
      return rewriter.notifyMatchFailure(op, "a negative scale takes the generic path");

    ImplicitLocOpBuilder b(op.getLoc(), rewriter);
    SmallVector<Value> args = {readOnlyBuffer(b, op.getQuery()),
                               readOnlyBuffer(b, op.getKey()),
                               readOnlyBuffer(b, op.getValue()),
                               freshBuffer(b, op.getOut().getType(), 256)};
    if (op.getLse())
      args.push_back(freshBuffer(b, op.getLse().getType(), 256));
    // Runtime caches, read in place: key counts, then the page table.
    if (op.getKvLens())
      args.push_back(readOnlyBuffer(b, op.getKvLens()));
    if (op.getBlockTable())
      args.push_back(readOnlyBuffer(b, op.getBlockTable()));

    // A private declaration per call site, named uniquely in the module.
    auto module = op->getParentOfType<ModuleOp>();
    auto fnType = b.getFunctionType(ValueRange(args).getTypes(), {});
    func::FuncOp decl;
    {
      std::string name;
      for (int n = 0; name.empty() || module.lookupSymbol(name); ++n)
        name = "__attn_gpu_flash_" + std::to_string(n);
      OpBuilder::InsertionGuard g(rewriter);
      rewriter.setInsertionPointToStart(module.getBody());
      decl = func::FuncOp::create(rewriter, op.getLoc(), name, fnType);
      decl.setPrivate();
    }
    SmallVector<NamedAttribute> params = {
        b.getNamedAttr("kernel", b.getStringAttr("flash")),
        b.getNamedAttr("scale", b.getF64FloatAttr(op.getEffectiveScale()))};
    if (op.getCausal())
      params.push_back(b.getNamedAttr("causal", b.getUnitAttr()));
    if (auto w = op.getWindow())
      params.push_back(b.getNamedAttr("window", b.getDenseI64ArrayAttr(*w)));
    if (op.getLse())
      params.push_back(b.getNamedAttr("lse", b.getUnitAttr()));
    if (op.getKvLens())
      params.push_back(b.getNamedAttr("kv_lens", b.getUnitAttr()));
    if (op.getBlockTable())
      params.push_back(b.getNamedAttr("paged", b.getUnitAttr()));
    if (wgmma)
      params.push_back(b.getNamedAttr("wgmma", b.getUnitAttr()));
    auto call = func::CallOp::create(b, decl, args);
    call->setAttr(kGpuKernelAttr, b.getDictionaryAttr(params));

    SmallVector<Value> results = {resultTensor(b, args[3], op.getOut().getType())};
    if (op.getLse())
      results.push_back(resultTensor(b, args[4], op.getLse().getType()));
    rewriter.replaceOp(op, results);
    return success();
  }
};

struct AttnGpuTilePass : attn::impl::AttnGpuTileBase<AttnGpuTilePass> {
  using AttnGpuTileBase::AttnGpuTileBase;
  void runOnOperation() override {
    RewritePatternSet patterns(&getContext());
    patterns.add<TileAttentionForGpu>(&getContext(), wgmma);
    populateGpuChunkwisePatterns(patterns);
    populateGpuCompressedPatterns(patterns);
    populateGpuPqPatterns(patterns);
    populateGpuRecurrentStepPatterns(patterns);
    if (failed(applyPatternsGreedily(getOperation(), std::move(patterns))))
      return signalPassFailure();
  }
};

} // namespace

LogicalResult attn::expandGpuKernelCall(func::CallOp call) {
  // attn-gpu-tile writes these calls; one written by hand is checked as
  // closely, so that a wrong one is a diagnostic, not a wrong kernel.
  auto fail = [&](const Twine &why) {
    return call.emitError("attn-gpu-map: malformed ") << kGpuKernelAttr << " call: " << why;
  };
  auto params = call->getAttrOfType<DictionaryAttr>(kGpuKernelAttr);
  if (params && params.getAs<StringAttr>("kernel") == "chunkwise")
    return expandChunkwiseCall(call);
  if (params && params.getAs<StringAttr>("kernel") == "compressed_decode")
    return expandCompressedDecodeCall(call);
  if (params && params.getAs<StringAttr>("kernel") == "pq_decode")
    return expandPqDecodeCall(call);
  if (params && params.getAs<StringAttr>("kernel") == "recurrent_step")
    return expandRecurrentStepCall(call);
  if (!params || params.getAs<StringAttr>("kernel") != "flash")
    return fail("the attribute must be a dictionary with kernel = \"flash\", "
                "\"chunkwise\", \"compressed_decode\", \"pq_decode\" or "
                "\"recurrent_step\"");
  // q, k, v, out, then lse, kv_lens and the page table when the
  // parameters name them.
  const bool hasLse = static_cast<bool>(params.get("lse"));
  bool hasLens = static_cast<bool>(params.get("kv_lens"));
  bool paged = static_cast<bool>(params.get("paged"));
  unsigned expected = 4 + hasLse + hasLens + paged;
  if (call.getNumOperands() != expected)
    return fail("expected q, k, v, out and the lse, kv_lens and page table "
                "buffers its parameters name");
  auto type = [&](unsigned i) { return dyn_cast<MemRefType>(call.getOperand(i).getType()); };
  for (unsigned i = 0; i < 4; ++i)
    if (!type(i) || !type(i).hasStaticShape() || type(i).getRank() != 4 ||
        !type(i).getLayout().isIdentity())
      return fail("operand " + Twine(i) + " must be a static rank-4 identity memref");
  MemRefType qType = type(0), kType = type(1), vType = type(2), oType = type(3);
  Type et = qType.getElementType();
  int64_t d = qType.getDimSize(3);
  if (!et.isF16() && !et.isBF16())
    return fail("q must hold f16 or bf16");
  if (kType.getElementType() != et || vType.getElementType() != et ||
      oType.getElementType() != et)
    return fail("q, k, v and out must share their element type");
  unsigned next = 4;
  Value lse = hasLse ? call.getOperand(next++) : Value();
  Value kvLens = hasLens ? call.getOperand(next++) : Value();
  Value table = paged ? call.getOperand(next++) : Value();
  // Keys a row can have: Lk, or pages x page size through the table.
  int64_t lk = kType.getDimSize(2);
  if (table) {
    auto tType = dyn_cast<MemRefType>(table.getType());
    if (!tType || !tType.hasStaticShape() || tType.getRank() != 2 ||
        !tType.getElementType().isInteger(32) ||
        tType.getDimSize(0) != qType.getDimSize(0) || kType.getDimSize(0) < 1)
      return fail("the page table must be an i32 memref [B, NP] over a non-empty pool");
    lk = tType.getDimSize(1) * kType.getDimSize(2);
  }
  if ((d != 64 && d != 128) || kType.getDimSize(3) != d || vType.getDimSize(3) != d ||
      oType.getShape() != qType.getShape() || kType.getShape() != vType.getShape() ||
      (!table && kType.getDimSize(0) != qType.getDimSize(0)) ||
      kType.getDimSize(1) == 0 || qType.getDimSize(1) % kType.getDimSize(1) != 0 ||
      qType.getDimSize(2) == 0 || lk == 0)
    return fail("shapes must be q/out [B, Hq, Lq, D], k/v [B, Hkv, Lk, D] (or page "
                "pools [P, Hkv, PS, D]) with D in {64, 128}, Hq % Hkv == 0 and "
                "non-empty sequences");
  if (lse) {
    MemRefType lType = dyn_cast<MemRefType>(lse.getType());
    if (!lType || !lType.getElementType().isF32() ||
        lType.getShape() != qType.getShape().drop_back())
      return fail("lse must be an f32 memref of shape [B, Hq, Lq]");
  }
  if (kvLens) {
    auto nType = dyn_cast<MemRefType>(kvLens.getType());
    if (!nType || !nType.getElementType().isInteger(32) ||
        nType.getShape() != ArrayRef<int64_t>{qType.getDimSize(0)})
      return fail("kv_lens must be an i32 memref [B]");
  }
  auto scale = params.getAs<FloatAttr>("scale");
  if (!scale || !std::isfinite(scale.getValueAsDouble()) || scale.getValueAsDouble() <= 0)
    return fail("scale must be a finite positive float");
  auto window = params.get("window");
  auto w = dyn_cast_or_null<DenseI64ArrayAttr>(window);
  if (window && (!w || w.size() != 2 || w[0] < 0 || w[1] < 0))
    return fail("window must be two non-negative i64");
  GpuFlashShape s;
  s.batch = qType.getDimSize(0);
  s.heads = qType.getDimSize(1);
  s.lq = qType.getDimSize(2);
  s.d = qType.getDimSize(3);
  s.kvHeads = kType.getDimSize(1);
  s.lk = lk;
  s.kvLens = static_cast<bool>(kvLens);
  s.paged = static_cast<bool>(table);
  if (table) {
    s.pageSize = kType.getDimSize(2);
    s.pages = kType.getDimSize(0);
  }
  s.elementType = qType.getElementType();
  s.scale = scale.getValueAsDouble();
  s.causal = static_cast<bool>(params.get("causal"));
  s.wgmma = static_cast<bool>(params.get("wgmma"));
  if (w)
    s.window = {w[0], w[1]};
  ImplicitLocOpBuilder b(call.getLoc(), call);
  // Decode shapes (the G x Lq rows of a kv head fit one tile, several key
  // blocks): split-KV over enough blocks to give every multiprocessor of a
  // large GPU (132 on an H100) about four.
  int64_t group = s.heads / s.kvHeads;
  int64_t keyBlocks = (s.lk + kKeysPerBlock - 1) / kKeysPerBlock;
  Value oPart, lsePart;
  if (group * s.lq <= 64 && keyBlocks >= 2) {
    s.splits = splitKvSplits(s.batch * s.kvHeads, keyBlocks);
    auto alloc = [&](ArrayRef<int64_t> shape) -> Value {
      return gpu::AllocOp::create(b, MemRefType::get(shape, b.getF32Type()),
                                  /*asyncToken=*/Type(), ValueRange{}, ValueRange{},
                                  ValueRange{}, /*hostShared=*/false)
          .getMemref();
    };
    oPart = alloc({s.splits, s.batch, s.heads, s.lq, s.d});
    lsePart = alloc({s.splits, s.batch, s.heads, s.lq});
  }
  GpuFlashEmitter(b, s).emit(call.getOperand(0), call.getOperand(1),
                             call.getOperand(2), call.getOperand(3), lse, oPart,
                             lsePart, kvLens, table);
  for (Value part : {oPart, lsePart})
    if (part)
      gpu::DeallocOp::create(b, /*asyncToken=*/Type(), ValueRange{}, part);
  call.erase();
  return success();
}
