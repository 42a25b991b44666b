//! Settings resolved from flags, then `TRUSTLINE_CLI_*` environment variables, then the
//! configuration file; and the storage they open.

use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;
use trustline::crypto::Algorithm;
use trustline::provider::{Provider, ProviderOptions, SigningOptions, DEFAULT_TOKEN_TTL};
use trustline::storage::{
    MysqlExecutor, MysqlPoolOptions, PostgresExecutor, PostgresPoolOptions, SqlStorage, SqlTables,
    SqliteExecutor,
};

use crate::args::{AlgorithmArg, GlobalArgs, ServeArgs};
use crate::error::{CliError, CliResult};

/// The file read when neither --config nor TRUSTLINE_CLI_CONFIG names one.
pub const DEFAULT_CONFIG_FILE: &str = "trustline.config.json";

const DEFAULT_TABLE_PREFIX: &str = "trustline_";
const DEFAULT_POOL_SIZE: usize = 8;
const DEFAULT_DATABASE_TIMEOUT_SECONDS: u64 = 10;

/// The contents of `trustline.config.json`. Keys are camelCase; unknown keys are
/// rejected so that a misspelt key cannot silently select another database.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct FileConfig {
    #[serde(rename = "$schema")]
    _schema: Option<String>,
    issuer: Option<String>,
    sqlite_path: Option<PathBuf>,
    postgres_url: Option<String>,
    mysql_url: Option<String>,
    table_prefix: Option<String>,
    tables: Option<FileTables>,
    database_pool_size: Option<usize>,
    database_timeout: Option<u64>,
    token_ttl: Option<u64>,
    env: Option<String>,
    signing: Option<FileSigning>,
    serve: Option<FileServe>,
}

/// Table names that replace the prefixed defaults one by one.
#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileTables {
    clients: Option<String>,
    signing_keys: Option<String>,
    revoked_tokens: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileSigning {
    algorithm: Option<String>,
    private_key_file: Option<PathBuf>,
    key_id: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct FileServe {
    host: Option<String>,
    port: Option<u16>,
    max_body_bytes: Option<usize>,
    max_header_bytes: Option<usize>,
    max_connections: Option<usize>,
    request_timeout: Option<u64>,
    shutdown_timeout: Option<u64>,
}

/// The database the commands work on.
#[derive(Clone)]
pub enum Database {
    /// A SQLite file.
    Sqlite(PathBuf),
    /// A PostgreSQL URL, which may contain a password.
    Postgres(String),
    /// A MySQL or MariaDB URL, which may contain a password.
    Mysql(String),
}

impl fmt::Debug for Database {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        // URLs may carry a password, so only the kind is shown.
        match self {
            Self::Sqlite(path) => write!(formatter, "Sqlite({})", path.display()),
            Self::Postgres(_) => formatter.write_str("Postgres(<redacted URL>)"),
            Self::Mysql(_) => formatter.write_str("Mysql(<redacted URL>)"),
        }
    }
}

/// Settings shared by every command.
#[derive(Debug, Clone)]
pub struct Settings {
    pub issuer: String,
    pub database: Database,
    pub tables: SqlTables,
    pub pool_size: usize,
    pub database_timeout: Duration,
    pub token_ttl: u64,
    pub env: Option<String>,
    pub signing_algorithm: Option<Algorithm>,
    pub signing_key_file: Option<PathBuf>,
    pub signing_key_id: Option<String>,
}

/// Settings of `serve`.
#[derive(Debug, Clone)]
pub struct ServeSettings {
    pub host: String,
    pub port: u16,
    pub max_body_bytes: usize,
    pub max_header_bytes: usize,
    pub max_connections: usize,
    pub request_timeout: Duration,
    pub shutdown_timeout: Duration,
}

/// Reads a `TRUSTLINE_CLI_*` variable; an empty value counts as unset.
fn env_var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|value| !value.is_empty())
}

/// Loads the configuration file named by --config or TRUSTLINE_CLI_CONFIG (which must
/// exist), else `trustline.config.json` in the current directory when it exists.
/// Returns the file's directory too, which relative paths in it are resolved against.
pub fn load_file(explicit: Option<&Path>) -> CliResult<(FileConfig, PathBuf)> {
    let (path, required) = match explicit {
        Some(path) => (path.to_path_buf(), true),
        None => (PathBuf::from(DEFAULT_CONFIG_FILE), false),
    };
    let text = match std::fs::read_to_string(&path) {
        Ok(text) => text,
        Err(error) if !required && error.kind() == std::io::ErrorKind::NotFound => {
            return Ok((FileConfig::default(), PathBuf::from(".")));
        }
        Err(error) => {
            return Err(CliError::usage(format!(
                "reading the configuration file {} failed: {error}",
                path.display()
            )))
        }
    };
    let config: FileConfig = serde_json::from_str(&text).map_err(|error| {
        CliError::usage(format!(
            "invalid configuration file {}: {error}",
            path.display()
        ))
    })?;
    let directory = path
        .parent()
        .filter(|parent| !parent.as_os_str().is_empty())
        .map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    Ok((config, directory))
}

