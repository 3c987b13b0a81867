//! The devnet's block store: canonical blocks with their headers, extrinsics and runtime, the
//! storage history, and the finalized head lagging the best head by a fixed depth.
//!
//! A fork ([`Chain::rewind`] then new pushes) replaces unfinalized blocks. Blocks of an abandoned
//! branch stay retrievable by hash, as a node keeps non-canonical blocks, but their state is
//! gone: only the canonical chain has storage history ([`Chain::has_state`]).

pub mod dynamic;
pub mod header;
pub mod state;

use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

use serde_json::value::RawValue;

use parity_scale_codec::Encode;
use sp_crypto_hashing::blake2_256;

use self::dynamic::Tracker;
use self::header::{Digest, DigestItem, Header, extrinsics_root};
use self::state::{StateStats, VersionedState};
use crate::runtime::Spec;
use crate::runtime::types::H256;
use crate::sim::{BuiltBlock, world::Writes};

/// A block as the node serves it.
pub struct StoredBlock {
    /// The header.
    pub header: Header,
    /// blake2-256 of the encoded header.
    pub hash: [u8; 32],
    /// Encoded extrinsics.
    pub extrinsics: Vec<Vec<u8>>,
    /// The runtime in `:code` at this block (what `Core_version` at this block reports).
    pub spec: Spec,
    /// Events emitted.
    pub event_count: usize,
    /// The header's JSON, made on first use (the RPC hot path serves it many times).
    header_json: OnceLock<Box<RawValue>>,
}

impl StoredBlock {
    /// The header as `chain_getHeader` returns it, serialised once.
    pub fn header_json(&self) -> Box<RawValue> {
        self.header_json
            .get_or_init(|| serde_json::value::to_raw_value(&self.header.to_json()).expect("json"))
            .clone()
    }
}

/// Canonical chain plus storage history.
pub struct Chain {
    blocks: Vec<Arc<StoredBlock>>,
    /// Every block ever imported, canonical or abandoned by a fork.
    by_hash: HashMap<[u8; 32], Arc<StoredBlock>>,
    state: VersionedState,
    dynamic: Tracker,
    finality_lag: u32,
}

fn state_root(parent_root: &[u8; 32], writes: &Writes) -> [u8; 32] {
    // A digest of the parent root and the block's writes: deterministic and unique per state,
    // though not a trie root (clients do not recompute it).
    let mut data = parent_root.to_vec();
    data.extend(blake2_256(&writes.iter().collect::<Vec<_>>().encode()));
    blake2_256(&data)
}

impl Chain {
    /// A chain holding only genesis, whose storage is `genesis`.
    pub fn new(genesis: Writes, finality_lag: u32) -> Chain {
        let mut chain = Chain {
            blocks: vec![],
            by_hash: HashMap::new(),
            state: VersionedState::default(),
            dynamic: Tracker::default(),
            finality_lag,
        };
        let header = Header {
            parent_hash: H256([0; 32]),
            number: 0,
            state_root: H256(state_root(&[0; 32], &genesis)),
            extrinsics_root: H256(extrinsics_root(&[])),
            digest: Digest::default(),
        };
        chain.apply_writes(&genesis, 0);
        chain.dynamic.import(&genesis, 0, Spec::Dtao233);
        chain.push_header(header, vec![], Spec::Dtao233, 0);
        chain
    }

    fn apply_writes(&mut self, writes: &Writes, at: u32) {
        for (key, value) in writes {
            self.state.set(key, value.as_deref(), at);
        }
    }

    fn push_header(&mut self, header: Header, extrinsics: Vec<Vec<u8>>, spec: Spec, event_count: usize) {
        let hash = header.hash();
        let block = Arc::new(StoredBlock {
            header,
            hash,
            extrinsics,
            spec,
            event_count,
            header_json: OnceLock::new(),
        });
        self.by_hash.insert(hash, block.clone());
        self.blocks.push(block);
    }

