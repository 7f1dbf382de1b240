//! x86-64 forward kernel of the dense layer (SSE, part of every x86-64 CPU).
//!
//! Why: each output's sum is a chain in input order, so the scalar loops can only run one add per
//! chain at a time and are bound by the scalar adder (two adds per cycle at best). Here the four
//! products `w[r][i..i+4]·x[i..i+4]` of a row come from one `mulps`, a 4×4 transpose turns four rows'
//! products into four columns, and the four rows' sums advance together with one `addps` per input:
//! every sum still adds its rounded products one at a time in increasing input order, so the bits
//! are unchanged. Eight rows (two independent accumulators) hide the adder's latency.
//!
//! The intrinsics are `unsafe` only because they are `#[target_feature(enable = "sse")]` functions;
//! SSE is in the x86-64 baseline, always enabled.
#![allow(unsafe_code)]

use core::arch::x86_64::{
    __m128, _mm_add_ps, _mm_loadu_ps, _mm_movehl_ps, _mm_movelh_ps, _mm_mul_ps, _mm_storeu_ps,
    _mm_unpackhi_ps, _mm_unpacklo_ps,
};

#[inline(always)]
fn load(v: &[f32]) -> __m128 {
    let v: &[f32; 4] = v[..4].try_into().expect("four lanes");
    // SAFETY: reads the four floats of `v` (`loadu`: no alignment needed); SSE is baseline.
    unsafe { _mm_loadu_ps(v.as_ptr()) }
}

/// Adds, in order, the columns of the four rows' products of `x4` to `acc` (lane `k` = row `k`).
#[inline(always)]
fn step(acc: __m128, rows: [&[f32]; 4], x4: __m128) -> __m128 {
    // SAFETY: register-only SSE operations; SSE is baseline on x86-64.
    unsafe {
        let [p0, p1, p2, p3] = rows.map(|r| _mm_mul_ps(load(r), x4));
        let (lo01, lo23) = (_mm_unpacklo_ps(p0, p1), _mm_unpacklo_ps(p2, p3));
        let (hi01, hi23) = (_mm_unpackhi_ps(p0, p1), _mm_unpackhi_ps(p2, p3));
        let acc = _mm_add_ps(acc, _mm_movelh_ps(lo01, lo23)); // products of input i
        let acc = _mm_add_ps(acc, _mm_movehl_ps(lo23, lo01)); // i + 1
        let acc = _mm_add_ps(acc, _mm_movelh_ps(hi01, hi23)); // i + 2
        _mm_add_ps(acc, _mm_movehl_ps(hi23, hi01)) // i + 3
    }
}

/// `acc[k] += Σᵢ rows[k][i]·x[i]` over the first `4·⌊len/4⌋` inputs for 8 rows (each at least as
/// long as `x`); returns how many inputs it summed (0 for any other row count).
#[inline(always)]
pub(super) fn dot(rows: &[&[f32]], x: &[f32], acc: &mut [f32]) -> usize {
    let (Ok(rows), Ok(sums)) = (
        <&[&[f32]; 8]>::try_from(rows),
        <&mut [f32; 8]>::try_from(acc),
    ) else {
        return 0;
    };
    let done = x.len() / 4 * 4;
    if rows.iter().any(|r| r.len() < done) {
        return 0;
    }
    let mut a = load(&sums[..4]);
    let mut b = load(&sums[4..]);
    for i in (0..done).step_by(4) {
        let x4 = load(&x[i..i + 4]);
        let at = |k: usize| &rows[k][i..i + 4];
        a = step(a, [at(0), at(1), at(2), at(3)], x4);
        b = step(b, [at(4), at(5), at(6), at(7)], x4);
    }
    let mut out = [0.0f32; 8];
    let (lo, hi) = out.split_at_mut(4);
    store(lo, a);
    store(hi, b);
    *sums = out;
    done
}

#[inline(always)]
fn store(out: &mut [f32], v: __m128) {
    let out: &mut [f32; 4] = out.try_into().expect("four lanes");
    // SAFETY: `out` is four writable floats; `storeu` needs no alignment.
    unsafe { _mm_storeu_ps(out.as_mut_ptr(), v) };
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The kernel's contract, which the dense layer's results alone cannot show (the scalar loops
    /// give the same bits): it sums the first `4·⌊len/4⌋` inputs of exactly 8 rows, in input order,
    /// says how many, and leaves any other call to the scalar loops.
    #[test]
    fn dot_sums_whole_groups_of_four_for_eight_rows() {
        let mut rng = crate::rng::Pcg32::new(2, 9);
        let w: Vec<f32> = (0..8 * 11).map(|_| rng.symmetric(2.0)).collect();
        let x: Vec<f32> = (0..11).map(|_| rng.symmetric(2.0)).collect();
        let rows: Vec<&[f32]> = w.chunks_exact(11).collect();
        let start: Vec<f32> = (0..8).map(|k| k as f32).collect();
        let mut acc = start.clone();
        assert_eq!(dot(&rows, &x, &mut acc), 8);
        for (k, row) in rows.iter().enumerate() {
            let want = row[..8]
                .iter()
                .zip(&x)
                .fold(start[k], |a, (&w, &x)| a + w * x);
            assert_eq!(acc[k].to_bits(), want.to_bits(), "row {k}");
        }
        let mut untouched = start.clone();
        assert_eq!(dot(&rows[..7], &x, &mut untouched[..7]), 0);
        let short: Vec<&[f32]> = rows.iter().map(|r| &r[..7]).collect();
        assert_eq!(dot(&short, &x, &mut untouched), 0);
        assert_eq!(untouched, start);
        // Rows of 7 floats are long enough for an input of 7: its first 4; and rows exactly as
        // long as the groups of four they hold are summed whole.
        assert_eq!(dot(&short, &x[..7], &mut untouched), 4);
        let exact: Vec<&[f32]> = rows.iter().map(|r| &r[..8]).collect();
        assert_eq!(dot(&exact, &x[..8], &mut untouched), 8);
    }
}
