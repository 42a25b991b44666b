//! A SQLite database written by the TypeScript `trustline` package 0.1.1 opens and keeps
//! serving: its clients, bcrypt secrets, signing keys, revocation and cutoff.

mod common;

use std::path::PathBuf;
use std::sync::Arc;

use common::*;
use serde_json::Value;
use trustline::guard::{Guard, GuardOptions};
use trustline::provider::{Provider, ProviderOptions};
use trustline::storage::{SqlStorage, SqlTables, SqliteExecutor, Storage};

fn fixture_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/fixtures/reference-0.1")
}

struct Fixture {
    credentials: Value,
    storage: Arc<dyn Storage>,
    provider: Provider,
    _directory: tempfile::TempDir,
}

async fn open_fixture() -> Fixture {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("trustline.sqlite");
    std::fs::copy(fixture_dir().join("trustline.sqlite"), &path).expect("copy fixture");
    let credentials: Value =
        serde_json::from_str(&std::fs::read_to_string(fixture_dir().join("credentials.json")).expect("credentials"))
            .expect("credentials JSON");

    let executor = SqliteExecutor::open(&path).expect("open");
    let storage: Arc<dyn Storage> = Arc::new(SqlStorage::open(Arc::new(executor), SqlTables::default()).await.expect("tables"));
    let issuer = credentials["issuer"].as_str().expect("issuer");
    let provider = Provider::new(ProviderOptions::new(issuer), storage.clone()).expect("provider");
    Fixture {
        credentials,
        storage,
        provider,
        _directory: directory,
    }
}

fn text<'a>(value: &'a Value, pointer: &str) -> &'a str {
    value.pointer(pointer).and_then(Value::as_str).unwrap_or_else(|| panic!("{pointer} in credentials.json"))
}

#[tokio::test]
async fn clients_read_back_as_written() {
    let fixture = open_fixture().await;
    let sqlite = &fixture.credentials["backends"]["sqlite"];
    let clients = fixture.provider.list_clients().await.expect("list");
    assert_eq!(clients.len(), 2);

    let orders = fixture
        .provider
        .get_client(text(sqlite, "/clients/orders-api/clientId"))
        .await
        .expect("get")
        .expect("orders-api exists");
    assert_eq!(orders.name, "orders-api");
    assert_eq!(orders.scopes, vec!["read:orders".to_owned(), "write:orders".to_owned()]);
    assert!(orders.active);
    assert!(orders.has_pending_secret_rotation);
    assert_eq!(
        orders.next_secret_expires_at.map(|at| at.to_iso()).as_deref(),
        Some(text(sqlite, "/clients/orders-api/nextSecretExpiresAt"))
    );
    assert_eq!(
        orders.tokens_invalid_before.map(|at| at.to_iso()).as_deref(),
        Some(text(sqlite, "/clients/orders-api/tokensInvalidBefore"))
    );

    let billing = fixture
        .provider
        .get_client(text(sqlite, "/clients/billing-worker/clientId"))
        .await
        .expect("get")
        .expect("billing-worker exists");
    assert!(!billing.active);
}

#[tokio::test]
async fn bcrypt_secrets_issue_tokens_and_are_rehashed() {
    let fixture = open_fixture().await;
    let sqlite = &fixture.credentials["backends"]["sqlite"];
    let client_id = text(sqlite, "/clients/orders-api/clientId");
    let current_kid = text(sqlite, "/signingKeys/current/keyId");

    for role in ["current", "next"] {
        let secret = text(sqlite, &format!("/clients/orders-api/secrets/{role}"));
        let token = access_token(&request_token(&fixture.provider, client_id, secret, "grant_type=client_credentials").await);
        assert_eq!(decode_part(&token, 0)["kid"], current_kid, "{role}");
        // The second request checks against the upgraded SHA-256 hash.
        let again = request_token(&fixture.provider, client_id, secret, "grant_type=client_credentials").await;
        assert_eq!(again.status, 200, "{role} after rehash");
    }

    let stored = fixture.storage.find_client(client_id).await.expect("find").expect("exists");
    assert!(stored.current_secret_hash.starts_with("sha256:"));
    assert!(stored.next_secret_hash.as_deref().is_some_and(|hash| hash.starts_with("sha256:")));

    let billing = request_token(
        &fixture.provider,
        text(sqlite, "/clients/billing-worker/clientId"),
        text(sqlite, "/clients/billing-worker/secrets/current"),
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(billing.status, 401);
    assert_eq!(json(&billing)["error"], "invalid_client");
}

#[tokio::test]
async fn guard_with_storage_applies_stored_state() {
    let fixture = open_fixture().await;
    let sqlite = &fixture.credentials["backends"]["sqlite"];
    let mut options = GuardOptions::new(fixture.provider.issuer());
    options.storage = Some(fixture.storage.clone());
    let guard = Guard::new(options, ProviderTransport::new(fixture.provider.clone())).expect("guard");

    for accepted in ["control", "afterKeyRotation"] {
        guard.verify(text(sqlite, &format!("/tokens/{accepted}"))).await.expect(accepted);
    }
    for rejected in ["revoked", "billingWorkerBeforeDisable"] {
        let error = guard.verify(text(sqlite, &format!("/tokens/{rejected}"))).await.expect_err(rejected);
        assert_eq!(error.code(), "invalid_token", "{rejected}");
    }

    let jwks = fixture.provider.jwks().await.expect("jwks");
    let kids: Vec<&str> = jwks["keys"].as_array().expect("keys").iter().filter_map(|key| key["kid"].as_str()).collect();
    assert!(kids.contains(&text(sqlite, "/signingKeys/retiring/keyId")));
    assert!(kids.contains(&text(sqlite, "/signingKeys/current/keyId")));
}
