//! The one pseudo-random generator of the crate: PCG32 (XSH-RR, 64-bit state).
//!
//! M. E. O'Neill, "PCG: A Family of Simple Fast Space-Efficient Statistically Good Algorithms for
//! Random Number Generation", 2014 — the reference `pcg32_random_r` and `pcg32_srandom_r`.
//! Integer arithmetic only, so every target produces the same stream. Independent streams (weight
//! initialisation, shuffling, dropout, splitting) come from the same seed with different stream ids.

/// PCG32 generator.
///
/// ```
/// let mut a = tinytrain::rng::Pcg32::new(42, 0);
/// let mut b = tinytrain::rng::Pcg32::new(42, 0);
/// assert_eq!(a.next_u32(), b.next_u32());
/// let u = a.next_f32();
/// assert!((0.0..1.0).contains(&u));
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct Pcg32 {
    state: u64,
    increment: u64,
}

/// Stream ids used by the trainer, so that e.g. adding dropout does not change the shuffling.
pub mod stream {
    /// Weight initialisation.
    pub const INIT: u64 = 1;
    /// Shuffling the training order each epoch.
    pub const SHUFFLE: u64 = 2;
    /// Dropout masks.
    pub const DROPOUT: u64 = 3;
    /// Train/validation split.
    pub const SPLIT: u64 = 4;
    /// The order a host streams the training rows to a learning device in (`tinytrain train
    /// --device … --stream`).
    pub const ARRIVAL: u64 = 5;
}

const MULTIPLIER: u64 = 6_364_136_223_846_793_005;

impl Pcg32 {
    /// Seeds a generator (`pcg32_srandom_r(seed, stream)`).
    pub const fn new(seed: u64, stream: u64) -> Self {
        let increment = (stream << 1) | 1;
        let mut state = 0u64.wrapping_mul(MULTIPLIER).wrapping_add(increment);
        state = state.wrapping_add(seed);
        state = state.wrapping_mul(MULTIPLIER).wrapping_add(increment);
        Self { state, increment }
    }

    /// The generator's `(state, increment)`, e.g. for a checkpoint.
    pub const fn to_parts(&self) -> (u64, u64) {
        (self.state, self.increment)
    }

    /// A generator at a saved position ([`Pcg32::to_parts`]); the increment is forced odd, as PCG
    /// requires.
    pub const fn from_parts(state: u64, increment: u64) -> Self {
        Self {
            state,
            increment: increment | 1,
        }
    }

    /// The next 32 random bits.
    pub fn next_u32(&mut self) -> u32 {
        let old = self.state;
        self.state = old.wrapping_mul(MULTIPLIER).wrapping_add(self.increment);
        let xorshifted = (((old >> 18) ^ old) >> 27) as u32;
        let rotation = (old >> 59) as u32;
        xorshifted.rotate_right(rotation)
    }

    /// Uniform in `[0, 1)` with 24 random bits: `(next_u32() >> 8) · 2⁻²⁴`, exact in f32.
    pub fn next_f32(&mut self) -> f32 {
        (self.next_u32() >> 8) as f32 * (1.0 / 16_777_216.0)
    }

    /// Uniform in `[-bound, bound)`: `bound · (2u − 1)`.
    pub fn symmetric(&mut self, bound: f32) -> f32 {
        bound * (2.0 * self.next_f32() - 1.0)
    }

    /// Uniform integer in `0..n` (Lemire's multiply-shift; the bias is below 2⁻³² · n).
    pub fn below(&mut self, n: u32) -> u32 {
        ((u64::from(self.next_u32()) * u64::from(n)) >> 32) as u32
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_pcg32_reference_demo_output() {
        // pcg32-demo.c from the PCG reference distribution: seed 42, stream 54, first six outputs.
        let mut rng = Pcg32::new(42, 54);
        let expected = [
            0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e,
        ];
        for e in expected {
            assert_eq!(rng.next_u32(), e);
        }
    }

    #[test]
    fn below_stays_in_range() {
        let mut rng = Pcg32::new(1, 1);
        for n in 1..200 {
            assert!(rng.below(n) < n);
        }
    }
}
