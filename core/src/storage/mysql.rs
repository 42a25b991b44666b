//! The MySQL and MariaDB executor, on mysql_async and its connection pool.

use std::time::Duration;

use async_trait::async_trait;
use mysql_async::prelude::Queryable;
use mysql_async::{Opts, OptsBuilder, Params, Pool, PoolConstraints, PoolOpts, Value};

use super::{SqlDialect, SqlExecutor, SqlRow, SqlValue};
use crate::error::{Error, Result};

/// Settings of a [`MysqlExecutor`]'s pool.
#[derive(Debug, Clone)]
pub struct MysqlPoolOptions {
    /// Most connections open at once; default 8.
    pub max_connections: usize,
    /// How long opening a connection, waiting for a free one, or running one statement
    /// may take before the call fails; default 10 seconds.
    pub timeout: Duration,
}

impl Default for MysqlPoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Runs SQL on a MySQL or MariaDB server through a connection pool.
///
/// Connections report rows *matched* by an UPDATE (`CLIENT_FOUND_ROWS`), not only rows
/// whose values changed, as the conditional updates of [`super::SqlStorage`] expect.
///
/// NOTE: connections are unencrypted, so a server that requires TLS rejects them. Use it
/// on loopback or a trusted network.
pub struct MysqlExecutor {
    pool: Pool,
    /// `host:port` for error messages; never the password.
    server: String,
    timeout: Duration,
}

impl std::fmt::Debug for MysqlExecutor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("MysqlExecutor")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl MysqlExecutor {
    /// Creates a pool for a `mysql://user:password@host:port/database` URL. No
    /// connection is opened until the first query.
    pub fn connect(url: &str, options: MysqlPoolOptions) -> Result<Self> {
        let parsed = Opts::from_url(url).map_err(|_| {
            Error::invalid_argument("invalid MySQL URL: use mysql://USER:PASSWORD@HOST:PORT/DATABASE".to_owned())
        })?;
        let server = format!("{}:{}", parsed.ip_or_hostname(), parsed.tcp_port());

        let max = options.max_connections.max(1);
        let constraints = PoolConstraints::new(0, max)
            .ok_or_else(|| Error::invalid_argument(format!("invalid MySQL pool size {max}")))?;
        let builder = OptsBuilder::from_opts(parsed)
            .client_found_rows(true)
            .stmt_cache_size(64)
            .pool_opts(PoolOpts::default().with_constraints(constraints));
        Ok(Self {
            pool: Pool::new(builder),
            server,
            timeout: options.timeout,
        })
    }

    /// Returns the server as `host:port`, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Closes every connection of the pool, waiting for busy ones to be returned.
    pub async fn close(&self) -> Result<()> {
        self.pool
            .clone()
            .disconnect()
            .await
            .map_err(|error| self.failed("closing the connections", error))
    }

    fn failed(&self, action: &str, error: mysql_async::Error) -> Error {
        let server = &self.server;
        let message = match &error {
            mysql_async::Error::Io(io) => format!("{action} to MySQL at {server} failed: {io}"),
            mysql_async::Error::Server(server_error) => format!(
                "{action} on MySQL at {server} failed: {} (error {}, SQLSTATE {})",
                server_error.message, server_error.code, server_error.state
            ),
            mysql_async::Error::Driver(driver) => format!("{action} on MySQL at {server} failed: {driver}"),
            other => format!("{action} on MySQL at {server} failed: {other}"),
        };
        Error::storage(message).with_source(error)
    }

    async fn with_timeout<T>(&self, future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.timeout, future).await.unwrap_or_else(|_| {
            Err(Error::storage(format!(
                "MySQL query on {} timed out after {} ms: the server is slow or unreachable, or the pool is exhausted",
                self.server,
                self.timeout.as_millis()
            )))
        })
    }

    async fn connection(&self) -> Result<mysql_async::Conn> {
        self.pool
            .get_conn()
            .await
            .map_err(|error| self.failed("connecting", error))
    }
}

fn to_mysql(value: &SqlValue) -> Value {
    match value {
        SqlValue::Null => Value::NULL,
        SqlValue::Text(text) => Value::Bytes(text.as_bytes().to_vec()),
        SqlValue::Integer(number) => Value::Int(*number),
        SqlValue::Bool(flag) => Value::Int(i64::from(*flag)),
    }
}

fn from_mysql(value: Value) -> SqlValue {
    match value {
        Value::NULL => SqlValue::Null,
        Value::Bytes(bytes) => SqlValue::Text(String::from_utf8_lossy(&bytes).into_owned()),
        Value::Int(number) => SqlValue::Integer(number),
        Value::UInt(number) => SqlValue::Integer(i64::try_from(number).unwrap_or(i64::MAX)),
        // The trustline tables contain only text and small integers. Other values are
        // passed on as text, so the row reader names the column in its error.
        other => SqlValue::Text(other.as_sql(true)),
    }
}

fn params(values: &[SqlValue]) -> Params {
    if values.is_empty() {
        Params::Empty
    } else {
        Params::Positional(values.iter().map(to_mysql).collect())
    }
}

