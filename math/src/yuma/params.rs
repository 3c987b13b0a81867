//! Hyperparameters and per-runtime rules of the Yuma epoch.
//!
//! The Yuma 2 pipeline kept its shape from v2.0.0 to HEAD, but a few rules changed
//! (read from `epoch/run_epoch.rs` at each release tag):
//!
//! | spec | change |
//! |---|---|
//! | 233 (v2.0.0) | baseline: permits = top-k stake (`is_topk`), bonds masked per validator `LastUpdate`, `BondsPenalty` default 0 |
//! | 252 (v2.0.8) | the subnet owner's uid keeps its self-weight |
//! | 257 (v2.0.9) | bonds masked for neurons registered since the last epoch (`current_block − tempo`) |
//! | 273 (v3.1.0) | permits only for nonzero stake (`is_topk_nonzero`); `StakeThreshold` zeroes small stakes |
//! | 283 (v3.1.6) | `BondsPenalty` default 65535 |
//! | 401 (v3.3.14) | owner uid always permitted and exempt from `StakeThreshold` |
//! | 423 (v3.4.8) | last-epoch block = `LastMechansimStepBlock + 1` (not modelled by [`YumaRules::for_spec`]) |

/// How new validator permits are chosen from normalised stake.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum PermitRule {
    /// The `max_allowed_validators` largest stakes, zero stakes included (spec < 273).
    TopK,
    /// As [`PermitRule::TopK`] but never for zero stake (spec ≥ 273).
    TopKNonzero,
}

/// Which stored bonds are dropped before the EMA (bonds to re-registered uids).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BondsMask {
    /// Drop bond `(i, j)` when validator `i`'s `LastUpdate ≤ BlockAtRegistration_j` (spec < 257).
    ValidatorLastUpdate,
    /// Drop bond `(i, j)` when the given last-epoch block `≤ BlockAtRegistration_j` (spec ≥ 257;
    /// the chain passes `current_block − tempo`, from spec 423 `LastMechansimStepBlock + 1`).
    RegisteredSince(u64),
}

/// Special treatment of the subnet owner's uid.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum OwnerRule {
    /// None (spec < 252, or no owner uid).
    None,
    /// The owner's self-weight is kept (spec 252 … 393).
    SelfWeight(u16),
    /// Self-weight kept, always permitted, exempt from the stake threshold (spec ≥ 401).
    Privileged(u16),
}

impl OwnerRule {
    /// The owner's uid, if it gets any special treatment.
    pub fn uid(self) -> Option<usize> {
        match self {
            Self::None => None,
            Self::SelfWeight(uid) | Self::Privileged(uid) => Some(usize::from(uid)),
        }
    }

    /// Whether the owner is always permitted and exempt from the stake threshold.
    pub fn privileged_uid(self) -> Option<usize> {
        match self {
            Self::Privileged(uid) => Some(usize::from(uid)),
            Self::None | Self::SelfWeight(_) => None,
        }
    }
}

/// The runtime-dependent rules of one epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct YumaRules {
    /// Permit selection.
    pub permit_rule: PermitRule,
    /// Bond masking for re-registered uids.
    pub bonds_mask: BondsMask,
    /// Subnet owner privileges.
    pub owner: OwnerRule,
}

impl YumaRules {
    /// The v2.0.0 (spec 233) rules.
    pub const V2_0_0: Self = Self {
        permit_rule: PermitRule::TopK,
        bonds_mask: BondsMask::ValidatorLastUpdate,
        owner: OwnerRule::None,
    };

    /// The rules of runtime `spec_version` (valid up to spec 422) for an epoch at `current_block` on
    /// a subnet with `tempo` whose owner hotkey has `owner_uid`.
    pub fn for_spec(spec_version: u32, current_block: u64, tempo: u16, owner_uid: Option<u16>) -> Self {
        let permit_rule = if spec_version >= 273 { PermitRule::TopKNonzero } else { PermitRule::TopK };
        let bonds_mask = if spec_version >= 257 {
            BondsMask::RegisteredSince(current_block.saturating_sub(u64::from(tempo)))
        } else {
            BondsMask::ValidatorLastUpdate
        };
        let owner = match owner_uid {
            Some(uid) if spec_version >= 401 => OwnerRule::Privileged(uid),
            Some(uid) if spec_version >= 252 => OwnerRule::SelfWeight(uid),
            _ => OwnerRule::None,
        };
        Self { permit_rule, bonds_mask, owner }
    }
}

