//! TensorBoard event files (`train --tensorboard DIR`, `monitor --tensorboard DIR`): every epoch's
//! record as scalars ([`tags::TAGS`]), the run's options as a text at step 0 ([`tags::HPARAMS`]) and
//! each diagnosis event as a text at the epoch that revealed it ([`tags::EVENTS`]), in
//! `DIR/<run name>/events.out.tfevents.<seconds>.<host>.<pid>.tinytrain`, so that
//! `tensorboard --logdir DIR` overlays runs and devices.
//!
//! * [`tfrecord`] — the framing and its masked CRC-32C;
//! * [`proto`] — the `Event` and `Summary` messages;
//! * [`tags`] — which record field goes to which tag.
//!
//! An event file is never overwritten: it is created with `create_new`, its name holds the time
//! and the process id (and a counter when both collide). Each event goes to the unbuffered file in
//! one write, so a TensorBoard watching sees every epoch as soon as it is recorded. The first
//! event is the file version TensorBoard requires (`brain.Event:2`); the second is a session
//! START at step 0, TensorBoard's mark of a restart, which drops what earlier files of the same run
//! name hold: a run replaced with `--force`, or the first part of a resumed run, which the new
//! file repeats. A run shows once, as its run directory holds it.

pub mod proto;
pub mod tags;
pub mod tfrecord;

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::Context;
use prost::Message;
use tinytrain::record::EpochRecord;

use proto::{Event, Kind, PluginData, SessionLog, SessionStatus, Summary, SummaryMetadata, What};

/// The version string TensorBoard expects in the first event of a file.
pub const FILE_VERSION: &str = "brain.Event:2";

/// The writer's name in the file (`SourceMetadata.writer`) and the end of the file's name.
pub const WRITER: &str = "tinytrain";

/// An open event file.
#[derive(Debug)]
pub struct EventFile {
    file: File,
    path: PathBuf,
    /// The `hparams` text has been written (it is written once).
    hparams: bool,
}

impl EventFile {
    /// Creates a new event file in `logdir/run` (and the directories), with its first two events.
    pub fn create(logdir: &Path, run: &str) -> anyhow::Result<Self> {
        let dir = logdir.join(if run.is_empty() { "run" } else { run });
        std::fs::create_dir_all(&dir).with_context(|| {
            format!("cannot create the TensorBoard directory {}", dir.display())
        })?;
        let seconds = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let base = format!(
            "events.out.tfevents.{seconds}.{}.{}.{WRITER}",
            hostname(),
            std::process::id()
        );
        let mut k = 1u32;
        let (file, path) = loop {
            let name = match k {
                1 => base.clone(),
                _ => format!("{base}.{k}"),
            };
            let path = dir.join(name);
            match File::options().write(true).create_new(true).open(&path) {
                Ok(file) => break (file, path),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => k += 1,
                Err(e) => {
                    return Err(e).with_context(|| format!("cannot create {}", path.display()))
                }
            }
        };
        let mut events = Self {
            file,
            path,
            hparams: false,
        };
        events.write(Event {
            wall_time: now(),
            step: 0,
            what: Some(What::FileVersion(FILE_VERSION.into())),
            source_metadata: Some(proto::SourceMetadata {
                writer: WRITER.into(),
            }),
        })?;
        events.write(Event {
            wall_time: now(),
            step: 0,
            what: Some(What::SessionLog(SessionLog {
                status: SessionStatus::Start.into(),
            })),
            source_metadata: None,
        })?;
        Ok(events)
    }

    /// The file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The record's scalars ([`tags::scalars`]) at step `record.epoch`, stamped now.
    pub fn record(&mut self, record: &EpochRecord) -> anyhow::Result<()> {
        let value = tags::scalars(record)
            .map(|(tag, value)| proto::Value {
                tag: tag.into(),
                metadata: None,
                value: Some(Kind::SimpleValue(value)),
            })
            .collect();
        self.summary(i64::from(record.epoch), value)
    }

