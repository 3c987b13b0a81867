//! API keys and export quotas: who is calling (from `x-api-key`), whether that is allowed, and
//! a per-key rate limit on exports (GCRA, via `governor`).

use std::sync::Arc;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use governor::clock::{Clock, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

use crate::ApiState;
use crate::config::{ApiConfig, ApiKey};

/// The request header carrying an API key.
pub const API_KEY_HEADER: &str = "x-api-key";

/// Who sent a request: a configured key's name, or nobody.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Caller {
    /// No key was sent.
    Anonymous,
    /// A valid key, by name.
    Key(Arc<str>),
}

impl Caller {
    /// The name used for quotas and metrics.
    pub fn name(&self) -> &str {
        match self {
            Caller::Anonymous => "anonymous",
            Caller::Key(name) => name,
        }
    }
}

/// The keys and the export quota.
pub struct Gate {
    keys: Vec<ApiKey>,
    require_key: bool,
    exports: DefaultKeyedRateLimiter<String>,
}

impl Gate {
    /// Builds the gate from the configuration.
    pub fn new(config: &ApiConfig) -> Self {
        let quota = Quota::per_minute(config.exports_per_minute).allow_burst(config.export_burst);
        Gate {
            keys: config.api_keys.clone(),
            require_key: config.require_key,
            exports: governor::RateLimiter::keyed(quota),
        }
    }

    /// Whether keys are configured at all.
    pub fn keys_configured(&self) -> bool {
        !self.keys.is_empty()
    }

    /// The caller a header value names, or `None` for a key that is not configured.
    fn identify(&self, sent: Option<&HeaderValue>) -> Option<Caller> {
        let Some(sent) = sent else { return Some(Caller::Anonymous) };
        let sent = sent.as_bytes();
        // Compare against every key without stopping early, so timing does not reveal prefixes.
        let mut found = None;
        for key in &self.keys {
            if constant_time_eq(key.secret.as_bytes(), sent) {
                found = Some(Caller::Key(Arc::from(key.name.as_str())));
            }
        }
        found
    }

    /// Takes one export from `caller`'s quota, or says how long to wait.
    fn take_export(&self, caller: &Caller) -> Result<(), std::time::Duration> {
        self.exports
            .check_key(&caller.name().to_string())
            .map_err(|not_until| not_until.wait_time_from(DefaultClock::default().now()))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn refuse(status: StatusCode, code: &str, reason: &str) -> Response {
    let body = serde_json::json!({ "status": code.to_lowercase(), "code": code, "reason": reason });
    (status, axum::Json(body)).into_response()
}

/// Identifies the caller from `x-api-key` and refuses wrong keys (and missing ones when keys are
/// required); the [`Caller`] goes into the request's extensions.
pub async fn identify(State(state): State<ApiState>, mut request: Request, next: Next) -> Response {
    let gate = state.gate();
    let Some(caller) = gate.identify(request.headers().get(API_KEY_HEADER)) else {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "unknown API key");
    };
    if caller == Caller::Anonymous && gate.require_key {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "this API requires an x-api-key header");
    }
    request.extensions_mut().insert(caller);
    next.run(request).await
}

/// Exports: a key is needed when keys are configured, and each caller has a quota.
pub async fn export_quota(State(state): State<ApiState>, request: Request, next: Next) -> Response {
    let gate = state.gate();
    let caller = request.extensions().get::<Caller>().cloned().unwrap_or(Caller::Anonymous);
    if caller == Caller::Anonymous && gate.keys_configured() {
        return refuse(StatusCode::UNAUTHORIZED, "UNAUTHENTICATED", "exports require an x-api-key header");
    }
    if let Err(wait) = gate.take_export(&caller) {
        metrics::counter!("taoscope_api_export_throttled_total", "caller" => caller.name().to_string())
            .increment(1);
        let secs = wait.as_secs() + 1;
        let mut response = refuse(
            StatusCode::TOO_MANY_REQUESTS,
            "RATE_LIMITED",
            &format!("export quota exhausted; retry in {secs} s"),
        );
        if let Ok(v) = HeaderValue::from_str(&secs.to_string()) {
            response.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return response;
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use std::num::NonZeroU32;

    use super::*;

    fn gate(keys: &[(&str, &str)]) -> Gate {
        let config = ApiConfig {
            api_keys: keys
                .iter()
                .map(|(n, s)| ApiKey { name: n.to_string(), secret: s.to_string() })
                .collect(),
            exports_per_minute: NonZeroU32::MIN,
            export_burst: NonZeroU32::new(2).unwrap(),
            ..ApiConfig::default()
        };
        Gate::new(&config)
    }

    #[test]
    fn keys_identify_callers() {
        let g = gate(&[("alice", "0123456789abcdef"), ("bob", "fedcba9876543210")]);
        assert_eq!(g.identify(None), Some(Caller::Anonymous));
        assert_eq!(
            g.identify(Some(&HeaderValue::from_static("fedcba9876543210"))),
            Some(Caller::Key(Arc::from("bob")))
        );
        assert_eq!(g.identify(Some(&HeaderValue::from_static("fedcba987654321"))), None);
        assert_eq!(g.identify(Some(&HeaderValue::from_static("' OR 1=1 --"))), None);
    }

    #[test]
    fn quotas_are_per_caller() {
        let g = gate(&[("alice", "0123456789abcdef"), ("bob", "fedcba9876543210")]);
        let alice = Caller::Key(Arc::from("alice"));
        let bob = Caller::Key(Arc::from("bob"));
        assert!(g.take_export(&alice).is_ok());
        assert!(g.take_export(&alice).is_ok());
        let wait = g.take_export(&alice).expect_err("burst of 2 used up");
        assert!(wait.as_secs() <= 60);
        assert!(g.take_export(&bob).is_ok());
    }
}
