//! Early stopping on the device: `train_iris_es` (firmware) trains the `iris_es` experiment in QEMU.
//! It must stop at the same epoch as the host's native run, every epoch, event and the stop must be
//! bit-identical to the host's on both channels (serial frames and defmt lines), and the weights it
//! ends with (the best epoch's, restored) must give, re-evaluated on the host, the best epoch's
//! validation loss.
//!
//! Without `qemu-system-arm` the test is skipped, unless `CI` is set (then it fails).

#[macro_use]
mod common;

use serde_json::Value;
use tinytrain::data::split;
use tinytrain::diagnose::Event;
use tinytrain::network::Buffers;
use tinytrain::normalize::{Standardized, Standardizer};
use tinytrain::optim::optimizer_state_len;
use tinytrain::record::EpochRecord;
use tinytrain::spec::Plan;
use tinytrain_experiments::run::MAX_FEATURES;
use tinytrain_experiments::{frame, iris_es, NoFault, RecordBits, IRIS_ES};
use tinytrain_host::decode;

/// The validation loss of `params` on `IRIS_ES`'s split and standardisation, computed as `run` does.
fn validation_loss(params: &[f32]) -> f32 {
    let experiment = IRIS_ES;
    let data = experiment.data;
    let (features, classes) = (data.features(), experiment.classes());
    let mut train = vec![0u32; experiment.train_capacity()];
    let mut validation = vec![0u32; experiment.train_capacity()];
    let (n_train, n_val) = split(
        &data,
        classes,
        experiment.validation_fraction,
        experiment.seed,
        &mut train,
        &mut validation,
    )
    .unwrap();
    let mut standardizer = Standardizer::<MAX_FEATURES>::new(features);
    let mut scratch = [0.0; MAX_FEATURES];
    standardizer.fit(&data, &train[..n_train], &mut scratch[..features]);
    let inputs = Standardized::features_only(&data, Some(&standardizer));
    let plan = Plan::of(experiment.layers).unwrap();
    let (mut p, mut grads) = (params.to_vec(), vec![0.0; plan.params]);
    let (mut activations, mut deltas) = (vec![0.0; plan.activations], vec![0.0; plan.deltas]);
    let mut masks = vec![0; plan.mask_words];
    let mut state = vec![0.0; optimizer_state_len(experiment.config.optimizer, plan.params)];
    let buffers = Buffers {
        params: &mut p,
        front: &[],
        grads: &mut grads,
        activations: &mut activations,
        deltas: &mut deltas,
        masks: &mut masks,
        stats: &mut [],
        state: &mut state,
    };
    let mut trainer = experiment.trainer(buffers).unwrap();
    // `Trainer::new` initialises the parameters: load the ones to evaluate.
    trainer.net_mut().params_mut().copy_from_slice(params);
    trainer.evaluate(&inputs, &validation[..n_val]).loss.mean()
}

#[test]
fn firmware_qemu_early_stopping_matches_the_host_and_restores_the_best_weights() {
    require_qemu!();
    let device = common::run_program("train_iris_es");

    // The host's native run of the same experiment.
    let mut ws = Box::new(iris_es::workspace());
    let (summary, host) = ws.record(&IRIS_ES, NoFault).unwrap();
    let outcome = host.outcome.expect("iris_es reports early stopping");
    let stopped = outcome
        .stopped_epoch
        .expect("iris_es stops early on the host");
    assert!(stopped < IRIS_ES.epochs);
    assert_eq!(host.records.len() as u32, stopped);
    let restored = outcome
        .restored_epoch
        .expect("the best weights are restored");
    assert_eq!(restored, outcome.best_epoch);

    // The restored weights, re-evaluated: the best epoch's validation loss, to the bit.
    let best = host.records[restored as usize - 1];
    let params = ws.params().to_vec();
    assert_eq!(
        validation_loss(&params).to_bits(),
        best.val_loss.unwrap().to_bits()
    );
    assert_eq!(best.val_loss.unwrap().to_bits(), outcome.best.to_bits());

    // Serial frames: epochs and events as the host's, then the stop, then the summary.
    let log = decode::read_serial_log(&device.uart);
    assert_eq!(log.rejected, 0, "{}", device.uart);
    assert_eq!(log.records.len(), host.records.len(), "{}", device.uart);
    for (device_record, host_record) in log.records.iter().zip(&host.records) {
        assert_eq!(RecordBits::of(device_record), RecordBits::of(host_record));
    }
    let device_events: Vec<(u32, Event)> =
        log.events.iter().map(|n| (n.detected, n.event)).collect();
    assert_eq!(device_events, host.events);
    // Every frame, in order: each epoch's record, then its events.
    let lines: Vec<&str> = device.uart.lines().collect();
    assert_eq!(
        lines.len(),
        host.records.len() + host.events.len() + 2,
        "{}",
        device.uart
    );
    let stop: Value = serde_json::from_str(frame::open(lines[lines.len() - 2]).unwrap()).unwrap();
    assert_eq!(stop["early_stop"]["stopped_epoch"], stopped, "{stop}");
    assert_eq!(
        stop["early_stop"]["best_epoch"], outcome.best_epoch,
        "{stop}"
    );
    assert_eq!(stop["early_stop"]["restored_epoch"], restored, "{stop}");
    assert_eq!(stop["early_stop"]["monitor"], "val_loss", "{stop}");
    assert_eq!(stop["best_bits"], outcome.best.to_bits(), "{stop}");
    let summary_frame: Value =
        serde_json::from_str(frame::open(lines[lines.len() - 1]).unwrap()).unwrap();
    assert_eq!(summary_frame["summary"]["epochs"], stopped);
    assert_eq!(summary_frame["summary"]["stopped_epoch"], stopped);
    assert_eq!(summary_frame["summary"]["restored_epoch"], restored);
    assert_eq!(
        summary_frame["summary"]["last"],
        serde_json::to_value(summary.last).unwrap()
    );

    // defmt: the same epochs and events, and the stop line.
    let text: Vec<&str> = device.log.iter().map(|l| decode::strip_level(l)).collect();
    let records: Vec<EpochRecord> = text
        .iter()
        .filter_map(|l| decode::parse_epoch_line(l))
        .collect();
    assert_eq!(records.len(), host.records.len());
    for (device_record, host_record) in records.iter().zip(&host.records) {
        assert_eq!(RecordBits::of(device_record), RecordBits::of(host_record));
    }
    let events: Vec<(u32, Event)> = text
        .iter()
        .filter_map(|l| decode::parse_event_line(l))
        .map(|n| (n.detected, n.event))
        .collect();
    assert_eq!(events, host.events);
    let expected = format!(
        "early_stop monitor=val_loss stopped_epoch={stopped} best_epoch={} best={} restored_epoch={restored} bits={:#010x}",
        outcome.best_epoch,
        outcome.best,
        outcome.best.to_bits()
    );
    assert!(text.contains(&expected.as_str()), "{expected}\n{text:#?}");
}
