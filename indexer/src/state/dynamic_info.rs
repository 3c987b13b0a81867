//! `SubnetInfoRuntimeApi_get_all_dynamic_info` answers (`Vec<Option<DynamicInfo>>`) decoded
//! straight into pool rows: the numeric fields the pools need and the subnet's identity (name,
//! token symbol, owner keys, registration block) are read by name, everything else (the
//! `subnet_identity` texts, pending emissions) is skipped without building values. This runs once per block
//! for every subnet, so each runtime's answer type is compiled once into a [`Layout`] (byte
//! widths and what to read where); types a layout cannot describe are decoded by walking the
//! type information with `scale-decode` ([`decode`]), which is also the layout's reference in
//! tests.

use std::sync::Arc;

use parity_scale_codec::{Compact, Decode};
use scale_info::{TypeDef, TypeDefPrimitive};

use scale_info::PortableRegistry;
use subxt::ext::scale_decode::visitor::types::{Composite, Sequence, Variant};
use subxt::ext::scale_decode::visitor::{DecodeError, IgnoreVisitor, TypeIdFor, decode_with_visitor};
use subxt::ext::scale_decode::{Error, Visitor};

use super::pools::PoolRow;

/// The answer type of the runtime's `SubnetInfoRuntimeApi.get_all_dynamic_info` (taking no
/// arguments), if the runtime has it.
pub fn answer_type(md: &subxt::metadata::Metadata) -> Option<u32> {
    md.runtime_api_trait_by_name("SubnetInfoRuntimeApi")
        .and_then(|api| api.method_by_name("get_all_dynamic_info"))
        .filter(|m| m.inputs().len() == 0)
        .map(|m| m.output_ty())
}

/// Decodes a whole answer of type `ty`; every byte must be used.
pub fn decode(types: &PortableRegistry, ty: u32, bytes: &[u8]) -> Result<Vec<PoolRow>, String> {
    let mut input = bytes;
    let rows = decode_with_visitor(&mut input, ty, types, Infos(types)).map_err(|e| e.to_string())?;
    if !input.is_empty() {
        return Err(format!("{} bytes left over", input.len()));
    }
    Ok(rows)
}

/// The sequence of optional infos.
struct Infos<'t>(&'t PortableRegistry);

impl Visitor for Infos<'_> {
    type Value<'scale, 'resolver> = Vec<PoolRow>;
    type Error = Error;
    type TypeResolver = PortableRegistry;

    fn visit_sequence<'scale, 'resolver>(
        self,
        seq: &mut Sequence<'scale, 'resolver, PortableRegistry>,
        _ty: TypeIdFor<Self>,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        let mut rows = Vec::with_capacity(seq.remaining());
        while let Some(entry) = seq.decode_item(Entry(self.0)) {
            rows.extend(entry?);
        }
        Ok(rows)
    }
}

/// `Option<DynamicInfo>` (or a bare `DynamicInfo`).
struct Entry<'t>(&'t PortableRegistry);

impl Visitor for Entry<'_> {
    type Value<'scale, 'resolver> = Option<PoolRow>;
    type Error = Error;
    type TypeResolver = PortableRegistry;

    fn visit_variant<'scale, 'resolver>(
        self,
        variant: &mut Variant<'scale, 'resolver, PortableRegistry>,
        _ty: TypeIdFor<Self>,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        if variant.name() != "Some" {
            return Ok(None);
        }
        match variant.fields().decode_item(Info(self.0)) {
            Some(row) => row.map(Some),
            None => {
                Err(DecodeError::Unexpected(subxt::ext::scale_decode::visitor::Unexpected::Variant).into())
            }
        }
    }

    fn visit_composite<'scale, 'resolver>(
        self,
        info: &mut Composite<'scale, 'resolver, PortableRegistry>,
        ty: TypeIdFor<Self>,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Info(self.0).visit_composite(info, ty).map(Some)
    }
}

/// One `DynamicInfo` struct.
struct Info<'t>(&'t PortableRegistry);

