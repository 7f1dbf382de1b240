//! Running-statistics accumulators: fixed size, updated one sample at a time, readable at any time,
//! and reset between epochs.

pub mod classification;
pub mod quantile;
pub mod regression;
pub mod welford;
pub mod window;

pub use classification::ConfusionMatrix;
pub use quantile::quantile;
pub use regression::RegressionMetrics;
pub use welford::Welford;
pub use window::{Ema, Window};
