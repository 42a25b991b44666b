//! The PostgreSQL executor, on tokio-postgres with a small deadpool pool.
//!
//! Parameters are bound by the types the server infers for them, so one [`SqlValue`]
//! fits the `varchar`, `text` and `boolean` columns of the trustline tables alike.

use std::error::Error as StdError;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod, Runtime};
use tokio_postgres::types::{to_sql_checked, FromSql, IsNull, ToSql, Type};
use tokio_postgres::{Config, NoTls, Row};

use super::{SqlDialect, SqlExecutor, SqlRow, SqlValue};
use crate::error::{Error, Result};

/// Settings of a [`PostgresExecutor`]'s pool.
#[derive(Debug, Clone)]
pub struct PostgresPoolOptions {
    /// Most connections open at once; default 8.
    pub max_connections: usize,
    /// How long opening a connection, waiting for a free one, or running one statement
    /// may take before the call fails; default 10 seconds.
    pub timeout: Duration,
}

impl Default for PostgresPoolOptions {
    fn default() -> Self {
        Self {
            max_connections: 8,
            timeout: Duration::from_secs(10),
        }
    }
}

/// Runs SQL on a PostgreSQL server through a connection pool.
///
/// NOTE: connections are unencrypted (`NoTls`), so a URL with `sslmode=require` fails
/// to connect. Use it on loopback or a trusted network.
pub struct PostgresExecutor {
    pool: Pool,
    /// `host:port` for error messages; never the password.
    server: String,
    timeout: Duration,
}

impl std::fmt::Debug for PostgresExecutor {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("PostgresExecutor")
            .field("server", &self.server)
            .finish_non_exhaustive()
    }
}

impl PostgresExecutor {
    /// Creates a pool for a `postgres://user:password@host:port/database` URL (or a
    /// `key=value` connection string). No connection is opened until the first query.
    pub fn connect(url: &str, options: PostgresPoolOptions) -> Result<Self> {
        let mut config = Config::from_str(url).map_err(|_| {
            Error::invalid_argument(
                "invalid PostgreSQL URL: use postgres://USER:PASSWORD@HOST:PORT/DATABASE".to_owned(),
            )
        })?;
        config.connect_timeout(options.timeout);
        let server = describe_server(&config);

        let manager = Manager::from_config(
            config,
            NoTls,
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(options.max_connections.max(1))
            .runtime(Runtime::Tokio1)
            .wait_timeout(Some(options.timeout))
            .create_timeout(Some(options.timeout))
            .recycle_timeout(Some(options.timeout))
            .build()
            .map_err(|error| Error::internal(format!("building the PostgreSQL pool for {server} failed: {error}")))?;
        Ok(Self {
            pool,
            server,
            timeout: options.timeout,
        })
    }

    /// Returns the server as `host:port`, for messages.
    pub fn server(&self) -> &str {
        &self.server
    }

    /// Closes the pool: idle connections close now, busy ones when they are returned.
    pub fn close(&self) {
        self.pool.close();
    }

    async fn client(&self) -> Result<deadpool_postgres::Object> {
        self.pool.get().await.map_err(|error| self.pool_failed(error))
    }

    fn pool_failed(&self, error: PoolError) -> Error {
        let server = &self.server;
        let message = match &error {
            PoolError::Timeout(_) => format!(
                "no PostgreSQL connection to {server} became available within {} ms: the server is slow or unreachable, or the pool is exhausted",
                self.timeout.as_millis()
            ),
            PoolError::Closed => format!("the PostgreSQL pool for {server} is closed"),
            PoolError::Backend(backend) => format!("connecting to PostgreSQL at {server} failed: {}", describe(backend)),
            other => format!("connecting to PostgreSQL at {server} failed: {other}"),
        };
        Error::storage(message).with_source(error)
    }

    fn query_failed(&self, error: tokio_postgres::Error) -> Error {
        Error::storage(format!("PostgreSQL query on {} failed: {}", self.server, describe(&error))).with_source(error)
    }

    fn timed_out(&self) -> Error {
        Error::storage(format!(
            "PostgreSQL query on {} timed out after {} ms",
            self.server,
            self.timeout.as_millis()
        ))
    }

    async fn with_timeout<T>(&self, future: impl std::future::Future<Output = Result<T>>) -> Result<T> {
        tokio::time::timeout(self.timeout, future)
            .await
            .unwrap_or_else(|_| Err(self.timed_out()))
    }
}

/// Names the first host and port of a configuration, never its user or password.
fn describe_server(config: &Config) -> String {
    let port = config.get_ports().first().copied().unwrap_or(5432);
    match config.get_hosts().first() {
        Some(tokio_postgres::config::Host::Tcp(host)) => format!("{host}:{port}"),
        Some(tokio_postgres::config::Host::Unix(path)) => format!("{}:{port}", path.display()),
        None => format!("localhost:{port}"),
    }
}

/// Formats the driver's error followed by its causes, such as the socket error.
fn describe(error: &tokio_postgres::Error) -> String {
    if let Some(database_error) = error.as_db_error() {
        return format!("{} (SQLSTATE {})", database_error.message(), database_error.code().code());
    }
    let mut message = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        message.push_str(": ");
        message.push_str(&cause.to_string());
        source = cause.source();
    }
    message
}

