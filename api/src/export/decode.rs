//! Binary `COPY` values into Polars columns: one builder per dataset column, filled row by row
//! and finished into a [`DataFrame`] per Parquet row group.

use polars::prelude::{
    BooleanChunkedBuilder, ChunkedBuilder, Column as PlColumn, DataFrame, DataType, Field, Float64Type,
    Int32Type, Int64Type, IntoColumn, IntoSeries, ListBuilderTrait, ListPrimitiveChunkedBuilder, PlSmallStr,
    PrimitiveChunkedBuilder, Schema, StringChunkedBuilder, TimeUnit, TimeZone,
};

use super::ExportError;
use super::copy::Rows;
use super::dataset::{Kind, Order, Spec};

/// Microseconds from the Unix epoch to PostgreSQL's (2000-01-01).
const PG_EPOCH_US: i64 = 946_684_800_000_000;
/// Days from the Unix epoch to PostgreSQL's.
const PG_EPOCH_DAYS: i32 = 10_957;
/// Rao per whole token.
const RAO: f64 = 1e9;
/// Powers of ten that doubles hold exactly.
const POW10: [f64; 23] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18,
    1e19, 1e20, 1e21, 1e22,
];

/// Block timestamps (µs since the Unix epoch) by block number, ascending.
#[derive(Debug, Default, Clone)]
pub(crate) struct BlockTimes {
    times: Vec<(i64, Option<i64>)>,
}

impl BlockTimes {
    /// From `(number, timestamp)` pairs sorted by number.
    pub fn new(times: Vec<(i64, Option<i64>)>) -> BlockTimes {
        debug_assert!(times.windows(2).all(|w| w[0].0 < w[1].0));
        BlockTimes { times }
    }

    /// The timestamp of `block`, starting the search at `*cursor` (rows come in block order).
    fn get(&self, block: i64, cursor: &mut usize) -> Option<i64> {
        if let Some(&(n, t)) = self.times.get(*cursor)
            && n == block
        {
            return t;
        }
        if let Some(&(n, t)) = self.times.get(*cursor + 1)
            && n == block
        {
            *cursor += 1;
            return t;
        }
        match self.times.binary_search_by_key(&block, |&(n, _)| n) {
            Ok(i) => {
                *cursor = i;
                self.times[i].1
            }
            Err(_) => None,
        }
    }
}

/// The Polars type a kind writes (the whole-token column for amounts).
fn dtype(kind: Kind) -> DataType {
    match kind {
        Kind::Int64 | Kind::Rao { .. } => DataType::Int64,
        Kind::Int32 => DataType::Int32,
        Kind::Float64 | Kind::Numeric | Kind::NumericRao { .. } | Kind::FloatRao { .. } => DataType::Float64,
        Kind::Bool => DataType::Boolean,
        Kind::Text | Kind::Hex => DataType::String,
        Kind::Timestamp | Kind::BlockTime => DataType::Datetime(TimeUnit::Microseconds, Some(TimeZone::UTC)),
        Kind::Date => DataType::Date,
        Kind::Int32List => DataType::List(Box::new(DataType::Int32)),
    }
}

/// The Parquet schema of a dataset.
pub(crate) fn schema(spec: &Spec) -> Schema {
    let mut fields = Vec::new();
    for column in spec.columns {
        let names = column.output_names();
        match column.kind {
            Kind::Rao { .. } | Kind::NumericRao { .. } | Kind::FloatRao { .. } => {
                fields.push(Field::new(PlSmallStr::from_static(names[0]), dtype(column.kind)));
                fields.push(Field::new(PlSmallStr::from_static(names[1]), DataType::Float64));
            }
            kind => fields.push(Field::new(PlSmallStr::from_static(names[0]), dtype(kind))),
        }
    }
    Schema::from_iter(fields)
}

