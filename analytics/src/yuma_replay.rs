//! Yuma Consensus replay (`taoscope yuma --input FILE.json`): a sequence of epochs, each with its
//! stake and weights, run through the chain's epoch ([`taoscope_math::yuma`], in the chain's
//! `I32F32` fixed point) with bonds carried from one epoch to the next as the chain stores them.
//!
//! Inputs are quantised where the chain quantises: kappa, bonds penalty and liquid alpha bounds to
//! u16 proportions, the bonds moving average to millionths, each validator's weights to u16 after
//! max-upscaling (as `set_weights` stores them), stake (TAO) to rao. A weight listed as 0 stays in
//! the validator's row (its bond decays under Yuma 3); a miner left out of the row has none.
//!
//! Validator permits of an epoch are the input's `validator_permits` when given, else those the
//! previous epoch granted (top `max_validators` by stake), else, for the first epoch, the top
//! `max_validators` uids with non-zero stake — as if the subnet's previous epoch had this stake.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use taoscope_math::yuma::{
    BondsMask, BondsModel, EpochInput, I32F32, LiquidAlpha, OwnerRule, PermitRule, YumaParams, YumaRules,
    epoch_detailed, permits_by_stake,
};

/// Why an input cannot be replayed.
#[derive(Debug, thiserror::Error)]
pub enum ReplayError {
    /// Not the expected JSON shape.
    #[error("invalid input: {0}")]
    Json(#[from] serde_json::Error),
    /// A parameter out of its range.
    #[error("{name} must be {range}, got {value}")]
    Parameter {
        /// Which one.
        name: &'static str,
        /// What is allowed.
        range: &'static str,
        /// What was given.
        value: f64,
    },
    /// Something wrong inside one epoch.
    #[error("epoch {epoch}: {reason}")]
    Epoch {
        /// Index in `epochs`.
        epoch: usize,
        /// What is wrong.
        reason: String,
    },
}

/// Which Yuma.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Version {
    /// Bonds EMA of column-normalised stake-weighted weights (`Yuma3On = false`).
    Yuma2,
    /// Per-entry bonds EMA, dividends weighted by stake (`Yuma3On = true`).
    Yuma3,
}

/// Liquid alpha settings.
#[derive(Clone, Copy, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LiquidAlphaInput {
    /// Lower EMA factor in [0, 1].
    pub alpha_low: f64,
    /// Upper EMA factor in [alpha_low, 1].
    pub alpha_high: f64,
    /// Sigmoid steepness (the chain's `AlphaSigmoidSteepness`, e.g. 1000).
    pub steepness: f64,
}

/// One epoch's state.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct EpochSpec {
    /// Stake per uid (TAO); its length is the number of uids.
    pub stake: Vec<f64>,
    /// Each validator's weights: `{"<validator uid>": [[miner uid, weight], ...]}`.
    #[serde(default)]
    pub weights: BTreeMap<String, Vec<(u64, f64)>>,
    /// Permits for this epoch (else carried from the previous one).
    #[serde(default)]
    pub validator_permits: Option<Vec<bool>>,
    /// Uids whose bonds are reset before this epoch, as the chain's `do_reset_bonds` does when a
    /// subnet has `BondsResetOn` and the uid's hotkey resets: every bond on them is removed.
    #[serde(default)]
    pub reset_bonds: Vec<u64>,
}

/// The replay's input.
#[derive(Clone, Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReplayInput {
    /// Yuma 2 or Yuma 3.
    pub version: Version,
    /// Consensus majority in [0, 1] (chain default ≈ 0.5).
    pub kappa: f64,
    /// Bonds penalty in [0, 1]: 0 bonds follow raw weights, 1 clipped weights.
    pub bond_penalty: f64,
    /// Bonds moving average in [0, 1] (chain default 0.9; the EMA factor is 1 − this).
    pub bonds_moving_average: f64,
    /// Liquid alpha (Yuma 3 only), or null.
    #[serde(default)]
    pub liquid_alpha: Option<LiquidAlphaInput>,
    /// Validator permits granted per epoch (top stake).
    pub max_validators: u16,
    /// The epochs, in order.
    pub epochs: Vec<EpochSpec>,
}

