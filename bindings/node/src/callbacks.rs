//! Core traits implemented by JavaScript functions: a user's storage adapter, the
//! runtime's `fetch`, a user's token cache, and the event hook.
//!
//! Every callback is an async JavaScript function that takes and returns JSON strings,
//! so that type conversions (such as `Date`) stay in one place in TypeScript.

use async_trait::async_trait;
use napi::bindgen_prelude::{FnArgs, Promise};
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use napi::Status;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use trustline::client::{CachedToken, TokenCache};
use trustline::events::Event;
use trustline::http::{HttpRequest, HttpResponse, HttpTransport};
use trustline::storage::{
    ClientUpdate, RevokedToken, ServiceClient, SigningKeyRecord, SqlDialect, SqlExecutor, SqlRow, SqlValue, Storage,
};
use trustline::{Error, ErrorKind, Result, Timestamp};

/// `(method, argsJson) => Promise<resultJson>`; weak, so it never keeps the process alive.
/// `FnArgs` passes the tuple as separate arguments; a bare tuple would arrive as one array.
pub type StorageDispatch =
    ThreadsafeFunction<FnArgs<(String, String)>, Promise<String>, FnArgs<(String, String)>, Status, false, true>;
/// `(requestJson) => Promise<responseJson>`.
pub type FetchDispatch = ThreadsafeFunction<String, Promise<String>, String, Status, false, true>;
/// `(op, key, valueJson) => Promise<resultJson>`.
pub type CacheDispatch = ThreadsafeFunction<
    FnArgs<(String, String, String)>,
    Promise<String>,
    FnArgs<(String, String, String)>,
    Status,
    false,
    true,
>;
/// `(eventJson) => void`.
pub type EventDispatch = ThreadsafeFunction<String, (), String, Status, false, true>;

fn callback_failed(kind: ErrorKind, what: &str, error: &napi::Error) -> Error {
    Error::new(kind, format!("{what} failed: {}", error.reason))
}

/// A `StorageAdapter` object written in JavaScript.
pub struct JsStorage {
    dispatch: StorageDispatch,
}

impl JsStorage {
    pub fn new(dispatch: StorageDispatch) -> Self {
        Self { dispatch }
    }

    async fn call(&self, method: &str, args: Value) -> Result<Value> {
        let what = format!("the storage adapter's {method}()");
        let promise = self
            .dispatch
            .call_async_catch((method.to_owned(), args.to_string()).into())
            .await
            .map_err(|error| callback_failed(ErrorKind::Storage, &what, &error))?;
        let text = promise
            .await
            .map_err(|error| callback_failed(ErrorKind::Storage, &what, &error))?;
        serde_json::from_str(&text)
            .map_err(|_| Error::new(ErrorKind::Storage, format!("{what} returned a value that is not JSON")))
    }

    async fn call_for<T: DeserializeOwned>(&self, method: &str, args: Value) -> Result<T> {
        let value = self.call(method, args).await?;
        serde_json::from_value(value).map_err(|error| {
            Error::new(
                ErrorKind::Storage,
                format!("the storage adapter's {method}() returned an unexpected value: {error}"),
            )
        })
    }
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

#[async_trait]
impl Storage for JsStorage {
    async fn find_client(&self, client_id: &str) -> Result<Option<ServiceClient>> {
        self.call_for("findClient", json!([client_id])).await
    }

    async fn create_client(&self, client: &ServiceClient) -> Result<()> {
        self.call("createClient", json!([to_json(client)])).await.map(drop)
    }

    async fn delete_client(&self, client_id: &str) -> Result<()> {
        self.call("deleteClient", json!([client_id])).await.map(drop)
    }

    async fn list_clients(&self) -> Result<Vec<ServiceClient>> {
        self.call_for("listClients", json!([])).await
    }

    async fn update_client(&self, client_id: &str, updates: &ClientUpdate) -> Result<()> {
        self.call("updateClient", json!([client_id, to_json(updates)])).await.map(drop)
    }

