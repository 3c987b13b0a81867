//! The number type Yuma Consensus is computed in.
//!
//! The chain computes the epoch in `I32F32` fixed point (plus `I64F64` for stake normalisation and
//! `I96F32` for the final rao amounts). [`Scalar`] abstracts exactly the operations the epoch
//! needs, each with the chain's rounding contract, so the same pipeline runs in `f64` (fast,
//! agrees with the chain to ~1e-6 on normalised vectors) or in [`I32F32`](super::fixed32::I32F32)
//! (reproduces the chain's truncations bit for bit).

use std::fmt::Debug;

/// Arithmetic used by the Yuma epoch.
///
/// Implementations must be total: no panics, saturating where the chain saturates, and division
/// by zero yields zero (the chain's `safe_div`).
pub trait Scalar: Copy + PartialOrd + Debug {
    /// 0.
    const ZERO: Self;
    /// 1.
    const ONE: Self;

    /// `self + rhs` (saturating).
    fn plus(self, rhs: Self) -> Self;
    /// `self − rhs` (saturating).
    fn minus(self, rhs: Self) -> Self;
    /// `self · rhs` (saturating, truncated to the type's resolution).
    fn times(self, rhs: Self) -> Self;
    /// `self / rhs`, 0 when `rhs` is 0.
    fn over(self, rhs: Self) -> Self;

    /// The integer `v` (weights and bonds are read from storage as raw u16 values).
    fn from_u16(v: u16) -> Self;
    /// The proportion `v / 65535` (kappa, bonds penalty).
    fn proportion_u16(v: u16) -> Self;
    /// The bonds EMA factor `1 − bonds_moving_average / 1e6`.
    fn bonds_ema_alpha(bonds_moving_average: u64) -> Self;
    /// Stake (rao) normalised to sum 1; all zeros when the total is 0.
    fn normalized_stake(stake: &[u64]) -> Vec<Self>;

    /// The chain's `fixed_proportion_to_u16`: `self · 65535` truncated, clamped to u16.
    fn to_u16_proportion(self) -> u16;
    /// Rounded to the nearest integer (ties away from zero), clamped to u16.
    fn round_to_u16(self) -> u16;
    /// `floor(self · amount)` clamped to u64 (a proportion of an emission, in rao).
    fn share_of(self, amount: u64) -> u64;
    /// The value as `f64`.
    fn to_f64(self) -> f64;
    /// The nearest value to `v` (saturating; NaN gives 0). Used only where the chain calls a
    /// transcendental function (liquid alpha's `exp`).
    fn from_f64(v: f64) -> Self;
}

impl Scalar for f64 {
    const ZERO: Self = 0.0;
    const ONE: Self = 1.0;

    fn plus(self, rhs: Self) -> Self {
        self + rhs
    }

    fn minus(self, rhs: Self) -> Self {
        self - rhs
    }

    fn times(self, rhs: Self) -> Self {
        self * rhs
    }

    fn over(self, rhs: Self) -> Self {
        if rhs == 0.0 { 0.0 } else { self / rhs }
    }

    fn from_u16(v: u16) -> Self {
        f64::from(v)
    }

    fn proportion_u16(v: u16) -> Self {
        crate::fixed::proportion_from_u16(v)
    }

    fn bonds_ema_alpha(bonds_moving_average: u64) -> Self {
        1.0 - bonds_moving_average as f64 / 1_000_000.0
    }

    fn normalized_stake(stake: &[u64]) -> Vec<Self> {
        let total: u128 = stake.iter().map(|&s| u128::from(s)).sum();
        if total == 0 {
            return vec![0.0; stake.len()];
        }
        let total = total as f64;
        stake.iter().map(|&s| s as f64 / total).collect()
    }

    fn to_u16_proportion(self) -> u16 {
        crate::fixed::u16_proportion(self)
    }

    fn round_to_u16(self) -> u16 {
        // `as` saturates at the u16 bounds and maps NaN to 0.
        self.round() as u16
    }

    fn share_of(self, amount: u64) -> u64 {
        // `as` saturates (negative and NaN give 0).
        (self * amount as f64).floor() as u64
    }

    fn to_f64(self) -> f64 {
        self
    }

    fn from_f64(v: f64) -> Self {
        if v.is_nan() { 0.0 } else { v }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f64_contract() {
        assert_eq!(3.0_f64.over(0.0), 0.0);
        assert_eq!(<f64 as Scalar>::proportion_u16(65_535), 1.0);
        assert!((<f64 as Scalar>::bonds_ema_alpha(900_000) - 0.1).abs() < 1e-15);
        assert_eq!(<f64 as Scalar>::normalized_stake(&[1, 3]), vec![0.25, 0.75]);
        assert_eq!(<f64 as Scalar>::normalized_stake(&[0, 0]), vec![0.0, 0.0]);
        assert_eq!(0.5_f64.to_u16_proportion(), 32_767);
        assert_eq!(2.5_f64.round_to_u16(), 3);
        assert_eq!(70_000.0_f64.round_to_u16(), u16::MAX);
        assert_eq!(0.3_f64.share_of(10), 3);
        assert_eq!((-0.3_f64).share_of(10), 0);
    }
}
