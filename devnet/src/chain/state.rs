//! Storage as of any block: every key keeps the history of its values, so queries at old blocks
//! cost a binary search and memory grows only with what changes (a node in archive mode).

use std::collections::BTreeMap;
use std::ops::Bound;
use std::sync::Arc;

/// One value of a key from `block` on (`None`: deleted).
type Version = (u32, Option<Arc<[u8]>>);

/// Key-value storage with per-block history.
#[derive(Default)]
pub struct VersionedState {
    entries: BTreeMap<Vec<u8>, Vec<Version>>,
}

impl VersionedState {
    /// The value of `key` at the end of block `at`.
    pub fn get(&self, key: &[u8], at: u32) -> Option<Arc<[u8]>> {
        let versions = self.entries.get(key)?;
        let i = versions.partition_point(|(b, _)| *b <= at);
        versions.get(i.checked_sub(1)?)?.1.clone()
    }

    /// Sets `key` from block `at` on. Blocks must be written in increasing order; writing the
    /// current value again is a no-op. Returns whether the state changed.
    pub fn set(&mut self, key: &[u8], value: Option<&[u8]>, at: u32) -> bool {
        let versions = self.entries.entry(key.to_vec()).or_default();
        let current = versions.last().and_then(|(_, v)| v.as_deref());
        if current == value {
            return false;
        }
        let value: Option<Arc<[u8]>> = value.map(Arc::from);
        match versions.last_mut() {
            Some((b, v)) if *b == at => *v = value,
            _ => versions.push((at, value)),
        }
        true
    }

    /// Up to `count` keys starting with `prefix` that have a value at block `at`, in order,
    /// strictly after `start_key` when given (`state_getKeysPaged`).
    pub fn keys_paged(&self, prefix: &[u8], count: usize, start_key: Option<&[u8]>, at: u32) -> Vec<Vec<u8>> {
        let lower = match start_key {
            Some(k) if k >= prefix => Bound::Excluded(k.to_vec()),
            _ => Bound::Included(prefix.to_vec()),
        };
        self.entries
            .range((lower, Bound::Unbounded))
            .take_while(|(k, _)| k.starts_with(prefix))
            .filter(|(k, _)| self.get(k, at).is_some())
            .map(|(k, _)| k.clone())
            .take(count)
            .collect()
    }

    /// Forgets every version written after block `at` (used when the chain is rewound).
    pub fn truncate_after(&mut self, at: u32) {
        self.entries.retain(|_, versions| {
            versions.retain(|(b, _)| *b <= at);
            !versions.is_empty()
        });
    }

    /// Number of keys ever written.
    pub fn key_count(&self) -> usize {
        self.entries.len()
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
