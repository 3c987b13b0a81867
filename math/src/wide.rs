//! A minimal unsigned 256-bit integer.
//!
//! Owns the few wide-integer operations needed to reproduce the chain's fixed-point results to the
//! last bit where 128 bits are not enough: products of two `u128`, shifts, long division and the
//! integer square root. Not a general big-integer type; every operation is total (no panics).

use std::cmp::Ordering;

const LOW64: u128 = u64::MAX as u128;

/// An unsigned 256-bit integer `hi * 2^128 + lo`.
///
/// Field order matters: the derived `Ord` compares `hi` first.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub(crate) struct U256 {
    hi: u128,
    lo: u128,
}

impl U256 {
    /// Zero.
    pub(crate) const ZERO: Self = Self { hi: 0, lo: 0 };
    /// `2^256 - 1`.
    pub(crate) const MAX: Self = Self { hi: u128::MAX, lo: u128::MAX };

    /// `hi * 2^128 + lo`.
    pub(crate) const fn from_parts(hi: u128, lo: u128) -> Self {
        Self { hi, lo }
    }

    /// Widens a `u128`.
    pub(crate) const fn from_u128(v: u128) -> Self {
        Self { hi: 0, lo: v }
    }

    /// `(hi, lo)`: the value is `hi * 2^128 + lo`.
    pub(crate) const fn parts(self) -> (u128, u128) {
        (self.hi, self.lo)
    }

    /// The value as `u128`, or `None` when it does not fit.
    pub(crate) const fn to_u128(self) -> Option<u128> {
        if self.hi == 0 { Some(self.lo) } else { None }
    }

    /// The value as `u128`, saturating at `u128::MAX`.
    pub(crate) const fn saturating_to_u128(self) -> u128 {
        if self.hi == 0 { self.lo } else { u128::MAX }
    }

    /// The full 256-bit product of two `u128`.
    pub(crate) const fn mul_u128(a: u128, b: u128) -> Self {
        let (a1, a0) = (a >> 64, a & LOW64);
        let (b1, b0) = (b >> 64, b & LOW64);
        let p00 = a0 * b0;
        let p01 = a0 * b1;
        let p10 = a1 * b0;
        let p11 = a1 * b1;
        // Each term is < 2^64, so the sum of three is < 2^66: no overflow.
        let mid = (p00 >> 64) + (p01 & LOW64) + (p10 & LOW64);
        let lo = (p00 & LOW64) | ((mid & LOW64) << 64);
        let hi = p11 + (p01 >> 64) + (p10 >> 64) + (mid >> 64);
        Self { hi, lo }
    }

    /// `self * b`, saturating at [`U256::MAX`].
    pub(crate) fn saturating_mul_u128(self, b: u128) -> Self {
        let low = Self::mul_u128(self.lo, b);
        let Some(high) = self.hi.checked_mul(b) else {
            return Self::MAX;
        };
        match low.hi.checked_add(high) {
            Some(hi) => Self { hi, lo: low.lo },
            None => Self::MAX,
        }
    }

    /// `self + rhs`, saturating at [`U256::MAX`].
    pub(crate) fn saturating_add(self, rhs: Self) -> Self {
        let (lo, carry) = self.lo.overflowing_add(rhs.lo);
        let hi = self.hi.checked_add(rhs.hi).and_then(|h| h.checked_add(u128::from(carry)));
        match hi {
            Some(hi) => Self { hi, lo },
            None => Self::MAX,
        }
    }

    /// `self - rhs`, saturating at zero.
    pub(crate) fn saturating_sub(self, rhs: Self) -> Self {
        if self <= rhs {
            return Self::ZERO;
        }
        self.wrapping_sub(rhs)
    }

    fn wrapping_sub(self, rhs: Self) -> Self {
        let (lo, borrow) = self.lo.overflowing_sub(rhs.lo);
        let hi = self.hi.wrapping_sub(rhs.hi).wrapping_sub(u128::from(borrow));
        Self { hi, lo }
    }

    /// `self << n`; bits shifted past bit 255 are lost, `n >= 256` gives zero.
    pub(crate) const fn shl(self, n: u32) -> Self {
        match n {
            0 => self,
            1..128 => Self { hi: (self.hi << n) | (self.lo >> (128 - n)), lo: self.lo << n },
            128..256 => Self { hi: self.lo << (n - 128), lo: 0 },
            _ => Self::ZERO,
        }
    }

    /// `self >> n`; `n >= 256` gives zero.
    pub(crate) const fn shr(self, n: u32) -> Self {
        match n {
            0 => self,
            1..128 => Self { hi: self.hi >> n, lo: (self.lo >> n) | (self.hi << (128 - n)) },
            128..256 => Self { hi: 0, lo: self.hi >> (n - 128) },
            _ => Self::ZERO,
        }
    }