fn parse_algorithm(name: &str, source: &str) -> CliResult<Algorithm> {
    match name {
        "ES256" => Ok(Algorithm::Es256),
        "RS256" => Ok(Algorithm::Rs256),
        other => Err(CliError::usage(format!(
            "invalid signing algorithm {other:?} in {source}: use ES256 or RS256"
        ))),
    }
}

/// Converts the command-line algorithm to the core's.
pub fn algorithm(arg: AlgorithmArg) -> Algorithm {
    match arg {
        AlgorithmArg::Es256 => Algorithm::Es256,
        AlgorithmArg::Rs256 => Algorithm::Rs256,
    }
}

/// Picks the database: the first layer (flags, environment, file) that names one wins,
/// and a layer that names more than one is rejected.
fn resolve_database(args: &GlobalArgs, file: &FileConfig, directory: &Path) -> CliResult<Database> {
    let flags = [
        args.sqlite_path.clone().map(Database::Sqlite),
        args.postgres_url.clone().map(Database::Postgres),
        args.mysql_url.clone().map(Database::Mysql),
    ];
    let environment = [
        env_var("TRUSTLINE_CLI_SQLITE_PATH").map(|path| Database::Sqlite(PathBuf::from(path))),
        env_var("TRUSTLINE_CLI_POSTGRES_URL").map(Database::Postgres),
        env_var("TRUSTLINE_CLI_MYSQL_URL").map(Database::Mysql),
    ];
    let from_file = [
        file.sqlite_path
            .clone()
            .map(|path| Database::Sqlite(directory.join(path))),
        file.postgres_url.clone().map(Database::Postgres),
        file.mysql_url.clone().map(Database::Mysql),
    ];
    let layers = [
        (
            "flags",
            "--sqlite-path, --postgres-url and --mysql-url",
            flags,
        ),
        (
            "environment",
            "TRUSTLINE_CLI_SQLITE_PATH, TRUSTLINE_CLI_POSTGRES_URL and TRUSTLINE_CLI_MYSQL_URL",
            environment,
        ),
        (
            "configuration file",
            "sqlitePath, postgresUrl and mysqlUrl",
            from_file,
        ),
    ];

    for (layer, names, candidates) in layers {
        let mut set: Vec<Database> = candidates.into_iter().flatten().collect();
        match set.len() {
            0 => continue,
            1 => return Ok(set.remove(0)),
            _ => {
                return Err(CliError::usage(format!(
                    "more than one database is set in the {layer}: set only one of {names}"
                )))
            }
        }
    }
    Err(CliError::usage(
        "no database is set: pass --sqlite-path, --postgres-url or --mysql-url, set TRUSTLINE_CLI_SQLITE_PATH, \
         TRUSTLINE_CLI_POSTGRES_URL or TRUSTLINE_CLI_MYSQL_URL, or set sqlitePath, postgresUrl or mysqlUrl in \
         trustline.config.json",
    ))
}

/// Resolves the settings shared by every command.
pub fn resolve(args: &GlobalArgs, file: &FileConfig, directory: &Path) -> CliResult<Settings> {
    let issuer = args.issuer.clone().or_else(|| file.issuer.clone()).ok_or_else(|| {
        CliError::usage(
            "no issuer is set: pass --issuer URL, set TRUSTLINE_CLI_ISSUER, or set issuer in trustline.config.json",
        )
    })?;
    let database = resolve_database(args, file, directory)?;

    let prefix = args
        .table_prefix
        .clone()
        .or_else(|| file.table_prefix.clone())
        .unwrap_or_else(|| DEFAULT_TABLE_PREFIX.to_owned());
    let mut tables = SqlTables::with_prefix(&prefix);
    if let Some(names) = &file.tables {
        if let Some(name) = &names.clients {
            tables.clients = name.clone();
        }
        if let Some(name) = &names.signing_keys {
            tables.signing_keys = name.clone();
        }
        if let Some(name) = &names.revoked_tokens {
            tables.revoked_tokens = name.clone();
        }
    }

    let pool_size = args
        .database_pool_size
        .or(file.database_pool_size)
        .unwrap_or(DEFAULT_POOL_SIZE);
    if pool_size == 0 {
        return Err(CliError::usage(
            "invalid database pool size 0: use 1 or more connections",
        ));
    }
    let timeout_seconds = args
        .database_timeout
        .or(file.database_timeout)
        .unwrap_or(DEFAULT_DATABASE_TIMEOUT_SECONDS);
    if timeout_seconds == 0 {
        return Err(CliError::usage(
            "invalid database timeout 0: use 1 or more seconds",
        ));
    }

    let signing = file.signing.as_ref();
    let signing_algorithm = match (
        args.signing_algorithm,
        signing.and_then(|s| s.algorithm.as_deref()),
    ) {
        (Some(arg), _) => Some(algorithm(arg)),
        (None, Some(name)) => Some(parse_algorithm(
            name,
            "signing.algorithm of the configuration file",
        )?),
        (None, None) => None,
    };
    let signing_key_file = args.signing_key_file.clone().or_else(|| {
        signing
            .and_then(|s| s.private_key_file.clone())
            .map(|path| directory.join(path))
    });
    let signing_key_id = args
        .signing_key_id
        .clone()
        .or_else(|| signing.and_then(|s| s.key_id.clone()));

    Ok(Settings {
        issuer,
        database,
        tables,
        pool_size,
        database_timeout: Duration::from_secs(timeout_seconds),
        token_ttl: args
            .token_ttl
            .or(file.token_ttl)
            .unwrap_or(DEFAULT_TOKEN_TTL),
        env: args.env.clone().or_else(|| file.env.clone()),
        signing_algorithm,
        signing_key_file,
        signing_key_id,
    })
}

