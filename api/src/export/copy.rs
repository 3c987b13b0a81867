//! PostgreSQL's binary `COPY` framing, read as it arrives: the header is checked and dropped,
//! complete rows are counted and cut off whole for the decoder, the sort key of each row is
//! compared with the previous one, and the trailer ends the stream.
//!
//! Format: an 11-byte signature, flags and a header extension; then per row a 16-bit field
//! count and per field a 32-bit length (-1 for NULL) and the value's binary send format; then
//! a field count of -1. All integers are big-endian.

use bytes::{Buf, Bytes, BytesMut};

use super::ExportError;

/// The signature every binary `COPY` stream starts with.
const SIGNATURE: &[u8; 11] = b"PGCOPY\n\xff\r\n\0";
/// Signature, flags (i32) and header extension length (i32).
const HEADER_LEN: usize = 19;

/// The longest sort key (block number, netuid, uid).
pub(crate) const MAX_KEY: usize = 3;

/// Reads one `COPY … TO STDOUT (FORMAT binary)` stream.
pub(crate) struct CopyReader {
    /// Bytes not yet taken: complete rows first (`scanned` bytes of them), then a partial row.
    buf: BytesMut,
    header_done: bool,
    finished: bool,
    scanned: usize,
    rows: usize,
    total_rows: usize,
    columns: usize,
    /// Per selected column, its position in the sort key.
    key_slot: Vec<Option<usize>>,
    key_len: usize,
    last_key: Option<[i64; MAX_KEY]>,
    sorted: bool,
    /// Distinct values of the first key column (the block number), in row order.
    blocks: Vec<i64>,
}

impl CopyReader {
    /// A reader for rows of `columns` values with sort key `key` (selected column indices).
    pub fn new(columns: usize, key: &[usize]) -> CopyReader {
        let mut key_slot = vec![None; columns];
        for (slot, &column) in key.iter().enumerate().take(MAX_KEY) {
            key_slot[column] = Some(slot);
        }
        CopyReader {
            buf: BytesMut::with_capacity(1 << 20),
            header_done: false,
            finished: false,
            scanned: 0,
            rows: 0,
            total_rows: 0,
            columns,
            key_slot,
            key_len: key.len().min(MAX_KEY),
            last_key: None,
            sorted: true,
            blocks: Vec::new(),
        }
    }

    /// Takes in the next piece of the stream.
    pub fn push(&mut self, data: &[u8]) -> Result<(), ExportError> {
        if self.finished {
            return Err(corrupt("data after the COPY trailer"));
        }
        self.buf.extend_from_slice(data);
        self.scan()
    }

    /// Bytes of complete rows read and not yet taken.
    pub fn pending_bytes(&self) -> usize {
        self.scanned
    }

    /// Rows read in all.
    pub fn total_rows(&self) -> usize {
        self.total_rows
    }

    /// Whether every row's key was greater than the previous row's.
    pub fn sorted(&self) -> bool {
        self.sorted
    }

    /// The distinct block numbers seen, ascending.
    pub fn blocks(&self) -> Vec<i64> {
        let mut blocks = self.blocks.clone();
        if !self.sorted {
            blocks.sort_unstable();
            blocks.dedup();
        }
        blocks
    }

    /// Takes the complete rows read so far: their bytes and how many there are.
    pub fn take_rows(&mut self) -> (Bytes, usize) {
        let data = self.buf.split_to(self.scanned).freeze();
        let rows = std::mem::take(&mut self.rows);
        self.scanned = 0;
        (data, rows)
    }

    /// Checks the end of the stream: the trailer must have been read.
    pub fn finish(&self) -> Result<(), ExportError> {
        if !self.finished {
            return Err(corrupt("the COPY stream ended without its trailer"));
        }
        Ok(())
    }

    fn scan(&mut self) -> Result<(), ExportError> {
        if !self.header_done {
            if self.buf.len() < HEADER_LEN {
                return Ok(());
            }
            if &self.buf[..SIGNATURE.len()] != SIGNATURE {
                return Err(corrupt("not a binary COPY stream"));
            }
            let extension = read_i32(&self.buf, 15);
            let extension = usize::try_from(extension).map_err(|_| corrupt("negative header extension"))?;
            if self.buf.len() < HEADER_LEN + extension {
                return Ok(());
            }
            self.buf.advance(HEADER_LEN + extension);
            self.header_done = true;
        }
        let buf = &self.buf[..];
        let mut at = self.scanned;
        loop {
            if at + 2 > buf.len() {
                break;
            }
            let count = read_i16(buf, at);
            if count == -1 {
                if at + 2 != buf.len() {
                    return Err(corrupt("data after the COPY trailer"));
                }
                self.finished = true;
                self.buf.truncate(at);
                break;
            }
            if usize::try_from(count).ok() != Some(self.columns) {
                return Err(corrupt(format!("a row of {count} values, expected {}", self.columns)));
            }
            let mut pos = at + 2;
            let mut key = [0i64; MAX_KEY];
            let mut complete = true;
            for slot in &self.key_slot {
                if pos + 4 > buf.len() {
                    complete = false;
                    break;
                }
                let len = read_i32(buf, pos);
                pos += 4;
                if len < 0 {
                    if slot.is_some() {
                        return Err(corrupt("a NULL sort key"));
                    }
                    continue;
                }
                let len = len as usize;
                if pos + len > buf.len() {
                    complete = false;
                    break;
                }
                if let Some(slot) = *slot {
                    key[slot] = match len {
                        8 => read_i64(buf, pos),
                        4 => i64::from(read_i32(buf, pos)),
                        _ => return Err(corrupt("a sort key that is not an integer")),
                    };
                }
                pos += len;
            }
            if !complete {
                break;
            }
            if self.key_len > 0 {
                if let Some(last) = self.last_key
                    && key[..self.key_len] <= last[..self.key_len]
                {
                    self.sorted = false;
                }
                if self.blocks.last() != Some(&key[0]) {
                    self.blocks.push(key[0]);
                }
                self.last_key = Some(key);
            }
            at = pos;
            self.rows += 1;
            self.total_rows += 1;
        }
        self.scanned = at;
        Ok(())
    }
}

