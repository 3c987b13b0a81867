//! Human-readable names of metadata types, as a Rust programmer would write them:
//! `u16`, `AccountId32`, `Vec<(u16, u16)>`, `Option<u64>`, `FixedU128<U64>`.

use scale_info::{PortableRegistry, TypeDef, TypeDefPrimitive};

use crate::decode::json::typenum;

/// Nesting beyond this is shown as `…` (guards against cyclic registries in bad input).
const MAX_DEPTH: usize = 24;

/// The name of type `id`: the last path segment with its (non-skipped) type parameters for
/// structs and enums, Rust syntax for sequences, arrays, tuples and primitives, and typenum
/// integers (substrate-fixed's `Frac`) as `U32`, `U64`.
pub fn type_name(types: &PortableRegistry, id: u32) -> String {
    name(types, id, 0)
}

fn name(types: &PortableRegistry, id: u32, depth: usize) -> String {
    if depth > MAX_DEPTH {
        return "…".to_string();
    }
    let Some(ty) = types.resolve(id) else {
        return format!("<unknown type {id}>");
    };
    let inner = |id: u32| name(types, id, depth + 1);
    match &ty.type_def {
        TypeDef::Primitive(p) => primitive(p).to_string(),
        TypeDef::Sequence(s) => format!("Vec<{}>", inner(s.type_param.id)),
        TypeDef::Array(a) => format!("[{}; {}]", inner(a.type_param.id), a.len),
        TypeDef::Tuple(t) => match t.fields.as_slice() {
            [one] => format!("({},)", inner(one.id)),
            fields => format!("({})", fields.iter().map(|f| inner(f.id)).collect::<Vec<_>>().join(", ")),
        },
        TypeDef::Compact(c) => format!("Compact<{}>", inner(c.type_param.id)),
        TypeDef::BitSequence(_) => "BitVec".to_string(),
        TypeDef::Composite(_) | TypeDef::Variant(_) => {
            if let Some(n) = typenum(types, id) {
                return format!("U{n}");
            }
            let base = ty.path.segments.last().map(String::as_str).unwrap_or("<anonymous>");
            let params: Vec<String> =
                ty.type_params.iter().filter_map(|p| p.ty).map(|t| inner(t.id)).collect();
            if params.is_empty() { base.to_string() } else { format!("{base}<{}>", params.join(", ")) }
        }
    }
}

fn primitive(p: &TypeDefPrimitive) -> &'static str {
    match p {
        TypeDefPrimitive::Bool => "bool",
        TypeDefPrimitive::Char => "char",
        TypeDefPrimitive::Str => "str",
        TypeDefPrimitive::U8 => "u8",
        TypeDefPrimitive::U16 => "u16",
        TypeDefPrimitive::U32 => "u32",
        TypeDefPrimitive::U64 => "u64",
        TypeDefPrimitive::U128 => "u128",
        TypeDefPrimitive::U256 => "u256",
        TypeDefPrimitive::I8 => "i8",
        TypeDefPrimitive::I16 => "i16",
        TypeDefPrimitive::I32 => "i32",
        TypeDefPrimitive::I64 => "i64",
        TypeDefPrimitive::I128 => "i128",
        TypeDefPrimitive::I256 => "i256",
    }
}

#[cfg(test)]
mod tests {
    use scale_info::{MetaType, Registry};

    use super::*;

    fn name_of<T: scale_info::TypeInfo + 'static>() -> String {
        let mut registry = Registry::new();
        let id = registry.register_type(&MetaType::new::<T>()).id;
        type_name(&PortableRegistry::from(registry), id)
    }

    #[test]
    fn names_read_like_rust() {
        assert_eq!(name_of::<u16>(), "u16");
        assert_eq!(name_of::<Vec<(u16, u16)>>(), "Vec<(u16, u16)>");
        assert_eq!(name_of::<Option<[u8; 32]>>(), "Option<[u8; 32]>");
        assert_eq!(name_of::<(u64,)>(), "(u64,)");
        assert_eq!(name_of::<()>(), "()");
        assert_eq!(type_name(&PortableRegistry::from(Registry::new()), 7), "<unknown type 7>");
    }
}
