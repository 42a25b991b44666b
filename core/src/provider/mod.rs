//! The provider: the OAuth 2.0 token endpoint, the JWKS endpoint, and client and key
//! administration.
//!
//! - a token request is handled in [`token_endpoint`],
//! - a client secret is checked in [`crate::secret::check_secret`],
//! - clients are administered in [`clients`], keys in [`keys`].

mod clients;
mod keys;
mod token_endpoint;

use std::sync::Arc;

use futures_util::FutureExt;
use serde_json::json;

pub use clients::{CreatedClient, ProviderClient, RotateSecretInput, RotatedSecret};
pub use keys::{SigningOptions, KEY_CACHE_TTL};

use crate::crypto::{Algorithm, SigningKeyPair};
use crate::error::{Error, Result};
use crate::events::{emit, Event, EventHook, Outcome};
use crate::http::{url_path, HttpRequest, HttpResponse};
use crate::storage::{RevokedToken, Storage};
use crate::time::Timestamp;
use keys::KeyStore;

/// The signatures that [`Provider::handle_local`] may compute on the caller's thread.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LocalSigning {
    /// ES256 only, which costs about as much as the rest of the request.
    Es256Only,
    /// ES256 and RS256: for a caller with nothing else waiting on its thread.
    Any,
}

/// Default access token lifetime, in seconds.
pub const DEFAULT_TOKEN_TTL: u64 = 300;

/// Options of a provider.
#[derive(Clone)]
pub struct ProviderOptions {
    /// The issuer URL, copied into the `iss` claim; its path prefixes the endpoints.
    pub issuer: String,
    /// Keys created on first need.
    pub signing: SigningOptions,
    /// Access token lifetime in seconds; default 300.
    pub token_ttl: u64,
    /// Copied into the `env` claim when set.
    pub env: Option<String>,
    /// Receives provider events.
    pub on_event: Option<EventHook>,
}

impl ProviderOptions {
    /// Options with defaults for everything but the issuer.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            signing: SigningOptions::default(),
            token_ttl: DEFAULT_TOKEN_TTL,
            env: None,
            on_event: None,
        }
    }
}

/// Input of [`Provider::rotate_key`].
#[derive(Clone, Default)]
pub struct RotateKeyInput {
    /// When the new key starts signing; default now.
    pub activate_at: Option<Timestamp>,
    /// Algorithm of the new key; default the provider's signing algorithm.
    pub algorithm: Option<Algorithm>,
    /// Key id of the new key; default `key_` followed by a UUIDv7.
    pub key_id: Option<String>,
    /// How long older keys keep verifying after `activate_at`, in seconds;
    /// default the token TTL plus 60.
    pub overlap_seconds: Option<u64>,
    /// A PKCS#8 PEM private key to import instead of generating one.
    pub private_key: Option<String>,
}

struct Routes {
    token: String,
    jwks: String,
}

pub(crate) struct ProviderInner {
    options: ProviderOptions,
    storage: Arc<dyn Storage>,
    keys: KeyStore,
    routes: Routes,
}

/// An OAuth 2.0 client-credentials provider. Cheap to clone; clones share state.
#[derive(Clone)]
pub struct Provider {
    inner: Arc<ProviderInner>,
}

impl std::fmt::Debug for Provider {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Provider")
            .field("issuer", &self.inner.options.issuer)
            .finish_non_exhaustive()
    }
}

/// Checks that an issuer is an absolute http(s) URL and returns it without a trailing slash.
pub(crate) fn normalize_issuer(issuer: &str) -> Result<String> {
    let trimmed = issuer.trim();
    let valid = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && trimmed.len() > "https://".len()
        && !trimmed.contains(['?', '#', ' ']);
    if !valid {
        return Err(Error::invalid_argument(format!(
            "invalid issuer {issuer:?}: use an absolute http(s) URL without query, such as \"https://auth.internal\""
        )));
    }
    Ok(trimmed.trim_end_matches('/').to_owned())
}

impl Provider {
    /// Creates a provider over a storage backend.
    pub fn new(mut options: ProviderOptions, storage: Arc<dyn Storage>) -> Result<Self> {
        options.issuer = normalize_issuer(&options.issuer)?;
        if options.token_ttl == 0 || options.token_ttl > 10 * 365 * 24 * 3600 {
            return Err(Error::invalid_argument(format!(
                "invalid token ttl {}: use a number of seconds from 1 to 315360000",
                options.token_ttl
            )));
        }
        if let Some(pem) = &options.signing.private_key {
            let key_id = options.signing.key_id.clone().unwrap_or_else(|| "check".into());
            SigningKeyPair::from_pem(options.signing.algorithm, pem, key_id)?;
        }

        let base_path = url_path(&options.issuer).trim_end_matches('/').to_owned();
        let routes = Routes {
            token: format!("{base_path}/token"),
            jwks: format!("{base_path}/.well-known/jwks.json"),
        };
        let keys = KeyStore::new(storage.clone(), options.signing.clone(), options.token_ttl as i64 + 60);
        Ok(Self {
            inner: Arc::new(ProviderInner {
                options,
                storage,
                keys,
                routes,
            }),
        })
    }

    /// The normalized issuer.
    pub fn issuer(&self) -> &str {
        &self.inner.options.issuer
    }

