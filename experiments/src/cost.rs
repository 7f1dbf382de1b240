//! Integer arithmetic for the device's cost figures (ticks → instructions or cycles, per sample),
//! without compiler_builtins' 64-bit division: `__aeabi_uldivmod` is 0.9 KB of flash for a
//! division the firmware does a few times a run.

/// `n / d` (`d = 0` counts as 1) by shift and subtract.
pub fn divide(n: u64, d: u32) -> u64 {
    let d = u64::from(d.max(1));
    let (mut quotient, mut remainder) = (0u64, 0u64);
    for bit in (0..64).rev() {
        // remainder < d ≤ 2³², so the shift cannot overflow.
        remainder = remainder << 1 | (n >> bit & 1);
        if remainder >= d {
            remainder -= d;
            quotient |= 1 << bit;
        }
    }
    quotient
}

/// Greatest common divisor, for reducing a clock ratio at compile time.
pub const fn gcd(a: u32, b: u32) -> u32 {
    if b == 0 {
        a
    } else {
        gcd(b, a % b)
    }
}

/// `ticks` of a `clock_hz` clock in nanoseconds, `ticks · 10⁹ / clock_hz`, with the fraction reduced
/// first (`× 40` at 25 MHz, `× 125 / 21` at 168 MHz) so the product overflows only after
/// 2⁶⁴ / 10⁹ ns ≈ 585 years of ticks.
pub fn nanoseconds(ticks: u64, clock_hz: u32) -> u64 {
    const NS: u32 = 1_000_000_000;
    let g = gcd(NS, clock_hz.max(1));
    divide(ticks * u64::from(NS / g), clock_hz.max(1) / g)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn divide_agrees_at_the_edges() {
        for (n, d) in [
            (0, 1),
            (u64::MAX, 1),
            (u64::MAX, u32::MAX),
            (7, 0),
            (1 << 63, 3),
            (41, 42),
        ] {
            assert_eq!(divide(n, d), n / u64::from(d.max(1)), "{n} / {d}");
        }
    }

    #[test]
    fn nanoseconds_of_the_two_clocks() {
        assert_eq!(nanoseconds(25_000_000, 25_000_000), 1_000_000_000);
        assert_eq!(nanoseconds(3, 25_000_000), 120);
        assert_eq!(nanoseconds(168, 168_000_000), 1_000);
        assert_eq!(nanoseconds(1, 168_000_000), 5); // 5.95…, truncated
        assert_eq!(gcd(1_000_000_000, 168_000_000), 8_000_000);
    }

    proptest! {
        #[test]
        fn divide_is_integer_division(n: u64, d in 1u32..) {
            prop_assert_eq!(divide(n, d), n / u64::from(d));
        }
    }
}