/// A parameter converted to the type the server inferred for its placeholder.
#[derive(Debug)]
struct Parameter<'a>(&'a SqlValue);

impl ToSql for Parameter<'_> {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut bytes::BytesMut,
    ) -> std::result::Result<IsNull, Box<dyn StdError + Sync + Send>> {
        match (self.0, ty) {
            (SqlValue::Null, _) => Ok(IsNull::Yes),
            (SqlValue::Bool(value), &Type::BOOL) => value.to_sql(ty, out),
            (SqlValue::Integer(value), &Type::BOOL) => (*value != 0).to_sql(ty, out),
            (SqlValue::Integer(value), &Type::INT2) => i16::try_from(*value)?.to_sql(ty, out),
            (SqlValue::Integer(value), &Type::INT4) => i32::try_from(*value)?.to_sql(ty, out),
            (SqlValue::Integer(value), &Type::INT8) => value.to_sql(ty, out),
            (SqlValue::Integer(value), _) => value.to_string().as_str().to_sql(ty, out),
            (SqlValue::Bool(value), _) => value.to_string().as_str().to_sql(ty, out),
            (SqlValue::Text(text), _) => text.as_str().to_sql(ty, out),
        }
    }

    fn accepts(_ty: &Type) -> bool {
        // `to_sql` converts by the inferred type; text into a type that takes no
        // text fails there, naming the type.
        true
    }

    to_sql_checked!();
}

/// Reads a column of any text-like type as its raw UTF-8 bytes.
struct AnyText(String);

impl<'a> FromSql<'a> for AnyText {
    fn from_sql(_ty: &Type, raw: &'a [u8]) -> std::result::Result<Self, Box<dyn StdError + Sync + Send>> {
        Ok(Self(std::str::from_utf8(raw)?.to_owned()))
    }

    fn accepts(ty: &Type) -> bool {
        matches!(*ty, Type::TEXT | Type::VARCHAR | Type::BPCHAR | Type::NAME | Type::UNKNOWN)
    }
}

fn read_row(row: &Row) -> std::result::Result<SqlRow, String> {
    let mut values = Vec::with_capacity(row.len());
    for (index, column) in row.columns().iter().enumerate() {
        let ty = column.type_();
        let value = match *ty {
            Type::BOOL => row.try_get::<_, Option<bool>>(index).map(|v| v.map(SqlValue::Bool)),
            Type::INT2 => row
                .try_get::<_, Option<i16>>(index)
                .map(|v| v.map(|n| SqlValue::Integer(n.into()))),
            Type::INT4 => row
                .try_get::<_, Option<i32>>(index)
                .map(|v| v.map(|n| SqlValue::Integer(n.into()))),
            Type::INT8 => row.try_get::<_, Option<i64>>(index).map(|v| v.map(SqlValue::Integer)),
            _ if <AnyText as FromSql>::accepts(ty) => row
                .try_get::<_, Option<AnyText>>(index)
                .map(|v| v.map(|text| SqlValue::Text(text.0))),
            _ => {
                return Err(format!(
                    "column {} has type {ty}, which the trustline tables do not use",
                    column.name()
                ))
            }
        };
        let value = value.map_err(|error| format!("reading column {} failed: {error}", column.name()))?;
        values.push(value.unwrap_or(SqlValue::Null));
    }
    Ok(values)
}