/// One column being filled.
enum Builder {
    I64(PrimitiveChunkedBuilder<Int64Type>),
    I32(PrimitiveChunkedBuilder<Int32Type>),
    F64(PrimitiveChunkedBuilder<Float64Type>),
    Numeric(PrimitiveChunkedBuilder<Float64Type>),
    Bool(BooleanChunkedBuilder),
    Text(StringChunkedBuilder),
    Hex(StringChunkedBuilder),
    Timestamp(PrimitiveChunkedBuilder<Int64Type>),
    Date(PrimitiveChunkedBuilder<Int32Type>),
    List(ListPrimitiveChunkedBuilder<Int32Type>),
    Rao(PrimitiveChunkedBuilder<Int64Type>, PrimitiveChunkedBuilder<Float64Type>),
    NumericRao(PrimitiveChunkedBuilder<Float64Type>, PrimitiveChunkedBuilder<Float64Type>),
    FloatRao(PrimitiveChunkedBuilder<Float64Type>, PrimitiveChunkedBuilder<Float64Type>),
    BlockTime(PrimitiveChunkedBuilder<Int64Type>),
}

fn name(s: &'static str) -> PlSmallStr {
    PlSmallStr::from_static(s)
}

impl Builder {
    fn new(column: &super::dataset::Column, capacity: usize) -> Builder {
        let names = column.output_names();
        let n = name(names[0]);
        match column.kind {
            Kind::Int64 => Builder::I64(PrimitiveChunkedBuilder::new(n, capacity)),
            Kind::Int32 => Builder::I32(PrimitiveChunkedBuilder::new(n, capacity)),
            Kind::Float64 => Builder::F64(PrimitiveChunkedBuilder::new(n, capacity)),
            Kind::Numeric => Builder::Numeric(PrimitiveChunkedBuilder::new(n, capacity)),
            Kind::Bool => Builder::Bool(BooleanChunkedBuilder::new(n, capacity)),
            Kind::Text => Builder::Text(StringChunkedBuilder::new(n, capacity)),
            Kind::Hex => Builder::Hex(StringChunkedBuilder::new(n, capacity)),
            Kind::Timestamp => Builder::Timestamp(PrimitiveChunkedBuilder::new(n, capacity)),
            Kind::Date => Builder::Date(PrimitiveChunkedBuilder::new(n, capacity)),
            Kind::Int32List => {
                Builder::List(ListPrimitiveChunkedBuilder::new(n, capacity, capacity * 4, DataType::Int32))
            }
            Kind::Rao { .. } => Builder::Rao(
                PrimitiveChunkedBuilder::new(n, capacity),
                PrimitiveChunkedBuilder::new(name(names[1]), capacity),
            ),
            Kind::NumericRao { .. } => Builder::NumericRao(
                PrimitiveChunkedBuilder::new(n, capacity),
                PrimitiveChunkedBuilder::new(name(names[1]), capacity),
            ),
            Kind::FloatRao { .. } => Builder::FloatRao(
                PrimitiveChunkedBuilder::new(n, capacity),
                PrimitiveChunkedBuilder::new(name(names[1]), capacity),
            ),
            Kind::BlockTime => Builder::BlockTime(PrimitiveChunkedBuilder::new(n, capacity)),
        }
    }