    /// Whether bit `i` (0 = least significant) is set.
    const fn bit(self, i: u32) -> bool {
        if i < 128 { (self.lo >> i) & 1 == 1 } else { (self.hi >> (i - 128)) & 1 == 1 }
    }

    /// Number of significant bits (0 for zero).
    pub(crate) const fn bits(self) -> u32 {
        if self.hi != 0 { 256 - self.hi.leading_zeros() } else { 128 - self.lo.leading_zeros() }
    }

    /// Whether the value is zero.
    pub(crate) const fn is_zero(self) -> bool {
        self.hi == 0 && self.lo == 0
    }

    /// Truncating division and remainder; division by zero gives `(0, 0)`.
    pub(crate) fn div_rem(self, divisor: Self) -> (Self, Self) {
        if divisor.is_zero() {
            return (Self::ZERO, Self::ZERO);
        }
        if let (Some(a), Some(b)) = (self.to_u128(), divisor.to_u128()) {
            return (Self::from_u128(a / b), Self::from_u128(a % b));
        }
        let mut quotient = Self::ZERO;
        let mut rem = Self::ZERO;
        for i in (0..self.bits()).rev() {
            // `rem < divisor`, so a carry out of bit 255 means the shifted value exceeds it.
            let carry = rem.hi >> 127 == 1;
            rem = rem.shl(1);
            if self.bit(i) {
                rem.lo |= 1;
            }
            if carry || rem >= divisor {
                rem = rem.wrapping_sub(divisor);
                quotient = quotient.saturating_add(Self::from_u128(1).shl(i));
            }
        }
        (quotient, rem)
    }

    /// Truncating division by a `u128`; division by zero gives zero.
    pub(crate) fn div_u128(self, divisor: u128) -> Self {
        self.div_rem(Self::from_u128(divisor)).0
    }

    /// `floor(sqrt(self))`, exact.
    pub(crate) fn isqrt(self) -> u128 {
        // The root of a 256-bit value has at most 128 bits; build it from the top bit down.
        let top = self.bits().div_ceil(2).min(128);
        let mut root: u128 = 0;
        for i in (0..top).rev() {
            let candidate = root | (1u128 << i);
            if Self::mul_u128(candidate, candidate).cmp(&self) != Ordering::Greater {
                root = candidate;
            }
        }
        root
    }
}

/// `floor(sqrt(v))` for a `u128`, exact.
pub(crate) fn isqrt_u128(v: u128) -> u128 {
    U256::from_u128(v).isqrt()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mul_matches_u128_when_small() {
        assert_eq!(U256::mul_u128(123_456_789, 987_654_321), U256::from_u128(121_932_631_112_635_269));
        let p = U256::mul_u128(u128::MAX, u128::MAX);
        // (2^128 - 1)^2 = 2^256 - 2^129 + 1
        assert_eq!(p, U256::from_parts(u128::MAX - 1, 1));
    }

    #[test]
    fn shifts_round_trip() {
        let v = U256::from_u128(0xdead_beef);
        assert_eq!(v.shl(200).shr(200), v);
        assert_eq!(v.shl(128), U256::from_parts(0xdead_beef, 0));
        assert_eq!(U256::from_u128(1).shl(256), U256::ZERO);
        assert_eq!(U256::MAX.shr(255), U256::from_u128(1));
    }

    #[test]
    fn division_is_exact() {
        let a = U256::from_parts(7, 12345);
        let (q, r) = a.div_rem(U256::from_u128(1_000_000_007));
        let back = q.saturating_mul_u128(1_000_000_007).saturating_add(r);
        assert_eq!(back, a);
        assert!(r < U256::from_u128(1_000_000_007));
        let (q, r) = U256::MAX.div_rem(U256::MAX);
        assert_eq!((q, r), (U256::from_u128(1), U256::ZERO));
        assert_eq!(U256::MAX.div_rem(U256::ZERO), (U256::ZERO, U256::ZERO));
        // A divisor with the top bit set exercises the carry path.
        let big = U256::from_parts(1 << 127, 5);
        let (q, r) = U256::MAX.div_rem(big);
        assert_eq!(q, U256::from_u128(1));
        assert_eq!(r, U256::MAX.saturating_sub(big));
    }

    #[test]
    fn isqrt_is_floor() {
        assert_eq!(isqrt_u128(0), 0);
        assert_eq!(isqrt_u128(1), 1);
        assert_eq!(isqrt_u128(15), 3);
        assert_eq!(isqrt_u128(16), 4);
        assert_eq!(isqrt_u128(u128::MAX), u64::MAX as u128);
        assert_eq!(U256::MAX.isqrt(), u128::MAX);
        let r: u128 = 0x1234_5678_9abc_def0_1234_5678;
        let sq = U256::mul_u128(r, r);
        assert_eq!(sq.isqrt(), r);
        assert_eq!(sq.saturating_sub(U256::from_u128(1)).isqrt(), r - 1);
    }
}
