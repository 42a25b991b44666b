//! One set of SQL queries per dialect, run through a small executor that each host
//! provides (rusqlite here; the user's own pool in the bindings).
//!
//! The tables and text formats are those of the TypeScript `trustline` package:
//! ISO-8601 text timestamps, scopes as a JSON array string, booleans as the dialect's
//! boolean, so that databases written by it keep working unchanged.

use std::sync::Arc;

use async_trait::async_trait;

use super::{ClientUpdate, RevokedToken, SecretSlot, ServiceClient, SigningKeyRecord, Storage};
use crate::error::{Error, Result};
use crate::time::Timestamp;

/// The SQL dialect an executor speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SqlDialect {
    /// SQLite 3: `?` placeholders, `"` quotes.
    Sqlite,
    /// PostgreSQL: `$N` placeholders, `"` quotes.
    Postgres,
    /// MySQL and MariaDB: `?` placeholders, backquotes.
    Mysql,
}

impl SqlDialect {
    fn placeholder(self, index: usize) -> String {
        // Every query binds its parameters in textual order, so positional `?` works
        // for rusqlite, better-sqlite3 and bun:sqlite alike.
        match self {
            Self::Postgres => format!("${index}"),
            Self::Sqlite | Self::Mysql => "?".to_owned(),
        }
    }

    fn quote(self, identifier: &str) -> String {
        match self {
            Self::Mysql => format!("`{identifier}`"),
            Self::Sqlite | Self::Postgres => format!("\"{identifier}\""),
        }
    }
}

/// A parameter or column value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    /// SQL NULL.
    Null,
    /// Text.
    Text(String),
    /// An integer (SQLite and MySQL booleans arrive as 0/1).
    Integer(i64),
    /// A boolean.
    Bool(bool),
}

/// One result row, with columns in the order of the query's select list.
pub type SqlRow = Vec<SqlValue>;

/// Runs SQL against one database. Implementations map their driver's failures to
/// [`crate::ErrorKind::Storage`] errors.
#[async_trait]
pub trait SqlExecutor: Send + Sync {
    /// The dialect of the queries this executor accepts.
    fn dialect(&self) -> SqlDialect;
    /// Whether statements complete on the calling thread (an embedded database), so that
    /// their futures are ready when first polled. Default `false`.
    fn is_local(&self) -> bool {
        false
    }
    /// A number that changes whenever the database changes, from this process or any
    /// other, or `None` when the executor cannot tell. Default `None`.
    fn version(&self) -> Option<u64> {
        None
    }
    /// Runs a statement and returns the number of rows it changed.
    async fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<u64>;
    /// Runs a query and returns its rows.
    async fn query(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<SqlRow>>;
}

/// Table names, from `SqlStorageOptions` (`tablePrefix`, `tables`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SqlTables {
    /// The clients table, default `trustline_clients`.
    pub clients: String,
    /// The signing keys table, default `trustline_signing_keys`.
    pub signing_keys: String,
    /// The revoked tokens table, default `trustline_revoked_tokens`.
    pub revoked_tokens: String,
}

impl Default for SqlTables {
    fn default() -> Self {
        Self::with_prefix("trustline_")
    }
}

impl SqlTables {
    /// Names the three tables with a common prefix.
    pub fn with_prefix(prefix: &str) -> Self {
        Self {
            clients: format!("{prefix}clients"),
            signing_keys: format!("{prefix}signing_keys"),
            revoked_tokens: format!("{prefix}revoked_tokens"),
        }
    }

    fn validate(&self) -> Result<()> {
        for name in [&self.clients, &self.signing_keys, &self.revoked_tokens] {
            let valid = !name.is_empty()
                && name.len() <= 64
                && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
                && !name.starts_with(|c: char| c.is_ascii_digit());
            if !valid {
                return Err(Error::invalid_argument(format!(
                    "invalid table name {name:?}: use 1 to 64 letters, digits and underscores, not starting with a digit"
                )));
            }
        }
        Ok(())
    }
}

