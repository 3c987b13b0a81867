//! The chain's fixed-point storage encodings and u16 proportions.
//!
//! Subtensor stores fractional values with `substrate_fixed` types; in SCALE they are just the raw
//! bits. This module converts those bits to and from `f64`:
//!
//! | type  | bits   | value          | used by (examples)                                     |
//! |-------|--------|----------------|--------------------------------------------------------|
//! | I96F32 | `i128` | bits / 2^32   | `SubnetMovingPrice`, `SubnetMovingAlpha`               |
//! | U64F64 | `u128` | bits / 2^64   | `Swap.AlphaSqrtPrice`, `Alpha` shares, `TotalHotkeyShares` |
//! | I64F64 | `i128` | bits / 2^64   | `SubnetEmaTaoFlow`, `TaoFlowCutoff`, position fees     |
//!
//! Rounding: `*_to_f64` rounds to the nearest `f64` (exact while the bits fit in 53 significant
//! bits). `f64_to_*` rounds to the nearest representable value with ties to even, which is what
//! `substrate_fixed`'s `from_num(f64)` does; out-of-range values saturate, NaN maps to 0.
//!
//! u16 proportions (`Incentive`, `Dividends`, `Consensus`, `Kappa`, …) are `value / 65535`.

/// `2^32` as `f64`.
const TWO_POW_32: f64 = 4_294_967_296.0;
/// `2^64` as `f64`.
const TWO_POW_64: f64 = 18_446_744_073_709_551_616.0;

/// I96F32 bits of `1.0`.
pub const I96F32_ONE: i128 = 1 << 32;
/// U64F64 bits of `1.0`.
pub const U64F64_ONE: u128 = 1 << 64;
/// I64F64 bits of `1.0`.
pub const I64F64_ONE: i128 = 1 << 64;

/// Value of I96F32 bits (`bits / 2^32`).
pub fn i96f32_to_f64(bits: i128) -> f64 {
    bits as f64 / TWO_POW_32
}

/// I96F32 bits of `x`, rounded to nearest (ties to even), saturating; NaN gives 0.
pub fn f64_to_i96f32(x: f64) -> i128 {
    (x * TWO_POW_32).round_ties_even() as i128
}

/// Value of U64F64 bits (`bits / 2^64`).
pub fn u64f64_to_f64(bits: u128) -> f64 {
    bits as f64 / TWO_POW_64
}

/// U64F64 bits of `x`, rounded to nearest (ties to even), saturating (negative gives 0); NaN gives 0.
pub fn f64_to_u64f64(x: f64) -> u128 {
    (x * TWO_POW_64).round_ties_even() as u128
}

/// Value of I64F64 bits (`bits / 2^64`).
pub fn i64f64_to_f64(bits: i128) -> f64 {
    bits as f64 / TWO_POW_64
}

/// I64F64 bits of `x`, rounded to nearest (ties to even), saturating; NaN gives 0.
pub fn f64_to_i64f64(x: f64) -> i128 {
    (x * TWO_POW_64).round_ties_even() as i128
}

/// The chain's `fixed_proportion_to_u16`: `x * 65535` truncated, clamped to `[0, 65535]`.
///
/// NaN gives 0.
pub fn u16_proportion(x: f64) -> u16 {
    let scaled = (x * f64::from(u16::MAX)).floor();
    // `as` saturates at the u16 bounds and maps NaN to 0.
    scaled as u16
}

/// A u16 proportion as a fraction: `v / 65535`.
pub fn proportion_from_u16(v: u16) -> f64 {
    f64::from(v) / f64::from(u16::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn i96f32_round_trips() {
        assert_eq!(i96f32_to_f64(I96F32_ONE), 1.0);
        assert_eq!(f64_to_i96f32(1.0), I96F32_ONE);
        assert_eq!(f64_to_i96f32(-2.5), -5 * (1 << 31));
        // Default SubnetMovingAlpha 0.000003: from_num rounds to nearest.
        let bits = f64_to_i96f32(0.000_003);
        assert_eq!(bits, 12_885);
        assert!((i96f32_to_f64(bits) - 0.000_003).abs() < 1.0 / TWO_POW_32);
        // Exact while the bits fit in f64's 53-bit significand.
        for bits in [0_i128, 1, 12_345_678_901, -7, (1 << 53) - 1] {
            assert_eq!(f64_to_i96f32(i96f32_to_f64(bits)), bits);
        }
    }

    #[test]
    fn i96f32_rounds_ties_to_even() {
        let half_ulp = 0.5 / TWO_POW_32;
        assert_eq!(f64_to_i96f32(half_ulp), 0);
        assert_eq!(f64_to_i96f32(3.0 * half_ulp), 2);
        assert_eq!(f64_to_i96f32(f64::NAN), 0);
        assert_eq!(f64_to_i96f32(f64::INFINITY), i128::MAX);
    }

    #[test]
    fn u64f64_and_i64f64() {
        assert_eq!(u64f64_to_f64(U64F64_ONE), 1.0);
        assert_eq!(f64_to_u64f64(0.25), 1 << 62);
        assert_eq!(f64_to_u64f64(-1.0), 0);
        assert_eq!(i64f64_to_f64(-I64F64_ONE), -1.0);
        assert_eq!(f64_to_i64f64(-0.5), -(1 << 63));
        // A sqrt price as recorded on finney (sn1 ~0.0119 TAO/alpha at spec 315 → sqrt ~0.109).
        let bits = f64_to_u64f64(0.109_133);
        assert!((u64f64_to_f64(bits) - 0.109_133).abs() < 1e-15);
    }

    #[test]
    fn u16_proportions() {
        assert_eq!(u16_proportion(1.0), 65_535);
        assert_eq!(u16_proportion(0.5), 32_767);
        assert_eq!(u16_proportion(0.25), 16_383);
        assert_eq!(u16_proportion(2.0), 65_535);
        assert_eq!(u16_proportion(-0.1), 0);
        assert_eq!(u16_proportion(f64::NAN), 0);
        assert_eq!(proportion_from_u16(65_535), 1.0);
        assert_eq!(proportion_from_u16(0), 0.0);
        // The round trip is exact for every u16 (11_796 is the default SubnetOwnerCut).
        assert!((0..=u16::MAX).all(|v| u16_proportion(proportion_from_u16(v)) == v));
    }
}
