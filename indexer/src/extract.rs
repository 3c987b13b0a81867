//! Typed rows from a block's decoded events: the stake ledger (`StakeAdded`/`StakeRemoved` in
//! every era: 2, 5 and 6 fields), movement annotations (`StakeMoved`/`StakeTransferred`/
//! `StakeSwapped`) linked to the ledger rows they annotate, registrations, weights and the fee
//! each extrinsic paid.

use std::collections::HashMap;

use serde_json::Value as Json;

use crate::decode::EventRow;

/// `NetUidStorageIndex` = netuid + mechanism × 4096 (CHAIN.md §1).
pub const MECHANISM_STRIDE: u64 = 4096;

/// A `StakeAdded` or `StakeRemoved`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StakeRow {
    /// Event position.
    pub event_index: i32,
    /// Extrinsic that caused it.
    pub extrinsic_index: Option<i32>,
    /// True for `StakeAdded`.
    pub added: bool,
    /// Coldkey (absent in pre-dTAO events).
    pub coldkey: Option<String>,
    /// Hotkey.
    pub hotkey: String,
    /// Subnet (absent before dTAO).
    pub netuid: Option<u16>,
    /// TAO amount (rao).
    pub tao: u64,
    /// Alpha amount.
    pub alpha: Option<u64>,
    /// Swap fee (input-token units).
    pub fee: u64,
    /// `tao` / `alpha`, when the event reports a fee.
    pub fee_token: Option<&'static str>,
    /// Movement kind, when part of one.
    pub movement: Option<&'static str>,
    /// The annotating event.
    pub movement_event_index: Option<i32>,
}

/// A movement annotation.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MovementRow {
    /// Event position.
    pub event_index: i32,
    /// Extrinsic.
    pub extrinsic_index: Option<i32>,
    /// `moved` / `transferred` / `swapped`.
    pub kind: &'static str,
    /// Origin coldkey.
    pub origin_coldkey: String,
    /// Destination coldkey.
    pub destination_coldkey: String,
    /// Origin hotkey.
    pub origin_hotkey: String,
    /// Destination hotkey.
    pub destination_hotkey: String,
    /// Origin subnet.
    pub origin_netuid: u16,
    /// Destination subnet.
    pub destination_netuid: u16,
    /// TAO amount.
    pub tao: u64,
    /// Annotated `StakeRemoved`.
    pub removed_event_index: Option<i32>,
    /// Annotated `StakeAdded`.
    pub added_event_index: Option<i32>,
}

/// A `NeuronRegistered`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RegistrationRow {
    /// Event position.
    pub event_index: i32,
    /// Extrinsic.
    pub extrinsic_index: Option<i32>,
    /// Subnet.
    pub netuid: u16,
    /// Uid.
    pub uid: u16,
    /// Hotkey.
    pub hotkey: String,
    /// Whether the uid already existed (filled from the parent block's state).
    pub replaced: Option<bool>,
    /// The hotkey it replaced.
    pub replaced_hotkey: Option<String>,
}

/// A `WeightsSet`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WeightsRow {
    /// Event position.
    pub event_index: i32,
    /// Extrinsic.
    pub extrinsic_index: Option<i32>,
    /// Subnet.
    pub netuid: u16,
    /// Mechanism (sub-subnet) index.
    pub mechanism: u16,
    /// Uid.
    pub uid: u16,
}

/// An event whose fields were not what its era says.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Unexpected {
    /// Event position.
    pub event_index: i32,
    /// Why.
    pub reason: String,
}

/// Everything typed in one block.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Typed {
    /// Ledger.
    pub stake: Vec<StakeRow>,
    /// Movement annotations.
    pub movements: Vec<MovementRow>,
    /// Registrations.
    pub registrations: Vec<RegistrationRow>,
    /// Weights.
    pub weights: Vec<WeightsRow>,
    /// Fee per extrinsic index.
    pub fees: HashMap<i32, u64>,
    /// Whether a subnet was added or removed (the subnet list must be refreshed).
    pub subnets_changed: bool,
    /// Events whose fields did not match.
    pub unexpected: Vec<Unexpected>,
}

