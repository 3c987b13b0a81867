//! Reading storage with a runtime's own metadata: an item's keys are built from the hashers the
//! metadata declares, and its values are decoded by a shape computed once per runtime (`u64`,
//! `NetUid`-style newtypes, substrate-fixed numbers, vectors, accounts), so the same code reads
//! every era and a value that does not fit is reported, never misread.

use parity_scale_codec::{Compact, Decode};
use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};
use sp_crypto_hashing::{blake2_128, blake2_256, twox_64, twox_128, twox_256};
use subxt::ext::frame_decode::storage::StorageHasher;
use subxt::metadata::Metadata;

/// Why a value could not be read.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ValueError {
    /// The bytes do not decode as the item's type.
    #[error("{item}: {reason}")]
    Decode {
        /// `Pallet.Item`.
        item: String,
        /// What failed.
        reason: String,
    },
}

/// A primitive as values are read (through newtypes and `Compact`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prim {
    /// `bool`.
    Bool,
    /// Unsigned integer of this many bytes (1, 2, 4, 8, 16).
    Unsigned(u8),
    /// Signed integer of this many bytes.
    Signed(u8),
}

/// The shape of a storage value (or of a key part), resolved from the type registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Shape {
    /// A primitive, possibly inside single-field newtypes.
    Prim(Prim),
    /// A `Compact<...>` unsigned integer.
    Compact,
    /// A substrate-fixed number: its bits and the number of fractional bits.
    Fixed {
        /// Bits type.
        bits: Prim,
        /// Fractional bits.
        frac: u32,
    },
    /// A 32-byte account id.
    Account,
    /// `Vec<T>`.
    Vec(Box<Shape>),
    /// A tuple.
    Tuple(Vec<Shape>),
    /// Anything else (read only through the generic decoder).
    Other(u32),
}

fn ident(types: &PortableRegistry, id: u32) -> Option<&str> {
    types.resolve(id)?.path.segments.last().map(String::as_str)
}

/// The shape of type `id`.
pub fn shape_of(types: &PortableRegistry, id: u32) -> Shape {
    let Some(ty) = types.resolve(id) else { return Shape::Other(id) };
    let name = ident(types, id).unwrap_or_default();
    match &ty.type_def {
        TypeDef::Primitive(p) => match p {
            TypeDefPrimitive::Bool => Shape::Prim(Prim::Bool),
            TypeDefPrimitive::U8 => Shape::Prim(Prim::Unsigned(1)),
            TypeDefPrimitive::U16 => Shape::Prim(Prim::Unsigned(2)),
            TypeDefPrimitive::U32 => Shape::Prim(Prim::Unsigned(4)),
            TypeDefPrimitive::U64 => Shape::Prim(Prim::Unsigned(8)),
            TypeDefPrimitive::U128 => Shape::Prim(Prim::Unsigned(16)),
            TypeDefPrimitive::I8 => Shape::Prim(Prim::Signed(1)),
            TypeDefPrimitive::I16 => Shape::Prim(Prim::Signed(2)),
            TypeDefPrimitive::I32 => Shape::Prim(Prim::Signed(4)),
            TypeDefPrimitive::I64 => Shape::Prim(Prim::Signed(8)),
            TypeDefPrimitive::I128 => Shape::Prim(Prim::Signed(16)),
            _ => Shape::Other(id),
        },
        TypeDef::Compact(_) => Shape::Compact,
        TypeDef::Sequence(s) => Shape::Vec(Box::new(shape_of(types, s.type_param.id))),
        TypeDef::Tuple(t) => Shape::Tuple(t.fields.iter().map(|f| shape_of(types, f.id)).collect()),
        TypeDef::Array(a) if a.len == 32 && name.is_empty() => {
            match types.resolve(a.type_param.id).map(|t| &t.type_def) {
                Some(TypeDef::Primitive(TypeDefPrimitive::U8)) => Shape::Account,
                _ => Shape::Other(id),
            }
        }
        TypeDef::Composite(c) if c.fields.len() == 1 => {
            let inner = shape_of(types, c.fields[0].ty.id);
            if (name.starts_with("FixedI") || name.starts_with("FixedU"))
                && let Shape::Prim(bits) = inner
            {
                let frac = crate::decode::json::frac_bits(types, id, name);
                return Shape::Fixed { bits, frac };
            }
            // Newtypes (`AccountId32([u8; 32])`, `NetUid(u16)`, `TaoCurrency(u64)`) read as their inside.
            inner
        }
        _ => Shape::Other(id),
    }
}

