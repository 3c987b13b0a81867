//! Per-block emission: the halving schedule, the TAO split among subnets, each subnet's
//! `tao_in` / `alpha_in` / `alpha_out`, and the split of `alpha_out` (owner cut, miners,
//! validators, root).
//!
//! Formulas follow the dTAO launch runtime v2.0.0 (spec 233, `coinbase/run_coinbase.rs` L47-200,
//! `coinbase/block_emission.rs`), which is unchanged in structure through v3.2.x (spec ≤ 326). Where
//! the chain works in I96F32 fixed point and the inputs are integers, the results here are exact to
//! the rao; where a fractional input enters as `f64` (price, root proportion) they agree to ±1 rao.

use crate::fixed::f64_to_i96f32;
use crate::wide::U256;

/// Total TAO supply in rao (`TotalSupply`, 21M TAO).
pub const TOTAL_SUPPLY: u64 = 21_000_000_000_000_000;

/// Block emission before the first halving (`DefaultBlockEmission`, 1 TAO).
pub const DEFAULT_BLOCK_EMISSION: u64 = 1_000_000_000;

/// Default `SubnetOwnerCut` (11_796/65535 ≈ 18 %).
pub const DEFAULT_SUBNET_OWNER_CUT: u16 = 11_796;

/// Fractional bits of I96F32.
const FRAC: u32 = 32;

/// Block emission (rao) for a given issuance (rao), exactly as `get_block_emission_for_issuance`.
///
/// `k = floor(log2(1 / (1 − I / 21e15)))`, emission = `1e9 / 2^k` (so 1 TAO below 10.5M TAO issued,
/// 0.5 TAO up to 15.75M, …), 0 once `I ≥ 21e15`. The chain computes in I96F32: the quotient
/// `I / 21e15` and its inverse are truncated to 32 fractional bits and `k` is the integer part of
/// `substrate_fixed::log2`, which counts halvings of the operand with a rounding right shift. That is
/// reproduced bit for bit, so thresholds land on the same rao as on chain. The same function gives a
/// subnet's alpha emission from its alpha issuance (`SubnetAlphaIn + SubnetAlphaOut`).
pub fn block_emission_for_issuance(issuance: u64) -> u64 {
    if issuance >= TOTAL_SUPPLY {
        return 0;
    }
    let one: u128 = 1 << FRAC;
    // I / (2 · 10.5e15) in I96F32: floor(I · 2^32 / 21e15); < 2^32 because I < 21e15.
    let ratio = (u128::from(issuance) << FRAC) / u128::from(TOTAL_SUPPLY);
    let one_minus = one - ratio;
    // 1 / (1 − ratio): floor(2^64 / one_minus) bits; one_minus ≥ 1 so this fits in u128.
    let mut x = (one << FRAC) / one_minus;
    // Integer part of substrate_fixed's log2: halve (rounding) while x ≥ 2.
    let mut k: u32 = 0;
    while x >= 2 * one {
        k += 1;
        x = (x >> 1) + (x & 1);
    }
    // 1/2^k in I96F32 (0 once k > 32), times 1e9, truncated.
    let share_bits: u128 = if k > FRAC { 0 } else { one >> k };
    let emission = (share_bits * u128::from(DEFAULT_BLOCK_EMISSION)) >> FRAC;
    u64::try_from(emission).unwrap_or(u64::MAX)
}

