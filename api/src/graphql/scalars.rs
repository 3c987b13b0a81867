//! Custom GraphQL scalars.
//!
//! GraphQL's `Int` is a signed 32-bit integer, too narrow in principle for block heights (a
//! `bigint` in the database), so heights get their own scalar rather than a silently
//! out-of-spec `Int`; amounts in rao exceed even a JavaScript number's exact range, so they are
//! strings (`Rao`), always served beside a float in whole TAO (or alpha) for convenience.

use async_graphql::{InputValueError, InputValueResult, Scalar, ScalarType, Value};
use taoscope_schema::BlockNumber;

/// The largest height the database can hold (`bigint`).
const MAX_BLOCK_NUMBER: u64 = i64::MAX as u64;

/// A block height as the `BlockNumber` GraphQL scalar.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockNumberScalar(pub BlockNumber);

/// A block height: a non-negative integer serialised as a JSON number. Unlike `Int` it is not
/// limited to 32 bits; JavaScript clients read it exactly up to 2^53 (at 12 s per block, far
/// beyond any real chain).
#[Scalar(name = "BlockNumber")]
impl ScalarType for BlockNumberScalar {
    fn parse(value: Value) -> InputValueResult<Self> {
        match as_block_number(&value) {
            Some(n) => Ok(BlockNumberScalar(BlockNumber(n))),
            None => Err(InputValueError::custom(format!(
                "a block number is an integer from 0 to {MAX_BLOCK_NUMBER}"
            ))),
        }
    }

    fn is_valid(value: &Value) -> bool {
        as_block_number(value).is_some()
    }

    fn to_value(&self) -> Value {
        Value::Number(self.0.0.into())
    }
}

fn as_block_number(value: &Value) -> Option<u64> {
    match value {
        Value::Number(n) => n.as_u64().filter(|n| *n <= MAX_BLOCK_NUMBER),
        _ => None,
    }
}

impl From<BlockNumber> for BlockNumberScalar {
    fn from(n: BlockNumber) -> Self {
        BlockNumberScalar(n)
    }
}

/// An amount in rao (10^-9 TAO, or the same fraction of a subnet's alpha), exact.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Rao(pub i64);

impl Rao {
    /// The amount in whole units (TAO or alpha), as a float.
    pub fn whole(self) -> f64 {
        self.0 as f64 / 1e9
    }
}

/// An amount in rao as a decimal string (e.g. `"1500000000"` for 1.5 TAO): exact, where a JSON
/// number would lose digits in JavaScript. Negative for outflows. Input also accepts an integer.
#[Scalar(name = "Rao")]
impl ScalarType for Rao {
    fn parse(value: Value) -> InputValueResult<Self> {
        let parsed = match &value {
            Value::String(s) => s.parse::<i64>().ok().filter(|_| !s.starts_with('+')),
            Value::Number(n) => n.as_i64(),
            _ => None,
        };
        parsed.map(Rao).ok_or_else(|| InputValueError::custom("a Rao amount is a decimal integer string"))
    }

    fn to_value(&self) -> Value {
        Value::String(self.0.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rao_is_an_exact_string() {
        assert_eq!(Rao(21_000_000_000_000_000).to_value(), Value::from("21000000000000000"));
        assert_eq!(Rao(-5).to_value(), Value::from("-5"));
        assert_eq!(<Rao as ScalarType>::parse(Value::from("42")).ok(), Some(Rao(42)));
        assert!(<Rao as ScalarType>::parse(Value::from("1e9")).is_err());
        assert!(<Rao as ScalarType>::parse(Value::from("+1")).is_err());
        assert_eq!(Rao(1_500_000_000).whole(), 1.5);
    }

    #[test]
    fn accepts_only_non_negative_bigint_range_integers() {
        let ok = |v: Value| <BlockNumberScalar as ScalarType>::parse(v).ok();
        assert_eq!(ok(Value::from(7u64)), Some(BlockNumberScalar(BlockNumber(7))));
        assert_eq!(ok(Value::from(MAX_BLOCK_NUMBER)), Some(BlockNumberScalar(BlockNumber(MAX_BLOCK_NUMBER))));
        assert_eq!(ok(Value::from(MAX_BLOCK_NUMBER + 1)), None);
        assert_eq!(ok(Value::from(-1i64)), None);
        assert_eq!(ok(Value::from("7")), None);
        assert_eq!(BlockNumberScalar(BlockNumber(9)).to_value(), Value::from(9u64));
    }
}