const CLIENT_COLUMNS: [&str; 17] = [
    "id",
    "client_id",
    "name",
    "scopes",
    "created_at",
    "updated_at",
    "last_seen_at",
    "current_secret_hash",
    "current_secret_created_at",
    "current_secret_last_used_at",
    "next_secret_hash",
    "next_secret_created_at",
    "next_secret_expires_at",
    "next_secret_last_used_at",
    "secret_last_rotated_at",
    "active",
    "tokens_invalid_before",
];

const KEY_COLUMNS: [&str; 7] = [
    "key_id",
    "algorithm",
    "private_key",
    "public_key",
    "created_at",
    "not_before",
    "not_after",
];

/// Storage over SQL tables through a [`SqlExecutor`].
pub struct SqlStorage {
    executor: Arc<dyn SqlExecutor>,
    schema: tokio::sync::OnceCell<()>,
    dialect: SqlDialect,
    clients: String,
    signing_keys: String,
    revoked_tokens: String,
}

impl SqlStorage {
    /// Wraps an executor. The tables are created, if missing, before the first query.
    pub fn new(executor: Arc<dyn SqlExecutor>, tables: SqlTables) -> Result<Self> {
        tables.validate()?;
        let dialect = executor.dialect();
        Ok(Self {
            dialect,
            clients: dialect.quote(&tables.clients),
            signing_keys: dialect.quote(&tables.signing_keys),
            revoked_tokens: dialect.quote(&tables.revoked_tokens),
            schema: tokio::sync::OnceCell::new(),
            executor,
        })
    }

    /// Wraps an executor and creates the tables now if they are missing.
    pub async fn open(executor: Arc<dyn SqlExecutor>, tables: SqlTables) -> Result<Self> {
        let storage = Self::new(executor, tables)?;
        storage.ready().await?;
        Ok(storage)
    }

    /// Creates the tables once per storage object; a failed attempt is retried by the
    /// next call.
    async fn ready(&self) -> Result<&Arc<dyn SqlExecutor>> {
        self.schema.get_or_try_init(|| self.create_tables_once()).await?;
        Ok(&self.executor)
    }

    /// Creates the tables. `CREATE TABLE IF NOT EXISTS` can still fail when another
    /// process creates the same table at that moment (PostgreSQL reports a duplicate
    /// type), so a failure counts as success when all three tables exist afterwards.
    async fn create_tables_once(&self) -> Result<()> {
        let Err(error) = self.create_tables().await else {
            return Ok(());
        };
        for table in [&self.clients, &self.signing_keys, &self.revoked_tokens] {
            let probe = format!("SELECT 1 FROM {table} WHERE 1 = 0");
            if self.executor.query(&probe, &[]).await.is_err() {
                return Err(error);
            }
        }
        Ok(())
    }

