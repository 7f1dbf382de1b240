//! How much RAM a program uses: statics from the linker's symbols, the stack by painting.
//!
//! [`paint_stack`] fills the free part of the stack region with a pattern at start-up;
//! [`stack_peak`] later finds the lowest word that no longer holds it. The stack region is
//! `[_stack_end, _stack_start)` of cortex-m-rt's `link.x` — above the statics by default, below them
//! (at the start of RAM) when flip-link links the program.
#![allow(unsafe_code)] // reads linker symbols' addresses and writes/reads the unused stack

use core::ptr::{addr_of, read_volatile, write_volatile};

const PAINT: u32 = 0xDEAD_BEEF;
/// Words left unpainted below the painting function's own stack pointer.
const MARGIN: usize = 64;

extern "C" {
    static _stack_start: u32;
    static _stack_end: u32;
    static __sdata: u32;
    static __edata: u32;
    static __sbss: u32;
    static __ebss: u32;
    static __suninit: u32;
    static __euninit: u32;
    static __stext: u32;
    static __etext: u32;
    static __srodata: u32;
    static __erodata: u32;
}

macro_rules! address {
    ($symbol:ident) => {
        // Only the linker symbol's address is taken, never its value.
        addr_of!($symbol) as usize
    };
}

/// Bytes of `.data`, `.bss` and `.uninit`: RAM taken by statics.
pub fn static_ram() -> usize {
    (address!(__edata) - address!(__sdata))
        + (address!(__ebss) - address!(__sbss))
        + (address!(__euninit) - address!(__suninit))
}

/// Bytes of `.text` and `.rodata` (flash; `.data`'s initial values add [`static_ram`]'s data part).
pub fn flash() -> (usize, usize) {
    (
        address!(__etext) - address!(__stext),
        address!(__erodata) - address!(__srodata),
    )
}

/// Bytes of the whole stack region.
pub fn stack_region() -> usize {
    address!(_stack_start) - address!(_stack_end)
}

/// Fills the stack region below the current stack pointer with the pattern. Call it first thing in
/// `main`, before interrupts are enabled.
#[inline(never)]
pub fn paint_stack() {
    let sp = cortex_m::register::msp::read() as usize;
    let end = (sp - 4 * MARGIN) & !3;
    let mut word = address!(_stack_end);
    while word < end {
        // SAFETY: `[_stack_end, sp)` is stack nobody uses yet: it lies below the current frame.
        unsafe { write_volatile(word as *mut u32, PAINT) };
        word += 4;
    }
}

/// The most stack used since [`paint_stack`], in bytes (counted from the top of the stack region,
/// so it includes the frames that were live while painting).
pub fn stack_peak() -> usize {
    let (bottom, top) = (address!(_stack_end), address!(_stack_start));
    let mut word = bottom;
    // SAFETY: every address read lies in the stack region and is word-aligned.
    while word < top && unsafe { read_volatile(word as *const u32) } == PAINT {
        word += 4;
    }
    top - word
}
