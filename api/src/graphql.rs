//! The GraphQL schema: one query object per domain module, merged into [`Query`], the live
//! [`Subscription`](crate::live::Subscription), depth and complexity limits, and the error policy
//! (every error leaves with a stable `extensions.code`). Resolvers find the [`ApiState`] in the
//! schema data and run their module's SQL through its store.

pub mod accounts;
pub mod audit;
pub mod blocks;
pub mod chain;
pub mod markets;
pub mod neurons;
pub mod page;
pub mod response_cache;
pub mod scalars;
pub mod status;
pub mod subnets;

use async_graphql::{Context, MergedObject, Schema, SchemaBuilder, ServerError};

use crate::ApiState;
use crate::error::ApiError;
use crate::graphql::accounts::AccountsQuery;
use crate::graphql::audit::{AuditMutation, AuditQuery};
use crate::graphql::blocks::BlocksQuery;
use crate::graphql::chain::ChainQuery;
use crate::graphql::status::StatusQuery;
use crate::graphql::subnets::SubnetsQuery;
use crate::live::Subscription;
use crate::store::postgres::PgStore;

/// Deepest accepted selection. GraphiQL's introspection query nests `ofType` about ten levels,
/// so this cannot go much lower without breaking tooling.
pub const MAX_DEPTH: usize = 16;

/// Largest accepted query complexity: each field counts 1 and connection fields count their
/// selection once per requested row, so a full 1,000-row page of 20 fields fits.
pub const MAX_COMPLEXITY: usize = 25_000;

/// Most aliased or repeated root fields in one query.
pub const MAX_ROOT_FIELDS: usize = 64;

/// The query root.
#[derive(MergedObject, Default)]
pub struct Query(StatusQuery, BlocksQuery, ChainQuery, SubnetsQuery, AccountsQuery, AuditQuery);

/// The mutation root: recording audit runs is the API's only write.
#[derive(MergedObject, Default)]
pub struct Mutation(AuditMutation);

/// The executable schema.
pub type ApiSchema = Schema<Query, Mutation, Subscription>;

fn builder() -> SchemaBuilder<Query, Mutation, Subscription> {
    Schema::build(Query::default(), Mutation::default(), Subscription)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_directives(16)
        .limit_recursive_depth(64)
}

/// The schema, resolving against `state`.
pub fn schema(state: ApiState) -> ApiSchema {
    builder().data(state).finish()
}

/// The schema in SDL, as checked in at `api/schema.graphql`.
pub fn sdl() -> String {
    builder().finish().sdl()
}

/// The store behind a resolver.
pub fn store<'c>(ctx: &Context<'c>) -> &'c PgStore {
    ctx.data_unchecked::<ApiState>().store()
}

/// The state behind a resolver.
pub fn state<'c>(ctx: &Context<'c>) -> &'c ApiState {
    ctx.data_unchecked::<ApiState>()
}

/// Converts an [`ApiError`] into a GraphQL error with its code (and logs the cause).
pub fn gql(e: impl Into<ApiError>) -> async_graphql::Error {
    async_graphql::ErrorExtensions::extend(&e.into())
}

/// The request could not be parsed.
pub const PARSE_FAILED: &str = "GRAPHQL_PARSE_FAILED";
/// The request parsed but is not valid against the schema (unknown field, wrong argument type,
/// too deep, too complex).
pub const VALIDATION_FAILED: &str = "GRAPHQL_VALIDATION_FAILED";

/// Whether `code` means the request was refused before running.
pub fn is_request_error(code: &str) -> bool {
    code == PARSE_FAILED || code == VALIDATION_FAILED
}

/// Gives `error` its `extensions.code` when it has none and returns the code. Errors without
/// one come from async-graphql itself: request-level ones (no path) are parse or validation
/// failures; field-level ones are input coercion failures, or else unexpected, and then their
/// message is replaced so that nothing internal leaks.
pub fn classify_error(error: &mut ServerError, query: &str) -> &'static str {
    if let Some(async_graphql::Value::String(code)) = error.extensions.as_ref().and_then(|e| e.get("code")) {
        return known_code(code);
    }
    let code = if error.path.is_empty() {
        if async_graphql::parser::parse_query(query).is_err() { PARSE_FAILED } else { VALIDATION_FAILED }
    } else if ["Failed to parse", "Invalid value", "Variable "].iter().any(|p| error.message.starts_with(p)) {
        "BAD_USER_INPUT"
    } else {
        tracing::error!(message = %error.message, "unclassified GraphQL error");
        error.message = "internal server error".to_string();
        "INTERNAL"
    };
    error.extensions.get_or_insert_with(Default::default).set("code", code);
    code
}

/// The static form of a code set by [`ApiError`] (metrics labels must come from a closed set).
fn known_code(code: &str) -> &'static str {
    match code {
        "BAD_USER_INPUT" => "BAD_USER_INPUT",
        "UNAVAILABLE" => "UNAVAILABLE",
        "NOT_FOUND" => "NOT_FOUND",
        "INTERNAL" => "INTERNAL",
        PARSE_FAILED => PARSE_FAILED,
        VALIDATION_FAILED => VALIDATION_FAILED,
        _ => "OTHER",
    }
}