/// Resolves the settings of `serve`.
pub fn resolve_serve(args: &ServeArgs, file: &FileConfig) -> CliResult<ServeSettings> {
    let serve = file.serve.as_ref();
    let max_header_bytes = args
        .max_header_bytes
        .or(serve.and_then(|s| s.max_header_bytes))
        .unwrap_or(16 * 1024);
    if max_header_bytes < 8192 {
        return Err(CliError::usage(format!(
            "invalid max header bytes {max_header_bytes}: use 8192 or more"
        )));
    }
    let settings = ServeSettings {
        host: args
            .host
            .clone()
            .or_else(|| serve.and_then(|s| s.host.clone()))
            .unwrap_or_else(|| "127.0.0.1".to_owned()),
        port: args.port.or(serve.and_then(|s| s.port)).unwrap_or(8080),
        max_body_bytes: args
            .max_body_bytes
            .or(serve.and_then(|s| s.max_body_bytes))
            .unwrap_or(16 * 1024),
        max_header_bytes,
        max_connections: args
            .max_connections
            .or(serve.and_then(|s| s.max_connections))
            .unwrap_or(1024),
        request_timeout: Duration::from_secs(
            args.request_timeout
                .or(serve.and_then(|s| s.request_timeout))
                .unwrap_or(30),
        ),
        shutdown_timeout: Duration::from_secs(
            args.shutdown_timeout
                .or(serve.and_then(|s| s.shutdown_timeout))
                .unwrap_or(30),
        ),
    };
    if settings.max_body_bytes == 0
        || settings.max_connections == 0
        || settings.request_timeout.is_zero()
    {
        return Err(CliError::usage(
            "invalid serve limits: max body bytes, max connections and request timeout must be 1 or more",
        ));
    }
    Ok(settings)
}

/// Open storage, with what is needed to close its connections at the end.
pub struct OpenStorage {
    pub storage: Arc<SqlStorage>,
    closer: Closer,
    description: String,
}

enum Closer {
    Sqlite,
    Postgres(Arc<PostgresExecutor>),
    Mysql(Arc<MysqlExecutor>),
}

impl OpenStorage {
    /// Names the database for logs and messages, never with a password.
    pub fn description(&self) -> &str {
        &self.description
    }

    /// Closes the pool's connections. SQLite's connection closes when the last
    /// reference to the storage is dropped.
    pub async fn close(self) {
        match self.closer {
            Closer::Sqlite => {}
            Closer::Postgres(executor) => executor.close(),
            Closer::Mysql(executor) => {
                if let Err(error) = executor.close().await {
                    tracing::warn!(error = %error, "closing the MySQL connections failed");
                }
            }
        }
    }
}

