//! Decoded SCALE values as JSON that reads like the chain's own types: accounts as SS58,
//! hashes and byte strings as `0x` hex, substrate-fixed numbers as exact decimals, integers wider
//! than 64 bits as decimal strings, enums as `"Variant"` or `{"Variant": fields}`, `Option` as
//! the value or `null`.

use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};
use serde_json::{Map, Value as Json, json};
use subxt::ext::scale_decode::visitor::types::{
    Array, BitSequence, Composite, Sequence, Str, Tuple, Variant,
};
use subxt::ext::scale_decode::visitor::{DecodeError, TypeIdFor, Unexpected, decode_with_visitor};
use subxt::ext::scale_decode::{Error, Visitor};
use taoscope_schema::AccountId;

fn ident(types: &PortableRegistry, id: u32) -> Option<&str> {
    types.resolve(id)?.path.segments.last().map(String::as_str)
}

/// The value of a `typenum` unsigned type (`UTerm`, `UInt<U, B>`), used by substrate-fixed for
/// the number of fractional bits.
pub(crate) fn typenum(types: &PortableRegistry, id: u32) -> Option<u32> {
    let ty = types.resolve(id)?;
    match ty.path.segments.last()?.as_str() {
        "UTerm" => Some(0),
        "UInt" => {
            let param =
                |name: &str| ty.type_params.iter().find(|p| p.name == name).and_then(|p| p.ty).map(|t| t.id);
            let high = typenum(types, param("U")?)?;
            let bit = u32::from(ident(types, param("B")?)? == "B1");
            Some(high * 2 + bit)
        }
        _ => None,
    }
}

/// Fractional bits of a `FixedI128`/`FixedU128`/`FixedI64`/`FixedU64`: from the `Frac` type
/// parameter when the metadata has it, else the conventions subtensor uses (I96F32, U64F64).
pub fn frac_bits(types: &PortableRegistry, id: u32, name: &str) -> u32 {
    let from_param = types
        .resolve(id)
        .and_then(|t| t.type_params.iter().find(|p| p.name == "Frac").and_then(|p| p.ty))
        .and_then(|t| typenum(types, t.id));
    from_param.unwrap_or(if name.starts_with("FixedI") { 32 } else { 64 })
}

fn is_byte_type(types: &PortableRegistry, id: u32) -> bool {
    let inner = match types.resolve(id).map(|t| &t.type_def) {
        Some(TypeDef::Sequence(s)) => s.type_param.id,
        Some(TypeDef::Array(a)) => a.type_param.id,
        _ => return false,
    };
    matches!(types.resolve(inner).map(|t| &t.type_def), Some(TypeDef::Primitive(TypeDefPrimitive::U8)))
}

/// Decodes one value of type `ty` from `input` (advancing it) straight to JSON.
pub fn decode_json(input: &mut &[u8], ty: u32, types: &PortableRegistry) -> Result<Json, String> {
    decode_with_visitor(input, ty, types, ToJson(types)).map_err(|e| e.to_string())
}

/// The fields of an event, call or variant as JSON (named fields as an object, unnamed as an
/// array); every byte must be used.
pub fn decode_fields_json(
    bytes: &[u8],
    fields: &[scale_info::Field<scale_info::form::PortableForm>],
    types: &PortableRegistry,
) -> Result<Json, String> {
    let mut input = bytes;
    let named = fields.iter().any(|f| f.name.is_some());
    let mut map = Map::new();
    let mut list = Vec::new();
    for f in fields {
        let v = decode_json(&mut input, f.ty.id, types)?;
        match (&f.name, named) {
            (Some(name), true) => {
                map.insert(name.clone(), v);
            }
            _ => list.push(v),
        }
    }
    if !input.is_empty() {
        return Err(format!("{} bytes left over", input.len()));
    }
    Ok(if named { Json::Object(map) } else { Json::Array(list) })
}

fn hex0x(bytes: &[u8]) -> Json {
    let mut out = vec![b'0'; 2 + bytes.len() * 2];
    out[1] = b'x';
    faster_hex::hex_encode(bytes, &mut out[2..]).expect("the buffer is twice the input");
    Json::String(String::from_utf8(out).expect("hex is ASCII"))
}