impl Visitor for Info<'_> {
    type Value<'scale, 'resolver> = PoolRow;
    type Error = Error;
    type TypeResolver = PortableRegistry;

    fn visit_composite<'scale, 'resolver>(
        self,
        info: &mut Composite<'scale, 'resolver, PortableRegistry>,
        _ty: TypeIdFor<Self>,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        let types = self.0;
        let fields: Vec<(Option<&str>, u32)> = info.fields().iter().map(|f| (f.name, f.id)).collect();
        let mut row = PoolRow::default();
        let mut seen = [false; 4];
        for (name, id) in fields {
            let name = name.unwrap_or_default();
            if TEXTS.contains(&name) {
                let text = info.decode_item(Text).expect("a field is left")?;
                match name {
                    "subnet_name" => row.name = text,
                    _ => row.symbol = text,
                }
                continue;
            }
            if ACCOUNTS.contains(&name) {
                let account = info.decode_item(Account).expect("a field is left")?;
                match name {
                    "owner_hotkey" => row.owner_hotkey = account,
                    _ => row.owner_coldkey = account,
                }
                continue;
            }
            let wanted = matches!(
                name,
                "netuid"
                    | "tao_in"
                    | "alpha_in"
                    | "alpha_out"
                    | "moving_price"
                    | "tao_in_emission"
                    | "alpha_in_emission"
                    | "alpha_out_emission"
                    | "subnet_volume"
                    | "tempo"
                    | "blocks_since_last_step"
                    | "last_step"
                    | "network_registered_at"
            );
            if !wanted {
                info.decode_item(IgnoreVisitor::<PortableRegistry>::new()).expect("a field is left")?;
                continue;
            }
            let n = info.decode_item(Number).expect("a field is left")?;
            let unsigned = || u128::try_from(n).map_err(|_| field_error(name, "negative"));
            let narrow = |max: u128| {
                let v = unsigned()?;
                if v <= max { Ok(v) } else { Err(field_error(name, "out of range")) }
            };
            match name {
                "netuid" => (row.netuid, seen[0]) = (narrow(u16::MAX.into())? as u16, true),
                "tao_in" => (row.tao, seen[1]) = (narrow(u64::MAX.into())? as u64, true),
                "alpha_in" => (row.alpha_in, seen[2]) = (narrow(u64::MAX.into())? as u64, true),
                "alpha_out" => (row.alpha_out, seen[3]) = (narrow(u64::MAX.into())? as u64, true),
                "moving_price" => {
                    row.moving_price = Some((n, crate::decode::json::frac_bits(types, id, "FixedI128")))
                }
                "tao_in_emission" => row.tao_in_emission = Some(narrow(u64::MAX.into())? as u64),
                "alpha_in_emission" => row.alpha_in_emission = Some(narrow(u64::MAX.into())? as u64),
                "alpha_out_emission" => row.alpha_out_emission = Some(narrow(u64::MAX.into())? as u64),
                "subnet_volume" => row.volume = Some(unsigned()?),
                "tempo" => row.tempo = Some(narrow(u16::MAX.into())? as u16),
                "blocks_since_last_step" => {
                    row.blocks_since_last_step = Some(narrow(u64::MAX.into())? as u64)
                }
                "last_step" => row.last_step = Some(narrow(u64::MAX.into())? as u64),
                _ => row.registered_at = Some(narrow(u64::MAX.into())? as u64),
            }
        }
        for (present, name) in seen.iter().zip(["netuid", "tao_in", "alpha_in", "alpha_out"]) {
            if !present {
                return Err(field_error(name, "missing"));
            }
        }
        Ok(row)
    }
}

fn field_error(name: &str, what: &str) -> Error {
    Error::custom_string(format!("DynamicInfo.{name}: {what}"))
}

/// An integer, through `Compact` and single-field wrappers (`FixedI128 { bits }`).
struct Number;

macro_rules! number_visits {
    ($($visit:ident: $t:ty),*) => {$(
        fn $visit<'scale, 'resolver>(self, v: $t, _ty: TypeIdFor<Self>) -> Result<Self::Value<'scale, 'resolver>, Error> {
            i128::try_from(v).map_err(|_| Error::custom_str("integer wider than i128"))
        }
    )*};
}

