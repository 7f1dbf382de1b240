//! Hands the chip's memory map to the linker as `memory.x`: the firmware's `memory/<chip>.x`, so the
//! two builds for a board never disagree about its flash and RAM.

use std::{env, fs, path::PathBuf};

fn main() {
    let chips: Vec<&str> = ["stm32f411", "nrf52840"]
        .into_iter()
        .filter(|chip| env::var_os(format!("CARGO_FEATURE_{}", chip.to_uppercase())).is_some())
        .collect();
    let [chip] = chips[..] else {
        panic!("enable exactly one chip feature: stm32f411 or nrf52840 (enabled: {chips:?})");
    };
    let source = PathBuf::from(format!("../firmware/memory/{chip}.x"));
    println!("cargo:rerun-if-changed={}", source.display());
    let memory =
        fs::read_to_string(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    fs::write(out.join("memory.x"), memory).expect("OUT_DIR is writable");
    println!("cargo:rustc-link-search={}", out.display());
}