/// The next `n` bytes of a run of `u8` items (sequence or array of `u8`).
fn byte_run(undecoded: &[u8], n: usize) -> Result<&[u8], Error> {
    undecoded.get(..n).ok_or_else(|| DecodeError::NotEnoughInput.into())
}

/// The decoding visitor: each SCALE value becomes JSON as it is read.
#[derive(Clone, Copy)]
struct ToJson<'t>(&'t PortableRegistry);

macro_rules! narrow_numbers {
    ($($visit:ident: $t:ty),*) => {$(
        fn $visit<'scale, 'resolver>(self, v: $t, _ty: TypeIdFor<Self>) -> Result<Self::Value<'scale, 'resolver>, Error> {
            Ok(json!(v))
        }
    )*};
}

impl Visitor for ToJson<'_> {
    type Value<'scale, 'resolver> = Json;
    type Error = Error;
    type TypeResolver = PortableRegistry;

    narrow_numbers!(
        visit_bool: bool, visit_u8: u8, visit_u16: u16, visit_u32: u32, visit_u64: u64,
        visit_i8: i8, visit_i16: i16, visit_i32: i32, visit_i64: i64
    );

    fn visit_char<'scale, 'resolver>(
        self,
        v: char,
        _ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(json!(v.to_string()))
    }

    // Integers wider than 64 bits are decimal strings (JSON numbers lose them).
    fn visit_u128<'scale, 'resolver>(
        self,
        v: u128,
        _ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(json!(v.to_string()))
    }

    fn visit_i128<'scale, 'resolver>(
        self,
        v: i128,
        _ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(json!(v.to_string()))
    }

    fn visit_u256<'resolver>(self, v: &[u8; 32], _ty: u32) -> Result<Self::Value<'_, 'resolver>, Error> {
        Ok(hex0x(v))
    }

    fn visit_i256<'resolver>(self, v: &[u8; 32], _ty: u32) -> Result<Self::Value<'_, 'resolver>, Error> {
        Ok(hex0x(v))
    }

    fn visit_str<'scale, 'resolver>(
        self,
        v: &mut Str<'scale>,
        _ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(json!(v.as_str()?))
    }

    fn visit_bitsequence<'scale, 'resolver>(
        self,
        v: &mut BitSequence<'scale>,
        _ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        let bits: String = v.decode()?.map(|b| if b.unwrap_or(false) { '1' } else { '0' }).collect();
        Ok(json!(bits))
    }

    fn visit_sequence<'scale, 'resolver>(
        self,
        seq: &mut Sequence<'scale, 'resolver, PortableRegistry>,
        ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        if is_byte_type(self.0, ty) {
            return Ok(hex0x(byte_run(seq.bytes_from_undecoded(), seq.remaining())?));
        }
        let mut items = Vec::with_capacity(seq.remaining());
        while let Some(item) = seq.decode_item(self) {
            items.push(item?);
        }
        Ok(Json::Array(items))
    }

    fn visit_array<'scale, 'resolver>(
        self,
        arr: &mut Array<'scale, 'resolver, PortableRegistry>,
        ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        if is_byte_type(self.0, ty) {
            return Ok(hex0x(byte_run(arr.bytes_from_undecoded(), arr.remaining())?));
        }
        let mut items = Vec::with_capacity(arr.remaining());
        while let Some(item) = arr.decode_item(self) {
            items.push(item?);
        }
        Ok(Json::Array(items))
    }

    fn visit_tuple<'scale, 'resolver>(
        self,
        tuple: &mut Tuple<'scale, 'resolver, PortableRegistry>,
        _ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        let mut items = Vec::with_capacity(tuple.remaining());
        while let Some(item) = tuple.decode_item(self) {
            items.push(item?);
        }
        Ok(Json::Array(items))
    }

    fn visit_composite<'scale, 'resolver>(
        self,
        c: &mut Composite<'scale, 'resolver, PortableRegistry>,
        ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        let name = ident(self.0, ty).unwrap_or_default();
        if name == "AccountId32" {
            // `AccountId32([u8; 32])`: its 32 bytes as SS58.
            let bytes = byte_run(c.bytes_from_undecoded(), 32)?;
            return Ok(json!(AccountId(bytes.try_into().expect("32 bytes")).to_ss58()));
        }
        if (name.starts_with("FixedI") || name.starts_with("FixedU")) && c.remaining() == 1 {
            let frac = frac_bits(self.0, ty, name);
            return match c.decode_item(Bits).expect("one field")? {
                Some(Ok(bits)) => Ok(json!(taoscope_math::decimal::fixed_unsigned(bits, frac))),
                Some(Err(bits)) => Ok(json!(taoscope_math::decimal::fixed(bits, frac))),
                None => Err(Error::custom_str("fixed-point bits are not a 128-bit integer")),
            };
        }
        // A newtype (`H256([u8; 32])`, `BoundedVec(Vec<T>)`) is its inner value.
        if c.remaining() == 1 && c.fields().iter().all(|f| f.name.is_none()) {
            return c.decode_item(self).expect("one field");
        }
        if c.fields().iter().any(|f| f.name.is_some()) {
            let mut map = Map::new();
            while let Some(name) = c.peek_name() {
                let v = c.decode_item(self).expect("a field is left")?;
                map.insert(name.to_string(), v);
            }
            return Ok(Json::Object(map));
        }
        let mut items = Vec::with_capacity(c.remaining());
        while let Some(item) = c.decode_item(self) {
            items.push(item?);
        }
        Ok(Json::Array(items))
    }

    fn visit_variant<'scale, 'resolver>(
        self,
        v: &mut Variant<'scale, 'resolver, PortableRegistry>,
        ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        let variant = v.name().to_string();
        let fields = v.fields();
        if ident(self.0, ty) == Some("Option") {
            return match (variant.as_str(), fields.remaining()) {
                ("Some", 1..) => fields.decode_item(self).expect("a field"),
                _ => Ok(Json::Null),
            };
        }
        let named = fields.fields().iter().any(|f| f.name.is_some());
        Ok(match (fields.remaining(), named) {
            (0, _) => json!(variant),
            (1, false) => json!({ variant: fields.decode_item(self).expect("a field")? }),
            (_, true) => {
                let mut map = Map::new();
                while let Some(name) = fields.peek_name() {
                    let value = fields.decode_item(self).expect("a field is left")?;
                    map.insert(name.to_string(), value);
                }
                json!({ variant: Json::Object(map) })
            }
            (_, false) => {
                let mut items = Vec::new();
                while let Some(item) = fields.decode_item(self) {
                    items.push(item?);
                }
                json!({ variant: Json::Array(items) })
            }
        })
    }
}

