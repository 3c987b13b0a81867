//! What an epoch read besides the metagraph: the subnet's Yuma hyperparameters. The indexer
//! writes them to `epochs`; the Yuma audit replays with them.

/// A subnet's Yuma hyperparameters as its epoch read them (the parent block's state); `None`
/// when the runtime has no such item.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochParams {
    /// `Kappa` (u16 proportion).
    pub kappa: Option<u16>,
    /// `BondsMovingAverage` (millionths).
    pub bonds_moving_average: Option<u64>,
    /// `ActivityCutoff` (blocks).
    pub activity_cutoff: Option<u16>,
    /// `MaxAllowedValidators`.
    pub max_allowed_validators: Option<u16>,
    /// `BondsPenalty` (u16 proportion).
    pub bonds_penalty: Option<u16>,
    /// `Tempo`.
    pub tempo: Option<u16>,
    /// `Yuma3On`.
    pub yuma3: Option<bool>,
    /// `LiquidAlphaOn`.
    pub liquid_alpha: Option<bool>,
    /// `AlphaValues` (low, high) as u16 proportions.
    pub alpha_values: Option<(u16, u16)>,
    /// `AlphaSigmoidSteepness`.
    pub alpha_steepness: Option<i16>,
    /// `StakeThreshold` (rao).
    pub stake_threshold: Option<u64>,
    /// `SubnetOwnerHotkey` (SS58).
    pub owner_hotkey: Option<String>,
}
