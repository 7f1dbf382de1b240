//! Batch normalisation over features, PyTorch's `nn.BatchNorm1d` (momentum 0.1, ε = 1e-5, affine,
//! tracking running statistics).
//!
//! For feature `j` of a mini-batch of `B` samples, in train mode:
//!
//! ```text
//! μ = Σₛ xₛ / B        σ² = Σₛ (xₛ − μ)² / B (biased)        r = 1/√(σ² + ε)
//! x̂ₛ = (xₛ − μ)·r      yₛ = γ·x̂ₛ + β
//! running_mean ← (1 − m)·running_mean + m·μ
//! running_var  ← (1 − m)·running_var  + m·Σₛ (xₛ − μ)² / (B − 1)   (unbiased)
//! ```
//!
//! and in eval mode `yₛ = γ·(xₛ − running_mean)/√(running_var + ε) + β`. The backward pass of train
//! mode goes through the batch statistics (PyTorch's `batch_norm_backward` on the CPU):
//!
//! ```text
//! ∂β += Σₛ dyₛ      ∂γ += r·Σₛ (xₛ − μ)·dyₛ
//! dxₛ = (dyₛ − Σ dy / B − (xₛ − μ)·r²·Σ (x − μ)·dy / B)·r·γ
//! ```
//!
//! A layer of `n` features owns `2n` parameters (`γ` then `β`, in the flat parameter buffer) and
//! `6n` floats of [`Stats`]. The functions below are the per-sample steps of those sums; the
//! engine (`network.rs`) runs each over every sample of the batch in turn, so the sums are taken in
//! sample order on every target.
//!
//! One sample in train mode has no variance: PyTorch raises, the trainer refuses a batch size of 1
//! and skips an epoch's trailing batch of one sample. Should a caller still run one, its output is
//! `β` and the running statistics are left as they are (no `0/0` enters them).

use crate::sqrt::sqrt;

/// PyTorch's default momentum of the running statistics.
pub const MOMENTUM: f32 = 0.1;
/// PyTorch's default `eps`, added to the variance.
pub const EPS: f32 = 1e-5;
/// Floats of [`Stats`] per feature.
pub const STATS_PER_FEATURE: usize = 6;

/// A batch-norm layer's statistics over one buffer of `6n` floats: the running mean and variance
/// (state: eval mode reads them, checkpoints keep them), then scratch between a train-mode forward
/// pass and its backward pass.
#[derive(Debug)]
pub struct Stats<'a> {
    /// Running mean (initially 0).
    pub running_mean: &'a mut [f32],
    /// Running (unbiased) variance (initially 1).
    pub running_var: &'a mut [f32],
    /// The last train-mode batch's mean `μ`.
    mean: &'a mut [f32],
    /// The last train-mode batch's `r = 1/√(σ² + ε)` (while summing: `Σ (x − μ)²`).
    inv_std: &'a mut [f32],
    /// Backward: `Σ dy`, then `Σ dy / B`.
    sum_dy: &'a mut [f32],
    /// Backward: `Σ (x − μ)·dy`, then `r²·Σ (x − μ)·dy / B`.
    sum_dot: &'a mut [f32],
}

impl<'a> Stats<'a> {
    /// The statistics of `n` features in `stats` (at least `6n` long; `None` if shorter).
    pub fn of(stats: &'a mut [f32], n: usize) -> Option<Self> {
        let (running_mean, rest) = stats.split_at_mut_checked(n)?;
        let (running_var, rest) = rest.split_at_mut_checked(n)?;
        let (mean, rest) = rest.split_at_mut_checked(n)?;
        let (inv_std, rest) = rest.split_at_mut_checked(n)?;
        let (sum_dy, rest) = rest.split_at_mut_checked(n)?;
        let sum_dot = rest.get_mut(..n)?;
        Some(Self {
            running_mean,
            running_var,
            mean,
            inv_std,
            sum_dy,
            sum_dot,
        })
    }

    /// PyTorch's initial state: running mean 0, running variance 1 (scratch zeroed).
    pub fn reset(&mut self) {
        self.running_mean.fill(0.0);
        self.running_var.fill(1.0);
        for scratch in [
            &mut *self.mean,
            &mut *self.inv_std,
            &mut *self.sum_dy,
            &mut *self.sum_dot,
        ] {
            scratch.fill(0.0);
        }
    }

    // ---- forward, train mode: mean, variance, then normalise each sample ----

