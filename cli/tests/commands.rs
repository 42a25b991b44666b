//! Every admin command of trustline-cli, run as a process, on a temporary SQLite file
//! and on the PostgreSQL and MariaDB servers named by TRUSTLINE_TEST_POSTGRES_URL and
//! TRUSTLINE_TEST_MYSQL_URL (`scripts/databases.sh` starts them).

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::Arc;

use serde_json::Value;
use trustline::crypto::{Algorithm, SigningKeyPair};
use trustline::storage::{
    MysqlExecutor, MysqlPoolOptions, PostgresExecutor, PostgresPoolOptions, SqlExecutor, SqlTables,
};

const ISSUER: &str = "https://auth.internal";

/// Every `TRUSTLINE_CLI_*` variable, removed so that the caller's environment cannot
/// change what a test runs against.
const CLI_VARIABLES: [&str; 16] = [
    "TRUSTLINE_CLI_CONFIG",
    "TRUSTLINE_CLI_ISSUER",
    "TRUSTLINE_CLI_SQLITE_PATH",
    "TRUSTLINE_CLI_POSTGRES_URL",
    "TRUSTLINE_CLI_MYSQL_URL",
    "TRUSTLINE_CLI_TABLE_PREFIX",
    "TRUSTLINE_CLI_DATABASE_POOL_SIZE",
    "TRUSTLINE_CLI_DATABASE_TIMEOUT",
    "TRUSTLINE_CLI_TOKEN_TTL",
    "TRUSTLINE_CLI_ENV",
    "TRUSTLINE_CLI_SIGNING_ALGORITHM",
    "TRUSTLINE_CLI_SIGNING_KEY_FILE",
    "TRUSTLINE_CLI_SIGNING_KEY_ID",
    "TRUSTLINE_CLI_LOG_FORMAT",
    "TRUSTLINE_CLI_LOG",
    "TRUSTLINE_CLI_HOST",
];

/// The database a test runs the binary against.
enum Backend {
    Sqlite(PathBuf),
    Postgres { url: String, prefix: String },
    Mysql { url: String, prefix: String },
}

/// Runs the binary in a temporary directory with one database.
struct Harness {
    directory: tempfile::TempDir,
    backend: Backend,
}

struct Run {
    status: i32,
    stdout: String,
    stderr: String,
}

impl Run {
    fn from(output: Output) -> Self {
        Self {
            status: output.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
        }
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|error| panic!("stdout is not JSON ({error}): {}", self.stdout))
    }

    fn assert_status(&self, expected: i32) -> &Self {
        assert_eq!(
            self.status, expected,
            "stdout: {}\nstderr: {}",
            self.stdout, self.stderr
        );
        self
    }
}

fn unique_prefix() -> String {
    format!("cli_{}_", uuid::Uuid::now_v7().simple())
}

impl Harness {
    fn sqlite() -> Self {
        let directory = tempfile::tempdir().expect("temporary directory");
        let path = directory.path().join("trustline.sqlite");
        Self {
            directory,
            backend: Backend::Sqlite(path),
        }
    }

    fn postgres() -> Option<Self> {
        let url = std::env::var("TRUSTLINE_TEST_POSTGRES_URL").ok()?;
        Some(Self {
            directory: tempfile::tempdir().expect("temporary directory"),
            backend: Backend::Postgres {
                url,
                prefix: unique_prefix(),
            },
        })
    }

    fn mysql() -> Option<Self> {
        let url = std::env::var("TRUSTLINE_TEST_MYSQL_URL").ok()?;
        Some(Self {
            directory: tempfile::tempdir().expect("temporary directory"),
            backend: Backend::Mysql {
                url,
                prefix: unique_prefix(),
            },
        })
    }

    fn dir(&self) -> &Path {
        self.directory.path()
    }