/// v2.0.0 split of the block's TAO emission among subnets by moving price:
/// `tao_in_i = floor(E · mp_i / Σ mp)`.
///
/// Prices are taken as I96F32 (the `SubnetMovingPrice` encoding; negative or NaN prices count as
/// 0) and the quotient is computed exactly, so the result matches the chain to the rao and the sum
/// never exceeds `E`. When every price is 0 (e.g. right after launch, `DefaultMovingPrice` is 0) the
/// chain's division fails and every subnet gets 0 — there is no equal-split fallback. The caller
/// passes only the subnets that take part (non-root; from v3.1.x only those with
/// `FirstEmissionBlockNumber`), and zeroes `tao_in` itself where registration is disabled.
pub fn tao_split_by_moving_price(block_emission: u64, moving_prices: &[f64]) -> Vec<u64> {
    let bits: Vec<u128> =
        moving_prices.iter().map(|&p| u128::try_from(f64_to_i96f32(p)).unwrap_or(0)).collect();
    let total = bits.iter().fold(0u128, |acc, b| acc.saturating_add(*b));
    if total == 0 {
        return vec![0; moving_prices.len()];
    }
    bits.iter()
        .map(|&b| {
            let share = U256::mul_u128(u128::from(block_emission), b).div_u128(total);
            u64::try_from(share.saturating_to_u128()).unwrap_or(u64::MAX)
        })
        .collect()
}

/// A subnet's emission terms for one block (`SubnetTaoInEmission`, `SubnetAlphaInEmission`,
/// `SubnetAlphaOutEmission`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct SubnetEmission {
    /// TAO injected into the pool.
    pub tao_in: u64,
    /// Alpha injected into the pool.
    pub alpha_in: u64,
    /// Alpha minted for owner, miners, validators (and root).
    pub alpha_out: u64,
}

/// v2.0.0 emission terms of one subnet: `tao_in = tao_share`,
/// `alpha_in = min(tao_in / price, alpha_emission)` (all of `alpha_emission` when the price is 0),
/// `alpha_out = alpha_emission`.
///
/// `alpha_emission` is [`block_emission_for_issuance`] of the subnet's alpha issuance. The chain
/// divides the not-yet-truncated `tao_in`, so `alpha_in` may be up to `1/price` rao above this.
pub fn subnet_emission(tao_share: u64, price: f64, alpha_emission: u64) -> SubnetEmission {
    let alpha_in = if price > 0.0 {
        let alpha = (tao_share as f64 / price).floor();
        if alpha >= alpha_emission as f64 {
            alpha_emission
        } else {
            // Non-negative and below a u64 here.
            alpha as u64
        }
    } else {
        alpha_emission
    };
    SubnetEmission { tao_in: tao_share, alpha_in, alpha_out: alpha_emission }
}

/// `TaoWeight` default (≈ 0.0527 of u64::MAX; `runtime/src/lib.rs`).
pub const DEFAULT_TAO_WEIGHT: u64 = 971_718_665_099_567_868;

/// `FlowEmaSmoothingFactor` default (over `i64::MAX`: ≈ 3.2e-6 per block).
pub const DEFAULT_FLOW_EMA_SMOOTHING: u64 = 29_597_889_189_277;

/// The per-block EMA factor of a `FlowEmaSmoothingFactor`.
pub fn flow_ema_alpha(smoothing: u64) -> f64 {
    smoothing as f64 / i64::MAX as f64
}

/// The chain's flow EMA after `blocks` blocks with no flow (`ema · (1 − α)^blocks`).
pub fn flow_ema_decay(ema: f64, alpha: f64, blocks: u64) -> f64 {
    ema * (1.0 - alpha).powf(blocks as f64)
}

/// The chain's flow EMA after one block with net flow `flow`: `(1 − α)·ema + α·flow`.
pub fn flow_ema_step(ema: f64, alpha: f64, flow: f64) -> f64 {
    (1.0 - alpha) * ema + alpha * flow
}

/// How a runtime shares each block's TAO emission among subnets (CHAIN.md §0, §3.2).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum EmissionEra {
    /// Before dTAO (spec < 220): root weights set subnet emission.
    PreDtao,
    /// First dTAO runtimes (220–232): shares by pool TAO reserve.
    ReserveShare,
    /// v2.0.0 (233–289): shares by moving price.
    MovingPrice,
    /// v3.2.x (290–333): moving price, with the chain buying alpha when price < share.
    MovingPriceSubsidy,
    /// v3.2.10–v3.4.5 (334–420): shares by the EMA of net TAO flow.
    TaoFlow,
    /// v3.4.6+ (421+): moving price × (1 − MinerBurned), injection capped by root proportion.
    PriceEma,
}

