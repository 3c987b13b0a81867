//! `I32F32`: the chain's Yuma number type, reproduced bit for bit.
//!
//! Semantics follow `substrate_fixed` as used by `epoch/math.rs`: 64-bit signed bits with 32
//! fractional bits; addition and subtraction saturate; multiplication takes the 128-bit product
//! and shifts right (rounding toward −∞); division computes `(a << 32) / b` rounding toward zero;
//! conversions from wider fixed types drop the extra fractional bits (toward −∞); `round` breaks
//! ties away from zero.

use super::scalar::Scalar;

const FRAC: u32 = 32;

/// A signed fixed-point number with 32 integer and 32 fractional bits (`bits / 2^32`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct I32F32(i64);

impl I32F32 {
    /// The number with these raw bits.
    pub const fn from_bits(bits: i64) -> Self {
        Self(bits)
    }

    /// The raw bits.
    pub const fn to_bits(self) -> i64 {
        self.0
    }
}

/// Clamps an `i128` into `i64`.
fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

impl Scalar for I32F32 {
    const ZERO: Self = Self(0);
    const ONE: Self = Self(1 << FRAC);

    fn plus(self, rhs: Self) -> Self {
        Self(self.0.saturating_add(rhs.0))
    }

    fn minus(self, rhs: Self) -> Self {
        Self(self.0.saturating_sub(rhs.0))
    }

    fn times(self, rhs: Self) -> Self {
        Self(saturate((i128::from(self.0) * i128::from(rhs.0)) >> FRAC))
    }

    fn over(self, rhs: Self) -> Self {
        if rhs.0 == 0 {
            return Self::ZERO;
        }
        Self(saturate((i128::from(self.0) << FRAC) / i128::from(rhs.0)))
    }

    fn from_u16(v: u16) -> Self {
        Self(i64::from(v) << FRAC)
    }

    fn proportion_u16(v: u16) -> Self {
        Self::from_u16(v).over(Self::from_u16(u16::MAX))
    }

    fn bonds_ema_alpha(bonds_moving_average: u64) -> Self {
        // I64F64(bma) / I64F64(1e6), then narrowed to I32F32 (drops 32 fractional bits).
        let bma = u128::from(bonds_moving_average.min(i64::MAX as u64));
        let ratio_i64f64 = (bma << 64) / 1_000_000;
        let ratio = Self(saturate(i128::try_from(ratio_i64f64 >> FRAC).unwrap_or(i128::MAX)));
        Self::ONE.minus(ratio)
    }

    fn normalized_stake(stake: &[u64]) -> Vec<Self> {
        // The chain normalises in I64F64 (bits floor(s·2^64/Σ)) and narrows to I32F32
        // (floor again), which is floor(s·2^32/Σ).
        let total: u128 = stake.iter().map(|&s| u128::from(s)).sum();
        if total == 0 {
            return vec![Self::ZERO; stake.len()];
        }
        stake
            .iter()
            .map(|&s| Self(saturate(i128::try_from((u128::from(s) << FRAC) / total).unwrap_or(i128::MAX))))
            .collect()
    }

    fn to_u16_proportion(self) -> u16 {
        let scaled = self.times(Self::from_u16(u16::MAX));
        u16::try_from((scaled.0 >> FRAC).max(0)).unwrap_or(u16::MAX)
    }

    fn round_to_u16(self) -> u16 {
        // Ties away from zero; negative values clamp to 0 anyway.
        let rounded = self.0.saturating_add(1 << (FRAC - 1)) >> FRAC;
        u16::try_from(rounded.max(0)).unwrap_or(u16::MAX)
    }

    fn share_of(self, amount: u64) -> u64 {
        // I96F32::from(I32F32) keeps the bits; times I96F32(amount) is exact; to u64 truncates.
        let product = i128::from(self.0).saturating_mul(i128::from(amount)) >> FRAC;
        u64::try_from(product.max(0)).unwrap_or(u64::MAX)
    }

    fn to_f64(self) -> f64 {
        self.0 as f64 / (1u64 << FRAC) as f64
    }

    fn from_f64(v: f64) -> Self {
        // `as` saturates at the i64 bounds and maps NaN to 0.
        I32F32((v * (1u64 << FRAC) as f64).round() as i64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fx(bits: i64) -> I32F32 {
        I32F32::from_bits(bits)
    }

    #[test]
    fn arithmetic_truncates_like_substrate_fixed() {
        let one = I32F32::ONE;
        let third = one.over(I32F32::from_u16(3));
        assert_eq!(third.to_bits(), 1_431_655_765); // floor(2^32 / 3)
        assert_eq!(third.times(I32F32::from_u16(3)).to_bits(), 4_294_967_295);
        assert_eq!(one.over(I32F32::ZERO), I32F32::ZERO);
        assert_eq!(fx(i64::MAX).plus(one).to_bits(), i64::MAX);
        assert_eq!(fx(-1).times(fx(1)).to_bits(), -1); // toward −∞
        assert_eq!(fx(-3).over(fx(2 << FRAC)).to_bits(), -1); // toward zero
    }

    /// Trace values from subtensor `tests/epoch.rs::test_bonds` (S, kappa, 1 − bma).
    #[test]
    fn conversions_match_chain_trace() {
        let s = I32F32::normalized_stake(&[1, 2, 3, 4, 0]);
        // The trace prints S: [0.0999999999, 0.2, 0.2999999998, 0.4, 0, …].
        assert_eq!(s[0].to_bits(), 429_496_729);
        assert_eq!(s[1].to_bits(), 858_993_459);
        assert_eq!(s[2].to_bits(), 1_288_490_188);
        assert_eq!(s[4], I32F32::ZERO);
        assert_eq!(I32F32::proportion_u16(32_767).to_bits(), 2_147_450_879);
        let alpha = I32F32::bonds_ema_alpha(900_000);
        assert_eq!(alpha.to_bits(), (1 << 32) - 3_865_470_566);
    }

    #[test]
    fn output_conversions() {
        assert_eq!(I32F32::ONE.to_u16_proportion(), 65_535);
        assert_eq!(fx(1 << 31).to_u16_proportion(), 32_767);
        assert_eq!(fx(-5).to_u16_proportion(), 0);
        assert_eq!(fx(3 << 31).round_to_u16(), 2); // 1.5 → 2
        assert_eq!(fx((1 << 31) - 1).round_to_u16(), 0);
        assert_eq!(I32F32::from_u16(7).share_of(3), 21);
        assert_eq!(fx(429_496_729).share_of(1_000_000_000), 99_999_999);
    }
}
