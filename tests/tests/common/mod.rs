//! Helpers shared by the tests that run the firmware in QEMU (`firmware_qemu.rs`, `monitor_qemu.rs`,
//! `nan_qemu.rs`, `early_stop_qemu.rs`, `fault_injection.rs`): building `firmware/`, running a
//! program in `qemu-system-arm`, and the native run of the same experiment.

// Each test file uses its own subset.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use tinytrain::record::EpochRecord;
use tinytrain_experiments::{digits, digits_bn, digits_sgd, iris, Experiment, NoFault, Summary};
use tinytrain_host::decode;

/// A QEMU machine and the firmware build for it: one per Cortex-M profile (issue "every Cortex-M
/// profile"), plus `netduinoplus2` for a realistic 128 KiB RAM.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Machine {
    /// `mps2-an386` (Cortex-M4F), the firmware's default features (`qemu`, `mps2-an386`).
    Mps2An386,
    /// `netduinoplus2` (STM32F405, Cortex-M4F, 128 KiB of RAM).
    NetduinoPlus2,
    /// `mps2-an385` (Cortex-M3, soft-float).
    Mps2An385,
    /// `mps2-an500` (Cortex-M7).
    Mps2An500,
    /// `mps2-an505` (Cortex-M33).
    Mps2An505,
    /// `mps3-an547` (Cortex-M55).
    Mps3An547,
    /// `microbit` (nRF51, Cortex-M0, soft-float, 16 KiB of RAM).
    Microbit,
}

impl Machine {
    pub const ALL: [Machine; 7] = [
        Machine::Mps2An386,
        Machine::NetduinoPlus2,
        Machine::Mps2An385,
        Machine::Mps2An500,
        Machine::Mps2An505,
        Machine::Mps3An547,
        Machine::Microbit,
    ];

    /// QEMU's `-machine`, which is also the firmware's board feature.
    pub fn name(self) -> &'static str {
        match self {
            Machine::Mps2An386 => "mps2-an386",
            Machine::NetduinoPlus2 => "netduinoplus2",
            Machine::Mps2An385 => "mps2-an385",
            Machine::Mps2An500 => "mps2-an500",
            Machine::Mps2An505 => "mps2-an505",
            Machine::Mps3An547 => "mps3-an547",
            Machine::Microbit => "microbit",
        }
    }

    /// The Rust target of its CPU.
    pub fn target(self) -> &'static str {
        match self {
            Machine::Mps2An386 | Machine::NetduinoPlus2 | Machine::Mps2An500 => {
                "thumbv7em-none-eabihf"
            }
            Machine::Mps2An385 => "thumbv7m-none-eabi",
            Machine::Mps2An505 | Machine::Mps3An547 => "thumbv8m.main-none-eabihf",
            Machine::Microbit => "thumbv6m-none-eabi",
        }
    }

    /// The training programs its firmware build holds: digits (`train`) needs 50 KB of RAM and
    /// digits by fused SGD (`train_digits_sgd`) 21 KB, more than the micro:bit's 16 KB, so the
    /// micro:bit runs iris only; the soft-float M3 runs fused-SGD digits as well.
    pub fn programs(self) -> &'static [&'static str] {
        match self {
            Machine::Microbit => &["train_iris"],
            Machine::Mps2An385 => &["train", "train_iris", "train_digits_sgd"],
            _ => &["train", "train_iris"],
        }
    }
}

pub fn firmware_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../firmware")
}

/// `true` when QEMU is missing and `test` should be skipped: prints one line saying so and how to
/// install it. With `CI` set a missing QEMU fails the test instead. Tests call it through
/// [`require_qemu!`], which names the calling test.
pub fn no_qemu(test: &str) -> bool {
    let found = Command::new("qemu-system-arm")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if found {
        return false;
    }
    let missing =
        "qemu-system-arm is not installed (apt-get install qemu-system-arm, or run scripts/test)";
    if std::env::var_os("CI").is_some() {
        panic!("{test}: CI is set and {missing}");
    }
    let message = format!("skipped {test}: {missing}");
    eprintln!("{message}");
    true
}

/// First line of every test that runs QEMU: returns from the test, after [`no_qemu`]'s line, when
/// `qemu-system-arm` is missing (outside CI).
macro_rules! require_qemu {
    () => {{
        fn here() {}
        // `<test file>::<test>::here`
        let path = std::any::type_name_of_val(&here);
        let test = path.strip_suffix("::here").unwrap_or(path);
        if common::no_qemu(test.rsplit("::").next().unwrap_or(test)) {
            return;
        }
    }};
}

/// `cargo build --release` of the two training programs (`train`, `train_iris`) in `dir`, the
/// firmware workspace; add features and a target directory before [`build_firmware`].
pub fn build_programs(dir: &Path) -> Command {
    build_programs_of(dir, Machine::Mps2An386.programs())
}

fn build_programs_of(dir: &Path, programs: &[&str]) -> Command {
    let mut cargo = Command::new("cargo");
    cargo.current_dir(dir).args(["build", "--release"]);
    for bin in programs {
        cargo.args(["--bin", bin]);
    }
    cargo
}

