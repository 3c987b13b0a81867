//! Every subnet's pool at a block: reserves, the era's price inputs, moving price, emissions
//! injected, volume, tempo and epoch counter. One `SubnetInfoRuntimeApi_get_all_dynamic_info`
//! call where the runtime offers it, else one batched `state_queryStorageAt`; in the Swap eras one
//! more batched query for `AlphaSqrtPrice` (v3) or `SwapBalancer` (balancer).

use subxt::metadata::Metadata;

use super::{READ_ATTEMPTS, StateFailure, StatePlan, query_applied};
use crate::error::IndexerError;
use crate::node::Node;
use crate::storage::{Item, KeyPart};

/// Which formula prices the pool (CHAIN.md §3.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum PriceSource {
    /// Root or a stable subnet: 1.0.
    Stable,
    /// Constant product: SubnetTAO / SubnetAlphaIn.
    Reserves,
    /// Uniswap-v3 era: AlphaSqrtPrice².
    SqrtPrice,
    /// Balancer era: (1 − q)/q × SubnetTAO / SubnetAlphaIn.
    Balancer,
}

impl PriceSource {
    /// The `pool_state.price_source` value.
    pub fn as_str(self) -> &'static str {
        match self {
            PriceSource::Stable => "stable",
            PriceSource::Reserves => "reserves",
            PriceSource::SqrtPrice => "sqrt_price",
            PriceSource::Balancer => "balancer",
        }
    }
}

/// One subnet's pool at one block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PoolRow {
    /// Subnet.
    pub netuid: u16,
    /// `SubnetTAO`.
    pub tao: u64,
    /// `SubnetAlphaIn`.
    pub alpha_in: u64,
    /// `SubnetAlphaOut`.
    pub alpha_out: u64,
    /// `SubnetMovingPrice` bits and fractional bits.
    pub moving_price: Option<(i128, u32)>,
    /// `Swap.AlphaSqrtPrice` bits (U64F64) when it prices the pool.
    pub sqrt_price: Option<u128>,
    /// `Swap.SwapBalancer` quote weight (Perquintill, 1e18 = 1).
    pub balancer_quote: Option<u64>,
    /// `SubnetTaoInEmission`.
    pub tao_in_emission: Option<u64>,
    /// `SubnetAlphaInEmission`.
    pub alpha_in_emission: Option<u64>,
    /// `SubnetAlphaOutEmission`.
    pub alpha_out_emission: Option<u64>,
    /// `SubnetVolume`.
    pub volume: Option<u128>,
    /// `Tempo`.
    pub tempo: Option<u16>,
    /// `BlocksSinceLastStep` (0 on an epoch block).
    pub blocks_since_last_step: Option<u64>,
    /// `LastMechansimStepBlock`: the block of the subnet's last epoch.
    pub last_step: Option<u64>,
    /// How the price is computed.
    pub source: Option<PriceSource>,
    /// `DynamicInfo.subnet_name` (runtime-API path only, as are the identity fields below).
    pub name: Option<String>,
    /// `DynamicInfo.token_symbol`.
    pub symbol: Option<String>,
    /// `DynamicInfo.owner_hotkey`.
    pub owner_hotkey: Option<[u8; 32]>,
    /// `DynamicInfo.owner_coldkey`.
    pub owner_coldkey: Option<[u8; 32]>,
    /// `DynamicInfo.network_registered_at`: the block the subnet was registered.
    pub registered_at: Option<u64>,
}

