//! The `subnets` table: each subnet's identity (name, token symbol, owner keys, registration
//! block) and tempo as of the newest block of a batch that reported its pool, upserted in the
//! batch's transaction. Values a block did not report (the storage path has no names) keep
//! what an earlier block said.

use std::collections::BTreeMap;

use taoscope_schema::ss58::AccountId;
use tokio_postgres::Transaction;

use crate::error::IndexerError;
use crate::rows::BlockRows;

const UPSERT_SUBNETS: &str = "INSERT INTO subnets
        (netuid, name, symbol, owner_coldkey, owner_hotkey, tempo, registered_at, updated_block)
    SELECT * FROM unnest($1::int4[], $2::text[], $3::text[], $4::text[], $5::text[], $6::int4[],
                         $7::int8[], $8::int8[])
    ON CONFLICT (netuid) DO UPDATE SET
        name = coalesce(EXCLUDED.name, subnets.name),
        symbol = coalesce(EXCLUDED.symbol, subnets.symbol),
        owner_coldkey = coalesce(EXCLUDED.owner_coldkey, subnets.owner_coldkey),
        owner_hotkey = coalesce(EXCLUDED.owner_hotkey, subnets.owner_hotkey),
        tempo = coalesce(EXCLUDED.tempo, subnets.tempo),
        registered_at = coalesce(EXCLUDED.registered_at, subnets.registered_at),
        updated_block = EXCLUDED.updated_block";

/// Rows written after a kept height (a reorg) are removed with the blocks they came from; the
/// next batch writes every live subnet again.
pub(super) const DELETE_AFTER: &str = "DELETE FROM subnets WHERE updated_block > $1";

/// Upserts the newest pool row of each subnet in `blocks` (ascending).
pub(super) async fn upsert(tx: &Transaction<'_>, blocks: &[BlockRows]) -> Result<u64, IndexerError> {
    let mut newest = BTreeMap::new();
    for b in blocks {
        for p in &b.state.pools {
            newest.insert(p.netuid, (b.raw.number, p));
        }
    }
    if newest.is_empty() {
        return Ok(0);
    }
    let ss58 = |key: Option<[u8; 32]>| key.map(|k| AccountId(k).to_ss58());
    let mut cols = Columns::default();
    for (netuid, (block, p)) in newest {
        cols.netuid.push(i32::from(netuid));
        cols.name.push(p.name.clone());
        cols.symbol.push(p.symbol.clone());
        cols.owner_coldkey.push(ss58(p.owner_coldkey));
        cols.owner_hotkey.push(ss58(p.owner_hotkey));
        cols.tempo.push(p.tempo.map(i32::from));
        cols.registered_at.push(p.registered_at.map(|b| b as i64));
        cols.updated_block.push(block as i64);
    }
    Ok(tx
        .execute(
            UPSERT_SUBNETS,
            &[
                &cols.netuid,
                &cols.name,
                &cols.symbol,
                &cols.owner_coldkey,
                &cols.owner_hotkey,
                &cols.tempo,
                &cols.registered_at,
                &cols.updated_block,
            ],
        )
        .await?)
}

#[derive(Default)]
struct Columns {
    netuid: Vec<i32>,
    name: Vec<Option<String>>,
    symbol: Vec<Option<String>>,
    owner_coldkey: Vec<Option<String>>,
    owner_hotkey: Vec<Option<String>>,
    tempo: Vec<Option<i32>>,
    registered_at: Vec<Option<i64>>,
    updated_block: Vec<i64>,
}
