//! Runtime APIs the devnet answers through `state_call` beyond `Core` and `Metadata`:
//! `SubnetInfoRuntimeApi::{get_all_dynamic_info, get_dynamic_info}`, with finney's SCALE types
//! (`pallet_subtensor::rpc_info::dynamic_info::DynamicInfo`).

use parity_scale_codec::{Compact, Decode, Encode};
use scale_info::TypeInfo;

use super::types::{AccountId32, I96F32};

/// `pallet_subtensor::pallet::SubnetIdentityV2` (spec 233's `DynamicInfo.subnet_identity`).
#[allow(missing_docs)]
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SubnetIdentityV2 {
    pub subnet_name: Vec<u8>,
    pub github_repo: Vec<u8>,
    pub subnet_contact: Vec<u8>,
    pub subnet_url: Vec<u8>,
    pub discord: Vec<u8>,
    pub description: Vec<u8>,
    pub additional: Vec<u8>,
}

/// `pallet_subtensor::pallet::SubnetIdentityV3` (spec 343: adds `logo_url`).
#[allow(missing_docs)]
#[derive(Clone, Debug, Default, PartialEq, Eq, Encode, Decode, TypeInfo)]
pub struct SubnetIdentityV3 {
    pub subnet_name: Vec<u8>,
    pub github_repo: Vec<u8>,
    pub subnet_contact: Vec<u8>,
    pub subnet_url: Vec<u8>,
    pub discord: Vec<u8>,
    pub description: Vec<u8>,
    pub logo_url: Vec<u8>,
    pub additional: Vec<u8>,
}

/// `DynamicInfo<AccountId>`: one subnet's pool, emission and schedule, as
/// `SubnetInfoRuntimeApi_get_dynamic_info` returns it. `Identity` is the runtime's subnet
/// identity type; it is not a type parameter in finney's metadata, so it is skipped there.
#[allow(missing_docs)]
#[derive(Clone, Debug, PartialEq, Eq, Encode, Decode, TypeInfo)]
#[scale_info(skip_type_params(Identity))]
pub struct DynamicInfo<AccountId: TypeInfo + 'static, Identity: TypeInfo + 'static> {
    #[codec(compact)]
    pub netuid: u16,
    pub owner_hotkey: AccountId,
    pub owner_coldkey: AccountId,
    pub subnet_name: Vec<Compact<u8>>,
    pub token_symbol: Vec<Compact<u8>>,
    #[codec(compact)]
    pub tempo: u16,
    #[codec(compact)]
    pub last_step: u64,
    #[codec(compact)]
    pub blocks_since_last_step: u64,
    #[codec(compact)]
    pub emission: u64,
    #[codec(compact)]
    pub alpha_in: u64,
    #[codec(compact)]
    pub alpha_out: u64,
    #[codec(compact)]
    pub tao_in: u64,
    #[codec(compact)]
    pub alpha_out_emission: u64,
    #[codec(compact)]
    pub alpha_in_emission: u64,
    #[codec(compact)]
    pub tao_in_emission: u64,
    #[codec(compact)]
    pub pending_alpha_emission: u64,
    #[codec(compact)]
    pub pending_root_emission: u64,
    #[codec(compact)]
    pub subnet_volume: u128,
    #[codec(compact)]
    pub network_registered_at: u64,
    pub subnet_identity: Option<Identity>,
    pub moving_price: I96F32,
}

/// Spec 233's `DynamicInfo`.
pub type DynamicInfo233 = DynamicInfo<AccountId32, SubnetIdentityV2>;
/// Spec 343's `DynamicInfo`.
pub type DynamicInfo343 = DynamicInfo<AccountId32, SubnetIdentityV3>;

/// `SubnetInfoRuntimeApi_get_all_dynamic_info`.
pub const GET_ALL_DYNAMIC_INFO: &str = "SubnetInfoRuntimeApi_get_all_dynamic_info";
/// `SubnetInfoRuntimeApi_get_dynamic_info`.
pub const GET_DYNAMIC_INFO: &str = "SubnetInfoRuntimeApi_get_dynamic_info";

/// A subnet's name as the devnet reports it (`root`, `sn1`, …).
pub fn subnet_name(netuid: u16) -> String {
    if netuid == 0 { "root".into() } else { format!("sn{netuid}") }
}

/// A subnet's token symbol as the devnet reports it (`TAO`, `SN1`, …).
pub fn token_symbol(netuid: u16) -> String {
    if netuid == 0 { "TAO".into() } else { format!("SN{netuid}") }
}
