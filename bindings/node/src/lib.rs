//! Node-API bindings of the trustline core. Thin by design: each class converts
//! options and values at the edge and delegates to the core. The hand-written
//! TypeScript in `ts/` is the only caller.

mod benchmark;
mod callbacks;
mod errors;

use std::sync::Arc;

use futures_util::FutureExt;
use napi::bindgen_prelude::Buffer;
use napi_derive::napi;
use serde_json::{json, Value};

use callbacks::{
    event_hook, CacheDispatch, EventDispatch, FetchDispatch, JsSqlExecutor, JsStorage, JsTokenCache, JsTransport, SqlDispatch,
    StorageDispatch,
};
use errors::{invalid_argument, to_napi, IntoNapi};
use trustline::client::{Client, ClientOptions, TokenCache};
use trustline::crypto::Algorithm;
use trustline::guard::{Guard, GuardOptions, ServiceIdentity, DEFAULT_CLOCK_TOLERANCE};
use trustline::http::{HttpRequest, HttpResponse};
use trustline::provider::{LocalSigning, Provider, ProviderOptions, RotateKeyInput, RotateSecretInput, SigningOptions};
use trustline::secret::ClientSecret;
use trustline::storage::{
    ClientUpdate, MemoryStorage, RevokedToken, ServiceClient, SigningKeyRecord, SqlStorage, SqlTables,
    SqlDialect, SqliteExecutor, Storage,
};
use trustline::Timestamp;

fn timestamp(millis: f64, name: &str) -> napi::Result<Timestamp> {
    if !millis.is_finite() {
        return Err(invalid_argument(format!("{name} is not a valid date")));
    }
    Ok(Timestamp::from_millis(millis as i64))
}

fn to_value<T: serde::Serialize>(value: &T) -> napi::Result<Value> {
    serde_json::to_value(value).map_err(|error| to_napi(trustline::Error::new(trustline::ErrorKind::Internal, error.to_string())))
}

fn from_value<T: serde::de::DeserializeOwned>(value: Value, name: &str) -> napi::Result<T> {
    serde_json::from_value(value).map_err(|error| invalid_argument(format!("invalid {name}: {error}")))
}

// ---------------------------------------------------------------------------
// Storage

/// Table names of SQL storage.
#[napi(object)]
pub struct SqlTableNames {
    pub clients: Option<String>,
    pub signing_keys: Option<String>,
    pub revoked_tokens: Option<String>,
}

/// `SqlStorageOptions`.
#[napi(object)]
pub struct SqlStorageConfig {
    pub table_prefix: Option<String>,
    pub tables: Option<SqlTableNames>,
}

/// Storage implemented in Rust (memory or SQLite), with the `StorageAdapter` methods.
#[napi]
pub struct NativeStorage {
    storage: Arc<dyn Storage>,
}

#[napi]
impl NativeStorage {
    /// Creates in-memory storage.
    #[napi(factory)]
    pub fn memory() -> Self {
        Self {
            storage: Arc::new(MemoryStorage::new()),
        }
    }

    /// Opens or creates a SQLite database file.
    #[napi(factory)]
    pub fn sqlite(path: String, options: Option<SqlStorageConfig>) -> napi::Result<Self> {
        if path.trim().is_empty() {
            return Err(invalid_argument("the SQLite path is empty: pass a file path such as \"./trustline.sqlite\""));
        }
        let tables = sql_tables(options);
        let executor = SqliteExecutor::open(&path).into_napi()?;
        // SQLite statements complete synchronously, so the future is ready at once.
        let storage = SqlStorage::open(Arc::new(executor), tables)
            .now_or_never()
            .unwrap_or_else(|| Err(trustline::Error::new(trustline::ErrorKind::Internal, "opening SQLite storage did not complete")))
            .into_napi()?;
        Ok(Self {
            storage: Arc::new(storage),
        })
    }