    /// A text summary (Markdown, shown by TensorBoard's text plugin) under `tag` at `step`.
    pub fn text(&mut self, tag: &str, step: u32, markdown: &str) -> anyhow::Result<()> {
        let value = proto::Value {
            tag: tag.into(),
            metadata: Some(SummaryMetadata {
                plugin_data: Some(PluginData {
                    plugin_name: "text".into(),
                    content: Vec::new(),
                }),
            }),
            value: Some(Kind::Tensor(proto::TensorProto {
                dtype: proto::DT_STRING,
                tensor_shape: Some(proto::TensorShapeProto {}),
                string_val: vec![markdown.as_bytes().to_vec()],
            })),
        };
        self.summary(i64::from(step), vec![value])
    }

    /// The run's options as [`tags::HPARAMS`] at step 0 ([`markdown_table`]); only the first call
    /// writes (a manifest, written first, wins over what a monitor knows later).
    pub fn hparams(&mut self, options: &serde_json::Value) -> anyhow::Result<()> {
        if self.hparams {
            return Ok(());
        }
        self.hparams = true;
        self.text(tags::HPARAMS, 0, &markdown_table(options))
    }

    /// A line of `events.jsonl` as [`tags::EVENTS`], in a code span, at `detected` (the epoch that
    /// revealed the event).
    pub fn event(&mut self, detected: u32, line: &str) -> anyhow::Result<()> {
        self.text(tags::EVENTS, detected, &format!("`{line}`"))
    }

    fn summary(&mut self, step: i64, value: Vec<proto::Value>) -> anyhow::Result<()> {
        self.write(Event {
            wall_time: now(),
            step,
            what: Some(What::Summary(Summary { value })),
            source_metadata: None,
        })
    }

    fn write(&mut self, event: Event) -> anyhow::Result<()> {
        self.file
            .write_all(&tfrecord::frame(&event.encode_to_vec()))
            .with_context(|| format!("cannot write {}", self.path.display()))
    }
}

