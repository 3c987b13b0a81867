//! The tables a batch writes, each with one binary `COPY` of the batch's rows, straight into the
//! table: a batch is written once, in the transaction that moves the checkpoint past it, so a
//! row already there is a bug to surface (a primary-key violation), not something to skip.
//! Pool prices and fixed-point values are computed exactly in Rust ([`taoscope_math::decimal`])
//! and sent as `numeric`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use futures::pin_mut;
use tokio_postgres::Transaction;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

use taoscope_math::decimal;

use super::numeric::Numeric;
use crate::error::IndexerError;
use crate::rows::BlockRows;

/// One row of a `COPY`. Rows are built before copying: iterator closures held across the
/// copy's awaits would make the future not `Send` (rust-lang/rust#64552).
type Row = Vec<Box<dyn ToSql + Sync + Send>>;

fn boxed<T: ToSql + Sync + Send + 'static>(v: T) -> Box<dyn ToSql + Sync + Send> {
    Box::new(v)
}

/// A chain amount as bigint (every balance is below 2^63: total supply is 21e15 rao).
fn amount(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn number(v: u64) -> i64 {
    i64::try_from(v).expect("block numbers fit in i64")
}

async fn copy(
    tx: &Transaction<'_>,
    table: &str,
    columns: &str,
    types: &[Type],
    rows: Vec<Row>,
) -> Result<(), IndexerError> {
    if rows.is_empty() {
        return Ok(());
    }
    let sink = tx.copy_in(&format!("COPY {table} ({columns}) FROM STDIN BINARY")).await?;
    let writer = BinaryCopyInWriter::new(sink, types);
    pin_mut!(writer);
    for row in rows {
        let refs: Vec<&(dyn ToSql + Sync)> = row.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
        writer.as_mut().write(&refs).await?;
    }
    writer.finish().await?;
    Ok(())
}

/// Copies every table's rows of `blocks` into the staging tables.
pub async fn copy_all(tx: &Transaction<'_>, blocks: &[BlockRows]) -> Result<(), IndexerError> {
    use Type as T;
    copy(
        tx,
        "blocks",
        "number, hash, parent_hash, state_root, extrinsics_root, timestamp, spec_version, event_count, extrinsic_count",
        &[T::INT8, T::BYTEA, T::BYTEA, T::BYTEA, T::BYTEA, T::TIMESTAMPTZ, T::INT4, T::INT4, T::INT4],
        blocks
            .iter()
            .map(|b| {
                let ts: Option<SystemTime> = b.decoded.timestamp_ms.map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
                vec![
                    boxed(number(b.raw.number)),
                    boxed(b.raw.hash.to_vec()),
                    boxed(b.raw.parent_hash.to_vec()),
                    boxed(b.raw.state_root.to_vec()),
                    boxed(b.raw.extrinsics_root.to_vec()),
                    boxed(ts),
                    boxed(b.executing_spec as i32),
                    boxed(b.decoded.events.len() as i32),
                    boxed(b.decoded.extrinsics.len() as i32),
                ]
            })
            .collect(),
    )
    .await?;
    copy(
        tx,
        "extrinsics",
        "block_number, index, hash, pallet, call, signer, success, raw, args, fee",
        &[T::INT8, T::INT4, T::BYTEA, T::TEXT, T::TEXT, T::TEXT, T::BOOL, T::BYTEA, T::JSONB, T::INT8],
        blocks
            .iter()
            .flat_map(|b| {
                b.decoded.extrinsics.iter().map(|x| {
                    vec![
                        boxed(number(b.raw.number)),
                        boxed(x.index),
                        boxed(x.hash.to_vec()),
                        boxed(x.pallet.clone()),
                        boxed(x.call.clone()),
                        boxed(x.signer.clone()),
                        boxed(x.success),
                        boxed(x.raw.clone()),
                        boxed(x.args.clone()),
                        boxed(b.typed.fees.get(&x.index).map(|f| amount(*f))),
                    ]
                })
            })
            .collect(),
    )
    .await?;
    copy(
        tx,
        "events",
        "block_number, index, phase, extrinsic_index, pallet, name, raw, data",
        &[T::INT8, T::INT4, T::TEXT, T::INT4, T::TEXT, T::TEXT, T::BYTEA, T::JSONB],
        blocks
            .iter()
            .flat_map(|b| {
                b.decoded.events.iter().map(|e| {
                    vec![
                        boxed(number(b.raw.number)),
                        boxed(e.index),
                        boxed(e.phase.to_string()),
                        boxed(e.extrinsic_index),
                        boxed(e.pallet.clone()),
                        boxed(e.name.clone()),
                        boxed(e.raw.clone()),
                        boxed(e.data.clone()),
                    ]
                })
            })
            .collect(),
    )
    .await?;
    copy(
        tx,
        "stake_ledger",
        "block_number, event_index, extrinsic_index, direction, coldkey, hotkey, netuid, tao, alpha, fee, fee_token, movement, movement_event_index",
        &[T::INT8, T::INT4, T::INT4, T::TEXT, T::TEXT, T::TEXT, T::INT4, T::INT8, T::INT8, T::INT8, T::TEXT, T::TEXT, T::INT4],
        blocks
            .iter()
            .flat_map(|b| {
                b.typed.stake.iter().map(|s| {
                    vec![
                        boxed(number(b.raw.number)),
                        boxed(s.event_index),
                        boxed(s.extrinsic_index),
                        boxed(if s.added { "add" } else { "remove" }.to_string()),
                        boxed(s.coldkey.clone()),
                        boxed(s.hotkey.clone()),
                        boxed(s.netuid.map(i32::from)),
                        boxed(amount(s.tao)),
                        boxed(s.alpha.map(amount)),
                        boxed(amount(s.fee)),
                        boxed(s.fee_token.map(str::to_string)),
                        boxed(s.movement.map(str::to_string)),
                        boxed(s.movement_event_index),
                    ]
                })
            })
            .collect(),
    )
    .await?;
    copy(
        tx,
        "stake_movements",
        "block_number, event_index, extrinsic_index, kind, origin_coldkey, destination_coldkey, origin_hotkey, destination_hotkey, origin_netuid, destination_netuid, tao, removed_event_index, added_event_index",
        &[T::INT8, T::INT4, T::INT4, T::TEXT, T::TEXT, T::TEXT, T::TEXT, T::TEXT, T::INT4, T::INT4, T::INT8, T::INT4, T::INT4],
        blocks
            .iter()
            .flat_map(|b| {
                b.typed.movements.iter().map(|m| {
                    vec![
                        boxed(number(b.raw.number)),
                        boxed(m.event_index),
                        boxed(m.extrinsic_index),
                        boxed(m.kind.to_string()),
                        boxed(m.origin_coldkey.clone()),
                        boxed(m.destination_coldkey.clone()),
                        boxed(m.origin_hotkey.clone()),
                        boxed(m.destination_hotkey.clone()),
                        boxed(i32::from(m.origin_netuid)),
                        boxed(i32::from(m.destination_netuid)),
                        boxed(amount(m.tao)),
                        boxed(m.removed_event_index),
                        boxed(m.added_event_index),
                    ]
                })
            })
            .collect(),
    )
    .await?;
    copy(
        tx,
        "registrations",
        "block_number, event_index, extrinsic_index, netuid, uid, hotkey, replaced, replaced_hotkey",
        &[T::INT8, T::INT4, T::INT4, T::INT4, T::INT4, T::TEXT, T::BOOL, T::TEXT],
        blocks
            .iter()
            .flat_map(|b| {
                b.typed.registrations.iter().map(|r| {
                    vec![
                        boxed(number(b.raw.number)),
                        boxed(r.event_index),
                        boxed(r.extrinsic_index),
                        boxed(i32::from(r.netuid)),
                        boxed(i32::from(r.uid)),
                        boxed(r.hotkey.clone()),
                        boxed(r.replaced),
                        boxed(r.replaced_hotkey.clone()),
                    ]
                })
            })
            .collect(),
    )
    .await?;
    copy(
        tx,
        "weights_set",
        "block_number, event_index, extrinsic_index, netuid, mechanism, uid",
        &[T::INT8, T::INT4, T::INT4, T::INT4, T::INT4, T::INT4],
        blocks
            .iter()
            .flat_map(|b| {
                b.typed.weights.iter().map(|w| {
                    vec![
                        boxed(number(b.raw.number)),
                        boxed(w.event_index),
                        boxed(w.extrinsic_index),
                        boxed(i32::from(w.netuid)),
                        boxed(i32::from(w.mechanism)),
                        boxed(i32::from(w.uid)),
                    ]
                })
            })
            .collect(),
    )
    .await?;
    copy_state(tx, blocks).await?;
    copy(
        tx,
        "decode_failures",
        "block_number, kind, item, spec_version, reason, raw",
        &[T::INT8, T::TEXT, T::TEXT, T::INT4, T::TEXT, T::BYTEA],
        blocks
            .iter()
            .flat_map(|b| {
                b.failures.iter().map(|f| {
                    vec![
                        boxed(number(b.raw.number)),
                        boxed(f.kind.to_string()),
                        boxed(f.item.clone()),
                        boxed(b.executing_spec as i32),
                        boxed(f.reason.clone()),
                        boxed(f.raw.clone()),
                    ]
                })
            })
            .collect(),
    )
    .await
}

fn pairs(row: &[(u16, u16)]) -> (Vec<i32>, Vec<i32>) {
    row.iter().map(|(to, w)| (i32::from(*to), i32::from(*w))).unzip()
}

async fn copy_state(tx: &Transaction<'_>, blocks: &[BlockRows]) -> Result<(), IndexerError> {
    use Type as T;
    copy(
        tx,
        "pool_state",
        "block_number, netuid, tao, alpha_in, alpha_out, price, price_source, moving_price, sqrt_price, balancer_quote, tao_in_emission, alpha_in_emission, alpha_out_emission, volume",
        &[T::INT8, T::INT4, T::INT8, T::INT8, T::INT8, T::NUMERIC, T::TEXT, T::NUMERIC, T::NUMERIC, T::NUMERIC, T::INT8, T::INT8, T::INT8, T::NUMERIC],
        blocks
            .iter()
            .flat_map(|b| {
                b.state.pools.iter().map(|p| {
                    vec![
                        boxed(number(b.raw.number)),
                        boxed(i32::from(p.netuid)),
                        boxed(amount(p.tao)),
                        boxed(amount(p.alpha_in)),
                        boxed(amount(p.alpha_out)),
                        boxed(Numeric(p.price())),
                        boxed(p.source.map_or("reserves", |s| s.as_str()).to_string()),
                        boxed(p.moving_price.map(|(bits, frac)| Numeric(decimal::fixed(bits, frac)))),
                        boxed(p.sqrt_price.map(|bits| Numeric(decimal::fixed_unsigned(bits, 64)))),
                        boxed(p.balancer_quote.map(|q| Numeric(decimal::scaled(u128::from(q), 18)))),
                        boxed(p.tao_in_emission.map(amount)),
                        boxed(p.alpha_in_emission.map(amount)),
                        boxed(p.alpha_out_emission.map(amount)),
                        boxed(p.volume.map(|v| Numeric(v.to_string()))),
                    ]
                })
            })
            .collect(),
    )
    .await?;
    copy(
        tx,
        "epochs",
        "block_number, netuid, uids",
        &[T::INT8, T::INT4, T::INT4],
        blocks
            .iter()
            .flat_map(|b| {
                b.state.epochs.iter().map(|(netuid, uids)| {
                    vec![boxed(number(b.raw.number)), boxed(i32::from(*netuid)), boxed(i32::from(*uids))]
                })
            })
            .collect(),
    )
    .await?;
    copy(
        tx,
        "metagraph",
        "block_number, netuid, uid, hotkey, coldkey, stake, incentive, dividends, emission, consensus, validator_trust, validator_permit, active, last_update, weights_to, weights, bonds_to, bonds",
        &[
            T::INT8, T::INT4, T::INT4, T::TEXT, T::TEXT, T::INT8, T::INT4, T::INT4, T::INT8, T::INT4, T::INT4, T::BOOL, T::BOOL,
            T::INT8, T::INT4_ARRAY, T::INT4_ARRAY, T::INT4_ARRAY, T::INT4_ARRAY,
        ],
        blocks
            .iter()
            .flat_map(|b| {
                b.state.metagraph.iter().map(|m| {
                    let (weights_to, weights) = pairs(&m.weights);
                    let (bonds_to, bonds) = pairs(&m.bonds);
                    vec![
                        boxed(number(b.raw.number)),
                        boxed(i32::from(m.netuid)),
                        boxed(i32::from(m.uid)),
                        boxed(m.hotkey.clone()),
                        boxed(m.coldkey.clone()),
                        boxed(m.stake.map(amount)),
                        boxed(m.incentive.map(i32::from)),
                        boxed(m.dividends.map(i32::from)),
                        boxed(m.emission.map(amount)),
                        boxed(m.consensus.map(i32::from)),
                        boxed(m.validator_trust.map(i32::from)),
                        boxed(m.validator_permit),
                        boxed(m.active),
                        boxed(m.last_update.map(amount)),
                        boxed(weights_to),
                        boxed(weights),
                        boxed(bonds_to),
                        boxed(bonds),
                    ]
                })
            })
            .collect(),
    )
    .await
}
