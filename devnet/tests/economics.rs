//! The simulated economy is internally consistent, read the way an indexer reads it (events and
//! storage over RPC): pool reserves move exactly as stake events and emission say, epochs fire
//! on finney's schedule and write the metagraph, registrations replace uids, emission is split
//! within the block reward.

use std::collections::BTreeMap;
use std::time::Duration;

use subxt::dynamic::Value;
use subxt::ext::scale_value::{Composite, Primitive, ValueDef};
use subxt::{OnlineClient, SubstrateConfig};
use taoscope_devnet::{Devnet, DevnetConfig};

const SUBNETS: u16 = 3;
const TEMPO: u16 = 9;
const BLOCKS: u64 = 90;
const UPGRADE_AT: u32 = 40;

fn u128_of(v: &Value<()>) -> u128 {
    match &v.value {
        ValueDef::Primitive(Primitive::U128(n)) => *n,
        ValueDef::Composite(c) => c.values().next().map(u128_of).unwrap_or(0),
        other => panic!("not a number: {other:?}"),
    }
}

type At =
    subxt::client::ClientAtBlock<SubstrateConfig, subxt::client::OnlineClientAtBlockImpl<SubstrateConfig>>;

async fn u64_item(at: &At, item: &str, netuid: u16) -> u64 {
    let addr = subxt::dynamic::storage::<(u16,), u64>("SubtensorModule", item);
    at.storage().fetch(addr, (netuid,)).await.map(|v| v.decode().unwrap()).unwrap_or(0)
}

async fn vec_len(at: &At, item: &str, netuid: u16) -> usize {
    let addr = subxt::dynamic::storage::<(u16,), Value<()>>("SubtensorModule", item);
    match at.storage().fetch(addr, (netuid,)).await {
        Ok(v) => match v.decode().unwrap().value {
            ValueDef::Composite(c) => c.values().count(),
            _ => 0,
        },
        Err(_) => 0,
    }
}

#[derive(Default, Debug, Clone, Copy)]
struct Flows {
    tao_in: i128,
    alpha_to_pool: i128,
}