    /// Builds a command with no database or issuer set, in the temporary directory.
    fn bare_command(&self) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_trustline-cli"));
        command.current_dir(self.dir());
        for name in CLI_VARIABLES {
            command.env_remove(name);
        }
        command
    }

    /// Builds a command with the issuer and this harness's database. Server URLs travel in
    /// the environment, as the help text recommends.
    fn command(&self) -> Command {
        let mut command = self.bare_command();
        command.arg("--issuer").arg(ISSUER);
        match &self.backend {
            Backend::Sqlite(path) => {
                command.arg("--sqlite-path").arg(path);
            }
            Backend::Postgres { url, prefix } => {
                command
                    .env("TRUSTLINE_CLI_POSTGRES_URL", url)
                    .arg("--table-prefix")
                    .arg(prefix);
            }
            Backend::Mysql { url, prefix } => {
                command
                    .env("TRUSTLINE_CLI_MYSQL_URL", url)
                    .arg("--table-prefix")
                    .arg(prefix);
            }
        }
        command
    }

    fn run(&self, args: &[&str]) -> Run {
        Run::from(
            self.command()
                .args(args)
                .output()
                .expect("run trustline-cli"),
        )
    }

    /// Drops the tables of a server backend, so that test runs leave nothing behind.
    async fn drop_tables(&self) {
        let (executor, prefix): (Arc<dyn SqlExecutor>, &str) = match &self.backend {
            Backend::Sqlite(_) => return,
            Backend::Postgres { url, prefix } => (
                Arc::new(
                    PostgresExecutor::connect(url, PostgresPoolOptions::default()).expect("pool"),
                ),
                prefix,
            ),
            Backend::Mysql { url, prefix } => (
                Arc::new(MysqlExecutor::connect(url, MysqlPoolOptions::default()).expect("pool")),
                prefix,
            ),
        };
        let tables = SqlTables::with_prefix(prefix);
        for table in [
            &tables.clients,
            &tables.signing_keys,
            &tables.revoked_tokens,
        ] {
            executor
                .execute(&format!("DROP TABLE IF EXISTS {table}"), &[])
                .await
                .expect("drop table");
        }
    }
}

/// Reads `export NAME='value'` lines into (name, value) pairs.
fn parse_exports(stdout: &str) -> Vec<(String, String)> {
    stdout
        .lines()
        .map(|line| {
            let rest = line
                .strip_prefix("export ")
                .unwrap_or_else(|| panic!("not an export line: {line}"));
            let (name, quoted) = rest.split_once('=').expect("NAME=value");
            let value = quoted
                .strip_prefix('\'')
                .and_then(|value| value.strip_suffix('\''))
                .expect("single-quoted value");
            (name.to_owned(), value.to_owned())
        })
        .collect()
}

fn is_client_id(value: &str) -> bool {
    value.len() == 36
        && value.starts_with("svc_")
        && value[4..]
            .bytes()
            .all(|byte| byte.is_ascii_digit() || (b'a'..=b'f').contains(&byte))
}