impl PoolRow {
    /// TAO per alpha by the formula of the pool's era, as a decimal (CHAIN.md §3.1): 1 for
    /// root and stable subnets, `AlphaSqrtPrice²` in the v3 era, `(1 − q)/q × SubnetTAO /
    /// SubnetAlphaIn` in the balancer era, `SubnetTAO / SubnetAlphaIn` otherwise (0 for an
    /// empty pool).
    pub fn price(&self) -> String {
        use taoscope_math::decimal;
        match (self.source, self.sqrt_price, self.balancer_quote) {
            (Some(PriceSource::Stable), _, _) => "1".into(),
            (Some(PriceSource::SqrtPrice), Some(bits), _) => decimal::sqrt_price_squared(bits),
            (Some(PriceSource::Balancer), _, Some(q)) => decimal::balancer_price(q, self.tao, self.alpha_in),
            _ => decimal::reserves_price(self.tao, self.alpha_in),
        }
    }
}

/// The subnets that exist at a block (`NetworksAdded` keys), for the storage path.
pub async fn read_netuids(
    node: &Node,
    plan: &StatePlan,
    number: u64,
    hash: [u8; 32],
) -> Result<Vec<u16>, IndexerError> {
    let Some(item) = &plan.networks_added else { return Ok(vec![]) };
    let mut netuids = Vec::new();
    let mut start: Option<Vec<u8>> = None;
    // An identity-hashed u16 key is the prefix and two bytes; a page with any other key is a
    // corrupted answer, asked for again.
    let well_formed = |k: &Vec<u8>| k.len() == item.prefix().len() + 2 && k.starts_with(item.prefix());
    loop {
        let mut attempt = 1;
        let keys = loop {
            let keys = node.keys_paged(number, hash, item.prefix(), 1000, start.as_deref()).await?;
            match keys.iter().find(|k| !well_formed(k)) {
                None => break keys,
                Some(bad) if attempt == READ_ATTEMPTS => {
                    return Err(IndexerError::Rpc {
                        method: "state_getKeysPaged",
                        block: Some(number),
                        reason: format!("malformed {} key 0x{}", item.name(), hex::encode(bad)),
                    });
                }
                Some(_) => attempt += 1,
            }
        };
        for k in &keys {
            if let [.., lo, hi] = k.as_slice() {
                netuids.push(u16::from_le_bytes([*lo, *hi]));
            }
        }
        match keys.last() {
            Some(last) if keys.len() == 1000 => start = Some(last.clone()),
            _ => break,
        }
    }
    netuids.sort_unstable();
    netuids.dedup();
    Ok(netuids)
}

/// Reads one value of `item` per netuid in one batched query; failures are collected.
struct Batch<'a> {
    keys: Vec<Vec<u8>>,
    slots: Vec<(&'a Item, usize)>,
}

impl<'a> Batch<'a> {
    fn new() -> Self {
        Batch { keys: vec![], slots: vec![] }
    }

    fn add(&mut self, item: Option<&'a Item>, row: usize, netuid: u16) {
        if let Some(item) = item
            && let Some(key) = item.key(&[KeyPart::U16(netuid)])
        {
            self.keys.push(key);
            self.slots.push((item, row));
        }
    }
}