/// The bits of a fixed-point number: `Ok` unsigned, `Err` signed; `None` for other widths.
struct Bits;

impl Visitor for Bits {
    type Value<'scale, 'resolver> = Option<Result<u128, i128>>;
    type Error = Error;
    type TypeResolver = PortableRegistry;

    fn visit_u128<'scale, 'resolver>(
        self,
        v: u128,
        _ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(Some(Ok(v)))
    }

    fn visit_i128<'scale, 'resolver>(
        self,
        v: i128,
        _ty: u32,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(Some(Err(v)))
    }

    fn visit_u64<'scale, 'resolver>(self, v: u64, _ty: u32) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(Some(Ok(v.into())))
    }

    fn visit_i64<'scale, 'resolver>(self, v: i64, _ty: u32) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(Some(Err(v.into())))
    }

    fn visit_unexpected<'scale, 'resolver>(
        self,
        _u: Unexpected,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(None)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_one_element_list_stays_a_list() {
        let mut registry = scale_info::Registry::new();
        let id = registry.register_type(&scale_info::MetaType::new::<Vec<(u16, u16)>>()).id;
        let types = PortableRegistry::from(registry);
        // Weights row [(10, 65535)], as recorded on finney.
        let bytes = [0x04, 0x0a, 0x00, 0xff, 0xff];
        assert_eq!(decode_json(&mut &bytes[..], id, &types).unwrap(), json!([[10, 65535]]));
    }
}