    /// Appends one selected value (`None`: NULL).
    fn push(&mut self, value: Option<&[u8]>, scratch: &mut Scratch) -> Result<(), ExportError> {
        let Some(v) = value else {
            match self {
                Builder::I64(b) | Builder::Timestamp(b) | Builder::BlockTime(b) => b.append_null(),
                Builder::I32(b) | Builder::Date(b) => b.append_null(),
                Builder::F64(b) | Builder::Numeric(b) => b.append_null(),
                Builder::Bool(b) => b.append_null(),
                Builder::Text(b) | Builder::Hex(b) => b.append_null(),
                Builder::List(b) => b.append_null(),
                Builder::Rao(a, f) => {
                    a.append_null();
                    f.append_null();
                }
                Builder::NumericRao(a, f) | Builder::FloatRao(a, f) => {
                    a.append_null();
                    f.append_null();
                }
            }
            return Ok(());
        };
        match self {
            Builder::I64(b) => b.append_value(int8(v)?),
            Builder::I32(b) => b.append_value(int4(v)?),
            Builder::F64(b) => b.append_value(float8(v)?),
            Builder::Numeric(b) => b.append_value(numeric(v, &mut scratch.digits)?),
            Builder::Bool(b) => match v {
                [0] => b.append_value(false),
                [1] => b.append_value(true),
                _ => return Err(corrupt("a boolean that is not one byte")),
            },
            Builder::Text(b) => {
                b.append_value(std::str::from_utf8(v).map_err(|_| corrupt("text that is not UTF-8"))?)
            }
            Builder::Hex(b) => {
                hex(v, &mut scratch.text);
                b.append_value(scratch.text.as_str());
            }
            Builder::Timestamp(b) => b.append_value(int8(v)?.saturating_add(PG_EPOCH_US)),
            Builder::Date(b) => b.append_value(int4(v)?.saturating_add(PG_EPOCH_DAYS)),
            Builder::List(b) => {
                int4_array(v, &mut scratch.ints)?;
                b.append_slice(&scratch.ints);
            }
            Builder::Rao(a, f) => {
                let rao = int8(v)?;
                a.append_value(rao);
                f.append_value(rao as f64 / RAO);
            }
            Builder::NumericRao(a, f) => {
                let rao = numeric(v, &mut scratch.digits)?;
                a.append_value(rao);
                f.append_value(rao / RAO);
            }
            Builder::FloatRao(a, f) => {
                let rao = float8(v)?;
                a.append_value(rao);
                f.append_value(rao / RAO);
            }
            Builder::BlockTime(_) => return Err(corrupt("a block time was selected")),
        }
        Ok(())
    }

    fn finish(self, out: &mut Vec<PlColumn>) {
        match self {
            Builder::I64(b) => out.push(b.finish().into_column()),
            Builder::I32(b) => out.push(b.finish().into_column()),
            Builder::F64(b) | Builder::Numeric(b) => out.push(b.finish().into_column()),
            Builder::Bool(b) => out.push(b.finish().into_column()),
            Builder::Text(b) | Builder::Hex(b) => out.push(b.finish().into_column()),
            Builder::Timestamp(b) | Builder::BlockTime(b) => out.push(
                b.finish()
                    .into_datetime(TimeUnit::Microseconds, Some(TimeZone::UTC))
                    .into_series()
                    .into_column(),
            ),
            Builder::Date(b) => out.push(b.finish().into_date().into_series().into_column()),
            Builder::List(mut b) => out.push(b.finish().into_column()),
            Builder::Rao(a, f) => {
                out.push(a.finish().into_column());
                out.push(f.finish().into_column());
            }
            Builder::NumericRao(a, f) | Builder::FloatRao(a, f) => {
                out.push(a.finish().into_column());
                out.push(f.finish().into_column());
            }
        }
    }
}

/// Reusable buffers for values that need one.
#[derive(Default)]
struct Scratch {
    text: String,
    digits: Vec<u8>,
    ints: Vec<i32>,
}

/// Turns rows of one dataset into data frames.
pub(crate) struct Decoder {
    spec: &'static Spec,
    builders: Vec<Builder>,
    /// Per dataset column: whether it is selected (else a block time).
    selected: Vec<bool>,
    /// The selected column holding the block number, for block times.
    block_column: Option<usize>,
    capacity: usize,
    rows: usize,
    bytes: usize,
    scratch: Scratch,
}

impl Decoder {
    /// A decoder for `spec`, its builders sized for `capacity` rows.
    pub fn new(spec: &'static Spec, capacity: usize) -> Decoder {
        let selected: Vec<bool> = spec.columns.iter().map(|c| c.kind.pg_type().is_some()).collect();
        let block_column = match spec.order {
            Order::Chunked { key, .. } if spec.block_times() => Some(key[0]),
            _ => None,
        };
        Decoder {
            spec,
            builders: spec.columns.iter().map(|c| Builder::new(c, capacity)).collect(),
            selected,
            block_column,
            capacity,
            rows: 0,
            bytes: 0,
            scratch: Scratch::default(),
        }
    }