    /// Runs the core's SQL for `dialect` (`sqlite`, `postgres` or `mysql`) through a
    /// database handle of the user's. The tables are created, if missing, on first use.
    #[napi(factory)]
    pub fn sql(dialect: String, dispatch: SqlDispatch, options: Option<SqlStorageConfig>) -> napi::Result<Self> {
        let dialect = match dialect.as_str() {
            "sqlite" => SqlDialect::Sqlite,
            "postgres" => SqlDialect::Postgres,
            "mysql" => SqlDialect::Mysql,
            other => {
                return Err(invalid_argument(format!(
                    "unknown SQL dialect {other:?}: use \"sqlite\", \"postgres\" or \"mysql\""
                )))
            }
        };
        let executor = JsSqlExecutor::new(dialect, dispatch);
        let storage = SqlStorage::new(Arc::new(executor), sql_tables(options)).into_napi()?;
        Ok(Self {
            storage: Arc::new(storage),
        })
    }

    #[napi]
    pub async fn find_client(&self, client_id: String) -> napi::Result<Option<Value>> {
        let client = self.storage.find_client(&client_id).await.into_napi()?;
        client.map(|client| to_value(&client)).transpose()
    }

    #[napi]
    pub async fn create_client(&self, client: Value) -> napi::Result<()> {
        let client: ServiceClient = from_value(client, "client")?;
        self.storage.create_client(&client).await.into_napi()
    }

    #[napi]
    pub async fn delete_client(&self, client_id: String) -> napi::Result<()> {
        self.storage.delete_client(&client_id).await.into_napi()
    }

    #[napi]
    pub async fn list_clients(&self) -> napi::Result<Vec<Value>> {
        let clients = self.storage.list_clients().await.into_napi()?;
        clients.iter().map(to_value).collect()
    }

    #[napi]
    pub async fn update_client(&self, client_id: String, updates: Value) -> napi::Result<()> {
        let updates: ClientUpdate = from_value(updates, "client updates")?;
        self.storage.update_client(&client_id, &updates).await.into_napi()
    }

    #[napi]
    pub async fn touch_client(&self, client_id: String, last_seen_at: f64) -> napi::Result<()> {
        let at = timestamp(last_seen_at, "lastSeenAt")?;
        self.storage.touch_client(&client_id, at).await.into_napi()
    }

    #[napi]
    pub async fn set_client_active(&self, client_id: String, active: bool) -> napi::Result<()> {
        self.storage.set_client_active(&client_id, active).await.into_napi()
    }

    #[napi]
    pub async fn set_tokens_invalid_before(&self, client_id: String, at: Option<f64>) -> napi::Result<()> {
        let at = at.map(|at| timestamp(at, "at")).transpose()?;
        self.storage.set_tokens_invalid_before(&client_id, at).await.into_napi()
    }

    #[napi]
    pub async fn get_signing_keys(&self) -> napi::Result<Vec<Value>> {
        let keys = self.storage.get_signing_keys().await.into_napi()?;
        keys.iter().map(to_value).collect()
    }

    #[napi]
    pub async fn add_signing_key(&self, key: Value) -> napi::Result<()> {
        let key: SigningKeyRecord = from_value(key, "signing key")?;
        self.storage.add_signing_key(&key).await.into_napi()
    }

    #[napi]
    pub async fn set_signing_key_not_after(&self, key_id: String, not_after: Option<f64>) -> napi::Result<()> {
        let not_after = not_after.map(|at| timestamp(at, "notAfter")).transpose()?;
        self.storage.set_signing_key_not_after(&key_id, not_after).await.into_napi()
    }

    #[napi]
    pub async fn find_revoked_token(&self, jti: String) -> napi::Result<Option<Value>> {
        let token = self.storage.find_revoked_token(&jti).await.into_napi()?;
        token.map(|token| to_value(&token)).transpose()
    }

    #[napi]
    pub async fn revoke_token(&self, token: Value) -> napi::Result<()> {
        let token: RevokedToken = from_value(token, "revoked token")?;
        self.storage.revoke_token(&token).await.into_napi()
    }

