//! The tables a batch writes, each with one binary `COPY` of the batch's rows, straight into the
//! table: a batch is written once, in the transaction that moves the checkpoint past it, so a
//! row already there is a bug to surface (a primary-key violation), not something to skip.
//! Pool prices and fixed-point values are computed exactly in Rust ([`taoscope_math::decimal`])
//! and sent as `numeric`.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use bytes::{BufMut, Bytes, BytesMut};
use futures::SinkExt;
use tokio_postgres::Transaction;
use tokio_postgres::types::{IsNull, ToSql, Type};

use taoscope_math::decimal;

use super::numeric::Numeric;
use crate::error::IndexerError;
use crate::rows::BlockRows;

/// One table's rows in PostgreSQL's binary `COPY` format, encoded in memory before anything is
/// sent (encoding is synchronous: no value is held across an await).
struct Table {
    name: &'static str,
    columns: &'static str,
    types: &'static [Type],
    data: BytesMut,
    rows: usize,
}

/// The binary `COPY` header: signature, flags, header extension length.
const COPY_HEADER: &[u8] = b"PGCOPY\n\xff\r\n\0\0\0\0\0\0\0\0\0";

impl Table {
    fn new(name: &'static str, columns: &'static str, types: &'static [Type]) -> Table {
        let mut data = BytesMut::with_capacity(64 * 1024);
        data.put_slice(COPY_HEADER);
        Table { name, columns, types, data, rows: 0 }
    }

    /// Appends a row: its field count, then each value's length (-1 for NULL) and bytes.
    fn row(&mut self, values: &[&(dyn ToSql + Sync)]) -> Result<(), IndexerError> {
        debug_assert_eq!(values.len(), self.types.len());
        self.data.put_i16(values.len() as i16);
        for (value, ty) in values.iter().zip(self.types) {
            let at = self.data.len();
            self.data.put_i32(0);
            let written = value
                .to_sql_checked(ty, &mut self.data)
                .map_err(|e| IndexerError::Encode { table: self.name, reason: e.to_string() })?;
            let len = match written {
                IsNull::Yes => -1,
                IsNull::No => i32::try_from(self.data.len() - at - 4).map_err(|_| IndexerError::Encode {
                    table: self.name,
                    reason: "a value larger than 2 GiB".into(),
                })?,
            };
            self.data[at..at + 4].copy_from_slice(&len.to_be_bytes());
        }
        self.rows += 1;
        Ok(())
    }

    fn finish(mut self) -> Bytes {
        self.data.put_i16(-1);
        self.data.freeze()
    }
}

/// A chain amount as bigint (every balance is below 2^63: total supply is 21e15 rao).
fn amount(v: u64) -> i64 {
    i64::try_from(v).unwrap_or(i64::MAX)
}

fn number(v: u64) -> i64 {
    i64::try_from(v).expect("block numbers fit in i64")
}

/// Sends each table's rows with one `COPY … FROM STDIN BINARY`.
async fn send(tx: &Transaction<'_>, tables: Vec<Table>) -> Result<(), IndexerError> {
    for table in tables {
        if table.rows == 0 {
            continue;
        }
        let sql = format!("COPY {} ({}) FROM STDIN BINARY", table.name, table.columns);
        let sink = tx.copy_in::<_, Bytes>(&sql).await?;
        futures::pin_mut!(sink);
        sink.send(table.finish()).await?;
        sink.as_mut().finish().await?;
    }
    Ok(())
}

/// Copies every table's rows of `blocks`.
pub async fn copy_all(tx: &Transaction<'_>, blocks: &[BlockRows]) -> Result<(), IndexerError> {
    let tables = encode(blocks)?;
    send(tx, tables).await
}

fn pairs(row: &[(u16, u16)]) -> (Vec<i32>, Vec<i32>) {
    row.iter().map(|(to, w)| (i32::from(*to), i32::from(*w))).unzip()
}

