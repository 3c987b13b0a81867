//! Whole responses to queries that read only the subnets' current state (`subnets` and
//! `subnet(netuid)` with snapshot fields only), kept while the [`SubnetCache`] snapshot they
//! were computed from is current. Dashboards send the same few such queries constantly; a hit
//! skips parsing, validation and execution and answers the stored JSON.
//!
//! A query qualifies only when every root field is `subnets`, `subnet` or `__typename` and
//! every field below is one of [`SNAPSHOT_FIELDS`] (no fragments): those are exactly the values
//! the snapshot holds, so the stored answer cannot go staler than the snapshot itself.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_graphql::parser::types::{DocumentOperations, OperationType, Selection, SelectionSet};
use async_graphql::{Request, Variables};
use bytes::Bytes;

use crate::graphql::subnets::{Subnet, SubnetCache};
use crate::store::postgres::PgStore;

/// `Subnet` fields read straight from the snapshot (no arguments, no database access).
pub const SNAPSHOT_FIELDS: &[&str] = &[
    "__typename",
    "netuid",
    "name",
    "symbol",
    "blockNumber",
    "timestamp",
    "price",
    "priceSource",
    "movingPrice",
    "taoIn",
    "taoInTao",
    "alphaIn",
    "alphaInAlpha",
    "alphaOut",
    "alphaOutAlpha",
    "marketCap",
    "liquidityTao",
    "taoInEmission",
    "alphaInEmission",
    "alphaOutEmission",
    "emissionShare",
    "tempo",
    "owner",
    "ownerHotkey",
    "registeredAt",
    "lastEpochBlock",
];

/// Most distinct queries kept; past it the cache starts again empty.
const MAX_ENTRIES: usize = 512;
/// Largest response kept.
const MAX_BODY: usize = 1 << 20;

/// Stored responses by request (query, operation name and variables).
#[derive(Default)]
pub struct ResponseCache {
    entries: Mutex<HashMap<Key, Entry>>,
}

/// An answer, with the snapshot it was computed from.
type Entry = (Arc<Vec<Subnet>>, Bytes);

/// What identifies a request's answer.
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct Key {
    query: String,
    operation: Option<String>,
    variables: String,
}

/// A request that qualifies, with the snapshot current when it arrived.
pub struct Lookup {
    key: Key,
    snapshot: Arc<Vec<Subnet>>,
}

impl ResponseCache {
    /// For a qualifying `request`: the stored answer if it was computed from the current
    /// snapshot (`Ok`), else what [`store`](Self::store) needs to keep the answer (`Err`).
    /// `None` when the request does not qualify or the snapshot cannot be read (the query then
    /// runs and reports the error itself).
    pub async fn lookup(
        &self,
        request: &Request,
        subnets: &SubnetCache,
        store: &PgStore,
    ) -> Option<Result<Bytes, Lookup>> {
        if !request.extensions.is_empty() || !request.query.contains("subnet") {
            return None;
        }
        let snapshot = subnets.get(store).await.ok()?;
        let key = Key {
            query: request.query.clone(),
            operation: request.operation_name.clone(),
            variables: variables_key(&request.variables),
        };
        // Only qualifying requests are stored, so a hit needs no second look at the query.
        let hit =
            self.entries.lock().unwrap_or_else(|e| e.into_inner()).get(&key).and_then(
                |(computed_from, body)| Arc::ptr_eq(computed_from, &snapshot).then(|| body.clone()),
            );
        match hit {
            Some(body) => Some(Ok(body)),
            None => reads_only_snapshot(&request.query).then_some(Err(Lookup { key, snapshot })),
        }
    }