impl Visitor for Number {
    type Value<'scale, 'resolver> = i128;
    type Error = Error;
    type TypeResolver = PortableRegistry;

    number_visits!(
        visit_u8: u8, visit_u16: u16, visit_u32: u32, visit_u64: u64, visit_u128: u128,
        visit_i8: i8, visit_i16: i16, visit_i32: i32, visit_i64: i64, visit_i128: i128
    );

    fn visit_composite<'scale, 'resolver>(
        self,
        c: &mut Composite<'scale, 'resolver, PortableRegistry>,
        _ty: TypeIdFor<Self>,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        if c.remaining() != 1 {
            return Err(Error::custom_str("a struct where a number was expected"));
        }
        c.decode_item(Number).expect("one field")
    }
}

/// A text field (`Vec<Compact<u8>>`, `Vec<u8>` or `str`) as UTF-8 (lossy); `None` for any
/// other type (the value is skipped).
struct Text;

impl Visitor for Text {
    type Value<'scale, 'resolver> = Option<String>;
    type Error = Error;
    type TypeResolver = PortableRegistry;

    fn visit_unexpected<'scale, 'resolver>(
        self,
        _unexpected: subxt::ext::scale_decode::visitor::Unexpected,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(None)
    }

    fn visit_str<'scale, 'resolver>(
        self,
        value: &mut subxt::ext::scale_decode::visitor::types::Str<'scale>,
        _ty: TypeIdFor<Self>,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(Some(value.as_str()?.to_owned()))
    }

    fn visit_sequence<'scale, 'resolver>(
        self,
        seq: &mut Sequence<'scale, 'resolver, PortableRegistry>,
        _ty: TypeIdFor<Self>,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        let mut bytes = Vec::with_capacity(seq.remaining());
        while let Some(item) = seq.decode_item(Number) {
            bytes.push(u8::try_from(item?).map_err(|_| Error::custom_str("a text byte above 255"))?);
        }
        Ok(Some(text(&bytes)))
    }
}

/// An `AccountId32` (a 32-byte array, through single-field wrappers); `None` for any other type.
struct Account;

impl Visitor for Account {
    type Value<'scale, 'resolver> = Option<[u8; 32]>;
    type Error = Error;
    type TypeResolver = PortableRegistry;

    fn visit_unexpected<'scale, 'resolver>(
        self,
        _unexpected: subxt::ext::scale_decode::visitor::Unexpected,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        Ok(None)
    }

    fn visit_composite<'scale, 'resolver>(
        self,
        c: &mut Composite<'scale, 'resolver, PortableRegistry>,
        _ty: TypeIdFor<Self>,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        if c.remaining() != 1 {
            return Ok(None);
        }
        c.decode_item(Account).expect("one field")
    }

    fn visit_array<'scale, 'resolver>(
        self,
        array: &mut subxt::ext::scale_decode::visitor::types::Array<'scale, 'resolver, PortableRegistry>,
        _ty: TypeIdFor<Self>,
    ) -> Result<Self::Value<'scale, 'resolver>, Error> {
        if array.remaining() != 32 {
            return Ok(None);
        }
        let mut id = [0u8; 32];
        for byte in &mut id {
            let n = array.decode_item(Number).expect("32 items")?;
            *byte = u8::try_from(n).map_err(|_| Error::custom_str("an account byte above 255"))?;
        }
        Ok(Some(id))
    }
}

/// Chain text as a string: UTF-8, with invalid sequences replaced and NULs dropped (PostgreSQL
/// `text` cannot hold them).
fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).replace('\0', "")
}

/// How to pass over a value without decoding it.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Shape {
    /// A fixed number of bytes.
    Fixed(usize),
    /// A SCALE compact integer.
    Compact,
    /// A length-prefixed sequence.
    Seq(Box<Shape>),
    /// Values one after another (structs, tuples, arrays of variable-size items).
    All(Vec<Shape>),
    /// An enum: the index byte, then the fields of that variant (`None`: no such variant).
    Variant(Vec<Option<Shape>>),
}

/// How a wanted integer is encoded.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Num {
    /// Little-endian unsigned of this many bytes.
    Unsigned(usize),
    /// Little-endian two's complement of this many bytes.
    Signed(usize),
    /// SCALE compact.
    Compact,
}

