//! The metagraph of subnets whose epoch ran in a block: per uid its hotkey, coldkey, stake and
//! the epoch's vectors (incentive, dividends, emission, consensus, validator trust and permit,
//! active, last update), with its weights and bonds rows; and, for registrations, whether the
//! uid already existed. Three batched queries per block at most.

use std::collections::HashMap;

use subxt::metadata::Metadata;
use taoscope_schema::AccountId;

use super::{StateFailure, StatePlan, query_applied};
use crate::error::IndexerError;
use crate::extract::RegistrationRow;
use crate::node::Node;
use crate::storage::{Item, KeyPart};
pub use taoscope_schema::EpochParams;

/// The items a metagraph snapshot reads.
#[derive(Clone, Debug)]
pub struct MetagraphItems {
    vectors: Vec<(Vector, Item)>,
    weights: Option<Item>,
    bonds: Option<Item>,
    owner: Option<Item>,
    stake: Option<Item>,
    registered_at: Option<Item>,
    params: Vec<(Param, Item)>,
}

/// The Yuma hyperparameters an epoch reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Param {
    Kappa,
    BondsMovingAverage,
    ActivityCutoff,
    MaxAllowedValidators,
    BondsPenalty,
    Tempo,
    Yuma3,
    LiquidAlpha,
    AlphaValues,
    AlphaSteepness,
    StakeThreshold,
    OwnerHotkey,
}

/// The per-uid vectors written at the epoch.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
enum Vector {
    Incentive,
    Dividends,
    Emission,
    Consensus,
    ValidatorTrust,
    ValidatorPermit,
    Active,
    LastUpdate,
}

impl MetagraphItems {
    /// The runtime's metagraph items (absent ones are skipped).
    pub fn new(md: &Metadata) -> MetagraphItems {
        let st = |name| Item::lookup(md, "SubtensorModule", name);
        let vectors = [
            (Vector::Incentive, "Incentive"),
            (Vector::Dividends, "Dividends"),
            (Vector::Emission, "Emission"),
            (Vector::Consensus, "Consensus"),
            (Vector::ValidatorTrust, "ValidatorTrust"),
            (Vector::ValidatorPermit, "ValidatorPermit"),
            (Vector::Active, "Active"),
            (Vector::LastUpdate, "LastUpdate"),
        ]
        .into_iter()
        .filter_map(|(v, name)| st(name).map(|item| (v, item)))
        .collect();
        MetagraphItems {
            vectors,
            weights: st("Weights"),
            bonds: st("Bonds"),
            owner: st("Owner"),
            stake: st("TotalHotkeyAlpha"),
            registered_at: st("BlockAtRegistration"),
            params: [
                (Param::Kappa, "Kappa"),
                (Param::BondsMovingAverage, "BondsMovingAverage"),
                (Param::ActivityCutoff, "ActivityCutoff"),
                (Param::MaxAllowedValidators, "MaxAllowedValidators"),
                (Param::BondsPenalty, "BondsPenalty"),
                (Param::Tempo, "Tempo"),
                (Param::Yuma3, "Yuma3On"),
                (Param::LiquidAlpha, "LiquidAlphaOn"),
                (Param::AlphaValues, "AlphaValues"),
                (Param::AlphaSteepness, "AlphaSigmoidSteepness"),
                (Param::StakeThreshold, "StakeThreshold"),
                (Param::OwnerHotkey, "SubnetOwnerHotkey"),
            ]
            .into_iter()
            .filter_map(|(p, name)| st(name).map(|item| (p, item)))
            .collect(),
        }
    }
}

/// One uid of one subnet at an epoch.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MetagraphRow {
    /// Subnet.
    pub netuid: u16,
    /// Uid.
    pub uid: u16,
    /// Hotkey (SS58).
    pub hotkey: String,
    /// Owning coldkey (SS58).
    pub coldkey: Option<String>,
    /// `TotalHotkeyAlpha` on this subnet.
    pub stake: Option<u64>,
    /// u16 proportions and amounts of the epoch.
    pub incentive: Option<u16>,
    /// Dividends (u16 proportion).
    pub dividends: Option<u16>,
    /// Emission (alpha rao).
    pub emission: Option<u64>,
    /// Consensus (u16 proportion).
    pub consensus: Option<u16>,
    /// Validator trust (u16 proportion).
    pub validator_trust: Option<u16>,
    /// Validator permit.
    pub validator_permit: Option<bool>,
    /// Active.
    pub active: Option<bool>,
    /// Block of the last weights.
    pub last_update: Option<u64>,
    /// Weights row (dest uid, u16).
    pub weights: Vec<(u16, u16)>,
    /// Bonds row (dest uid, u16).
    pub bonds: Vec<(u16, u16)>,
    /// What the epoch read: the state at the parent block, before the epoch ran (the epoch runs
    /// in `on_initialize`, ahead of the block's extrinsics). See [`read_epoch_inputs`].
    pub input: EpochInputs,
}

