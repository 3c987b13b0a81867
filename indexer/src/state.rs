//! Per-block chain state the typed tables need beyond events: every subnet's pool (reserves,
//! prices by era, emissions, volume), the metagraph of subnets whose epoch ran in the block,
//! and whether registrations reused a uid. What to read is planned once per runtime from its
//! metadata ([`StatePlan`]); reading is batched (one runtime call or one `state_queryStorageAt`
//! per kind of data per block).

pub mod dynamic_info;
pub mod metagraph;
pub mod pools;

use subxt::metadata::Metadata;

use crate::storage::Item;

pub use metagraph::{EpochInputs, EpochParams, MetagraphRow, read_epoch_inputs, read_metagraphs};
pub use pools::{PoolRow, PriceSource, read_pools};

/// A storage value that could not be decoded (kept raw in `decode_failures`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateFailure {
    /// `Pallet.Item` or runtime API name (with the key part, e.g. `SubnetTAO[3]`).
    pub item: String,
    /// Why.
    pub reason: String,
    /// The bytes.
    pub raw: Vec<u8>,
}

/// Reads of one piece of chain data (a storage value, a runtime call's answer, a block's events
/// or body, a runtime's metadata): what does not decode is read again, alone, up to this many
/// times in all (a corrupted answer is not corrupted state); what still fails is recorded.
pub const READ_ATTEMPTS: usize = 5;

/// Queries `keys` at block (`number`, `hash`) in one `state_queryStorageAt` and hands each
/// answer to `apply` with its index in `keys`. The answers `apply` rejects are queried again
/// (only those), up to [`READ_ATTEMPTS`] times in all; the failures of the last attempt are
/// returned. `apply` must change nothing when it rejects a value.
pub async fn query_applied(
    node: &crate::node::Node,
    number: u64,
    hash: [u8; 32],
    keys: &[Vec<u8>],
    mut apply: impl FnMut(usize, Option<Vec<u8>>) -> Result<(), StateFailure>,
) -> Result<Vec<StateFailure>, crate::error::IndexerError> {
    let mut pending: Vec<usize> = (0..keys.len()).collect();
    let mut failures = Vec::new();
    for attempt in 1..=READ_ATTEMPTS {
        if pending.is_empty() {
            break;
        }
        let asked: Vec<Vec<u8>> = pending.iter().map(|&i| keys[i].clone()).collect();
        let values = node.query_storage(number, hash, &asked).await?;
        let mut again = Vec::new();
        failures.clear();
        for (&i, value) in pending.iter().zip(values) {
            if let Err(f) = apply(i, value) {
                if attempt < READ_ATTEMPTS {
                    tracing::debug!(block = number, item = %f.item, reason = %f.reason, "reading a value again");
                }
                again.push(i);
                failures.push(f);
            }
        }
        pending = again;
    }
    Ok(failures)
}

/// What to read for a runtime, resolved from its metadata.
#[derive(Clone, Debug)]
pub struct StatePlan {
    /// `SubnetInfoRuntimeApi.get_all_dynamic_info` output type, when the runtime has the API.
    pub dynamic_info: Option<u32>,
    /// That type compiled for fast reading, when it can be.
    pub dynamic_layout: Option<std::sync::Arc<dynamic_info::Layout>>,
    /// Pool items for the storage path (absent items are `None`).
    pub subnet_tao: Option<Item>,
    /// `SubnetAlphaIn`.
    pub alpha_in: Option<Item>,
    /// `SubnetAlphaOut`.
    pub alpha_out: Option<Item>,
    /// `SubnetMovingPrice`.
    pub moving_price: Option<Item>,
    /// `SubnetTaoInEmission`.
    pub tao_in_emission: Option<Item>,
    /// `SubnetAlphaInEmission`.
    pub alpha_in_emission: Option<Item>,
    /// `SubnetAlphaOutEmission`.
    pub alpha_out_emission: Option<Item>,
    /// `SubnetVolume`.
    pub volume: Option<Item>,
    /// `Tempo`.
    pub tempo: Option<Item>,
    /// `BlocksSinceLastStep`.
    pub blocks_since_last_step: Option<Item>,
    /// `LastMechansimStepBlock` (sic, as on chain).
    pub last_step: Option<Item>,
    /// `NetworksAdded` (the subnet list for the storage path).
    pub networks_added: Option<Item>,
    /// `Swap.AlphaSqrtPrice` (v3 era).
    pub sqrt_price: Option<Item>,
    /// `Swap.SwapV3Initialized`.
    pub v3_initialized: Option<Item>,
    /// `Swap.SwapBalancer` (balancer era).
    pub balancer: Option<Item>,
    /// Metagraph items.
    pub metagraph: metagraph::MetagraphItems,
    /// `Keys` and `SubnetworkN`, also used to tell uid replacements.
    pub keys: Option<Item>,
    /// `SubnetworkN`.
    pub subnetwork_n: Option<Item>,
}

