//! One key's values over time, packed into a byte stream.
//!
//! Most of the devnet's storage is numbers that change a little every block (reserves, emission,
//! moving prices). Storing each version whole would cost tens of bytes per version in headers and
//! allocations; here a version costs its block delta, a tag, and the bytes that differ from the
//! previous version (XOR runs), about 7 bytes for a `u64` that moved.
//!
//! Entry layout: `varint(tag · 2 + long) [varint(block − previous block) if long] payload`
//! (`long` is 0 when the entry is one block after the previous one, the common case), where
//! tag `0` is a deletion, an odd tag a full value of `tag >> 1` bytes, and an even tag a patch of `tag >> 1`
//! segments against the previous value (same length), each segment `varint(skip · 16 + n)` and
//! `n` (1–15) bytes to XOR in after skipping `skip` unchanged bytes. Full values and deletions
//! are *resets*: decoding can start there. A reset is forced every [`RESET_EVERY`] entries, so a
//! read decodes at most that many entries after a binary search over the resets.

/// Longest run of patches between two resets.
const RESET_EVERY: u32 = 32;
/// Most bytes one patch segment carries.
const SEGMENT_MAX: usize = 15;

fn put_varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

fn varint_len(mut v: u64) -> usize {
    let mut n = 1;
    while v >= 0x80 {
        v >>= 7;
        n += 1;
    }
    n
}

/// Reads a varint at `*pos`; the stream is written by this module, so it is well formed.
fn get_varint(data: &[u8], pos: &mut usize) -> u64 {
    let mut v = 0u64;
    let mut shift = 0;
    loop {
        let b = data[*pos];
        *pos += 1;
        v |= u64::from(b & 0x7f) << shift;
        if b < 0x80 {
            return v;
        }
        shift += 7;
    }
}

/// Writes an entry head: the tag, and the block delta unless it is 1.
fn put_head(out: &mut Vec<u8>, delta: u64, tag: u64) {
    if delta == 1 {
        put_varint(out, tag << 1);
    } else {
        put_varint(out, tag << 1 | 1);
        put_varint(out, delta);
    }
}

/// Reads an entry head: `(block delta, tag)`.
fn get_head(data: &[u8], pos: &mut usize) -> (u64, u64) {
    let head = get_varint(data, pos);
    let delta = if head & 1 == 1 { get_varint(data, pos) } else { 1 };
    (delta, head >> 1)
}

/// The XOR patch turning `old` into `new` (same length), as segments; `None` when it would not
/// be smaller than `max` bytes.
fn patch(old: &[u8], new: &[u8], max: usize) -> Option<(u64, Vec<u8>)> {
    let mut out = Vec::new();
    let mut segments = 0u64;
    let mut i = 0;
    let mut skip = 0usize;
    while i < new.len() {
        if old[i] == new[i] {
            skip += 1;
            i += 1;
            continue;
        }
        let start = i;
        while i < new.len() && i - start < SEGMENT_MAX && old[i] != new[i] {
            i += 1;
        }
        put_varint(&mut out, (skip * 16 + (i - start)) as u64);
        out.extend(old[start..i].iter().zip(&new[start..i]).map(|(a, b)| a ^ b));
        segments += 1;
        skip = 0;
        if out.len() >= max {
            return None;
        }
    }
    Some((segments, out))
}

/// Where decoding stopped: the value and the position of the last entry read.
struct Cursor {
    value: Option<Vec<u8>>,
    at: u32,
    end: usize,
    since_reset: u32,
}

/// The history of one key.
#[derive(Clone, Default)]
pub(super) struct History {
    stream: Vec<u8>,
    /// `(block, offset)` of every reset entry, in order.
    resets: Vec<(u32, u32)>,
    /// The newest value (`None`: deleted).
    last: Option<Box<[u8]>>,
    last_at: u32,
    since_reset: u32,
    entries: u32,
}

impl History {
    /// Whether no version is left.
    pub(super) fn is_empty(&self) -> bool {
        self.stream.is_empty()
    }

    /// Number of versions.
    pub(super) fn len(&self) -> usize {
        self.entries as usize
    }

    /// Bytes held.
    pub(super) fn bytes(&self) -> usize {
        self.stream.capacity() + self.resets.capacity() * 8 + self.last.as_ref().map_or(0, |v| v.len())
    }

    /// Releases spare capacity.
    pub(super) fn shrink_to_fit(&mut self) {
        self.stream.shrink_to_fit();
        self.resets.shrink_to_fit();
    }