impl EmissionEra {
    /// The era of runtime `spec_version`.
    pub fn for_spec(spec_version: u32) -> EmissionEra {
        match spec_version {
            0..=219 => EmissionEra::PreDtao,
            220..=232 => EmissionEra::ReserveShare,
            233..=289 => EmissionEra::MovingPrice,
            290..=333 => EmissionEra::MovingPriceSubsidy,
            334..=420 => EmissionEra::TaoFlow,
            _ => EmissionEra::PriceEma,
        }
    }

    /// A stable name (stored in `emissions_daily.era`).
    pub fn as_str(self) -> &'static str {
        match self {
            EmissionEra::PreDtao => "pre_dtao",
            EmissionEra::ReserveShare => "reserve_share",
            EmissionEra::MovingPrice => "moving_price",
            EmissionEra::MovingPriceSubsidy => "moving_price_subsidy",
            EmissionEra::TaoFlow => "tao_flow",
            EmissionEra::PriceEma => "price_ema",
        }
    }
}

/// The subnet owner's cut of `alpha_out` at `subnet_owner_cut` (a u16 proportion), exactly as the
/// chain: the cut is truncated to I96F32 first, then `alpha_out · cut` is truncated.
pub fn owner_cut(alpha_out: u64, subnet_owner_cut: u16) -> u64 {
    let cut_bits = owner_cut_bits(subnet_owner_cut);
    u64::try_from((u128::from(alpha_out) * cut_bits) >> FRAC).unwrap_or(u64::MAX)
}

/// `SubnetOwnerCut / 65535` as I96F32 bits (truncated), ≤ 2^32.
fn owner_cut_bits(subnet_owner_cut: u16) -> u128 {
    (u128::from(subnet_owner_cut) << FRAC) / u128::from(u16::MAX)
}

/// Root's share of a subnet's validator emission:
/// `w·root_tao / (w·root_tao + alpha_issuance)` with `w = tao_weight / u64::MAX` (`TaoWeight`);
/// 0 when both are 0.
pub fn root_proportion(root_tao: u64, tao_weight: u64, alpha_issuance: u64) -> f64 {
    let weighted = root_tao as f64 * (tao_weight as f64 / u64::MAX as f64);
    let total = weighted + alpha_issuance as f64;
    if total > 0.0 { weighted / total } else { 0.0 }
}

/// Where a subnet's `alpha_out` goes in one block.
///
/// `owner_cut + server + validator + root_alpha ≤ alpha_out` (truncation loses at most 2 rao).
/// Storage mapping: v2.0.0–v3.2.14 accumulate `owner_cut` in `PendingOwnerCut`,
/// `server + validator` in `PendingEmission` and `root_alpha` in `PendingAlphaSwapped` (sold for
/// TAO into `PendingRootDivs`); the epoch then distributes `PendingEmission + PendingAlphaSwapped`
/// through Yuma. From v3.2.15 (spec 347) they go to `PendingOwnerCut`, `PendingServerEmission`,
/// `PendingValidatorEmission` and `PendingRootAlphaDivs`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct AlphaOutSplit {
    /// Subnet owner's cut.
    pub owner_cut: u64,
    /// Miners' half of the remainder.
    pub server: u64,
    /// Validators' half of the remainder, less `root_alpha`.
    pub validator: u64,
    /// Root stakers' part of the validators' half: `root_proportion · remainder / 2`.
    pub root_alpha: u64,
}