    /// Starts a train-mode batch.
    pub fn begin_batch(&mut self) {
        self.mean.fill(0.0);
        self.inv_std.fill(0.0);
    }

    /// `Σ x`, one sample at a time.
    pub fn add_to_mean(&mut self, x: &[f32]) {
        self.mean.iter_mut().zip(x).for_each(|(m, &x)| *m += x);
    }

    /// `μ = Σ x / B`.
    pub fn finish_mean(&mut self, batch: usize) {
        let b = batch as f32;
        self.mean.iter_mut().for_each(|m| *m /= b);
    }

    /// `Σ (x − μ)²`, one sample at a time.
    pub fn add_to_variance(&mut self, x: &[f32]) {
        for ((v, &m), &x) in self.inv_std.iter_mut().zip(&*self.mean).zip(x) {
            let d = x - m;
            *v += d * d;
        }
    }

    /// `r = 1/√(σ² + ε)` from the biased variance; the running statistics move towards `μ` and the
    /// unbiased variance (not for a batch of one, which has none).
    pub fn finish_variance(&mut self, batch: usize) {
        let b = batch as f32;
        let parts = self.inv_std.iter_mut().zip(&*self.mean).zip(
            self.running_mean
                .iter_mut()
                .zip(self.running_var.iter_mut()),
        );
        for ((v, &m), (running_mean, running_var)) in parts {
            let squares = *v;
            *v = 1.0 / sqrt(squares / b + EPS);
            if batch > 1 {
                let unbiased = squares / (b - 1.0);
                *running_mean = (1.0 - MOMENTUM) * *running_mean + MOMENTUM * m;
                *running_var = (1.0 - MOMENTUM) * *running_var + MOMENTUM * unbiased;
            }
        }
    }

    /// `y = γ·(x − μ)·r + β` with the batch's statistics.
    pub fn normalize_train(&self, gamma: &[f32], beta: &[f32], x: &[f32], y: &mut [f32]) {
        let per_feature = gamma
            .iter()
            .zip(beta)
            .zip(self.mean.iter().zip(&*self.inv_std));
        for (((&g, &b), (&m, &r)), (&x, y)) in per_feature.zip(x.iter().zip(y)) {
            *y = g * ((x - m) * r) + b;
        }
    }

    // ---- forward, eval mode ----

    /// `y = γ·(x − running_mean)/√(running_var + ε) + β`.
    pub fn normalize_eval(&self, gamma: &[f32], beta: &[f32], x: &[f32], y: &mut [f32]) {
        let per_feature = gamma
            .iter()
            .zip(beta)
            .zip(self.running_mean.iter().zip(&*self.running_var));
        for (((&g, &b), (&m, &v)), (&x, y)) in per_feature.zip(x.iter().zip(y)) {
            *y = g * ((x - m) * (1.0 / sqrt(v + EPS))) + b;
        }
    }

    // ---- backward, train mode: the two sums, the parameter gradients, then each sample's dx ----

    /// Starts the backward pass of a train-mode batch.
    pub fn begin_backward(&mut self) {
        self.sum_dy.fill(0.0);
        self.sum_dot.fill(0.0);
    }

    /// `Σ dy` and `Σ (x − μ)·dy`, one sample at a time.
    pub fn add_to_grad_sums(&mut self, x: &[f32], dy: &[f32]) {
        let sums = self.sum_dy.iter_mut().zip(self.sum_dot.iter_mut());
        for (((s, d), &m), (&x, &dy)) in sums.zip(&*self.mean).zip(x.iter().zip(dy)) {
            *s += dy;
            *d += (x - m) * dy;
        }
    }

    /// Accumulates `∂β += Σ dy`, `∂γ += r·Σ (x − μ)·dy`, and turns the sums into the two terms every
    /// sample's `dx` subtracts.
    pub fn finish_grad_sums(
        &mut self,
        gamma_grad: &mut [f32],
        beta_grad: &mut [f32],
        batch: usize,
    ) {
        let b = batch as f32;
        let grads = gamma_grad.iter_mut().zip(beta_grad.iter_mut());
        let sums = self.sum_dy.iter_mut().zip(self.sum_dot.iter_mut());
        for ((gg, bg), ((s, d), &r)) in grads.zip(sums.zip(&*self.inv_std)) {
            *bg += *s;
            *gg += *d * r;
            *s /= b;
            *d = *d * r * r / b;
        }
    }

