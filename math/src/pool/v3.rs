//! The Uniswap-v3 ("swap v3", spec 283–422) view of a pool's reserves.
//!
//! When the Swap pallet initialises a subnet (`maybe_initialize_v3`, v3.1.6
//! `swap/src/pallet/impls.rs`), it keeps the reserves and derives:
//! `AlphaSqrtPrice = sqrt(tao / alpha_in)` (U64F64), `CurrentTick = tick(sqrt price)` and one
//! protocol position over `[TickIndex::MIN, TickIndex::MAX]` with liquidity
//! `floor(sqrt(tao · alpha_in))`. The spot price is then `AlphaSqrtPrice²`.

use super::Pool;
use super::tick::tick_index;
use crate::wide::{U256, isqrt_u128};

impl Pool {
    /// `sqrt(tao / alpha_in)` as U64F64 bits, exact: `floor(sqrt(tao · 2^128 / alpha_in))`
    /// (which equals `floor(sqrt(floor(tao · 2^128 / alpha_in)))`). 0 when `alpha_in` is 0.
    ///
    /// The pallet computes `U64F64(tao / alpha)` first (truncated) and then an iterative
    /// `checked_sqrt` with tolerance 1e-12, so its stored value can differ from this exact floor in
    /// the low bits (relative difference below 1e-12).
    pub fn sqrt_price_u64f64(&self) -> u128 {
        if self.alpha_in == 0 {
            return 0;
        }
        let scaled = U256::from_parts(u128::from(self.tao), 0).div_u128(u128::from(self.alpha_in));
        scaled.isqrt()
    }

    /// The tick of [`Pool::sqrt_price_u64f64`] (the pallet's `CurrentTick` at initialisation).
    pub fn current_tick(&self) -> i32 {
        tick_index(self.sqrt_price_u64f64())
    }

    /// Liquidity of the protocol's full-range position: `floor(sqrt(tao · alpha_in))`
    /// (`helpers_128bit::sqrt` of the u128 product).
    pub fn full_range_liquidity(&self) -> u64 {
        let root = isqrt_u128(self.k());
        // sqrt of a product of two u64 is below 2^64.
        u64::try_from(root).unwrap_or(u64::MAX)
    }
}

/// Spot price from U64F64 sqrt-price bits: `(bits / 2^64)²`.
pub fn price_from_sqrt_price(sqrt_price_bits: u128) -> f64 {
    let sqrt = crate::fixed::u64f64_to_f64(sqrt_price_bits);
    sqrt * sqrt
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqrt_price_of_known_pools() {
        assert_eq!(Pool::new(4, 1).sqrt_price_u64f64(), 2 << 64);
        assert_eq!(Pool::new(1, 4).sqrt_price_u64f64(), 1 << 63);
        assert_eq!(Pool::new(7, 7).sqrt_price_u64f64(), 1 << 64);
        assert_eq!(Pool::new(7, 0).sqrt_price_u64f64(), 0);
        assert_eq!(Pool::new(0, 7).sqrt_price_u64f64(), 0);
        // sqrt(2) · 2^64 = 26087635650665564424.699… (floor).
        assert_eq!(Pool::new(2, 1).sqrt_price_u64f64(), 26_087_635_650_665_564_424);
        // Extreme reserves do not overflow.
        assert_eq!(Pool::new(u64::MAX, 1).sqrt_price_u64f64(), 79_228_162_514_264_337_591_396_466_687);
    }

    #[test]
    fn price_from_sqrt_price_matches_reserve_ratio() {
        let pools = [
            Pool::new(1_000_000_000_000, 1_000_000_000_000),
            Pool::new(12_345_678_901_234, 987_654_321_098_765),
            Pool::new(5_000_000_000, 419_000_000_000),
            Pool::new(21_000_000_000_000_000, 1_000_000_000),
            Pool::new(1_000_000_000, 20_000_000_000_000_000),
        ];
        for pool in pools {
            let from_sqrt = price_from_sqrt_price(pool.sqrt_price_u64f64());
            let rel = (from_sqrt / pool.price() - 1.0).abs();
            assert!(rel < 1e-12, "{pool:?}: {from_sqrt} vs {}", pool.price());
        }
    }

    #[test]
    fn sqrt_price_is_the_floor() {
        for pool in [Pool::new(3, 1), Pool::new(123_456_789, 987), Pool::new(10, 3)] {
            let r = pool.sqrt_price_u64f64();
            // r² · alpha ≤ tao · 2^128 < (r+1)² · alpha
            let lhs = U256::mul_u128(r, r).saturating_mul_u128(u128::from(pool.alpha_in));
            let rhs = U256::from_parts(u128::from(pool.tao), 0);
            let next = U256::mul_u128(r + 1, r + 1).saturating_mul_u128(u128::from(pool.alpha_in));
            assert!(lhs <= rhs && rhs < next, "{pool:?}");
        }
    }

    #[test]
    fn full_range_liquidity_is_isqrt_of_k() {
        assert_eq!(Pool::new(4, 9).full_range_liquidity(), 6);
        assert_eq!(Pool::new(10, 10).full_range_liquidity(), 10);
        assert_eq!(Pool::new(10, 11).full_range_liquidity(), 10);
        assert_eq!(Pool::new(u64::MAX, u64::MAX).full_range_liquidity(), u64::MAX);
        assert_eq!(Pool::default().full_range_liquidity(), 0);
    }

    #[test]
    fn current_tick_of_balanced_pool_is_zero() {
        assert_eq!(Pool::new(5, 5).current_tick(), 0);
        // Price 1.0001 ⇒ sqrt price 1.0001^(1/2) ⇒ tick 1 (or just below it).
        let tick = Pool::new(10_001_000_000, 10_000_000_000).current_tick();
        assert!(tick == 0 || tick == 1, "{tick}");
        // Price 0.01 ⇒ tick = ln(0.01)/ln(1.0001) = −46_054.004…
        let tick = Pool::new(1_000_000_000, 100_000_000_000).current_tick();
        assert_eq!(tick, -46_055);
    }
}
