//! `SubnetInfoRuntimeApi_get_all_dynamic_info` answers (`Vec<Option<DynamicInfo>>`) decoded
//! straight into pool rows with the runtime's type information: the numeric fields the pools need
//! are read by name, everything else (names, symbols, identities) is skipped without building
//! values. This runs once per block for every subnet, so it avoids `scale_value`'s value tree.

use scale_info::PortableRegistry;
use subxt::ext::scale_decode::visitor::types::{Composite, Sequence, Variant};
use subxt::ext::scale_decode::visitor::{DecodeError, IgnoreVisitor, TypeIdFor, decode_with_visitor};
use subxt::ext::scale_decode::{Error, Visitor};

use super::pools::PoolRow;

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
                _ => row.last_step = Some(narrow(u64::MAX.into())? as u64),
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
