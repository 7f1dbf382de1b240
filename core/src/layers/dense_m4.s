@ Cortex-M4F kernels of the dense layer (see dense_m4.rs for why they are assembly).
@
@ Each output's sum still starts where the Rust code starts it and adds one rounded product at a
@ time in increasing order: vmla.f32 / vmls.f32 are the non-fused multiply-accumulates of the VFP
@ (the product is rounded, then the sum), so every result has the bits of the plain Rust loops.
@ All kernels assume n, the inputs per row, is a non-zero multiple of eight and rows >= 1; they
@ follow the AAPCS-VFP (r0-r3, s0-s15 and r12 are scratch; r4-r11 and s16-s31 are saved).

    .syntax unified
    .thumb
    .fpu    fpv4-sp-d16

@ A kernel's entry: a section of its own (the linker drops unused kernels), global, Thumb.
.macro kernel name
    .section .text.\name,"ax",%progbits
    .global \name
    .type   \name,%function
    .p2align 2
    .thumb_func
\name:
.endm

@ `\op d, a, b` for eight lanes (d, a) with the same b: the M4's VFP has no vector form.
.macro lanes8 op, b, d0, a0, d1, a1, d2, a2, d3, a3, d4, a4, d5, a5, d6, a6, d7, a7
    \op \d0, \a0, \b
    \op \d1, \a1, \b
    \op \d2, \a2, \b
    \op \d3, \a3, \b
    \op \d4, \a4, \b
    \op \d5, \a5, \b
    \op \d6, \a6, \b
    \op \d7, \a7, \b
.endm

@ The row loops of sgd and grad: for each row o (r5 rows, dy in r4, the row's bias or bias
@ gradient at r3, its weights or gradients at r1, stride r6), the body between these two runs
@ over eight columns at a time with x in s8-s15 and the row's values in s16-s23.
.macro row_columns
    mov     r8, r0
    mov     r9, r1
    mov     r12, r2
1:  vldmia  r8!, {s8-s15}            @ x
    vldm    r9, {s16-s23}            @ this row's weights (or gradients)
.endm

.macro row_columns_end
    vstmia  r9!, {s16-s23}
    subs    r12, r12, #1
    bne     1b
5:  add     r1, r1, r6
    adds    r3, r3, #4
    subs    r5, r5, #1
    bne     2b
    vpop    {d8-d11}
    pop     {r4-r6, r8, r9, pc}
.endm

@ void tinytrain_m4_forward(const float *x, const float *w, size_t n, float *y, const float *bias, size_t rows)
    kernel tinytrain_m4_forward