    /// The storage this provider uses.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.inner.storage
    }

    /// Handles a request on the calling thread when that needs no I/O: storage in this
    /// process and a cached signing key. With [`LocalSigning::Es256Only`] an RS256 key
    /// also sends the request to [`Provider::handle`], because an RS256 signature takes
    /// about 0.25 ms, which a caller serving other requests may rather spend on a worker
    /// thread. Returns `None` when the request needs [`Provider::handle`].
    pub fn handle_local(&self, request: &HttpRequest, signing: LocalSigning) -> Option<HttpResponse> {
        if !self.inner.storage.is_local() || !self.inner.keys.cached_signing_allows(signing) {
            return None;
        }
        // Local storage completes its futures on the first poll.
        self.handle(request).now_or_never()
    }

    /// Routes an HTTP request to the token endpoint or the JWKS endpoint; any other path gets a 404.
    pub async fn handle(&self, request: &HttpRequest) -> HttpResponse {
        let path = request.path();
        if path == self.inner.routes.token {
            if request.method != "POST" {
                return method_not_allowed("POST");
            }
            return self.inner.token_endpoint(request).await;
        }
        if path == self.inner.routes.jwks {
            if request.method != "GET" && request.method != "HEAD" {
                return method_not_allowed("GET, HEAD");
            }
            return self.inner.jwks_endpoint().await;
        }
        HttpResponse::json(
            404,
            &json!({
                "error": "not_found",
                "message": format!("no endpoint at {path}: the provider serves POST {} and GET {}", self.inner.routes.token, self.inner.routes.jwks),
            }),
        )
    }

    /// Returns the JWKS document, creating the first key if there is none.
    pub async fn jwks(&self) -> Result<serde_json::Value> {
        self.inner.keys.jwks().await
    }

    /// Starts signing with a new key from `activate_at`; older keys keep verifying for
    /// the overlap after that, then leave the JWKS.
    pub async fn rotate_key(&self, input: RotateKeyInput) -> Result<String> {
        let inner = &self.inner;
        let now = Timestamp::now();
        let activate_at = input.activate_at.unwrap_or(now);
        let overlap = input.overlap_seconds.unwrap_or(inner.options.token_ttl + 60);
        let algorithm = input
            .algorithm
            .or(inner.options.signing.algorithm)
            .unwrap_or(Algorithm::Es256);
        let key_id = input.key_id.unwrap_or_else(keys::new_key_id);
        if key_id.trim().is_empty() {
            return Err(Error::invalid_argument("the key id is empty: pass a non-empty keyId or none"));
        }

        let existing = inner.keys.current_records().await?;
        if existing.iter().any(|record| record.key_id == key_id) {
            return Err(Error::invalid_argument(format!(
                "a signing key with id {key_id:?} already exists: choose another keyId"
            )));
        }
        let key_pair = match &input.private_key {
            Some(pem) => SigningKeyPair::from_pem(input.algorithm, pem, key_id)?,
            None => SigningKeyPair::generate(algorithm, key_id)?,
        };

        inner.storage.add_signing_key(&keys::record_for(&key_pair, activate_at, now)).await?;
        let retire_at = activate_at.plus_seconds(overlap as i64);
        for record in existing.iter().filter(|record| record.not_after.is_none_or(|at| at > retire_at)) {
            inner.storage.set_signing_key_not_after(&record.key_id, Some(retire_at)).await?;
        }
        inner.keys.invalidate();

        inner.emit(
            Event::new("key.rotated", &inner.options.issuer, Outcome::Success)
                .metadata("keyId", key_pair.key_id())
                .metadata("algorithm", key_pair.algorithm().as_str())
                .metadata("activateAt", activate_at.to_iso())
                .metadata("previousKeysNotAfter", retire_at.to_iso()),
        );
        Ok(key_pair.key_id().to_owned())
    }

    /// Revokes a token id until `expires_at`. Revoking twice is not an error.
    pub async fn revoke_token(&self, jti: &str, expires_at: Timestamp) -> Result<()> {
        if jti.trim().is_empty() {
            return Err(Error::invalid_argument("the jti is empty: pass the jti claim of the token to revoke"));
        }
        let inner = &self.inner;
        inner
            .storage
            .revoke_token(&RevokedToken {
                jti: jti.to_owned(),
                expires_at,
            })
            .await?;
        inner.emit(
            Event::new("token.revoked", &inner.options.issuer, Outcome::Success)
                .metadata("jti", jti)
                .metadata("expiresAt", expires_at.to_iso()),
        );
        Ok(())
    }
}

impl ProviderInner {
    fn emit(&self, event: Event) {
        emit(&self.options.on_event, event);
    }

    async fn jwks_endpoint(&self) -> HttpResponse {
        match self.keys.jwks().await {
            Ok(document) => HttpResponse::json(200, &document).with_header("cache-control", "public, max-age=600"),
            Err(error) => unavailable(&error),
        }
    }
}

fn method_not_allowed(allowed: &str) -> HttpResponse {
    HttpResponse::json(
        405,
        &json!({
            "error": "invalid_request",
            "error_description": format!("method not allowed: use {allowed}"),
        }),
    )
    .with_header("allow", allowed)
}

/// Builds the response for a storage or key failure: retryable, and never `invalid_client`.
fn unavailable(error: &Error) -> HttpResponse {
    tracing::error!(code = error.code(), error = %error, "provider request failed");
    let (status, code) = if error.status() == 503 {
        (503, "temporarily_unavailable")
    } else {
        (500, "server_error")
    };
    let response = HttpResponse::json(
        status,
        &json!({
            "error": code,
            "error_description": "the authorization server cannot answer right now: retry later",
        }),
    )
    .with_header("cache-control", "no-store");
    if status == 503 {
        response.with_header("retry-after", "5")
    } else {
        response
    }
}
