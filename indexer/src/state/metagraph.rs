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

/// The items a metagraph snapshot reads.
#[derive(Clone, Debug)]
pub struct MetagraphItems {
    vectors: Vec<(Vector, Item)>,
    weights: Option<Item>,
    bonds: Option<Item>,
    owner: Option<Item>,
    stake: Option<Item>,
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