    /// Rows buffered.
    pub fn rows(&self) -> usize {
        self.rows
    }

    /// COPY bytes decoded into the buffered rows.
    pub fn bytes(&self) -> usize {
        self.bytes
    }

    /// Decodes every row in `data` (whole rows, as cut by the reader).
    pub fn push(&mut self, data: &[u8], times: Option<&BlockTimes>) -> Result<usize, ExportError> {
        let mut rows = Rows::new(data);
        let mut cursor = 0;
        let mut n = 0;
        while rows.next_row() {
            let mut selected_index = 0;
            let mut block = None;
            let mut time_columns = 0usize;
            for (i, builder) in self.builders.iter_mut().enumerate() {
                if !self.selected[i] {
                    time_columns += 1;
                    continue;
                }
                let value = rows.value()?;
                if Some(selected_index) == self.block_column {
                    block = value.map(int8).transpose()?;
                }
                builder.push(value, &mut self.scratch)?;
                selected_index += 1;
            }
            if time_columns > 0 {
                let time = match (times, block) {
                    (Some(times), Some(block)) => times.get(block, &mut cursor),
                    _ => None,
                };
                for (i, builder) in self.builders.iter_mut().enumerate() {
                    if let (false, Builder::BlockTime(b)) = (self.selected[i], builder) {
                        b.append_option(time);
                    }
                }
            }
            n += 1;
        }
        self.rows += n;
        self.bytes += data.len();
        Ok(n)
    }

    /// The buffered rows as a data frame; the builders start afresh.
    pub fn finish(&mut self) -> Result<DataFrame, ExportError> {
        let fresh: Vec<Builder> = self.spec.columns.iter().map(|c| Builder::new(c, self.capacity)).collect();
        let builders = std::mem::replace(&mut self.builders, fresh);
        let mut columns = Vec::with_capacity(builders.len() * 2);
        for b in builders {
            b.finish(&mut columns);
        }
        let height = std::mem::take(&mut self.rows);
        self.bytes = 0;
        DataFrame::new(height, columns).map_err(ExportError::Parquet)
    }
}

fn int8(v: &[u8]) -> Result<i64, ExportError> {
    <[u8; 8]>::try_from(v).map(i64::from_be_bytes).map_err(|_| corrupt("a bigint that is not 8 bytes"))
}

fn int4(v: &[u8]) -> Result<i32, ExportError> {
    <[u8; 4]>::try_from(v).map(i32::from_be_bytes).map_err(|_| corrupt("an integer that is not 4 bytes"))
}

fn float8(v: &[u8]) -> Result<f64, ExportError> {
    <[u8; 8]>::try_from(v)
        .map(|b| f64::from_bits(u64::from_be_bytes(b)))
        .map_err(|_| corrupt("a double that is not 8 bytes"))
}

/// `0x` and lowercase hex of `v` into `out`.
fn hex(v: &[u8], out: &mut String) {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    out.clear();
    out.reserve(2 + 2 * v.len());
    out.push_str("0x");
    for &b in v {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 15)]));
    }
}

