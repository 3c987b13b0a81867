//! Yuma Consensus epoch: "Yuma 2" (`Yuma3On = false`, the default through the eras we simulate)
//! and "Yuma 3".
//!
//! Follows `epoch` in `epoch/run_epoch.rs` of v2.0.0 (spec 233) and its successors up to spec 422
//! (rule changes in [`params`]). Steps, per CHAIN.md §3.4:
//!
//! 1. activity: `LastUpdate + activity_cutoff ≥ block`;
//! 2. stake: `StakeThreshold` filter, normalised (`S`);
//! 3. new validator permits (top-k stake); active stake = `S` masked by inactivity and by the
//!    *previous* permits, normalised;
//! 4. weights: rows of non-permitted uids dropped, diagonal dropped (owner excepted from spec 252),
//!    weights set before the target's registration dropped, rows normalised;
//! 5. consensus = stake-weighted median per column at κ;
//! 6. weights clipped at consensus; validator trust = row sums of clipped weights;
//! 7. ranks = clippedᵀ·active stake, normalised = incentive; trust = rank / pre-clip rank;
//! 8. bonds: `ΔB = (W + β(W̄ − W)) ∘ S` column-normalised, EMA with `1 − bma/1e6` against the masked,
//!    column-normalised stored bonds, column-normalised; dividends = `B · I` normalised;
//! 9. emission: server `I/Σ(I+D)`, validator `D/Σ(I+D)` of the epoch emission; when `Σ = 0`
//!    validators get active stake (or stake, if no active stake).
//!
//! [`epoch`] computes in `f64`: normalised vectors agree with the chain's `I32F32` to ~1e-6, u16
//! outputs and stored bonds to a unit, rao amounts to ~1e-5 relative (the chain's truncations of
//! stored bonds accumulate; `test_bonds`: ≤ 2_074 of 1e9 rao). [`epoch_with::<I32F32>`](epoch_with)
//! reproduces the chain's fixed-point arithmetic bit for bit (liquid alpha's `exp` aside, taken
//! in `f64`). Yuma 3 ([`BondsModel::Yuma3`], HEAD `Yuma3On`) replaces step 8: bonds kept as
//! proportions, `B ← (1 − α)·B + α·W_b` clamped at 1 (per entry with liquid alpha), dividends
//! `(B̂ · I) ∘ active stake` normalised. Not modelled: commit-reveal column masks (pass revealed
//! weights), and stake composition (pass the stake the chain would use:
//! alpha + TaoWeight·root, with child/parent inheritance already applied).

pub mod params;

mod fixed32;
mod median;
mod scalar;
mod sparse;
mod vector;

pub use fixed32::I32F32;
pub use params::{BondsMask, BondsModel, LiquidAlpha, OwnerRule, PermitRule, YumaParams, YumaRules};
pub use scalar::Scalar;

use sparse::SparseMatrix;

/// One subnet's state at an epoch. Every per-uid slice should have `stake.len()` entries; shorter
/// slices are padded with defaults, longer ones truncated.
#[derive(Clone, Copy, Debug)]
pub struct EpochInput<'a> {
    /// The block the epoch runs in.
    pub current_block: u64,
    /// Stake per uid in rao, as the chain weighs it.
    pub stake: &'a [u64],
    /// `Weights` rows: `(dest uid, u16 weight)`, row-max-upscaled as stored.
    pub weights: &'a [Vec<(u16, u16)>],
    /// `Bonds` rows: `(dest uid, u16 bond)`, column-max-upscaled as stored.
    pub bonds: &'a [Vec<(u16, u16)>],
    /// `LastUpdate` per uid (block of the last `set_weights`).
    pub last_update: &'a [u64],
    /// `BlockAtRegistration` per uid.
    pub block_at_registration: &'a [u64],
    /// `ValidatorPermit` per uid from the previous epoch.
    pub validator_permit: &'a [bool],
    /// Hyperparameters and runtime rules.
    pub params: YumaParams,
    /// Alpha (rao) distributed this epoch among miners and validators.
    pub emission: u64,
}

