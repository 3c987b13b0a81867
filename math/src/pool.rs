//! A subnet's TAO/alpha pool: reserves, spot price, constant-product swaps, fees, emission injection.
//!
//! Constant-product era (v2.0.0, spec 233 … until a subnet's swap-v3 initialisation): the pool is
//! `SubnetTAO` × `SubnetAlphaIn` and a swap keeps `k = tao · alpha_in`. The chain computes swaps in
//! `I110F18` fixed point (`staking/stake_utils.rs` `sim_swap_tao_for_alpha`, v2.0.0 L581-612): the new
//! reserve `k / (reserve_in + amount)` is truncated to 18 fractional bits and the output is
//! `reserve_out − new_reserve` truncated to an integer. [`Pool`] reproduces that to the last rao, so
//! rounding always favours the pool (`k` never decreases). A swap that would leave the output
//! reserve below [`MIN_POOL_LIQUIDITY`] is refused (the chain returns 0 and changes nothing).
//!
//! The Uniswap-v3 view of the same reserves (spec 283–422: one protocol position over the full tick
//! range) is in the `v3` and `tick` submodules, re-exported here.
//!
//! Not modelled: `SubnetMechanism == 0` ("stable") subnets and root, which swap 1:1 at price 1 —
//! callers handle those before reaching a pool.

mod tick;
mod v3;

pub use tick::{TICK_INDEX_MAX, TICK_INDEX_MIN, sqrt_price_at_tick, tick_index};
pub use v3::price_from_sqrt_price;

use crate::wide::U256;

/// `DefaultMinimumPoolLiquidity` (v2.0.0 `lib.rs` L800): a swap may not leave the output reserve below
/// this many rao.
pub const MIN_POOL_LIQUIDITY: u64 = 10_000_000;

/// Swap `FeeRate` default in v3.1.6 (spec 283): 196/65535 ≈ 0.3 %.
pub const FEE_RATE_V3_1_6: u16 = 196;

/// Swap `FeeRate` default in later runtimes (HEAD): 33/65535 ≈ 0.05 %.
pub const FEE_RATE_DEFAULT: u16 = 33;

/// Fractional bits of the chain's `I110F18` swap arithmetic.
const SWAP_FRAC_BITS: u32 = 18;

/// A subnet pool's reserves, in rao.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct Pool {
    /// TAO reserve (`SubnetTAO`).
    pub tao: u64,
    /// Alpha reserve (`SubnetAlphaIn`).
    pub alpha_in: u64,
}

impl Pool {
    /// A pool with these reserves.
    pub const fn new(tao: u64, alpha_in: u64) -> Self {
        Self { tao, alpha_in }
    }

    /// Spot price in TAO per alpha, `tao / alpha_in`; `0.0` when `alpha_in` is 0 (as the chain's
    /// `get_alpha_price`, v2.0.0 `stake_utils.rs` L33-47).
    ///
    /// The chain truncates this quotient to I96F32 (2^-32 resolution); this is the exact `f64`
    /// quotient.
    pub fn price(&self) -> f64 {
        if self.alpha_in == 0 {
            return 0.0;
        }
        self.tao as f64 / self.alpha_in as f64
    }

    /// The constant product `tao · alpha_in`.
    pub const fn k(&self) -> u128 {
        self.tao as u128 * self.alpha_in as u128
    }

    /// Alpha received for `tao` TAO, without changing the pool; `None` when the chain would refuse
    /// the swap (the remaining alpha reserve would drop below [`MIN_POOL_LIQUIDITY`]).
    pub fn sim_swap_tao_for_alpha(&self, tao: u64) -> Option<u64> {
        constant_product_out(self.tao, self.alpha_in, tao)
    }

    /// Swaps `tao` TAO into the pool and returns the alpha paid out: `tao += tao_in`,
    /// `alpha_in −= out`. A refused swap returns 0 and leaves the pool unchanged.
    pub fn swap_tao_for_alpha(&mut self, tao: u64) -> u64 {
        match self.sim_swap_tao_for_alpha(tao) {
            Some(alpha) => {
                self.alpha_in = self.alpha_in.saturating_sub(alpha);
                self.tao = self.tao.saturating_add(tao);
                alpha
            }
            None => 0,
        }
    }

