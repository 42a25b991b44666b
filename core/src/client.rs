//! The token client: fetches access tokens with the client credentials grant, caches
//! them until shortly before they expire, and shares one request among concurrent callers.

use std::collections::HashMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use futures_util::future::{FutureExt, Shared};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, ErrorKind, OAuthErrorCode, Result};
use crate::http::{form_encode, HttpRequest, HttpTransport};
use crate::secret::ClientSecret;
use crate::time::Timestamp;

/// Default refresh skew: a cached token is replaced this many seconds before it expires.
pub const DEFAULT_REFRESH_SKEW_SECONDS: u64 = 30;

/// How long a token request may take before it fails with `token_request_failed`.
pub const TOKEN_REQUEST_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(10);

/// A cached access token and when to replace it.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CachedToken {
    /// The access token.
    pub token: String,
    /// When to fetch a new one, in milliseconds since the Unix epoch.
    pub refresh_at: i64,
}

impl std::fmt::Debug for CachedToken {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("CachedToken")
            .field("token", &"<redacted>")
            .field("refresh_at", &self.refresh_at)
            .finish()
    }
}

/// A token cache, possibly shared between processes. Entries come back as raw JSON so
/// that the client can detect and delete malformed ones.
#[async_trait]
pub trait TokenCache: Send + Sync {
    /// Reads an entry; `None` when absent.
    async fn get(&self, key: &str) -> Result<Option<Value>>;
    /// Stores an entry.
    async fn set(&self, key: &str, entry: &CachedToken) -> Result<()>;
    /// Deletes an entry.
    async fn delete(&self, key: &str) -> Result<()>;
}

/// The default cache: a map in this process.
#[derive(Default)]
pub struct MemoryTokenCache {
    entries: Mutex<HashMap<String, CachedToken>>,
}

#[async_trait]
impl TokenCache for MemoryTokenCache {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        let entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        Ok(entries
            .get(key)
            .map(|entry| serde_json::to_value(entry).unwrap_or(Value::Null)))
    }

    async fn set(&self, key: &str, entry: &CachedToken) -> Result<()> {
        let mut entries = self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        entries.insert(key.to_owned(), entry.clone());
        Ok(())
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner()).remove(key);
        Ok(())
    }
}

/// Options of a token client.
#[derive(Clone, Debug)]
pub struct ClientOptions {
    /// The provider's token endpoint.
    pub token_url: String,
    /// The client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: ClientSecret,
    /// Sent as the `audience` parameter when set.
    pub audience: Option<String>,
    /// Requested scopes; empty requests all of the client's scopes.
    pub scope: Vec<String>,
    /// Seconds before expiry at which a cached token is replaced; default 30.
    pub refresh_skew_seconds: u64,
}

type SharedFetch = Shared<Pin<Box<dyn Future<Output = Result<String, Arc<Error>>> + Send>>>;

/// Fetches and caches access tokens for one client. Cheap to clone.
#[derive(Clone)]
pub struct Client {
    inner: Arc<ClientInner>,
}

struct ClientInner {
    options: ClientOptions,
    cache_key: String,
    cache: Arc<dyn TokenCache>,
    transport: Arc<dyn HttpTransport>,
    in_flight: Mutex<Option<SharedFetch>>,
}

impl std::fmt::Debug for Client {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Client")
            .field("token_url", &self.inner.options.token_url)
            .field("client_id", &self.inner.options.client_id)
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Creates a client. Without `cache`, tokens are cached in this process.
    pub fn new(
        options: ClientOptions,
        transport: Arc<dyn HttpTransport>,
        cache: Option<Arc<dyn TokenCache>>,
    ) -> Result<Self> {
        if !(options.token_url.starts_with("https://") || options.token_url.starts_with("http://")) {
            return Err(Error::invalid_argument(format!(
                "invalid tokenUrl {:?}: use an absolute http(s) URL such as \"https://auth.internal/token\"",
                options.token_url
            )));
        }
        if options.client_id.is_empty() {
            return Err(Error::invalid_argument("the clientId is empty: pass the id from clients.create"));
        }
        if options.client_secret.expose().is_empty() {
            return Err(Error::invalid_argument("the clientSecret is empty: pass the secret from clients.create"));
        }

        let cache_key = cache_key(&options);
        Ok(Self {
            inner: Arc::new(ClientInner {
                options,
                cache_key,
                cache: cache.unwrap_or_else(|| Arc::new(MemoryTokenCache::default())),
                transport,
                in_flight: Mutex::new(None),
            }),
        })
    }

    /// The key under which this client's token is cached. It contains no secret.
    pub fn cache_key(&self) -> &str {
        &self.inner.cache_key
    }

    /// Returns a cached token until its refresh time, otherwise fetches a new one.
    /// Concurrent callers share one token request.
    pub async fn get_token(&self) -> Result<String> {
        if let Some(token) = self.inner.cached_token().await? {
            return Ok(token);
        }

        let fetch = {
            let mut in_flight = self.inner.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            match in_flight.as_ref() {
                Some(fetch) => fetch.clone(),
                None => {
                    let inner = self.inner.clone();
                    let future: Pin<Box<dyn Future<Output = Result<String, Arc<Error>>> + Send>> =
                        Box::pin(async move {
                            let result = inner.refresh().await.map_err(Arc::new);
                            *inner.in_flight.lock().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
                            result
                        });
                    let shared = future.shared();
                    *in_flight = Some(shared.clone());
                    shared
                }
            }
        };
        fetch.await.map_err(|error| {
            Error::new(error.kind().clone(), error.message().to_owned())
        })
    }
}