fn hash(hasher: StorageHasher, encoded: &[u8]) -> Vec<u8> {
    let mut out = match hasher {
        StorageHasher::Blake2_128 => return blake2_128(encoded).to_vec(),
        StorageHasher::Blake2_256 => return blake2_256(encoded).to_vec(),
        StorageHasher::Twox128 => return twox_128(encoded).to_vec(),
        StorageHasher::Twox256 => return twox_256(encoded).to_vec(),
        StorageHasher::Blake2_128Concat => blake2_128(encoded).to_vec(),
        StorageHasher::Twox64Concat => twox_64(encoded).to_vec(),
        StorageHasher::Identity => Vec::new(),
    };
    out.extend_from_slice(encoded);
    out
}

/// A key part as the indexer knows it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum KeyPart<'a> {
    /// A subnet id, uid or storage index (`u16` or a `u16` newtype).
    U16(u16),
    /// An account.
    Account(&'a [u8; 32]),
}

/// One storage item of one runtime.
#[derive(Clone, Debug)]
pub struct Item {
    name: String,
    prefix: Vec<u8>,
    hashers: Vec<StorageHasher>,
    key_shapes: Vec<Shape>,
    value_ty: u32,
    value: Shape,
    /// The encoded default of a `ValueQuery` item (what an absent key reads as on chain).
    default: Option<Vec<u8>>,
}

impl Item {
    /// `pallet.name` in `md`, if the runtime has it.
    pub fn lookup(md: &Metadata, pallet: &str, name: &str) -> Option<Item> {
        let p = md.pallet_by_name(pallet)?;
        let entry = p.storage()?.entry_by_name(name)?;
        let types = md.types();
        let mut prefix = twox_128(p.storage()?.prefix().as_bytes()).to_vec();
        prefix.extend_from_slice(&twox_128(name.as_bytes()));
        let keys: Vec<_> = entry.keys().collect();
        Some(Item {
            name: format!("{pallet}.{name}"),
            prefix,
            hashers: keys.iter().map(|k| k.hasher).collect(),
            key_shapes: keys.iter().map(|k| shape_of(types, k.key_id)).collect(),
            value_ty: entry.value_ty(),
            value: shape_of(types, entry.value_ty()),
            default: entry.default_value().map(<[u8]>::to_vec),
        })
    }

    /// `Pallet.Item`.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// A fetched value, or the item's default when the key is absent and the item is a
    /// `ValueQuery` (an absent `OptionQuery` value stays absent).
    pub fn or_default(&self, value: Option<Vec<u8>>) -> Option<Vec<u8>> {
        value.or_else(|| self.default.clone())
    }

    /// The value's shape.
    pub fn shape(&self) -> &Shape {
        &self.value
    }

    /// The value's type id (for generic decoding).
    pub fn value_ty(&self) -> u32 {
        self.value_ty
    }