    async fn create_tables(&self) -> Result<()> {
        // Column types match the TypeScript package's tables, so both can share a database.
        let boolean = match self.dialect {
            SqlDialect::Mysql => "tinyint(1)",
            SqlDialect::Sqlite | SqlDialect::Postgres => "boolean",
        };
        let statements = [
            format!(
                "CREATE TABLE IF NOT EXISTS {} (
                  id varchar(255) not null,
                  client_id varchar(255) not null primary key,
                  name varchar(255) not null,
                  scopes text not null,
                  created_at varchar(64) not null,
                  updated_at varchar(64) not null,
                  last_seen_at varchar(64),
                  current_secret_hash text not null,
                  current_secret_created_at varchar(64) not null,
                  current_secret_last_used_at varchar(64),
                  next_secret_hash text,
                  next_secret_created_at varchar(64),
                  next_secret_expires_at varchar(64),
                  next_secret_last_used_at varchar(64),
                  secret_last_rotated_at varchar(64),
                  active {boolean} not null,
                  tokens_invalid_before varchar(64)
                )",
                self.clients
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (
                  key_id varchar(255) not null primary key,
                  algorithm varchar(32) not null,
                  private_key text not null,
                  public_key text not null,
                  created_at varchar(64) not null,
                  not_before varchar(64) not null,
                  not_after varchar(64)
                )",
                self.signing_keys
            ),
            format!(
                "CREATE TABLE IF NOT EXISTS {} (
                  jti varchar(255) not null primary key,
                  expires_at varchar(64) not null
                )",
                self.revoked_tokens
            ),
        ];
        for statement in statements {
            self.executor.execute(&statement, &[]).await?;
        }
        Ok(())
    }

    fn client_columns(&self, updates: &ClientUpdate) -> Vec<(&'static str, SqlValue)> {
        let mut columns: Vec<(&'static str, SqlValue)> = Vec::new();
        if let Some(name) = &updates.name {
            columns.push(("name", text(name)));
        }
        if let Some(scopes) = &updates.scopes {
            columns.push(("scopes", scopes_json(scopes)));
        }
        if let Some(at) = updates.updated_at {
            columns.push(("updated_at", timestamp(at)));
        }
        if let Some(at) = updates.last_seen_at {
            columns.push(("last_seen_at", optional_timestamp(at)));
        }
        if let Some(hash) = &updates.current_secret_hash {
            columns.push(("current_secret_hash", text(hash)));
        }
        if let Some(at) = updates.current_secret_created_at {
            columns.push(("current_secret_created_at", timestamp(at)));
        }
        if let Some(at) = updates.current_secret_last_used_at {
            columns.push(("current_secret_last_used_at", optional_timestamp(at)));
        }
        if let Some(hash) = &updates.next_secret_hash {
            columns.push(("next_secret_hash", optional_text(hash.as_deref())));
        }
        if let Some(at) = updates.next_secret_created_at {
            columns.push(("next_secret_created_at", optional_timestamp(at)));
        }
        if let Some(at) = updates.next_secret_expires_at {
            columns.push(("next_secret_expires_at", optional_timestamp(at)));
        }
        if let Some(at) = updates.next_secret_last_used_at {
            columns.push(("next_secret_last_used_at", optional_timestamp(at)));
        }
        if let Some(at) = updates.secret_last_rotated_at {
            columns.push(("secret_last_rotated_at", optional_timestamp(at)));
        }
        if let Some(active) = updates.active {
            columns.push(("active", self.bool_value(active)));
        }
        if let Some(at) = updates.tokens_invalid_before {
            columns.push(("tokens_invalid_before", optional_timestamp(at)));
        }
        columns
    }

    fn placeholders(&self, count: usize) -> String {
        (1..=count)
            .map(|index| self.dialect.placeholder(index))
            .collect::<Vec<_>>()
            .join(", ")
    }

    fn bool_value(&self, value: bool) -> SqlValue {
        match self.dialect {
            SqlDialect::Postgres => SqlValue::Bool(value),
            SqlDialect::Sqlite | SqlDialect::Mysql => SqlValue::Integer(i64::from(value)),
        }
    }

    async fn update_columns(&self, table: &str, key_column: &str, key: &str, columns: Vec<(&str, SqlValue)>) -> Result<()> {
        if columns.is_empty() {
            return Ok(());
        }
        let assignments = columns
            .iter()
            .enumerate()
            .map(|(index, (column, _))| format!("{column} = {}", self.dialect.placeholder(index + 1)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE {table} SET {assignments} WHERE {key_column} = {}",
            self.dialect.placeholder(columns.len() + 1)
        );
        let mut params: Vec<SqlValue> = columns.into_iter().map(|(_, value)| value).collect();
        params.push(SqlValue::Text(key.to_owned()));
        self.ready().await?.execute(&sql, &params).await?;
        Ok(())
    }
}

fn text(value: &str) -> SqlValue {
    SqlValue::Text(value.to_owned())
}

fn timestamp(value: Timestamp) -> SqlValue {
    SqlValue::Text(value.to_iso())
}

fn optional_timestamp(value: Option<Timestamp>) -> SqlValue {
    value.map_or(SqlValue::Null, timestamp)
}

fn optional_text(value: Option<&str>) -> SqlValue {
    value.map_or(SqlValue::Null, text)
}

fn scopes_json(scopes: &[String]) -> SqlValue {
    SqlValue::Text(serde_json::to_string(scopes).unwrap_or_else(|_| "[]".to_owned()))
}

/// Reads the columns of one row by position, naming the column in errors.
struct RowReader<'a> {
    row: &'a SqlRow,
    columns: &'a [&'a str],
    table: &'a str,
}