@ y[o] = bias[o] + sum_i w[o][i]*x[i]. Four rows per pass share each vldmia of eight inputs:
@ 39 instructions per 32 MACs; a last one to three rows go one at a time.
    push    {r4-r6, r8-r11, lr}
    vpush   {d8-d13}
    ldr     r4, [sp, #80]            @ bias (stack arguments start above 32 + 48 saved bytes)
    ldr     r5, [sp, #84]            @ rows
    lsls    r6, r2, #2               @ row stride in bytes
    lsrs    r2, r2, #3               @ trips of eight inputs
    cmp     r5, #4
    blo     3f
2:  vldmia  r4!, {s24-s27}           @ four sums start from their biases
    add     r9, r1, r6
    add     r10, r9, r6
    add     r11, r10, r6
    mov     r8, r0
    mov     r12, r2
1:  vldmia  r8!, {s0-s7}             @ eight inputs for four rows
    vldmia  r1!, {s8-s15}
    vldmia  r9!, {s16-s23}
    vmla.f32 s24, s8, s0
    vmla.f32 s25, s16, s0
    vmla.f32 s24, s9, s1
    vmla.f32 s25, s17, s1
    vmla.f32 s24, s10, s2
    vmla.f32 s25, s18, s2
    vmla.f32 s24, s11, s3
    vmla.f32 s25, s19, s3
    vmla.f32 s24, s12, s4
    vmla.f32 s25, s20, s4
    vmla.f32 s24, s13, s5
    vmla.f32 s25, s21, s5
    vmla.f32 s24, s14, s6
    vmla.f32 s25, s22, s6
    vmla.f32 s24, s15, s7
    vmla.f32 s25, s23, s7
    vldmia  r10!, {s8-s15}
    vldmia  r11!, {s16-s23}
    vmla.f32 s26, s8, s0
    vmla.f32 s27, s16, s0
    vmla.f32 s26, s9, s1
    vmla.f32 s27, s17, s1
    vmla.f32 s26, s10, s2
    vmla.f32 s27, s18, s2
    vmla.f32 s26, s11, s3
    vmla.f32 s27, s19, s3
    vmla.f32 s26, s12, s4
    vmla.f32 s27, s20, s4
    vmla.f32 s26, s13, s5
    vmla.f32 s27, s21, s5
    vmla.f32 s26, s14, s6
    vmla.f32 s27, s22, s6
    vmla.f32 s26, s15, s7
    vmla.f32 s27, s23, s7
    subs    r12, r12, #1
    bne     1b
    vstmia  r3!, {s24-s27}
    mov     r1, r11                  @ the next block starts after the fourth row
    subs    r5, r5, #4
    cmp     r5, #4
    bhs     2b
3:  cbz     r5, 9f
4:  vldmia  r4!, {s24}
    mov     r8, r0
    mov     r12, r2
1:  vldmia  r8!, {s0-s7}
    vldmia  r1!, {s8-s15}
    vmla.f32 s24, s8, s0
    vmla.f32 s24, s9, s1
    vmla.f32 s24, s10, s2
    vmla.f32 s24, s11, s3
    vmla.f32 s24, s12, s4
    vmla.f32 s24, s13, s5
    vmla.f32 s24, s14, s6
    vmla.f32 s24, s15, s7
    subs    r12, r12, #1
    bne     1b
    vstmia  r3!, {s24}
    subs    r5, r5, #1
    bne     4b
9:  vpop    {d8-d13}
    pop     {r4-r6, r8-r11, pc}
    .size   tinytrain_m4_forward, .-tinytrain_m4_forward

@ void tinytrain_m4_input_grad(const float *w, const float *dy, size_t rows, size_t n, float *dx)
    kernel tinytrain_m4_input_grad
@ dx[i] = +0 + sum_o w[o][i]*dy[o], o increasing. Eight columns' sums stay in s16-s23 while the
@ loop walks down W (one vldm and eight vmla per row), so dx is stored once per column block.
    push    {r4-r6, r8, r9, lr}
    vpush   {d8-d11}
    ldr     r12, [sp, #56]           @ dx
    lsls    r4, r3, #2               @ row stride in bytes
    lsrs    r3, r3, #3               @ blocks of eight columns
    movs    r5, #0
2:  vmov    s16, s17, r5, r5         @ the sums start from +0
    vmov    s18, s19, r5, r5
    vmov    s20, s21, r5, r5
    vmov    s22, s23, r5, r5
    mov     r6, r0
    mov     r8, r1
    mov     r9, r2
1:  vldmia  r8!, {s0}                @ dy[o]
    vldm    r6, {s8-s15}             @ w[o][8c..8c+8]
    add     r6, r6, r4
    lanes8  vmla.f32, s0, s16, s8, s17, s9, s18, s10, s19, s11, s20, s12, s21, s13, s22, s14, s23, s15
    subs    r9, r9, #1
    bne     1b
    vstmia  r12!, {s16-s23}
    adds    r0, r0, #32
    subs    r3, r3, #1
    bne     2b
    vpop    {d8-d11}
    pop     {r4-r6, r8, r9, pc}
    .size   tinytrain_m4_input_grad, .-tinytrain_m4_input_grad

@ void tinytrain_m4_sgd(const float *x, float *w, size_t n, float *b, const float *dy, size_t rows, float lr)
    kernel tinytrain_m4_sgd
@ Plain SGD fused into backward: for each row with dy != 0, b -= lr*dy and w[i] -= lr*(dy*x[i]).
    push    {r4-r6, r8, r9, lr}
    vpush   {d8-d11}
    ldr     r4, [sp, #56]            @ dy
    ldr     r5, [sp, #60]            @ rows
    vmov.f32 s1, s0                  @ lr
    lsls    r6, r2, #2               @ row stride in bytes
    lsrs    r2, r2, #3               @ trips of eight
2:  vldmia  r4!, {s0}                @ dy[o]
    vcmp.f32 s0, #0
    vmrs    APSR_nzcv, fpscr
    beq     5f                       @ dy = +-0: the row's gradient is +0, skip it
    vldr    s2, [r3]
    vmls.f32 s2, s1, s0              @ b -= lr*dy
    vstr    s2, [r3]
    row_columns
    lanes8  vmul.f32, s0, s8, s8, s9, s9, s10, s10, s11, s11, s12, s12, s13, s13, s14, s14, s15, s15   @ dy*x
    lanes8  vmls.f32, s1, s16, s8, s17, s9, s18, s10, s19, s11, s20, s12, s21, s13, s22, s14, s23, s15   @ w - lr*(dy*x)
    row_columns_end
    .size   tinytrain_m4_sgd, .-tinytrain_m4_sgd

@ void tinytrain_m4_grad(const float *x, float *g, size_t n, float *bias_grad, const float *dy, size_t rows)
    kernel tinytrain_m4_grad
@ Gradient accumulation: bias_grad[o] += dy[o]; for dy != 0, g[o][i] += dy*x[i].
    push    {r4-r6, r8, r9, lr}
    vpush   {d8-d11}
    ldr     r4, [sp, #56]            @ dy
    ldr     r5, [sp, #60]            @ rows
    lsls    r6, r2, #2               @ row stride in bytes
    lsrs    r2, r2, #3               @ trips of eight
2:  vldmia  r4!, {s0}                @ dy[o]
    vldr    s2, [r3]
    vadd.f32 s2, s2, s0              @ bias_grad += dy
    vstr    s2, [r3]
    vcmp.f32 s0, #0
    vmrs    APSR_nzcv, fpscr
    beq     5f                       @ dy = +-0: the row's gradient is +0, skip it
    row_columns
    lanes8  vmla.f32, s0, s16, s8, s17, s9, s18, s10, s19, s11, s20, s12, s21, s13, s22, s14, s23, s15   @ g + dy*x
    row_columns_end
    .size   tinytrain_m4_grad, .-tinytrain_m4_grad
