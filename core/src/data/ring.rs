//! A fixed-capacity ring of the most recent samples: a device's replay buffer.

use super::{Dataset, Target};

/// The last `CAP` samples of `F` features each, oldest first: [`Ring::push`] overwrites the oldest
/// when full. A [`Dataset`], so a device can run epochs (or a validation pass) over what its sensor
/// produced lately; a network with batch norm, which cannot learn one sample at a time, learns a
/// stream this way. Everything is inline: `CAP · (F + 2)` words, no allocation.
///
/// ```
/// use tinytrain::data::{Dataset, Ring, Target};
/// let mut ring = Ring::<2, 3>::new();
/// ring.push(&[1.0, 2.0, 3.0], Target::Class(0));
/// ring.push(&[4.0, 5.0, 6.0], Target::Class(1));
/// ring.push(&[7.0, 8.0, 9.0], Target::Class(2)); // the first sample drops out
/// let mut x = [0.0; 3];
/// ring.load(0, &mut x);
/// assert_eq!((ring.len(), x, ring.target(1)), (2, [4.0, 5.0, 6.0], Target::Class(2)));
/// ```
#[derive(Clone, Debug)]
pub struct Ring<const CAP: usize, const F: usize> {
    features: [[f32; F]; CAP],
    targets: [Target; CAP],
    /// Where the next sample goes.
    next: usize,
    len: usize,
}

impl<const CAP: usize, const F: usize> Ring<CAP, F> {
    /// An empty ring.
    pub const fn new() -> Self {
        Self {
            features: [[0.0; F]; CAP],
            targets: [Target::Class(0); CAP],
            next: 0,
            len: 0,
        }
    }

    /// Adds a sample (its first `F` features; missing ones are 0), overwriting the oldest when
    /// the ring is full. Returns `true` if a sample was overwritten.
    pub fn push(&mut self, x: &[f32], target: Target) -> bool {
        let Some(slot) = self.features.get_mut(self.next) else {
            return false; // CAP = 0 keeps nothing
        };
        slot.iter_mut()
            .zip(x.iter().chain(core::iter::repeat(&0.0)))
            .for_each(|(s, &v)| *s = v);
        if let Some(t) = self.targets.get_mut(self.next) {
            *t = target;
        }
        self.next = if self.next + 1 == CAP {
            0
        } else {
            self.next + 1
        };
        let full = self.len == CAP;
        if !full {
            self.len += 1;
        }
        full
    }

    /// Empties the ring.
    pub fn clear(&mut self) {
        (self.next, self.len) = (0, 0);
    }

    /// The storage slot of sample `index` (0 = oldest).
    fn slot(&self, index: usize) -> usize {
        let oldest = if self.len == CAP { self.next } else { 0 };
        let at = oldest + index;
        if at >= CAP {
            at - CAP
        } else {
            at
        }
    }
}

impl<const CAP: usize, const F: usize> Default for Ring<CAP, F> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const CAP: usize, const F: usize> Dataset for Ring<CAP, F> {
    fn len(&self) -> usize {
        self.len
    }

    fn features(&self) -> usize {
        F
    }

    fn load(&self, index: usize, out: &mut [f32]) {
        if let Some(row) = self.features.get(self.slot(index)) {
            out.iter_mut().zip(row).for_each(|(o, &v)| *o = v);
        }
    }

    fn target(&self, index: usize) -> Target {
        self.targets
            .get(self.slot(index))
            .copied()
            .unwrap_or(Target::Class(0))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_the_last_cap_samples_in_arrival_order() {
        let mut ring = Ring::<3, 1>::new();
        assert!(ring.is_empty());
        for i in 0..7 {
            let overwrote = ring.push(&[i as f32], Target::Value(10.0 * i as f32));
            assert_eq!(overwrote, i >= 3, "{i}");
            let n = ring.len();
            assert_eq!(n, (i + 1).min(3));
            let oldest = i + 1 - n;
            for k in 0..n {
                let mut x = [f32::NAN];
                ring.load(k, &mut x);
                assert_eq!(x[0], (oldest + k) as f32);
                assert_eq!(ring.target(k), Target::Value(10.0 * (oldest + k) as f32));
            }
        }
        ring.clear();
        assert_eq!(ring.len(), 0);
        assert!(!Ring::<0, 2>::new().push(&[1.0, 2.0], Target::Class(1)));
    }
}
