//! The files a training run writes into its directory (`--out`, default `runs/<data>-seed<seed>`):
//!
//! | file            | when                   | contents                                             |
//! |-----------------|------------------------|------------------------------------------------------|
//! | `manifest.json` | before the first epoch | options, data, network, split, normaliser statistics |
//! | `init.json`     | before the first epoch | parameters after initialisation (or `--init`)        |
//! | `metrics.jsonl` | after every epoch      | one [`EpochRecord`] as JSON per line                 |
//! | `metrics.csv`   | after every epoch      | the same, as CSV with empty cells for absent values  |
//! | `events.jsonl`  | when something happens | diagnosis events and early stopping, one JSON a line |
//! | `checkpoint.bin`| after every epoch      | the trainer's state ([`tinytrain::checkpoint`]), for `--resume` |
//! | `weights.json`  | after the last epoch   | the trained (or, early stopping, the best) parameters |
//! | `curves.png`, `curves.svg` | at the end      | loss and accuracy curves (unless `--no-plot`)        |
//!
//! The metrics files are flushed after every epoch, so another program can follow a run as it trains.
//! They hold no timestamps: the same options produce byte-identical metrics.

use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

use anyhow::Context;
use tinytrain::record::EpochRecord;

use crate::manifest::Manifest;
use crate::weights::Weights;

/// The manifest's file name.
pub const MANIFEST: &str = "manifest.json";
/// The initial parameters' file name.
pub const INIT_WEIGHTS: &str = "init.json";
/// The trained parameters' file name.
pub const WEIGHTS: &str = "weights.json";
/// The JSON-lines metrics' file name.
pub const METRICS_JSONL: &str = "metrics.jsonl";
/// The CSV metrics' file name.
pub const METRICS_CSV: &str = "metrics.csv";
/// The events' file name: one JSON object per line, each with `event`, `epoch` (where it starts) and
/// `detected` (the epoch that revealed it). Kept apart from `metrics.jsonl`, whose lines are exactly
/// the core's [`EpochRecord`] on every channel.
pub const EVENTS_JSONL: &str = "events.jsonl";
/// The checkpoint's file name: written after every epoch (to a temporary file, then renamed, so a
/// crash leaves the previous checkpoint intact); `train --resume` continues from it.
pub const CHECKPOINT: &str = "checkpoint.bin";
/// The header of `metrics.csv`: the fields of [`EpochRecord`], in order.
pub const METRICS_CSV_HEADER: &str = EpochRecord::CSV_HEADER;

/// `runs/<data file stem>-seed<seed>`, relative to the current directory.
pub fn default_dir(data: &Path, seed: u64) -> PathBuf {
    let stem = data
        .file_stem()
        .map_or_else(|| "data".into(), |s| s.to_string_lossy());
    Path::new("runs").join(format!("{stem}-seed{seed}"))
}

/// An open run directory. Files already there are overwritten.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
    jsonl: BufWriter<File>,
    csv: BufWriter<File>,
    events: BufWriter<File>,
}

impl RunDir {
    /// Creates the directory (and its parents) and starts both metrics files.
    pub fn create(path: &Path) -> anyhow::Result<Self> {
        std::fs::create_dir_all(path)
            .with_context(|| format!("cannot create the run directory {}", path.display()))?;
        let open = |name: &str| -> anyhow::Result<BufWriter<File>> {
            let file = path.join(name);
            Ok(BufWriter::new(File::create(&file).with_context(|| {
                format!("cannot create {}", file.display())
            })?))
        };
        let mut run = Self {
            path: path.to_path_buf(),
            jsonl: open(METRICS_JSONL)?,
            csv: open(METRICS_CSV)?,
            events: open(EVENTS_JSONL)?,
        };
        writeln!(run.csv, "{METRICS_CSV_HEADER}").with_context(|| run.error_text(METRICS_CSV))?;
        Ok(run)
    }

    /// Reopens a run directory to continue it: `metrics.jsonl`, `metrics.csv` (after its header) and
    /// `events.jsonl` are rewritten with the given lines (those of the epochs up to the checkpoint),
    /// and later epochs are appended to them.
    pub fn resume(
        path: &Path,
        jsonl_lines: &[String],
        csv_lines: &[String],
        event_lines: &[String],
    ) -> anyhow::Result<Self> {
        let mut run = Self::create(path)?;
        for line in jsonl_lines {
            writeln!(run.jsonl, "{line}").with_context(|| run.error_text(METRICS_JSONL))?;
        }
        for line in csv_lines {
            writeln!(run.csv, "{line}").with_context(|| run.error_text(METRICS_CSV))?;
        }
        for line in event_lines {
            writeln!(run.events, "{line}").with_context(|| run.error_text(EVENTS_JSONL))?;
        }
        for (writer, name) in [
            (&mut run.jsonl, METRICS_JSONL),
            (&mut run.csv, METRICS_CSV),
            (&mut run.events, EVENTS_JSONL),
        ] {
            writer
                .flush()
                .with_context(|| format!("cannot write {}", path.join(name).display()))?;
        }
        Ok(run)
    }