/// Everything the epoch writes back. All vectors have one entry per uid; u16 values are
/// proportions (`x · 65535` truncated) unless noted.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochOutput {
    /// `Active`.
    pub active: Vec<bool>,
    /// `StakeWeight` (normalised stake).
    pub stake_weight: Vec<u16>,
    /// `Rank` (normalised ranks; equal to incentive).
    pub rank: Vec<u16>,
    /// `Trust` (rank after clipping / rank before).
    pub trust: Vec<u16>,
    /// `Consensus`.
    pub consensus: Vec<u16>,
    /// `Incentive`.
    pub incentive: Vec<u16>,
    /// `Dividends`.
    pub dividends: Vec<u16>,
    /// `ValidatorTrust`.
    pub validator_trust: Vec<u16>,
    /// New `ValidatorPermit`.
    pub validator_permit: Vec<bool>,
    /// `PruningScores` (normalised combined emission, max-upscaled to 65535 and rounded).
    pub pruning_scores: Vec<u16>,
    /// `Bonds` rows to store: column-max-upscaled EMA bonds for newly permitted uids, empty rows
    /// for uids that lost their permit, and the input row unchanged for the rest (the chain does
    /// not write those).
    pub bonds: Vec<Vec<(u16, u16)>>,
    /// Miner (incentive) emission per uid, rao.
    pub server_emission: Vec<u64>,
    /// Validator (dividend) emission per uid, rao.
    pub validator_emission: Vec<u64>,
    /// `Emission`: normalised `(I + D)` of the epoch emission, rao.
    pub emission: Vec<u64>,
}

/// Runs one epoch in `f64`.
pub fn epoch(input: &EpochInput<'_>) -> EpochOutput {
    epoch_with::<f64>(input)
}

/// The validator permits an epoch grants on `stake` (rao): the `max_validators` largest non-zero
/// normalised stakes (spec ≥ 273 rule; ties drop the lower uid), computed in `S`.
pub fn permits_by_stake<S: Scalar>(stake: &[u64], max_validators: u16) -> Vec<bool> {
    vector::top_k(&S::normalized_stake(stake), usize::from(max_validators), true)
}

/// Pads or truncates a per-uid slice to `n` entries.
fn per_uid<T: Copy + Default>(values: &[T], n: usize) -> Vec<T> {
    (0..n).map(|i| values.get(i).copied().unwrap_or_default()).collect()
}

/// The epoch's normalised vectors at full precision (the chain stores them as u16).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct EpochProportions {
    /// Consensus per uid.
    pub consensus: Vec<f64>,
    /// Incentive per uid (sums to 1, or all 0).
    pub incentive: Vec<f64>,
    /// Dividends per uid (sums to 1, or all 0).
    pub dividends: Vec<f64>,
    /// Validator trust per uid.
    pub validator_trust: Vec<f64>,
    /// Each uid's share of the epoch emission (normalised `I + D`, or the stake fallback).
    pub emission_share: Vec<f64>,
}

/// Runs one epoch in the number type `S` (`f64`, or [`I32F32`] for the chain's exact
/// fixed-point results).
pub fn epoch_with<S: Scalar>(input: &EpochInput<'_>) -> EpochOutput {
    epoch_detailed::<S>(input).0
}

