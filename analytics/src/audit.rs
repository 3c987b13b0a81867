//! The Yuma audit: each indexed epoch replayed from what the epoch read (the parent block's
//! stake, weights, bonds, permits, last updates and registrations, with the subnet's recorded
//! hyperparameters) through the chain's epoch ([`taoscope_math::yuma`], in the chain's `I32F32`),
//! and compared with the Incentive and Dividends the chain wrote.
//!
//! Where the runtime has no item for a hyperparameter the runtime's default is used. On finney
//! the chain weighs stake as alpha plus `TaoWeight` × root stake (with child-key adjustments);
//! the indexed stake is the hotkey's alpha on the subnet, so real deviations are expected and
//! are what the audit is for.

use taoscope_math::yuma::{BondsModel, EpochInput, I32F32, LiquidAlpha, YumaParams, YumaRules, epoch_with};
use taoscope_schema::EpochParams;

/// One uid of an indexed epoch.
#[derive(Clone, Debug, Default)]
pub struct AuditUid {
    /// Uid.
    pub uid: u16,
    /// Hotkey at the epoch block.
    pub hotkey: String,
    /// `TotalHotkeyAlpha` at the parent block.
    pub stake: Option<u64>,
    /// `LastUpdate` at the parent block.
    pub last_update: Option<u64>,
    /// `ValidatorPermit` at the parent block.
    pub permit: Option<bool>,
    /// `BlockAtRegistration`.
    pub registered_at: Option<u64>,
    /// Weights row at the parent block.
    pub weights: Vec<(u16, u16)>,
    /// Bonds row at the parent block.
    pub bonds: Vec<(u16, u16)>,
    /// The chain's `Incentive` after the epoch.
    pub incentive: Option<u16>,
    /// The chain's `Dividends` after the epoch.
    pub dividends: Option<u16>,
}

/// An indexed epoch.
#[derive(Clone, Debug, Default)]
pub struct AuditEpoch {
    /// Subnet.
    pub netuid: u16,
    /// The block the epoch ran in.
    pub block: u64,
    /// The runtime that executed it.
    pub spec_version: u32,
    /// Recorded hyperparameters.
    pub params: EpochParams,
    /// Its uids (any order).
    pub uids: Vec<AuditUid>,
}

/// The audit of one epoch (a `yuma_audit` row).
#[derive(Clone, Debug, PartialEq)]
pub struct AuditResult {
    /// Uids in the epoch.
    pub uids: usize,
    /// Uids with a validator permit going into the epoch.
    pub validators: usize,
    /// `yuma2` | `yuma3` | `yuma3+liquid_alpha`.
    pub bonds_model: &'static str,
    /// Deviation allowed (proportion).
    pub tolerance: f64,
    /// Largest |replayed − chain| incentive (proportion).
    pub max_incentive_dev: Option<f64>,
    /// Largest |replayed − chain| dividends.
    pub max_dividends_dev: Option<f64>,
    /// The larger of the two.
    pub max_deviation: Option<f64>,
    /// Uids beyond `tolerance` in either.
    pub uids_beyond: Vec<u16>,
    /// `exact` | `within` | `deviates` | `skipped`.
    pub status: &'static str,
    /// Why skipped, or which defaults stood in for missing hyperparameters.
    pub note: Option<String>,
}

/// The Yuma parameters of an epoch: recorded values, else the runtime's defaults.
pub fn params_for(e: &AuditEpoch, owner_uid: Option<u16>) -> (YumaParams, Vec<&'static str>) {
    let p = &e.params;
    let mut defaulted = Vec::new();
    let mut pick = |v: Option<u64>, default: u64, name: &'static str| {
        v.unwrap_or_else(|| {
            defaulted.push(name);
            default
        })
    };
    let base = YumaParams::V2_0_0;
    let tempo = pick(p.tempo.map(u64::from), 360, "tempo") as u16;
    let penalty_default = if e.spec_version >= 283 { u64::from(u16::MAX) } else { 0 };
    let params = YumaParams {
        kappa: pick(p.kappa.map(u64::from), u64::from(base.kappa), "kappa") as u16,
        bonds_moving_average: pick(p.bonds_moving_average, base.bonds_moving_average, "bonds_moving_average"),
        activity_cutoff: pick(p.activity_cutoff.map(u64::from), base.activity_cutoff, "activity_cutoff"),
        max_allowed_validators: pick(
            p.max_allowed_validators.map(u64::from),
            u64::from(base.max_allowed_validators),
            "max_allowed_validators",
        ) as u16,
        bonds_penalty: pick(p.bonds_penalty.map(u64::from), penalty_default, "bonds_penalty") as u16,
        stake_threshold: p.stake_threshold.unwrap_or(0),
        rules: YumaRules::for_spec(e.spec_version, e.block, tempo, owner_uid),
        bonds_model: match (p.yuma3, p.liquid_alpha) {
            (Some(true), Some(true)) => {
                let (alpha_low, alpha_high) = p.alpha_values.unwrap_or((45_875, 58_982));
                BondsModel::Yuma3 {
                    liquid_alpha: Some(LiquidAlpha {
                        alpha_low,
                        alpha_high,
                        steepness: p.alpha_steepness.unwrap_or(1000),
                    }),
                }
            }
            (Some(true), _) => BondsModel::Yuma3 { liquid_alpha: None },
            _ => BondsModel::Yuma2,
        },
    };
    (params, defaulted)
}

