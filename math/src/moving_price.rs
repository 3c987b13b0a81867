//! The subnet price EMA (`SubnetMovingPrice`) that drives the TAO split among subnets.
//!
//! Updated once per block after the coinbase (`update_moving_price`, `staking/stake_utils.rs`).
//! The rule changed over the eras:
//!
//! | runtime | EMA factor α | price term |
//! |---|---|---|
//! | v2.0.0 (spec 233) … v2.0.8 | `SubnetMovingAlpha` (constant, default 0.000003) | `price` (uncapped) |
//! | v2.0.9 (spec 257) … v3.0.x | `SubnetMovingAlpha · b/(b+h)`, `b` = blocks since `NetworkRegisteredAt` | `min(price, 1)` |
//! | v3.1.x (spec ≥ 273) … HEAD | same, `b` = blocks since the `start_call` block (`FirstEmissionBlockNumber − 1`) | `min(price, 1)` |
//!
//! `h` is `EMAPriceHalvingBlocks` (default 201_600). The price is the pool's spot price (from v3.1.6
//! the Swap pallet's `current_alpha_price`).

/// Default `SubnetMovingAlpha` (I96F32 from 0.000003).
pub const DEFAULT_MOVING_ALPHA: f64 = 0.000_003;

/// Default `EMAPriceHalvingBlocks`.
pub const DEFAULT_EMA_PRICE_HALVING_BLOCKS: u64 = 201_600;

/// One EMA step with the price capped at 1.0 (v2.0.9+): `α·min(price, 1) + (1 − α)·old`.
pub fn update_moving_price(old: f64, price: f64, alpha: f64) -> f64 {
    alpha * price.min(1.0) + (1.0 - alpha) * old
}

/// One EMA step as in v2.0.0–v2.0.8, without the cap: `α·price + (1 − α)·old`.
pub fn update_moving_price_uncapped(old: f64, price: f64, alpha: f64) -> f64 {
    alpha * price + (1.0 - alpha) * old
}

/// The EMA factor from v2.0.9 on: `base_alpha · b / (b + h)` with `b = blocks_since_start` and
/// `h = halving_blocks`; 0 when both are 0 (the chain's `safe_div`). In v2.0.0–v2.0.8 the factor is
/// simply `base_alpha`.
pub fn moving_alpha(base_alpha: f64, blocks_since_start: u64, halving_blocks: u64) -> f64 {
    let b = blocks_since_start as f64;
    let denominator = b + halving_blocks as f64;
    if denominator == 0.0 {
        return 0.0;
    }
    base_alpha * b / denominator
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64) -> bool {
        (a - b).abs() < 1e-15
    }

    #[test]
    fn capped_update() {
        assert!(close(update_moving_price(0.5, 3.0, 0.1), 0.55));
        assert!(close(update_moving_price(0.2, 0.4, 0.5), 0.3));
        assert_eq!(update_moving_price(0.2, 0.4, 0.0), 0.2);
        assert!(close(update_moving_price_uncapped(0.5, 3.0, 0.1), 0.75));
    }

    #[test]
    fn alpha_ramps_up_with_age() {
        let h = DEFAULT_EMA_PRICE_HALVING_BLOCKS;
        assert_eq!(moving_alpha(DEFAULT_MOVING_ALPHA, 0, h), 0.0);
        assert_eq!(moving_alpha(DEFAULT_MOVING_ALPHA, h, h), DEFAULT_MOVING_ALPHA / 2.0);
        assert_eq!(moving_alpha(1.0, 3, 1), 0.75);
        assert_eq!(moving_alpha(1.0, 0, 0), 0.0);
    }

    /// With a constant price p ≤ 1 and constant α, the gap to p shrinks by (1 − α) per block.
    #[test]
    fn converges_geometrically() {
        let (p, a) = (0.02, DEFAULT_MOVING_ALPHA);
        let mut m = 0.0;
        let blocks = 231_049; // ln(0.5) / ln(1 − 3e-6)
        for _ in 0..blocks {
            m = update_moving_price(m, p, a);
        }
        assert!((m / p - 0.5).abs() < 1e-5, "{m}");
    }
}
