//! Core traits implemented by Python callables: a user's storage object, a DB-API
//! connection running the core's SQL, a user's token cache, and the event hook.
//!
//! The callables are plain (blocking) Python functions of the package (the dispatch
//! classes in `trustline/storage.py` and `trustline/client.py`), which convert wire
//! values to dataclasses and back. They
//! run on whichever thread polls the core future: the caller's thread for the blocking
//! API, a runtime blocking-pool thread for the asyncio API. Either way the interpreter
//! is attached for the call.

use async_trait::async_trait;
use pyo3::prelude::*;
use pyo3::types::{PyList, PyTuple};
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

use trustline::client::{CachedToken, TokenCache};
use trustline::events::{Event, EventHook};
use trustline::storage::{
    ClientUpdate, RevokedToken, ServiceClient, SigningKeyRecord, SqlDialect, SqlExecutor, SqlRow,
    SqlValue, Storage,
};
use trustline::{Error, ErrorKind, Result, Timestamp};

use crate::convert::{from_python, to_python};
use crate::runtime;

/// Describes a Python exception as `TypeName: message`, for core error messages.
fn describe(py: Python<'_>, error: &PyErr) -> String {
    let type_name = error
        .get_type(py)
        .name()
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "Exception".to_owned());
    format!("{type_name}: {}", error.value(py))
}

fn to_json<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// A user's storage object, reached through `dispatch(method, args) -> result` with
/// wire values (see `_UserStorageDispatch` in `trustline/storage.py`).
pub struct PyStorage {
    dispatch: Py<PyAny>,
}

impl PyStorage {
    pub fn new(dispatch: Py<PyAny>) -> Self {
        Self { dispatch }
    }

    fn call(&self, method: &str, args: Value) -> Result<Value> {
        runtime::attach(|py| {
            let outcome = to_python(py, &args)
                .and_then(|args| self.dispatch.call1(py, (method, args)))
                .and_then(|result| from_python(result.bind(py)));
            outcome.map_err(|error| {
                Error::new(
                    ErrorKind::Storage,
                    format!(
                        "the storage object's {method}() failed: {}",
                        describe(py, &error)
                    ),
                )
            })
        })
    }

    fn call_for<T: DeserializeOwned>(&self, method: &str, args: Value) -> Result<T> {
        let value = self.call(method, args)?;
        serde_json::from_value(value).map_err(|error| {
            Error::new(
                ErrorKind::Storage,
                format!("the storage object's {method}() returned an unexpected value: {error}"),
            )
        })
    }
}

#[async_trait]
impl Storage for PyStorage {
    async fn find_client(&self, client_id: &str) -> Result<Option<ServiceClient>> {
        self.call_for("find_client", json!([client_id]))
    }

    async fn create_client(&self, client: &ServiceClient) -> Result<()> {
        self.call("create_client", json!([to_json(client)]))
            .map(drop)
    }

    async fn delete_client(&self, client_id: &str) -> Result<()> {
        self.call("delete_client", json!([client_id])).map(drop)
    }

    async fn list_clients(&self) -> Result<Vec<ServiceClient>> {
        self.call_for("list_clients", json!([]))
    }

    async fn update_client(&self, client_id: &str, updates: &ClientUpdate) -> Result<()> {
        self.call("update_client", json!([client_id, to_json(updates)]))
            .map(drop)
    }

    async fn touch_client(&self, client_id: &str, last_seen_at: Timestamp) -> Result<()> {
        self.call("touch_client", json!([client_id, last_seen_at.as_millis()]))
            .map(drop)
    }

    async fn set_client_active(&self, client_id: &str, active: bool) -> Result<()> {
        self.call("set_client_active", json!([client_id, active]))
            .map(drop)
    }

    async fn set_tokens_invalid_before(
        &self,
        client_id: &str,
        at: Option<Timestamp>,
    ) -> Result<()> {
        let at = at.map(Timestamp::as_millis);
        self.call("set_tokens_invalid_before", json!([client_id, at]))
            .map(drop)
    }

    async fn get_signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        self.call_for("get_signing_keys", json!([]))
    }

    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()> {
        self.call("add_signing_key", json!([to_json(key)]))
            .map(drop)
    }

    async fn set_signing_key_not_after(
        &self,
        key_id: &str,
        not_after: Option<Timestamp>,
    ) -> Result<()> {
        let not_after = not_after.map(Timestamp::as_millis);
        self.call("set_signing_key_not_after", json!([key_id, not_after]))
            .map(drop)
    }

    async fn find_revoked_token(&self, jti: &str) -> Result<Option<RevokedToken>> {
        self.call_for("find_revoked_token", json!([jti]))
    }

    async fn revoke_token(&self, token: &RevokedToken) -> Result<()> {
        self.call("revoke_token", json!([to_json(token)])).map(drop)
    }
}

