//! Learning-rate schedules, evaluated per epoch (0-based `epoch`), as PyTorch's `LRScheduler`s stepped
//! once per epoch; and ReduceLROnPlateau, which follows the records instead ([`super::plateau`]).

use super::plateau::ReduceLrOnPlateau;

/// How the learning rate changes from epoch to epoch.
#[derive(Clone, Copy, Debug, PartialEq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "defmt", derive(defmt::Format))]
pub enum Schedule {
    /// Always the base rate.
    #[default]
    Constant,
    /// `StepLR`: `lr₀ · γ^⌊epoch / step_size⌋`.
    Step {
        /// Epochs between decays.
        step_size: u32,
        /// Multiplicative decay.
        gamma: f32,
    },
    /// `CosineAnnealingLR`: `η_min + (lr₀ − η_min)·(1 + cos(π·epoch/T_max))/2`, held at `η_min` after
    /// `T_max`.
    Cosine {
        /// Epochs of one half cosine.
        t_max: u32,
        /// Final learning rate.
        eta_min: f32,
    },
    /// Keras' `ReduceLROnPlateau`: the rate falls by `factor` when the monitored quantity stops
    /// improving. It depends on the records, not on the epoch number, so the
    /// [`Trainer`](crate::train::Trainer) keeps its state ([`super::plateau::Plateau`]).
    Plateau(ReduceLrOnPlateau),
}

impl Schedule {
    /// `StepLR` every 10 epochs by PyTorch's default `γ = 0.1`.
    pub const STEP: Self = Self::Step {
        step_size: 10,
        gamma: 0.1,
    };
    /// Cosine annealing to 0 over `t_max` epochs; `t_max` is 0 here and must be set to the run's
    /// length (as `tinytrain train` does with `--epochs`).
    pub const COSINE: Self = Self::Cosine {
        t_max: 0,
        eta_min: 0.0,
    };
    /// ReduceLROnPlateau with Keras' defaults ([`ReduceLrOnPlateau::DEFAULT`]).
    pub const PLATEAU: Self = Self::Plateau(ReduceLrOnPlateau::DEFAULT);

    /// The learning rate for 0-based `epoch` (`base` for [`Schedule::Plateau`], whose rate the
    /// trainer's state holds).
    ///
    /// ```
    /// use tinytrain::optim::Schedule;
    /// assert_eq!(Schedule::Step { step_size: 10, gamma: 0.5 }.lr(0.1, 25), 0.025);
    /// assert_eq!(Schedule::Cosine { t_max: 10, eta_min: 0.0 }.lr(0.1, 10), 0.0);
    /// ```
    pub fn lr(self, base: f32, epoch: u32) -> f32 {
        match self {
            Schedule::Constant | Schedule::Plateau(_) => base,
            Schedule::Step { step_size, gamma } => {
                let decays = epoch.checked_div(step_size).unwrap_or(0);
                (0..decays).fold(base, |lr, _| lr * gamma)
            }
            Schedule::Cosine { t_max, eta_min } => {
                if t_max == 0 || epoch >= t_max {
                    return eta_min;
                }
                eta_min + (base - eta_min) * half_cosine(epoch, t_max)
            }
        }
    }
}

/// `(1 + cos(π·k/n))/2` for `k < n`, in `f32` arithmetic alone.
///
/// Why not `libm::cosf`: its argument reduction computes in `f64`, which the Cortex-M4F does in
/// software (4.5 KB of flash with the `f64` routines, for one value per epoch). The value is taken as
/// `cos²(π·k/(2n))`, which has no cancellation as `k → n` where `1 + cos` has; the angle is at most
/// π/4 after using `cos(θ) = sin(π/2 − θ)` past the middle, where Taylor polynomials to `θ⁹`/`θ¹⁰`
/// err by less than 3·10⁻⁹; rounding leaves the result within 4·10⁻⁷ (relative, about 3 ulp) of `f64`
/// (the test checks every `k < n ≤ 400`).
fn half_cosine(k: u32, n: u32) -> f32 {
    let quarter_turn = core::f32::consts::FRAC_PI_2;
    let c = if u64::from(k) * 2 <= u64::from(n) {
        let t = quarter_turn * (k as f32 / n as f32);
        let t2 = t * t;
        1.0 - t2 / 2.0
            * (1.0 - t2 / 12.0 * (1.0 - t2 / 30.0 * (1.0 - t2 / 56.0 * (1.0 - t2 / 90.0))))
    } else {
        let t = quarter_turn * ((n - k) as f32 / n as f32);
        let t2 = t * t;
        t * (1.0 - t2 / 6.0 * (1.0 - t2 / 20.0 * (1.0 - t2 / 42.0 * (1.0 - t2 / 72.0))))
    };
    c * c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn half_cosine_matches_f64_to_a_few_ulp() {
        for n in 1..=400u32 {
            for k in 0..n {
                let exact =
                    (1.0 + (core::f64::consts::PI * f64::from(k) / f64::from(n)).cos()) / 2.0;
                let got = f64::from(half_cosine(k, n));
                assert!(
                    (got - exact).abs() <= 4e-7 * exact,
                    "k={k} n={n}: {got} vs {exact}"
                );
            }
        }
        assert_eq!(half_cosine(0, 7), 1.0);
    }

    /// `StepLR` and `CosineAnnealingLR` as PyTorch defines them, epoch by epoch, against `f64`:
    /// the decays at each `step_size`, the cosine between `lr₀` and `η_min ≠ 0`, held at `η_min`
    /// from `T_max` on, and `T_max = 0` (an unset cosine) at `η_min`.
    #[test]
    fn each_schedule_follows_pytorchs_formula() {
        let step = Schedule::Step {
            step_size: 3,
            gamma: 0.5,
        };
        let rates: Vec<f32> = (0..8).map(|e| step.lr(0.8, e)).collect();
        assert_eq!(rates, [0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2]);
        assert_eq!(
            Schedule::Step {
                step_size: 0,
                gamma: 0.5
            }
            .lr(0.8, 5),
            0.8
        );
        assert_eq!(Schedule::Constant.lr(0.8, 99), 0.8);
        let cosine = Schedule::Cosine {
            t_max: 10,
            eta_min: 0.1,
        };
        for epoch in 0..10 {
            let angle = core::f64::consts::PI * f64::from(epoch) / 10.0;
            let exact = 0.1 + (0.9 - 0.1) * (1.0 + angle.cos()) / 2.0;
            let got = f64::from(cosine.lr(0.9, epoch));
            assert!(
                (got - exact).abs() <= 1e-6 * exact,
                "epoch {epoch}: {got} vs {exact}"
            );
        }
        assert_eq!(cosine.lr(0.9, 10), 0.1);
        assert_eq!(cosine.lr(0.9, 11), 0.1);
        assert_eq!(
            Schedule::Cosine {
                t_max: 0,
                eta_min: 0.25
            }
            .lr(0.9, 0),
            0.25
        );
    }
}
