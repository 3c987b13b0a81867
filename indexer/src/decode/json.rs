//! Decoded SCALE values as JSON that reads like the chain's own types: accounts as SS58,
//! hashes and byte strings as `0x` hex, substrate-fixed numbers as exact decimals, integers wider
//! than 64 bits as decimal strings, enums as `"Variant"` or `{"Variant": fields}`, `Option` as
//! the value or `null`.

use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};
use serde_json::{Map, Value as Json, json};
use subxt::ext::scale_value::{Composite, Primitive, Value, ValueDef};
use taoscope_schema::AccountId;

fn ident(types: &PortableRegistry, id: u32) -> Option<&str> {
    types.resolve(id)?.path.segments.last().map(String::as_str)
}

/// Width class of a primitive type (through `Compact`).
fn is_wide_integer(types: &PortableRegistry, id: u32) -> bool {
    match types.resolve(id).map(|t| &t.type_def) {
        Some(TypeDef::Primitive(p)) => matches!(
            p,
            TypeDefPrimitive::U128 | TypeDefPrimitive::I128 | TypeDefPrimitive::U256 | TypeDefPrimitive::I256
        ),
        Some(TypeDef::Compact(c)) => is_wide_integer(types, c.type_param.id),
        _ => false,
    }
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

fn bytes_of(values: &[Value<u32>]) -> Option<Vec<u8>> {
    values
        .iter()
        .map(|v| match &v.value {
            ValueDef::Primitive(Primitive::U128(b)) => u8::try_from(*b).ok(),
            _ => None,
        })
        .collect()
}

fn is_byte_type(types: &PortableRegistry, id: u32) -> bool {
    let inner = match types.resolve(id).map(|t| &t.type_def) {
        Some(TypeDef::Sequence(s)) => s.type_param.id,
        Some(TypeDef::Array(a)) => a.type_param.id,
        _ => return false,
    };
    matches!(types.resolve(inner).map(|t| &t.type_def), Some(TypeDef::Primitive(TypeDefPrimitive::U8)))
}

fn composite(c: &Composite<u32>, types: &PortableRegistry) -> Json {
    match c {
        Composite::Named(fields) => {
            let mut map = Map::new();
            for (name, v) in fields {
                map.insert(name.clone(), to_json(v, types));
            }
            Json::Object(map)
        }
        Composite::Unnamed(values) => Json::Array(values.iter().map(|v| to_json(v, types)).collect()),
    }
}

/// Fields of an event, call or variant as JSON: named fields as an object, unnamed as an array.
pub fn fields_to_json(c: &Composite<u32>, types: &PortableRegistry) -> Json {
    composite(c, types)
}

/// One value as JSON, guided by its type (the value's context is its type id).
pub fn to_json(v: &Value<u32>, types: &PortableRegistry) -> Json {
    let id = v.context;
    let name = ident(types, id).unwrap_or_default();
    match &v.value {
        ValueDef::Composite(c) => {
            let values: Vec<&Value<u32>> = c.values().collect();
            match name {
                "AccountId32" => {
                    let inner = match values.as_slice() {
                        [one] => match &one.value {
                            ValueDef::Composite(c) => bytes_of(&c.values().cloned().collect::<Vec<_>>()),
                            _ => None,
                        },
                        _ => bytes_of(&values.iter().map(|v| (*v).clone()).collect::<Vec<_>>()),
                    };
                    if let Some(Ok(id)) = inner.map(<[u8; 32]>::try_from) {
                        return json!(AccountId(id).to_ss58());
                    }
                }
                n if n.starts_with("FixedI") || n.starts_with("FixedU") => {
                    if let [bits] = values.as_slice()
                        && let ValueDef::Primitive(p) = &bits.value
                    {
                        let frac = frac_bits(types, id, n);
                        return match p {
                            Primitive::U128(b) => json!(taoscope_math::decimal::fixed_unsigned(*b, frac)),
                            Primitive::I128(b) => json!(taoscope_math::decimal::fixed(*b, frac)),
                            _ => to_json(bits, types),
                        };
                    }
                }
                _ => {}
            }
            if is_byte_type(types, id)
                && let Some(bytes) = bytes_of(&values.iter().map(|v| (*v).clone()).collect::<Vec<_>>())
            {
                return json!(format!("0x{}", hex::encode(bytes)));
            }
            // Newtypes (`H256([u8; 32])`, `BoundedVec(Vec<T>)`, `Cow(str)`) are their inner value;
            // a sequence, array or tuple of one element stays a list.
            let is_struct = matches!(types.resolve(id).map(|t| &t.type_def), Some(TypeDef::Composite(_)));
            if let (true, Composite::Unnamed(_), [one]) = (is_struct, c, values.as_slice()) {
                return to_json(one, types);
            }
            composite(c, types)
        }
        ValueDef::Variant(var) => {
            if name == "Option" {
                return match (var.name.as_str(), var.values.values().next()) {
                    ("Some", Some(inner)) => to_json(inner, types),
                    _ => Json::Null,
                };
            }
            let fields: Vec<&Value<u32>> = var.values.values().collect();
            match (&var.values, fields.as_slice()) {
                (_, []) => json!(var.name),
                (Composite::Unnamed(_), [one]) => json!({ var.name.clone(): to_json(one, types) }),
                _ => json!({ var.name.clone(): composite(&var.values, types) }),
            }
        }
        ValueDef::Primitive(p) => match p {
            Primitive::Bool(b) => json!(b),
            Primitive::Char(c) => json!(c.to_string()),
            Primitive::String(s) => json!(s),
            Primitive::U128(n) if !is_wide_integer(types, id) => json!(*n as u64),
            Primitive::I128(n) if !is_wide_integer(types, id) => json!(*n as i64),
            Primitive::U128(n) => json!(n.to_string()),
            Primitive::I128(n) => json!(n.to_string()),
            Primitive::U256(b) | Primitive::I256(b) => json!(format!("0x{}", hex::encode(b))),
        },
        ValueDef::BitSequence(bits) => {
            json!(bits.iter().map(|b| if b { '1' } else { '0' }).collect::<String>())
        }
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
        let value = subxt::ext::scale_value::scale::decode_as_type(&mut &bytes[..], id, &types).unwrap();
        assert_eq!(to_json(&value, &types), json!([[10, 65535]]));
    }
}
