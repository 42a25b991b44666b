//! The embedded SQLite executor, on rusqlite with the bundled SQLite.

use std::path::Path;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};
use std::time::Duration;

use async_trait::async_trait;
use rusqlite::types::{Value, ValueRef};
use rusqlite::{params_from_iter, Connection};

use super::{SqlDialect, SqlExecutor, SqlRow, SqlValue};
use crate::error::{Error, Result};

/// How long a statement waits for another connection's write lock before failing.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Runs SQL on one SQLite connection in WAL mode.
///
/// NOTE: statements run on the calling thread while holding the connection lock; they
/// are short, but a write blocked by another process waits up to the busy timeout.
pub struct SqliteExecutor {
    connection: Mutex<Connection>,
    /// Statements run through this connection, for [`SqlExecutor::version`]; SQLite's
    /// `data_version` counts only other connections' commits.
    statements: AtomicU64,
}

impl SqliteExecutor {
    /// Opens or creates a database file and switches it to WAL journaling.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref();
        let connection = Connection::open(path).map_err(|error| {
            Error::storage(format!("opening the SQLite database {} failed: {error}", path.display()))
        })?;
        Self::configure(connection, &path.display().to_string())
    }

    /// Opens a private in-memory database.
    pub fn open_in_memory() -> Result<Self> {
        let connection = Connection::open_in_memory()
            .map_err(|error| Error::storage(format!("opening an in-memory SQLite database failed: {error}")))?;
        Self::configure(connection, ":memory:")
    }

    fn configure(connection: Connection, name: &str) -> Result<Self> {
        connection
            .busy_timeout(BUSY_TIMEOUT)
            .and_then(|()| connection.pragma_update(None, "journal_mode", "WAL"))
            .and_then(|()| connection.pragma_update(None, "synchronous", "NORMAL"))
            .map_err(|error| Error::storage(format!("configuring the SQLite database {name} failed: {error}")))?;
        Ok(Self {
            connection: Mutex::new(connection),
            statements: AtomicU64::new(0),
        })
    }

    fn connection(&self) -> MutexGuard<'_, Connection> {
        self.connection.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

fn to_sqlite(value: &SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::Null,
        SqlValue::Text(text) => Value::Text(text.clone()),
        SqlValue::Integer(number) => Value::Integer(*number),
        SqlValue::Bool(flag) => Value::Integer(i64::from(*flag)),
    }
}

fn from_sqlite(value: ValueRef<'_>) -> SqlValue {
    match value {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(number) => SqlValue::Integer(number),
        ValueRef::Real(number) => SqlValue::Integer(number as i64),
        ValueRef::Text(bytes) | ValueRef::Blob(bytes) => SqlValue::Text(String::from_utf8_lossy(bytes).into_owned()),
    }
}

fn query_failed(error: rusqlite::Error) -> Error {
    Error::storage(format!("SQLite query failed: {error}")).with_source(error)
}

#[async_trait]
impl SqlExecutor for SqliteExecutor {
    fn dialect(&self) -> SqlDialect {
        SqlDialect::Sqlite
    }

    fn is_local(&self) -> bool {
        true
    }

    fn version(&self) -> Option<u64> {
        let connection = self.connection();
        let others: i64 = connection.query_row("PRAGMA data_version", [], |row| row.get(0)).ok()?;
        Some(self.statements.load(Ordering::Acquire).wrapping_add(others as u64))
    }

    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        let connection = self.connection();
        self.statements.fetch_add(1, Ordering::Release);
        let mut statement = connection.prepare_cached(sql).map_err(query_failed)?;
        let changed = statement
            .execute(params_from_iter(params.iter().map(to_sqlite)))
            .map_err(query_failed)?;
        Ok(changed as u64)
    }

    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>> {
        let connection = self.connection();
        let mut statement = connection.prepare_cached(sql).map_err(query_failed)?;
        let column_count = statement.column_count();
        let mut rows = statement
            .query(params_from_iter(params.iter().map(to_sqlite)))
            .map_err(query_failed)?;
        let mut result = Vec::new();
        while let Some(row) = rows.next().map_err(query_failed)? {
            let mut values = Vec::with_capacity(column_count);
            for index in 0..column_count {
                values.push(from_sqlite(row.get_ref(index).map_err(query_failed)?));
            }
            result.push(values);
        }
        Ok(result)
    }
}
