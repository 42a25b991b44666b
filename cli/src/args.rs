//! Command-line arguments. Every option that can also come from the environment or
//! from `trustline.config.json` is resolved in `config.rs`, flags first.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// Administers Trustline clients, keys and revoked tokens, and serves the token endpoint.
///
/// Settings come from flags, then TRUSTLINE_CLI_* environment variables, then the
/// configuration file (trustline.config.json in the current directory, or the file given
/// by --config). Exactly one database must be set: --sqlite-path, --postgres-url or
/// --mysql-url.
///
/// Exit status: 0 success, 1 failure (database or I/O), 2 invalid usage or input,
/// 3 client not found.
#[derive(Debug, Parser)]
#[command(name = "trustline-cli", version, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: GlobalArgs,

    #[command(subcommand)]
    pub command: Command,
}

/// Options shared by every command.
#[derive(Debug, Args)]
#[command(next_help_heading = "Global options")]
pub struct GlobalArgs {
    /// Configuration file (JSON). Default: trustline.config.json in the current
    /// directory, when it exists.
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_CONFIG",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub config: Option<PathBuf>,

    /// Issuer URL, copied into the `iss` claim; its path prefixes the endpoints.
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_ISSUER",
        hide_env_values = true,
        value_name = "URL"
    )]
    pub issuer: Option<String>,

    /// SQLite database file, created if missing. [env: TRUSTLINE_CLI_SQLITE_PATH]
    #[arg(long, global = true, value_name = "PATH")]
    pub sqlite_path: Option<PathBuf>,

    /// PostgreSQL URL, postgres://USER:PASSWORD@HOST:PORT/DATABASE. Prefer the
    /// environment variable: other users can read command lines.
    /// [env: TRUSTLINE_CLI_POSTGRES_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub postgres_url: Option<String>,

    /// MySQL or MariaDB URL, mysql://USER:PASSWORD@HOST:PORT/DATABASE. Prefer the
    /// environment variable: other users can read command lines.
    /// [env: TRUSTLINE_CLI_MYSQL_URL]
    #[arg(long, global = true, value_name = "URL")]
    pub mysql_url: Option<String>,

    /// Prefix of the three table names. [default: trustline_]
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_TABLE_PREFIX",
        hide_env_values = true,
        value_name = "PREFIX"
    )]
    pub table_prefix: Option<String>,

    /// Most database connections open at once (PostgreSQL and MySQL). [default: 8]
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_DATABASE_POOL_SIZE",
        hide_env_values = true,
        value_name = "COUNT"
    )]
    pub database_pool_size: Option<usize>,

    /// Seconds a database connection or statement may take before it fails. [default: 10]
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_DATABASE_TIMEOUT",
        hide_env_values = true,
        value_name = "SECONDS"
    )]
    pub database_timeout: Option<u64>,

    /// Access token lifetime in seconds. Also sets the default overlap of `key rotate`
    /// (this value plus 60). [default: 300]
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_TOKEN_TTL",
        hide_env_values = true,
        value_name = "SECONDS"
    )]
    pub token_ttl: Option<u64>,

    /// Copied into the `env` claim of issued tokens.
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_ENV",
        hide_env_values = true,
        value_name = "NAME"
    )]
    pub env: Option<String>,

    /// Algorithm of signing keys created on first need and by `key rotate`. [default: ES256]
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_SIGNING_ALGORITHM",
        hide_env_values = true,
        value_name = "ALGORITHM"
    )]
    pub signing_algorithm: Option<AlgorithmArg>,

    /// PKCS#8 PEM file with the private key to import as the first signing key,
    /// instead of generating one.
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_SIGNING_KEY_FILE",
        hide_env_values = true,
        value_name = "PATH"
    )]
    pub signing_key_file: Option<PathBuf>,

    /// Key id of the key from --signing-key-file. [default: key_ followed by a UUIDv7]
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_SIGNING_KEY_ID",
        hide_env_values = true,
        value_name = "ID"
    )]
    pub signing_key_id: Option<String>,

    /// Print results as JSON on standard output, and errors as JSON on standard error.
    #[arg(long, global = true)]
    pub json: bool,

    /// Log format on standard error.
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_LOG_FORMAT",
        hide_env_values = true,
        value_name = "FORMAT",
        default_value = "text"
    )]
    pub log_format: LogFormat,

    /// Log filter in tracing's EnvFilter syntax, such as `info` or `trustline=debug`.
    /// [default: info for serve, warn otherwise]
    #[arg(
        long,
        global = true,
        env = "TRUSTLINE_CLI_LOG",
        hide_env_values = true,
        value_name = "FILTER"
    )]
    pub log: Option<String>,
}