    /// Kept for symmetry with SQL adapters; the connection closes when the object is
    /// garbage-collected.
    #[napi]
    pub fn close(&self) {}
}

fn sql_tables(options: Option<SqlStorageConfig>) -> SqlTables {
    let Some(options) = options else {
        return SqlTables::default();
    };
    let mut tables = SqlTables::with_prefix(options.table_prefix.as_deref().unwrap_or("trustline_"));
    if let Some(names) = options.tables {
        if let Some(name) = names.clients {
            tables.clients = name;
        }
        if let Some(name) = names.signing_keys {
            tables.signing_keys = name;
        }
        if let Some(name) = names.revoked_tokens {
            tables.revoked_tokens = name;
        }
    }
    tables
}

fn select_storage(
    native: Option<&NativeStorage>,
    dispatch: Option<StorageDispatch>,
    required: bool,
) -> napi::Result<Option<Arc<dyn Storage>>> {
    match (native, dispatch) {
        (Some(native), _) => Ok(Some(native.storage.clone())),
        (None, Some(dispatch)) => Ok(Some(Arc::new(JsStorage::new(dispatch)))),
        (None, None) if required => Err(invalid_argument(
            "storage is missing: pass memoryStorage(), sqliteStorage(path) or a StorageAdapter object",
        )),
        (None, None) => Ok(None),
    }
}

// ---------------------------------------------------------------------------
// Provider

#[napi(object)]
pub struct SigningConfig {
    pub algorithm: Option<String>,
    pub private_key: Option<String>,
    pub key_id: Option<String>,
}

#[napi(object, object_to_js = false)]
pub struct ProviderConfig {
    pub issuer: String,
    pub storage_dispatch: Option<StorageDispatch>,
    pub signing: Option<SigningConfig>,
    pub token_ttl: Option<f64>,
    pub env: Option<String>,
    pub on_event: Option<EventDispatch>,
}

#[napi(object)]
pub struct RotateSecretConfig {
    pub expires_at: Option<f64>,
    pub overlap_seconds: Option<f64>,
}

#[napi(object)]
pub struct RotateKeyConfig {
    pub activate_at: Option<f64>,
    pub algorithm: Option<String>,
    pub key_id: Option<String>,
    pub overlap_seconds: Option<f64>,
    pub private_key: Option<String>,
}

fn algorithm(name: Option<String>) -> napi::Result<Option<Algorithm>> {
    name.map(|name| Algorithm::parse(&name)).transpose().into_napi()
}

fn seconds(value: f64, name: &str) -> napi::Result<u64> {
    if !value.is_finite() || value < 0.0 || value.fract() != 0.0 {
        return Err(invalid_argument(format!(
            "invalid {name} {value}: use a whole number of seconds, 0 or more"
        )));
    }
    Ok(value as u64)
}

#[napi]
pub struct NativeProvider {
    provider: Provider,
}

#[napi]
impl NativeProvider {
    #[napi(constructor)]
    pub fn new(options: ProviderConfig, storage: Option<&NativeStorage>) -> napi::Result<Self> {
        let storage = select_storage(storage, options.storage_dispatch, true)?
            .ok_or_else(|| invalid_argument("storage is missing"))?;
        let signing = options.signing.map_or(Ok(SigningOptions::default()), |signing| {
            Ok::<_, napi::Error>(SigningOptions {
                algorithm: algorithm(signing.algorithm)?,
                private_key: signing.private_key,
                key_id: signing.key_id,
            })
        })?;

        let mut provider_options = ProviderOptions::new(options.issuer);
        provider_options.signing = signing;
        if let Some(ttl) = options.token_ttl {
            provider_options.token_ttl = seconds(ttl, "token ttl")?;
        }
        provider_options.env = options.env;
        provider_options.on_event = options.on_event.map(event_hook);

        let provider = Provider::new(provider_options, storage).into_napi()?;
        Ok(Self { provider })
    }