/// Splits `alpha_out`: owner cut first ([`owner_cut`]), then the remainder `r` half to miners and
/// half to validators, with `root_proportion · r / 2` of the validators' half going to root.
///
/// `server + validator` equals the chain's `PendingEmission` increment `floor(r − root_alpha)`.
pub fn split_alpha_out(alpha_out: u64, subnet_owner_cut: u16, root_proportion: f64) -> AlphaOutSplit {
    let cut_bits = owner_cut_bits(subnet_owner_cut);
    let owner_cut = u64::try_from((u128::from(alpha_out) * cut_bits) >> FRAC).unwrap_or(u64::MAX);
    // The chain keeps the remainder untruncated: alpha_out · (1 − cut) in I96F32.
    let remainder_bits = u128::from(alpha_out) * ((1u128 << FRAC) - cut_bits);
    let remainder = remainder_bits as f64 / (1u64 << FRAC) as f64;
    let root_prop = if root_proportion.is_finite() { root_proportion.clamp(0.0, 1.0) } else { 0.0 };
    let root_alpha_exact = root_prop * remainder * 0.5;
    let root_alpha = root_alpha_exact.floor() as u64;
    let pending = ((remainder - root_alpha_exact).floor() as u64).min(alpha_out - owner_cut);
    let server = ((remainder_bits >> 1) >> FRAC) as u64;
    let server = server.min(pending);
    AlphaOutSplit { owner_cut, server, validator: pending - server, root_alpha }
}

#[cfg(test)]
mod tests {
    use super::*;

    const TAO: u64 = 1_000_000_000;

    #[test]
    fn halving_thresholds() {
        assert_eq!(block_emission_for_issuance(0), TAO);
        let cases: [(u64, u64); 6] = [
            (10_500_000, 500_000_000),
            (15_750_000, 250_000_000),
            (18_375_000, 125_000_000),
            (19_687_500, 62_500_000),
            (20_343_750, 31_250_000),
            (20_671_875, 15_625_000),
        ];
        let mut previous = TAO;
        for (threshold_tao, emission) in cases {
            let at = threshold_tao * TAO;
            assert_eq!(block_emission_for_issuance(at - 1), previous, "just below {threshold_tao}");
            assert_eq!(block_emission_for_issuance(at), emission, "at {threshold_tao}");
            assert_eq!(block_emission_for_issuance(at + 1), emission, "just above {threshold_tao}");
            previous = emission;
        }
    }

    #[test]
    fn emission_ends_at_total_supply() {
        // 1e9 / 2^32 truncates to 0 just below the cap.
        assert_eq!(block_emission_for_issuance(TOTAL_SUPPLY - 1), 0);
        assert_eq!(block_emission_for_issuance(TOTAL_SUPPLY), 0);
        assert_eq!(block_emission_for_issuance(u64::MAX), 0);
        // 29 halvings: 1e9 / 2^29 = 1.86 → 1 rao; one rao less issued is still 28 (3 rao).
        let issued_29 = TOTAL_SUPPLY - (TOTAL_SUPPLY >> 29);
        assert_eq!(block_emission_for_issuance(issued_29), 1);
        assert_eq!(block_emission_for_issuance(issued_29 - 1), 3);
    }

    #[test]
    fn emission_is_monotone_non_increasing() {
        let mut last = u64::MAX;
        for step in 0..=2_100 {
            let e = block_emission_for_issuance(step * 10_000 * TAO);
            assert!(e <= last, "emission rose at {step}");
            last = e;
        }
    }

    /// Oracle: v2.0.0 `tests/coinbase.rs::test_coinbase_tao_issuance_different_prices`
    /// (E = 1e8, moving prices 1 and 2 ⇒ E/3 and 2·E/3).
    #[test]
    fn tao_split_matches_chain_test() {
        assert_eq!(tao_split_by_moving_price(100_000_000, &[1.0, 2.0]), vec![33_333_333, 66_666_666]);
        // test_coinbase_tao_issuance_base: a single subnet gets everything.
        assert_eq!(tao_split_by_moving_price(123_456_789, &[0.5]), vec![123_456_789]);
    }

    #[test]
    fn tao_split_edge_cases() {
        assert_eq!(tao_split_by_moving_price(TAO, &[]), Vec::<u64>::new());
        assert_eq!(tao_split_by_moving_price(TAO, &[0.0, 0.0]), vec![0, 0]);
        assert_eq!(tao_split_by_moving_price(TAO, &[-1.0, f64::NAN, 1.0]), vec![0, 0, TAO]);
        let prices = [0.013, 0.0047, 0.3, 0.000_001, 0.07, 1.0];
        let split = tao_split_by_moving_price(TAO, &prices);
        let total: u64 = split.iter().sum();
        assert!(total <= TAO && total + prices.len() as u64 >= TAO, "{total}");
    }