/// A signing algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum AlgorithmArg {
    /// ECDSA with P-256 and SHA-256.
    #[value(name = "ES256")]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256 (2048-bit keys when generated).
    #[value(name = "RS256")]
    Rs256,
}

/// The format of log lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogFormat {
    /// One human-readable line per event.
    Text,
    /// One JSON object per line.
    Json,
}

/// The top-level commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Create, inspect and change service clients.
    #[command(subcommand)]
    Client(ClientCommand),

    /// Rotate the signing key.
    #[command(subcommand)]
    Key(KeyCommand),

    /// Revoke access tokens.
    #[command(subcommand)]
    Token(TokenCommand),

    /// Serve the token and JWKS endpoints over HTTP until SIGTERM or SIGINT.
    Serve(ServeArgs),
}

/// Client administration.
#[derive(Debug, Subcommand)]
pub enum ClientCommand {
    /// Register a client and print its id and secret as shell `export` lines
    /// (TRUSTLINE_CLIENT_ID, TRUSTLINE_CLIENT_SECRET). The secret is shown only once.
    Create {
        /// Client name, copied into the `name` claim (1 to 255 characters).
        #[arg(long)]
        name: String,
        /// A scope the client may request; repeat for more.
        #[arg(long = "scope", value_name = "SCOPE")]
        scopes: Vec<String>,
    },

    /// List every client, oldest first, as a table (never secrets).
    List,

    /// Show one client (never its secrets).
    Get {
        /// The client id, svc_ followed by 32 hex digits.
        client_id: String,
    },

    /// Rename a client; tokens issued from now on carry the new name.
    Rename {
        /// The client id.
        client_id: String,
        /// The new name (1 to 255 characters).
        name: String,
    },

    /// Replace the scopes a client may request.
    SetScopes {
        /// The client id.
        client_id: String,
        /// A scope; repeat for more. The list replaces the current one.
        #[arg(long = "scope", value_name = "SCOPE", required_unless_present = "none")]
        scopes: Vec<String>,
        /// Remove every scope.
        #[arg(long, conflicts_with = "scopes")]
        none: bool,
    },

    /// Create a new secret and print it as shell `export` lines. With an overlap, the
    /// old secret keeps working until the overlap ends.
    RotateSecret {
        /// The client id.
        client_id: String,
        /// Seconds both secrets work; 0 replaces the old secret at once. [default: 3600]
        #[arg(long, value_name = "SECONDS", conflicts_with = "expires_at")]
        overlap_seconds: Option<u64>,
        /// When the old secret stops working, as RFC 3339 (2026-01-31T12:00:00Z) or Unix
        /// seconds; must be in the future.
        #[arg(long, value_name = "TIME")]
        expires_at: Option<String>,
    },

    /// Delete a client. Guards that read the same database reject its tokens.
    Revoke {
        /// The client id.
        client_id: String,
    },

    /// Disable a client: it gets no tokens, and guards with storage reject its tokens.
    Disable {
        /// The client id.
        client_id: String,
    },

    /// Enable a disabled client.
    Enable {
        /// The client id.
        client_id: String,
    },

    /// Reject, in guards with storage, the client's tokens issued before a time.
    InvalidateTokensBefore {
        /// The client id.
        client_id: String,
        /// The cutoff, as RFC 3339 or Unix seconds. [default: now]
        #[arg(long, value_name = "TIME")]
        at: Option<String>,
    },