/// One epoch's results; every vector has one entry per uid.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct EpochResult {
    /// Stake-weighted median weight per miner at kappa.
    pub consensus: Vec<f64>,
    /// Miner incentive (sums to 1, or all 0).
    pub incentive: Vec<f64>,
    /// Validator dividends (sums to 1, or all 0).
    pub dividends: Vec<f64>,
    /// Sum of each validator's clipped weights.
    pub validator_trust: Vec<f64>,
    /// Bonds after the epoch as the chain stores them, as proportions of 65535 (Yuma 2:
    /// column-max-upscaled; Yuma 3: the bond itself): `{"<validator uid>": [[uid, value], ...]}`.
    pub bonds: BTreeMap<String, Vec<(u16, f64)>>,
    /// Each uid's share of the epoch's emission.
    pub emission_share: Vec<f64>,
}

/// The replay's output.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ReplayOutput {
    /// One result per input epoch.
    pub epochs: Vec<EpochResult>,
}

/// Block of the first replayed epoch; epochs are `TEMPO + 1` blocks apart (no uid registers
/// during the replay, every validator's weights are fresh).
const FIRST_BLOCK: u64 = 1_000_000;
const TEMPO: u16 = 360;

/// Parses and replays `json`.
pub fn replay_json(json: &str) -> Result<ReplayOutput, ReplayError> {
    replay(&serde_json::from_str(json)?)
}

/// Replays every epoch of `input`, carrying bonds and permits.
pub fn replay(input: &ReplayInput) -> Result<ReplayOutput, ReplayError> {
    let params = params(input)?;
    let mut bonds: Vec<Vec<(u16, u16)>> = Vec::new();
    let mut permits: Option<Vec<bool>> = None;
    let mut out = Vec::with_capacity(input.epochs.len());
    for (index, spec) in input.epochs.iter().enumerate() {
        let bad = |reason: String| ReplayError::Epoch { epoch: index, reason };
        let n = spec.stake.len();
        if n == 0 || n > usize::from(u16::MAX) {
            return Err(bad(format!("stake must list 1 to 65535 uids, got {n}")));
        }
        let stake = stake_rao(&spec.stake).map_err(bad)?;
        let weights = weight_rows(&spec.weights, n).map_err(bad)?;
        bonds.resize(n, Vec::new());
        if let Some(uid) = spec.reset_bonds.iter().find(|&&u| u >= n as u64) {
            return Err(bad(format!("reset_bonds names uid {uid}, but there are {n} uids")));
        }
        for row in &mut bonds {
            row.retain(|(j, _)| !spec.reset_bonds.contains(&u64::from(*j)));
        }
        let previous_permits = match (&spec.validator_permits, &permits) {
            (Some(given), _) if given.len() != n => {
                return Err(bad(format!("validator_permits has {} entries for {n} uids", given.len())));
            }
            (Some(given), _) => given.clone(),
            (None, Some(carried)) => (0..n).map(|i| carried.get(i).copied().unwrap_or(false)).collect(),
            (None, None) => permits_by_stake::<I32F32>(&stake, input.max_validators),
        };
        let block = FIRST_BLOCK + index as u64 * (u64::from(TEMPO) + 1);
        let epoch_params = YumaParams {
            rules: YumaRules {
                bonds_mask: BondsMask::RegisteredSince(block - u64::from(TEMPO)),
                ..params.rules
            },
            ..params
        };
        let (output, proportions) = epoch_detailed::<I32F32>(&EpochInput {
            current_block: block,
            stake: &stake,
            weights: &weights,
            bonds: &bonds,
            last_update: &vec![block; n],
            block_at_registration: &vec![0; n],
            validator_permit: &previous_permits,
            params: epoch_params,
            emission: 1_000_000_000,
        });
        bonds = output.bonds;
        permits = Some(output.validator_permit);
        out.push(EpochResult {
            consensus: proportions.consensus,
            incentive: proportions.incentive,
            dividends: proportions.dividends,
            validator_trust: proportions.validator_trust,
            bonds: bonds
                .iter()
                .enumerate()
                .filter(|(_, row)| !row.is_empty())
                .map(|(i, row)| {
                    (
                        i.to_string(),
                        row.iter().map(|&(j, v)| (j, f64::from(v) / f64::from(u16::MAX))).collect(),
                    )
                })
                .collect(),
            emission_share: proportions.emission_share,
        });
    }
    Ok(ReplayOutput { epochs: out })
}

/// A proportion in [0, 1] as the chain's u16 (`x · 65535`, truncated).
fn u16_proportion(name: &'static str, x: f64) -> Result<u16, ReplayError> {
    if !(0.0..=1.0).contains(&x) {
        return Err(ReplayError::Parameter { name, range: "in [0, 1]", value: x });
    }
    // A hair above the product so that e.g. 0.3 · 65535 = 19660.4999… still gives 19660.
    Ok((x * f64::from(u16::MAX) + 1e-9).floor().min(f64::from(u16::MAX)) as u16)
}