/// Field values in declaration order: unnamed fields are an array, named ones an object
/// (looked up by the names the era uses).
struct Fields<'a> {
    values: Vec<&'a Json>,
    named: Option<&'a serde_json::Map<String, Json>>,
}

impl<'a> Fields<'a> {
    fn of(data: &'a Json) -> Fields<'a> {
        match data {
            Json::Array(a) => Fields { values: a.iter().collect(), named: None },
            Json::Object(o) => Fields { values: o.values().collect(), named: Some(o) },
            other => Fields { values: vec![other], named: None },
        }
    }

    fn get(&self, i: usize, names: &[&str]) -> Option<&'a Json> {
        match self.named {
            Some(map) => names.iter().find_map(|n| map.get(*n)),
            None => self.values.get(i).copied(),
        }
    }

    fn len(&self) -> usize {
        self.values.len()
    }

    fn account(&self, i: usize, names: &[&str]) -> Result<String, String> {
        self.get(i, names)
            .and_then(Json::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("field {i} is not an account"))
    }

    fn number(&self, i: usize, names: &[&str]) -> Result<u64, String> {
        let v = self.get(i, names).ok_or_else(|| format!("field {i} missing"))?;
        v.as_u64()
            .or_else(|| v.as_str().and_then(|s| s.parse().ok()))
            .ok_or_else(|| format!("field {i} is not a number: {v}"))
    }

    fn u16(&self, i: usize, names: &[&str]) -> Result<u16, String> {
        u16::try_from(self.number(i, names)?).map_err(|_| format!("field {i} out of u16 range"))
    }
}

fn stake(e: &EventRow, added: bool) -> Result<StakeRow, String> {
    let f = Fields::of(&e.data);
    let base = |coldkey, hotkey, netuid, tao, alpha, fee, fee_token| StakeRow {
        event_index: e.index,
        extrinsic_index: e.extrinsic_index,
        added,
        coldkey,
        hotkey,
        netuid,
        tao,
        alpha,
        fee,
        fee_token,
        movement: None,
        movement_event_index: None,
    };
    match f.len() {
        // Pre-dTAO: (hotkey, amount).
        2 => Ok(base(None, f.account(0, &["hotkey"])?, None, f.number(1, &["amount"])?, None, 0, None)),
        // dTAO launch (spec 233–252): (coldkey, hotkey, tao, alpha, netuid).
        5 | 6 => {
            let (fee, token) = if f.len() == 6 {
                (f.number(5, &["fee"])?, Some(if added { "tao" } else { "alpha" }))
            } else {
                (0, None)
            };
            Ok(base(
                Some(f.account(0, &["coldkey"])?),
                f.account(1, &["hotkey"])?,
                Some(f.u16(4, &["netuid"])?),
                f.number(2, &["tao", "tao_amount"])?,
                Some(f.number(3, &["alpha", "alpha_amount"])?),
                fee,
                token,
            ))
        }
        n => Err(format!("{n} fields")),
    }
}

fn movement(e: &EventRow, kind: &'static str) -> Result<MovementRow, String> {
    let f = Fields::of(&e.data);
    let row = |oc, dc, oh, dh, on, dn, tao| MovementRow {
        event_index: e.index,
        extrinsic_index: e.extrinsic_index,
        kind,
        origin_coldkey: oc,
        destination_coldkey: dc,
        origin_hotkey: oh,
        destination_hotkey: dh,
        origin_netuid: on,
        destination_netuid: dn,
        tao,
        removed_event_index: None,
        added_event_index: None,
    };
    match (kind, f.len()) {
        // (coldkey, origin_hotkey, origin_netuid, destination_hotkey, destination_netuid, tao)
        ("moved", 6) => {
            let c = f.account(0, &["coldkey"])?;
            Ok(row(
                c.clone(),
                c,
                f.account(1, &[])?,
                f.account(3, &[])?,
                f.u16(2, &[])?,
                f.u16(4, &[])?,
                f.number(5, &[])?,
            ))
        }
        // (origin_coldkey, destination_coldkey, hotkey, origin_netuid, destination_netuid, tao)
        ("transferred", 6) => {
            let h = f.account(2, &["hotkey"])?;
            Ok(row(
                f.account(0, &[])?,
                f.account(1, &[])?,
                h.clone(),
                h,
                f.u16(3, &[])?,
                f.u16(4, &[])?,
                f.number(5, &[])?,
            ))
        }
        // (coldkey, hotkey, origin_netuid, destination_netuid, tao)
        ("swapped", 5) => {
            let (c, h) = (f.account(0, &["coldkey"])?, f.account(1, &["hotkey"])?);
            Ok(row(c.clone(), c, h.clone(), h, f.u16(2, &[])?, f.u16(3, &[])?, f.number(4, &[])?))
        }
        (_, n) => Err(format!("{n} fields")),
    }
}

