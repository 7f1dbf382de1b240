//! `memcpy`, `memmove`, `memset` and their ARM EABI aliases, in a few words of Thumb-2 each
//! (`mem.s`).
//!
//! compiler_builtins' versions, which the linker takes otherwise, are built for speed: 3.2 KB of
//! flash between them (`memmove` alone 1.6 KB, pulled in by ryu's digit shifts). The firmware copies
//! little at run time — the frame buffer, the early-stopping snapshot, zeroed gradients once per
//! step — so a word loop when both pointers are aligned, a byte loop otherwise, is enough; the hot
//! loops are the dense kernels' own assembly. compiler_builtins defines its routines as weak
//! symbols, so these take their place.

// `global_asm!` is not `unsafe` code, but it defines symbols every `unsafe` copy relies on.
#[allow(unsafe_code)]
// Thumb-2 cores only (ARMv7-M, ARMv8-M Mainline): stable `cfg` cannot name the `thumb2` feature, and
// these are the Cortex-M profiles with 32-bit atomics; an ARMv6-M build keeps compiler_builtins'.
#[cfg(target_has_atomic = "32")]
mod routines {
    core::arch::global_asm!(include_str!("mem.s"), options(raw));
}