/// Opens the database and creates the tables if they are missing.
pub async fn open_storage(settings: &Settings) -> CliResult<OpenStorage> {
    let (executor, closer, description): (
        Arc<dyn trustline::storage::SqlExecutor>,
        Closer,
        String,
    ) = match &settings.database {
        Database::Sqlite(path) => {
            let executor = Arc::new(SqliteExecutor::open(path)?);
            (
                executor,
                Closer::Sqlite,
                format!("SQLite file {}", path.display()),
            )
        }
        Database::Postgres(url) => {
            let options = PostgresPoolOptions {
                max_connections: settings.pool_size,
                timeout: settings.database_timeout,
            };
            let executor = Arc::new(PostgresExecutor::connect(url, options)?);
            let description = format!("PostgreSQL at {}", executor.server());
            (executor.clone(), Closer::Postgres(executor), description)
        }
        Database::Mysql(url) => {
            let options = MysqlPoolOptions {
                max_connections: settings.pool_size,
                timeout: settings.database_timeout,
            };
            let executor = Arc::new(MysqlExecutor::connect(url, options)?);
            let description = format!("MySQL at {}", executor.server());
            (executor.clone(), Closer::Mysql(executor), description)
        }
    };
    let storage = SqlStorage::open(executor, settings.tables.clone()).await?;
    Ok(OpenStorage {
        storage: Arc::new(storage),
        closer,
        description,
    })
}

/// Builds the provider over open storage.
pub fn provider(
    settings: &Settings,
    storage: &OpenStorage,
    on_event: Option<trustline::events::EventHook>,
) -> CliResult<Provider> {
    let private_key = match &settings.signing_key_file {
        Some(path) => Some(read_pem(path)?),
        None => None,
    };
    let mut options = ProviderOptions::new(settings.issuer.clone());
    options.token_ttl = settings.token_ttl;
    options.env = settings.env.clone();
    options.on_event = on_event;
    options.signing = SigningOptions {
        algorithm: settings.signing_algorithm,
        private_key,
        key_id: settings.signing_key_id.clone(),
    };
    Ok(Provider::new(options, storage.storage.clone())?)
}

/// Reads a PEM file, naming the file (never its contents) on failure.
pub fn read_pem(path: &Path) -> CliResult<String> {
    std::fs::read_to_string(path).map_err(|error| {
        CliError::usage(format!(
            "reading the PEM file {} failed: {error}",
            path.display()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn empty_args() -> GlobalArgs {
        GlobalArgs {
            config: None,
            issuer: None,
            sqlite_path: None,
            postgres_url: None,
            mysql_url: None,
            table_prefix: None,
            database_pool_size: None,
            database_timeout: None,
            token_ttl: None,
            env: None,
            signing_algorithm: None,
            signing_key_file: None,
            signing_key_id: None,
            json: false,
            log_format: crate::args::LogFormat::Text,
            log: None,
        }
    }

    fn file(json: &str) -> FileConfig {
        serde_json::from_str(json).expect("valid config")
    }

    #[test]
    fn flag_database_wins_over_file() {
        let mut args = empty_args();
        args.issuer = Some("https://auth.internal".into());
        args.sqlite_path = Some("flag.sqlite".into());
        let config = file(r#"{"mysqlUrl": "mysql://u:p@127.0.0.1/x"}"#);
        let settings = resolve(&args, &config, Path::new("/etc/trustline")).expect("settings");
        assert!(
            matches!(settings.database, Database::Sqlite(path) if path == Path::new("flag.sqlite"))
        );
    }

    #[test]
    fn file_paths_are_relative_to_file() {
        let config = file(
            r#"{"issuer": "https://auth.internal", "sqlitePath": "db/t.sqlite", "tablePrefix": "tl_"}"#,
        );
        let settings =
            resolve(&empty_args(), &config, Path::new("/etc/trustline")).expect("settings");
        assert!(
            matches!(&settings.database, Database::Sqlite(path) if path == Path::new("/etc/trustline/db/t.sqlite"))
        );
        assert_eq!(settings.tables.clients, "tl_clients");
        assert_eq!(settings.token_ttl, 300);
    }

    #[test]
    fn two_databases_in_one_layer_rejected() {
        let mut args = empty_args();
        args.issuer = Some("https://auth.internal".into());
        args.sqlite_path = Some("a.sqlite".into());
        args.postgres_url = Some("postgres://u:secret@h/d".into());
        let error = resolve(&args, &FileConfig::default(), Path::new(".")).expect_err("ambiguous");
        assert_eq!(error.kind, crate::error::FailureKind::Usage);
        assert!(error.message.contains("--sqlite-path"));
        assert!(!error.message.contains("secret"));
    }

    #[test]
    fn missing_issuer_names_every_source() {
        let error =
            resolve(&empty_args(), &FileConfig::default(), Path::new(".")).expect_err("no issuer");
        assert!(error.message.contains("--issuer"));
        assert!(error.message.contains("TRUSTLINE_CLI_ISSUER"));
    }

    #[test]
    fn unknown_file_key_rejected() {
        let result: Result<FileConfig, _> = serde_json::from_str(r#"{"sqlitepath": "x"}"#);
        assert!(result.is_err());
    }

    #[test]
    fn database_debug_hides_urls() {
        let database = Database::Postgres("postgres://u:hunter2@h/d".into());
        assert!(!format!("{database:?}").contains("hunter2"));
    }
}