/// One uid's epoch inputs: the parent block's state.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct EpochInputs {
    /// The uid's hotkey at the parent block, when it differs from the epoch block's (the uid was
    /// replaced in the epoch block).
    pub hotkey: Option<String>,
    /// `TotalHotkeyAlpha` of that hotkey on this subnet.
    pub stake: Option<u64>,
    /// `LastUpdate`.
    pub last_update: Option<u64>,
    /// `ValidatorPermit` (the previous epoch's permits).
    pub validator_permit: Option<bool>,
    /// Weights row.
    pub weights: Vec<(u16, u16)>,
    /// Bonds row (the previous epoch's bonds).
    pub bonds: Vec<(u16, u16)>,
    /// `BlockAtRegistration`.
    pub registered_at: Option<u64>,
}

fn failure(item: &Item, key: String, e: impl ToString, raw: Vec<u8>) -> StateFailure {
    StateFailure { item: format!("{}[{key}]", item.name()), reason: e.to_string(), raw }
}

/// Reads the metagraphs of `netuids` at block (`number`, `hash`); returns the rows, the uid
/// count of each subnet, and what did not decode.
pub async fn read_metagraphs(
    node: &Node,
    plan: &StatePlan,
    number: u64,
    hash: [u8; 32],
    netuids: &[u16],
) -> Result<(Vec<MetagraphRow>, Vec<(u16, u16)>, Vec<StateFailure>), IndexerError> {
    let (Some(n_item), Some(keys_item)) = (&plan.subnetwork_n, &plan.keys) else {
        return Ok((vec![], vec![], vec![]));
    };
    let items = &plan.metagraph;
    let mut failures = Vec::new();

    // Round 1: uid counts and the vectors.
    let mut keys = Vec::new();
    let mut slots: Vec<(u16, Option<Vector>)> = Vec::new();
    for &netuid in netuids {
        keys.extend(n_item.key(&[KeyPart::U16(netuid)]));
        slots.push((netuid, None));
        for (v, item) in &items.vectors {
            if let Some(k) = item.key(&[KeyPart::U16(netuid)]) {
                keys.push(k);
                slots.push((netuid, Some(*v)));
            }
        }
    }
    let mut sizes: HashMap<u16, u16> = HashMap::new();
    let mut vectors: HashMap<(u16, Vector), Vec<u128>> = HashMap::new();
    failures.extend(
        query_applied(node, number, hash, &keys, |i, value| {
            let (netuid, vector) = slots[i];
            let item = match vector {
                None => n_item,
                Some(v) => &items.vectors.iter().find(|(x, _)| *x == v).expect("planned").1,
            };
            let Some(bytes) = item.or_default(value) else { return Ok(()) };
            match vector {
                None => {
                    let n =
                        n_item.unsigned(&bytes).map_err(|e| failure(n_item, netuid.to_string(), e, bytes))?;
                    sizes.insert(netuid, n as u16);
                }
                Some(v) => {
                    let values =
                        item.unsigned_vec(&bytes).map_err(|e| failure(item, netuid.to_string(), e, bytes))?;
                    vectors.insert((netuid, v), values);
                }
            }
            Ok(())
        })
        .await?,
    );

    // Round 2: hotkeys, weights and bonds of every uid.
    let mut rows: Vec<MetagraphRow> = Vec::new();
    let mut keys = Vec::new();
    let mut slots: Vec<(usize, u8)> = Vec::new();
    for &netuid in netuids {
        let n = sizes.get(&netuid).copied().unwrap_or(0);
        for uid in 0..n {
            let row = rows.len();
            let at = |v: Vector| vectors.get(&(netuid, v)).and_then(|x| x.get(uid as usize)).copied();
            rows.push(MetagraphRow {
                netuid,
                uid,
                incentive: at(Vector::Incentive).map(|x| x as u16),
                dividends: at(Vector::Dividends).map(|x| x as u16),
                emission: at(Vector::Emission).map(|x| x as u64),
                consensus: at(Vector::Consensus).map(|x| x as u16),
                validator_trust: at(Vector::ValidatorTrust).map(|x| x as u16),
                validator_permit: at(Vector::ValidatorPermit).map(|x| x == 1),
                active: at(Vector::Active).map(|x| x == 1),
                last_update: at(Vector::LastUpdate).map(|x| x as u64),
                ..MetagraphRow::default()
            });
            let parts = [KeyPart::U16(netuid), KeyPart::U16(uid)];
            for (tag, item) in
                [(0u8, Some(keys_item)), (1, items.weights.as_ref()), (2, items.bonds.as_ref())]
            {
                if let Some(k) = item.and_then(|i| i.key(&parts)) {
                    keys.push(k);
                    slots.push((row, tag));
                }
            }
        }
    }
    let mut hotkeys: Vec<Option<[u8; 32]>> = vec![None; rows.len()];
    failures.extend(
        query_applied(node, number, hash, &keys, |i, value| {
            let (row, tag) = slots[i];
            let item = match tag {
                0 => keys_item,
                1 => items.weights.as_ref().expect("planned"),
                _ => items.bonds.as_ref().expect("planned"),
            };
            let Some(bytes) = item.or_default(value) else { return Ok(()) };
            let r = &mut rows[row];
            let fail = |e: crate::storage::ValueError, bytes| {
                failure(item, format!("{},{}", r.netuid, r.uid), e, bytes)
            };
            match tag {
                0 => hotkeys[row] = Some(item.account(&bytes).map_err(|e| fail(e, bytes))?),
                1 => r.weights = item.pairs(&bytes).map_err(|e| fail(e, bytes))?,
                _ => r.bonds = item.pairs(&bytes).map_err(|e| fail(e, bytes))?,
            }
            Ok(())
        })
        .await?,
    );

    // Round 3: coldkeys and stakes of the hotkeys.
    let mut keys = Vec::new();
    let mut slots: Vec<(usize, bool)> = Vec::new();
    for (row, hot) in hotkeys.iter().enumerate() {
        let Some(hot) = hot else { continue };
        rows[row].hotkey = AccountId(*hot).to_ss58();
        if let Some(k) = items.owner.as_ref().and_then(|i| i.key(&[KeyPart::Account(hot)])) {
            keys.push(k);
            slots.push((row, true));
        }
        if let Some(k) =
            items.stake.as_ref().and_then(|i| i.key(&[KeyPart::Account(hot), KeyPart::U16(rows[row].netuid)]))
        {
            keys.push(k);
            slots.push((row, false));
        }
    }
    failures.extend(
        query_applied(node, number, hash, &keys, |i, value| {
            let (row, owner) = slots[i];
            let item = if owner { items.owner.as_ref() } else { items.stake.as_ref() }.expect("planned");
            let Some(bytes) = item.or_default(value) else { return Ok(()) };
            let r = &mut rows[row];
            if owner {
                let a = item.account(&bytes).map_err(|e| failure(item, r.hotkey.clone(), e, bytes))?;
                r.coldkey = Some(AccountId(a).to_ss58());
            } else {
                r.stake = Some(
                    item.unsigned(&bytes).map_err(|e| failure(item, r.hotkey.clone(), e, bytes))? as u64
                );
            }
            Ok(())
        })
        .await?,
    );
    rows.retain(|r| !r.hotkey.is_empty());
    let mut counts: Vec<(u16, u16)> = sizes.into_iter().collect();
    counts.sort_unstable();
    Ok((rows, counts, failures))
}

