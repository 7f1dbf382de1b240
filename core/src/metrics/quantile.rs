//! Quantiles of a set of values, as numpy computes them: an anomaly threshold from validation
//! errors, on the host or on a device (no allocation: the values are sorted in place).

/// `numpy.quantile(values, q)` (method `"linear"`) of ascending `sorted` values: the value at
/// position `q·(n − 1)`, interpolated between its neighbours (in `f64`, as numpy does). NaN for no
/// values.
///
/// ```
/// use tinytrain::metrics::quantile;
/// // numpy: np.quantile([1, 2, 3, 4, 10], [0, 0.5, 0.95, 1]) = [1, 3, 8.8, 10]
/// let v = [1.0, 2.0, 3.0, 4.0, 10.0];
/// assert_eq!([quantile(&v, 0.0), quantile(&v, 0.5), quantile(&v, 1.0)], [1.0, 3.0, 10.0]);
/// assert!((quantile(&v, 0.95) - 8.8).abs() < 1e-6);
/// assert_eq!(quantile(&[5.0], 0.95), 5.0);
/// assert!(quantile(&[], 0.5).is_nan());
/// ```
pub fn quantile(sorted: &[f32], q: f32) -> f32 {
    let Some(last) = sorted.len().checked_sub(1) else {
        return f32::NAN;
    };
    let position = f64::from(q.clamp(0.0, 1.0)) * last as f64;
    // `position ≥ 0`: the cast is its floor.
    let below = (position as usize).min(last);
    let above = (below + 1).min(last);
    let fraction = position - below as f64;
    match (sorted.get(below), sorted.get(above)) {
        (Some(&a), Some(&b)) => {
            let (a, b) = (f64::from(a), f64::from(b));
            (a + fraction * (b - a)) as f32
        }
        _ => f32::NAN,
    }
}

/// Sorts `values` ascending in place (IEEE total order: NaNs last), for [`quantile`].
pub fn sort(values: &mut [f32]) {
    values.sort_unstable_by(f32::total_cmp);
}