/// Runs `cargo` (a `cargo build` in `firmware/`) with the firmware's own `.cargo/config.toml` and
/// `rust-toolchain.toml` in charge — not the settings of the cargo that runs this test — and fails
/// the test with cargo's output if the build fails. `what` names the build in that message.
pub fn build_firmware(mut cargo: Command, what: impl std::fmt::Display) {
    tinytrain_host::device::firmware::clean_environment(&mut cargo);
    let output = cargo.output().expect("cargo runs");
    assert!(
        output.status.success(),
        "building {what} failed:\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Builds the firmware's programs for `machine` once (release) and returns the directory of the ELF
/// files. Every machine but the default has a target directory of its own
/// (`firmware/target/<machine>`), so the builds never overwrite each other's ELFs.
pub fn firmware_elves(machine: Machine) -> &'static Path {
    static ELVES: [OnceLock<PathBuf>; Machine::ALL.len()] = [const { OnceLock::new() }; 7];
    let index = Machine::ALL.iter().position(|&m| m == machine).unwrap();
    ELVES[index].get_or_init(|| {
        let dir = firmware_dir();
        let mut cargo = build_programs_of(&dir, machine.programs());
        let target = if machine == Machine::Mps2An386 {
            dir.join("target")
        } else {
            let target = dir.join("target").join(machine.name());
            cargo
                .args(["--no-default-features", "--features"])
                .arg(format!("qemu,{}", machine.name()))
                .args(["--target", machine.target(), "--target-dir"])
                .arg(&target);
            target
        };
        build_firmware(cargo, format!("the firmware for {machine:?}"));
        target.join(machine.target()).join("release")
    })
}

/// One QEMU run: the serial port's text and the decoded defmt lines.
pub struct Device {
    /// The ELF file that ran.
    pub elf: PathBuf,
    /// The raw defmt bytes (QEMU's semihosting stdout).
    pub raw: Vec<u8>,
    pub uart: String,
    /// The decoded defmt lines, as `tinytrain decode --elf` prints them (`INFO  epoch ...`).
    pub log: Vec<String>,
}

/// Builds program `bin` of the default firmware build (`mps2-an386`, into the directory of the
/// shared programs, after them) and runs it in QEMU.
pub fn run_program(bin: &str) -> Device {
    firmware_elves(Machine::Mps2An386);
    let mut cargo = Command::new("cargo");
    cargo
        .current_dir(firmware_dir())
        .args(["build", "--release", "--bin", bin]);
    build_firmware(cargo, bin);
    run_in_qemu(bin, Machine::Mps2An386)
}

pub fn run_in_qemu(bin: &str, machine: Machine) -> Device {
    run_elf(bin, machine, firmware_elves(machine).join(bin))
}

/// Runs `elf` (a program called `bin`, for messages) in QEMU's `machine` until it exits, and
/// checks that it exited successfully.
pub fn run_elf(bin: &str, machine: Machine, elf: PathBuf) -> Device {
    let out = std::env::temp_dir().join(format!(
        "tinytrain-qemu-{}-{bin}-{}",
        std::process::id(),
        machine.name()
    ));
    std::fs::create_dir_all(&out).unwrap();
    let (uart, raw) = (out.join("uart.txt"), out.join("defmt.bin"));
    let started = Instant::now();
    let mut qemu =
        tinytrain_host::qemu::command(machine.name(), &elf, &format!("file:{}", uart.display()))
            .stdout(std::fs::File::create(&raw).unwrap())
            .stderr(Stdio::piped())
            .spawn()
            .expect("qemu-system-arm starts");
    let status = loop {
        if let Some(status) = qemu.try_wait().unwrap() {
            break status;
        }
        if started.elapsed() > Duration::from_secs(300) {
            qemu.kill().unwrap();
            panic!("{bin}: QEMU did not exit within 300 s");
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    let elf_bytes = std::fs::read(&elf).unwrap();
    let raw = std::fs::read(&raw).unwrap();
    let log = decode::decode_defmt(&elf_bytes, &raw).unwrap_or_else(|e| panic!("{bin}: {e:#}"));
    assert!(
        status.success(),
        "{bin}: QEMU exited with {status}; defmt log:\n{}",
        log.join("\n")
    );
    eprintln!(
        "{bin}: QEMU ran for {:.2} s",
        started.elapsed().as_secs_f64()
    );
    let uart = std::fs::read_to_string(&uart).unwrap();
    std::fs::remove_dir_all(&out).ok();
    Device {
        elf,
        raw,
        uart,
        log,
    }
}

pub fn host_run(experiment: &Experiment) -> (Vec<EpochRecord>, Summary) {
    let mut records = Vec::new();
    let mut observer = |r: &EpochRecord| records.push(*r);
    let summary = match experiment.name {
        "digits" => digits::workspace().run(experiment, NoFault, &mut observer),
        "digits_sgd" => digits_sgd::workspace().run(experiment, NoFault, &mut observer),
        "digits_bn" => digits_bn::workspace().run(experiment, NoFault, &mut observer),
        "iris" => iris::workspace().run(experiment, NoFault, &mut observer),
        other => panic!("host_run: no workspace for experiment {other}"),
    }
    .expect("the experiment runs");
    (records, summary)
}

/// Runs a `tinytrain` command line in-process, as a shell would split it (the paths in it, temporary
/// directories, hold no spaces); panics with the command's error.
pub fn tinytrain(command: &str) {
    let argv: Vec<&str> = std::iter::once("tinytrain")
        .chain(command.split_whitespace())
        .collect();
    tinytrain_host::cli::run(&argv).unwrap_or_else(|e| panic!("tinytrain {command}: {e:#}"));
}