/// Links each movement to the `StakeRemoved` (origin) and `StakeAdded` (destination) of the
/// same extrinsic that precede it and are not linked yet.
fn link(typed: &mut Typed) {
    for m in &mut typed.movements {
        let before = |s: &&mut StakeRow| {
            s.event_index < m.event_index && s.extrinsic_index == m.extrinsic_index && s.movement.is_none()
        };
        if let Some(r) = typed.stake.iter_mut().rev().filter(before).find(|s| {
            !s.added
                && s.coldkey.as_deref() == Some(&m.origin_coldkey)
                && s.hotkey == m.origin_hotkey
                && s.netuid == Some(m.origin_netuid)
        }) {
            r.movement = Some(m.kind);
            r.movement_event_index = Some(m.event_index);
            m.removed_event_index = Some(r.event_index);
        }
        if let Some(a) = typed.stake.iter_mut().rev().filter(before).find(|s| {
            s.added
                && s.coldkey.as_deref() == Some(&m.destination_coldkey)
                && s.hotkey == m.destination_hotkey
                && s.netuid == Some(m.destination_netuid)
        }) {
            a.movement = Some(m.kind);
            a.movement_event_index = Some(m.event_index);
            m.added_event_index = Some(a.event_index);
        }
    }
}

/// Typed rows of one block's events.
pub fn extract(events: &[EventRow]) -> Typed {
    let mut typed = Typed::default();
    for e in events {
        let result = match (e.pallet.as_str(), e.name.as_str()) {
            ("SubtensorModule", "StakeAdded") => stake(e, true).map(|r| typed.stake.push(r)),
            ("SubtensorModule", "StakeRemoved") => stake(e, false).map(|r| typed.stake.push(r)),
            ("SubtensorModule", "StakeMoved") => movement(e, "moved").map(|r| typed.movements.push(r)),
            ("SubtensorModule", "StakeTransferred") => {
                movement(e, "transferred").map(|r| typed.movements.push(r))
            }
            ("SubtensorModule", "StakeSwapped") => movement(e, "swapped").map(|r| typed.movements.push(r)),
            ("SubtensorModule", "NeuronRegistered") => {
                let f = Fields::of(&e.data);
                (|| {
                    Ok(RegistrationRow {
                        event_index: e.index,
                        extrinsic_index: e.extrinsic_index,
                        netuid: f.u16(0, &["netuid"])?,
                        uid: f.u16(1, &["uid"])?,
                        hotkey: f.account(2, &["hotkey"])?,
                        replaced: None,
                        replaced_hotkey: None,
                    })
                })()
                .map(|r| typed.registrations.push(r))
            }
            ("SubtensorModule", "WeightsSet") => {
                let f = Fields::of(&e.data);
                (|| {
                    let index = f.number(0, &["netuid"])?;
                    Ok(WeightsRow {
                        event_index: e.index,
                        extrinsic_index: e.extrinsic_index,
                        netuid: (index % MECHANISM_STRIDE) as u16,
                        mechanism: (index / MECHANISM_STRIDE) as u16,
                        uid: f.u16(1, &["uid"])?,
                    })
                })()
                .map(|r| typed.weights.push(r))
            }
            ("SubtensorModule", "NetworkAdded" | "NetworkRemoved") => {
                typed.subnets_changed = true;
                Ok(())
            }
            ("TransactionPayment", "TransactionFeePaid") => match e.extrinsic_index {
                Some(i) => Fields::of(&e.data).number(1, &["actual_fee"]).map(|fee| {
                    *typed.fees.entry(i).or_default() += fee;
                }),
                None => Ok(()),
            },
            _ => Ok(()),
        };
        if let Err(reason) = result {
            typed.unexpected.push(Unexpected {
                event_index: e.index,
                reason: format!("{}.{}: {reason}", e.pallet, e.name),
            });
        }
    }
    link(&mut typed);
    typed
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn ev(index: i32, xt: i32, name: &str, data: Json) -> EventRow {
        let pallet = if name == "TransactionFeePaid" { "TransactionPayment" } else { "SubtensorModule" };
        EventRow {
            index,
            phase: "apply_extrinsic",
            extrinsic_index: Some(xt),
            pallet: pallet.into(),
            name: name.into(),
            raw: vec![],
            data,
        }
    }

    #[test]
    fn stake_events_of_every_era() {
        let t = extract(&[
            ev(0, 1, "StakeAdded", json!(["5Hot", 10])),
            ev(1, 1, "StakeAdded", json!(["5Cold", "5Hot", 100, 7, 3])),
            ev(2, 1, "StakeRemoved", json!(["5Cold", "5Hot", 50, 4, 3, 2])),
            ev(3, 1, "StakeAdded", json!(["5Cold", "5Hot", 100, 7, 3, 1])),
        ]);
        assert!(t.unexpected.is_empty());
        assert_eq!((t.stake[0].coldkey.as_deref(), t.stake[0].netuid, t.stake[0].tao), (None, None, 10));
        assert_eq!((t.stake[1].fee, t.stake[1].fee_token), (0, None));
        assert_eq!((t.stake[2].fee, t.stake[2].fee_token, t.stake[2].added), (2, Some("alpha"), false));
        assert_eq!(t.stake[3].fee_token, Some("tao"));
    }

    #[test]
    fn a_move_links_its_removed_and_added_rows_once() {
        let t = extract(&[
            ev(0, 2, "StakeRemoved", json!(["5C", "5A", 30, 9, 1, 0])),
            ev(1, 2, "StakeAdded", json!(["5C", "5B", 30, 5, 2, 0])),
            ev(2, 2, "StakeMoved", json!(["5C", "5A", 1, "5B", 2, 30])),
            ev(3, 3, "StakeAdded", json!(["5C", "5B", 8, 1, 2, 0])),
        ]);
        let m = &t.movements[0];
        assert_eq!((m.removed_event_index, m.added_event_index), (Some(0), Some(1)));
        assert_eq!(t.stake[0].movement, Some("moved"));
        assert_eq!(t.stake[1].movement_event_index, Some(2));
        assert_eq!(t.stake[2].movement, None, "a later plain stake stays plain");
    }

    #[test]
    fn weights_split_the_storage_index_and_fees_sum_per_extrinsic() {
        let t = extract(&[
            ev(0, 1, "WeightsSet", json!([4096 + 12, 5])),
            ev(1, 1, "TransactionFeePaid", json!({ "who": "5X", "actual_fee": 125, "tip": 0 })),
        ]);
        assert_eq!((t.weights[0].netuid, t.weights[0].mechanism, t.weights[0].uid), (12, 1, 5));
        assert_eq!(t.fees[&1], 125);
    }

    #[test]
    fn events_with_unexpected_fields_are_reported() {
        let t = extract(&[ev(0, 1, "StakeAdded", json!(["5C", 1, 2]))]);
        assert!(t.stake.is_empty());
        assert_eq!(t.unexpected.len(), 1);
        assert!(t.unexpected[0].reason.contains("3 fields"), "{:?}", t.unexpected);
    }
}
