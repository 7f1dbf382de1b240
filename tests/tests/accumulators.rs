//! Property tests of the running accumulators against naive computations on random data:
//! `Welford` (mean, population and sample variance), `RegressionMetrics` (MAE, MSE, RMSE, R²),
//! `ConfusionMatrix` (counts, accuracy, per-class precision/recall/F1, macro averages) and the
//! `Standardizer` (mean, scale, transform); and `reset()` returning each to its empty state.
//!
//! Reference values are computed in this file: two-pass mean and variance in `f64` over the same
//! `f32` inputs, and a straightforward counting implementation of the classification metrics
//! (scikit-learn's definitions, F1 = 2TP / (2TP + FP + FN), a 0/0 ratio counting as 0).
//! Tolerances (ε = `f32::EPSILON`, n = number of values): a streaming `f32` mean is within
//! `2·√n·ε·max|x|`; a variance-like quantity (M₂, SST) has a relative error within
//! `2·√n·ε·(1 + |mean|/std)` — cancellation in `x − mean` grows with the ratio of the offset to the
//! spread; the `f32` running sums of MAE/MSE are within `4·√n·ε` relative. (Over 20 000 random data
//! sets the largest errors seen were 0.48, 0.41 and 1.1 times `√n·ε·…`.) Counts are exact and the
//! classification ratios are within 1e-6.

use proptest::prelude::*;
use tinytrain::data::SliceDataset;
use tinytrain::metrics::{ConfusionMatrix, RegressionMetrics, Welford};
use tinytrain::normalize::{Standardizer, EPSILON};

const EPS: f64 = f32::EPSILON as f64;

/// Two-pass statistics in f64: (mean, M₂ = Σ(x − mean)²).
fn two_pass(values: &[f32]) -> (f64, f64) {
    let n = values.len() as f64;
    let mean = values.iter().map(|&x| x as f64).sum::<f64>() / n;
    let m2 = values
        .iter()
        .map(|&x| (x as f64 - mean).powi(2))
        .sum::<f64>();
    (mean, m2)
}

fn mean_tolerance(values: &[f32]) -> f64 {
    let max = values.iter().fold(0.0f64, |m, &x| m.max((x as f64).abs()));
    2.0 * (values.len() as f64).sqrt() * EPS * max
}

/// Relative tolerance of a streaming `f32` sum of squared deviations.
fn variance_rel_tolerance(values: &[f32]) -> f64 {
    let (mean, m2) = two_pass(values);
    let std = (m2 / values.len() as f64).sqrt();
    2.0 * (values.len() as f64).sqrt() * EPS * (1.0 + mean.abs() / std)
}

fn close(actual: f64, expected: f64, abs: f64) -> bool {
    (actual - expected).abs() <= abs
}