    async fn touch_client(&self, client_id: &str, last_seen_at: Timestamp) -> Result<()> {
        self.call("touchClient", json!([client_id, last_seen_at.as_millis()])).await.map(drop)
    }

    async fn set_client_active(&self, client_id: &str, active: bool) -> Result<()> {
        self.call("setClientActive", json!([client_id, active])).await.map(drop)
    }

    async fn set_tokens_invalid_before(&self, client_id: &str, at: Option<Timestamp>) -> Result<()> {
        let at = at.map(Timestamp::as_millis);
        self.call("setTokensInvalidBefore", json!([client_id, at])).await.map(drop)
    }

    async fn get_signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        self.call_for("getSigningKeys", json!([])).await
    }

    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()> {
        self.call("addSigningKey", json!([to_json(key)])).await.map(drop)
    }

    async fn set_signing_key_not_after(&self, key_id: &str, not_after: Option<Timestamp>) -> Result<()> {
        let not_after = not_after.map(Timestamp::as_millis);
        self.call("setSigningKeyNotAfter", json!([key_id, not_after])).await.map(drop)
    }

    async fn find_revoked_token(&self, jti: &str) -> Result<Option<RevokedToken>> {
        self.call_for("findRevokedToken", json!([jti])).await
    }

    async fn revoke_token(&self, token: &RevokedToken) -> Result<()> {
        self.call("revokeToken", json!([to_json(token)])).await.map(drop)
    }
}

/// The runtime's `fetch`, or the user's override.
pub struct JsTransport {
    dispatch: FetchDispatch,
}

impl JsTransport {
    pub fn new(dispatch: FetchDispatch) -> Self {
        Self { dispatch }
    }
}

#[async_trait]
impl HttpTransport for JsTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let body = String::from_utf8_lossy(&request.body).into_owned();
        let request_json = json!({
            "method": request.method,
            "url": request.url,
            "headers": request.headers.iter().map(|(name, value)| [name, value]).collect::<Vec<_>>(),
            "body": body,
        });
        let failed = |error: napi::Error| Error::new(ErrorKind::TokenRequestFailed, error.reason);
        let promise = self
            .dispatch
            .call_async_catch(request_json.to_string())
            .await
            .map_err(failed)?;
        let text = promise.await.map_err(failed)?;

        let document: Value = serde_json::from_str(&text)
            .map_err(|_| Error::new(ErrorKind::TokenRequestFailed, "the fetch callback returned invalid JSON"))?;
        let status = document.get("status").and_then(Value::as_u64).unwrap_or(0) as u16;
        let headers = document
            .get("headers")
            .and_then(Value::as_array)
            .map(|pairs| {
                pairs
                    .iter()
                    .filter_map(|pair| {
                        let name = pair.get(0)?.as_str()?;
                        let value = pair.get(1)?.as_str()?;
                        Some((name.to_owned(), value.to_owned()))
                    })
                    .collect()
            })
            .unwrap_or_default();
        let body = document.get("body").and_then(Value::as_str).unwrap_or("").to_owned();
        Ok(HttpResponse { status, headers, body })
    }
}

/// A `ClientTokenCache` written in JavaScript.
pub struct JsTokenCache {
    dispatch: CacheDispatch,
}

impl JsTokenCache {
    pub fn new(dispatch: CacheDispatch) -> Self {
        Self { dispatch }
    }

    async fn call(&self, op: &str, key: &str, value: String) -> Result<Value> {
        let what = format!("the token cache's {op}()");
        let failed = |error: napi::Error| callback_failed(ErrorKind::TokenRequestFailed, &what, &error);
        let promise = self
            .dispatch
            .call_async_catch((op.to_owned(), key.to_owned(), value).into())
            .await
            .map_err(failed)?;
        let text = promise.await.map_err(failed)?;
        Ok(serde_json::from_str(&text).unwrap_or(Value::Null))
    }
}