    /// `dx = (dy − Σ dy / B − (x − μ)·r²·Σ (x − μ)·dy / B)·r·γ`.
    pub fn input_grad_train(&self, gamma: &[f32], x: &[f32], dy: &[f32], dx: &mut [f32]) {
        let per_feature = gamma
            .iter()
            .zip(self.mean.iter().zip(&*self.inv_std))
            .zip(self.sum_dy.iter().zip(&*self.sum_dot));
        let per_sample = x.iter().zip(dy).zip(dx);
        for (((&g, (&m, &r)), (&mean_dy, &k)), ((&x, &dy), dx)) in per_feature.zip(per_sample) {
            *dx = (dy - mean_dy - (x - m) * k) * r * g;
        }
    }

    // ---- backward, eval mode (the statistics are constants) ----

    /// `∂β += dy`, `∂γ += dy·x̂`, `dx = dy·γ/√(running_var + ε)`, for one sample.
    pub fn backward_eval(
        &self,
        gamma: &[f32],
        (gamma_grad, beta_grad): (&mut [f32], &mut [f32]),
        x: &[f32],
        dy: &[f32],
        dx: &mut [f32],
    ) {
        let per_feature = gamma
            .iter()
            .zip(self.running_mean.iter().zip(&*self.running_var))
            .zip(gamma_grad.iter_mut().zip(beta_grad.iter_mut()));
        let per_sample = x.iter().zip(dy).zip(dx);
        for (((&g, (&m, &v)), (gg, bg)), ((&x, &dy), dx)) in per_feature.zip(per_sample) {
            let r = 1.0 / sqrt(v + EPS);
            *bg += dy;
            *gg += dy * ((x - m) * r);
            *dx = dy * r * g;
        }
    }
}

/// `γ = 1`, `β = 0` for a layer whose `2n` parameters are `params`.
pub fn init(params: &mut [f32]) {
    let n = params.len() / 2;
    for (k, p) in params.iter_mut().enumerate() {
        *p = if k < n { 1.0 } else { 0.0 };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Three samples of two features through the per-sample steps, against the formulas above in f64.
    #[test]
    fn train_forward_and_running_statistics_follow_the_formulas() {
        let xs = [[1.0f32, -2.0], [3.0, 0.5], [-0.5, 4.0]];
        let mut buffer = [0.0f32; 12];
        let mut stats = Stats::of(&mut buffer, 2).unwrap();
        stats.reset();
        stats.begin_batch();
        xs.iter().for_each(|x| stats.add_to_mean(x));
        stats.finish_mean(3);
        xs.iter().for_each(|x| stats.add_to_variance(x));
        stats.finish_variance(3);
        let (gamma, beta) = ([2.0f32, 0.5], [0.1f32, -0.3]);
        for j in 0..2 {
            let col: Vec<f64> = xs.iter().map(|x| x[j] as f64).collect();
            let mean = col.iter().sum::<f64>() / 3.0;
            let squares: f64 = col.iter().map(|x| (x - mean).powi(2)).sum();
            let r = 1.0 / (squares / 3.0 + EPS as f64).sqrt();
            for (s, x) in xs.iter().enumerate() {
                let mut y = [0.0f32; 2];
                stats.normalize_train(&gamma, &beta, x, &mut y);
                let expected = gamma[j] as f64 * (x[j] as f64 - mean) * r + beta[j] as f64;
                assert!(
                    (y[j] as f64 - expected).abs() < 1e-6,
                    "sample {s} feature {j}"
                );
            }
            let running_mean = 0.1 * mean;
            let running_var = 0.9 + 0.1 * squares / 2.0;
            assert!((stats.running_mean[j] as f64 - running_mean).abs() < 1e-6);
            assert!((stats.running_var[j] as f64 - running_var).abs() < 1e-6);
        }
    }

    #[test]
    fn a_batch_of_one_leaves_the_running_statistics_alone() {
        let mut buffer = [0.0f32; 6];
        let mut stats = Stats::of(&mut buffer, 1).unwrap();
        stats.reset();
        stats.begin_batch();
        stats.add_to_mean(&[5.0]);
        stats.finish_mean(1);
        stats.add_to_variance(&[5.0]);
        stats.finish_variance(1);
        assert_eq!((stats.running_mean[0], stats.running_var[0]), (0.0, 1.0));
        let mut y = [0.0f32];
        stats.normalize_train(&[3.0], &[0.25], &[5.0], &mut y);
        assert_eq!(
            y,
            [0.25],
            "the only sample is its own mean: the output is β"
        );
    }
}