/// Runs every admin command once, checking output, exit statuses and stored effects.
fn every_command(harness: &Harness) {
    // client create: export lines by default.
    let created = harness.run(&[
        "client",
        "create",
        "--name",
        "order-processor",
        "--scope",
        "read:orders",
        "--scope",
        "write:inventory",
    ]);
    created.assert_status(0);
    let exports = parse_exports(&created.stdout);
    assert_eq!(exports.len(), 2);
    assert_eq!(exports[0].0, "TRUSTLINE_CLIENT_ID");
    assert_eq!(exports[1].0, "TRUSTLINE_CLIENT_SECRET");
    let client_id = exports[0].1.clone();
    let secret = exports[1].1.clone();
    assert!(is_client_id(&client_id), "{client_id}");
    assert_eq!(secret.len(), 43);
    assert!(!created.stderr.contains(&secret), "secret on stderr");

    // client create --json.
    let second = harness.run(&["client", "create", "--name", "billing", "--json"]);
    second.assert_status(0);
    let second_json = second.json();
    let second_id = second_json["clientId"]
        .as_str()
        .expect("clientId")
        .to_owned();
    assert!(is_client_id(&second_id));
    assert_eq!(second_json["clientSecret"].as_str().map(str::len), Some(43));

    // client list: a table, then JSON.
    let listed = harness.run(&["client", "list"]);
    listed.assert_status(0);
    assert!(listed.stdout.starts_with("CLIENT ID"), "{}", listed.stdout);
    assert!(listed.stdout.contains(&client_id));
    assert!(listed.stdout.contains(&second_id));
    assert!(listed.stdout.contains("read:orders write:inventory"));
    let listed_json = harness.run(&["client", "list", "--json"]);
    listed_json.assert_status(0);
    let clients = listed_json.json();
    assert_eq!(clients.as_array().map(Vec::len), Some(2));
    assert_eq!(clients[0]["clientId"], client_id.as_str());
    assert!(clients[0]["createdAt"]
        .as_str()
        .expect("createdAt")
        .ends_with('Z'));
    assert!(
        !listed_json.stdout.contains("sha256:"),
        "secret hash in output"
    );
    assert!(!listed_json.stdout.contains(&secret), "secret in output");

    // client get.
    let got = harness.run(&["client", "get", &client_id]);
    got.assert_status(0);
    assert!(got.stdout.contains("name:"));
    assert!(got.stdout.contains("order-processor"));
    let got_json = harness.run(&["client", "get", &client_id, "--json"]).json();
    assert_eq!(got_json["name"], "order-processor");
    assert_eq!(got_json["active"], true);
    assert_eq!(got_json["hasPendingSecretRotation"], false);

    // client rename.
    let renamed = harness.run(&[
        "client",
        "rename",
        &client_id,
        "order-processor-v2",
        "--json",
    ]);
    renamed.assert_status(0);
    assert_eq!(renamed.json()["name"], "order-processor-v2");
    let renamed_text = harness.run(&["client", "rename", &client_id, "order-processor-v3"]);
    renamed_text.assert_status(0);
    assert_eq!(renamed_text.stdout, "");
    assert!(renamed_text.stderr.contains("renamed client"));

    // client set-scopes: a list, then --none; no scope at all is a usage error.
    let scoped = harness.run(&[
        "client",
        "set-scopes",
        &client_id,
        "--scope",
        "read:orders",
        "--json",
    ]);
    scoped.assert_status(0);
    assert_eq!(scoped.json()["scopes"], serde_json::json!(["read:orders"]));
    let cleared = harness.run(&["client", "set-scopes", &second_id, "--none", "--json"]);
    cleared.assert_status(0);
    assert_eq!(cleared.json()["scopes"], serde_json::json!([]));
    harness
        .run(&["client", "set-scopes", &client_id])
        .assert_status(2);
    harness
        .run(&["client", "set-scopes", &client_id, "--scope", "has space"])
        .assert_status(2);

    // client rotate-secret with the default overlap.
    let rotated = harness.run(&["client", "rotate-secret", &client_id]);
    rotated.assert_status(0);
    let rotated_exports = parse_exports(&rotated.stdout);
    assert_eq!(
        rotated_exports[0],
        ("TRUSTLINE_CLIENT_ID".to_owned(), client_id.clone())
    );
    assert_ne!(rotated_exports[1].1, secret);
    assert!(
        rotated.stderr.contains("keeps working until"),
        "{}",
        rotated.stderr
    );
    assert!(
        !rotated.stderr.contains(&rotated_exports[1].1),
        "secret on stderr"
    );
    let pending = harness.run(&["client", "get", &client_id, "--json"]).json();
    assert_eq!(pending["hasPendingSecretRotation"], true);

    // rotate-secret with an explicit expiry, then at once, then in the past.
    let expiry = harness.run(&[
        "client",
        "rotate-secret",
        &client_id,
        "--expires-at",
        "2099-01-01T00:00:00Z",
        "--json",
    ]);
    expiry.assert_status(0);
    assert_eq!(expiry.json()["expiresAt"], "2099-01-01T00:00:00.000Z");
    let immediate = harness.run(&[
        "client",
        "rotate-secret",
        &client_id,
        "--overlap-seconds",
        "0",
        "--json",
    ]);
    immediate.assert_status(0);
    assert_eq!(immediate.json()["expiresAt"], Value::Null);
    let replaced = harness.run(&["client", "get", &client_id, "--json"]).json();
    assert_eq!(replaced["hasPendingSecretRotation"], false);
    let past = harness.run(&[
        "client",
        "rotate-secret",
        &client_id,
        "--expires-at",
        "2000-01-01T00:00:00Z",
    ]);
    past.assert_status(2);
    assert!(past.stderr.contains("not in the future"), "{}", past.stderr);
    harness
        .run(&[
            "client",
            "rotate-secret",
            &client_id,
            "--expires-at",
            "next week",
        ])
        .assert_status(2);

    // client disable and enable.
    let disabled = harness.run(&["client", "disable", &client_id, "--json"]);
    disabled.assert_status(0);
    assert_eq!(disabled.json()["active"], false);
    let enabled = harness.run(&["client", "enable", &client_id, "--json"]);
    enabled.assert_status(0);
    assert_eq!(enabled.json()["active"], true);

    // Token cutoffs, given as RFC 3339 and as Unix seconds.
    let cutoff = harness.run(&[
        "client",
        "invalidate-tokens-before",
        &client_id,
        "--at",
        "2026-01-31T12:00:00Z",
        "--json",
    ]);
    cutoff.assert_status(0);
    assert_eq!(
        cutoff.json()["tokensInvalidBefore"],
        "2026-01-31T12:00:00.000Z"
    );
    let cutoff_seconds = harness.run(&[
        "client",
        "invalidate-tokens-before",
        &client_id,
        "--at",
        "1769860800",
        "--json",
    ]);
    assert_eq!(
        cutoff_seconds.json()["tokensInvalidBefore"],
        "2026-01-31T12:00:00.000Z"
    );
    let cutoff_now = harness.run(&["client", "invalidate-tokens-before", &client_id, "--json"]);
    assert!(cutoff_now.json()["tokensInvalidBefore"].is_string());
    let uncut = harness.run(&[
        "client",
        "clear-tokens-invalid-before",
        &client_id,
        "--json",
    ]);
    uncut.assert_status(0);
    assert_eq!(uncut.json()["tokensInvalidBefore"], Value::Null);

    // key rotate: generated, named RS256, a duplicate id, an imported PEM.
    let key = harness.run(&["key", "rotate", "--json"]);
    key.assert_status(0);
    assert!(key.json()["keyId"]
        .as_str()
        .expect("keyId")
        .starts_with("key_"));
    let named = harness.run(&[
        "key",
        "rotate",
        "--algorithm",
        "RS256",
        "--key-id",
        "rsa-2026",
        "--overlap-seconds",
        "600",
    ]);
    named.assert_status(0);
    assert_eq!(named.stdout, "rsa-2026\n");
    let duplicate = harness.run(&["key", "rotate", "--key-id", "rsa-2026"]);
    duplicate.assert_status(2);
    assert!(
        duplicate.stderr.contains("already exists"),
        "{}",
        duplicate.stderr
    );
    let pem_path = harness.dir().join("imported.pem");
    let pair = SigningKeyPair::generate(Algorithm::Es256, "imported".into()).expect("key");
    std::fs::write(&pem_path, pair.private_key_pem()).expect("write PEM");
    let imported = harness.run(&[
        "key",
        "rotate",
        "--key-id",
        "imported-2026",
        "--activate-at",
        "2099-01-01T00:00:00Z",
        "--private-key-file",
        pem_path.to_str().expect("UTF-8 path"),
        "--json",
    ]);
    imported.assert_status(0);
    assert_eq!(imported.json()["keyId"], "imported-2026");
    assert!(!imported.stdout.contains("PRIVATE KEY"));
    assert!(!imported.stderr.contains("PRIVATE KEY"));
    let missing_pem = harness.run(&["key", "rotate", "--private-key-file", "does-not-exist.pem"]);
    missing_pem.assert_status(2);
    assert!(missing_pem.stderr.contains("does-not-exist.pem"));

    // token revoke, twice, with both time forms.
    let revoked = harness.run(&[
        "token",
        "revoke",
        "jti-0001",
        "--expires-at",
        "2099-01-01T00:00:00Z",
        "--json",
    ]);
    revoked.assert_status(0);
    assert_eq!(revoked.json()["jti"], "jti-0001");
    harness
        .run(&["token", "revoke", "jti-0001", "--expires-at", "4070908800"])
        .assert_status(0);
    harness
        .run(&["token", "revoke", "jti-0002"])
        .assert_status(2);

    // client revoke deletes; then the id is not found (exit 3) for every command.
    let deleted = harness.run(&["client", "revoke", &second_id, "--json"]);
    deleted.assert_status(0);
    assert_eq!(deleted.json()["revoked"], true);
    for args in [
        vec!["client", "get", second_id.as_str()],
        vec!["client", "disable", second_id.as_str()],
        vec!["client", "rotate-secret", second_id.as_str()],
        vec!["client", "revoke", second_id.as_str()],
    ] {
        let missing = harness.run(&args);
        missing.assert_status(3);
        assert!(missing.stderr.contains(&second_id), "{}", missing.stderr);
    }
    let missing_json = harness.run(&["client", "get", &second_id, "--json"]);
    missing_json.assert_status(3);
    let error: Value = serde_json::from_str(missing_json.stderr.trim()).expect("JSON error");
    assert_eq!(error["error"], "client_not_found");

    let remaining = harness.run(&["client", "list", "--json"]).json();
    assert_eq!(remaining.as_array().map(Vec::len), Some(1));
}