fn params(input: &ReplayInput) -> Result<YumaParams, ReplayError> {
    if !(0.0..=1.0).contains(&input.bonds_moving_average) {
        return Err(ReplayError::Parameter {
            name: "bonds_moving_average",
            range: "in [0, 1]",
            value: input.bonds_moving_average,
        });
    }
    if input.max_validators == 0 {
        return Err(ReplayError::Parameter { name: "max_validators", range: "at least 1", value: 0.0 });
    }
    let liquid_alpha = match (input.version, input.liquid_alpha) {
        (_, None) => None,
        (Version::Yuma2, Some(_)) => {
            return Err(ReplayError::Parameter {
                name: "liquid_alpha",
                range: "null with yuma2 (the chain applies liquid alpha to Yuma 3 bonds)",
                value: f64::NAN,
            });
        }
        (Version::Yuma3, Some(l)) => {
            let alpha_low = u16_proportion("liquid_alpha.alpha_low", l.alpha_low)?;
            let alpha_high = u16_proportion("liquid_alpha.alpha_high", l.alpha_high)?;
            if alpha_high < alpha_low {
                return Err(ReplayError::Parameter {
                    name: "liquid_alpha.alpha_high",
                    range: "at least alpha_low",
                    value: l.alpha_high,
                });
            }
            if !(f64::from(i16::MIN)..=f64::from(i16::MAX)).contains(&l.steepness) {
                return Err(ReplayError::Parameter {
                    name: "liquid_alpha.steepness",
                    range: "in [-32768, 32767]",
                    value: l.steepness,
                });
            }
            Some(LiquidAlpha { alpha_low, alpha_high, steepness: l.steepness.round() as i16 })
        }
    };
    Ok(YumaParams {
        kappa: u16_proportion("kappa", input.kappa)?,
        bonds_moving_average: (input.bonds_moving_average * 1e6).round() as u64,
        bonds_penalty: u16_proportion("bond_penalty", input.bond_penalty)?,
        max_allowed_validators: input.max_validators,
        activity_cutoff: 5_000,
        stake_threshold: 0,
        rules: YumaRules {
            permit_rule: PermitRule::TopKNonzero,
            bonds_mask: BondsMask::RegisteredSince(0),
            owner: OwnerRule::None,
        },
        bonds_model: match input.version {
            Version::Yuma2 => BondsModel::Yuma2,
            Version::Yuma3 => BondsModel::Yuma3 { liquid_alpha },
        },
    })
}

/// Stake in TAO to rao.
fn stake_rao(stake: &[f64]) -> Result<Vec<u64>, String> {
    stake
        .iter()
        .enumerate()
        .map(|(uid, &s)| {
            let rao = s * 1e9;
            if s.is_finite() && s >= 0.0 && rao < u64::MAX as f64 {
                Ok(rao.round() as u64)
            } else {
                Err(format!("stake of uid {uid} must be a finite non-negative TAO amount, got {s}"))
            }
        })
        .collect()
}

/// Weight rows as `set_weights` stores them: max-upscaled to u16, sorted by miner uid.
fn weight_rows(
    weights: &BTreeMap<String, Vec<(u64, f64)>>,
    n: usize,
) -> Result<Vec<Vec<(u16, u16)>>, String> {
    let mut rows = vec![Vec::new(); n];
    for (validator, row) in weights {
        let uid: usize = validator
            .parse()
            .ok()
            .filter(|&u: &usize| u < n)
            .ok_or_else(|| format!("weights key {validator:?} is not a uid below {n}"))?;
        let mut max = 0.0f64;
        for &(miner, w) in row {
            if miner >= n as u64 {
                return Err(format!("validator {uid} weights miner {miner}, but there are {n} uids"));
            }
            if !w.is_finite() || w < 0.0 {
                return Err(format!(
                    "validator {uid}'s weight for miner {miner} must be finite and ≥ 0, got {w}"
                ));
            }
            max = max.max(w);
        }
        let mut quantised: Vec<(u16, u16)> = row
            .iter()
            .map(|&(miner, w)| {
                let q = if max > 0.0 { (w / max * f64::from(u16::MAX)).round() as u16 } else { 0 };
                (miner as u16, q)
            })
            .collect();
        quantised.sort_by_key(|&(miner, _)| miner);
        if quantised.windows(2).any(|pair| pair[0].0 == pair[1].0) {
            return Err(format!("validator {uid} lists a miner twice"));
        }
        rows[uid] = quantised;
    }
    Ok(rows)
}