    /// Handles a request given as its method, URL, header block (see `http_request`)
    /// and body. Resolves to the response as text (see `wire_response`).
    #[napi]
    pub async fn handle(&self, method: String, url: String, headers: String, body: Buffer) -> String {
        let response = self.provider.handle(&http_request(method, url, &headers, &body)).await;
        wire_response(&response)
    }

    /// Handles the request on the JavaScript thread when the core can do so without I/O
    /// (see `Provider::handle_local`); returns `null` when `handle` must be used. An
    /// RS256 signature is computed here only when `idle` is true: no other request is
    /// waiting for this thread.
    #[napi]
    pub fn handle_local(&self, method: String, url: String, headers: String, body: Buffer, idle: bool) -> Option<String> {
        let signing = if idle { LocalSigning::Any } else { LocalSigning::Es256Only };
        let request = http_request(method, url, &headers, &body);
        self.provider.handle_local(&request, signing).map(|response| wire_response(&response))
    }

    #[napi]
    pub async fn create_client(&self, name: String, scopes: Option<Vec<String>>) -> napi::Result<Value> {
        let created = self
            .provider
            .create_client(&name, &scopes.unwrap_or_default())
            .await
            .into_napi()?;
        Ok(json!({ "clientId": created.client_id, "clientSecret": created.client_secret.expose() }))
    }

    #[napi]
    pub async fn list_clients(&self) -> napi::Result<Vec<Value>> {
        let clients = self.provider.list_clients().await.into_napi()?;
        clients.iter().map(to_value).collect()
    }

    #[napi]
    pub async fn get_client(&self, client_id: String) -> napi::Result<Option<Value>> {
        let client = self.provider.get_client(&client_id).await.into_napi()?;
        client.map(|client| to_value(&client)).transpose()
    }

    #[napi]
    pub async fn rename_client(&self, client_id: String, name: String) -> napi::Result<()> {
        self.provider.rename_client(&client_id, &name).await.into_napi()
    }

    #[napi]
    pub async fn update_scopes(&self, client_id: String, scopes: Vec<String>) -> napi::Result<()> {
        self.provider.update_scopes(&client_id, &scopes).await.into_napi()
    }

    #[napi]
    pub async fn rotate_secret(&self, client_id: String, input: Option<RotateSecretConfig>) -> napi::Result<Value> {
        let mut rotate = RotateSecretInput::default();
        if let Some(input) = input {
            rotate.expires_at = input.expires_at.map(|at| timestamp(at, "expiresAt")).transpose()?;
            rotate.overlap_seconds = input
                .overlap_seconds
                .map(|overlap| seconds(overlap, "overlapSeconds"))
                .transpose()?;
        }
        let rotated = self.provider.rotate_secret(&client_id, rotate).await.into_napi()?;
        Ok(json!({
            "clientId": rotated.client_id,
            "clientSecret": rotated.client_secret.expose(),
            "expiresAt": rotated.expires_at.map(Timestamp::as_millis),
        }))
    }

    #[napi]
    pub async fn revoke_client(&self, client_id: String) -> napi::Result<()> {
        self.provider.revoke_client(&client_id).await.into_napi()
    }

    #[napi]
    pub async fn disable_client(&self, client_id: String) -> napi::Result<()> {
        self.provider.disable_client(&client_id).await.into_napi()
    }

    #[napi]
    pub async fn enable_client(&self, client_id: String) -> napi::Result<()> {
        self.provider.enable_client(&client_id).await.into_napi()
    }

    #[napi]
    pub async fn invalidate_tokens_before(&self, client_id: String, at: Option<f64>) -> napi::Result<()> {
        let at = at.map(|at| timestamp(at, "at")).transpose()?;
        self.provider.invalidate_tokens_before(&client_id, at).await.into_napi()
    }