/// Fills `replaced` and `replaced_hotkey` of `registrations` from the parent block's state
/// (`SubnetworkN` and `Keys` before the block).
pub async fn read_replacements(
    node: &Node,
    plan: &StatePlan,
    parent_number: u64,
    parent_hash: [u8; 32],
    registrations: &mut [RegistrationRow],
) -> Result<Vec<StateFailure>, IndexerError> {
    let (Some(n_item), Some(keys_item)) = (&plan.subnetwork_n, &plan.keys) else { return Ok(vec![]) };
    let mut keys = Vec::new();
    for r in registrations.iter() {
        keys.extend(n_item.key(&[KeyPart::U16(r.netuid)]));
        keys.extend(keys_item.key(&[KeyPart::U16(r.netuid), KeyPart::U16(r.uid)]));
    }
    if keys.len() != registrations.len() * 2 {
        return Ok(vec![]);
    }
    // Per registration: the uid count before it (None: did not decode) and the uid's hotkey.
    let mut counts: Vec<Option<u128>> = vec![None; registrations.len()];
    let mut hotkeys: Vec<Option<[u8; 32]>> = vec![None; registrations.len()];
    let failures = query_applied(node, parent_number, parent_hash, &keys, |i, value| {
        let r = &registrations[i / 2];
        if i % 2 == 0 {
            counts[i / 2] = Some(match value {
                Some(bytes) => {
                    n_item.unsigned(&bytes).map_err(|e| failure(n_item, r.netuid.to_string(), e, bytes))?
                }
                None => 0,
            });
        } else if let Some(bytes) = value {
            let a = keys_item
                .account(&bytes)
                .map_err(|e| failure(keys_item, format!("{},{}", r.netuid, r.uid), e, bytes))?;
            hotkeys[i / 2] = Some(a);
        }
        Ok(())
    })
    .await?;
    for ((r, n), hotkey) in registrations.iter_mut().zip(counts).zip(hotkeys) {
        let Some(n) = n else { continue };
        let replaced = u128::from(r.uid) < n;
        r.replaced = Some(replaced);
        if replaced {
            r.replaced_hotkey = hotkey.map(|a| AccountId(a).to_ss58());
        }
    }
    Ok(failures)
}