    /// Remove the client's token cutoff.
    ClearTokensInvalidBefore {
        /// The client id.
        client_id: String,
    },
}

/// Signing key administration.
#[derive(Debug, Subcommand)]
pub enum KeyCommand {
    /// Add a signing key that signs from --activate-at; older keys stay in the JWKS for
    /// the overlap after that, then leave it. Prints the new key id.
    Rotate {
        /// When the new key starts signing, as RFC 3339 or Unix seconds. [default: now]
        #[arg(long, value_name = "TIME")]
        activate_at: Option<String>,
        /// Algorithm of the new key. [default: --signing-algorithm, else ES256]
        #[arg(long, value_name = "ALGORITHM")]
        algorithm: Option<AlgorithmArg>,
        /// Key id of the new key. [default: key_ followed by a UUIDv7]
        #[arg(long, value_name = "ID")]
        key_id: Option<String>,
        /// Seconds older keys keep verifying after --activate-at. [default: token TTL + 60]
        #[arg(long, value_name = "SECONDS")]
        overlap_seconds: Option<u64>,
        /// PKCS#8 PEM file with the private key to import instead of generating one.
        #[arg(long, value_name = "PATH")]
        private_key_file: Option<PathBuf>,
    },
}

/// Token administration.
#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Revoke a token by its `jti` claim. Revoking the same jti twice is not an error.
    Revoke {
        /// The token's `jti` claim.
        jti: String,
        /// How long to remember the revocation: the token's `exp`, as RFC 3339 or Unix
        /// seconds (the claim's own form).
        #[arg(long, value_name = "TIME")]
        expires_at: String,
    },
}

/// Options of `serve`.
#[derive(Debug, Args)]
pub struct ServeArgs {
    /// Address to listen on. [default: 127.0.0.1]
    #[arg(
        long,
        env = "TRUSTLINE_CLI_HOST",
        hide_env_values = true,
        value_name = "ADDRESS"
    )]
    pub host: Option<String>,

    /// TCP port to listen on; 0 picks a free one (logged at start). [default: 8080]
    #[arg(
        long,
        env = "TRUSTLINE_CLI_PORT",
        hide_env_values = true,
        value_name = "PORT"
    )]
    pub port: Option<u16>,

    /// Largest request body accepted, in bytes; larger ones get 413. [default: 16384]
    #[arg(
        long,
        env = "TRUSTLINE_CLI_MAX_BODY_BYTES",
        hide_env_values = true,
        value_name = "BYTES"
    )]
    pub max_body_bytes: Option<usize>,

    /// Largest request head (request line and headers) accepted, in bytes, at least
    /// 8192; larger ones get 431. [default: 16384]
    #[arg(
        long,
        env = "TRUSTLINE_CLI_MAX_HEADER_BYTES",
        hide_env_values = true,
        value_name = "BYTES"
    )]
    pub max_header_bytes: Option<usize>,

    /// Most connections open at once; further ones wait in the listen backlog. [default: 1024]
    #[arg(
        long,
        env = "TRUSTLINE_CLI_MAX_CONNECTIONS",
        hide_env_values = true,
        value_name = "COUNT"
    )]
    pub max_connections: Option<usize>,

    /// Seconds a request may take, from its first byte to its response; slower ones
    /// get 503. [default: 30]
    #[arg(
        long,
        env = "TRUSTLINE_CLI_REQUEST_TIMEOUT",
        hide_env_values = true,
        value_name = "SECONDS"
    )]
    pub request_timeout: Option<u64>,

    /// Seconds to wait for requests in flight after SIGTERM or SIGINT before closing
    /// their connections. [default: 30]
    #[arg(
        long,
        env = "TRUSTLINE_CLI_SHUTDOWN_TIMEOUT",
        hide_env_values = true,
        value_name = "SECONDS"
    )]
    pub shutdown_timeout: Option<u64>,
}
