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
    /// Against `f64`'s square root rounded to `f32`, which is the correctly rounded `f32` root (a
    /// 53-bit root rounded to 24 bits never double-rounds: 53 ≥ 2·24 + 2), on every binade (normal
    /// and subnormal) and a million random bit patterns. On the host this checks `libm::sqrtf`; the
    /// `vsqrt.f32` path gives the same bits in QEMU (`tests/tests/firmware_qemu.rs`, Adam on digits).
    #[test]
    fn is_the_correctly_rounded_root() {
        let reference = |x: f32| (f64::from(x)).sqrt() as f32;
        let mut rng = crate::rng::Pcg32::new(5, 9);
        let special = [
            0.0f32,
            -0.0,
            1e-45,
            1.5e-40,
            0.25,
            2.0,
            3.0e7,
            f32::MAX,
            f32::INFINITY,
        ];
        let binades = (0..255u32).map(|e| f32::from_bits(e << 23 | 0x2a_5a5a));
        let random = (0..1_000_000).map(|_| f32::from_bits(rng.next_u32() & 0x7fff_ffff));
        for x in special.into_iter().chain(binades).chain(random) {
            let (got, want) = (super::sqrt(x), reference(x));
            assert!(
                got.to_bits() == want.to_bits() || (got.is_nan() && want.is_nan()),
                "sqrt({x:e}) = {got:e}, want {want:e}"
            );
        }
        assert!(super::sqrt(-1.0).is_nan());
    }
}
