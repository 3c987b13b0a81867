//! Relay-style pagination shared by every list: the `first`/`after` arguments, keyset cursors
//! (opaque base64 of `<kind>:<key>,<key>`) and the connection built from one over-fetched page.
//!
//! Lists are read with keyset pagination: a page asks the database for `first + 1` rows after
//! the cursor's key in the list's order, so every page is one bounded index scan at any depth
//! and the extra row tells whether another page follows.

use async_graphql::OutputType;
use async_graphql::connection::{Connection, Edge};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

use crate::error::ApiError;

/// Page size when `first` is not given.
pub const DEFAULT_PAGE_SIZE: i32 = 100;
/// Largest accepted `first`.
pub const MAX_PAGE_SIZE: i32 = 1_000;

/// A list's order along its key.
#[derive(async_graphql::Enum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortOrder {
    /// Oldest (smallest key) first.
    #[default]
    Asc,
    /// Newest (largest key) first.
    Desc,
}

impl SortOrder {
    /// Whether rows run newest first.
    pub fn desc(self) -> bool {
        self == SortOrder::Desc
    }
}

/// A validated page request: how many rows, and the key of the last row already seen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    /// Rows wanted (0 to [`MAX_PAGE_SIZE`]).
    pub limit: i64,
    /// Key of the row the page starts after, from the `after` cursor.
    pub after: Option<Vec<i64>>,
}

impl PageRequest {
    /// Validates `first` and decodes `after` as a cursor of `kind` with `keys` parts.
    pub fn new(first: Option<i32>, after: Option<&str>, kind: &str, keys: usize) -> Result<Self, ApiError> {
        let first = first.unwrap_or(DEFAULT_PAGE_SIZE);
        if !(0..=MAX_PAGE_SIZE).contains(&first) {
            return Err(ApiError::BadInput(format!(
                "`first` must be between 0 and {MAX_PAGE_SIZE}, got {first}"
            )));
        }
        let after = after.map(|c| decode_cursor(c, kind, keys)).transpose()?;
        Ok(PageRequest { limit: i64::from(first), after })
    }

    /// Rows to fetch: one more than wanted, to learn whether another page follows.
    pub fn fetch(&self) -> i64 {
        self.limit + 1
    }

    /// Key part `i` of the `after` cursor, or `default` (a bound before every row) without one.
    pub fn after_or(&self, i: usize, default: i64) -> i64 {
        self.after.as_ref().map_or(default, |k| k[i])
    }

    /// Turns up to `limit + 1` rows into a connection; `key` gives each row's cursor key.
    pub fn connection<T: OutputType>(
        &self,
        kind: &str,
        mut rows: Vec<T>,
        key: impl Fn(&T) -> Vec<i64>,
    ) -> Connection<String, T> {
        let limit = usize::try_from(self.limit).unwrap_or(0);
        let has_next = rows.len() > limit;
        rows.truncate(limit);
        let mut connection = Connection::new(self.after.is_some(), has_next);
        connection.edges.extend(rows.into_iter().map(|row| Edge::new(encode_cursor(kind, &key(&row)), row)));
        connection
    }
}

/// The opaque cursor of `key` in a list of `kind`.
pub fn encode_cursor(kind: &str, key: &[i64]) -> String {
    let parts: Vec<String> = key.iter().map(i64::to_string).collect();
    STANDARD.encode(format!("{kind}:{}", parts.join(",")))
}

/// Decodes a cursor that [`encode_cursor`] made for a list of `kind` with `keys` key parts
/// (each a non-negative integer).
pub fn decode_cursor(cursor: &str, kind: &str, keys: usize) -> Result<Vec<i64>, ApiError> {
    let malformed =
        || ApiError::BadInput("malformed cursor: pass a `cursor` or `endCursor` value from this list".into());
    let bytes = STANDARD.decode(cursor).map_err(|_| malformed())?;
    let text = std::str::from_utf8(&bytes).map_err(|_| malformed())?;
    let body = text.strip_prefix(kind).and_then(|t| t.strip_prefix(':')).ok_or_else(malformed)?;
    let key = body
        .split(',')
        .map(|part| {
            // Digits only (every key is a non-negative number): `i64::from_str` would also take
            // a sign.
            if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                return Err(malformed());
            }
            part.parse::<i64>().map_err(|_| malformed())
        })
        .collect::<Result<Vec<_>, _>>()?;
    if key.len() != keys {
        return Err(malformed());
    }
    Ok(key)
}

/// Complexity of a connection field: its selection once per requested row.
pub fn page_complexity(first: Option<i32>, child_complexity: usize) -> usize {
    let rows = first.unwrap_or(DEFAULT_PAGE_SIZE).clamp(1, MAX_PAGE_SIZE);
    usize::try_from(rows).unwrap_or(1).saturating_mul(child_complexity)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_round_trip_and_check_their_kind_and_arity() {
        for key in [vec![0], vec![4_000_000, 7], vec![5, i64::MAX, 0]] {
            let c = encode_cursor("event", &key);
            assert_eq!(decode_cursor(&c, "event", key.len()).unwrap(), key);
            assert!(decode_cursor(&c, "block", key.len()).is_err());
            assert!(decode_cursor(&c, "event", key.len() + 1).is_err());
        }
    }

    #[test]
    fn foreign_strings_are_not_cursors() {
        let enc = |s: &str| STANDARD.encode(s);
        for bad in [
            "garbage!".to_string(),
            String::new(),
            enc("event:"),
            enc("event:+5"),
            enc("event:-5"),
            enc("event:5,"),
            enc("event:99999999999999999999"),
            enc("events:5"),
            enc("event:1;DROP TABLE blocks"),
            "12".to_string(),
        ] {
            assert!(decode_cursor(&bad, "event", 1).is_err(), "{bad}");
        }
    }

    #[test]
    fn page_sizes_are_capped() {
        assert_eq!(PageRequest::new(None, None, "x", 1).unwrap().limit, 100);
        assert_eq!(PageRequest::new(Some(1_000), None, "x", 1).unwrap().limit, 1_000);
        assert!(PageRequest::new(Some(1_001), None, "x", 1).is_err());
        assert!(PageRequest::new(Some(-1), None, "x", 1).is_err());
        assert_eq!(page_complexity(Some(10), 5), 50);
        assert_eq!(page_complexity(Some(1_000_000), 5), 5_000);
        assert_eq!(page_complexity(Some(-3), 5), 5);
    }
}
