//! Learning-rate schedules, evaluated per epoch (0-based `epoch`), as PyTorch's `LRScheduler`s stepped
//! once per epoch.

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

    /// The learning rate for 0-based `epoch`.
    ///
    /// ```
    /// use tinytrain::optim::Schedule;
    /// assert_eq!(Schedule::Step { step_size: 10, gamma: 0.5 }.lr(0.1, 25), 0.025);
    /// assert_eq!(Schedule::Cosine { t_max: 10, eta_min: 0.0 }.lr(0.1, 10), 0.0);
    /// ```
    pub fn lr(self, base: f32, epoch: u32) -> f32 {
        match self {
            Schedule::Constant => base,
            Schedule::Step { step_size, gamma } => {
                let decays = epoch.checked_div(step_size).unwrap_or(0);
                (0..decays).fold(base, |lr, _| lr * gamma)
            }
            Schedule::Cosine { t_max, eta_min } => {
                if t_max == 0 || epoch >= t_max {
                    return eta_min;
                }
                let phase = core::f32::consts::PI * epoch as f32 / t_max as f32;
                eta_min + (base - eta_min) * (1.0 + libm::cosf(phase)) / 2.0
            }
        }
    }
}