    /// TAO received for `alpha` alpha, without changing the pool; `None` when the chain would refuse
    /// the swap (the remaining TAO reserve would drop below [`MIN_POOL_LIQUIDITY`]).
    pub fn sim_swap_alpha_for_tao(&self, alpha: u64) -> Option<u64> {
        constant_product_out(self.alpha_in, self.tao, alpha)
    }

    /// Swaps `alpha` alpha into the pool and returns the TAO paid out: `alpha_in += alpha`,
    /// `tao −= out`. A refused swap returns 0 and leaves the pool unchanged.
    pub fn swap_alpha_for_tao(&mut self, alpha: u64) -> u64 {
        match self.sim_swap_alpha_for_tao(alpha) {
            Some(tao) => {
                self.tao = self.tao.saturating_sub(tao);
                self.alpha_in = self.alpha_in.saturating_add(alpha);
                tao
            }
            None => 0,
        }
    }

    /// Adds emission to the reserves (`SubnetTAO += tao`, `SubnetAlphaIn += alpha`), saturating.
    pub fn inject(&mut self, tao: u64, alpha: u64) {
        self.tao = self.tao.saturating_add(tao);
        self.alpha_in = self.alpha_in.saturating_add(alpha);
    }
}

/// Output of a constant-product swap as the chain computes it in I110F18, or `None` when the new
/// output reserve would be below [`MIN_POOL_LIQUIDITY`].
///
/// The chain's I110F18 saturates once `k` exceeds 2^109 (reserves around 2.5e16 rao each); that
/// regime is not reproduced.
fn constant_product_out(reserve_in: u64, reserve_out: u64, amount_in: u64) -> Option<u64> {
    let k_bits = U256::mul_u128(u128::from(reserve_in), u128::from(reserve_out)).shl(SWAP_FRAC_BITS);
    let denominator = u128::from(reserve_in) + u128::from(amount_in);
    // Division by zero is 0 on the chain (`safe_div` / `checked_div(..).unwrap_or(0)`).
    let new_out_bits = k_bits.div_u128(denominator);
    let min_bits = U256::from_u128(u128::from(MIN_POOL_LIQUIDITY) << SWAP_FRAC_BITS);
    if new_out_bits < min_bits {
        return None;
    }
    let out_bits = U256::from_u128(u128::from(reserve_out) << SWAP_FRAC_BITS).saturating_sub(new_out_bits);
    let out = out_bits.shr(SWAP_FRAC_BITS).saturating_to_u128();
    Some(u64::try_from(out).unwrap_or(u64::MAX))
}