#[async_trait]
impl SqlExecutor for PostgresExecutor {
    fn dialect(&self) -> SqlDialect {
        SqlDialect::Postgres
    }

    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64> {
        self.with_timeout(async {
            let client = self.client().await?;
            let statement = client.prepare_cached(sql).await.map_err(|error| self.query_failed(error))?;
            let parameters: Vec<Parameter<'_>> = params.iter().map(Parameter).collect();
            let references: Vec<&(dyn ToSql + Sync)> = parameters.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            client
                .execute(&statement, &references)
                .await
                .map_err(|error| self.query_failed(error))
        })
        .await
    }

    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>> {
        self.with_timeout(async {
            let client = self.client().await?;
            let statement = client.prepare_cached(sql).await.map_err(|error| self.query_failed(error))?;
            let parameters: Vec<Parameter<'_>> = params.iter().map(Parameter).collect();
            let references: Vec<&(dyn ToSql + Sync)> = parameters.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
            let rows = client
                .query(&statement, &references)
                .await
                .map_err(|error| self.query_failed(error))?;
            rows.iter()
                .map(|row| {
                    read_row(row).map_err(|message| {
                        Error::storage(format!("PostgreSQL query on {} returned {message}", self.server))
                    })
                })
                .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_description_omits_credentials() {
        let config = Config::from_str("postgres://admin:hunter2@db.internal:6543/trustline").expect("valid URL");
        let server = describe_server(&config);
        assert_eq!(server, "db.internal:6543");
        assert!(!server.contains("hunter2"));
    }

    #[test]
    fn invalid_url_error_omits_the_url() {
        let error = PostgresExecutor::connect("postgres://admin:hunter2@[bad", PostgresPoolOptions::default())
            .expect_err("invalid URL");
        assert!(!error.message().contains("hunter2"));
    }

    #[tokio::test]
    async fn refused_connection_is_storage_error() {
        // Port 1 on loopback has no listener, so the connection is refused at once.
        let options = PostgresPoolOptions {
            max_connections: 1,
            timeout: Duration::from_secs(5),
        };
        let executor =
            PostgresExecutor::connect("postgres://admin:hunter2@127.0.0.1:1/trustline", options).expect("pool");
        let error = executor.query("SELECT 1", &[]).await.expect_err("no server");
        assert_eq!(error.code(), "storage_unavailable");
        assert!(error.message().contains("127.0.0.1:1"), "{}", error.message());
        assert!(!error.message().contains("hunter2"));
        assert!(!format!("{error:?}").contains("hunter2"));
    }

    /// Runs the provider's admin calls, a token request and a revocation on a real
    /// server given by TRUSTLINE_TEST_POSTGRES_URL, in tables with a fresh prefix that are dropped after.
    #[tokio::test]
    async fn provider_round_trip_on_real_server() {
        let Ok(url) = std::env::var("TRUSTLINE_TEST_POSTGRES_URL") else {
            assert!(
                std::env::var_os("TRUSTLINE_TEST_REQUIRE_DATABASES").is_none(),
                "TRUSTLINE_TEST_POSTGRES_URL is not set but TRUSTLINE_TEST_REQUIRE_DATABASES is"
            );
            eprintln!("skipped: set TRUSTLINE_TEST_POSTGRES_URL to run this test on a real server");
            return;
        };
        let executor = std::sync::Arc::new(PostgresExecutor::connect(&url, PostgresPoolOptions::default()).expect("pool"));
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