/// `value` as a two-column Markdown table, one row per leaf: nested objects flattened to dotted
/// keys (`config.lr`), strings as they are, other values (numbers, arrays) as JSON, each in a code
/// span so that Markdown leaves it alone.
///
/// ```
/// let table = tinytrain_host::tensorboard::markdown_table(&serde_json::json!({
///     "data": "iris.csv", "net": {"hidden": [64, 32], "lr": 0.001}
/// }));
/// assert_eq!(table, "| option | value |\n| --- | --- |\n| data | `iris.csv` |\n\
///                    | net.hidden | `[64,32]` |\n| net.lr | `0.001` |\n");
/// ```
pub fn markdown_table(value: &serde_json::Value) -> String {
    fn rows(prefix: &str, value: &serde_json::Value, out: &mut String) {
        match value {
            serde_json::Value::Object(map) if !map.is_empty() => {
                for (key, value) in map {
                    let key = match prefix {
                        "" => key.clone(),
                        _ => format!("{prefix}.{key}"),
                    };
                    rows(&key, value, out);
                }
            }
            leaf => {
                let text = match leaf {
                    serde_json::Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                // A `|` would end the cell, a backtick the code span.
                let text = text.replace('|', "\\|").replace('`', "'");
                out.push_str(&format!("| {prefix} | `{text}` |\n"));
            }
        }
    }
    let mut out = String::from("| option | value |\n| --- | --- |\n");
    rows("", value, &mut out);
    out
}

/// Seconds since the Unix epoch, as TensorBoard's `wall_time`.
fn now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// The machine's name for the file name (as tensorflow puts `socket.gethostname()` there): the
/// kernel's, else `$HOSTNAME`, else `localhost`; only characters safe in a file name.
fn hostname() -> String {
    let name = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty())
        .unwrap_or_else(|| "localhost".into());
    name.chars()
        .map(|c| match c {
            'a'..='z' | 'A'..='Z' | '0'..='9' | '-' | '_' => c,
            _ => '_',
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The file reads back as TensorBoard reads it: good frames, the file version first, then the
    /// restart mark, the options at step 0, each record's scalars at its epoch, an event's text at
    /// its `detected` epoch; a second file of the same run never replaces the first.
    #[test]
    fn events_read_back_in_order_and_files_are_never_overwritten() {
        let dir = tempfile::tempdir().unwrap();
        let mut file = EventFile::create(dir.path(), "iris-seed1").unwrap();
        file.hparams(&serde_json::json!({"epochs": 3})).unwrap();
        file.hparams(&serde_json::json!({"epochs": 4})).unwrap();
        let record = EpochRecord {
            epoch: 1,
            train_loss: f32::NAN,
            train_acc: Some(0.25),
            lr: 0.001,
            ..Default::default()
        };
        file.record(&record).unwrap();
        let line = r#"{"event":"plateau","epoch":1,"detected":1}"#;
        file.event(1, line).unwrap();
        let second = EventFile::create(dir.path(), "iris-seed1").unwrap();
        assert_ne!(second.path(), file.path());
        assert!(file.path().starts_with(dir.path().join("iris-seed1")));
        let name = file
            .path()
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        assert!(
            name.starts_with("events.out.tfevents.") && name.contains(".tinytrain"),
            "{name}"
        );

        let bytes = std::fs::read(file.path()).unwrap();
        let events: Vec<Event> = tfrecord::records(&bytes)
            .unwrap()
            .into_iter()
            .map(|data| Event::decode(data).unwrap())
            .collect();
        assert_eq!(events.len(), 5);
        assert_eq!(
            events[0].what,
            Some(What::FileVersion("brain.Event:2".into()))
        );
        assert_eq!(
            events[0].source_metadata.as_ref().unwrap().writer,
            "tinytrain"
        );
        assert!(matches!(&events[1].what, Some(What::SessionLog(log)) if log.status == 1));
        let steps: Vec<i64> = events.iter().map(|e| e.step).collect();
        assert_eq!(steps, [0, 0, 0, 1, 1]);
        let summary = |k: usize| match &events[k].what {
            Some(What::Summary(summary)) => summary.value.clone(),
            other => panic!("{other:?}"),
        };
        let text = |value: &proto::Value| match &value.value {
            Some(Kind::Tensor(t)) => String::from_utf8(t.string_val[0].clone()).unwrap(),
            other => panic!("{other:?}"),
        };
        assert_eq!(summary(2)[0].tag, "hparams");
        assert!(text(&summary(2)[0]).contains("| epochs | `3` |"));
        let scalars: Vec<(String, f32)> = summary(3)
            .iter()
            .map(|v| match v.value {
                Some(Kind::SimpleValue(x)) => (v.tag.clone(), x),
                _ => panic!("{v:?}"),
            })
            .collect();
        assert_eq!(scalars.len(), 3);
        assert!(scalars[0].0 == "Loss/train" && scalars[0].1.is_nan());
        assert_eq!(
            scalars[1..],
            [("Accuracy/train".into(), 0.25), ("lr".into(), 0.001)]
        );
        assert_eq!(text(&summary(4)[0]), format!("`{line}`"));
        let wall = events[3].wall_time;
        assert!(wall > 1.7e9 && wall >= events[0].wall_time, "{wall}");
    }

    #[test]
    fn table_cells_stay_cells() {
        let table =
            markdown_table(&serde_json::json!({"delimiter": "|", "label": "a`b", "empty": {}}));
        assert!(table.contains("| delimiter | `\\|` |"), "{table}");
        assert!(table.contains("| label | `a'b` |"), "{table}");
        assert!(table.contains("| empty | `{}` |"), "{table}");
    }
}