/// One field of `DynamicInfo`, in order.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Op {
    Skip(Shape),
    Read(&'static str, Num),
    /// A text field; `true` when its bytes are each SCALE compact (`Vec<Compact<u8>>`).
    Text(&'static str, bool),
    /// A 32-byte account id.
    Account(&'static str),
}

/// A compiled reader for one runtime's `get_all_dynamic_info` answer type.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Entries are `Option<DynamicInfo>` (else bare `DynamicInfo`).
    optional: bool,
    ops: Vec<Op>,
    /// Fractional bits of `moving_price`.
    moving_frac: u32,
}

/// The integer fields read, as named in `DynamicInfo` (the first four are required).
const WANTED: [&str; 13] = [
    "netuid",
    "tao_in",
    "alpha_in",
    "alpha_out",
    "moving_price",
    "tao_in_emission",
    "alpha_in_emission",
    "alpha_out_emission",
    "subnet_volume",
    "tempo",
    "blocks_since_last_step",
    "last_step",
    "network_registered_at",
];

/// The text fields read (names the runtime stores as bytes).
const TEXTS: [&str; 2] = ["subnet_name", "token_symbol"];

/// The account fields read.
const ACCOUNTS: [&str; 2] = ["owner_hotkey", "owner_coldkey"];

/// Whether a text field's bytes are compact-encoded (`Vec<Compact<u8>>`: `Some(true)`) or plain
/// (`Vec<u8>`, `str`: `Some(false)`); `None` for any other type.
fn text_kind(types: &PortableRegistry, id: u32) -> Option<bool> {
    match &types.resolve(id)?.type_def {
        TypeDef::Primitive(TypeDefPrimitive::Str) => Some(false),
        TypeDef::Sequence(s) => match &types.resolve(s.type_param.id)?.type_def {
            TypeDef::Primitive(TypeDefPrimitive::U8) => Some(false),
            TypeDef::Compact(c) => {
                matches!(types.resolve(c.type_param.id)?.type_def, TypeDef::Primitive(TypeDefPrimitive::U8))
                    .then_some(true)
            }
            _ => None,
        },
        _ => None,
    }
}

fn shape(types: &PortableRegistry, id: u32, depth: u32) -> Option<Shape> {
    if depth > 32 {
        return None;
    }
    let all = |shapes: Vec<Shape>| {
        if shapes.iter().all(|s| matches!(s, Shape::Fixed(_))) {
            Shape::Fixed(shapes.iter().map(|s| if let Shape::Fixed(n) = s { *n } else { 0 }).sum())
        } else {
            Shape::All(shapes)
        }
    };
    Some(match &types.resolve(id)?.type_def {
        TypeDef::Primitive(p) => match p {
            TypeDefPrimitive::Bool | TypeDefPrimitive::U8 | TypeDefPrimitive::I8 => Shape::Fixed(1),
            TypeDefPrimitive::U16 | TypeDefPrimitive::I16 => Shape::Fixed(2),
            TypeDefPrimitive::U32 | TypeDefPrimitive::I32 | TypeDefPrimitive::Char => Shape::Fixed(4),
            TypeDefPrimitive::U64 | TypeDefPrimitive::I64 => Shape::Fixed(8),
            TypeDefPrimitive::U128 | TypeDefPrimitive::I128 => Shape::Fixed(16),
            TypeDefPrimitive::U256 | TypeDefPrimitive::I256 => Shape::Fixed(32),
            TypeDefPrimitive::Str => Shape::Seq(Box::new(Shape::Fixed(1))),
        },
        TypeDef::Compact(_) => Shape::Compact,
        TypeDef::Sequence(s) => Shape::Seq(Box::new(shape(types, s.type_param.id, depth + 1)?)),
        TypeDef::Array(a) => {
            let item = shape(types, a.type_param.id, depth + 1)?;
            all(vec![item; a.len as usize])
        }
        TypeDef::Tuple(t) => {
            all(t.fields.iter().map(|f| shape(types, f.id, depth + 1)).collect::<Option<Vec<_>>>()?)
        }
        TypeDef::Composite(c) => {
            all(c.fields.iter().map(|f| shape(types, f.ty.id, depth + 1)).collect::<Option<Vec<_>>>()?)
        }
        TypeDef::Variant(v) => {
            let mut table = vec![None; 256];
            for var in &v.variants {
                let fields = var
                    .fields
                    .iter()
                    .map(|f| shape(types, f.ty.id, depth + 1))
                    .collect::<Option<Vec<_>>>()?;
                table[usize::from(var.index)] = Some(all(fields));
            }
            Shape::Variant(table)
        }
        TypeDef::BitSequence(_) => return None,
    })
}

/// How an integer field is encoded, through single-field wrappers (`FixedI128 { bits }`).
fn num(types: &PortableRegistry, id: u32, depth: u32) -> Option<Num> {
    if depth > 8 {
        return None;
    }
    match &types.resolve(id)?.type_def {
        TypeDef::Primitive(p) => Some(match p {
            TypeDefPrimitive::U8 => Num::Unsigned(1),
            TypeDefPrimitive::U16 => Num::Unsigned(2),
            TypeDefPrimitive::U32 => Num::Unsigned(4),
            TypeDefPrimitive::U64 => Num::Unsigned(8),
            TypeDefPrimitive::U128 => Num::Unsigned(16),
            TypeDefPrimitive::I8 => Num::Signed(1),
            TypeDefPrimitive::I16 => Num::Signed(2),
            TypeDefPrimitive::I32 => Num::Signed(4),
            TypeDefPrimitive::I64 => Num::Signed(8),
            TypeDefPrimitive::I128 => Num::Signed(16),
            _ => return None,
        }),
        TypeDef::Compact(_) => Some(Num::Compact),
        TypeDef::Composite(c) if c.fields.len() == 1 => num(types, c.fields[0].ty.id, depth + 1),
        _ => None,
    }
}

impl Layout {
    /// Compiles the answer type `ty` (`Vec<Option<DynamicInfo>>` or `Vec<DynamicInfo>`);
    /// `None` when it has a shape the layout does not cover.
    pub fn compile(types: &PortableRegistry, ty: u32) -> Option<Arc<Layout>> {
        let TypeDef::Sequence(seq) = &types.resolve(ty)?.type_def else { return None };
        let entry = types.resolve(seq.type_param.id)?;
        let (optional, info) = match &entry.type_def {
            TypeDef::Variant(v) if entry.path.segments.last().map(String::as_str) == Some("Option") => {
                let some = v.variants.iter().find(|x| x.name == "Some" && x.index == 1)?;
                let none = v.variants.iter().find(|x| x.name == "None" && x.index == 0)?;
                if !none.fields.is_empty() || some.fields.len() != 1 {
                    return None;
                }
                (true, some.fields[0].ty.id)
            }
            _ => (false, seq.type_param.id),
        };
        let TypeDef::Composite(c) = &types.resolve(info)?.type_def else { return None };
        let mut ops = Vec::with_capacity(c.fields.len());
        let mut moving_frac = 32;
        for f in &c.fields {
            let name = f.name.as_deref().unwrap_or_default();
            if let Some(w) = WANTED.iter().find(|w| **w == name) {
                if *w == "moving_price" {
                    moving_frac = crate::decode::json::frac_bits(types, f.ty.id, "FixedI128");
                }
                ops.push(Op::Read(w, num(types, f.ty.id, 0)?));
                continue;
            }
            let shape = shape(types, f.ty.id, 0)?;
            if let Some(w) = TEXTS.iter().find(|w| **w == name)
                && let Some(compact) = text_kind(types, f.ty.id)
            {
                ops.push(Op::Text(w, compact));
            } else if let Some(w) = ACCOUNTS.iter().find(|w| **w == name)
                && shape == Shape::Fixed(32)
            {
                ops.push(Op::Account(w));
            } else {
                ops.push(Op::Skip(shape));
            }
        }
        for required in &WANTED[..4] {
            if !ops.iter().any(|op| matches!(op, Op::Read(n, _) if n == required)) {
                return None;
            }
        }
        Some(Arc::new(Layout { optional, ops, moving_frac }))
    }

    /// The `DynamicInfo` fields this layout reads (the rest it skips), in order.
    pub fn reads(&self) -> Vec<&'static str> {
        self.ops
            .iter()
            .filter_map(|op| match op {
                Op::Skip(_) => None,
                Op::Read(name, _) | Op::Text(name, _) | Op::Account(name) => Some(*name),
            })
            .collect()
    }

    /// Decodes a whole answer; every byte must be used.
    pub fn decode(&self, bytes: &[u8]) -> Result<Vec<PoolRow>, String> {
        let input = &mut &bytes[..];
        let count = Compact::<u32>::decode(input).map_err(|e| format!("entry count: {e}"))?.0;
        let mut rows = Vec::with_capacity((count as usize).min(4096));
        for _ in 0..count {
            if self.optional {
                match take(input, 1)?[0] {
                    0 => continue,
                    1 => {}
                    tag => return Err(format!("Option tag {tag}")),
                }
            }
            rows.push(self.info(input)?);
        }
        if !input.is_empty() {
            return Err(format!("{} bytes left over", input.len()));
        }
        Ok(rows)
    }

    fn info(&self, input: &mut &[u8]) -> Result<PoolRow, String> {
        let mut row = PoolRow::default();
        for op in &self.ops {
            let (name, n) = match op {
                Op::Skip(shape) => {
                    skip(shape, input)?;
                    continue;
                }
                Op::Read(name, kind) => {
                    (*name, read(*kind, input).map_err(|e| format!("DynamicInfo.{name}: {e}"))?)
                }
                Op::Text(name, compact) => {
                    let text = read_text(*compact, input).map_err(|e| format!("DynamicInfo.{name}: {e}"))?;
                    match *name {
                        "subnet_name" => row.name = Some(text),
                        _ => row.symbol = Some(text),
                    }
                    continue;
                }
                Op::Account(name) => {
                    let id: [u8; 32] = take(input, 32)
                        .map_err(|e| format!("DynamicInfo.{name}: {e}"))?
                        .try_into()
                        .expect("32 bytes");
                    match *name {
                        "owner_hotkey" => row.owner_hotkey = Some(id),
                        _ => row.owner_coldkey = Some(id),
                    }
                    continue;
                }
            };
            let bad = |what: &str| format!("DynamicInfo.{name}: {what}");
            let narrow = |max: u128| match u128::try_from(n) {
                Ok(v) if v <= max => Ok(v),
                Ok(_) => Err(bad("out of range")),
                Err(_) => Err(bad("negative")),
            };
            let u64_max = u128::from(u64::MAX);
            match name {
                "netuid" => row.netuid = narrow(u16::MAX.into())? as u16,
                "tao_in" => row.tao = narrow(u64_max)? as u64,
                "alpha_in" => row.alpha_in = narrow(u64_max)? as u64,
                "alpha_out" => row.alpha_out = narrow(u64_max)? as u64,
                "moving_price" => row.moving_price = Some((n, self.moving_frac)),
                "tao_in_emission" => row.tao_in_emission = Some(narrow(u64_max)? as u64),
                "alpha_in_emission" => row.alpha_in_emission = Some(narrow(u64_max)? as u64),
                "alpha_out_emission" => row.alpha_out_emission = Some(narrow(u64_max)? as u64),
                "subnet_volume" => row.volume = Some(narrow(u128::MAX)?),
                "tempo" => row.tempo = Some(narrow(u16::MAX.into())? as u16),
                "blocks_since_last_step" => row.blocks_since_last_step = Some(narrow(u64_max)? as u64),
                "last_step" => row.last_step = Some(narrow(u64_max)? as u64),
                _ => row.registered_at = Some(narrow(u64_max)? as u64),
            }
        }
        Ok(row)
    }
}