/// Skips a server test whose URL is missing, unless TRUSTLINE_TEST_REQUIRE_DATABASES
/// is set (as scripts/test.sh does), where a missing server is a failure.
fn skip_or_fail(variable: &str) {
    assert!(
        std::env::var_os("TRUSTLINE_TEST_REQUIRE_DATABASES").is_none(),
        "{variable} is not set but TRUSTLINE_TEST_REQUIRE_DATABASES is: run `eval \"$(bash scripts/databases.sh)\"`"
    );
    eprintln!("skipped: set {variable} (bash scripts/databases.sh) to run this test");
}

#[test]
fn every_command_on_sqlite() {
    every_command(&Harness::sqlite());
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_on_postgres() {
    let Some(harness) = Harness::postgres() else {
        skip_or_fail("TRUSTLINE_TEST_POSTGRES_URL");
        return;
    };
    let result = tokio::task::spawn_blocking(move || {
        every_command(&harness);
        harness
    })
    .await;
    match result {
        Ok(harness) => harness.drop_tables().await,
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_command_on_mariadb() {
    let Some(harness) = Harness::mysql() else {
        skip_or_fail("TRUSTLINE_TEST_MYSQL_URL");
        return;
    };
    let result = tokio::task::spawn_blocking(move || {
        every_command(&harness);
        harness
    })
    .await;
    match result {
        Ok(harness) => harness.drop_tables().await,
        Err(panic) => std::panic::resume_unwind(panic.into_panic()),
    }
}

#[test]
fn secret_is_safely_shell_quoted() {
    let harness = Harness::sqlite();
    let created = harness.run(&["client", "create", "--name", "it's $(quoted)"]);
    created.assert_status(0);
    // Run the output through a real shell and read the variables back.
    let script = format!(
        "{}printf '%s\\n%s' \"$TRUSTLINE_CLIENT_ID\" \"$TRUSTLINE_CLIENT_SECRET\"",
        created.stdout
    );
    let shell = Command::new("sh")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("run sh");
    let printed = String::from_utf8_lossy(&shell.stdout).into_owned();
    let exports = parse_exports(&created.stdout);
    assert_eq!(printed, format!("{}\n{}", exports[0].1, exports[1].1));
    let listed = harness.run(&["client", "list"]);
    assert!(listed.stdout.contains("it's $(quoted)"));
}

#[test]
fn usage_errors_exit_with_2() {
    let harness = Harness::sqlite();
    let no_database = Run::from(
        harness
            .bare_command()
            .args(["--issuer", ISSUER, "client", "list"])
            .output()
            .expect("run"),
    );
    no_database.assert_status(2);
    assert!(
        no_database.stderr.contains("no database is set"),
        "{}",
        no_database.stderr
    );

    let no_issuer = Run::from(
        harness
            .bare_command()
            .args(["--sqlite-path", "x.sqlite", "client", "list"])
            .output()
            .expect("run"),
    );
    no_issuer.assert_status(2);
    assert!(no_issuer.stderr.contains("--issuer"));

    harness.run(&["client", "frobnicate"]).assert_status(2);
    harness.run(&["client", "create"]).assert_status(2);
    harness
        .run(&["client", "create", "--name", "   "])
        .assert_status(2);
    harness
        .run(&["--token-ttl", "soon", "client", "list"])
        .assert_status(2);
    harness
        .run(&["--signing-algorithm", "HS256", "client", "list"])
        .assert_status(2);
    harness
        .run(&["--table-prefix", "bad-prefix;", "client", "list"])
        .assert_status(2);

    let both = harness.run(&[
        "--mysql-url",
        "mysql://u:hunter2@127.0.0.1:1/x",
        "client",
        "list",
    ]);
    both.assert_status(2);
    assert!(
        both.stderr.contains("more than one database"),
        "{}",
        both.stderr
    );
    assert!(!both.stderr.contains("hunter2"));
}

#[test]
fn unreachable_database_exits_with_1() {
    let harness = Harness::sqlite();
    let run = Run::from(
        harness
            .bare_command()
            .args([
                "--issuer",
                ISSUER,
                "--database-timeout",
                "3",
                "client",
                "list",
            ])
            .env(
                "TRUSTLINE_CLI_POSTGRES_URL",
                "postgres://admin:hunter2@127.0.0.1:1/trustline",
            )
            .output()
            .expect("run"),
    );
    run.assert_status(1);
    assert!(run.stderr.contains("127.0.0.1:1"), "{}", run.stderr);
    assert!(!run.stderr.contains("hunter2"));
}

#[test]
fn help_exits_with_0_everywhere() {
    let harness = Harness::sqlite();
    let commands: [&[&str]; 17] = [
        &[],
        &["client"],
        &["client", "create"],
        &["client", "list"],
        &["client", "get"],
        &["client", "rename"],
        &["client", "set-scopes"],
        &["client", "rotate-secret"],
        &["client", "revoke"],
        &["client", "disable"],
        &["client", "enable"],
        &["client", "invalidate-tokens-before"],
        &["client", "clear-tokens-invalid-before"],
        &["key", "rotate"],
        &["token", "revoke"],
        &["serve"],
        &["key"],
    ];
    for command in commands {
        let mut args: Vec<&str> = command.to_vec();
        args.push("--help");
        let run = Run::from(harness.bare_command().args(&args).output().expect("run"));
        run.assert_status(0);
        assert!(
            run.stdout.contains("Usage: trustline-cli"),
            "{args:?}: {}",
            run.stdout
        );
    }
    let rotate = Run::from(
        harness
            .bare_command()
            .args(["client", "rotate-secret", "--help"])
            .output()
            .expect("run"),
    );
    assert!(rotate.stdout.contains("[default: 3600]"));
    assert!(rotate.stdout.contains("Seconds"));
}

#[test]
fn config_file_and_environment_layers() {
    let harness = Harness::sqlite();
    let config = harness.dir().join("trustline.config.json");
    std::fs::write(
        &config,
        r#"{ "issuer": "https://auth.internal", "sqlitePath": "from-file.sqlite", "tablePrefix": "file_" }"#,
    )
    .expect("write config");

    // The file in the current directory alone is enough.
    let from_file = Run::from(
        harness
            .bare_command()
            .args(["client", "create", "--name", "a"])
            .output()
            .expect("run"),
    );
    from_file.assert_status(0);
    assert!(harness.dir().join("from-file.sqlite").exists());

    // The environment overrides the file; a flag overrides the environment.
    let from_env = Run::from(
        harness
            .bare_command()
            .args(["client", "list", "--json"])
            .env(
                "TRUSTLINE_CLI_SQLITE_PATH",
                harness.dir().join("from-env.sqlite"),
            )
            .output()
            .expect("run"),
    );
    from_env.assert_status(0);
    assert_eq!(from_env.json().as_array().map(Vec::len), Some(0));
    assert!(harness.dir().join("from-env.sqlite").exists());

    let from_flag = Run::from(
        harness
            .bare_command()
            .args([
                "client",
                "list",
                "--json",
                "--table-prefix",
                "file_",
                "--sqlite-path",
                "from-file.sqlite",
            ])
            .env(
                "TRUSTLINE_CLI_SQLITE_PATH",
                harness.dir().join("from-env.sqlite"),
            )
            .env("TRUSTLINE_CLI_TABLE_PREFIX", "env_")
            .output()
            .expect("run"),
    );
    from_flag.assert_status(0);
    assert_eq!(from_flag.json().as_array().map(Vec::len), Some(1));

    // TRUSTLINE_CLI_CONFIG names another file, which must exist.
    let missing = Run::from(
        harness
            .bare_command()
            .args(["client", "list"])
            .env("TRUSTLINE_CLI_CONFIG", harness.dir().join("missing.json"))
            .output()
            .expect("run"),
    );
    missing.assert_status(2);
    assert!(missing.stderr.contains("missing.json"));

    std::fs::write(
        &config,
        r#"{ "issuer": "https://auth.internal", "sqlite_path": "x" }"#,
    )
    .expect("write config");
    let misspelt = Run::from(
        harness
            .bare_command()
            .args(["client", "list"])
            .output()
            .expect("run"),
    );
    misspelt.assert_status(2);
    assert!(
        misspelt.stderr.contains("sqlite_path"),
        "{}",
        misspelt.stderr
    );
}
