//! Custom GraphQL scalars.
//!
//! GraphQL's `Int` is a signed 32-bit integer, too narrow in principle for block heights (a
//! `bigint` in the database), so heights get their own scalar rather than a silently
//! out-of-spec `Int`.

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

#[cfg(test)]
mod tests {
    use super::*;

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