/// Values `offset + spread·u`, `u` uniform in [−1, 1]: spreads from 0.01 to 100, offsets up to 100
/// spreads. (A larger offset-to-spread ratio is where `f32` itself gives out: a mean of 1000 has an
/// ulp of 6e-5, so a spread of 0.01 keeps only about 8 bits, and the variance tolerance would reach
/// 0.5 relative, a test that proves nothing. The largest tolerance here, n = 400 and a ratio of 100,
/// is 8.3e-4 relative: the standard deviation of `spread·u` is `spread/√3`.)
fn values(max_len: usize) -> impl Strategy<Value = Vec<f32>> {
    (
        -100.0f32..100.0,
        0.01f32..100.0,
        prop::collection::vec(-1.0f32..1.0, 1..max_len),
    )
        .prop_map(|(ratio, spread, u)| u.iter().map(|u| ratio * spread + spread * u).collect())
        // A spread that rounds away entirely leaves nothing to compare relatively.
        .prop_filter("values must not all be equal", |v: &Vec<f32>| {
            v.iter().any(|&x| x != v[0])
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn welford_matches_two_pass(values in values(400)) {
        let mut w = Welford::new();
        values.iter().for_each(|&x| w.update(x));
        let n = values.len();
        let (mean, m2) = two_pass(&values);
        prop_assert_eq!(w.count() as usize, n);
        prop_assert!(close(w.mean() as f64, mean, mean_tolerance(&values)), "mean {} vs {mean}", w.mean());
        let rel = variance_rel_tolerance(&values);
        prop_assert!(close(w.sum_of_squares() as f64, m2, rel * m2), "M2 {} vs {m2}", w.sum_of_squares());
        let population = m2 / n as f64;
        prop_assert!(
            close(w.population_variance() as f64, population, rel * population),
            "population variance {} vs {population}", w.population_variance()
        );
        if n >= 2 {
            let sample = m2 / (n - 1) as f64;
            prop_assert!(
                close(w.sample_variance() as f64, sample, rel * sample),
                "sample variance {} vs {sample}", w.sample_variance()
            );
        } else {
            prop_assert_eq!(w.sample_variance(), 0.0);
        }
    }

    #[test]
    fn regression_metrics_match_two_pass(
        targets in values(300),
        noise in prop::collection::vec(-1.0f32..1.0, 300),
        noise_scale in 0.001f32..50.0,
    ) {
        let predictions: Vec<f32> = targets.iter().zip(&noise).map(|(&t, &e)| t + noise_scale * e).collect();
        let mut m = RegressionMetrics::new();
        targets.iter().zip(&predictions).for_each(|(&t, &p)| m.update(p, t));
        let n = targets.len() as f64;
        // The errors as the accumulator sees them: one f32 subtraction.
        let errors: Vec<f64> = targets.iter().zip(&predictions).map(|(&t, &p)| (p - t) as f64).collect();
        let mae = errors.iter().map(|e| e.abs()).sum::<f64>() / n;
        let sse = errors.iter().map(|e| e * e).sum::<f64>();
        let mse = sse / n;
        let sum_rel = 4.0 * n.sqrt() * EPS;
        prop_assert_eq!(m.count() as usize, targets.len());
        prop_assert!(close(m.mae() as f64, mae, sum_rel * mae), "MAE {} vs {mae}", m.mae());
        prop_assert!(close(m.mse() as f64, mse, sum_rel * mse), "MSE {} vs {mse}", m.mse());
        prop_assert!(close(m.rmse() as f64, mse.sqrt(), sum_rel * mse.sqrt()), "RMSE {} vs {}", m.rmse(), mse.sqrt());
        let (_, sst) = two_pass(&targets);
        let r2 = 1.0 - sse / sst;
        // R² = 1 − SSE/SST: the relative errors of both sums add up on the ratio.
        let ratio_tol = (sse / sst) * (sum_rel + variance_rel_tolerance(&targets));
        prop_assert!(close(m.r2() as f64, r2, ratio_tol + 2.0 * EPS), "R2 {} vs {r2}", m.r2());
    }

    #[test]
    fn confusion_matrix_matches_counting(
        classes in 1usize..=6,
        pairs in prop::collection::vec((0u16..8, 0u16..8), 0..300),
    ) {
        let mut m = ConfusionMatrix::<8>::new(classes);
        pairs.iter().for_each(|&(t, p)| m.update(t, p));
        // The reference: pairs with a class out of range are not counted.
        let counted: Vec<(usize, usize)> = pairs
            .iter()
            .map(|&(t, p)| (t as usize, p as usize))
            .filter(|&(t, p)| t < classes && p < classes)
            .collect();
        let count = |t: usize, p: usize| counted.iter().filter(|&&pair| pair == (t, p)).count() as u32;
        prop_assert_eq!(m.classes(), classes);
        prop_assert_eq!(m.total() as usize, counted.len());
        for t in 0..classes {
            for p in 0..classes {
                prop_assert_eq!(m.count(t, p), count(t, p));
            }
        }
        let ratio = |a: usize, b: usize| if b == 0 { 0.0 } else { a as f64 / b as f64 };
        let correct = counted.iter().filter(|(t, p)| t == p).count();
        prop_assert!(close(m.accuracy() as f64, ratio(correct, counted.len()), 1e-6));
        let (mut sum_p, mut sum_r, mut sum_f1) = (0.0, 0.0, 0.0);
        for c in 0..classes {
            let tp = counted.iter().filter(|&&(t, p)| t == c && p == c).count();
            let fp = counted.iter().filter(|&&(t, p)| t != c && p == c).count();
            let fn_ = counted.iter().filter(|&&(t, p)| t == c && p != c).count();
            let (precision, recall, f1) = (ratio(tp, tp + fp), ratio(tp, tp + fn_), ratio(2 * tp, 2 * tp + fp + fn_));
            prop_assert!(close(m.precision(c) as f64, precision, 1e-6), "precision({c}) {} vs {precision}", m.precision(c));
            prop_assert!(close(m.recall(c) as f64, recall, 1e-6), "recall({c}) {} vs {recall}", m.recall(c));
            prop_assert!(close(m.f1(c) as f64, f1, 1e-6), "f1({c}) {} vs {f1}", m.f1(c));
            sum_p += precision;
            sum_r += recall;
            sum_f1 += f1;
        }
        let k = classes as f64;
        prop_assert!(close(m.macro_precision() as f64, sum_p / k, 1e-6));
        prop_assert!(close(m.macro_recall() as f64, sum_r / k, 1e-6));
        prop_assert!(close(m.macro_f1() as f64, sum_f1 / k, 1e-6), "macro F1 {} vs {}", m.macro_f1(), sum_f1 / k);
    }

    #[test]
    fn standardizer_matches_two_pass(
        columns in prop::collection::vec(values(150), 4),
        rows in 2usize..150,
    ) {
        // Four features, each with its own offset and spread; `rows` rows (each column cycled).
        let table: Vec<[f32; 4]> =
            (0..rows).map(|r| core::array::from_fn(|j| columns[j][r % columns[j].len()])).collect();
        let mut s = Standardizer::<4>::new(4);
        table.iter().for_each(|row| s.update(row));
        prop_assert!(!s.is_frozen());
        s.freeze();
        prop_assert!(s.is_frozen());
        for j in 0..4 {
            let column: Vec<f32> = table.iter().map(|row| row[j]).collect();
            let (mean, m2) = two_pass(&column);
            let variance = m2 / rows as f64;
            let scale = 1.0 / (variance + EPSILON as f64).sqrt();
            prop_assert!(close(s.mean()[j] as f64, mean, mean_tolerance(&column)), "mean[{j}] {} vs {mean}", s.mean()[j]);
            // scale = (var + ε)^(−1/2): half the relative error of the variance, plus the f32 steps.
            let rel = if m2 == 0.0 { 0.0 } else { 0.5 * variance_rel_tolerance(&column) * variance / (variance + EPSILON as f64) };
            prop_assert!(close(s.scale()[j] as f64, scale, (rel + 4.0 * EPS) * scale), "scale[{j}] {} vs {scale}", s.scale()[j]);
        }
        // The transform uses exactly the frozen statistics, and `invert` undoes it.
        let mut row = table[0];
        s.apply(&mut row);
        for j in 0..4 {
            prop_assert_eq!(row[j], (table[0][j] - s.mean()[j]) * s.scale()[j]);
            let back = s.invert(j, row[j]) as f64;
            prop_assert!(close(back, table[0][j] as f64, 8.0 * EPS * (table[0][j].abs() as f64 + s.mean()[j].abs() as f64)));
        }
        // Once frozen, more rows change nothing.
        let frozen = s.clone();
        s.update(&[1e6; 4]);
        prop_assert_eq!(&s, &frozen);
    }

    #[test]
    fn reset_returns_to_the_empty_state(
        values in values(100),
        pairs in prop::collection::vec((0u16..4, 0u16..4), 1..100),
    ) {
        let mut w = Welford::new();
        values.iter().for_each(|&x| w.update(x));
        let fresh_w = w;
        w.reset();
        prop_assert_eq!(w, Welford::new());
        prop_assert_eq!((w.count(), w.mean(), w.population_variance(), w.sample_variance()), (0, 0.0, 0.0, 0.0));
        values.iter().for_each(|&x| w.update(x));
        prop_assert_eq!(w, fresh_w);

        let mut r = RegressionMetrics::new();
        values.iter().for_each(|&x| r.update(x * 0.5, x));
        let fresh_r = r;
        r.reset();
        prop_assert_eq!(r, RegressionMetrics::new());
        prop_assert_eq!((r.count(), r.mae(), r.mse(), r.rmse(), r.r2()), (0, 0.0, 0.0, 0.0, 0.0));
        values.iter().for_each(|&x| r.update(x * 0.5, x));
        prop_assert_eq!(r, fresh_r);

        let mut m = ConfusionMatrix::<4>::new(4);
        pairs.iter().for_each(|&(t, p)| m.update(t, p));
        prop_assert!(m.total() > 0);
        let fresh_m = m.clone();
        m.reset();
        prop_assert_eq!(&m, &ConfusionMatrix::<4>::new(4));
        prop_assert_eq!((m.total(), m.accuracy(), m.macro_f1()), (0, 0.0, 0.0));
        pairs.iter().for_each(|&(t, p)| m.update(t, p));
        prop_assert_eq!(&m, &fresh_m);
    }
}

/// Constant features and targets: no spread, no NaN.
#[test]
fn constant_inputs_stay_finite() {
    let mut w = Welford::new();
    let mut r = RegressionMetrics::new();
    let mut s = Standardizer::<2>::new(2);
    for _ in 0..10 {
        w.update(3.25);
        r.update(1.0, 3.25);
        s.update(&[3.25, -7.0]);
    }
    assert_eq!(
        (w.mean(), w.population_variance(), w.sample_variance()),
        (3.25, 0.0, 0.0)
    );
    assert_eq!(
        r.r2(),
        0.0,
        "R² with no spread in the targets is defined as 0"
    );
    assert_eq!((r.mae(), r.mse(), r.rmse()), (2.25, 5.0625, 2.25));
    s.freeze();
    let mut row = [3.25, -7.0];
    s.apply(&mut row);
    assert_eq!(row, [0.0, 0.0]);
    assert_eq!(s.scale()[0], 1.0 / EPSILON.sqrt());
}

/// `Standardizer::fit` over dataset rows equals updating with those rows, bit for bit.
#[test]
fn standardizer_fit_streams_the_selected_rows() {
    let features: Vec<f32> = (0..60)
        .map(|i| ((i * 37) % 23) as f32 * 0.5 - 3.0)
        .collect();
    let labels = vec![0u16; 20];
    let data = SliceDataset::classification(&features, 3, &labels);
    let rows: Vec<u32> = (0..20).filter(|i| i % 3 != 0).collect();
    let mut fitted = Standardizer::<3>::new(3);
    fitted.fit(&data, &rows, &mut [0.0; 3]);
    let mut manual = Standardizer::<3>::new(3);
    rows.iter()
        .for_each(|&r| manual.update(&features[3 * r as usize..3 * r as usize + 3]));
    manual.freeze();
    assert_eq!(fitted, manual);
    // Capacity clamps: a standardiser for 2 features reads only the first 2 of a row.
    let clamped = Standardizer::<2>::new(5);
    assert_eq!(clamped.mean().len(), 2);
    assert_eq!(ConfusionMatrix::<4>::new(10).classes(), 4);
}