fn take<'a>(input: &mut &'a [u8], n: usize) -> Result<&'a [u8], String> {
    if input.len() < n {
        return Err("not enough data".into());
    }
    let (head, rest) = input.split_at(n);
    *input = rest;
    Ok(head)
}

fn skip(shape: &Shape, input: &mut &[u8]) -> Result<(), String> {
    match shape {
        Shape::Fixed(n) => take(input, *n).map(drop),
        Shape::Compact => {
            let first = *input.first().ok_or("not enough data")?;
            let len = match first & 3 {
                0 => 1,
                1 => 2,
                2 => 4,
                _ => usize::from(first >> 2) + 5,
            };
            take(input, len).map(drop)
        }
        Shape::Seq(item) => {
            let len = Compact::<u32>::decode(input).map_err(|e| e.to_string())?.0 as usize;
            match item.as_ref() {
                Shape::Fixed(n) => take(input, len.checked_mul(*n).ok_or("sequence too long")?).map(drop),
                other => (0..len).try_for_each(|_| skip(other, input)),
            }
        }
        Shape::All(shapes) => shapes.iter().try_for_each(|s| skip(s, input)),
        Shape::Variant(table) => {
            let index = take(input, 1)?[0];
            match &table[usize::from(index)] {
                Some(fields) => skip(fields, input),
                None => Err(format!("no variant {index}")),
            }
        }
    }
}