/// A one-dimensional `integer[]` (higher dimensions are flattened) into `out`.
fn int4_array(v: &[u8], out: &mut Vec<i32>) -> Result<(), ExportError> {
    out.clear();
    let word = |at: usize| -> Result<i32, ExportError> {
        v.get(at..at + 4)
            .map(|b| i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
            .ok_or_else(|| corrupt("an array cut short"))
    };
    let dims = usize::try_from(word(0)?).map_err(|_| corrupt("an array with negative dimensions"))?;
    let mut count: usize = usize::from(dims > 0);
    for d in 0..dims {
        let len = usize::try_from(word(12 + 8 * d)?).map_err(|_| corrupt("an array with negative length"))?;
        count = count.saturating_mul(len);
    }
    let mut at = 12 + 8 * dims;
    out.reserve(count);
    for _ in 0..count {
        if word(at)? != 4 {
            return Err(corrupt("an array element that is NULL or not an integer"));
        }
        out.push(word(at + 4)?);
        at += 8;
    }
    Ok(())
}

/// A `numeric` in binary form as the nearest `f64` (what `numeric::float8` gives).
///
/// Binary form: digit count, weight (of the first base-10000 digit), sign, display scale, then
/// the base-10000 digits. Up to four digits with a small exponent are converted exactly in
/// arithmetic; longer values go through Rust's correctly rounded decimal parser.
fn numeric(v: &[u8], text: &mut Vec<u8>) -> Result<f64, ExportError> {
    let word = |at: usize| u16::from_be_bytes([v[at], v[at + 1]]);
    if v.len() < 8 {
        return Err(corrupt("a numeric shorter than its header"));
    }
    let ndigits = usize::from(word(0));
    let weight = i32::from(word(2) as i16);
    let sign = word(4);
    if v.len() != 8 + 2 * ndigits {
        return Err(corrupt("a numeric whose length does not match its digits"));
    }
    let negative = match sign {
        0x0000 => false,
        0x4000 => true,
        0xC000 => return Ok(f64::NAN),
        0xD000 => return Ok(f64::INFINITY),
        0xF000 => return Ok(f64::NEG_INFINITY),
        _ => return Err(corrupt("a numeric with an unknown sign")),
    };
    if ndigits == 0 {
        return Ok(0.0);
    }
    // The value is digits × 10000^(weight − ndigits + 1).
    let exponent = 4 * (weight - ndigits as i32 + 1);
    if ndigits <= 4 && (-22..=22).contains(&exponent) {
        let mut mantissa: u64 = 0;
        for i in 0..ndigits {
            mantissa = mantissa * 10_000 + u64::from(word(8 + 2 * i));
        }
        if mantissa < (1 << 53) {
            let scale = POW10[exponent.unsigned_abs() as usize];
            let magnitude = if exponent >= 0 { mantissa as f64 * scale } else { mantissa as f64 / scale };
            return Ok(if negative { -magnitude } else { magnitude });
        }
    }
    // Longer values: `[-]DDDD…e<exponent>` through Rust's correctly rounded parser, written
    // without the formatting machinery (this is the hot path for prices).
    text.clear();
    if negative {
        text.push(b'-');
    }
    for i in 0..ndigits {
        let d = word(8 + 2 * i);
        if d > 9_999 {
            return Err(corrupt("a numeric digit above 9999"));
        }
        text.extend_from_slice(&[
            b'0' + (d / 1_000) as u8,
            b'0' + (d / 100 % 10) as u8,
            b'0' + (d / 10 % 10) as u8,
            b'0' + (d % 10) as u8,
        ]);
    }
    text.push(b'e');
    if exponent < 0 {
        text.push(b'-');
    }
    let start = text.len();
    let mut rest = exponent.unsigned_abs();
    loop {
        text.push(b'0' + (rest % 10) as u8);
        rest /= 10;
        if rest == 0 {
            break;
        }
    }
    text[start..].reverse();
    std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse::<f64>().ok())
        .ok_or_else(|| corrupt("a numeric that does not parse"))
}