/// Runs one epoch in `S` and also returns its normalised vectors at full precision.
pub fn epoch_detailed<S: Scalar>(input: &EpochInput<'_>) -> (EpochOutput, EpochProportions) {
    let n = input.stake.len();
    let params = &input.params;
    let rules = &params.rules;
    let last_update = per_uid(input.last_update, n);
    let registered = per_uid(input.block_at_registration, n);

    // 1. Activity.
    let inactive: Vec<bool> = last_update
        .iter()
        .map(|&updated| updated.saturating_add(params.activity_cutoff) < input.current_block)
        .collect();
    let active: Vec<bool> = inactive.iter().map(|&b| !b).collect();

    // 2. Stake, filtered by the threshold (the privileged owner is exempt), normalised.
    let privileged = rules.owner.privileged_uid();
    let filtered_stake: Vec<u64> = (0..n)
        .map(|i| {
            let s = input.stake[i];
            if Some(i) != privileged && s < params.stake_threshold { 0 } else { s }
        })
        .collect();
    let stake: Vec<S> = S::normalized_stake(&filtered_stake);

    // 3. Permits: previous ones gate this epoch's weights, new ones are stored.
    let mut permits = per_uid(input.validator_permit, n);
    let nonzero = rules.permit_rule == PermitRule::TopKNonzero;
    let mut new_permits = vector::top_k(&stake, usize::from(params.max_allowed_validators), nonzero);
    if let Some(owner) = privileged.filter(|&uid| uid < n) {
        permits[owner] = true;
        new_permits[owner] = true;
    }
    let forbids: Vec<bool> = permits.iter().map(|&p| !p).collect();
    let mut active_stake = stake.clone();
    vector::mask(&inactive, &mut active_stake);
    vector::mask(&forbids, &mut active_stake);
    vector::normalize(&mut active_stake);

    // 4. Weights.
    let mut weights = SparseMatrix::<S>::from_u16_rows(input.weights, n)
        .mask_rows(&forbids)
        .mask_diag(rules.owner.uid())
        .mask_pairs(&last_update, &registered, |updated, reg| updated <= reg);
    weights.row_normalize();

    // 5–7. Consensus, clipping, trust, ranks, incentive.
    let preranks = weights.matmul(&active_stake);
    let consensus = median::weighted_median_columns(&active_stake, &weights, S::proportion_u16(params.kappa));
    let clipped = weights.col_clip(&consensus);
    let validator_trust = clipped.row_sums();
    let mut ranks = clipped.matmul(&active_stake);
    let trust = vector::divide(&ranks, &preranks);
    vector::normalize(&mut ranks);
    let incentive = ranks.clone();

    // 8. Bonds and dividends.
    let weights_for_bonds = weights.interpolate(&clipped, S::proportion_u16(params.bonds_penalty));
    let registered_since = |stored: SparseMatrix<S>| match rules.bonds_mask {
        BondsMask::ValidatorLastUpdate => stored.mask_pairs(&last_update, &registered, |u, r| u <= r),
        BondsMask::RegisteredSince(block) => {
            let last_epoch = vec![block; n];
            stored.mask_pairs(&last_epoch, &registered, |b, r| b <= r)
        }
    };
    let (dividends, ema_bonds) = match params.bonds_model {
        BondsModel::Yuma2 => {
            let mut bonds = registered_since(SparseMatrix::<S>::from_u16_rows(input.bonds, n));
            bonds.col_normalize();
            let mut bonds_delta = weights_for_bonds.row_hadamard(&active_stake);
            bonds_delta.col_normalize();
            let mut ema_bonds =
                SparseMatrix::ema(&bonds_delta, &bonds, S::bonds_ema_alpha(params.bonds_moving_average));
            ema_bonds.col_normalize();
            let mut dividends = ema_bonds.matmul_transpose(&incentive);
            vector::normalize(&mut dividends);
            // Stored column-max-upscaled.
            ema_bonds.col_max_upscale();
            (dividends, ema_bonds)
        }
        BondsModel::Yuma3 { liquid_alpha } => {
            let bonds = registered_since(SparseMatrix::<S>::from_u16_proportion_rows(input.bonds, n));
            let ema_bonds = match liquid_alpha {
                Some(liquid) if consensus.iter().any(|&c| c != S::ZERO) => {
                    SparseMatrix::ema_per_entry(&weights_for_bonds, &bonds, |i| {
                        let w = weights_for_bonds.dense_row(&weights_for_bonds.rows()[i]);
                        let b = bonds.dense_row(&bonds.rows()[i]);
                        (0..n).map(|j| liquid_alpha_value(&liquid, consensus[j], w[j], b[j])).collect()
                    })
                }
                _ => SparseMatrix::ema(
                    &weights_for_bonds,
                    &bonds,
                    S::bonds_ema_alpha(params.bonds_moving_average),
                ),
            };
            let mut normalized = ema_bonds.clone();
            normalized.col_normalize();
            let per_validator = normalized.matmul_transpose(&incentive);
            let mut dividends: Vec<S> =
                per_validator.iter().zip(&active_stake).map(|(&b, &s)| b.times(s)).collect();
            vector::normalize(&mut dividends);
            // Stored as proportions.
            (dividends, ema_bonds)
        }
    };

    // 9. Emission.
    let combined: Vec<S> = incentive.iter().zip(&dividends).map(|(&i, &d)| i.plus(d)).collect();
    let emission_sum = vector::sum(&combined);
    let mut server_share = incentive.clone();
    let mut validator_share = dividends.clone();
    let mut combined_share = combined;
    vector::divide_by(&mut server_share, emission_sum);
    vector::divide_by(&mut validator_share, emission_sum);
    vector::normalize(&mut combined_share);
    if emission_sum == S::ZERO {
        // No weights, outdated weights or only self-weights: pay validators by stake.
        let fallback = if vector::is_zero(&active_stake) { &stake } else { &active_stake };
        validator_share.clone_from(fallback);
        combined_share.clone_from(fallback);
    }
    let rao = |shares: &[S]| -> Vec<u64> { shares.iter().map(|s| s.share_of(input.emission)).collect() };

    // Bonds to store.
    let stored: Vec<Vec<(u16, u16)>> = (0..n)
        .map(|i| {
            if new_permits[i] {
                ema_bonds.rows()[i].iter().map(|&(j, v)| (j, v.to_u16_proportion())).collect()
            } else if permits[i] {
                Vec::new()
            } else {
                input.bonds.get(i).cloned().unwrap_or_default()
            }
        })
        .collect();

    let to_u16 = |x: &[S]| -> Vec<u16> { x.iter().map(|v| v.to_u16_proportion()).collect() };
    let to_f64 = |x: &[S]| -> Vec<f64> { x.iter().map(|v| v.to_f64()).collect() };
    let proportions = EpochProportions {
        consensus: to_f64(&consensus),
        incentive: to_f64(&incentive),
        dividends: to_f64(&dividends),
        validator_trust: to_f64(&validator_trust),
        emission_share: to_f64(&combined_share),
    };
    let output = EpochOutput {
        active,
        stake_weight: to_u16(&stake),
        rank: to_u16(&ranks),
        trust: to_u16(&trust),
        consensus: to_u16(&consensus),
        incentive: to_u16(&incentive),
        dividends: to_u16(&dividends),
        validator_trust: to_u16(&validator_trust),
        validator_permit: new_permits,
        pruning_scores: vector::max_upscale_to_u16(&combined_share),
        bonds: stored,
        server_emission: rao(&server_share),
        validator_emission: rao(&validator_share),
        emission: rao(&combined_share),
    };
    (output, proportions)
}