/// Replays `e` and compares it with the chain's values.
pub fn audit(e: &AuditEpoch, tolerance: f64) -> AuditResult {
    let n = e.uids.iter().map(|u| usize::from(u.uid) + 1).max().unwrap_or(0);
    let skipped = |note: &str| AuditResult {
        uids: e.uids.len(),
        validators: 0,
        bonds_model: "yuma2",
        tolerance,
        max_incentive_dev: None,
        max_dividends_dev: None,
        max_deviation: None,
        uids_beyond: vec![],
        status: "skipped",
        note: Some(note.to_owned()),
    };
    if e.uids.is_empty() {
        return skipped("no uids");
    }
    if e.uids.iter().all(|u| u.stake.is_none() && u.last_update.is_none()) {
        return skipped("the epoch's inputs were not indexed (rows written before schema 0004)");
    }
    let mut stake = vec![0u64; n];
    let mut weights = vec![Vec::new(); n];
    let mut bonds = vec![Vec::new(); n];
    let mut last_update = vec![0u64; n];
    let mut registered = vec![0u64; n];
    let mut permit = vec![false; n];
    for u in &e.uids {
        let i = usize::from(u.uid);
        stake[i] = u.stake.unwrap_or(0);
        weights[i] = u.weights.clone();
        bonds[i] = u.bonds.clone();
        last_update[i] = u.last_update.unwrap_or(0);
        registered[i] = u.registered_at.unwrap_or(0);
        permit[i] = u.permit.unwrap_or(false);
    }
    let owner_uid =
        e.params.owner_hotkey.as_ref().and_then(|h| e.uids.iter().find(|u| &u.hotkey == h)).map(|u| u.uid);
    let (params, defaulted) = params_for(e, owner_uid);
    let out = epoch_with::<I32F32>(&EpochInput {
        current_block: e.block,
        stake: &stake,
        weights: &weights,
        bonds: &bonds,
        last_update: &last_update,
        block_at_registration: &registered,
        validator_permit: &permit,
        params,
        emission: 0,
    });
    let (mut max_i, mut max_d) = (0.0f64, 0.0f64);
    let mut beyond = Vec::new();
    for u in &e.uids {
        let i = usize::from(u.uid);
        let dev = |chain: Option<u16>, replayed: u16| {
            chain.map(|c| (f64::from(c) - f64::from(replayed)).abs() / 65_535.0).unwrap_or(0.0)
        };
        let (di, dd) = (dev(u.incentive, out.incentive[i]), dev(u.dividends, out.dividends[i]));
        max_i = max_i.max(di);
        max_d = max_d.max(dd);
        if di > tolerance || dd > tolerance {
            beyond.push(u.uid);
        }
    }
    let max = max_i.max(max_d);
    let status = if max == 0.0 {
        "exact"
    } else if beyond.is_empty() {
        "within"
    } else {
        "deviates"
    };
    AuditResult {
        uids: e.uids.len(),
        validators: permit.iter().filter(|p| **p).count(),
        bonds_model: match params.bonds_model {
            BondsModel::Yuma2 => "yuma2",
            BondsModel::Yuma3 { liquid_alpha: None } => "yuma3",
            BondsModel::Yuma3 { liquid_alpha: Some(_) } => "yuma3+liquid_alpha",
        },
        tolerance,
        max_incentive_dev: Some(max_i),
        max_dividends_dev: Some(max_d),
        max_deviation: Some(max),
        uids_beyond: beyond,
        status,
        note: (!defaulted.is_empty()).then(|| format!("runtime defaults for: {}", defaulted.join(", "))),
    }
}
