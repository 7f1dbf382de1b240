//! Single-precision square root, correctly rounded, so every target gets the same bits.
//!
//! On a Cortex-M4F it is one `vsqrt.f32`, where `libm::sqrtf` is a software loop (15% of an Adam
//! step, and 224 B of flash). Every square root of the core goes through it. It is a `global_asm!` function rather than an `asm!` block for the reason given in
//! `layers/dense_m4.rs`: stable rustc rejects `s` register operands on this target.
#![allow(unsafe_code)]

/// `√x`: `vsqrt.f32` on a Cortex-M4F.
#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
#[inline(always)]
pub(crate) fn sqrt(x: f32) -> f32 {
    extern "C" {
        fn tinytrain_m4_sqrt(x: f32) -> f32;
    }
    // SAFETY: a leaf function that reads and writes s0 under the AAPCS-VFP; no memory access.
    unsafe { tinytrain_m4_sqrt(x) }
}

#[cfg(all(target_arch = "arm", target_abi = "eabihf"))]
core::arch::global_asm!(
    ".syntax unified
    .thumb
    .fpu fpv4-sp-d16
    .section .text.tinytrain_m4_sqrt,\"ax\",%progbits
    .global tinytrain_m4_sqrt
    .type tinytrain_m4_sqrt,%function
    .p2align 2
    .thumb_func
    tinytrain_m4_sqrt:
    vsqrt.f32 s0, s0
    bx lr"
);

/// `√x`: `libm::sqrtf` (`sqrtss` on x86-64, software on cores without an FPU).
#[cfg(not(all(target_arch = "arm", target_abi = "eabihf")))]
#[inline(always)]
pub(crate) fn sqrt(x: f32) -> f32 {
    libm::sqrtf(x)
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_libm_bit_for_bit() {
        for x in [0.0f32, 1e-30, 2.0, 0.25, 3.0e7, f32::MAX, 1.5e-40] {
            assert_eq!(super::sqrt(x).to_bits(), libm::sqrtf(x).to_bits());
        }
    }
}