    /// Keeps `body`, the error-free answer to the request behind `lookup`.
    pub fn store(&self, lookup: Lookup, body: Bytes) {
        if body.len() > MAX_BODY {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES && !entries.contains_key(&lookup.key) {
            entries.clear();
        }
        entries.insert(lookup.key, (lookup.snapshot, body));
    }
}

fn variables_key(variables: &Variables) -> String {
    serde_json::to_string(variables).unwrap_or_default()
}

/// Whether `query` parses and every operation in it is a query whose root fields are
/// `subnets`, `subnet` or `__typename` selecting only [`SNAPSHOT_FIELDS`].
pub fn reads_only_snapshot(query: &str) -> bool {
    if !query.contains("subnet") {
        return false;
    }
    let Ok(document) = async_graphql::parser::parse_query(query) else {
        return false;
    };
    if !document.fragments.is_empty() {
        return false;
    }
    let operations: Vec<_> = match &document.operations {
        DocumentOperations::Single(op) => vec![op],
        DocumentOperations::Multiple(ops) => ops.values().collect(),
    };
    operations.iter().all(|op| {
        op.node.ty == OperationType::Query
            && op.node.selection_set.node.items.iter().all(|item| match &item.node {
                Selection::Field(field) => match field.node.name.node.as_str() {
                    "__typename" => true,
                    "subnets" | "subnet" => only_snapshot_fields(&field.node.selection_set.node),
                    _ => false,
                },
                _ => false,
            })
    })
}

fn only_snapshot_fields(selection: &SelectionSet) -> bool {
    !selection.items.is_empty()
        && selection.items.iter().all(|item| match &item.node {
            Selection::Field(field) => {
                field.node.arguments.is_empty()
                    && field.node.selection_set.node.items.is_empty()
                    && SNAPSHOT_FIELDS.contains(&field.node.name.node.as_str())
            }
            _ => false,
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_snapshot_queries_qualify() {
        assert!(reads_only_snapshot("{ subnets { netuid name price } }"));
        assert!(reads_only_snapshot("query Q($n: Int!) { a: subnet(netuid: $n) { price } __typename }"));
        assert!(reads_only_snapshot("{ subnets { netuid @include(if: true) } }"));
        // History behind a snapshot subnet reads the database.
        assert!(!reads_only_snapshot("{ subnets { netuid candles(interval: H1) { edges { cursor } } } }"));
        assert!(!reads_only_snapshot("{ subnet(netuid: 1) { yumaAudit { epochBlock } } }"));
        // Other roots, fragments, mutations, unparsable text.
        assert!(!reads_only_snapshot("{ subnets { netuid } status { lagBlocks } }"));
        assert!(!reads_only_snapshot("{ subnets { ...F } } fragment F on Subnet { netuid }"));
        assert!(!reads_only_snapshot("{ subnets { ... on Subnet { netuid } } }"));
        assert!(!reads_only_snapshot("mutation { subnets { netuid } }"));
        assert!(!reads_only_snapshot("{ subnets { netuid "));
        assert!(!reads_only_snapshot("{ subnets }"));
        assert!(!reads_only_snapshot("{ blocks { edges { cursor } } }"));
    }

    /// Every listed field is a `Subnet` field without arguments whose type is a scalar (so it
    /// can only be a value the snapshot holds), and every such field is listed.
    #[test]
    fn snapshot_fields_are_the_subnet_scalars() {
        use async_graphql::parser::types::{BaseType, TypeKind, TypeSystemDefinition};
        let sdl = crate::graphql::sdl();
        let document = async_graphql::parser::parse_schema(&sdl).expect("the SDL parses");
        let type_named = |name: &str| {
            document.definitions.iter().find_map(|d| match d {
                TypeSystemDefinition::Type(t) if t.node.name.node == name => Some(t.node.kind.clone()),
                _ => None,
            })
        };
        let Some(TypeKind::Object(subnet)) = type_named("Subnet") else { panic!("no Subnet object") };
        let mut scalars: Vec<String> = vec!["__typename".to_string()];
        for field in &subnet.fields {
            let mut ty = &field.node.ty.node.base;
            while let BaseType::List(inner) = ty {
                ty = &inner.base;
            }
            let BaseType::Named(type_name) = ty else { unreachable!() };
            let builtin = ["Int", "Float", "String", "Boolean", "ID"].contains(&type_name.as_str());
            let scalar =
                builtin || matches!(type_named(type_name), Some(TypeKind::Scalar | TypeKind::Enum(_)));
            if scalar && field.node.arguments.is_empty() {
                scalars.push(field.node.name.node.to_string());
            }
        }
        let mut listed: Vec<String> = SNAPSHOT_FIELDS.iter().map(|f| f.to_string()).collect();
        scalars.sort();
        listed.sort();
        assert_eq!(listed, scalars);
        assert!(listed.len() > 20, "{listed:?}");
    }
}