    #[napi]
    pub async fn clear_tokens_invalid_before(&self, client_id: String) -> napi::Result<()> {
        self.provider.clear_tokens_invalid_before(&client_id).await.into_napi()
    }

    #[napi]
    pub async fn rotate_key(&self, input: Option<RotateKeyConfig>) -> napi::Result<Value> {
        let mut rotate = RotateKeyInput::default();
        if let Some(input) = input {
            rotate.activate_at = input.activate_at.map(|at| timestamp(at, "activateAt")).transpose()?;
            rotate.algorithm = algorithm(input.algorithm)?;
            rotate.key_id = input.key_id;
            rotate.overlap_seconds = input
                .overlap_seconds
                .map(|overlap| seconds(overlap, "overlapSeconds"))
                .transpose()?;
            rotate.private_key = input.private_key;
        }
        let key_id = self.provider.rotate_key(rotate).await.into_napi()?;
        Ok(json!({ "keyId": key_id }))
    }

    #[napi]
    pub async fn revoke_token(&self, jti: String, expires_at: f64) -> napi::Result<()> {
        let expires_at = timestamp(expires_at, "expiresAt")?;
        self.provider.revoke_token(&jti, expires_at).await.into_napi()
    }
}

/// Builds the core's request. The headers come as one `name: value` line each, which
/// crosses Node-API as one string instead of one per name and value. Web `Headers` and
/// Node.js reject line breaks in names and values, so a line is always one header.
fn http_request(method: String, url: String, headers: &str, body: &[u8]) -> HttpRequest {
    HttpRequest {
        method: method.to_ascii_uppercase(),
        url,
        headers: headers
            .lines()
            .filter_map(|line| line.split_once(": "))
            .map(|(name, value)| (name.to_owned(), value.to_owned()))
            .collect(),
        body: body.to_vec(),
    }
}

/// Writes a response as text, laid out like an HTTP/1.1 response without the
/// version: the status, one `name: value` line per header, an empty line, the body.
fn wire_response(response: &HttpResponse) -> String {
    let mut text = String::with_capacity(response.body.len() + 160);
    text.push_str(&response.status.to_string());
    for (name, value) in &response.headers {
        text.push('\n');
        text.push_str(name);
        text.push_str(": ");
        text.push_str(value);
    }
    text.push_str("\n\n");
    text.push_str(&response.body);
    text
}

// ---------------------------------------------------------------------------
// Guard

#[napi(object, object_to_js = false)]
pub struct GuardConfig {
    pub issuer: String,
    pub jwks_url: Option<String>,
    pub audience: Option<Vec<String>>,
    pub scopes: Option<Vec<String>>,
    pub env: Option<String>,
    pub clock_tolerance: Option<f64>,
    pub storage_dispatch: Option<StorageDispatch>,
    pub on_event: Option<EventDispatch>,
    pub fetch_dispatch: FetchDispatch,
}

/// The identity as JSON text: `JSON.parse` in JavaScript builds the object several
/// times faster than setting its properties one by one through Node-API. The text of
/// a token the guard had verified before starts with a space, which `JSON.parse`
/// skips: the TypeScript guard keeps the identity objects of such tokens.
fn identity_json(identity: &ServiceIdentity, verified_before: bool) -> String {
    // Sized for a typical identity, which saves the buffer's regrowth.
    let mut json = Vec::with_capacity(512);
    if verified_before {
        json.push(b' ');
    }
    if serde_json::to_writer(&mut json, identity).is_err() {
        return String::new();
    }
    String::from_utf8(json).unwrap_or_default()
}

#[napi]
pub struct NativeGuard {
    guard: Guard,
}

