//! `tinytrain train --device BOARD --stream`: the board learns from the training rows as they
//! arrive over its UART, starting from the run's model (a shipped one with `--init`), instead of
//! from data in its flash.
//!
//! * [`frames`] — what the host sends: every training row of the split as a sample frame, in a
//!   seeded order, an `epoch_end` frame after each pass, `--epochs` passes, then `end`
//!   (`tinytrain_experiments::wire::sample`);
//! * [`experiment`] — the run as the firmware's generated experiment states it (the host's
//!   replay needs it as a value);
//! * [`replay`] — the host's run of the same frames through the same
//!   [`Stream`], parsed as the device parses them: its
//!   records must equal the device's bit for bit;
//! * [`Accuracy`] — the validation split scored with the model before the stream and after it (the
//!   stream itself has no validation pass: its epochs' training metrics are prequential).

use anyhow::{anyhow, bail};
use tinytrain::data::{shuffle, Dataset, Target};
use tinytrain::normalize::Standardized;
use tinytrain::record::EpochRecord;
use tinytrain::rng::Pcg32;
use tinytrain::train::Runtime;
use tinytrain_experiments::datasets::DataSource;
use tinytrain_experiments::experiment::Statistics;
use tinytrain_experiments::stream::{Fed, Stream};
use tinytrain_experiments::wire::sample::{self, Frame, Message};
use tinytrain_experiments::{frame, Experiment, Summary};

use crate::csv_data::Targets;
use crate::memory::VecMemory;
use crate::options::Normalize;
use crate::pipeline::Setup;

/// The sealed frames of the stream of `setup`'s training rows, `epochs` passes. Each pass takes
/// the rows in a fresh order drawn from the seed (the core's [`shuffle`]; a split lists its rows
/// class by class, and a stream sorted by class teaches each class in turn and forgets the one
/// before), or in the split's order with `--no-shuffle`.
pub fn frames(setup: &Setup<'_>) -> Vec<Vec<u8>> {
    let table = setup.table;
    let width = table.width();
    let mut frames =
        Vec::with_capacity((setup.train_rows.len() + 1) * setup.spec.epochs as usize + 1);
    let mut rng = Pcg32::new(setup.spec.seed, tinytrain::rng::stream::ARRIVAL);
    let mut order = setup.train_rows.clone();
    let x = |row: u32| &table.features[row as usize * width..(row as usize + 1) * width];
    for _ in 0..setup.spec.epochs {
        if setup.config.shuffle {
            shuffle(&mut order, &mut rng);
        }
        for &row in &order {
            let message = match &table.targets {
                // An autoencoder's target is its input.
                _ if setup.is_autoencoder() => Message::Features { x: x(row) },
                Targets::Classes { labels, .. } => Message::Sample {
                    x: x(row),
                    target: Target::Class(labels[row as usize]),
                },
                Targets::Values(values) => Message::Sample {
                    x: x(row),
                    target: Target::Value(values[row as usize]),
                },
            };
            frames.push(sample::encode(&message));
        }
        frames.push(sample::encode(&Message::EpochEnd));
    }
    if let Some(autoencoder) = &setup.spec.autoencoder {
        // The threshold from the validation rows' errors, then the flag on them and on the
        // anomalies (the rows of the other classes), each with its truth.
        let score = |row: &u32, anomaly| {
            sample::encode(&Message::Score {
                x: x(*row),
                anomaly,
            })
        };
        frames.extend(setup.val_rows.iter().map(|row| score(row, None)));
        frames.push(sample::encode(&Message::Threshold {
            quantile: autoencoder.quantile,
        }));
        frames.extend(setup.val_rows.iter().map(|row| score(row, Some(false))));
        frames.extend(setup.anomaly_rows.iter().map(|row| score(row, Some(true))));
    }
    frames.push(sample::encode(&Message::End));
    frames
}

/// Checks what a stream cannot do before anything is built.
pub fn check(setup: &Setup<'_>) -> anyhow::Result<()> {
    if setup.plan.has_batch_norm() {
        bail!("--stream: a network with batch norm learns whole mini-batches, not one sample as it arrives; leave out --batch-norm");
    }
    if setup.spec.early_stopping.is_some() {
        bail!("--stream: early stopping watches validation epochs, and a stream has none; leave out --early-stopping");
    }
    if setup.spec.normalize == Normalize::Standard && setup.features.is_none() {
        bail!(
            "--stream: the samples are standardised with the host's statistics, and there are none"
        );
    }
    Ok(())
}

