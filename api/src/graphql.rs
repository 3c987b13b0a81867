//! The GraphQL schema: one query object per domain module, merged into [`Query`], with depth and
//! complexity limits. Resolvers reach the database only through the [`Store`] trait, which they
//! find in the schema data.

pub mod blocks;
pub mod scalars;
pub mod status;

use std::sync::Arc;

use async_graphql::{EmptyMutation, EmptySubscription, MergedObject, Schema, SchemaBuilder};

use crate::graphql::blocks::BlocksQuery;
use crate::graphql::status::StatusQuery;
use crate::store::Store;

/// Deepest accepted selection. GraphiQL's introspection query nests `ofType` about ten levels,
/// so this cannot go much lower without breaking tooling.
pub const MAX_DEPTH: usize = 16;

/// Largest accepted query complexity: each field counts 1, list fields count once per requested
/// row (a full 100-block page of every block field is about 1,300).
pub const MAX_COMPLEXITY: usize = 5_000;

/// The query root.
#[derive(MergedObject, Default)]
pub struct Query(StatusQuery, BlocksQuery);

/// The executable schema.
pub type ApiSchema = Schema<Query, EmptyMutation, EmptySubscription>;

fn builder() -> SchemaBuilder<Query, EmptyMutation, EmptySubscription> {
    Schema::build(Query::default(), EmptyMutation, EmptySubscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
}

/// The schema, resolving against `store`.
pub fn schema(store: Arc<dyn Store>) -> ApiSchema {
    builder().data(store).finish()
}

/// The schema in SDL, as checked in at `api/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}
