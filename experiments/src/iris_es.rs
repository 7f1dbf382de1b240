//! Iris with early stopping: the [`iris`] experiment (same network, split, optimiser
//! and seed) for up to 300 epochs, stopped when the validation loss has not improved for 10 epochs,
//! ending with the best epoch's weights (restored from a snapshot in the workspace).

use tinytrain::early_stop::EarlyStoppingConfig;
use tinytrain::monitor::Monitor;

use crate::experiment::Experiment;
use crate::iris;

/// Iris as in [`iris::EXPERIMENT`], 300 epochs at most, early stopping on `val_loss` with patience
/// 10, restoring the best weights.
pub const EXPERIMENT: Experiment = Experiment {
    name: "iris_es",
    epochs: 300,
    early_stopping: Some(EarlyStoppingConfig {
        monitor: Monitor::ValLoss,
        direction: None,
        min_delta: 0.0,
        patience: 10,
        start_from_epoch: 0,
        restore_best_weights: true,
    }),
    ..iris::EXPERIMENT
};

use iris::net;
crate::run::workspace!(net);