/// Every table's rows of `blocks`, in write order (blocks first: the rest reference them).
fn encode(blocks: &[BlockRows]) -> Result<Vec<Table>, IndexerError> {
    use Type as T;
    let mut block_rows = Table::new(
        "blocks",
        "number, hash, parent_hash, state_root, extrinsics_root, timestamp, spec_version, event_count, extrinsic_count",
        &[T::INT8, T::BYTEA, T::BYTEA, T::BYTEA, T::BYTEA, T::TIMESTAMPTZ, T::INT4, T::INT4, T::INT4],
    );
    let mut extrinsics = Table::new(
        "extrinsics",
        "block_number, index, hash, pallet, call, signer, success, raw, args, fee",
        &[T::INT8, T::INT4, T::BYTEA, T::TEXT, T::TEXT, T::TEXT, T::BOOL, T::BYTEA, T::JSONB, T::INT8],
    );
    let mut events = Table::new(
        "events",
        "block_number, index, phase, extrinsic_index, pallet, name, raw, data",
        &[T::INT8, T::INT4, T::TEXT, T::INT4, T::TEXT, T::TEXT, T::BYTEA, T::JSONB],
    );
    let mut stake = Table::new(
        "stake_ledger",
        "block_number, event_index, extrinsic_index, direction, coldkey, hotkey, netuid, tao, alpha, fee, fee_token, movement, movement_event_index",
        &[
            T::INT8,
            T::INT4,
            T::INT4,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::INT4,
            T::INT8,
            T::INT8,
            T::INT8,
            T::TEXT,
            T::TEXT,
            T::INT4,
        ],
    );
    let mut movements = Table::new(
        "stake_movements",
        "block_number, event_index, extrinsic_index, kind, origin_coldkey, destination_coldkey, origin_hotkey, destination_hotkey, origin_netuid, destination_netuid, tao, removed_event_index, added_event_index",
        &[
            T::INT8,
            T::INT4,
            T::INT4,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::TEXT,
            T::INT4,
            T::INT4,
            T::INT8,
            T::INT4,
            T::INT4,
        ],
    );
    let mut registrations = Table::new(
        "registrations",
        "block_number, event_index, extrinsic_index, netuid, uid, hotkey, replaced, replaced_hotkey",
        &[T::INT8, T::INT4, T::INT4, T::INT4, T::INT4, T::TEXT, T::BOOL, T::TEXT],
    );
    let mut weights = Table::new(
        "weights_set",
        "block_number, event_index, extrinsic_index, netuid, mechanism, uid",
        &[T::INT8, T::INT4, T::INT4, T::INT4, T::INT4, T::INT4],
    );
    let mut pools = Table::new(
        "pool_state",
        "block_number, netuid, tao, alpha_in, alpha_out, price, price_source, moving_price, sqrt_price, balancer_quote, tao_in_emission, alpha_in_emission, alpha_out_emission, volume",
        &[
            T::INT8,
            T::INT4,
            T::INT8,
            T::INT8,
            T::INT8,
            T::NUMERIC,
            T::TEXT,
            T::NUMERIC,
            T::NUMERIC,
            T::NUMERIC,
            T::INT8,
            T::INT8,
            T::INT8,
            T::NUMERIC,
        ],
    );
    let mut epochs = Table::new(
        "epochs",
        "block_number, netuid, uids, kappa, bonds_moving_average, activity_cutoff, max_allowed_validators, bonds_penalty, tempo, yuma3, liquid_alpha, alpha_low, alpha_high, alpha_steepness, stake_threshold, owner_hotkey",
        &[
            T::INT8,
            T::INT4,
            T::INT4,
            T::INT4,
            T::INT8,
            T::INT4,
            T::INT4,
            T::INT4,
            T::INT4,
            T::BOOL,
            T::BOOL,
            T::INT4,
            T::INT4,
            T::INT4,
            T::INT8,
            T::TEXT,
        ],
    );
    let mut metagraph = Table::new(
        "metagraph",
        "block_number, netuid, uid, hotkey, coldkey, stake, incentive, dividends, emission, consensus, validator_trust, validator_permit, active, last_update, weights_to, weights, bonds_to, bonds, input_hotkey, input_stake, input_last_update, input_validator_permit, input_weights_to, input_weights, input_bonds_to, input_bonds, input_registered_at",
        &[
            T::INT8,
            T::INT4,
            T::INT4,
            T::TEXT,
            T::TEXT,
            T::INT8,
            T::INT4,
            T::INT4,
            T::INT8,
            T::INT4,
            T::INT4,
            T::BOOL,
            T::BOOL,
            T::INT8,
            T::INT4_ARRAY,
            T::INT4_ARRAY,
            T::INT4_ARRAY,
            T::INT4_ARRAY,
            T::TEXT,
            T::INT8,
            T::INT8,
            T::BOOL,
            T::INT4_ARRAY,
            T::INT4_ARRAY,
            T::INT4_ARRAY,
            T::INT4_ARRAY,
            T::INT8,
        ],
    );
    let mut failures = Table::new(
        "decode_failures",
        "block_number, kind, item, spec_version, reason, raw",
        &[T::INT8, T::TEXT, T::TEXT, T::INT4, T::TEXT, T::BYTEA],
    );

    for b in blocks {
        let n = number(b.raw.number);
        let spec = b.executing_spec as i32;
        let ts: Option<SystemTime> = b.decoded.timestamp_ms.map(|ms| UNIX_EPOCH + Duration::from_millis(ms));
        block_rows.row(&[
            &n,
            &&b.raw.hash[..],
            &&b.raw.parent_hash[..],
            &&b.raw.state_root[..],
            &&b.raw.extrinsics_root[..],
            &ts,
            &spec,
            &(b.decoded.events.len() as i32),
            &(b.decoded.extrinsics.len() as i32),
        ])?;
        for x in &b.decoded.extrinsics {
            let fee = b.typed.fees.get(&x.index).map(|f| amount(*f));
            extrinsics.row(&[
                &n,
                &x.index,
                &&x.hash[..],
                &x.pallet,
                &x.call,
                &x.signer,
                &x.success,
                &x.raw,
                &x.args,
                &fee,
            ])?;
        }
        for e in &b.decoded.events {
            events.row(&[&n, &e.index, &e.phase, &e.extrinsic_index, &e.pallet, &e.name, &e.raw, &e.data])?;
        }
        for s in &b.typed.stake {
            stake.row(&[
                &n,
                &s.event_index,
                &s.extrinsic_index,
                &if s.added { "add" } else { "remove" },
                &s.coldkey,
                &s.hotkey,
                &s.netuid.map(i32::from),
                &amount(s.tao),
                &s.alpha.map(amount),
                &amount(s.fee),
                &s.fee_token,
                &s.movement,
                &s.movement_event_index,
            ])?;
        }
        for m in &b.typed.movements {
            movements.row(&[
                &n,
                &m.event_index,
                &m.extrinsic_index,
                &m.kind,
                &m.origin_coldkey,
                &m.destination_coldkey,
                &m.origin_hotkey,
                &m.destination_hotkey,
                &i32::from(m.origin_netuid),
                &i32::from(m.destination_netuid),
                &amount(m.tao),
                &m.removed_event_index,
                &m.added_event_index,
            ])?;
        }
        for r in &b.typed.registrations {
            registrations.row(&[
                &n,
                &r.event_index,
                &r.extrinsic_index,
                &i32::from(r.netuid),
                &i32::from(r.uid),
                &r.hotkey,
                &r.replaced,
                &r.replaced_hotkey,
            ])?;
        }
        for w in &b.typed.weights {
            weights.row(&[
                &n,
                &w.event_index,
                &w.extrinsic_index,
                &i32::from(w.netuid),
                &i32::from(w.mechanism),
                &i32::from(w.uid),
            ])?;
        }
        for p in &b.state.pools {
            pools.row(&[
                &n,
                &i32::from(p.netuid),
                &amount(p.tao),
                &amount(p.alpha_in),
                &amount(p.alpha_out),
                &Numeric(p.price()),
                &p.source.map_or("reserves", |s| s.as_str()),
                &p.moving_price.map(|(bits, frac)| Numeric(decimal::fixed(bits, frac))),
                &p.sqrt_price.map(|bits| Numeric(decimal::fixed_unsigned(bits, 64))),
                &p.balancer_quote.map(|q| Numeric(decimal::scaled(u128::from(q), 18))),
                &p.tao_in_emission.map(amount),
                &p.alpha_in_emission.map(amount),
                &p.alpha_out_emission.map(amount),
                &p.volume.map(|v| Numeric(v.to_string())),
            ])?;
        }
        for e in &b.state.epochs {
            let p = &e.params;
            let int = |v: Option<u16>| v.map(i32::from);
            epochs.row(&[
                &n,
                &i32::from(e.netuid),
                &i32::from(e.uids),
                &int(p.kappa),
                &p.bonds_moving_average.map(amount),
                &int(p.activity_cutoff),
                &int(p.max_allowed_validators),
                &int(p.bonds_penalty),
                &int(p.tempo),
                &p.yuma3,
                &p.liquid_alpha,
                &int(p.alpha_values.map(|v| v.0)),
                &int(p.alpha_values.map(|v| v.1)),
                &p.alpha_steepness.map(i32::from),
                &p.stake_threshold.map(amount),
                &p.owner_hotkey,
            ])?;
        }
        for m in &b.state.metagraph {
            let (weights_to, weights) = pairs(&m.weights);
            let (bonds_to, bonds) = pairs(&m.bonds);
            let (in_weights_to, in_weights) = pairs(&m.input.weights);
            let (in_bonds_to, in_bonds) = pairs(&m.input.bonds);
            metagraph.row(&[
                &n,
                &i32::from(m.netuid),
                &i32::from(m.uid),
                &m.hotkey,
                &m.coldkey,
                &m.stake.map(amount),
                &m.incentive.map(i32::from),
                &m.dividends.map(i32::from),
                &m.emission.map(amount),
                &m.consensus.map(i32::from),
                &m.validator_trust.map(i32::from),
                &m.validator_permit,
                &m.active,
                &m.last_update.map(amount),
                &weights_to,
                &weights,
                &bonds_to,
                &bonds,
                &m.input.hotkey,
                &m.input.stake.map(amount),
                &m.input.last_update.map(amount),
                &m.input.validator_permit,
                &in_weights_to,
                &in_weights,
                &in_bonds_to,
                &in_bonds,
                &m.input.registered_at.map(amount),
            ])?;
        }
        for f in &b.failures {
            failures.row(&[&n, &f.kind, &f.item, &spec, &f.reason, &f.raw])?;
        }
    }
    Ok(vec![
        block_rows,
        extrinsics,
        events,
        stake,
        movements,
        registrations,
        weights,
        pools,
        epochs,
        metagraph,
        failures,
    ])
}