    /// The storage key for `parts` (one per key of the item); `None` if they do not fit the
    /// item's key types.
    pub fn key(&self, parts: &[KeyPart<'_>]) -> Option<Vec<u8>> {
        if parts.len() != self.hashers.len() {
            return None;
        }
        let mut key = self.prefix.clone();
        for ((part, hasher), shape) in parts.iter().zip(&self.hashers).zip(&self.key_shapes) {
            let encoded = match (part, shape) {
                (KeyPart::U16(n), Shape::Prim(Prim::Unsigned(2))) => n.to_le_bytes().to_vec(),
                (KeyPart::Account(a), Shape::Account) => a.to_vec(),
                _ => return None,
            };
            key.extend(hash(*hasher, &encoded));
        }
        Some(key)
    }

    /// The key prefix shared by all values (for `state_getKeysPaged`).
    pub fn prefix(&self) -> &[u8] {
        &self.prefix
    }

    fn err(&self, reason: impl Into<String>) -> ValueError {
        ValueError::Decode { item: self.name.clone(), reason: reason.into() }
    }

    /// An unsigned value (any width, through newtypes and `Compact`).
    pub fn unsigned(&self, bytes: &[u8]) -> Result<u128, ValueError> {
        let mut input = bytes;
        let v = read_unsigned(&self.value, &mut input).ok_or_else(|| self.err("not an unsigned integer"))?;
        self.done(input)?;
        Ok(v)
    }

    /// A boolean value.
    pub fn boolean(&self, bytes: &[u8]) -> Result<bool, ValueError> {
        match (&self.value, bytes) {
            (Shape::Prim(Prim::Bool), [b]) if *b <= 1 => Ok(*b == 1),
            _ => Err(self.err(format!("not a bool: 0x{}", hex::encode(bytes)))),
        }
    }

    /// A substrate-fixed value as (bits, fractional bits).
    pub fn fixed(&self, bytes: &[u8]) -> Result<(i128, u32), ValueError> {
        let Shape::Fixed { bits, frac } = &self.value else {
            return Err(self.err("not a fixed-point number"));
        };
        let mut input = bytes;
        let v = match bits {
            Prim::Signed(16) => i128::decode(&mut input).map_err(|e| self.err(e.to_string()))?,
            Prim::Unsigned(16) => {
                let u = u128::decode(&mut input).map_err(|e| self.err(e.to_string()))?;
                i128::try_from(u).map_err(|_| self.err("fixed-point bits out of range"))?
            }
            Prim::Signed(8) => i64::decode(&mut input).map_err(|e| self.err(e.to_string()))? as i128,
            Prim::Unsigned(8) => u64::decode(&mut input).map_err(|e| self.err(e.to_string()))? as i128,
            _ => return Err(self.err("unsupported fixed-point width")),
        };
        self.done(input)?;
        Ok((v, *frac))
    }

    /// A signed integer (`i8` … `i128`).
    pub fn signed(&self, bytes: &[u8]) -> Result<i128, ValueError> {
        let v = match (&self.value, bytes.len()) {
            (Shape::Prim(Prim::Signed(1)), 1) => i128::from(bytes[0] as i8),
            (Shape::Prim(Prim::Signed(2)), 2) => i128::from(i16::from_le_bytes([bytes[0], bytes[1]])),
            (Shape::Prim(Prim::Signed(4)), 4) => {
                i128::from(i32::from_le_bytes(bytes.try_into().expect("4 bytes")))
            }
            (Shape::Prim(Prim::Signed(8)), 8) => {
                i128::from(i64::from_le_bytes(bytes.try_into().expect("8 bytes")))
            }
            (Shape::Prim(Prim::Signed(16)), 16) => i128::from_le_bytes(bytes.try_into().expect("16 bytes")),
            _ => return Err(self.err(format!("not a signed integer: {} bytes", bytes.len()))),
        };
        Ok(v)
    }

    /// A pair of unsigned integers (`AlphaValues`).
    pub fn unsigned_pair(&self, bytes: &[u8]) -> Result<(u128, u128), ValueError> {
        let Shape::Tuple(f) = &self.value else { return Err(self.err("not a tuple")) };
        let [a, b] = f.as_slice() else { return Err(self.err("not a pair")) };
        let mut input = bytes;
        let x = read_unsigned(a, &mut input).ok_or_else(|| self.err("bad first element"))?;
        let y = read_unsigned(b, &mut input).ok_or_else(|| self.err("bad second element"))?;
        self.done(input)?;
        Ok((x, y))
    }

    /// An account.
    pub fn account(&self, bytes: &[u8]) -> Result<[u8; 32], ValueError> {
        match (&self.value, <[u8; 32]>::try_from(bytes)) {
            (Shape::Account, Ok(a)) => Ok(a),
            _ => Err(self.err(format!("not an account: {} bytes", bytes.len()))),
        }
    }

    /// A vector of unsigned integers (or booleans as 0/1).
    pub fn unsigned_vec(&self, bytes: &[u8]) -> Result<Vec<u128>, ValueError> {
        let Shape::Vec(inner) = &self.value else { return Err(self.err("not a vector")) };
        let mut input = bytes;
        let n = Compact::<u32>::decode(&mut input).map_err(|e| self.err(e.to_string()))?.0 as usize;
        let mut out = Vec::with_capacity(n.min(1 << 16));
        for _ in 0..n {
            let v = match inner.as_ref() {
                Shape::Prim(Prim::Bool) => match input.split_first() {
                    Some((b, rest)) if *b <= 1 => {
                        input = rest;
                        u128::from(*b)
                    }
                    _ => return Err(self.err("bad bool in vector")),
                },
                shape => read_unsigned(shape, &mut input).ok_or_else(|| self.err("bad element"))?,
            };
            out.push(v);
        }
        self.done(input)?;
        Ok(out)
    }

    /// A vector of `(u16, u16)` pairs (`Weights`, `Bonds` rows).
    pub fn pairs(&self, bytes: &[u8]) -> Result<Vec<(u16, u16)>, ValueError> {
        let ok =
            matches!(&self.value, Shape::Vec(t) if matches!(t.as_ref(), Shape::Tuple(f) if f.len() == 2));
        if !ok {
            return Err(self.err("not a vector of pairs"));
        }
        let mut input = bytes;
        let v = Vec::<(Compactless, Compactless)>::decode(&mut input).map_err(|e| self.err(e.to_string()))?;
        self.done(input)?;
        Ok(v.into_iter().map(|(a, b)| (a.0, b.0)).collect())
    }

    fn done(&self, rest: &[u8]) -> Result<(), ValueError> {
        if rest.is_empty() { Ok(()) } else { Err(self.err(format!("{} bytes left over", rest.len()))) }
    }
}

/// A plain `u16` (pairs in `Weights`/`Bonds` are not compact).
#[derive(Decode)]
struct Compactless(u16);

fn read_unsigned(shape: &Shape, input: &mut &[u8]) -> Option<u128> {
    match shape {
        Shape::Prim(Prim::Unsigned(1)) => u8::decode(input).ok().map(u128::from),
        Shape::Prim(Prim::Unsigned(2)) => u16::decode(input).ok().map(u128::from),
        Shape::Prim(Prim::Unsigned(4)) => u32::decode(input).ok().map(u128::from),
        Shape::Prim(Prim::Unsigned(8)) => u64::decode(input).ok().map(u128::from),
        Shape::Prim(Prim::Unsigned(16)) => u128::decode(input).ok(),
        Shape::Compact => Compact::<u128>::decode(input).ok().map(|c| c.0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hashers_prefix_or_replace_the_key() {
        assert_eq!(hash(StorageHasher::Identity, &[1, 2]), vec![1, 2]);
        assert_eq!(hash(StorageHasher::Twox64Concat, &[1, 0]).len(), 10);
        assert_eq!(hash(StorageHasher::Blake2_128Concat, &[7; 32]).len(), 48);
        assert_eq!(hash(StorageHasher::Twox128, &[1]).len(), 16);
    }

    #[test]
    fn unsigned_reads_through_widths() {
        let mut input: &[u8] = &[5, 0];
        assert_eq!(read_unsigned(&Shape::Prim(Prim::Unsigned(2)), &mut input), Some(5));
        let mut input: &[u8] = &[4 << 2];
        assert_eq!(read_unsigned(&Shape::Compact, &mut input), Some(4));
        let mut input: &[u8] = &[1];
        assert_eq!(read_unsigned(&Shape::Prim(Prim::Unsigned(8)), &mut input), None);
    }
}
