//! Int8 inference on the device: the module `tinytrain export --int8 --format rust` wrote
//! (`TINYTRAIN_INT8_MODEL`, its path) on the rows in `TINYTRAIN_INT8_ROWS` (a file of raw feature
//! rows, `f32` little-endian, row-major). One defmt line per row — its class and int8 logits —
//! then the instructions per prediction (`-icount`), the stack and the flash used
//! (`tests/tests/int8_qemu.rs` compares the classes with the host's).
#![no_std]
#![no_main]
#![forbid(unsafe_code)]

use tinytrain_firmware::{board, clock, ram};

// The module's API is wider than this program needs.
#[allow(dead_code)]
mod model {
    include!(env!(
        "TINYTRAIN_INT8_MODEL",
        "feature `infer-int8` builds an int8 export: set TINYTRAIN_INT8_MODEL to its .rs file"
    ));
}

static ROWS: &[u8] = include_bytes!(env!(
    "TINYTRAIN_INT8_ROWS",
    "feature `infer-int8` needs rows: set TINYTRAIN_INT8_ROWS to a file of f32 LE feature rows"
));

const ROW_BYTES: usize = 4 * model::N_IN;

#[cortex_m_rt::entry]
fn main() -> ! {
    ram::paint_stack();
    if let Some(peripherals) = cortex_m::Peripherals::take() {
        clock::start(peripherals.SYST);
    }
    let mut ticks = 0;
    let mut rows = 0u32;
    for bytes in ROWS.chunks_exact(ROW_BYTES) {
        let x: [f32; model::N_IN] = core::array::from_fn(|i| {
            f32::from_le_bytes([
                bytes[4 * i],
                bytes[4 * i + 1],
                bytes[4 * i + 2],
                bytes[4 * i + 3],
            ])
        });
        let start = clock::ticks();
        let class = model::predict(&x);
        ticks += clock::ticks() - start;
        let logits = model::forward_int8(&model::quantize_input(&x));
        defmt::info!(
            "int8 row {=u32} class {=u32} logits {=[?]}",
            rows,
            class as u32,
            &logits[..]
        );
        rows += 1;
    }
    let (text, rodata) = ram::flash();
    defmt::info!(
        "int8 done rows {=u32} {=str} {=u64} per prediction, stack peak {=u32} bytes, static RAM {=u32} bytes, flash text {=u32} rodata {=u32} bytes ({=usize} of rows)",
        rows,
        board::COST_UNIT,
        board::cost(ticks) / u64::from(rows.max(1)),
        ram::stack_peak() as u32,
        ram::static_ram() as u32,
        text as u32,
        rodata as u32,
        ROWS.len()
    );
    tinytrain_firmware::exit()
}
