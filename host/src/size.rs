//! `tinytrain size FIRMWARE.elf`: how much flash and RAM a firmware image takes.
//!
//! Flash is `.vector_table` + `.text` + `.rodata` + `.data` (its initial values are stored in flash);
//! RAM is `.data` + `.bss` + `.uninit` (static RAM; the stack comes on top, see the firmware's
//! `resources` line). The bundled datasets are counted separately inside `.rodata`: each of their
//! tables (digits' pixels and labels, iris's features and labels) that `.rodata` holds byte for byte
//! (`include_bytes!` data has no symbol of its own).

use std::path::PathBuf;

use anyhow::Context;
use clap::Args;
use object::{Object, ObjectSection};
use tinytrain_experiments::datasets::{DIGITS, IRIS};
use tinytrain_experiments::table::Targets;

/// The options of `tinytrain size`.
#[derive(Args, Debug, Clone)]
pub struct SizeArgs {
    /// The firmware's ELF file
    #[arg(value_name = "FIRMWARE.elf")]
    pub elf: PathBuf,
}

/// The sizes of one image, in bytes.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Sizes {
    /// `.vector_table`.
    pub vector_table: u64,
    /// `.text`.
    pub text: u64,
    /// `.rodata`, datasets included.
    pub rodata: u64,
    /// The embedded datasets' bytes in `.rodata`.
    pub datasets: u64,
    /// `.data`.
    pub data: u64,
    /// `.bss`.
    pub bss: u64,
    /// `.uninit`.
    pub uninit: u64,
}

impl Sizes {
    /// Flash: vector table, code, read-only data and `.data`'s initial values.
    pub fn flash(&self) -> u64 {
        self.vector_table + self.text + self.rodata + self.data
    }

    /// Static RAM: `.data` + `.bss` + `.uninit`.
    pub fn ram(&self) -> u64 {
        self.data + self.bss + self.uninit
    }

    /// The table `tinytrain size` prints.
    pub fn table(&self) -> String {
        let rows = [
            ("flash", ".vector_table", self.vector_table),
            ("flash", ".text", self.text),
            ("flash", ".rodata", self.rodata),
            ("flash", "  of which datasets", self.datasets),
            ("flash", "  of which other", self.rodata - self.datasets),
            ("flash", ".data (initial values)", self.data),
            ("flash", "total", self.flash()),
            ("RAM", ".data", self.data),
            ("RAM", ".bss", self.bss),
            ("RAM", ".uninit", self.uninit),
            ("RAM", "total (static, without stack)", self.ram()),
        ];
        let mut out = format!(
            "{:<8}{:<32}{:>10}{:>10}\n",
            "region", "part", "bytes", "KiB"
        );
        for (region, part, bytes) in rows {
            out.push_str(&format!(
                "{region:<8}{part:<32}{bytes:>10}{:>10.1}\n",
                bytes as f64 / 1024.0
            ));
        }
        out
    }
}

/// The sizes of the ELF image `elf`.
pub fn measure(elf: &[u8]) -> anyhow::Result<Sizes> {
    let file = object::File::parse(elf).context("not an ELF file")?;
    let size = |name: &str| file.section_by_name(name).map_or(0, |s| s.size());
    // The bundled tables, found byte for byte in `.rodata` (`include_bytes!` data has no symbol).
    let rodata = match file.section_by_name(".rodata") {
        Some(section) => section.data().context("cannot read .rodata")?,
        None => &[],
    };
    let labels = |t: Targets| match t {
        Targets::Classes(bytes) | Targets::Values { values: bytes, .. } => bytes,
    };
    let datasets = [DIGITS.x, labels(DIGITS.y), IRIS.x, labels(IRIS.y)]
        .iter()
        .filter(|table| rodata.windows(table.len()).any(|w| w == **table))
        .map(|table| table.len() as u64)
        .sum();
    Ok(Sizes {
        vector_table: size(".vector_table"),
        text: size(".text"),
        rodata: size(".rodata"),
        datasets,
        data: size(".data"),
        bss: size(".bss"),
        uninit: size(".uninit"),
    })
}

/// Runs `tinytrain size`.
pub fn execute(args: &SizeArgs) -> anyhow::Result<()> {
    let elf =
        std::fs::read(&args.elf).with_context(|| format!("cannot read {}", args.elf.display()))?;
    let sizes = measure(&elf).with_context(|| format!("{}", args.elf.display()))?;
    print!("{}", sizes.table());
    Ok(())
}