impl RowReader<'_> {
    fn value(&self, index: usize) -> &SqlValue {
        self.row.get(index).unwrap_or(&SqlValue::Null)
    }

    fn invalid(&self, index: usize, expected: &str) -> Error {
        Error::storage(format!(
            "column {} of table {} contains {:?}, expected {expected}",
            self.columns[index],
            self.table,
            self.value(index)
        ))
    }

    fn text(&self, index: usize) -> Result<String> {
        match self.value(index) {
            SqlValue::Text(text) => Ok(text.clone()),
            _ => Err(self.invalid(index, "text")),
        }
    }

    fn optional_text(&self, index: usize) -> Result<Option<String>> {
        match self.value(index) {
            SqlValue::Null => Ok(None),
            _ => self.text(index).map(Some),
        }
    }

    fn timestamp(&self, index: usize) -> Result<Timestamp> {
        let text = self.text(index)?;
        Timestamp::parse_iso(&text).map_err(|_| self.invalid(index, "an ISO-8601 timestamp"))
    }

    fn optional_timestamp(&self, index: usize) -> Result<Option<Timestamp>> {
        match self.value(index) {
            SqlValue::Null => Ok(None),
            _ => self.timestamp(index).map(Some),
        }
    }

    fn boolean(&self, index: usize) -> Result<bool> {
        match self.value(index) {
            SqlValue::Bool(value) => Ok(*value),
            SqlValue::Integer(value) => Ok(*value != 0),
            SqlValue::Text(text) if text == "1" || text == "true" || text == "t" => Ok(true),
            SqlValue::Text(text) if text == "0" || text == "false" || text == "f" => Ok(false),
            _ => Err(self.invalid(index, "a boolean")),
        }
    }

    fn scopes(&self, index: usize) -> Result<Vec<String>> {
        let text = self.text(index)?;
        serde_json::from_str(&text).map_err(|_| self.invalid(index, "a JSON array of strings"))
    }
}

fn read_client(row: &SqlRow, table: &str) -> Result<ServiceClient> {
    let reader = RowReader {
        row,
        columns: &CLIENT_COLUMNS,
        table,
    };
    Ok(ServiceClient {
        id: reader.text(0)?,
        client_id: reader.text(1)?,
        name: reader.text(2)?,
        scopes: reader.scopes(3)?,
        created_at: reader.timestamp(4)?,
        updated_at: reader.timestamp(5)?,
        last_seen_at: reader.optional_timestamp(6)?,
        current_secret_hash: reader.text(7)?,
        current_secret_created_at: reader.timestamp(8)?,
        current_secret_last_used_at: reader.optional_timestamp(9)?,
        next_secret_hash: reader.optional_text(10)?,
        next_secret_created_at: reader.optional_timestamp(11)?,
        next_secret_expires_at: reader.optional_timestamp(12)?,
        next_secret_last_used_at: reader.optional_timestamp(13)?,
        secret_last_rotated_at: reader.optional_timestamp(14)?,
        active: reader.boolean(15)?,
        tokens_invalid_before: reader.optional_timestamp(16)?,
    })
}

fn read_signing_key(row: &SqlRow, table: &str) -> Result<SigningKeyRecord> {
    let reader = RowReader {
        row,
        columns: &KEY_COLUMNS,
        table,
    };
    Ok(SigningKeyRecord {
        key_id: reader.text(0)?,
        algorithm: reader.text(1)?,
        private_key: reader.text(2)?,
        public_key: reader.text(3)?,
        created_at: reader.timestamp(4)?,
        not_before: reader.timestamp(5)?,
        not_after: reader.optional_timestamp(6)?,
    })
}