/// Swap fee on `amount` at `fee_rate` (Swap pallet `FeeRate`, a u16 proportion), in the input token.
///
/// Exactly the chain's `calculate_fee_amount` (v3.1.6 `swap/src/pallet/impls.rs`): the rate is
/// first truncated to U64F64 (`rate / 65535`), then `amount · rate` is truncated. This can be one rao
/// below `floor(amount · rate / 65535)` when that product is an exact multiple of 65535.
pub fn fee(amount: u64, fee_rate: u16) -> u64 {
    let rate_bits = (u128::from(fee_rate) << 64) / u128::from(u16::MAX);
    let fee = U256::mul_u128(u128::from(amount), rate_bits).shr(64).saturating_to_u128();
    u64::try_from(fee).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn price_is_tao_over_alpha() {
        assert_eq!(Pool::new(10_000_000_000, 5_000_000_000).price(), 2.0);
        assert_eq!(Pool::new(10, 0).price(), 0.0);
        assert_eq!(Pool::default().price(), 0.0);
    }

    /// Oracle: subtensor v2.0.0 `tests/staking2.rs::test_stake_base_case` (10 TAO / 5 alpha pool,
    /// 1 TAO in → 5e9 − 5e19/11e9 = 454_545_454.54… → 454_545_454).
    #[test]
    fn swap_tao_for_alpha_matches_chain_test() {
        let mut pool = Pool::new(10_000_000_000, 5_000_000_000);
        let out = pool.swap_tao_for_alpha(1_000_000_000);
        assert_eq!(out, 454_545_454);
        assert_eq!(pool, Pool::new(11_000_000_000, 5_000_000_000 - 454_545_454));
    }

    #[test]
    fn swap_alpha_for_tao_is_symmetric() {
        let mut pool = Pool::new(5_000_000_000, 10_000_000_000);
        let out = pool.swap_alpha_for_tao(1_000_000_000);
        assert_eq!(out, 454_545_454);
        assert_eq!(pool, Pool::new(5_000_000_000 - 454_545_454, 11_000_000_000));
    }

    #[test]
    fn exact_division_is_not_rounded_down() {
        // k = 100e9 · 100e9, new alpha reserve = k / 200e9 = 50e9 exactly → out = 50e9.
        let pool = Pool::new(100_000_000_000, 100_000_000_000);
        assert_eq!(pool.sim_swap_tao_for_alpha(100_000_000_000), Some(50_000_000_000));
        // k / 300e9 = 33_333_333_333.33… → the pool keeps the ceiling, out = 66_666_666_666.
        assert_eq!(pool.sim_swap_tao_for_alpha(200_000_000_000), Some(66_666_666_666));
    }

    #[test]
    fn swaps_below_minimum_liquidity_are_refused() {
        let mut pool = Pool::new(1_000_000_000, 20_000_000);
        // Buying would leave 20e6·1e9/(1e9+1e9) = 10e6 alpha: allowed (not below the minimum).
        assert_eq!(pool.sim_swap_tao_for_alpha(1_000_000_000), Some(10_000_000));
        // One more rao of TAO pushes the reserve below 10e6: refused, pool untouched.
        assert_eq!(pool.sim_swap_tao_for_alpha(1_000_000_001), None);
        assert_eq!(pool.swap_tao_for_alpha(1_000_000_001), 0);
        assert_eq!(pool, Pool::new(1_000_000_000, 20_000_000));
        // An empty pool refuses everything.
        assert_eq!(Pool::default().sim_swap_tao_for_alpha(5), None);
        assert_eq!(Pool::default().sim_swap_alpha_for_tao(0), None);
    }

    #[test]
    fn k_never_decreases() {
        let mut pool = Pool::new(123_456_789_012, 98_765_432_109);
        let mut seed: u64 = 0x9e37_79b9_7f4a_7c15;
        for step in 0..2_000 {
            // xorshift: deterministic pseudo-random trade sizes over several magnitudes.
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let amount = seed % 10u64.pow(1 + (step % 11) as u32);
            let k_before = pool.k();
            if step % 2 == 0 {
                pool.swap_tao_for_alpha(amount);
            } else {
                pool.swap_alpha_for_tao(amount);
            }
            assert!(pool.k() >= k_before, "k decreased at step {step}");
        }
    }

    #[test]
    fn inject_adds_to_reserves() {
        let mut pool = Pool::new(1, 2);
        pool.inject(10, 20);
        assert_eq!(pool, Pool::new(11, 22));
        pool.inject(u64::MAX, 0);
        assert_eq!(pool.tao, u64::MAX);
    }

    #[test]
    fn fee_truncates_like_the_chain() {
        assert_eq!(fee(1_000_000_000, FEE_RATE_V3_1_6), 2_990_768);
        assert_eq!(fee(1_000_000_000, FEE_RATE_DEFAULT), 503_547);
        assert_eq!(fee(0, FEE_RATE_V3_1_6), 0);
        assert_eq!(fee(1_000, 0), 0);
        // Rate 65535/65535 is exactly 1.0 in U64F64.
        assert_eq!(fee(1_000, u16::MAX), 1_000);
        // 65535 · 196 / 65535 = 196 exactly, but the truncated U64F64 rate makes it 195.
        assert_eq!(fee(65_535, FEE_RATE_V3_1_6), 195);
        assert_eq!(fee(u64::MAX, u16::MAX), u64::MAX);
    }
}