#[tokio::test]
async fn reserves_follow_events_epochs_follow_the_schedule_and_uids_are_replaced() {
    let devnet = Devnet::new(DevnetConfig {
        subnets: SUBNETS,
        prebuilt: BLOCKS as u32,
        seed: 11,
        block_time: Duration::from_secs(1),
        finality_lag: 2,
        upgrade_at: Some(UPGRADE_AT),
        tempo: TEMPO,
        max_uids: 16,
        trades_per_block: 8,
        ..DevnetConfig::default()
    })
    .unwrap();
    let server = taoscope_devnet::serve(devnet, "127.0.0.1:0".parse().unwrap()).await.unwrap();
    let api = OnlineClient::<SubstrateConfig>::from_insecure_url(server.ws_url()).await.unwrap();

    let mut checked_blocks = 0;
    let mut epochs = 0;
    let mut replacements = 0;
    let (mut stake_flows, mut internal_moves) = (0, 0);
    let mut prev = api.at_block(2u64).await.unwrap();
    for n in 3..=BLOCKS {
        let at = api.at_block(n).await.unwrap();
        // Events are decoded with the runtime that produced them (the parent's on the upgrade block).
        let raw = at.storage().fetch_raw(taoscope_devnet::runtime::storage::events_key()).await.unwrap();
        let events = prev.events().from_bytes(raw);
        let mut flows: BTreeMap<u16, Flows> = BTreeMap::new();
        let mut same_subnet_moves: Vec<(u16, u128)> = vec![];
        let mut stake_events: Vec<(bool, u16, u128, u128, u128)> = vec![];
        for ev in events.iter() {
            let ev = ev.unwrap();
            let fields: Vec<Value<()>> =
                ev.decode_fields_unchecked_as::<Composite<()>>().unwrap().into_values().collect();
            match (ev.pallet_name(), ev.event_name()) {
                ("SubtensorModule", name @ ("StakeAdded" | "StakeRemoved")) => {
                    let fee = fields.get(5).map(u128_of).unwrap_or(0);
                    let netuid = u128_of(&fields[4]) as u16;
                    stake_events.push((
                        name == "StakeAdded",
                        netuid,
                        u128_of(&fields[2]),
                        u128_of(&fields[3]),
                        fee,
                    ));
                }
                ("SubtensorModule", "StakeMoved") if u128_of(&fields[2]) == u128_of(&fields[4]) => {
                    same_subnet_moves.push((u128_of(&fields[2]) as u16, u128_of(&fields[5])));
                }
                ("SubtensorModule", "NeuronRegistered") => {
                    let (netuid, uid) = (u128_of(&fields[0]) as u16, u128_of(&fields[1]) as u64);
                    if uid < u64_item(&prev, "SubnetworkN", netuid).await {
                        replacements += 1;
                    }
                }
                _ => {}
            }
        }
        // A move within one subnet is a StakeRemoved + StakeAdded pair that never touches the
        // pool (as on finney): leave those pairs out of the reserve flows.
        internal_moves += same_subnet_moves.len();
        for (netuid, tao) in same_subnet_moves {
            for added in [false, true] {
                let i = stake_events
                    .iter()
                    .position(|e| e.0 == added && e.1 == netuid && e.2 == tao && e.4 == 0)
                    .expect("a same-subnet move has its stake event pair");
                stake_events.remove(i);
            }
        }
        stake_flows += stake_events.len();
        for (added, netuid, tao, alpha, fee) in stake_events {
            let f = flows.entry(netuid).or_default();
            if added {
                f.tao_in += tao as i128;
                f.alpha_to_pool -= alpha as i128;
            } else {
                f.tao_in -= tao as i128;
                f.alpha_to_pool += (alpha + fee) as i128;
            }
        }

        let mut block_tao_in = 0;
        for netuid in 1..=SUBNETS {
            let d = |a: u64, b: u64| a as i128 - b as i128;
            let f = flows.get(&netuid).copied().unwrap_or_default();
            let tao_in = u64_item(&at, "SubnetTaoInEmission", netuid).await;
            let alpha_in = u64_item(&at, "SubnetAlphaInEmission", netuid).await;
            let alpha_out_e = u64_item(&at, "SubnetAlphaOutEmission", netuid).await;
            block_tao_in += tao_in;
            let tao = d(u64_item(&at, "SubnetTAO", netuid).await, u64_item(&prev, "SubnetTAO", netuid).await);
            let ain = d(
                u64_item(&at, "SubnetAlphaIn", netuid).await,
                u64_item(&prev, "SubnetAlphaIn", netuid).await,
            );
            let aout = d(
                u64_item(&at, "SubnetAlphaOut", netuid).await,
                u64_item(&prev, "SubnetAlphaOut", netuid).await,
            );
            assert_eq!(tao, tao_in as i128 + f.tao_in, "SubnetTAO change at block {n} netuid {netuid}");
            assert_eq!(
                ain,
                alpha_in as i128 + f.alpha_to_pool,
                "SubnetAlphaIn change at block {n} netuid {netuid}"
            );
            assert_eq!(
                aout,
                alpha_out_e as i128 - f.alpha_to_pool,
                "SubnetAlphaOut change at block {n} netuid {netuid}"
            );

            let last_step = u64_item(&at, "LastMechansimStepBlock", netuid).await;
            let due = (n + u64::from(netuid) + 1).is_multiple_of(u64::from(TEMPO) + 1);
            assert_eq!(last_step == n, due, "epoch of netuid {netuid} at block {n}");
            if due {
                epochs += 1;
                let uids = u64_item(&at, "SubnetworkN", netuid).await as usize;
                for item in
                    ["Incentive", "Dividends", "Emission", "Consensus", "ValidatorTrust", "ValidatorPermit"]
                {
                    assert_eq!(vec_len(&at, item, netuid).await, uids, "{item} of netuid {netuid} at {n}");
                }
            }
        }
        assert!(block_tao_in <= 1_000_000_000, "the block reward is at most 1 TAO: {block_tao_in}");
        checked_blocks += 1;
        prev = at;
    }
    assert_eq!(checked_blocks, BLOCKS - 2);
    assert!(epochs >= 20, "{epochs} epochs");
    assert!(replacements > 0, "full subnets replace uids");
    assert!(
        stake_flows > 200 && internal_moves > 0,
        "{stake_flows} stake events, {internal_moves} same-subnet moves"
    );
    server.stop().await;
}