/// Iterates the values of complete rows cut off by [`CopyReader::take_rows`].
pub(crate) struct Rows<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Rows<'a> {
    /// Rows in `data` (already checked by a [`CopyReader`]).
    pub fn new(data: &'a [u8]) -> Rows<'a> {
        Rows { data, pos: 0 }
    }

    /// Starts the next row; `false` at the end.
    pub fn next_row(&mut self) -> bool {
        if self.pos + 2 > self.data.len() {
            return false;
        }
        self.pos += 2;
        true
    }

    /// The next value of the current row (`None` for NULL).
    pub fn value(&mut self) -> Result<Option<&'a [u8]>, ExportError> {
        if self.pos + 4 > self.data.len() {
            return Err(corrupt("a row cut short"));
        }
        let len = read_i32(self.data, self.pos);
        self.pos += 4;
        if len < 0 {
            return Ok(None);
        }
        let end = self.pos + len as usize;
        let value = self.data.get(self.pos..end).ok_or_else(|| corrupt("a value cut short"))?;
        self.pos = end;
        Ok(Some(value))
    }
}

fn read_i16(buf: &[u8], at: usize) -> i16 {
    i16::from_be_bytes([buf[at], buf[at + 1]])
}

fn read_i32(buf: &[u8], at: usize) -> i32 {
    i32::from_be_bytes([buf[at], buf[at + 1], buf[at + 2], buf[at + 3]])
}

fn read_i64(buf: &[u8], at: usize) -> i64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&buf[at..at + 8]);
    i64::from_be_bytes(b)
}

fn corrupt(reason: impl Into<String>) -> ExportError {
    ExportError::Corrupt { reason: reason.into() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A COPY stream of rows of (int8, int4, text-or-NULL).
    pub(crate) fn stream(rows: &[(i64, i32, Option<&str>)]) -> Vec<u8> {
        let mut out = SIGNATURE.to_vec();
        out.extend_from_slice(&0i32.to_be_bytes());
        out.extend_from_slice(&0i32.to_be_bytes());
        for (a, b, c) in rows {
            out.extend_from_slice(&3i16.to_be_bytes());
            out.extend_from_slice(&8i32.to_be_bytes());
            out.extend_from_slice(&a.to_be_bytes());
            out.extend_from_slice(&4i32.to_be_bytes());
            out.extend_from_slice(&b.to_be_bytes());
            match c {
                Some(s) => {
                    out.extend_from_slice(&(s.len() as i32).to_be_bytes());
                    out.extend_from_slice(s.as_bytes());
                }
                None => out.extend_from_slice(&(-1i32).to_be_bytes()),
            }
        }
        out.extend_from_slice(&(-1i16).to_be_bytes());
        out
    }

    #[test]
    fn rows_are_cut_whole_whatever_the_pieces() {
        let rows = [(1, 5, Some("a")), (1, 6, None), (2, 0, Some("hello"))];
        let data = stream(&rows);
        for piece in [1, 2, 3, 7, 1000] {
            let mut reader = CopyReader::new(3, &[0, 1]);
            let mut taken = Vec::new();
            let mut count = 0;
            for chunk in data.chunks(piece) {
                reader.push(chunk).unwrap();
                let (bytes, n) = reader.take_rows();
                taken.extend_from_slice(&bytes);
                count += n;
            }
            reader.finish().unwrap();
            assert_eq!(count, 3);
            assert!(reader.sorted());
            assert_eq!(reader.blocks(), vec![1, 2]);
            let mut it = Rows::new(&taken);
            let mut seen = Vec::new();
            while it.next_row() {
                let a = i64::from_be_bytes(it.value().unwrap().unwrap().try_into().unwrap());
                let b = i32::from_be_bytes(it.value().unwrap().unwrap().try_into().unwrap());
                let c = it.value().unwrap().map(|v| String::from_utf8(v.to_vec()).unwrap());
                seen.push((a, b, c));
            }
            assert_eq!(seen.len(), 3);
            assert_eq!(seen[2], (2, 0, Some("hello".to_string())));
            assert_eq!(seen[1].2, None);
        }
    }

    #[test]
    fn out_of_order_keys_are_noticed() {
        let mut reader = CopyReader::new(3, &[0, 1]);
        reader.push(&stream(&[(1, 5, None), (2, 1, None), (1, 9, None)])).unwrap();
        assert!(!reader.sorted());
        assert_eq!(reader.blocks(), vec![1, 2]);
        let mut dup = CopyReader::new(3, &[0, 1]);
        dup.push(&stream(&[(1, 5, None), (1, 5, None)])).unwrap();
        assert!(!dup.sorted(), "equal keys are not strictly ascending");
    }

    #[test]
    fn malformed_streams_are_errors() {
        let mut reader = CopyReader::new(2, &[]);
        assert!(reader.push(&stream(&[(1, 5, None)])).is_err(), "wrong column count");
        let mut reader = CopyReader::new(3, &[]);
        assert!(reader.push(b"PGCOPY\n\xff\r\n\x01garbage-garbage").is_err());
        let mut reader = CopyReader::new(3, &[]);
        let data = stream(&[(1, 5, None)]);
        reader.push(&data[..data.len() - 2]).unwrap();
        assert!(reader.finish().is_err(), "no trailer");
    }
}
