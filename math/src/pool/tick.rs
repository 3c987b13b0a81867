//! Uniswap-v3 tick math of the Swap pallet (spec 283–422, `pallets/swap/src/tick.rs`).
//!
//! A tick `t` stands for the sqrt price `1.0001^(t/2)`. The pallet uses Uniswap's integer
//! `getSqrtRatioAtTick` (Q64.96, the published bit-by-bit constants) and converts to its U64F64
//! `SqrtPrice` by rounding up; `TickIndex` is limited to half of Uniswap's range,
//! ±443_636 (`TickIndex::MIN/MAX = MIN_TICK/2`, because of the U64F64 conversion).
//!
//! [`tick_index`] returns the largest tick whose Q64.96 sqrt ratio is ≤ the given sqrt price — the
//! result of the pallet's `TickIndex::from_sqrt_price_bounded` (estimate + both-direction
//! verification against `get_sqrt_ratio_at_tick`), found here by an exact binary search.

use crate::wide::U256;

/// Uniswap's `MAX_TICK`.
const UNISWAP_MAX_TICK: u32 = 887_272;

/// Smallest usable tick index (`TickIndex::MIN`).
pub const TICK_INDEX_MIN: i32 = -443_636;

/// Largest usable tick index (`TickIndex::MAX`).
pub const TICK_INDEX_MAX: i32 = 443_636;

/// `2^128 / sqrt(1.0001)`, applied when bit 0 of `|tick|` is set.
const RATIO_BIT_0: u128 = 0xfffc_b933_bd6f_ad37_aa2d_162d_1a59_4001;

/// `2^128 / sqrt(1.0001)^(2^i)` for bit `i` = 1…19 of `|tick|` (Uniswap `TickMath`).
const RATIO_BITS: [u128; 19] = [
    0xfff9_7272_373d_4132_59a4_6990_580e_213a,
    0xfff2_e50f_5f65_6932_ef12_357c_f3c7_fdcc,
    0xffe5_caca_7e10_e4e6_1c36_24ea_a094_1cd0,
    0xffcb_9843_d60f_6159_c9db_5883_5c92_6644,
    0xff97_3b41_fa98_c081_472e_6896_dfb2_54c0,
    0xff2e_a164_66c9_6a38_43ec_78b3_26b5_2861,
    0xfe5d_ee04_6a99_a2a8_11c4_61f1_969c_3053,
    0xfcbe_86c7_900a_88ae_dcff_c83b_479a_a3a4,
    0xf987_a725_3ac4_1317_6f2b_074c_f781_5e54,
    0xf339_2b08_22b7_0005_940c_7a39_8e4b_70f3,
    0xe715_9475_a2c2_9b74_43b2_9c7f_a6e8_89d9,
    0xd097_f3bd_fd20_22b8_845a_d8f7_92aa_5825,
    0xa9f7_4646_2d87_0fdf_8a65_dc1f_90e0_61e5,
    0x70d8_69a1_56d2_a1b8_90bb_3df6_2baf_32f7,
    0x31be_135f_97d0_8fd9_8123_1505_542f_cfa6,
    0x09aa_508b_5b7a_84e1_c677_de54_f3e9_9bc9,
    0x005d_6af8_dedb_8119_6699_c329_225e_e604,
    0x0000_2216_e584_f5fa_1ea9_2604_1bed_fe98,
    0x0000_0000_048a_1703_91f7_dc42_444e_8fa2,
];

/// Uniswap's `getSqrtRatioAtTick`: sqrt(1.0001^tick) as Q64.96, rounded up.
///
/// `|tick|` is clamped to Uniswap's `MAX_TICK` (887_272).
fn sqrt_ratio_x96_at_tick(tick: i32) -> U256 {
    let abs = tick.unsigned_abs().min(UNISWAP_MAX_TICK);
    let mut ratio = if abs & 1 != 0 { U256::from_u128(RATIO_BIT_0) } else { U256::from_parts(1, 0) };
    for (i, factor) in RATIO_BITS.iter().enumerate() {
        if abs & (2 << i) != 0 {
            ratio = ratio.saturating_mul_u128(*factor).shr(128);
        }
    }
    if tick > 0 {
        ratio = U256::MAX.div_rem(ratio).0;
    }
    let shifted = ratio.shr(32);
    if ratio.saturating_sub(shifted.shl(32)).is_zero() {
        shifted
    } else {
        shifted.saturating_add(U256::from_u128(1))
    }
}

/// The pallet's U64F64 sqrt price (bits / 2^64) at `tick`, clamped to
/// [`TICK_INDEX_MIN`]…[`TICK_INDEX_MAX`]: the Q64.96 ratio shifted to 64 fractional bits, rounded up
/// (`TickIndex::try_to_sqrt_price`).
pub fn sqrt_price_at_tick(tick: i32) -> u128 {
    let ratio = sqrt_ratio_x96_at_tick(tick.clamp(TICK_INDEX_MIN, TICK_INDEX_MAX));
    let shifted = ratio.shr(32);
    let rounded = if ratio.saturating_sub(shifted.shl(32)).is_zero() {
        shifted
    } else {
        shifted.saturating_add(U256::from_u128(1))
    };
    rounded.saturating_to_u128()
}

