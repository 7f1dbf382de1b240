//! The experiments on the host alone: a run is a pure function of its definition.

use tinytrain::record::EpochRecord;
use tinytrain_experiments::{iris, NoFault, RecordBits, IRIS};

fn iris_records() -> (Vec<EpochRecord>, tinytrain_experiments::Summary) {
    let mut records = Vec::new();
    let summary = iris::workspace()
        .run(&IRIS, NoFault, &mut |r: &EpochRecord| records.push(*r))
        .unwrap();
    (records, summary)
}

#[test]
fn a_run_is_deterministic_and_learns() {
    let (first, summary) = iris_records();
    let (second, _) = iris_records();
    let bits = |records: &[EpochRecord]| records.iter().map(RecordBits::of).collect::<Vec<_>>();
    assert_eq!(bits(&first), bits(&second));
    assert_eq!(first.len(), IRIS.epochs as usize);
    assert_eq!((summary.rows.train, summary.rows.validation), (120, 30));
    assert_eq!(summary.samples_trained, 120 * IRIS.epochs);
    // Iris is easy: a trained 4-8-3 network is right about at least 9 flowers in 10.
    assert!(summary.best_val_acc.unwrap() >= 0.9, "{summary:?}");
    assert!(
        summary.last.train_loss < first[0].train_loss / 4.0,
        "{summary:?}"
    );
}

#[test]
fn the_summary_names_the_best_epoch() {
    let (records, summary) = iris_records();
    let best = records
        .iter()
        .map(|r| r.val_acc.unwrap())
        .fold(f32::MIN, f32::max);
    let first_best = records.iter().find(|r| r.val_acc == Some(best)).unwrap();
    assert_eq!(
        (summary.best_epoch, summary.best_val_acc),
        (first_best.epoch, Some(best))
    );
    assert_eq!(summary.last, *records.last().unwrap());
}
