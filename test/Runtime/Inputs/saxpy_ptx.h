/*===- saxpy_ptx.h - a hand-written PTX kernel for the CUDA tests -*- C -*-===*
 *
 * saxpy(x, y, a, n): y[i] = fma(a, x[i], y[i]) for i < n, one element per
 * thread, i = ctaid.x * ntid.x + tid.x. x and y are float pointers, a is a
 * float and n a 32-bit unsigned count. PTX for sm_90 JIT-compiles on any
 * later GPU too. Not const: mgpuModuleLoadJIT takes a plain pointer.
 *
 *===----------------------------------------------------------------------===*/

#ifndef ATTN_TEST_SAXPY_PTX_H
#define ATTN_TEST_SAXPY_PTX_H

static char kSaxpyPtx[] =
    ".version 8.0\n"
    ".target sm_90\n"
    ".address_size 64\n"
    "\n"
    ".visible .entry saxpy(\n"
    "    .param .u64 saxpy_x,\n"
    "    .param .u64 saxpy_y,\n"
    "    .param .f32 saxpy_a,\n"
    "    .param .u32 saxpy_n)\n"
    "{\n"
    "    .reg .pred %p<2>;\n"
    "    .reg .b32 %r<6>;\n"
    "    .reg .f32 %f<5>;\n"
    "    .reg .b64 %rd<8>;\n"
    "\n"
    "    ld.param.u64 %rd1, [saxpy_x];\n"
    "    ld.param.u64 %rd2, [saxpy_y];\n"
    "    ld.param.f32 %f1, [saxpy_a];\n"
    "    ld.param.u32 %r1, [saxpy_n];\n"
    "    mov.u32 %r2, %ctaid.x;\n"
    "    mov.u32 %r3, %ntid.x;\n"
    "    mov.u32 %r4, %tid.x;\n"
    "    mad.lo.u32 %r5, %r2, %r3, %r4;\n"
    "    setp.ge.u32 %p1, %r5, %r1;\n"
    "    @%p1 bra DONE;\n"
    "    cvta.to.global.u64 %rd3, %rd1;\n"
    "    cvta.to.global.u64 %rd4, %rd2;\n"
    "    mul.wide.u32 %rd5, %r5, 4;\n"
    "    add.s64 %rd6, %rd3, %rd5;\n"
    "    add.s64 %rd7, %rd4, %rd5;\n"
    "    ld.global.f32 %f2, [%rd6];\n"
    "    ld.global.f32 %f3, [%rd7];\n"
    "    fma.rn.f32 %f4, %f1, %f2, %f3;\n"
    "    st.global.f32 [%rd7], %f4;\n"
    "DONE:\n"
    "    ret;\n"
    "}\n";

#endif /* ATTN_TEST_SAXPY_PTX_H */