/// Liquid alpha's EMA factor for one validator–miner pair (`alpha_sigmoid`): the distance the
/// weight is ahead of consensus when buying (weight ≥ bond) or behind the bond when selling,
/// through a sigmoid centred at 0.5, mapped into `[alpha_low, alpha_high]`. The chain's `exp` is
/// taken in `f64` (clamped to ±20 like `exp_safe`).
fn liquid_alpha_value<S: Scalar>(liquid: &LiquidAlpha, consensus: S, weight: S, bond: S) -> S {
    let clamp = |x: S, lo: S, hi: S| {
        if x < lo {
            lo
        } else if x > hi {
            hi
        } else {
            x
        }
    };
    let diff = if weight >= bond {
        clamp(weight.minus(consensus), S::ZERO, S::ONE)
    } else {
        clamp(bond.minus(weight), S::ZERO, S::ONE)
    };
    let (low, high) = (S::proportion_u16(liquid.alpha_low), S::proportion_u16(liquid.alpha_high));
    let exponent = (-f64::from(liquid.steepness) / 100.0 * (diff.to_f64() - 0.5)).clamp(-20.0, 20.0);
    let sigmoid = S::ONE.over(S::ONE.plus(S::from_f64(exponent.exp())));
    clamp(low.plus(sigmoid.times(high.minus(low))), low, high)
}