    /// Replaces `checkpoint.bin` with `bytes`, atomically (a temporary file, then a rename).
    pub fn write_checkpoint(&self, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomic(&self.path.join(CHECKPOINT), bytes)
    }

    /// Writes `name` in the run directory atomically.
    pub fn write_file(&self, name: &str, bytes: &[u8]) -> anyhow::Result<()> {
        write_atomic(&self.path.join(name), bytes)
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Writes `manifest.json`.
    pub fn write_manifest(&self, manifest: &Manifest<'_>) -> anyhow::Result<()> {
        manifest.write(&self.path.join(MANIFEST))
    }

    /// Writes a weights file, e.g. [`INIT_WEIGHTS`] or [`WEIGHTS`].
    pub fn write_weights(&self, name: &str, weights: &Weights) -> anyhow::Result<()> {
        weights.write(&self.path.join(name))
    }

    /// Appends one epoch to both metrics files and flushes them.
    pub fn append(&mut self, record: &EpochRecord) -> anyhow::Result<()> {
        let json = serde_json::to_string(record).context("cannot serialise an epoch record")?;
        writeln!(self.jsonl, "{json}")
            .and_then(|()| self.jsonl.flush())
            .with_context(|| self.error_text(METRICS_JSONL))?;
        writeln!(self.csv, "{}", csv_line(record))
            .and_then(|()| self.csv.flush())
            .with_context(|| self.error_text(METRICS_CSV))
    }

    /// Appends one event to `events.jsonl` and flushes it.
    pub fn append_event(&mut self, event: &impl serde::Serialize) -> anyhow::Result<()> {
        let json = serde_json::to_string(event).context("cannot serialise an event")?;
        writeln!(self.events, "{json}")
            .and_then(|()| self.events.flush())
            .with_context(|| self.error_text(EVENTS_JSONL))
    }

    fn error_text(&self, name: &str) -> String {
        format!("cannot write {}", self.path.join(name).display())
    }
}

/// Replaces `file` with `bytes` atomically: a temporary file beside it, then a rename, so a crash
/// leaves the old contents or the new, never half of them.
pub fn write_atomic(file: &Path, bytes: &[u8]) -> anyhow::Result<()> {
    let mut temporary = file.as_os_str().to_owned();
    temporary.push(format!(".tmp{}", std::process::id()));
    let temporary = PathBuf::from(temporary);
    std::fs::write(&temporary, bytes)
        .and_then(|()| std::fs::rename(&temporary, file))
        .with_context(|| format!("cannot write {}", file.display()))
}

/// One `metrics.csv` line: the fields of [`METRICS_CSV_HEADER`], shortest round-trip decimals, empty
/// cells for absent values.
pub fn csv_line(r: &EpochRecord) -> String {
    let cell = |v: Option<f32>| v.map_or_else(String::new, |v| v.to_string());
    let cells: Vec<String> = std::iter::once(r.epoch.to_string())
        .chain(r.floats().map(cell))
        .collect();
    cells.join(",")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(epoch: u32, train_loss: f32, lr: f32) -> EpochRecord {
        EpochRecord {
            epoch,
            train_loss,
            lr,
            ..Default::default()
        }
    }

    #[test]
    fn csv_lines_leave_absent_values_empty() {
        let record = EpochRecord {
            train_mae: Some(3.25),
            ..record(2, 0.5, 0.001)
        };
        assert_eq!(csv_line(&record), "2,0.5,,,,0.001,,3.25,,");
        assert_eq!(
            csv_line(&record).split(',').count(),
            METRICS_CSV_HEADER.split(',').count()
        );
    }

    #[test]
    fn metrics_files_get_one_line_per_epoch() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("a/b");
        let mut run = RunDir::create(&path).unwrap();
        let record = EpochRecord {
            val_acc: Some(0.5),
            ..record(1, 0.25, 0.1)
        };
        run.append(&record).unwrap();
        let jsonl = std::fs::read_to_string(path.join(METRICS_JSONL)).unwrap();
        assert_eq!(
            jsonl,
            "{\"epoch\":1,\"train_loss\":0.25,\"val_acc\":0.5,\"lr\":0.1}\n"
        );
        let csv = std::fs::read_to_string(path.join(METRICS_CSV)).unwrap();
        assert_eq!(csv, format!("{METRICS_CSV_HEADER}\n1,0.25,,,0.5,0.1,,,,\n"));
        assert_eq!(
            std::fs::read_to_string(path.join(EVENTS_JSONL)).unwrap(),
            ""
        );
        run.append_event(&serde_json::json!({"event": "plateau", "epoch": 3}))
            .unwrap();
        assert_eq!(
            std::fs::read_to_string(path.join(EVENTS_JSONL)).unwrap(),
            "{\"epoch\":3,\"event\":\"plateau\"}\n"
        );
    }

    #[test]
    fn default_dir_names_data_and_seed() {
        assert_eq!(
            default_dir(Path::new("data/iris.csv"), 7),
            Path::new("runs/iris-seed7")
        );
    }
}