/// Where pool state comes from.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum PoolSource {
    /// The `SubnetInfoRuntimeApi` dynamic-info call when the runtime has it (one call per
    /// block), else storage.
    #[default]
    Auto,
    /// Always batched storage queries (nodes whose runtime API is slow or missing).
    Storage,
}

impl StatePlan {
    /// Plans reads for the runtime described by `md`.
    pub fn new(md: &Metadata, source: PoolSource) -> StatePlan {
        let st = |name| Item::lookup(md, "SubtensorModule", name);
        let dynamic_info = dynamic_info::answer_type(md).filter(|_| source == PoolSource::Auto);
        StatePlan {
            dynamic_info,
            dynamic_layout: dynamic_info.and_then(|ty| dynamic_info::Layout::compile(md.types(), ty)),
            subnet_tao: st("SubnetTAO"),
            alpha_in: st("SubnetAlphaIn"),
            alpha_out: st("SubnetAlphaOut"),
            moving_price: st("SubnetMovingPrice"),
            tao_in_emission: st("SubnetTaoInEmission"),
            alpha_in_emission: st("SubnetAlphaInEmission"),
            alpha_out_emission: st("SubnetAlphaOutEmission"),
            volume: st("SubnetVolume"),
            tempo: st("Tempo"),
            blocks_since_last_step: st("BlocksSinceLastStep"),
            last_step: st("LastMechansimStepBlock"),
            networks_added: st("NetworksAdded"),
            sqrt_price: Item::lookup(md, "Swap", "AlphaSqrtPrice"),
            v3_initialized: Item::lookup(md, "Swap", "SwapV3Initialized"),
            balancer: Item::lookup(md, "Swap", "SwapBalancer"),
            metagraph: metagraph::MetagraphItems::new(md),
            keys: st("Keys"),
            subnetwork_n: st("SubnetworkN"),
        }
    }

    /// Whether this runtime has dTAO pools at all.
    pub fn has_pools(&self) -> bool {
        self.dynamic_info.is_some() || (self.subnet_tao.is_some() && self.alpha_in.is_some())
    }
}

/// What to read at a block.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadSpec {
    /// Read every subnet's pool at this block.
    pub pools: bool,
    /// Read the metagraph of subnets whose epoch ran at this block (needs `pools`).
    pub metagraphs: bool,
}

/// The state of one block: every subnet's pool, and the metagraphs of epochs that ran in it.
/// Everything is read with the executing runtime's metadata and plan. (Registrations'
/// replacement flags are read apart, once the block's events are decoded:
/// [`metagraph::read_replacements`].)
pub async fn read_block_state(
    node: &crate::node::Node,
    md: &Metadata,
    plan: &StatePlan,
    number: u64,
    hash: [u8; 32],
    parent_hash: [u8; 32],
    what: ReadSpec,
) -> Result<(crate::rows::StateRows, Vec<StateFailure>), crate::error::IndexerError> {
    let mut state = crate::rows::StateRows::default();
    let mut failures = Vec::new();
    if what.pools && plan.has_pools() {
        let netuids = if plan.dynamic_info.is_some() {
            vec![]
        } else {
            pools::read_netuids(node, plan, number, hash).await?
        };
        let (rows, f) = read_pools(node, md, plan, number, hash, &netuids).await?;
        failures.extend(f);
        if what.metagraphs {
            // The epoch ran at this block exactly when the subnet's last step is this block.
            let due: Vec<u16> = rows
                .iter()
                .filter(|r| r.netuid != 0 && r.last_step == Some(number))
                .map(|r| r.netuid)
                .collect();
            if !due.is_empty() {
                let (mut mg, counts, f) = read_metagraphs(node, plan, number, hash, &due).await?;
                failures.extend(f);
                let mut params = Vec::new();
                if number > 0 {
                    let (p, f) = read_epoch_inputs(node, plan, number - 1, parent_hash, &mut mg).await?;
                    params = p;
                    failures.extend(f);
                }
                state.metagraph = mg;
                state.epochs = counts
                    .into_iter()
                    .filter(|(_, uids)| *uids > 0)
                    .map(|(netuid, uids)| crate::rows::EpochRow {
                        netuid,
                        uids,
                        params: params
                            .iter()
                            .find(|(n, _)| *n == netuid)
                            .map(|(_, p)| p.clone())
                            .unwrap_or_default(),
                    })
                    .collect();
            }
        }
        state.pools = rows;
    }
    Ok((state, failures))
}
