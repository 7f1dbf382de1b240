//! Where a [`Trainer`](super::Trainer) reads its hyper-parameters and head from: the values given to
//! `Trainer::new` ([`Runtime`], every host run), or constants of a type known when the program is
//! compiled (a firmware built for one experiment).
//!
//! The training step branches on the optimiser, the schedule, clipping, the divergence policy and
//! the head. With constants, the compiler keeps only the branches the experiment takes: the digits
//! firmware loses 3.2 KB of flash (every optimiser but Adam, every head but softmax, the
//! schedules). The numbers are the same bits either way: the same code runs, minus what cannot run.

use crate::layers::Needs;
use crate::loss::Head;
use crate::spec::Layer;

use super::TrainConfig;

/// The fixed settings of a trainer type; `None`: the value given to `Trainer::new`. A fixed
/// configuration's `target_scale` is not used: the scale comes from the training rows at run time.
///
/// A firmware's experiment fixes both:
///
/// ```
/// use tinytrain::loss::Head;
/// use tinytrain::train::{Settings, TrainConfig};
///
/// #[derive(Debug)]
/// enum Digits {}
/// impl Settings for Digits {
///     const CONFIG: Option<TrainConfig> = Some(TrainConfig::DEFAULT);
///     const HEAD: Option<Head> = Some(Head::SoftmaxCrossEntropy);
/// }
/// ```
///
/// `Trainer::<C, Digits>::new` refuses any other configuration (but for its target scale) or head
/// ([`ShapeError::SettingsMismatch`](crate::spec::ShapeError::SettingsMismatch)), so the constants
/// and the trainer's own copy (which checkpoints save) never disagree.
pub trait Settings: core::fmt::Debug {
    /// Hyper-parameters every trainer of this type uses.
    const CONFIG: Option<TrainConfig> = None;
    /// Head every trainer of this type uses.
    const HEAD: Option<Head> = None;
    /// Layers of every trainer of this type.
    const LAYERS: Option<&'static [Layer]> = None;
    /// The layer code those layers reach ([`Needs::of`]); all of it if the layers are not fixed.
    const NEEDS: Needs = match Self::LAYERS {
        Some(layers) => Needs::of(layers),
        None => Needs::ALL,
    };
}

/// Settings read at run time, from the trainer's fields: the default.
#[derive(Debug)]
pub enum Runtime {}

impl Settings for Runtime {}