/// The tick of a U64F64 sqrt price: the largest tick `t` in [`TICK_INDEX_MIN`]…[`TICK_INDEX_MAX`]
/// with Uniswap's `getSqrtRatioAtTick(t) ≤ sqrt_price` (compared in Q64.96); prices below the
/// range give [`TICK_INDEX_MIN`], above it [`TICK_INDEX_MAX`] (`TickIndex::from_sqrt_price_bounded`).
pub fn tick_index(sqrt_price_bits: u128) -> i32 {
    let price_x96 = U256::from_u128(sqrt_price_bits).shl(32);
    let mut lo = TICK_INDEX_MIN;
    let mut hi = TICK_INDEX_MAX;
    if sqrt_ratio_x96_at_tick(lo) > price_x96 {
        return TICK_INDEX_MIN;
    }
    // Invariant: ratio(lo) ≤ price; the answer is in lo..=hi.
    while lo < hi {
        let mid = lo + (hi - lo + 1) / 2;
        if sqrt_ratio_x96_at_tick(mid) <= price_x96 {
            lo = mid;
        } else {
            hi = mid - 1;
        }
    }
    lo
}

#[cfg(test)]
mod tests {
    use super::*;

    fn u256(v: u128) -> U256 {
        U256::from_u128(v)
    }

    /// Oracle: the pallet's `test_get_sqrt_ratio_at_tick_values` (v3.1.6 `tick.rs` ~L1234, values
    /// checked there against Uniswap's Solidity).
    #[test]
    fn sqrt_ratio_matches_uniswap_values() {
        let max = UNISWAP_MAX_TICK as i32;
        assert_eq!(sqrt_ratio_x96_at_tick(-max), u256(4_295_128_739));
        assert_eq!(sqrt_ratio_x96_at_tick(-max + 1), u256(4_295_343_490));
        // 1461373636630004318706518188784493106690254656249
        assert_eq!(
            sqrt_ratio_x96_at_tick(max - 1),
            U256::from_parts(0xfffa_429f, 0xbf7b_aeed_2496_f0a9_f5cc_f2bb_4abf_52f9)
        );
        // 1461446703485210103287273052203988822378723970342
        assert_eq!(
            sqrt_ratio_x96_at_tick(max),
            U256::from_parts(0xfffd_8963, 0xefd1_fc6a_5064_8849_5d95_1d52_6398_8d26)
        );
        assert_eq!(sqrt_ratio_x96_at_tick(50), u256(79_426_470_787_362_580_746_886_972_461));
        assert_eq!(sqrt_ratio_x96_at_tick(100), u256(79_625_275_426_524_748_796_330_556_128));
        assert_eq!(sqrt_ratio_x96_at_tick(250), u256(80_224_679_980_005_306_637_834_519_095));
        assert_eq!(sqrt_ratio_x96_at_tick(0), u256(1 << 96));
    }

    #[test]
    fn sqrt_price_at_tick_zero_is_one() {
        assert_eq!(sqrt_price_at_tick(0), 1 << 64);
        assert_eq!(tick_index(1 << 64), 0);
        assert_eq!(tick_index((1 << 64) - 1), -1);
    }

    #[test]
    fn sqrt_price_at_tick_follows_1_0001() {
        for t in [-200_000, -1_000, -2, 2, 4, 10, 1_000, 150_000] {
            // exp(t/2 · ln(1.0001)); `1.0001_f64.powf` would carry 1.0001's representation error.
            let expected = (f64::from(t) / 2.0 * 0.0001_f64.ln_1p()).exp();
            let got = sqrt_price_at_tick(t) as f64 / 2f64.powi(64);
            assert!((got / expected - 1.0).abs() < 1e-12, "tick {t}: {got} vs {expected}");
        }
    }

    #[test]
    fn tick_index_round_trips() {
        for t in [-300_000, -12_345, -1, 0, 1, 2, 3, 999, 87_654, 300_000, TICK_INDEX_MAX] {
            let bits = sqrt_price_at_tick(t);
            assert_eq!(tick_index(bits), t, "tick {t}");
            assert_eq!(tick_index(bits - 1), t - 1, "just below tick {t}");
        }
        assert_eq!(tick_index(sqrt_price_at_tick(TICK_INDEX_MIN)), TICK_INDEX_MIN);
    }

    #[test]
    fn tick_index_clamps() {
        assert_eq!(tick_index(0), TICK_INDEX_MIN);
        assert_eq!(tick_index(1), TICK_INDEX_MIN);
        assert_eq!(tick_index(u128::MAX), TICK_INDEX_MAX);
        assert_eq!(sqrt_price_at_tick(i32::MAX), sqrt_price_at_tick(TICK_INDEX_MAX));
        assert_eq!(sqrt_price_at_tick(i32::MIN), sqrt_price_at_tick(TICK_INDEX_MIN));
    }
}
