//! `Storage`: a handle on a core storage backend (memory, SQLite, SQL over a DB-API
//! connection, or a user's storage object), with its methods reachable from Python.

use std::sync::Arc;

use futures_util::FutureExt;
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::Value;

use trustline::storage::{
    ClientUpdate, MemoryStorage, RevokedToken, ServiceClient, SigningKeyRecord, SqlDialect,
    SqlStorage, SqlTables, SqliteExecutor, Storage,
};
use trustline::{Error, ErrorKind, Result};

use crate::args::{wire, Args};
use crate::callbacks::{PySqlExecutor, PyStorage};
use crate::convert::{from_python, to_python};
use crate::errors::IntoPyResult;
use crate::runtime;

/// A storage backend. Shared by the provider and guards that are given it.
#[pyclass(frozen, module = "trustline._native", name = "Storage")]
pub struct NativeStorage {
    pub storage: Arc<dyn Storage>,
}

fn tables(names: (String, String, String)) -> SqlTables {
    SqlTables {
        clients: names.0,
        signing_keys: names.1,
        revoked_tokens: names.2,
    }
}

#[pymethods]
impl NativeStorage {
    /// Creates storage in this process's memory.
    #[staticmethod]
    fn memory() -> Self {
        Self {
            storage: Arc::new(MemoryStorage::new()),
        }
    }

    /// Opens or creates a SQLite file (WAL mode) with the bundled SQLite, creating the
    /// tables named `(clients, signing_keys, revoked_tokens)` when missing.
    #[staticmethod]
    fn sqlite(py: Python<'_>, path: String, tables: (String, String, String)) -> PyResult<Self> {
        let executor = SqliteExecutor::open(&path).into_py_result(py)?;
        // SQLite statements complete on this thread, so the future is ready at once.
        let storage = SqlStorage::open(Arc::new(executor), self::tables(tables))
            .now_or_never()
            .unwrap_or_else(|| {
                Err(Error::new(
                    ErrorKind::Internal,
                    "opening SQLite storage did not complete",
                ))
            })
            .into_py_result(py)?;
        Ok(Self {
            storage: Arc::new(storage),
        })
    }

    /// Runs the core's SQL for `dialect` (`sqlite`, `postgres` or `mysql`) through
    /// `dispatch(kind, sql, params)`. The tables are created, if missing, on first use.
    #[staticmethod]
    fn sql(
        py: Python<'_>,
        dialect: &str,
        dispatch: Py<PyAny>,
        tables: (String, String, String),
    ) -> PyResult<Self> {
        let dialect = match dialect {
            "sqlite" => SqlDialect::Sqlite,
            "postgres" => SqlDialect::Postgres,
            "mysql" => SqlDialect::Mysql,
            other => {
                return Err(PyValueError::new_err(format!(
                    "unknown SQL dialect {other:?}: use \"sqlite\", \"postgres\" or \"mysql\""
                )))
            }
        };
        let executor = PySqlExecutor::new(dialect, dispatch);
        let storage =
            SqlStorage::new(Arc::new(executor), self::tables(tables)).into_py_result(py)?;
        Ok(Self {
            storage: Arc::new(storage),
        })
    }

    /// Wraps a user's storage object, reached through `dispatch(method, args)`.
    #[staticmethod]
    fn adapter(dispatch: Py<PyAny>) -> Self {
        Self {
            storage: Arc::new(PyStorage::new(dispatch)),
        }
    }

    /// Calls a storage method by its snake_case name with wire arguments, blocking.
    fn call(&self, py: Python<'_>, method: String, args: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let args = match from_python(args)? {
            Value::Array(values) => values,
            _ => return Err(PyValueError::new_err("args must be a list")),
        };
        let storage = self.storage.clone();
        let result = runtime::block_on(py, async move {
            call_storage(storage.as_ref(), &method, &args).await
        })?;
        to_python(py, &result.into_py_result(py)?)
    }
}

/// Runs one `Storage` method with wire arguments and returns its wire result.
async fn call_storage(storage: &dyn Storage, method: &str, values: &[Value]) -> Result<Value> {
    let args = Args {
        operation: method,
        values,
    };
    let unit = |_: ()| Value::Null;
    let result = match method {
        "find_client" => wire(&storage.find_client(&args.string(0)?).await?),
        "create_client" => {
            let client: ServiceClient = args.record(0, "a service client")?;
            unit(storage.create_client(&client).await?)
        }
        "delete_client" => unit(storage.delete_client(&args.string(0)?).await?),
        "list_clients" => wire(&storage.list_clients().await?),
        "update_client" => {
            let updates: ClientUpdate = args.record(1, "client updates")?;
            unit(storage.update_client(&args.string(0)?, &updates).await?)
        }
        "touch_client" => unit(
            storage
                .touch_client(&args.string(0)?, args.timestamp(1)?)
                .await?,
        ),
        "set_client_active" => unit(
            storage
                .set_client_active(&args.string(0)?, args.boolean(1)?)
                .await?,
        ),
        "set_tokens_invalid_before" => unit(
            storage
                .set_tokens_invalid_before(&args.string(0)?, args.optional_timestamp(1)?)
                .await?,
        ),
        "get_signing_keys" => wire(&storage.get_signing_keys().await?),
        "add_signing_key" => {
            let key: SigningKeyRecord = args.record(0, "a signing key")?;
            unit(storage.add_signing_key(&key).await?)
        }
        "set_signing_key_not_after" => unit(
            storage
                .set_signing_key_not_after(&args.string(0)?, args.optional_timestamp(1)?)
                .await?,
        ),
        "find_revoked_token" => wire(&storage.find_revoked_token(&args.string(0)?).await?),
        "revoke_token" => {
            let token: RevokedToken = args.record(0, "a revoked token")?;
            unit(storage.revoke_token(&token).await?)
        }
        other => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("unknown storage method {other:?}"),
            ))
        }
    };
    Ok(result)
}