fn corrupt(reason: &str) -> ExportError {
    ExportError::Corrupt { reason: reason.to_string() }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The binary form of a decimal string, as PostgreSQL's `numeric_send` writes it.
    fn numeric_bytes(s: &str) -> Vec<u8> {
        let (negative, s) = match s.strip_prefix('-') {
            Some(rest) => (true, rest),
            None => (false, s),
        };
        let (int, frac) = s.split_once('.').unwrap_or((s, ""));
        let int = int.trim_start_matches('0');
        // Pad the integer part on the left and the fraction on the right to groups of four.
        let int_pad = (4 - int.len() % 4) % 4;
        let frac_pad = (4 - frac.len() % 4) % 4;
        let digits = format!("{}{int}{frac}{}", "0".repeat(int_pad), "0".repeat(frac_pad));
        let groups: Vec<u16> =
            digits.as_bytes().chunks(4).map(|c| std::str::from_utf8(c).unwrap().parse().unwrap()).collect();
        let mut weight = ((int.len() + int_pad) / 4) as i16 - 1;
        // Strip leading and trailing zero groups as PostgreSQL does.
        let mut start = 0;
        while start < groups.len() && groups[start] == 0 {
            start += 1;
            weight -= 1;
        }
        let mut end = groups.len();
        while end > start && groups[end - 1] == 0 {
            end -= 1;
        }
        let groups = &groups[start..end];
        let mut out = Vec::new();
        out.extend_from_slice(&(groups.len() as u16).to_be_bytes());
        out.extend_from_slice(&(if groups.is_empty() { 0 } else { weight }).to_be_bytes());
        out.extend_from_slice(&(if negative { 0x4000u16 } else { 0 }).to_be_bytes());
        out.extend_from_slice(&(frac.len() as u16).to_be_bytes());
        for g in groups {
            out.extend_from_slice(&g.to_be_bytes());
        }
        out
    }

    #[test]
    fn numerics_convert_to_the_nearest_double() {
        let mut text = Vec::new();
        for s in [
            "0",
            "1",
            "12.5",
            "-0.000123",
            "0.1",
            "123456789.123456789",
            "340282366920938463463374607431768211455",
            "0.000000000000000000000000000001",
            "1.004279234212739318281498",
            "0.0272349178034890172394871234987123",
            "9007199254740993",
            "-42",
            "98765432109876543210987600000000000000000000000",
            "-0.00000000000000000000000000000000000000000000000000000012345678901234567891",
        ] {
            let expected: f64 = s.parse().unwrap();
            let got = numeric(&numeric_bytes(s), &mut text).unwrap();
            assert_eq!(got.to_bits(), expected.to_bits(), "{s}: {got} != {expected}");
        }
        let nan = [0, 0, 0, 0, 0xC0, 0, 0, 0];
        assert!(numeric(&nan, &mut text).unwrap().is_nan());
        assert!(numeric(&[0, 1, 0, 0, 0, 0, 0, 0], &mut text).is_err(), "missing digit");
        let mut too_big = numeric_bytes("1.00000000000000000001");
        too_big[8..10].copy_from_slice(&10_000u16.to_be_bytes());
        assert!(numeric(&too_big, &mut text).is_err(), "a base-10000 digit above 9999");
    }

    #[test]
    fn arrays_and_hex() {
        let mut out = Vec::new();
        let mut v = Vec::new();
        for w in [1i32, 0, 23, 2, 1] {
            v.extend_from_slice(&w.to_be_bytes());
        }
        for x in [7i32, -3] {
            v.extend_from_slice(&4i32.to_be_bytes());
            v.extend_from_slice(&x.to_be_bytes());
        }
        int4_array(&v, &mut out).unwrap();
        assert_eq!(out, vec![7, -3]);
        let empty = [0u8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 23];
        int4_array(&empty, &mut out).unwrap();
        assert!(out.is_empty());
        let mut s = String::new();
        hex(&[0xab, 0x01], &mut s);
        assert_eq!(s, "0xab01");
    }

    #[test]
    fn block_times_follow_a_cursor() {
        let times = BlockTimes::new(vec![(1, Some(10)), (2, None), (5, Some(50))]);
        let mut cursor = 0;
        assert_eq!(times.get(1, &mut cursor), Some(10));
        assert_eq!(times.get(2, &mut cursor), None);
        assert_eq!(times.get(5, &mut cursor), Some(50));
        assert_eq!(times.get(3, &mut cursor), None);
        assert_eq!(times.get(1, &mut cursor), Some(10));
    }
}