/// Liquid alpha (`LiquidAlphaOn`): a bonds EMA factor per validator–miner pair, from a sigmoid
/// of how far the validator's weight is ahead of consensus (buying) or behind its bond (selling).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct LiquidAlpha {
    /// `AlphaValues.0` as a u16 proportion (default 45_875 ≈ 0.7).
    pub alpha_low: u16,
    /// `AlphaValues.1` as a u16 proportion (default 58_982 ≈ 0.9).
    pub alpha_high: u16,
    /// `AlphaSigmoidSteepness` (default 1000).
    pub steepness: i16,
}

/// How bonds evolve and pay dividends.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BondsModel {
    /// Yuma 2 (`Yuma3On = false`): `ΔB = W_b ∘ S` column-normalised, one EMA factor, bonds stored
    /// column-max-upscaled, dividends `B · I`.
    Yuma2,
    /// Yuma 3 (`Yuma3On = true`): bonds kept as proportions, `B ← (1 − α)·B + α·W_b` clamped at 1
    /// (per entry with liquid alpha, else `α = 1 − bma`), dividends `(B̂ · I) ∘ active stake`.
    Yuma3 {
        /// Liquid alpha when `LiquidAlphaOn`.
        liquid_alpha: Option<LiquidAlpha>,
    },
}

/// Subnet hyperparameters used by the epoch, plus the runtime rules.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct YumaParams {
    /// `Kappa`, the consensus majority as a u16 proportion (default 32_767 ≈ 0.5).
    pub kappa: u16,
    /// `BondsMovingAverage` in millionths (default 900_000 ⇒ EMA factor 0.1).
    pub bonds_moving_average: u64,
    /// `ActivityCutoff` in blocks (default 5000): a uid whose `LastUpdate + cutoff < block` is inactive.
    pub activity_cutoff: u64,
    /// `MaxAllowedValidators` (default 128).
    pub max_allowed_validators: u16,
    /// `BondsPenalty` as a u16 proportion: 0 ⇒ bonds follow raw weights, 65535 ⇒ clipped weights.
    pub bonds_penalty: u16,
    /// `StakeThreshold` in rao: smaller stakes count as 0 (spec ≥ 273; default 0).
    pub stake_threshold: u64,
    /// Runtime-dependent rules.
    pub rules: YumaRules,
    /// Yuma 2 or Yuma 3 bonds.
    pub bonds_model: BondsModel,
}

impl YumaParams {
    /// Defaults of v2.0.0 (spec 233).
    pub const V2_0_0: Self = Self {
        kappa: 32_767,
        bonds_moving_average: 900_000,
        activity_cutoff: 5_000,
        max_allowed_validators: 128,
        bonds_penalty: 0,
        stake_threshold: 0,
        rules: YumaRules::V2_0_0,
        bonds_model: BondsModel::Yuma2,
    };

    /// Defaults of v3.1.6 (spec 283): bonds penalty 65535 and the spec-283 rules for an epoch at
    /// `current_block` with `tempo` (owner without special treatment).
    pub fn v3_1_6(current_block: u64, tempo: u16) -> Self {
        Self {
            bonds_penalty: u16::MAX,
            rules: YumaRules::for_spec(283, current_block, tempo, None),
            ..Self::V2_0_0
        }
    }
}

impl Default for YumaParams {
    fn default() -> Self {
        Self::V2_0_0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_by_spec() {
        assert_eq!(YumaRules::for_spec(233, 1_000, 360, Some(3)), YumaRules::V2_0_0);
        let r = YumaRules::for_spec(252, 1_000, 360, Some(3));
        assert_eq!((r.bonds_mask, r.owner), (BondsMask::ValidatorLastUpdate, OwnerRule::SelfWeight(3)));
        let r = YumaRules::for_spec(283, 1_000, 360, Some(3));
        assert_eq!(r.permit_rule, PermitRule::TopKNonzero);
        assert_eq!(r.bonds_mask, BondsMask::RegisteredSince(640));
        let r = YumaRules::for_spec(401, 100, 360, Some(3));
        assert_eq!((r.bonds_mask, r.owner), (BondsMask::RegisteredSince(0), OwnerRule::Privileged(3)));
        assert_eq!(YumaRules::for_spec(401, 100, 360, None).owner, OwnerRule::None);
        assert_eq!(OwnerRule::Privileged(7).privileged_uid(), Some(7));
        assert_eq!(OwnerRule::SelfWeight(7).privileged_uid(), None);
        assert_eq!(OwnerRule::SelfWeight(7).uid(), Some(7));
    }

    #[test]
    fn presets() {
        assert_eq!(YumaParams::default(), YumaParams::V2_0_0);
        let p = YumaParams::v3_1_6(10_000, 360);
        assert_eq!(p.bonds_penalty, u16::MAX);
        assert_eq!(p.rules.bonds_mask, BondsMask::RegisteredSince(9_640));
    }
}