/// The stream's experiment as a value: what `generate` writes for `--stream` (the same network,
/// configuration, seed, model and statistics; no rows). Its slices are leaked: one per run.
pub fn experiment(setup: &Setup<'_>, name: &str, init: Option<&[f32]>) -> Experiment {
    fn leak<T: Clone>(values: &[T]) -> &'static [T] {
        Box::leak(values.to_vec().into_boxed_slice())
    }
    let table = setup.table;
    let classes = if setup.head.is_classification() {
        table.classes()
    } else {
        0
    };
    let nothing: &'static tinytrain::data::SliceDataset<'static> = Box::leak(Box::new(
        tinytrain::data::SliceDataset::regression(&[], table.width(), &[]),
    ));
    let name: &'static str = Box::leak(name.to_owned().into_boxed_str());
    let statistics = setup.features.as_ref().map(|features| Statistics {
        mean: leak(features.mean()),
        scale: leak(features.scale()),
        target: setup.target.as_ref().map(|t| (t.mean()[0], t.scale()[0])),
    });
    Experiment {
        name,
        data: DataSource::new(name, 0, table.width(), classes, nothing),
        layers: leak(&setup.layers),
        head: setup.head,
        config: tinytrain::train::TrainConfig {
            target_scale: tinytrain::train::TrainConfig::DEFAULT.target_scale,
            ..setup.config
        },
        epochs: setup.spec.epochs,
        validation_fraction: setup.spec.val_fraction,
        seed: setup.spec.seed,
        standardize: setup.spec.normalize == Normalize::Standard,
        early_stopping: None,
        init: init.map(leak),
        statistics,
        reconstruct: setup.is_autoencoder(),
    }
}

/// What the host's replay of a stream gave.
#[derive(Debug)]
pub struct Replay {
    /// One record per `epoch_end` frame.
    pub records: Vec<EpochRecord>,
    /// The summary the device sends.
    pub summary: Summary,
    /// Validation accuracy before and after (classification).
    pub accuracy: Option<Accuracy>,
    /// The model the stream trained (the device's weights frames must give the same).
    pub weights: crate::weights::Weights,
}

/// The validation split's accuracy with the model before the stream and after it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Accuracy {
    /// With the starting model (`--init`'s, or the seed's).
    pub before: f32,
    /// With the model the stream trained.
    pub after: f32,
    /// Validation rows scored.
    pub rows: usize,
}

/// Feeds `frames` to a [`Stream`] of `experiment`, each parsed as the firmware parses it, and
/// scores `setup`'s validation rows before and after.
pub fn replay(
    setup: &Setup<'_>,
    experiment: &Experiment,
    frames: &[Vec<u8>],
) -> anyhow::Result<Replay> {
    let mut memory = VecMemory::try_for_run(&setup.plan, &setup.config, setup.frozen_params())?;
    let mut errors = vec![
        0.0;
        if setup.is_autoencoder() {
            setup.val_rows.len()
        } else {
            0
        }
    ];
    let mut stream = Stream::<Runtime>::new(experiment, memory.buffers(), &mut errors)
        .map_err(|e| anyhow!("cannot stream: {e}"))?;
    let before = score(setup, &mut stream);
    let mut records = Vec::new();
    for (n, bytes) in frames.iter().enumerate() {
        let text = std::str::from_utf8(bytes)?;
        let json = frame::open(text).map_err(|e| anyhow!("frame {n}: {e}"))?;
        let parsed =
            Frame::parse(json.as_bytes()).map_err(|e| anyhow!("frame {n}: {}", e.message()))?;
        let message = parsed
            .message()
            .map_err(|e| anyhow!("frame {n}: {}", e.message()))?;
        match stream.feed(message) {
            Fed::Epoch(record) => records.push(record),
            Fed::End => break,
            Fed::Refused(tinytrain::train::StreamError::Stopped) => break,
            Fed::Learned(_)
            | Fed::Refused(_)
            | Fed::Scored { .. }
            | Fed::Threshold { .. }
            | Fed::Ignored(_) => {}
        }
    }
    let accuracy = before
        .zip(score(setup, &mut stream))
        .map(|(before, after)| Accuracy {
            before,
            after,
            rows: setup.val_rows.len(),
        });
    Ok(Replay {
        records,
        summary: stream.summary(),
        accuracy,
        weights: crate::weights::Weights::of(stream.trainer().net()),
    })
}

/// Accuracy of the stream's model on the validation rows (`None`: a regression, or no rows).
fn score(setup: &Setup<'_>, stream: &mut Stream<'_, Runtime>) -> Option<f32> {
    if !setup.head.is_classification() || setup.val_rows.is_empty() {
        return None;
    }
    let raw = setup.table.dataset();
    let data = Standardized::features_only(&raw, setup.features.as_deref());
    debug_assert_eq!(data.features(), setup.table.width());
    let summary = stream.trainer_mut().evaluate(&data, &setup.val_rows);
    Some(summary.confusion.accuracy())
}