impl ClientInner {
    async fn cached_token(&self) -> Result<Option<String>> {
        let Some(entry) = self.cache.get(&self.cache_key).await? else {
            return Ok(None);
        };
        match serde_json::from_value::<CachedToken>(entry) {
            Ok(entry) if !entry.token.is_empty() => {
                Ok((entry.refresh_at > Timestamp::now().as_millis()).then_some(entry.token))
            }
            _ => {
                tracing::warn!(cache_key = %self.cache_key, "deleting a malformed token cache entry");
                self.cache.delete(&self.cache_key).await?;
                Ok(None)
            }
        }
    }

    async fn refresh(&self) -> Result<String> {
        if let Some(token) = self.cached_token().await? {
            return Ok(token);
        }
        let (token, expires_in) = self.request_token().await?;

        let entry = CachedToken {
            refresh_at: refresh_time(&token, expires_in, self.options.refresh_skew_seconds),
            token: token.clone(),
        };
        self.cache.set(&self.cache_key, &entry).await?;
        Ok(token)
    }

    async fn request_token(&self) -> Result<(String, Option<i64>)> {
        let options = &self.options;
        let credentials = format!(
            "{}:{}",
            form_encode(&options.client_id),
            form_encode(options.client_secret.expose())
        );
        let mut body = String::from("grant_type=client_credentials");
        if !options.scope.is_empty() {
            body.push_str("&scope=");
            body.push_str(&form_encode(&options.scope.join(" ")));
        }
        if let Some(audience) = &options.audience {
            body.push_str("&audience=");
            body.push_str(&form_encode(audience));
        }
        let request = HttpRequest {
            method: "POST".into(),
            url: options.token_url.clone(),
            headers: vec![
                ("authorization".into(), format!("Basic {}", STANDARD.encode(credentials))),
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
                ("accept".into(), "application/json".into()),
            ],
            body: body.into_bytes(),
        };

        let failed = |detail: &str| {
            Error::new(
                ErrorKind::TokenRequestFailed,
                format!("the token request to {} failed: {detail}", options.token_url),
            )
        };
        let response = match tokio::time::timeout(TOKEN_REQUEST_TIMEOUT, self.transport.send(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => return Err(failed(error.message())),
            Err(_) => {
                return Err(failed(&format!(
                    "no response within {} seconds",
                    TOKEN_REQUEST_TIMEOUT.as_secs()
                )))
            }
        };
        let document: Option<Value> = serde_json::from_str(&response.body).ok();

        if !(200..300).contains(&response.status) {
            let field = |name: &str| document.as_ref().and_then(|doc| doc.get(name)).and_then(Value::as_str);
            let code = field("error").map_or(OAuthErrorCode::Other("token_request_failed".into()), OAuthErrorCode::parse);
            let description = field("error_description").unwrap_or("no description");
            return Err(Error::new(
                ErrorKind::OAuth {
                    code: code.clone(),
                    status: response.status,
                },
                format!(
                    "the token endpoint {} answered HTTP {} {code}: {description}",
                    options.token_url, response.status
                ),
            ));
        }

        let token = document
            .as_ref()
            .and_then(|doc| doc.get("access_token"))
            .and_then(Value::as_str)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::TokenRequestFailed,
                    format!("the token endpoint {} answered without an access_token", options.token_url),
                )
            })?;
        let expires_in = document
            .as_ref()
            .and_then(|doc| doc.get("expires_in"))
            .and_then(Value::as_f64)
            .map(|seconds| seconds as i64);
        Ok((token.to_owned(), expires_in))
    }
}

/// When to replace a token: `refresh_skew_seconds` before it expires. The expiry is the
/// token's `exp` claim when it has one (read without verification, only to schedule),
/// else `expires_in` from the response, else 60 seconds. A token that lives shorter than
/// the skew is reused for half its remaining life.
fn refresh_time(token: &str, expires_in: Option<i64>, refresh_skew_seconds: u64) -> i64 {
    let now = Timestamp::now().as_millis();
    let expires_at = crate::jwt::decode_unverified(token)
        .ok()
        .and_then(|decoded| decoded.claims.get("exp").and_then(Value::as_f64))
        .map(|exp| (exp * 1000.0) as i64)
        .unwrap_or_else(|| now + expires_in.unwrap_or(60) * 1000);

    let skew = refresh_skew_seconds as i64 * 1000;
    let remaining = expires_at - now;
    if remaining > skew {
        expires_at - skew
    } else {
        now + remaining.max(0) / 2
    }
}

fn cache_key(options: &ClientOptions) -> String {
    let mut hasher = Sha256::new();
    for part in [
        options.token_url.as_str(),
        options.audience.as_deref().unwrap_or(""),
        &options.scope.join(" "),
    ] {
        hasher.update(part.as_bytes());
        hasher.update([0u8]);
    }
    let digest = hasher.finalize();
    let suffix: String = digest[..8].iter().map(|byte| format!("{byte:02x}")).collect();
    format!("trustline:{}:{suffix}", options.client_id)
}