/// Fills each row's [`EpochInputs`] from the parent block (`parent_number`, `parent_hash`):
/// hotkey, stake, last update, permit, weights, bonds and registration block as the epoch read
/// them; returns each subnet's hyperparameters. Two batched queries.
pub async fn read_epoch_inputs(
    node: &Node,
    plan: &StatePlan,
    parent_number: u64,
    parent_hash: [u8; 32],
    rows: &mut [MetagraphRow],
) -> Result<(Vec<(u16, EpochParams)>, Vec<StateFailure>), IndexerError> {
    let Some(keys_item) = &plan.keys else { return Ok((vec![], vec![])) };
    let items = &plan.metagraph;
    let mut failures = Vec::new();
    let wanted = [Vector::LastUpdate, Vector::ValidatorPermit];
    let mut netuids: Vec<u16> = rows.iter().map(|r| r.netuid).collect();
    netuids.dedup();

    // Round 1: the subnets' last-update and permit vectors, and every uid's key, weights, bonds.
    #[derive(Clone, Copy)]
    enum Slot {
        Vector(u16, Vector),
        Param(usize, Param),
        Uid(usize, u8),
    }
    let mut keys = Vec::new();
    let mut slots = Vec::new();
    let mut params: Vec<(u16, EpochParams)> = netuids.iter().map(|n| (*n, EpochParams::default())).collect();
    for (at, &netuid) in netuids.iter().enumerate() {
        for (p, item) in &items.params {
            let key =
                if *p == Param::StakeThreshold { item.key(&[]) } else { item.key(&[KeyPart::U16(netuid)]) };
            if let Some(k) = key {
                keys.push(k);
                slots.push(Slot::Param(at, *p));
            }
        }
        for (v, item) in items.vectors.iter().filter(|(v, _)| wanted.contains(v)) {
            if let Some(k) = item.key(&[KeyPart::U16(netuid)]) {
                keys.push(k);
                slots.push(Slot::Vector(netuid, *v));
            }
        }
    }
    for (row, r) in rows.iter().enumerate() {
        let parts = [KeyPart::U16(r.netuid), KeyPart::U16(r.uid)];
        for (tag, item) in [
            (0u8, Some(keys_item)),
            (1, items.weights.as_ref()),
            (2, items.bonds.as_ref()),
            (3, items.registered_at.as_ref()),
        ] {
            if let Some(k) = item.and_then(|i| i.key(&parts)) {
                keys.push(k);
                slots.push(Slot::Uid(row, tag));
            }
        }
    }
    let mut vectors: HashMap<(u16, Vector), Vec<u128>> = HashMap::new();
    let mut hotkeys: Vec<Option<[u8; 32]>> = vec![None; rows.len()];
    failures.extend(
        query_applied(node, parent_number, parent_hash, &keys, |i, value| match slots[i] {
            Slot::Vector(netuid, v) => {
                let item = &items.vectors.iter().find(|(x, _)| *x == v).expect("planned").1;
                let Some(bytes) = item.or_default(value) else { return Ok(()) };
                let values =
                    item.unsigned_vec(&bytes).map_err(|e| failure(item, netuid.to_string(), e, bytes))?;
                vectors.insert((netuid, v), values);
                Ok(())
            }
            Slot::Param(at, p) => {
                let item = &items.params.iter().find(|(x, _)| *x == p).expect("planned").1;
                let Some(bytes) = item.or_default(value) else { return Ok(()) };
                let (netuid, out) = &mut params[at];
                let fail = |e: crate::storage::ValueError, bytes| {
                    failure(item, format!("{netuid}@parent"), e, bytes)
                };
                let uint = |bytes: &[u8]| item.unsigned(bytes);
                match p {
                    Param::Kappa => out.kappa = Some(uint(&bytes).map_err(|e| fail(e, bytes))? as u16),
                    Param::BondsMovingAverage => {
                        out.bonds_moving_average = Some(uint(&bytes).map_err(|e| fail(e, bytes))? as u64)
                    }
                    Param::ActivityCutoff => {
                        out.activity_cutoff = Some(uint(&bytes).map_err(|e| fail(e, bytes))? as u16)
                    }
                    Param::MaxAllowedValidators => {
                        out.max_allowed_validators = Some(uint(&bytes).map_err(|e| fail(e, bytes))? as u16)
                    }
                    Param::BondsPenalty => {
                        out.bonds_penalty = Some(uint(&bytes).map_err(|e| fail(e, bytes))? as u16)
                    }
                    Param::Tempo => out.tempo = Some(uint(&bytes).map_err(|e| fail(e, bytes))? as u16),
                    Param::Yuma3 => out.yuma3 = Some(item.boolean(&bytes).map_err(|e| fail(e, bytes))?),
                    Param::LiquidAlpha => {
                        out.liquid_alpha = Some(item.boolean(&bytes).map_err(|e| fail(e, bytes))?)
                    }
                    Param::AlphaValues => {
                        let (lo, hi) = item.unsigned_pair(&bytes).map_err(|e| fail(e, bytes))?;
                        out.alpha_values = Some((lo as u16, hi as u16));
                    }
                    Param::AlphaSteepness => {
                        out.alpha_steepness = Some(item.signed(&bytes).map_err(|e| fail(e, bytes))? as i16)
                    }
                    Param::StakeThreshold => {
                        out.stake_threshold = Some(uint(&bytes).map_err(|e| fail(e, bytes))? as u64)
                    }
                    Param::OwnerHotkey => {
                        out.owner_hotkey =
                            Some(AccountId(item.account(&bytes).map_err(|e| fail(e, bytes))?).to_ss58())
                    }
                }
                Ok(())
            }
            Slot::Uid(row, tag) => {
                let item = match tag {
                    0 => keys_item,
                    1 => items.weights.as_ref().expect("planned"),
                    2 => items.bonds.as_ref().expect("planned"),
                    _ => items.registered_at.as_ref().expect("planned"),
                };
                let Some(bytes) = item.or_default(value) else { return Ok(()) };
                let r = &mut rows[row];
                let fail = |e: crate::storage::ValueError, bytes| {
                    failure(item, format!("{},{}@parent", r.netuid, r.uid), e, bytes)
                };
                match tag {
                    0 => hotkeys[row] = Some(item.account(&bytes).map_err(|e| fail(e, bytes))?),
                    1 => r.input.weights = item.pairs(&bytes).map_err(|e| fail(e, bytes))?,
                    2 => r.input.bonds = item.pairs(&bytes).map_err(|e| fail(e, bytes))?,
                    _ => {
                        r.input.registered_at =
                            Some(item.unsigned(&bytes).map_err(|e| fail(e, bytes))? as u64)
                    }
                }
                Ok(())
            }
        })
        .await?,
    );

    // Round 2: the stake of each uid's hotkey at the parent block.
    let mut keys = Vec::new();
    let mut slots = Vec::new();
    for (row, r) in rows.iter_mut().enumerate() {
        let at = |v: Vector| vectors.get(&(r.netuid, v)).and_then(|x| x.get(r.uid as usize)).copied();
        r.input.last_update = at(Vector::LastUpdate).map(|x| x as u64);
        r.input.validator_permit = at(Vector::ValidatorPermit).map(|x| x == 1);
        let Some(hot) = hotkeys[row] else { continue };
        let ss58 = AccountId(hot).to_ss58();
        if ss58 != r.hotkey {
            r.input.hotkey = Some(ss58);
        }
        if let Some(k) =
            items.stake.as_ref().and_then(|i| i.key(&[KeyPart::Account(&hot), KeyPart::U16(r.netuid)]))
        {
            keys.push(k);
            slots.push(row);
        }
    }
    failures.extend(
        query_applied(node, parent_number, parent_hash, &keys, |i, value| {
            let item = items.stake.as_ref().expect("planned");
            let Some(bytes) = item.or_default(value) else { return Ok(()) };
            let r = &mut rows[slots[i]];
            r.input.stake = Some(
                item.unsigned(&bytes).map_err(|e| failure(item, format!("{}@parent", r.hotkey), e, bytes))?
                    as u64,
            );
            Ok(())
        })
        .await?,
    );
    Ok((params, failures))
}