#[async_trait]
impl TokenCache for JsTokenCache {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        let value = self.call("get", key, "null".into()).await?;
        Ok((!value.is_null()).then_some(value))
    }

    async fn set(&self, key: &str, entry: &CachedToken) -> Result<()> {
        self.call("set", key, to_json(entry).to_string()).await.map(drop)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.call("delete", key, "null".into()).await.map(drop)
    }
}

/// Wraps the event callback as a core hook. Events are queued to the JavaScript
/// thread and never wait for the hook.
pub fn event_hook(dispatch: EventDispatch) -> trustline::events::EventHook {
    std::sync::Arc::new(move |event: Event| {
        let json = serde_json::to_string(&event).unwrap_or_default();
        dispatch.call(json, ThreadsafeFunctionCallMode::NonBlocking);
    })
}

/// `(kind, sql, paramsJson) => Promise<resultJson>`, where `kind` is `"execute"` (the
/// result is the number of changed rows) or `"query"` (an array of rows, each an array
/// of column values in select order).
pub type SqlDispatch = ThreadsafeFunction<
    FnArgs<(String, String, String)>,
    Promise<String>,
    FnArgs<(String, String, String)>,
    Status,
    false,
    true,
>;

/// Runs the core's SQL through a database handle of the user's (a `pg` Pool, a `mysql2`
/// pool, a `better-sqlite3` or `bun:sqlite` Database), wrapped in TypeScript.
pub struct JsSqlExecutor {
    dialect: SqlDialect,
    dispatch: SqlDispatch,
}

impl JsSqlExecutor {
    pub fn new(dialect: SqlDialect, dispatch: SqlDispatch) -> Self {
        Self { dialect, dispatch }
    }

    async fn call(&self, kind: &str, sql: &str, params: &[SqlValue]) -> Result<Value> {
        let params: Vec<Value> = params
            .iter()
            .map(|param| match param {
                SqlValue::Null => Value::Null,
                SqlValue::Text(text) => Value::String(text.clone()),
                SqlValue::Integer(number) => Value::from(*number),
                SqlValue::Bool(flag) => Value::Bool(*flag),
            })
            .collect();
        let failed = |error: napi::Error| Error::new(ErrorKind::Storage, format!("the database query failed: {}", error.reason));
        let promise = self
            .dispatch
            .call_async_catch((kind.to_owned(), sql.to_owned(), Value::Array(params).to_string()).into())
            .await
            .map_err(failed)?;
        let text = promise.await.map_err(failed)?;
        serde_json::from_str(&text)
            .map_err(|_| Error::new(ErrorKind::Storage, "the database driver returned a result that is not JSON"))
    }
}

fn sql_value(value: &Value) -> SqlValue {
    match value {
        Value::Null => SqlValue::Null,
        Value::Bool(flag) => SqlValue::Bool(*flag),
        Value::Number(number) => SqlValue::Integer(number.as_i64().unwrap_or_else(|| number.as_f64().unwrap_or(0.0) as i64)),
        Value::String(text) => SqlValue::Text(text.clone()),
        other => SqlValue::Text(other.to_string()),
    }
}

#[async_trait]
impl SqlExecutor for JsSqlExecutor {
    fn dialect(&self) -> SqlDialect {
        self.dialect
    }

    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        let changed = self.call("execute", sql, params).await?;
        Ok(changed.as_u64().unwrap_or(0))
    }

    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>> {
        let rows = self.call("query", sql, params).await?;
        let Value::Array(rows) = rows else {
            return Err(Error::new(ErrorKind::Storage, "the database driver returned rows that are not an array"));
        };
        Ok(rows
            .iter()
            .map(|row| match row {
                Value::Array(columns) => columns.iter().map(sql_value).collect(),
                _ => Vec::new(),
            })
            .collect())
    }
}