/// Reads the pools of every subnet at block (`number`, `hash`) with the executing runtime's
/// metadata and plan. `netuids` is the subnet list for runtimes without the runtime API.
pub async fn read_pools(
    node: &Node,
    md: &Metadata,
    plan: &StatePlan,
    number: u64,
    hash: [u8; 32],
    netuids: &[u16],
) -> Result<(Vec<PoolRow>, Vec<StateFailure>), IndexerError> {
    let mut failures = Vec::new();
    let mut rows = match plan.dynamic_info {
        Some(ty) => {
            // An answer that does not decode is asked for again before it is recorded.
            let mut attempt = 1;
            loop {
                let bytes =
                    node.runtime_call(number, hash, "SubnetInfoRuntimeApi_get_all_dynamic_info", &[]).await?;
                let decoded = match &plan.dynamic_layout {
                    Some(layout) => layout.decode(&bytes),
                    None => super::dynamic_info::decode(md.types(), ty, &bytes),
                };
                match decoded {
                    Ok(rows) => break rows,
                    Err(reason) if attempt == READ_ATTEMPTS => {
                        failures.push(StateFailure {
                            item: "SubnetInfoRuntimeApi.get_all_dynamic_info".into(),
                            reason,
                            raw: bytes,
                        });
                        return Ok((vec![], failures));
                    }
                    Err(_) => attempt += 1,
                }
            }
        }
        None => netuids.iter().map(|&netuid| PoolRow { netuid, ..PoolRow::default() }).collect(),
    };

    let mut batch = Batch::new();
    for (i, row) in rows.iter().enumerate() {
        if plan.dynamic_info.is_none() {
            for item in [
                &plan.subnet_tao,
                &plan.alpha_in,
                &plan.alpha_out,
                &plan.moving_price,
                &plan.tao_in_emission,
                &plan.alpha_in_emission,
                &plan.alpha_out_emission,
                &plan.volume,
                &plan.tempo,
                &plan.blocks_since_last_step,
                &plan.last_step,
            ] {
                batch.add(item.as_ref(), i, row.netuid);
            }
        }
        if row.netuid != 0 {
            batch.add(plan.sqrt_price.as_ref(), i, row.netuid);
            batch.add(plan.v3_initialized.as_ref(), i, row.netuid);
            batch.add(plan.balancer.as_ref(), i, row.netuid);
        }
    }
    let mut v3_initialized = vec![None; rows.len()];
    let read = query_applied(node, number, hash, &batch.keys, |slot, value| {
        let (item, i) = batch.slots[slot];
        let Some(bytes) = item.or_default(value) else { return Ok(()) };
        let row = &mut rows[i];
        let name = item.name().rsplit('.').next().unwrap_or_default();
        let result: Result<(), crate::storage::ValueError> = (|| {
            match name {
                "SubnetTAO" => row.tao = item.unsigned(&bytes)? as u64,
                "SubnetAlphaIn" => row.alpha_in = item.unsigned(&bytes)? as u64,
                "SubnetAlphaOut" => row.alpha_out = item.unsigned(&bytes)? as u64,
                "SubnetMovingPrice" => row.moving_price = Some(item.fixed(&bytes)?),
                "SubnetTaoInEmission" => row.tao_in_emission = Some(item.unsigned(&bytes)? as u64),
                "SubnetAlphaInEmission" => row.alpha_in_emission = Some(item.unsigned(&bytes)? as u64),
                "SubnetAlphaOutEmission" => row.alpha_out_emission = Some(item.unsigned(&bytes)? as u64),
                "SubnetVolume" => row.volume = Some(item.unsigned(&bytes)?),
                "Tempo" => row.tempo = Some(item.unsigned(&bytes)? as u16),
                "BlocksSinceLastStep" => row.blocks_since_last_step = Some(item.unsigned(&bytes)? as u64),
                "LastMechansimStepBlock" => row.last_step = Some(item.unsigned(&bytes)? as u64),
                "AlphaSqrtPrice" => row.sqrt_price = Some(item.fixed(&bytes)?.0 as u128),
                "SwapV3Initialized" => v3_initialized[i] = Some(item.boolean(&bytes)?),
                "SwapBalancer" => row.balancer_quote = Some(item.unsigned(&bytes)? as u64),
                _ => {}
            }
            Ok(())
        })();
        result.map_err(|e| StateFailure {
            item: format!("{}[{}]", item.name(), row.netuid),
            reason: e.to_string(),
            raw: bytes,
        })
    })
    .await?;
    failures.extend(read);
    for (row, initialized) in rows.iter_mut().zip(v3_initialized) {
        row.source = Some(if row.netuid == 0 {
            PriceSource::Stable
        } else if row.balancer_quote.is_some() {
            PriceSource::Balancer
        } else if row.sqrt_price.is_some() && initialized.unwrap_or(plan.v3_initialized.is_none()) {
            PriceSource::SqrtPrice
        } else {
            row.sqrt_price = None;
            PriceSource::Reserves
        });
    }
    Ok((rows, failures))
}