    /// Decodes from reset `r` up to the last entry at or before block `at`.
    fn scan(&self, r: usize, at: u32) -> Cursor {
        let (mut block, start) = self.resets[r];
        let data = &self.stream[..];
        let mut pos = start as usize;
        let (_, mut tag) = get_head(data, &mut pos);
        let mut cur = Cursor { value: None, at: block, end: 0, since_reset: 0 };
        loop {
            if tag == 0 {
                cur.value = None;
                cur.since_reset = 0;
            } else if tag & 1 == 1 {
                let len = (tag >> 1) as usize;
                cur.value = Some(data[pos..pos + len].to_vec());
                pos += len;
                cur.since_reset = 0;
            } else {
                let value = cur.value.as_mut().expect("a patch follows a value");
                let mut i = 0;
                for _ in 0..tag >> 1 {
                    let h = get_varint(data, &mut pos) as usize;
                    i += h / 16;
                    for b in &mut value[i..i + h % 16] {
                        *b ^= data[pos];
                        pos += 1;
                    }
                    i += h % 16;
                }
                cur.since_reset += 1;
            }
            cur.end = pos;
            if pos >= data.len() {
                return cur;
            }
            let mut next = pos;
            let (delta, next_tag) = get_head(data, &mut next);
            let next_block = block + delta as u32;
            if next_block > at {
                return cur;
            }
            block = next_block;
            cur.at = block;
            pos = next;
            tag = next_tag;
        }
    }

    /// The value at the end of block `at`.
    pub(super) fn get(&self, at: u32) -> Option<Vec<u8>> {
        if self.stream.is_empty() {
            return None;
        }
        if at >= self.last_at {
            return self.last.as_deref().map(<[u8]>::to_vec);
        }
        let r = self.resets.partition_point(|(b, _)| *b <= at).checked_sub(1)?;
        self.scan(r, at).value
    }

    /// Whether the key has a value at the end of block `at`.
    pub(super) fn exists(&self, at: u32) -> bool {
        if at >= self.last_at {
            return !self.stream.is_empty() && self.last.is_some();
        }
        self.get(at).is_some()
    }

    /// Sets the value from block `at` on (blocks in increasing order; a second write in the
    /// same block replaces the first). Returns whether the value changed.
    pub(super) fn set(&mut self, at: u32, value: Option<&[u8]>) -> bool {
        let mut replaced = false;
        if !self.stream.is_empty() && at == self.last_at {
            if self.last.as_deref() == value {
                return false;
            }
            match at.checked_sub(1) {
                Some(before) => self.truncate_after(before),
                None => *self = History::default(),
            }
            replaced = true;
        }
        let unchanged = if self.stream.is_empty() { value.is_none() } else { self.last.as_deref() == value };
        if unchanged {
            return replaced;
        }
        let delta = u64::from(at - if self.stream.is_empty() { 0 } else { self.last_at });
        let offset = self.stream.len();
        let reset = match (value, self.last.as_deref()) {
            (None, _) => {
                put_head(&mut self.stream, delta, 0);
                true
            }
            (Some(new), Some(old))
                if !self.resets.is_empty()
                    && old.len() == new.len()
                    && self.since_reset + 1 < RESET_EVERY =>
            {
                let full = varint_len((new.len() as u64) << 1 | 1) + new.len();
                match patch(old, new, full) {
                    Some((segments, bytes)) => {
                        put_head(&mut self.stream, delta, segments << 1);
                        self.stream.extend_from_slice(&bytes);
                        false
                    }
                    None => self.put_full(delta, new),
                }
            }
            (Some(new), _) => self.put_full(delta, new),
        };
        if reset {
            self.resets.push((at, offset as u32));
            self.since_reset = 0;
        } else {
            self.since_reset += 1;
        }
        self.last = value.map(Box::from);
        self.last_at = at;
        self.entries += 1;
        true
    }

    fn put_full(&mut self, delta: u64, value: &[u8]) -> bool {
        put_head(&mut self.stream, delta, (value.len() as u64) << 1 | 1);
        self.stream.extend_from_slice(value);
        true
    }

    /// Forgets every version written after block `at`.
    pub(super) fn truncate_after(&mut self, at: u32) {
        if self.stream.is_empty() || self.last_at <= at {
            return;
        }
        let Some(r) = self.resets.partition_point(|(b, _)| *b <= at).checked_sub(1) else {
            *self = History::default();
            return;
        };
        let cur = self.scan(r, at);
        let dropped = self.count_from(cur.end);
        self.stream.truncate(cur.end);
        self.resets.truncate(r + 1);
        self.last = cur.value.map(Vec::into_boxed_slice);
        self.last_at = cur.at;
        self.since_reset = cur.since_reset;
        self.entries -= dropped;
    }

