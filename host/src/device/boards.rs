//! The boards `train --device` builds for, and `tinytrain boards`.
//!
//! Flash and RAM are read from the firmware's own linker memory files (`firmware/memory/<board>.x`,
//! packed into this binary), so the fit check and the linker agree on one set of numbers.

use anyhow::{anyhow, bail};

/// How a board's firmware is run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Runner {
    /// In `qemu-system-arm -machine NAME`, started by `tinytrain`; defmt over semihosting, the
    /// report over the emulated UART.
    Qemu(&'static str),
    /// Flashed and run through a debug probe with probe-rs (`--chip` default); defmt over RTT.
    Probe(&'static str),
}

/// A board.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Board {
    /// The name `--device` takes.
    pub name: &'static str,
    /// Other names `--device` takes.
    pub aliases: &'static [&'static str],
    /// The firmware's board feature (and `memory/<feature>.x`).
    pub feature: &'static str,
    /// The processor.
    pub cpu: &'static str,
    /// How it runs.
    pub runner: Runner,
}

/// Every board, QEMU's first.
pub const BOARDS: [Board; 4] = [
    Board {
        name: "mps2-an386",
        aliases: &["qemu"],
        feature: "mps2-an386",
        cpu: "Cortex-M4F, 25 MHz (QEMU)",
        runner: Runner::Qemu("mps2-an386"),
    },
    Board {
        name: "netduinoplus2",
        aliases: &[],
        feature: "netduinoplus2",
        cpu: "STM32F405 Cortex-M4F, 168 MHz (QEMU)",
        runner: Runner::Qemu("netduinoplus2"),
    },
    Board {
        name: "stm32f411",
        aliases: &["blackpill"],
        feature: "stm32f411",
        cpu: "STM32F411CE Cortex-M4F, 16 MHz HSI",
        runner: Runner::Probe("STM32F411CEUx"),
    },
    Board {
        name: "nrf52840",
        aliases: &[],
        feature: "nrf52840",
        cpu: "nRF52840 Cortex-M4F, 64 MHz",
        runner: Runner::Probe("nRF52840_xxAA"),
    },
];

/// Flash and RAM of a board, in bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Memory {
    /// Flash.
    pub flash: u64,
    /// RAM.
    pub ram: u64,
}

impl Board {
    /// The board `--device NAME` names.
    pub fn named(name: &str) -> anyhow::Result<&'static Board> {
        BOARDS
            .iter()
            .find(|b| b.name == name || b.aliases.contains(&name))
            .ok_or_else(|| {
                anyhow!(
                    "--device {name}: no such board (known: {}; `tinytrain boards` lists them)",
                    names().join(", ")
                )
            })
    }

    /// The firmware's transport feature: `qemu` (semihosting) or `rtt` (a probe).
    pub fn transport(&self) -> &'static str {
        match self.runner {
            Runner::Qemu(_) => "qemu",
            Runner::Probe(_) => "rtt",
        }
    }

    /// Its flash and RAM, from `firmware/memory/<feature>.x`.
    pub fn memory(&self) -> anyhow::Result<Memory> {
        let path = format!("firmware/memory/{}.x", self.feature);
        let text = super::firmware::packed(&path)?;
        let region = |name: &str| -> anyhow::Result<u64> {
            let line = text
                .lines()
                .find(|l| l.trim_start().starts_with(name))
                .ok_or_else(|| anyhow!("{path} has no {name} region"))?;
            let length = line
                .split_once("LENGTH")
                .and_then(|(_, rest)| rest.trim_start().strip_prefix('='))
                .map(str::trim)
                .ok_or_else(|| anyhow!("{path}: {name} has no LENGTH"))?;
            size(length).ok_or_else(|| anyhow!("{path}: {name} LENGTH {length:?} is not a size"))
        };
        Ok(Memory {
            flash: region("FLASH")?,
            ram: region("RAM")?,
        })
    }

    /// How the board is run, for `tinytrain boards`.
    pub fn how(&self) -> String {
        match self.runner {
            Runner::Qemu(machine) => format!("qemu-system-arm -machine {machine}"),
            Runner::Probe(chip) => format!("probe-rs, --chip {chip}"),
        }
    }
}

/// `4M`, `128K`, `65536`.
fn size(text: &str) -> Option<u64> {
    let (digits, unit) = match text.strip_suffix(['K', 'k']) {
        Some(d) => (d, 1024),
        None => match text.strip_suffix(['M', 'm']) {
            Some(d) => (d, 1024 * 1024),
            None => (text, 1),
        },
    };
    digits.trim().parse::<u64>().ok()?.checked_mul(unit)
}

/// Every name `--device` takes.
pub fn names() -> Vec<&'static str> {
    BOARDS
        .iter()
        .flat_map(|b| b.aliases.iter().copied().chain([b.name]))
        .collect()
}

/// `tinytrain boards`: the table.
pub fn table() -> anyhow::Result<String> {
    let mut out = format!(
        "{:<26} {:>9} {:>8}  {:<38} {}\n",
        "--device", "flash", "RAM", "CPU", "run with"
    );
    for board in &BOARDS {
        let memory = board.memory()?;
        let name = match board.aliases {
            [] => board.name.to_string(),
            aliases => format!("{} ({})", board.name, aliases.join(", ")),
        };
        out.push_str(&format!(
            "{name:<26} {:>5} KiB {:>4} KiB  {:<38} {}\n",
            memory.flash / 1024,
            memory.ram / 1024,
            board.cpu,
            board.how()
        ));
    }
    Ok(out)
}

/// `tinytrain boards`.
pub fn execute() -> anyhow::Result<()> {
    let table = table()?;
    if table.is_empty() {
        bail!("no boards");
    }
    print!("{table}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn memory_comes_from_the_linker_files() {
        let qemu = Board::named("qemu").unwrap();
        assert_eq!(qemu.name, "mps2-an386");
        let netduino = Board::named("netduinoplus2").unwrap().memory().unwrap();
        assert_eq!(
            netduino,
            Memory {
                flash: 1024 * 1024,
                ram: 128 * 1024
            }
        );
        let f411 = Board::named("stm32f411").unwrap().memory().unwrap();
        assert_eq!((f411.flash, f411.ram), (512 * 1024, 128 * 1024));
        let message = Board::named("esp32").unwrap_err().to_string();
        assert!(message.starts_with("--device esp32: no such board (known: qemu, mps2-an386, netduinoplus2, blackpill, stm32f411, nrf52840"), "{message}");
        assert_eq!(size("64K"), Some(65536));
        assert_eq!(size("x"), None);
    }
}