/// A text field's bytes (each compact-encoded when `compact`) as a string ([`text`]).
fn read_text(compact: bool, input: &mut &[u8]) -> Result<String, String> {
    let len = Compact::<u32>::decode(input).map_err(|e| format!("length: {e}"))?.0 as usize;
    if !compact {
        return Ok(text(take(input, len)?));
    }
    // At least one byte per item: a length beyond the input is refused before allocating.
    if len > input.len() {
        return Err("not enough data".into());
    }
    let bytes = (0..len)
        .map(|_| Compact::<u8>::decode(input).map(|c| c.0).map_err(|e| e.to_string()))
        .collect::<Result<Vec<u8>, _>>()?;
    Ok(text(&bytes))
}

fn read(kind: Num, input: &mut &[u8]) -> Result<i128, String> {
    Ok(match kind {
        Num::Unsigned(n) => {
            let mut le = [0u8; 16];
            le[..n].copy_from_slice(take(input, n)?);
            i128::try_from(u128::from_le_bytes(le)).map_err(|_| "integer wider than i128")?
        }
        Num::Signed(n) => {
            let bytes = take(input, n)?;
            let fill = if bytes[n - 1] & 0x80 != 0 { 0xff } else { 0 };
            let mut le = [fill; 16];
            le[..n].copy_from_slice(bytes);
            i128::from_le_bytes(le)
        }
        Num::Compact => {
            let v = Compact::<u128>::decode(input).map_err(|e| e.to_string())?.0;
            i128::try_from(v).map_err(|_| "integer wider than i128")?
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn compact_text(bytes: &[u8]) -> Vec<u8> {
        use parity_scale_codec::Encode;
        bytes.iter().map(|b| Compact(*b)).collect::<Vec<_>>().encode()
    }

    #[test]
    fn text_fields_read_compact_bytes_as_utf8() {
        use parity_scale_codec::Encode;
        // Finney's symbols are Greek letters: bytes above 63 take two compact bytes each.
        let alpha = "α".as_bytes();
        let encoded = compact_text(alpha);
        assert_eq!(encoded.len(), 1 + 2 * alpha.len());
        let input = &mut &encoded[..];
        assert_eq!(read_text(true, input).unwrap(), "α");
        assert!(input.is_empty());
        // Plain bytes, with an invalid sequence and a NUL: replaced and dropped, not refused.
        let plain = vec![b'a', 0xff, 0, b'b'].encode();
        assert_eq!(read_text(false, &mut &plain[..]).unwrap(), "a\u{fffd}b");
    }

    #[test]
    fn a_text_longer_than_the_answer_is_refused_before_allocating() {
        use parity_scale_codec::Encode;
        let mut hostile = Compact(u32::MAX).encode();
        hostile.extend([1, 2, 3]);
        assert_eq!(read_text(true, &mut &hostile[..]).unwrap_err(), "not enough data");
        assert_eq!(read_text(false, &mut &hostile[..]).unwrap_err(), "not enough data");
        // A compact item cut short.
        let cut = [4u8, 0x01];
        assert!(read_text(true, &mut &cut[..]).is_err());
    }
}