    /// Appends a block built by the simulator on top of the best block.
    pub fn push(&mut self, built: BuiltBlock) -> Arc<StoredBlock> {
        let parent = self.best();
        assert_eq!(built.number, parent.header.number + 1, "blocks are built in order");
        let mut header = Header {
            parent_hash: H256(parent.hash),
            number: built.number,
            state_root: H256(state_root(&parent.header.state_root.0, &built.writes)),
            extrinsics_root: H256(extrinsics_root(&built.extrinsics)),
            digest: Digest { logs: built.digest.clone() },
        };
        // The author's seal: a deterministic stand-in for an sr25519 signature.
        let seal = [blake2_256(&header.encode()), blake2_256(&header.hash())].concat();
        header.digest.logs.push(DigestItem::Seal(*b"aura", seal));
        self.apply_writes(&built.writes, built.number);
        self.dynamic.import(&built.writes, built.number, built.spec_after);
        self.push_header(header, built.extrinsics, built.spec_after, built.event_count);
        self.best()
    }

    /// The best (latest) block.
    pub fn best(&self) -> Arc<StoredBlock> {
        self.blocks.last().expect("genesis exists").clone()
    }

    /// The finalized block: `finality_lag` behind the best.
    pub fn finalized(&self) -> Arc<StoredBlock> {
        let n = self.best().header.number.saturating_sub(self.finality_lag);
        self.blocks[n as usize].clone()
    }

    /// The canonical block at `number`.
    pub fn block(&self, number: u32) -> Option<Arc<StoredBlock>> {
        self.blocks.get(number as usize).cloned()
    }

    /// The block with `hash`, canonical or abandoned by a fork.
    pub fn block_by_hash(&self, hash: &[u8; 32]) -> Option<Arc<StoredBlock>> {
        self.by_hash.get(hash).cloned()
    }

    /// Whether `block` is on the canonical chain (only those have state).
    pub fn has_state(&self, block: &StoredBlock) -> bool {
        self.blocks.get(block.header.number as usize).is_some_and(|b| b.hash == block.hash)
    }

    /// Drops the canonical blocks above `number` and their state (their headers and bodies stay
    /// retrievable by hash); the next [`Chain::push`] builds on block `number`.
    pub fn rewind(&mut self, number: u32) {
        if number >= self.best().header.number {
            return;
        }
        self.blocks.truncate(number as usize + 1);
        self.state.truncate_after(number);
        self.dynamic.rewind(&self.state, number);
    }

    /// The value of `key` at the end of block `number`.
    pub fn storage(&self, key: &[u8], number: u32) -> Option<Vec<u8>> {
        self.state.get(key, number)
    }

    /// SCALE `Vec<Option<DynamicInfo>>` at block `number`
    /// (`SubnetInfoRuntimeApi_get_all_dynamic_info`).
    pub fn dynamic_info_all(&self, number: u32) -> Vec<u8> {
        self.dynamic.all(number)
    }

    /// SCALE `Option<DynamicInfo>` of `netuid` at block `number`
    /// (`SubnetInfoRuntimeApi_get_dynamic_info`).
    pub fn dynamic_info(&self, netuid: u16, number: u32) -> Vec<u8> {
        self.dynamic.one(netuid, number)
    }

    /// Keys under `prefix` at block `number` (`state_getKeysPaged`).
    pub fn keys_paged(&self, prefix: &[u8], count: usize, start: Option<&[u8]>, number: u32) -> Vec<Vec<u8>> {
        self.state.keys_paged(prefix, count, start, number)
    }

    /// Releases spare capacity (after building many blocks at once).
    pub fn shrink_to_fit(&mut self) {
        self.state.shrink_to_fit();
        self.dynamic.shrink_to_fit();
        self.blocks.shrink_to_fit();
    }

    /// Sizes of the storage history, for diagnostics.
    pub fn state_stats(&self) -> StateStats {
        self.state.stats()
    }

    /// The genesis hash.
    pub fn genesis_hash(&self) -> [u8; 32] {
        self.blocks[0].hash
    }
}
