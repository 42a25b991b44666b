//! The guard's checks against forged and malformed tokens, and its JWKS fetching.

mod common;

use std::sync::Arc;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use common::*;
use serde_json::{json, Map, Value};
use trustline::crypto::{Algorithm, SigningKeyPair};
use trustline::guard::{Guard, GuardOptions};
use trustline::provider::{Provider, ProviderOptions, RotateKeyInput};
use trustline::storage::MemoryStorage;
use trustline::Timestamp;

struct Setup {
    provider: Provider,
    transport: Arc<ProviderTransport>,
    guard: Guard,
    token: String,
}

async fn setup(configure: impl FnOnce(&mut GuardOptions)) -> Setup {
    let provider = Provider::new(ProviderOptions::new(ISSUER), Arc::new(MemoryStorage::new())).expect("provider");
    let created = provider.create_client("a", &["read".into()]).await.expect("create");
    let token = access_token(&request_token(&provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials&audience=api").await);
    let transport = ProviderTransport::new(provider.clone());
    let mut options = GuardOptions::new(ISSUER);
    configure(&mut options);
    let guard = Guard::new(options, transport.clone()).expect("guard");
    Setup {
        provider,
        transport,
        guard,
        token,
    }
}

fn encode_part(value: &Value) -> String {
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(value).expect("json"))
}

fn with_header(token: &str, header: Value) -> String {
    let mut parts = token.splitn(2, '.');
    parts.next();
    format!("{}.{}", encode_part(&header), parts.next().expect("rest"))
}

fn claims_of(token: &str) -> Map<String, Value> {
    decode_part(token, 1).as_object().expect("claims").clone()
}

/// Signs claims with a key the issuer never published, under a chosen `kid`.
fn sign_with_foreign_key(kid: &str, claims: &Map<String, Value>) -> String {
    let key = SigningKeyPair::generate(Algorithm::Es256, kid.into()).expect("key");
    trustline::jwt::encode(&key, claims).expect("sign")
}

#[tokio::test]
async fn valid_token_passes_all_checks() {
    let setup = setup(|options| {
        options.audience = vec!["other".into(), "api".into()];
        options.scopes = vec!["read".into()];
    })
    .await;
    let identity = setup.guard.verify(&setup.token).await.expect("valid");
    assert_eq!(identity.scopes, vec!["read".to_owned()]);
}

#[tokio::test]
async fn each_failed_check_has_its_code() {
    let cases: Vec<(&str, Box<dyn FnOnce(&mut GuardOptions)>, &str, u16)> = vec![
        ("issuer", Box::new(|options: &mut GuardOptions| options.issuer = "https://other.internal".into()), "invalid_issuer", 401),
        ("audience", Box::new(|options: &mut GuardOptions| options.audience = vec!["billing".into()]), "invalid_audience", 403),
        ("scope", Box::new(|options: &mut GuardOptions| options.scopes = vec!["write".into()]), "invalid_scope", 403),
        ("env", Box::new(|options: &mut GuardOptions| options.env = Some("production".into())), "invalid_env", 403),
    ];
    for (name, configure, code, status) in cases {
        let setup = setup(configure).await;
        let error = setup.guard.verify(&setup.token).await.expect_err(name);
        assert_eq!(error.code(), code, "{name}");
        assert_eq!(error.status(), status, "{name}");
    }
}

#[tokio::test]
async fn empty_and_malformed_tokens() {
    let setup = setup(|_| {}).await;
    assert_eq!(setup.guard.verify("").await.expect_err("empty").code(), "missing_token");
    assert_eq!(setup.guard.verify("   ").await.expect_err("blank").code(), "missing_token");
    for token in ["abc", "a.b.c", "a.b.c.d"] {
        assert_eq!(setup.guard.verify(token).await.expect_err(token).code(), "invalid_token");
    }
}

#[tokio::test]
async fn algorithm_confusion_is_rejected() {
    let setup = setup(|_| {}).await;
    let kid = decode_part(&setup.token, 0)["kid"].clone();
    let (signing_input, _) = setup.token.rsplit_once('.').expect("signature");
    let payload = signing_input.split('.').nth(1).expect("payload");

    let none = format!("{}.{payload}.", encode_part(&json!({ "alg": "none", "kid": kid })));
    let hs256 = format!("{}.{payload}.AAAA", encode_part(&json!({ "alg": "HS256", "kid": kid })));
    let rs256_on_ec_key = with_header(&setup.token, json!({ "alg": "RS256", "kid": kid }));
    for (name, token) in [("none", none), ("HS256", hs256), ("RS256 with EC key", rs256_on_ec_key)] {
        let error = setup.guard.verify(&token).await.expect_err(name);
        assert_eq!(error.code(), "invalid_token", "{name}");
    }
}

#[tokio::test]
async fn expired_and_future_tokens_are_rejected() {
    let setup = setup(|options| options.clock_tolerance = 5).await;
    let now = Timestamp::now().as_seconds();

    // Tokens signed by the issuer's own key need a key pair we control: rotate to an
    // imported key so the test can sign arbitrary claims with it.
    let key = SigningKeyPair::generate(Algorithm::Es256, "controlled".into()).expect("key");
    setup
        .provider
        .rotate_key(RotateKeyInput {
            private_key: Some(key.private_key_pem().to_owned()),
            key_id: Some("controlled".into()),
            ..RotateKeyInput::default()
        })
        .await
        .expect("rotate");

    let base = claims_of(&setup.token);
    let variant = |name: &str, value: Value| {
        let mut claims = base.clone();
        if value.is_null() {
            claims.remove(name);
        } else {
            claims.insert(name.into(), value);
        }
        trustline::jwt::encode(&key, &claims).expect("sign")
    };

    let cases = [
        ("expired", variant("exp", json!(now - 10))),
        ("no exp", variant("exp", Value::Null)),
        ("nbf in future", variant("nbf", json!(now + 60))),
        ("iat in future", variant("iat", json!(now + 60))),
        ("empty sub", variant("sub", json!(""))),
        ("exp not a number", variant("exp", json!("soon"))),
    ];
    for (name, token) in cases {
        let error = setup.guard.verify(&token).await.expect_err(name);
        assert_eq!(error.code(), "invalid_token", "{name}");
    }

    guard_accepts_within_tolerance(&setup.guard, variant("exp", json!(now - 2))).await;
}

async fn guard_accepts_within_tolerance(guard: &Guard, token: String) {
    guard.verify(&token).await.expect("expired 2 s ago is within the 5 s tolerance");
}

#[tokio::test]
async fn forged_tokens_cause_at_most_one_refetch() {
    let setup = setup(|_| {}).await;
    setup.guard.verify(&setup.token).await.expect("valid");
    assert_eq!(setup.transport.count(), 1);

    let claims = claims_of(&setup.token);
    for index in 0..50 {
        let forged = sign_with_foreign_key(&format!("forged-{index}"), &claims);
        assert_eq!(setup.guard.verify(&forged).await.expect_err("forged").code(), "invalid_token");
    }
    let real_kid = decode_part(&setup.token, 0)["kid"].as_str().expect("kid").to_owned();
    for _ in 0..50 {
        let forged = sign_with_foreign_key(&real_kid, &claims);
        assert_eq!(setup.guard.verify(&forged).await.expect_err("bad signature").code(), "invalid_token");
    }
    assert_eq!(setup.transport.count(), 2, "one early refetch within the cooldown");
}

#[tokio::test]
async fn rotated_key_is_fetched_once() {
    let setup = setup(|_| {}).await;
    setup.guard.verify(&setup.token).await.expect("valid");

    let created = setup.provider.create_client("b", &[]).await.expect("create");
    setup.provider.rotate_key(RotateKeyInput::default()).await.expect("rotate");
    let token = access_token(&request_token(&setup.provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials").await);
    setup.guard.verify(&token).await.expect("new key found by refetch");
    setup.guard.verify(&token).await.expect("cached");
    assert_eq!(setup.transport.count(), 2);
}

#[tokio::test]
async fn concurrent_verifies_share_one_fetch() {
    let setup = setup(|_| {}).await;
    let guard = setup.guard.clone();
    let mut tasks = Vec::new();
    for _ in 0..20 {
        let guard = guard.clone();
        let token = setup.token.clone();
        tasks.push(tokio::spawn(async move { guard.verify(&token).await }));
    }
    for task in tasks {
        task.await.expect("join").expect("valid");
    }
    assert_eq!(setup.transport.count(), 1);
}

#[tokio::test]
async fn unreachable_jwks_is_jwks_fetch_failed() {
    struct Refusing;
    #[async_trait::async_trait]
    impl trustline::http::HttpTransport for Refusing {
        async fn send(&self, _: trustline::http::HttpRequest) -> trustline::Result<trustline::http::HttpResponse> {
            Err(trustline::Error::new(trustline::ErrorKind::TokenRequestFailed, "connection refused"))
        }
    }
    let guard = Guard::new(GuardOptions::new(ISSUER), Arc::new(Refusing)).expect("guard");
    let setup = setup(|_| {}).await;
    let error = guard.verify(&setup.token).await.expect_err("no JWKS");
    assert_eq!(error.code(), "jwks_fetch_failed");
    assert_eq!(error.status(), 401);
}

#[tokio::test]
async fn local_verification_needs_a_cached_jwks() {
    let storage = Arc::new(MemoryStorage::new());
    let provider = Provider::new(ProviderOptions::new(ISSUER), storage.clone()).expect("provider");
    let created = provider.create_client("a", &[]).await.expect("create");
    let token = access_token(&request_token(&provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials").await);
    let mut options = GuardOptions::new(ISSUER);
    options.storage = Some(storage.clone());
    let guard = Guard::new(options, ProviderTransport::new(provider.clone())).expect("guard");

    assert!(guard.verify_local(&token).is_none(), "no JWKS cached yet");
    assert_eq!(
        guard.verify_local("").expect("decided locally").expect_err("empty").code(),
        "missing_token"
    );
    guard.verify(&token).await.expect("valid");
    let identity = guard.verify_local(&token).expect("decided locally").expect("valid");
    assert_eq!(identity.client_id, created.client_id);

    let jti = decode_part(&token, 1)["jti"].as_str().expect("jti").to_owned();
    provider.revoke_token(&jti, Timestamp::now().plus_seconds(60)).await.expect("revoke");
    let error = guard.verify_local(&token).expect("decided locally").expect_err("revoked");
    assert_eq!(error.code(), "invalid_token");

    let forged = sign_with_foreign_key("unknown-kid", &claims_of(&token));
    assert!(guard.verify_local(&forged).is_none(), "an unknown kid needs a refetch");
}

#[tokio::test]
async fn cached_tokens_still_see_revocation_and_disable() {
    for backend in backends().await {
        let provider = Provider::new(ProviderOptions::new(ISSUER), backend.storage.clone()).expect("provider");
        let created = provider.create_client("a", &[]).await.expect("create");
        let issue = || async {
            access_token(&request_token(&provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials").await)
        };
        let (first, second) = (issue().await, issue().await);
        let mut options = GuardOptions::new(ISSUER);
        options.storage = Some(backend.storage.clone());
        let guard = Guard::new(options, ProviderTransport::new(provider.clone())).expect("guard");

        // A token is cached from its second verification.
        for token in [&first, &first, &second, &second] {
            guard.verify(token).await.expect("valid");
        }
        assert!(guard.verify_cached(&first).expect("cached").is_ok(), "{}", backend.name);

        let jti = decode_part(&first, 1)["jti"].as_str().expect("jti").to_owned();
        provider.revoke_token(&jti, Timestamp::now().plus_seconds(60)).await.expect("revoke");
        let revoked = guard.verify_cached(&first).expect("decided from the cache");
        assert_eq!(revoked.expect_err("revoked").code(), "invalid_token", "{}", backend.name);
        assert!(guard.verify_cached(&first).is_none(), "{}: a rejected token leaves the cache", backend.name);
        assert_eq!(guard.verify(&first).await.expect_err("revoked").code(), "invalid_token");

        guard.verify_cached(&second).expect("cached").expect("still valid");
        provider.disable_client(&created.client_id).await.expect("disable");
        let disabled = guard.verify_cached(&second).expect("decided from the cache");
        assert_eq!(disabled.expect_err("disabled").code(), "invalid_token", "{}", backend.name);
    }
}

#[tokio::test]
async fn cached_tokens_see_writes_from_another_connection() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("shared.sqlite");
    let open = || {
        let executor = trustline::storage::SqliteExecutor::open(&path).expect("open");
        let storage = trustline::storage::SqlStorage::new(Arc::new(executor), trustline::storage::SqlTables::default()).expect("storage");
        Arc::new(storage) as Arc<dyn trustline::storage::Storage>
    };
    let (provider_storage, guard_storage) = (open(), open());
    let provider = Provider::new(ProviderOptions::new(ISSUER), provider_storage).expect("provider");
    let created = provider.create_client("a", &[]).await.expect("create");
    let token = access_token(&request_token(&provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials").await);
    let mut options = GuardOptions::new(ISSUER);
    options.storage = Some(guard_storage);
    let guard = Guard::new(options, ProviderTransport::new(provider.clone())).expect("guard");

    guard.verify(&token).await.expect("valid");
    assert!(guard.verify_cached(&token).is_none(), "cached from the second verification");
    guard.verify(&token).await.expect("valid");
    guard.verify_cached(&token).expect("cached").expect("valid");
    provider.invalidate_tokens_before(&created.client_id, Some(Timestamp::now().plus_seconds(1))).await.expect("cutoff");
    let error = guard.verify_cached(&token).expect("decided from the cache").expect_err("cut off");
    assert_eq!(error.code(), "invalid_token");
}

#[tokio::test]
async fn forged_tokens_in_cooldown_are_rejected_locally() {
    let setup = setup(|_| {}).await;
    setup.guard.verify(&setup.token).await.expect("valid");
    let claims = claims_of(&setup.token);
    let first = sign_with_foreign_key("forged-first", &claims);
    assert!(setup.guard.verify_local(&first).is_none(), "the first miss may refetch");
    assert!(setup.guard.verify(&first).await.is_err());

    let next = sign_with_foreign_key("forged-next", &claims);
    let local = setup.guard.verify_local(&next).expect("decided without I/O during the cooldown");
    assert_eq!(local.expect_err("forged").code(), "invalid_token");
    assert_eq!(setup.transport.count(), 2);
}