#[napi]
impl NativeGuard {
    #[napi(constructor)]
    pub fn new(options: GuardConfig, storage: Option<&NativeStorage>) -> napi::Result<Self> {
        let storage = select_storage(storage, options.storage_dispatch, false)?;
        let mut guard_options = GuardOptions::new(options.issuer);
        guard_options.jwks_url = options.jwks_url;
        guard_options.audience = options.audience.unwrap_or_default();
        guard_options.scopes = options.scopes.unwrap_or_default();
        guard_options.env = options.env;
        guard_options.clock_tolerance = options
            .clock_tolerance
            .map(|tolerance| seconds(tolerance, "clockTolerance"))
            .transpose()?
            .unwrap_or(DEFAULT_CLOCK_TOLERANCE);
        guard_options.on_event = options.on_event.map(event_hook);
        guard_options.storage = storage;

        let transport = Arc::new(JsTransport::new(options.fetch_dispatch));
        let guard = Guard::new(guard_options, transport).into_napi()?;
        Ok(Self { guard })
    }

    /// Verifies a token; resolves to the identity as JSON text (see `identity_json`).
    #[napi]
    pub async fn verify(&self, token: String) -> napi::Result<String> {
        if let Some(result) = self.guard.verify_cached(&token) {
            return result.map(|identity| identity_json(&identity, true)).into_napi();
        }
        let identity = self.guard.verify_shared(&token).await.into_napi()?;
        Ok(identity_json(&identity, false))
    }

    /// Verifies on the JavaScript thread when no I/O is needed, which saves the thread
    /// hop of `verify`; returns the identity as JSON text (see `identity_json`), or
    /// `null` when `verify` must be used.
    #[napi]
    pub fn verify_local(&self, token: String) -> napi::Result<Option<String>> {
        if let Some(result) = self.guard.verify_cached(&token) {
            return result.map(|identity| Some(identity_json(&identity, true))).into_napi();
        }
        match self.guard.verify_local_shared(&token) {
            Some(result) => result.map(|identity| Some(identity_json(&identity, false))).into_napi(),
            None => Ok(None),
        }
    }

    /// Checks a token verified before (see `Guard::verify_cached`) without returning
    /// its identity, which the caller kept: `true` when it is still valid, `false` when
    /// it must be verified again; throws when it is cached but no longer valid.
    #[napi]
    pub fn revalidate(&self, token: String) -> napi::Result<bool> {
        match self.guard.verify_cached(&token) {
            Some(result) => result.map(|_| true).into_napi(),
            None => Ok(false),
        }
    }
}

// ---------------------------------------------------------------------------
// Client

#[napi(object, object_to_js = false)]
pub struct ClientConfig {
    pub token_url: String,
    pub client_id: String,
    pub client_secret: String,
    pub audience: Option<String>,
    pub scope: Option<Vec<String>>,
    pub refresh_skew_seconds: Option<f64>,
    pub fetch_dispatch: FetchDispatch,
    pub cache_dispatch: Option<CacheDispatch>,
}

#[napi]
pub struct NativeClient {
    client: Client,
}

#[napi]
impl NativeClient {
    #[napi(constructor)]
    pub fn new(options: ClientConfig) -> napi::Result<Self> {
        let refresh_skew_seconds = options
            .refresh_skew_seconds
            .map(|skew| seconds(skew, "refreshSkewSeconds"))
            .transpose()?
            .unwrap_or(trustline::client::DEFAULT_REFRESH_SKEW_SECONDS);
        let client_options = ClientOptions {
            token_url: options.token_url,
            client_id: options.client_id,
            client_secret: ClientSecret::new(options.client_secret),
            audience: options.audience.filter(|audience| !audience.is_empty()),
            scope: options.scope.unwrap_or_default(),
            refresh_skew_seconds,
        };
        let transport = Arc::new(JsTransport::new(options.fetch_dispatch));
        let cache = options
            .cache_dispatch
            .map(|dispatch| Arc::new(JsTokenCache::new(dispatch)) as Arc<dyn TokenCache>);
        let client = Client::new(client_options, transport, cache).into_napi()?;
        Ok(Self { client })
    }

    #[napi]
    pub async fn get_token(&self) -> napi::Result<String> {
        self.client.get_token().await.into_napi()
    }
}