#[async_trait]
impl SqlExecutor for MysqlExecutor {
    fn dialect(&self) -> SqlDialect {
        SqlDialect::Mysql
    }

    async fn execute(&self, sql: &str, values: &[SqlValue]) -> Result<u64> {
        self.with_timeout(async {
            let mut connection = self.connection().await?;
            connection
                .exec_drop(sql, params(values))
                .await
                .map_err(|error| self.failed("a statement", error))?;
            Ok(connection.affected_rows())
        })
        .await
    }

    async fn query(&self, sql: &str, values: &[SqlValue]) -> Result<Vec<SqlRow>> {
        self.with_timeout(async {
            let mut connection = self.connection().await?;
            let rows: Vec<mysql_async::Row> = connection
                .exec(sql, params(values))
                .await
                .map_err(|error| self.failed("a query", error))?;
            Ok(rows
                .into_iter()
                .map(|row| row.unwrap().into_iter().map(from_mysql).collect())
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_description_omits_credentials() {
        let executor =
            MysqlExecutor::connect("mysql://admin:hunter2@db.internal:3307/trustline", MysqlPoolOptions::default())
                .expect("pool");
        assert_eq!(executor.server(), "db.internal:3307");
        assert!(!format!("{executor:?}").contains("hunter2"));
    }

    #[test]
    fn invalid_url_error_omits_the_url() {
        let error = MysqlExecutor::connect("mysql://admin:hunter2@db.internal:notaport/x", MysqlPoolOptions::default())
            .expect_err("invalid URL");
        assert!(!error.message().contains("hunter2"));
    }

    #[tokio::test]
    async fn refused_connection_is_storage_error() {
        // Port 1 on loopback has no listener, so the connection is refused at once.
        let options = MysqlPoolOptions {
            max_connections: 1,
            timeout: Duration::from_secs(5),
        };
        let executor = MysqlExecutor::connect("mysql://admin:hunter2@127.0.0.1:1/trustline", options).expect("pool");
        let error = executor.query("SELECT 1", &[]).await.expect_err("no server");
        assert_eq!(error.code(), "storage_unavailable");
        assert!(error.message().contains("127.0.0.1:1"), "{}", error.message());
        assert!(!error.message().contains("hunter2"));
        assert!(!format!("{error:?}").contains("hunter2"));
    }

    /// Runs the provider's admin calls, a token request and a revocation on a real
    /// server given by TRUSTLINE_TEST_MYSQL_URL, in tables with a fresh prefix that are dropped after.
    #[tokio::test]
    async fn provider_round_trip_on_real_server() {
        let Ok(url) = std::env::var("TRUSTLINE_TEST_MYSQL_URL") else {
            assert!(
                std::env::var_os("TRUSTLINE_TEST_REQUIRE_DATABASES").is_none(),
                "TRUSTLINE_TEST_MYSQL_URL is not set but TRUSTLINE_TEST_REQUIRE_DATABASES is"
            );
            eprintln!("skipped: set TRUSTLINE_TEST_MYSQL_URL to run this test on a real server");
            return;
        };
        let executor = std::sync::Arc::new(MysqlExecutor::connect(&url, MysqlPoolOptions::default()).expect("pool"));
        let prefix = format!("unit_{}_", uuid::Uuid::now_v7().simple());
        let tables = crate::storage::SqlTables::with_prefix(&prefix);
        let storage = crate::storage::SqlStorage::open(executor.clone(), tables.clone()).await.expect("tables");
        let provider = crate::provider::Provider::new(
            crate::provider::ProviderOptions::new("https://auth.internal"),
            std::sync::Arc::new(storage),
        )
        .expect("provider");

        let created = provider.create_client("orders", &["read:orders".to_owned()]).await.expect("create");
        provider.disable_client(&created.client_id).await.expect("disable");
        let disabled = provider.get_client(&created.client_id).await.expect("get").expect("found");
        assert!(!disabled.active);
        provider.enable_client(&created.client_id).await.expect("enable");

        let credentials = format!("{}:{}", created.client_id, created.client_secret.expose());
        let request = crate::http::HttpRequest {
            method: "POST".into(),
            url: "/token".into(),
            headers: vec![
                ("content-type".into(), "application/x-www-form-urlencoded".into()),
                (
                    "authorization".into(),
                    format!("Basic {}", base64::Engine::encode(&base64::engine::general_purpose::STANDARD, credentials)),
                ),
            ],
            body: b"grant_type=client_credentials".to_vec(),
        };
        let response = provider.handle(&request).await;
        assert_eq!(response.status, 200, "{}", response.body);

        let expires_at = crate::time::Timestamp::now().plus_seconds(300);
        provider.revoke_token("jti-1", expires_at).await.expect("revoke");
        provider.revoke_token("jti-1", expires_at).await.expect("revoke twice");
        let listed = provider.list_clients().await.expect("list");
        assert_eq!(listed.len(), 1);
        assert!(listed[0].last_seen_at.is_some());
        assert_eq!(listed[0].scopes, vec!["read:orders".to_owned()]);

        for table in [&tables.clients, &tables.signing_keys, &tables.revoked_tokens] {
            executor.execute(&format!("DROP TABLE {table}"), &[]).await.expect("drop");
        }
    }
}