/// Runs the core's SQL through `dispatch(kind, sql, params)`, a Python function over a
/// DB-API connection or pool: `kind` is `"execute"` (returns the changed row count) or
/// `"query"` (returns a sequence of rows, each a sequence of column values).
pub struct PySqlExecutor {
    dialect: SqlDialect,
    dispatch: Py<PyAny>,
}

impl PySqlExecutor {
    pub fn new(dialect: SqlDialect, dispatch: Py<PyAny>) -> Self {
        Self { dialect, dispatch }
    }

    fn call<T>(
        &self,
        kind: &str,
        sql: &str,
        params: &[SqlValue],
        read: impl FnOnce(&Bound<'_, PyAny>) -> PyResult<T>,
    ) -> Result<T> {
        runtime::attach(|py| {
            let outcome = sql_params(py, params)
                .and_then(|params| self.dispatch.call1(py, (kind, sql, params)))
                .and_then(|result| read(result.bind(py)));
            outcome.map_err(|error| {
                Error::new(
                    ErrorKind::Storage,
                    format!("the database query failed: {}", describe(py, &error)),
                )
            })
        })
    }
}

fn sql_params<'py>(py: Python<'py>, params: &[SqlValue]) -> PyResult<Bound<'py, PyList>> {
    let list = PyList::empty(py);
    for param in params {
        match param {
            SqlValue::Null => list.append(py.None())?,
            SqlValue::Text(text) => list.append(text)?,
            SqlValue::Integer(number) => list.append(number)?,
            SqlValue::Bool(flag) => list.append(flag)?,
        }
    }
    Ok(list)
}

/// Reads one column value as the driver returned it. Text columns come back as `str`;
/// booleans as `bool` (psycopg) or `int` (sqlite3, PyMySQL).
fn sql_value(column: &Bound<'_, PyAny>) -> PyResult<SqlValue> {
    Ok(match from_python(column) {
        Ok(Value::Null) => SqlValue::Null,
        Ok(Value::Bool(flag)) => SqlValue::Bool(flag),
        Ok(Value::Number(number)) => SqlValue::Integer(
            number
                .as_i64()
                .unwrap_or_else(|| number.as_f64().unwrap_or(0.0) as i64),
        ),
        Ok(Value::String(text)) => SqlValue::Text(text),
        // bytes, Decimal, datetime and other driver types are read through str().
        _ => SqlValue::Text(column.str()?.extract::<String>()?),
    })
}

#[async_trait]
impl SqlExecutor for PySqlExecutor {
    fn dialect(&self) -> SqlDialect {
        self.dialect
    }

    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        self.call("execute", sql, params, |result| {
            let changed: i64 = if result.is_none() {
                0
            } else {
                result.extract()?
            };
            Ok(changed.max(0) as u64)
        })
    }

    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>> {
        self.call("query", sql, params, |result| {
            let mut rows = Vec::new();
            for row in result.try_iter()? {
                let row = row?;
                let mut columns = Vec::new();
                for column in row.try_iter()? {
                    columns.push(sql_value(&column?)?);
                }
                rows.push(columns);
            }
            Ok(rows)
        })
    }
}

/// A user's token cache, reached through `dispatch(op, key, entry)` where `op` is
/// `get`, `set` or `delete` and `entry` is `{"token", "refreshAt"}` or `None`.
pub struct PyTokenCache {
    dispatch: Py<PyAny>,
}

impl PyTokenCache {
    pub fn new(dispatch: Py<PyAny>) -> Self {
        Self { dispatch }
    }

    fn call(&self, op: &str, key: &str, entry: Value) -> Result<Value> {
        runtime::attach(|py| {
            let outcome = to_python(py, &entry)
                .and_then(|entry| self.dispatch.call1(py, (op, key, entry)))
                .and_then(|result| from_python(result.bind(py)));
            outcome.map_err(|error| {
                Error::new(
                    ErrorKind::TokenRequestFailed,
                    format!("the token cache's {op}() failed: {}", describe(py, &error)),
                )
            })
        })
    }
}

#[async_trait]
impl TokenCache for PyTokenCache {
    async fn get(&self, key: &str) -> Result<Option<Value>> {
        let value = self.call("get", key, Value::Null)?;
        Ok((!value.is_null()).then_some(value))
    }

    async fn set(&self, key: &str, entry: &CachedToken) -> Result<()> {
        self.call("set", key, to_json(entry)).map(drop)
    }

    async fn delete(&self, key: &str) -> Result<()> {
        self.call("delete", key, Value::Null).map(drop)
    }
}

/// Wraps an event callback as a core hook. The callback receives the event's wire dict
/// and must not raise: the package's wrapper logs what the user's hook raises. Should
/// it raise anyway, the exception is reported through `sys.unraisablehook`.
pub fn event_hook(dispatch: Py<PyAny>) -> EventHook {
    std::sync::Arc::new(move |event: Event| {
        runtime::attach(|py| {
            let outcome = to_python(py, &to_json(&event))
                .and_then(|event| dispatch.call1(py, PyTuple::new(py, [event])?));
            if let Err(error) = outcome {
                error.write_unraisable(py, None);
            }
        });
    })
}
