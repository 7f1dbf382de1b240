//! Picks the board's `memory/<board>.x` by cargo feature and hands it to the linker as `memory.x`
//! (cortex-m-rt's `link.x` includes it). With the `ram-64k` feature the RAM region is cut to
//! 64 KiB, to prove that an experiment fits that budget.

use std::{env, fs, path::PathBuf};

const BOARDS: [&str; 9] = [
    "mps2-an386",
    "mps2-an385",
    "mps2-an500",
    "mps2-an505",
    "mps3-an547",
    "microbit",
    "netduinoplus2",
    "stm32f411",
    "nrf52840",
];

fn feature(name: &str) -> bool {
    env::var_os(format!(
        "CARGO_FEATURE_{}",
        name.to_uppercase().replace('-', "_")
    ))
    .is_some()
}

fn main() {
    let boards: Vec<&str> = BOARDS.into_iter().filter(|b| feature(b)).collect();
    let [board] = boards[..] else {
        panic!("enable exactly one board feature of {BOARDS:?} (enabled: {boards:?})");
    };
    match (feature("qemu"), feature("rtt")) {
        (true, false) | (false, true) => {}
        _ => panic!(
            "enable exactly one of the features `qemu` (emulator) and `rtt` (board with a probe)"
        ),
    }

    let source = PathBuf::from(format!("memory/{board}.x"));
    println!("cargo:rerun-if-changed={}", source.display());
    let mut memory =
        fs::read_to_string(&source).unwrap_or_else(|e| panic!("{}: {e}", source.display()));
    if feature("ram-64k") {
        let line = memory
            .lines()
            .find(|l| l.trim_start().starts_with("RAM"))
            .expect("a RAM region")
            .to_string();
        let (head, _) = line.split_once("LENGTH").expect("RAM has a LENGTH");
        memory = memory.replace(&line, &format!("{head}LENGTH = 64K"));
    }
    let out = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR"));
    fs::write(out.join("memory.x"), memory).expect("writing memory.x");
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo:rerun-if-changed=build.rs");
}
