//! [`ApiError`]: the one error type of the API, with a stable machine-readable code.
//!
//! Clients see a short message and the code (in GraphQL `extensions.code`, or a JSON body on the
//! plain HTTP routes); the underlying cause goes to the log only, so database details never
//! leak into responses.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};

use crate::store::StoreError;

/// Why a request failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The request is wrong (bad argument, malformed cursor or hash); the message says how.
    #[error("{0}")]
    BadInput(String),
    /// The service cannot answer now (database down or not migrated); retrying later may work.
    #[error("{reason}")]
    Unavailable {
        /// What the client is told.
        reason: String,
        /// The cause, logged and not shown.
        #[source]
        source: Option<StoreError>,
    },
    /// A bug or a database failure; the client gets a generic message.
    #[error("internal error: {0}")]
    Internal(#[source] StoreError),
}

impl ApiError {
    /// The stable code clients switch on: `BAD_USER_INPUT`, `UNAVAILABLE` or `INTERNAL`.
    pub fn code(&self) -> &'static str {
        match self {
            ApiError::BadInput(_) => "BAD_USER_INPUT",
            ApiError::Unavailable { .. } => "UNAVAILABLE",
            ApiError::Internal(_) => "INTERNAL",
        }
    }

    /// The HTTP status used outside GraphQL.
    pub fn status(&self) -> StatusCode {
        match self {
            ApiError::BadInput(_) => StatusCode::BAD_REQUEST,
            ApiError::Unavailable { .. } => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// What the client may see.
    pub fn public_message(&self) -> String {
        match self {
            ApiError::BadInput(message) => message.clone(),
            ApiError::Unavailable { reason, .. } => reason.clone(),
            ApiError::Internal(_) => "internal server error".to_string(),
        }
    }

    /// Logs the cause at the level it deserves; called once, where the error leaves the API.
    fn log(&self) {
        match self {
            ApiError::BadInput(_) => {}
            ApiError::Unavailable { reason, source: Some(source) } => {
                tracing::warn!(error = %error_chain(source), reason = %reason, "request unavailable");
            }
            ApiError::Unavailable { source: None, .. } => {}
            ApiError::Internal(source) => {
                tracing::error!(error = %error_chain(source), "request failed");
            }
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        if e.is_unavailable() {
            ApiError::Unavailable { reason: "database unavailable".to_string(), source: Some(e) }
        } else {
            ApiError::Internal(e)
        }
    }
}

impl async_graphql::ErrorExtensions for ApiError {
    fn extend(&self) -> async_graphql::Error {
        self.log();
        let code = self.code();
        async_graphql::Error::new(self.public_message()).extend_with(|_, ext| ext.set("code", code))
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        self.log();
        let code = self.code();
        let body = serde_json::json!({
            "status": code.to_lowercase(),
            "code": code,
            "reason": self.public_message(),
        });
        (self.status(), Json(body)).into_response()
    }
}

/// `error: cause: cause ...`, for one log field.
pub(crate) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        // thiserror messages often embed their source already; do not repeat it.
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = cause.source();
    }
    out
}

#[cfg(test)]
mod tests {
    use async_graphql::ErrorExtensions;

    use super::*;

    #[test]
    fn internal_errors_hide_their_cause() {
        let e = ApiError::Internal(StoreError::Corrupt { what: "blocks.hash", value: "3 bytes".into() });
        let gql = e.extend();
        assert_eq!(gql.message, "internal server error");
        let ext = gql.extensions.expect("extensions");
        assert_eq!(ext.get("code"), Some(&async_graphql::Value::from("INTERNAL")));
        assert_eq!(e.status(), StatusCode::INTERNAL_SERVER_ERROR);
    }

    #[test]
    fn bad_input_keeps_its_message() {
        let e = ApiError::BadInput("`first` must be at most 100".into());
        assert_eq!(e.extend().message, "`first` must be at most 100");
        assert_eq!(e.code(), "BAD_USER_INPUT");
        assert_eq!(e.status(), StatusCode::BAD_REQUEST);
    }
}
