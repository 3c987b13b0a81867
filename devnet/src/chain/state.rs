//! Storage as of any block: every key keeps the history of its values, so queries at old blocks
//! cost a binary search and a short decode, and memory grows only with what changes (a node in
//! archive mode). Histories are packed (see [`history`]): a `u64` that moved costs ~7 bytes.

mod history;

use std::collections::{BTreeSet, HashMap};
use std::fmt;
use std::ops::Bound;

use self::history::History;

/// Key-value storage with per-block history.
#[derive(Default)]
pub struct VersionedState {
    /// Histories by key (hashed: keys share long prefixes, which makes ordered lookups slow).
    entries: HashMap<Box<[u8]>, History>,
    /// The same keys in order, for paging.
    order: BTreeSet<Box<[u8]>>,
}

/// What a [`VersionedState`] holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct StateStats {
    /// Keys with at least one version.
    pub keys: usize,
    /// Versions over all keys.
    pub versions: usize,
    /// Bytes of packed histories (keys excluded).
    pub bytes: usize,
    /// Bytes of keys.
    pub key_bytes: usize,
}

impl fmt::Display for StateStats {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} keys ({:.1} MB), {} versions in {:.1} MB ({:.1} bytes/version)",
            self.keys,
            self.key_bytes as f64 / 1e6,
            self.versions,
            self.bytes as f64 / 1e6,
            self.bytes as f64 / self.versions.max(1) as f64
        )
    }
}

impl VersionedState {
    /// The value of `key` at the end of block `at`.
    pub fn get(&self, key: &[u8], at: u32) -> Option<Vec<u8>> {
        self.entries.get(key)?.get(at)
    }

    /// Sets `key` from block `at` on. Blocks must be written in increasing order; writing the
    /// current value again is a no-op, a second write in the same block replaces the first.
    /// Returns whether the state changed.
    pub fn set(&mut self, key: &[u8], value: Option<&[u8]>, at: u32) -> bool {
        if let Some(history) = self.entries.get_mut(key) {
            let changed = history.set(at, value);
            if history.is_empty() {
                self.entries.remove(key);
                self.order.remove(key);
            }
            return changed;
        }
        if value.is_none() {
            return false;
        }
        let mut history = History::default();
        history.set(at, value);
        self.entries.insert(key.into(), history);
        self.order.insert(key.into());
        true
    }

    /// Up to `count` keys starting with `prefix` that have a value at block `at`, in order,
    /// strictly after `start_key` when given (`state_getKeysPaged`).
    pub fn keys_paged(&self, prefix: &[u8], count: usize, start_key: Option<&[u8]>, at: u32) -> Vec<Vec<u8>> {
        let lower = match start_key {
            Some(k) if k >= prefix => Bound::Excluded(k),
            _ => Bound::Included(prefix),
        };
        self.order
            .range::<[u8], _>((lower, Bound::Unbounded))
            .take_while(|k| k.starts_with(prefix))
            .filter(|k| self.entries.get(&k[..]).is_some_and(|h| h.exists(at)))
            .map(|k| k.to_vec())
            .take(count)
            .collect()
    }

    /// Forgets every version written after block `at` (used when the chain is rewound).
    pub fn truncate_after(&mut self, at: u32) {
        let order = &mut self.order;
        self.entries.retain(|k, h| {
            h.truncate_after(at);
            if h.is_empty() {
                order.remove(k);
            }
            !h.is_empty()
        });
    }

    /// Releases spare capacity (after a bulk build).
    pub fn shrink_to_fit(&mut self) {
        self.entries.values_mut().for_each(History::shrink_to_fit);
    }

    /// Number of keys with a history.
    pub fn key_count(&self) -> usize {
        self.entries.len()
    }

    /// Sizes, for diagnostics.
    pub fn stats(&self) -> StateStats {
        self.entries.iter().fold(StateStats::default(), |s, (k, h)| StateStats {
            keys: s.keys + 1,
            versions: s.versions + h.len(),
            bytes: s.bytes + h.bytes(),
            key_bytes: s.key_bytes + 2 * k.len(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_read_as_of_a_block() {
        let mut s = VersionedState::default();
        assert!(s.set(b"a", Some(b"1"), 0));
        assert!(!s.set(b"a", Some(b"1"), 3), "same value is not a change");
        assert!(s.set(b"a", Some(b"2"), 5));
        assert!(s.set(b"a", None, 7));
        assert_eq!(s.get(b"a", 0).as_deref(), Some(&b"1"[..]));
        assert_eq!(s.get(b"a", 4).as_deref(), Some(&b"1"[..]));
        assert_eq!(s.get(b"a", 5).as_deref(), Some(&b"2"[..]));
        assert_eq!(s.get(b"a", 9), None);
        assert_eq!(s.get(b"b", 9), None);
    }

    #[test]
    fn a_second_write_in_the_same_block_replaces_the_first() {
        let mut s = VersionedState::default();
        s.set(b"k", Some(b"1"), 2);
        s.set(b"k", Some(b"2"), 2);
        assert_eq!(s.get(b"k", 2).as_deref(), Some(&b"2"[..]));
        assert_eq!(s.get(b"k", 1), None);
        s.set(b"k", Some(b"3"), 4);
        assert!(s.set(b"k", Some(b"2"), 4), "back to the previous value");
        assert_eq!(s.get(b"k", 4).as_deref(), Some(&b"2"[..]));
        assert_eq!(s.stats().versions, 1);
    }

    #[test]
    fn keys_are_paged_in_order_and_respect_history() {
        let mut s = VersionedState::default();
        for k in [&b"pa"[..], b"pb", b"pc", b"q"] {
            s.set(k, Some(b"x"), 1);
        }
        s.set(b"pb", None, 2);
        assert_eq!(s.keys_paged(b"p", 10, None, 1), vec![b"pa".to_vec(), b"pb".to_vec(), b"pc".to_vec()]);
        assert_eq!(s.keys_paged(b"p", 10, None, 2), vec![b"pa".to_vec(), b"pc".to_vec()]);
        assert_eq!(s.keys_paged(b"p", 1, Some(b"pa"), 1), vec![b"pb".to_vec()]);
        assert_eq!(s.keys_paged(b"p", 10, Some(b"a"), 1).len(), 3, "start before prefix");
    }

    #[test]
    fn truncation_rewinds_history() {
        let mut s = VersionedState::default();
        s.set(b"a", Some(b"1"), 1);
        s.set(b"a", Some(b"2"), 3);
        s.set(b"b", Some(b"1"), 4);
        s.truncate_after(2);
        assert_eq!(s.get(b"a", 9).as_deref(), Some(&b"1"[..]));
        assert_eq!(s.get(b"b", 9), None);
        assert_eq!(s.key_count(), 1);
    }
}