#[async_trait]
impl Storage for SqlStorage {
    fn is_local(&self) -> bool {
        self.executor.is_local()
    }

    fn version(&self) -> Option<u64> {
        self.executor.version()
    }

    async fn find_client(&self, client_id: &str) -> Result<Option<ServiceClient>> {
        let sql = format!(
            "SELECT {} FROM {} WHERE client_id = {}",
            CLIENT_COLUMNS.join(", "),
            self.clients,
            self.dialect.placeholder(1)
        );
        let rows = self.ready().await?.query(&sql, &[text(client_id)]).await?;
        rows.first().map(|row| read_client(row, &self.clients)).transpose()
    }

    async fn create_client(&self, client: &ServiceClient) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.clients,
            CLIENT_COLUMNS.join(", "),
            self.placeholders(CLIENT_COLUMNS.len())
        );
        let params = [
            text(&client.id),
            text(&client.client_id),
            text(&client.name),
            scopes_json(&client.scopes),
            timestamp(client.created_at),
            timestamp(client.updated_at),
            optional_timestamp(client.last_seen_at),
            text(&client.current_secret_hash),
            timestamp(client.current_secret_created_at),
            optional_timestamp(client.current_secret_last_used_at),
            optional_text(client.next_secret_hash.as_deref()),
            optional_timestamp(client.next_secret_created_at),
            optional_timestamp(client.next_secret_expires_at),
            optional_timestamp(client.next_secret_last_used_at),
            optional_timestamp(client.secret_last_rotated_at),
            self.bool_value(client.active),
            optional_timestamp(client.tokens_invalid_before),
        ];
        self.ready().await?.execute(&sql, &params).await?;
        Ok(())
    }

    async fn delete_client(&self, client_id: &str) -> Result<()> {
        let sql = format!("DELETE FROM {} WHERE client_id = {}", self.clients, self.dialect.placeholder(1));
        self.ready().await?.execute(&sql, &[text(client_id)]).await?;
        Ok(())
    }

    async fn list_clients(&self) -> Result<Vec<ServiceClient>> {
        let sql = format!(
            "SELECT {} FROM {} ORDER BY created_at, client_id",
            CLIENT_COLUMNS.join(", "),
            self.clients
        );
        let rows = self.ready().await?.query(&sql, &[]).await?;
        rows.iter().map(|row| read_client(row, &self.clients)).collect()
    }

    async fn update_client(&self, client_id: &str, updates: &ClientUpdate) -> Result<()> {
        let columns = self.client_columns(updates);
        self.update_columns(&self.clients, "client_id", client_id, columns).await
    }

    async fn update_client_if_secret(
        &self,
        client_id: &str,
        slot: SecretSlot,
        expected_hash: Option<&str>,
        updates: &ClientUpdate,
    ) -> Result<bool> {
        let columns = self.client_columns(updates);
        if columns.is_empty() {
            return Ok(false);
        }
        let condition = match expected_hash {
            Some(_) => format!("{} = {}", slot.column(), self.dialect.placeholder(columns.len() + 2)),
            None => format!("{} IS NULL", slot.column()),
        };
        let assignments = columns
            .iter()
            .enumerate()
            .map(|(index, (column, _))| format!("{column} = {}", self.dialect.placeholder(index + 1)))
            .collect::<Vec<_>>()
            .join(", ");
        let sql = format!(
            "UPDATE {} SET {assignments} WHERE client_id = {} AND {condition}",
            self.clients,
            self.dialect.placeholder(columns.len() + 1),
        );
        let mut params: Vec<SqlValue> = columns.into_iter().map(|(_, value)| value).collect();
        params.push(text(client_id));
        if let Some(expected_hash) = expected_hash {
            params.push(text(expected_hash));
        }
        let changed = self.ready().await?.execute(&sql, &params).await?;
        Ok(changed > 0)
    }


    async fn touch_client(&self, client_id: &str, last_seen_at: Timestamp) -> Result<()> {
        self.update_columns(&self.clients, "client_id", client_id, vec![("last_seen_at", timestamp(last_seen_at))])
            .await
    }

    async fn set_client_active(&self, client_id: &str, active: bool) -> Result<()> {
        let columns = vec![("active", self.bool_value(active)), ("updated_at", timestamp(Timestamp::now()))];
        self.update_columns(&self.clients, "client_id", client_id, columns).await
    }

    async fn set_tokens_invalid_before(&self, client_id: &str, at: Option<Timestamp>) -> Result<()> {
        let columns = vec![
            ("tokens_invalid_before", optional_timestamp(at)),
            ("updated_at", timestamp(Timestamp::now())),
        ];
        self.update_columns(&self.clients, "client_id", client_id, columns).await
    }

    async fn get_signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        let sql = format!(
            "SELECT {} FROM {} ORDER BY not_before, created_at",
            KEY_COLUMNS.join(", "),
            self.signing_keys
        );
        let rows = self.ready().await?.query(&sql, &[]).await?;
        rows.iter().map(|row| read_signing_key(row, &self.signing_keys)).collect()
    }

    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()> {
        let sql = format!(
            "INSERT INTO {} ({}) VALUES ({})",
            self.signing_keys,
            KEY_COLUMNS.join(", "),
            self.placeholders(KEY_COLUMNS.len())
        );
        let params = [
            text(&key.key_id),
            text(&key.algorithm),
            text(&key.private_key),
            text(&key.public_key),
            timestamp(key.created_at),
            timestamp(key.not_before),
            optional_timestamp(key.not_after),
        ];
        self.ready().await?.execute(&sql, &params).await?;
        Ok(())
    }

    async fn set_signing_key_not_after(&self, key_id: &str, not_after: Option<Timestamp>) -> Result<()> {
        self.update_columns(&self.signing_keys, "key_id", key_id, vec![("not_after", optional_timestamp(not_after))])
            .await
    }

    async fn find_revoked_token(&self, jti: &str) -> Result<Option<RevokedToken>> {
        let sql = format!(
            "SELECT jti, expires_at FROM {} WHERE jti = {}",
            self.revoked_tokens,
            self.dialect.placeholder(1)
        );
        let rows = self.ready().await?.query(&sql, &[text(jti)]).await?;
        let Some(row) = rows.first() else {
            return Ok(None);
        };
        let reader = RowReader {
            row,
            columns: &["jti", "expires_at"],
            table: &self.revoked_tokens,
        };
        Ok(Some(RevokedToken {
            jti: reader.text(0)?,
            expires_at: reader.timestamp(1)?,
        }))
    }

    async fn revoke_token(&self, token: &RevokedToken) -> Result<()> {
        // An upsert keeps revoking the same jti twice, even concurrently, a success
        // that leaves one row with the later expiry.
        let sql = match self.dialect {
            SqlDialect::Sqlite | SqlDialect::Postgres => format!(
                "INSERT INTO {table} (jti, expires_at) VALUES ({p1}, {p2})
                 ON CONFLICT (jti) DO UPDATE SET expires_at = CASE
                   WHEN excluded.expires_at > {table}.expires_at THEN excluded.expires_at
                   ELSE {table}.expires_at END",
                table = self.revoked_tokens,
                p1 = self.dialect.placeholder(1),
                p2 = self.dialect.placeholder(2),
            ),
            SqlDialect::Mysql => format!(
                "INSERT INTO {table} (jti, expires_at) VALUES (?, ?)
                 ON DUPLICATE KEY UPDATE expires_at = GREATEST(expires_at, VALUES(expires_at))",
                table = self.revoked_tokens,
            ),
        };
        self.ready()
            .await?
            .execute(&sql, &[text(&token.jti), timestamp(token.expires_at)])
            .await?;

        let purge = format!(
            "DELETE FROM {} WHERE expires_at < {}",
            self.revoked_tokens,
            self.dialect.placeholder(1)
        );
        self.ready().await?.execute(&purge, &[timestamp(Timestamp::now())]).await?;
        Ok(())
    }
}