    /// Oracles: v2.0.0 `test_coinbase_alpha_issuance_base` / `_different` (price 1 ⇒ alpha_in =
    /// tao_in) and `_with_cap_trigger` (price 1e-6 ⇒ alpha_in capped at the alpha emission).
    #[test]
    fn subnet_emission_matches_chain_tests() {
        assert_eq!(
            subnet_emission(500_000, 1.0, TAO),
            SubnetEmission { tao_in: 500_000, alpha_in: 500_000, alpha_out: TAO }
        );
        assert_eq!(subnet_emission(333_333, 1.0, TAO).alpha_in, 333_333);
        assert_eq!(subnet_emission(333_333, 1_000.0 / 1_000_000_000.0, TAO).alpha_in, TAO);
        assert_eq!(subnet_emission(100, 0.0, 42).alpha_in, 42);
        assert_eq!(subnet_emission(100, 2.0, 42).alpha_in, 42);
        assert_eq!(subnet_emission(100, 4.0, 42).alpha_in, 25);
        // Issuance above 21M (test_..._with_cap_trigger_and_block_emission): nothing minted.
        let none = subnet_emission(333_333, 1e-6, block_emission_for_issuance(22_000_000 * TAO));
        assert_eq!((none.alpha_in, none.alpha_out), (0, 0));
    }

    /// Oracle: v2.0.0 `test_owner_cut_base` (cut 0 ⇒ 0, cut 65535 ⇒ the whole 1 TAO).
    #[test]
    fn owner_cut_matches_chain() {
        assert_eq!(owner_cut(TAO, 0), 0);
        assert_eq!(owner_cut(TAO, u16::MAX), TAO);
        // 11796/65535 truncated to I96F32, times 1e9: 179_995_422.29… → 179_995_422.
        assert_eq!(owner_cut(TAO, DEFAULT_SUBNET_OWNER_CUT), 179_995_422);
    }

    /// Oracle: v2.0.0 `test_pending_swapped` (no owner cut, root proportion 1/4 ⇒
    /// PendingAlphaSwapped 125_000_000 and PendingEmission 875_000_000).
    #[test]
    fn split_alpha_out_matches_chain() {
        let split = split_alpha_out(TAO, 0, 0.25);
        assert_eq!(split.root_alpha, 125_000_000);
        assert_eq!(split.server + split.validator, 875_000_000);
        assert_eq!(
            split,
            AlphaOutSplit {
                owner_cut: 0,
                server: 500_000_000,
                validator: 375_000_000,
                root_alpha: 125_000_000
            }
        );
        assert_eq!(root_proportion(TAO, u64::MAX, 3 * TAO), 0.25);
        assert_eq!(root_proportion(0, u64::MAX, 0), 0.0);
        assert_eq!(root_proportion(TAO, 0, 3 * TAO), 0.0);
    }

    #[test]
    fn split_alpha_out_conserves() {
        for (alpha_out, cut, root) in [
            (TAO, DEFAULT_SUBNET_OWNER_CUT, 0.0527),
            (7, 1, 0.9),
            (0, 11_796, 0.5),
            (u64::MAX, u16::MAX, 1.0),
        ] {
            let s = split_alpha_out(alpha_out, cut, root);
            let total = u128::from(s.owner_cut)
                + u128::from(s.server)
                + u128::from(s.validator)
                + u128::from(s.root_alpha);
            assert!(total <= u128::from(alpha_out), "{s:?}");
            assert!(total + 2 >= u128::from(alpha_out), "{s:?}");
            assert_eq!(s.owner_cut, owner_cut(alpha_out, cut));
        }
        let nan = split_alpha_out(TAO, 0, f64::NAN);
        assert_eq!((nan.root_alpha, nan.server, nan.validator), (0, 500_000_000, 500_000_000));
    }
}
