//! The provider's token endpoint, JWKS and admin calls, checked through a guard, on
//! memory and SQLite storage.

mod common;

use std::sync::Arc;

use common::*;
use trustline::guard::{Guard, GuardOptions};
use trustline::crypto::Algorithm;
use trustline::provider::{LocalSigning, Provider, ProviderOptions, RotateKeyInput, RotateSecretInput};
use trustline::Timestamp;

fn provider_on(storage: Arc<dyn trustline::storage::Storage>) -> Provider {
    let mut options = ProviderOptions::new(ISSUER);
    options.env = Some("test".into());
    Provider::new(options, storage).expect("provider")
}

fn guard_for(provider: &Provider, configure: impl FnOnce(&mut GuardOptions)) -> Guard {
    let mut options = GuardOptions::new(ISSUER);
    configure(&mut options);
    Guard::new(options, ProviderTransport::new(provider.clone())).expect("guard")
}

#[tokio::test]
async fn token_issued_and_verified_on_each_backend() {
    for backend in backends().await {
        let provider = provider_on(backend.storage.clone());
        let created = provider
            .create_client("orders", &["read:orders".into(), "write:orders".into()])
            .await
            .expect("create");

        let response = request_token(&provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials&audience=inventory").await;
        assert_eq!(response.header("cache-control"), Some("no-store"), "{}", backend.name);
        let body = json(&response);
        assert_eq!(body["token_type"], "Bearer");
        assert_eq!(body["expires_in"], 300);
        assert_eq!(body["scope"], "read:orders write:orders");

        let token = access_token(&response);
        let header = decode_part(&token, 0);
        assert_eq!(header["alg"], "ES256");
        assert!(header["kid"].as_str().is_some());

        let guard = guard_for(&provider, |options| {
            options.audience = vec!["inventory".into()];
            options.scopes = vec!["read:orders".into()];
            options.env = Some("test".into());
            options.storage = Some(backend.storage.clone());
        });
        let identity = guard.verify(&token).await.expect(backend.name);
        assert_eq!(identity.client_id, created.client_id);
        assert_eq!(identity.name.as_deref(), Some("orders"));
        assert_eq!(identity.env.as_deref(), Some("test"));
        assert_eq!(identity.raw["exp"].as_i64().unwrap() - identity.raw["iat"].as_i64().unwrap(), 300);
    }
}

#[tokio::test]
async fn scope_narrowing_and_invalid_scope() {
    for backend in backends().await {
        let provider = provider_on(backend.storage.clone());
        let created = provider.create_client("a", &["one".into(), "two".into()]).await.expect("create");
        let secret = created.client_secret.expose();

        let narrowed = request_token(&provider, &created.client_id, secret, "grant_type=client_credentials&scope=two").await;
        assert_eq!(json(&narrowed)["scope"], "two", "{}", backend.name);

        let rejected = request_token(&provider, &created.client_id, secret, "grant_type=client_credentials&scope=three").await;
        assert_eq!(rejected.status, 400);
        assert_eq!(json(&rejected)["error"], "invalid_scope");
    }
}

#[tokio::test]
async fn wrong_secret_and_disabled_client_are_invalid_client() {
    for backend in backends().await {
        let provider = provider_on(backend.storage.clone());
        let created = provider.create_client("a", &[]).await.expect("create");

        let wrong = request_token(&provider, &created.client_id, "nope", "grant_type=client_credentials").await;
        assert_eq!(wrong.status, 401, "{}", backend.name);
        assert_eq!(json(&wrong)["error"], "invalid_client");
        assert!(wrong.header("www-authenticate").is_some_and(|value| value.starts_with("Basic")));

        provider.disable_client(&created.client_id).await.expect("disable");
        let disabled = request_token(&provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials").await;
        assert_eq!(disabled.status, 401);

        provider.enable_client(&created.client_id).await.expect("enable");
        let enabled = request_token(&provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials").await;
        assert_eq!(enabled.status, 200);
    }
}

#[tokio::test]
async fn secret_rotation_overlap_and_immediate() {
    for backend in backends().await {
        let provider = provider_on(backend.storage.clone());
        let created = provider.create_client("a", &[]).await.expect("create");
        let old = created.client_secret.expose().to_owned();

        let rotated = provider
            .rotate_secret(&created.client_id, RotateSecretInput::default())
            .await
            .expect("rotate");
        assert!(rotated.expires_at.is_some());
        let client = provider.get_client(&created.client_id).await.expect("get").expect("exists");
        assert!(client.has_pending_secret_rotation, "{}", backend.name);
        for secret in [old.as_str(), rotated.client_secret.expose()] {
            let response = request_token(&provider, &created.client_id, secret, "grant_type=client_credentials").await;
            assert_eq!(response.status, 200, "{}", backend.name);
        }

        let immediate = provider
            .rotate_secret(
                &created.client_id,
                RotateSecretInput {
                    overlap_seconds: Some(0),
                    ..RotateSecretInput::default()
                },
            )
            .await
            .expect("rotate now");
        assert!(immediate.expires_at.is_none());
        let old_response = request_token(&provider, &created.client_id, &old, "grant_type=client_credentials").await;
        assert_eq!(old_response.status, 401, "{}", backend.name);
        let new_response =
            request_token(&provider, &created.client_id, immediate.client_secret.expose(), "grant_type=client_credentials").await;
        assert_eq!(new_response.status, 200);

        let past = provider
            .rotate_secret(
                &created.client_id,
                RotateSecretInput {
                    expires_at: Some(Timestamp::now().plus_seconds(-10)),
                    ..RotateSecretInput::default()
                },
            )
            .await
            .expect_err("past expiry");
        assert_eq!(past.code(), "invalid_argument");
    }
}

#[tokio::test]
async fn pending_secret_promoted_when_overlap_ends() {
    for backend in backends().await {
        let provider = provider_on(backend.storage.clone());
        let created = provider.create_client("a", &[]).await.expect("create");
        let rotated = provider
            .rotate_secret(
                &created.client_id,
                RotateSecretInput {
                    expires_at: Some(Timestamp::now().plus_seconds(1)),
                    ..RotateSecretInput::default()
                },
            )
            .await
            .expect("rotate");
        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;

        let old = request_token(&provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials").await;
        assert_eq!(old.status, 401, "{}", backend.name);
        let new = request_token(&provider, &created.client_id, rotated.client_secret.expose(), "grant_type=client_credentials").await;
        assert_eq!(new.status, 200, "{}", backend.name);
        let client = provider.get_client(&created.client_id).await.expect("get").expect("exists");
        assert!(!client.has_pending_secret_rotation);
    }
}

#[tokio::test]
async fn key_rotation_keeps_old_key_during_overlap() {
    for backend in backends().await {
        let provider = provider_on(backend.storage.clone());
        let created = provider.create_client("a", &[]).await.expect("create");
        let secret = created.client_secret.expose();
        let before = access_token(&request_token(&provider, &created.client_id, secret, "grant_type=client_credentials").await);
        let old_kid = decode_part(&before, 0)["kid"].as_str().unwrap().to_owned();

        let new_kid = provider
            .rotate_key(RotateKeyInput {
                overlap_seconds: Some(1),
                ..RotateKeyInput::default()
            })
            .await
            .expect("rotate");
        let after = access_token(&request_token(&provider, &created.client_id, secret, "grant_type=client_credentials").await);
        assert_eq!(decode_part(&after, 0)["kid"], new_kid.as_str(), "{}", backend.name);

        let kids = |document: serde_json::Value| -> Vec<String> {
            document["keys"].as_array().unwrap().iter().map(|key| key["kid"].as_str().unwrap().to_owned()).collect()
        };
        let during = kids(provider.jwks().await.expect("jwks"));
        assert!(during.contains(&old_kid), "{}: the old key is listed during the overlap", backend.name);
        assert!(during.contains(&new_kid), "{}: the new key is listed", backend.name);

        tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
        let later = kids(provider.jwks().await.expect("jwks"));
        assert_eq!(later, vec![new_kid.clone()], "{}", backend.name);
    }
}

#[tokio::test]
async fn revocation_disable_and_cutoff_reject_tokens() {
    for backend in backends().await {
        let provider = provider_on(backend.storage.clone());
        let created = provider.create_client("a", &[]).await.expect("create");
        let secret = created.client_secret.expose();
        let guard = guard_for(&provider, |options| options.storage = Some(backend.storage.clone()));
        let issue = || async { access_token(&request_token(&provider, &created.client_id, secret, "grant_type=client_credentials").await) };

        let revoked = issue().await;
        let jti = decode_part(&revoked, 1)["jti"].as_str().unwrap().to_owned();
        provider.revoke_token(&jti, Timestamp::now().plus_seconds(300)).await.expect("revoke");
        provider.revoke_token(&jti, Timestamp::now().plus_seconds(300)).await.expect("revoke twice");
        assert_eq!(guard.verify(&revoked).await.expect_err("revoked").code(), "invalid_token", "{}", backend.name);

        let before_cutoff = issue().await;
        provider.invalidate_tokens_before(&created.client_id, None).await.expect("cutoff");
        assert_eq!(guard.verify(&before_cutoff).await.expect_err("cut off").code(), "invalid_token");
        let after_cutoff = issue().await;
        guard.verify(&after_cutoff).await.expect("issued after the cutoff");

        provider.clear_tokens_invalid_before(&created.client_id).await.expect("clear");
        guard.verify(&before_cutoff).await.expect("cutoff cleared");

        provider.disable_client(&created.client_id).await.expect("disable");
        assert_eq!(guard.verify(&after_cutoff).await.expect_err("disabled").code(), "invalid_token");

        provider.revoke_client(&created.client_id).await.expect("delete");
        assert!(provider.get_client(&created.client_id).await.expect("get").is_none());
        assert_eq!(guard.verify(&after_cutoff).await.expect_err("deleted").code(), "invalid_token");
    }
}

#[tokio::test]
async fn admin_calls_reject_unknown_client_ids() {
    let provider = provider_on(Arc::new(trustline::storage::MemoryStorage::new()));
    let error = provider.rename_client("svc_missing", "x").await.expect_err("unknown");
    assert_eq!(error.code(), "client_not_found");
    assert!(error.message().contains("svc_missing"));
    assert!(provider.disable_client("svc_missing").await.is_err());
    assert!(provider.rotate_secret("svc_missing", RotateSecretInput::default()).await.is_err());
}

#[tokio::test]
async fn token_endpoint_rejects_malformed_requests() {
    let provider = provider_on(Arc::new(trustline::storage::MemoryStorage::new()));
    let created = provider.create_client("a", &[]).await.expect("create");
    let url = format!("{ISSUER}/token");
    let authorization = basic(&created.client_id, created.client_secret.expose());
    let both_body = format!(
        "grant_type=client_credentials&client_id={}&client_secret={}",
        created.client_id,
        created.client_secret.expose()
    );

    let cases: Vec<(&str, trustline::http::HttpRequest, u16, &str)> = vec![
        ("missing grant_type", form_request(&url, &[("authorization", &authorization)], ""), 400, "invalid_request"),
        (
            "unsupported grant",
            form_request(&url, &[("authorization", &authorization)], "grant_type=password"),
            400,
            "unsupported_grant_type",
        ),
        (
            "repeated parameter",
            form_request(&url, &[("authorization", &authorization)], "grant_type=client_credentials&grant_type=client_credentials"),
            400,
            "invalid_request",
        ),
        ("both methods", form_request(&url, &[("authorization", &authorization)], &both_body), 400, "invalid_request"),
        ("no credentials", form_request(&url, &[], "grant_type=client_credentials"), 401, "invalid_client"),
        (
            "json body",
            trustline::http::HttpRequest {
                method: "POST".into(),
                url: url.clone(),
                headers: vec![("content-type".into(), "application/json".into())],
                body: b"{}".to_vec(),
            },
            400,
            "invalid_request",
        ),
    ];
    for (name, request, status, code) in cases {
        let response = provider.handle(&request).await;
        assert_eq!(response.status, status, "{name}: {}", response.body);
        assert_eq!(json(&response)["error"], code, "{name}");
    }

    let post = provider
        .handle(&form_request(&url, &[], &both_body))
        .await;
    assert_eq!(post.status, 200, "client_secret_post: {}", post.body);
}

#[tokio::test]
async fn routes_follow_the_issuer_path() {
    let mut options = ProviderOptions::new("https://auth.internal/auth/");
    options.token_ttl = 60;
    let provider = Provider::new(options, Arc::new(trustline::storage::MemoryStorage::new())).expect("provider");
    let get = |path: &str| trustline::http::HttpRequest {
        method: "GET".into(),
        url: format!("https://auth.internal{path}"),
        ..Default::default()
    };

    let jwks = provider.handle(&get("/auth/.well-known/jwks.json")).await;
    assert_eq!(jwks.status, 200);
    assert_eq!(jwks.header("cache-control"), Some("public, max-age=600"));
    for path in ["/.well-known/jwks.json", "/token", "/other/token", "/auth/token/x", "/authtoken"] {
        let response = provider.handle(&get(path)).await;
        assert_eq!(response.status, 404, "{path}");
        assert_eq!(json(&response)["error"], "not_found");
    }
}

#[tokio::test]
async fn form_encoded_basic_credentials_are_decoded() {
    let provider = provider_on(Arc::new(trustline::storage::MemoryStorage::new()));
    let created = provider.create_client("a", &[]).await.expect("create");
    // RFC 6749 §2.3.1: id and secret are form-urlencoded before base64; "-" and "_"
    // stay as they are, so encode every byte to exercise the decoder.
    let encode_all = |text: &str| text.bytes().map(|byte| format!("%{byte:02X}")).collect::<String>();
    let authorization = basic(&encode_all(&created.client_id), &encode_all(created.client_secret.expose()));
    let request = form_request(&format!("{ISSUER}/token"), &[("authorization", &authorization)], "grant_type=client_credentials");
    assert_eq!(provider.handle(&request).await.status, 200);
}

#[tokio::test]
async fn rs256_and_imported_keys_sign_tokens() {
    let key = trustline::crypto::SigningKeyPair::generate(trustline::crypto::Algorithm::Rs256, "unused".into()).expect("key");
    let mut options = ProviderOptions::new(ISSUER);
    options.signing.private_key = Some(key.private_key_pem().to_owned());
    options.signing.key_id = Some("imported-1".into());
    let provider = Provider::new(options, Arc::new(trustline::storage::MemoryStorage::new())).expect("provider");
    let created = provider.create_client("a", &[]).await.expect("create");

    let token = access_token(&request_token(&provider, &created.client_id, created.client_secret.expose(), "grant_type=client_credentials").await);
    let header = decode_part(&token, 0);
    assert_eq!(header["alg"], "RS256");
    assert_eq!(header["kid"], "imported-1");
    guard_for(&provider, |_| {}).verify(&token).await.expect("verifies");
}

#[tokio::test]
async fn handle_local_signs_rs256_only_when_allowed() {
    for algorithm in [Algorithm::Es256, Algorithm::Rs256] {
        let mut options = ProviderOptions::new(ISSUER);
        options.signing.algorithm = Some(algorithm);
        let provider = Provider::new(options, Arc::new(trustline::storage::MemoryStorage::new())).expect("provider");
        let created = provider.create_client("a", &[]).await.expect("create");
        let authorization = basic(&created.client_id, created.client_secret.expose());
        let request = form_request(
            &format!("{ISSUER}/token"),
            &[("authorization", authorization.as_str())],
            "grant_type=client_credentials",
        );

        // Nothing is cached until a request has created the key and another loaded it.
        assert!(provider.handle_local(&request, LocalSigning::Any).is_none(), "{algorithm}");
        for _ in 0..2 {
            assert_eq!(provider.handle(&request).await.status, 200);
        }

        let light = provider.handle_local(&request, LocalSigning::Es256Only);
        assert_eq!(light.is_some(), algorithm == Algorithm::Es256, "{algorithm}");

        let response = provider.handle_local(&request, LocalSigning::Any).expect("handled on the calling thread");
        let token = access_token(&response);
        assert_eq!(decode_part(&token, 0)["alg"], algorithm.as_str());
        guard_for(&provider, |_| {}).verify(&token).await.expect("verifies");
    }
}

#[tokio::test]
async fn instances_racing_on_empty_storage_converge_on_one_key() {
    let directory = tempfile::tempdir().expect("temporary directory");
    let path = directory.path().join("shared.sqlite");
    let open = || async {
        let executor = trustline::storage::SqliteExecutor::open(&path).expect("open");
        let storage = trustline::storage::SqlStorage::open(Arc::new(executor), trustline::storage::SqlTables::default())
            .await
            .expect("tables");
        provider_on(Arc::new(storage))
    };
    let (first, second) = (open().await, open().await);

    // The outcome of a race: each instance found no key and stored its own.
    for key_id in ["key_from_first", "key_from_second"] {
        let key = trustline::crypto::SigningKeyPair::generate(trustline::crypto::Algorithm::Es256, key_id.into()).expect("key");
        let now = Timestamp::now();
        let record = trustline::storage::SigningKeyRecord {
            key_id: key_id.into(),
            algorithm: "ES256".into(),
            private_key: key.private_key_pem().into(),
            public_key: key.public_key_pem().into(),
            created_at: now,
            not_before: now,
            not_after: None,
        };
        first.storage().add_signing_key(&record).await.expect("store key");
    }

    let created = first.create_client("a", &[]).await.expect("create");
    let secret = created.client_secret.expose();
    let kid_of = |provider: Provider| {
        let client_id = created.client_id.clone();
        async move {
            let token = access_token(&request_token(&provider, &client_id, secret, "grant_type=client_credentials").await);
            decode_part(&token, 0)["kid"].as_str().expect("kid").to_owned()
        }
    };
    let first_kid = kid_of(first.clone()).await;
    let second_kid = kid_of(second.clone()).await;
    assert_eq!(first_kid, second_kid, "both instances sign with the same key");

    let keys = first.storage().get_signing_keys().await.expect("keys");
    let open_ended: Vec<_> = keys.iter().filter(|key| key.not_after.is_none()).collect();
    assert_eq!(open_ended.len(), 1, "one key without an end date: {keys:?}");
}

#[tokio::test]
async fn conditional_secret_update_applies_once() {
    use trustline::storage::{ClientUpdate, SecretSlot};
    for backend in backends().await {
        let provider = provider_on(backend.storage.clone());
        let created = provider.create_client("a", &[]).await.expect("create");
        let stored = backend.storage.find_client(&created.client_id).await.expect("find").expect("exists");
        let update = ClientUpdate {
            current_secret_hash: Some("sha256:replaced".into()),
            ..ClientUpdate::default()
        };

        let applied = backend
            .storage
            .update_client_if_secret(&created.client_id, SecretSlot::Current, Some(&stored.current_secret_hash), &update)
            .await
            .expect("first");
        let again = backend
            .storage
            .update_client_if_secret(&created.client_id, SecretSlot::Current, Some(&stored.current_secret_hash), &update)
            .await
            .expect("second");
        assert!(applied, "{}", backend.name);
        assert!(!again, "{}: the hash changed, so the second update must not apply", backend.name);
        let pending = backend
            .storage
            .update_client_if_secret(&created.client_id, SecretSlot::Next, Some("sha256:none"), &update)
            .await
            .expect("next");
        assert!(!pending, "{}: no pending secret", backend.name);
    }
}