    /// Entries from byte `from` to the end.
    fn count_from(&self, from: usize) -> u32 {
        let data = &self.stream[..];
        let (mut pos, mut n) = (from, 0);
        while pos < data.len() {
            let (_, tag) = get_head(data, &mut pos);
            if tag & 1 == 1 {
                pos += (tag >> 1) as usize;
            } else {
                for _ in 0..tag >> 1 {
                    let h = get_varint(data, &mut pos) as usize;
                    pos += h % 16;
                }
            }
            n += 1;
        }
        n
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_that_move_a_little_cost_a_few_bytes_and_read_back_exactly() {
        let mut h = History::default();
        let mut v = 1_000_000_000_000u64;
        let mut expect = vec![];
        for b in 0..1000u32 {
            v += u64::from(b) * 7_919;
            assert!(h.set(b, Some(&v.to_le_bytes())));
            expect.push(v);
        }
        assert!(h.stream.len() < 1000 * 8, "{} bytes for 1000 u64 versions", h.stream.len());
        for (b, v) in expect.iter().enumerate() {
            assert_eq!(h.get(b as u32), Some(v.to_le_bytes().to_vec()), "block {b}");
        }
    }

    #[test]
    fn lengths_change_deletions_and_gaps_are_kept() {
        let mut h = History::default();
        h.set(3, Some(b"abc"));
        h.set(5, Some(b"abd"));
        h.set(6, None);
        h.set(9, Some(b"longer value"));
        h.set(12, Some(b"longer valuf"));
        assert_eq!(h.get(2), None);
        assert_eq!(h.get(4).as_deref(), Some(&b"abc"[..]));
        assert_eq!(h.get(5).as_deref(), Some(&b"abd"[..]));
        assert_eq!(h.get(7), None);
        assert_eq!(h.get(11).as_deref(), Some(&b"longer value"[..]));
        assert_eq!(h.get(99).as_deref(), Some(&b"longer valuf"[..]));
        h.truncate_after(10);
        assert_eq!(h.get(99).as_deref(), Some(&b"longer value"[..]));
        assert_eq!(h.len(), 4);
        h.set(11, Some(b"other"));
        assert_eq!(h.get(10).as_deref(), Some(&b"longer value"[..]));
        assert_eq!(h.get(11).as_deref(), Some(&b"other"[..]));
        h.truncate_after(2);
        assert!(h.is_empty());
    }

    #[test]
    fn truncation_inside_a_patch_run_resumes_patching_from_the_kept_value() {
        let mut h = History::default();
        for b in 0..100u32 {
            h.set(b, Some(&(u64::from(b) * 3).to_le_bytes()));
        }
        h.truncate_after(50);
        for b in 51..80u32 {
            h.set(b, Some(&(u64::from(b) * 5).to_le_bytes()));
        }
        for b in 0..80u32 {
            let want = if b <= 50 { u64::from(b) * 3 } else { u64::from(b) * 5 };
            assert_eq!(h.get(b), Some(want.to_le_bytes().to_vec()), "block {b}");
        }
        assert_eq!(h.len(), 80);
    }

    #[test]
    fn random_writes_and_truncations_read_back_like_a_plain_version_list() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(5);
        for _ in 0..50 {
            let (mut h, mut model) = (History::default(), Vec::<(u32, Option<Vec<u8>>)>::new());
            let mut block = 0u32;
            for _ in 0..300 {
                if rng.random_bool(0.05) && block > 0 {
                    block = rng.random_range(0..block);
                    h.truncate_after(block);
                    model.retain(|(b, _)| *b <= block);
                    block += 1;
                    continue;
                }
                block += rng.random_range(0..3);
                let value = match rng.random_range(0..10) {
                    0 => None,
                    1 => Some(vec![rng.random(); rng.random_range(0..40)]),
                    _ => {
                        let mut v = model.last().and_then(|(_, v)| v.clone()).unwrap_or_else(|| vec![0; 24]);
                        for _ in 0..rng.random_range(0..4) {
                            if !v.is_empty() {
                                let i = rng.random_range(0..v.len());
                                v[i] = rng.random();
                            }
                        }
                        Some(v)
                    }
                };
                h.set(block, value.as_deref());
                if model.last().is_some_and(|(b, _)| *b == block) {
                    model.pop();
                }
                let current = model.last().and_then(|(_, v)| v.clone());
                if current != value {
                    model.push((block, value));
                }
            }
            for b in 0..=block + 1 {
                let i = model.partition_point(|(x, _)| *x <= b);
                let want = i.checked_sub(1).and_then(|i| model[i].1.clone());
                assert_eq!(h.get(b), want, "block {b}");
            }
        }
    }
}
