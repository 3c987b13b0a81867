//! [`ApiConfig`]: the API's operator settings — API keys, export rate limits, CORS origins and
//! query limits — with their defaults. The binary fills it from flags and environment.

use std::num::NonZeroU32;

/// One API key: a name for logs and metrics, and the secret clients send as `x-api-key`.
#[derive(Clone, PartialEq, Eq)]
pub struct ApiKey {
    /// Shown in logs and metrics instead of the secret.
    pub name: String,
    /// The value of the `x-api-key` header.
    pub secret: String,
}

impl std::fmt::Debug for ApiKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ApiKey").field("name", &self.name).field("secret", &"<redacted>").finish()
    }
}

/// An API key list that does not parse.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ConfigError {
    /// An entry is empty, or its secret is too short to be a secret.
    #[error("API key {entry} is invalid: {reason}")]
    BadKey {
        /// The entry's position (1-based) in the list.
        entry: usize,
        /// What is wrong.
        reason: &'static str,
    },
    /// Two entries share a name or a secret.
    #[error("API key {entry} repeats an earlier key's name or secret")]
    DuplicateKey {
        /// The entry's position (1-based).
        entry: usize,
    },
}

/// Shortest accepted secret.
pub const MIN_SECRET_LEN: usize = 16;

/// Parses `name:secret` entries separated by commas or newlines (a bare `secret` is named
/// `key<N>`), as given in `TAOSCOPE_API_KEYS` or a keys file. Blank lines and `#` comments are
/// skipped.
pub fn parse_api_keys(text: &str) -> Result<Vec<ApiKey>, ConfigError> {
    let mut keys: Vec<ApiKey> = Vec::new();
    let entries = text.split([',', '\n']).map(str::trim).filter(|e| !e.is_empty() && !e.starts_with('#'));
    for (i, entry) in entries.enumerate() {
        let n = i + 1;
        let (name, secret) = match entry.split_once(':') {
            Some((name, secret)) => (name.trim().to_string(), secret.trim().to_string()),
            None => (format!("key{n}"), entry.to_string()),
        };
        if name.is_empty() {
            return Err(ConfigError::BadKey { entry: n, reason: "empty name" });
        }
        if secret.len() < MIN_SECRET_LEN {
            return Err(ConfigError::BadKey { entry: n, reason: "secret shorter than 16 characters" });
        }
        if !secret.bytes().all(|b| b.is_ascii_graphic()) {
            return Err(ConfigError::BadKey { entry: n, reason: "secret must be printable ASCII" });
        }
        if keys.iter().any(|k| k.name == name || k.secret == secret) {
            return Err(ConfigError::DuplicateKey { entry: n });
        }
        keys.push(ApiKey { name, secret });
    }
    Ok(keys)
}

/// The API's settings.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    /// Accepted API keys. When empty, the API is open and exports share one anonymous quota;
    /// when set, exports require a key and each key has its own quota, while GraphQL accepts
    /// anonymous requests unless [`ApiConfig::require_key`] is set. A wrong key is always refused.
    pub api_keys: Vec<ApiKey>,
    /// Refuse every request (except the probes and `/metrics`) without a valid key.
    pub require_key: bool,
    /// Exports each key (or all anonymous clients together) may start per minute.
    pub exports_per_minute: NonZeroU32,
    /// Exports that may start at once before the per-minute rate applies.
    pub export_burst: NonZeroU32,
    /// Origins allowed by CORS; empty means any origin.
    pub cors_origins: Vec<String>,
}

impl Default for ApiConfig {
    fn default() -> Self {
        ApiConfig {
            api_keys: Vec::new(),
            require_key: false,
            exports_per_minute: NonZeroU32::new(30).expect("non-zero"),
            export_burst: NonZeroU32::new(5).expect("non-zero"),
            cors_origins: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse_with_names_comments_and_errors() {
        let keys = parse_api_keys("# ops\nalice:0123456789abcdef0123\n, fedcba9876543210fedc\n\n").unwrap();
        assert_eq!(keys.len(), 2);
        assert_eq!(keys[0].name, "alice");
        assert_eq!(keys[1].name, "key2");
        assert!(!format!("{:?}", keys[0]).contains("0123456789"));
        assert_eq!(
            parse_api_keys("a:short"),
            Err(ConfigError::BadKey { entry: 1, reason: "secret shorter than 16 characters" })
        );
        assert_eq!(
            parse_api_keys("a:0123456789abcdef,a:fedcba9876543210"),
            Err(ConfigError::DuplicateKey { entry: 2 })
        );
        assert!(parse_api_keys(":0123456789abcdef").is_err());
        assert!(parse_api_keys("").unwrap().is_empty());
    }
}
