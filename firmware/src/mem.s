@ memcpy, memmove, memset and the ARM EABI aliases the compiler calls, for Thumb-2 (ARMv7-M,
@ ARMv8-M Mainline): see mem.rs for why they are here.
    .syntax unified
    .thumb
    .text

@ memcpy(dst r0, src r1, n r2) -> dst
    .global memcpy
    .global __aeabi_memcpy
    .global __aeabi_memcpy4
    .global __aeabi_memcpy8
    .type memcpy, %function
    .thumb_func
memcpy:
__aeabi_memcpy:
__aeabi_memcpy4:
__aeabi_memcpy8:
    mov     r3, r0
    orr     r12, r0, r1
    tst     r12, #3
    bne     2f
1:  subs    r2, r2, #4
    blo     3f
    ldr     r12, [r1], #4
    str     r12, [r3], #4
    b       1b
3:  adds    r2, r2, #4
2:  cbz     r2, 4f
    ldrb    r12, [r1], #1
    strb    r12, [r3], #1
    subs    r2, r2, #1
    b       2b
4:  bx      lr
    .size memcpy, . - memcpy

@ memmove(dst r0, src r1, n r2) -> dst: forward unless dst lies inside [src, src + n).
    .global memmove
    .global __aeabi_memmove
    .global __aeabi_memmove4
    .global __aeabi_memmove8
    .type memmove, %function
    .thumb_func
memmove:
__aeabi_memmove:
__aeabi_memmove4:
__aeabi_memmove8:
    subs    r3, r0, r1
    cmp     r3, r2
    bhs     memcpy
    @ Backward, one byte at a time (ryu's digit shifts are a few bytes).
1:  cbz     r2, 2f
    subs    r2, r2, #1
    ldrb    r12, [r1, r2]
    strb    r12, [r0, r2]
    b       1b
2:  bx      lr
    .size memmove, . - memmove

@ __aeabi_memclr(dst r0, n r1)
    .global __aeabi_memclr
    .global __aeabi_memclr4
    .global __aeabi_memclr8
    .type __aeabi_memclr, %function
    .thumb_func
__aeabi_memclr:
__aeabi_memclr4:
__aeabi_memclr8:
    mov     r2, r1
    movs    r1, #0
    b       memset
    .size __aeabi_memclr, . - __aeabi_memclr

@ __aeabi_memset(dst r0, n r1, c r2): memset with its last two arguments swapped.
    .global __aeabi_memset
    .global __aeabi_memset4
    .global __aeabi_memset8
    .type __aeabi_memset, %function
    .thumb_func
__aeabi_memset:
__aeabi_memset4:
__aeabi_memset8:
    mov     r3, r1
    mov     r1, r2
    mov     r2, r3
    b       memset
    .size __aeabi_memset, . - __aeabi_memset

@ memset(dst r0, c r1, n r2) -> dst
    .global memset
    .type memset, %function
    .thumb_func
memset:
    mov     r3, r0
    uxtb    r1, r1
    orr     r1, r1, r1, lsl #8
    orr     r1, r1, r1, lsl #16
    tst     r0, #3
    bne     2f
1:  subs    r2, r2, #4
    blo     3f
    str     r1, [r3], #4
    b       1b
3:  adds    r2, r2, #4
2:  cbz     r2, 4f
    strb    r1, [r3], #1
    subs    r2, r2, #1
    b       2b
4:  bx      lr
    .size memset, . - memset
