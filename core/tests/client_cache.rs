//! The token client against a real provider: caching, single flight, errors, and
//! malformed cache entries.

mod common;

use std::sync::{Arc, Mutex};

use common::*;
use serde_json::{json, Value};
use trustline::client::{CachedToken, Client, ClientOptions, TokenCache};
use trustline::events::Event;
use trustline::provider::{Provider, ProviderOptions};
use trustline::secret::ClientSecret;
use trustline::storage::MemoryStorage;

async fn provider_with_client(events: Option<Arc<Mutex<Vec<Event>>>>) -> (Provider, String, ClientSecret) {
    let mut options = ProviderOptions::new(ISSUER);
    if let Some(events) = events {
        options.on_event = Some(Arc::new(move |event| events.lock().unwrap().push(event)));
    }
    let provider = Provider::new(options, Arc::new(MemoryStorage::new())).expect("provider");
    let created = provider.create_client("caller", &["a".into(), "b".into()]).await.expect("create");
    (provider, created.client_id, created.client_secret)
}

fn client_options(client_id: &str, secret: &ClientSecret) -> ClientOptions {
    ClientOptions {
        token_url: format!("{ISSUER}/token"),
        client_id: client_id.to_owned(),
        client_secret: secret.clone(),
        audience: Some("api".into()),
        scope: vec!["a".into()],
        refresh_skew_seconds: 30,
    }
}

#[tokio::test]
async fn token_is_cached_and_shared() {
    let (provider, client_id, secret) = provider_with_client(None).await;
    let transport = ProviderTransport::new(provider);
    let client = Client::new(client_options(&client_id, &secret), transport.clone(), None).expect("client");

    let mut tasks = Vec::new();
    for _ in 0..10 {
        let client = client.clone();
        tasks.push(tokio::spawn(async move { client.get_token().await }));
    }
    let mut tokens = Vec::new();
    for task in tasks {
        tokens.push(task.await.expect("join").expect("token"));
    }
    assert!(tokens.windows(2).all(|pair| pair[0] == pair[1]));
    assert_eq!(transport.count(), 1);

    let claims = decode_part(&tokens[0], 1);
    assert_eq!(claims["aud"], "api");
    assert_eq!(claims["scope"], "a");
    client.get_token().await.expect("cached");
    assert_eq!(transport.count(), 1);
}

#[tokio::test]
async fn failed_request_carries_status_and_code() {
    let (provider, client_id, _) = provider_with_client(None).await;
    let client = Client::new(
        client_options(&client_id, &ClientSecret::new("wrong")),
        ProviderTransport::new(provider),
        None,
    )
    .expect("client");
    let error = client.get_token().await.expect_err("wrong secret");
    assert_eq!(error.code(), "invalid_client");
    assert_eq!(error.status(), 401);
}

#[derive(Default)]
struct RecordingCache {
    entry: Mutex<Option<Value>>,
    deletes: Mutex<usize>,
}

#[async_trait::async_trait]
impl TokenCache for RecordingCache {
    async fn get(&self, _: &str) -> trustline::Result<Option<Value>> {
        Ok(self.entry.lock().unwrap().clone())
    }
    async fn set(&self, _: &str, entry: &CachedToken) -> trustline::Result<()> {
        *self.entry.lock().unwrap() = Some(serde_json::to_value(entry).unwrap());
        Ok(())
    }
    async fn delete(&self, _: &str) -> trustline::Result<()> {
        *self.deletes.lock().unwrap() += 1;
        *self.entry.lock().unwrap() = None;
        Ok(())
    }
}

#[tokio::test]
async fn malformed_cache_entry_is_deleted_and_refetched() {
    let (provider, client_id, secret) = provider_with_client(None).await;
    let transport = ProviderTransport::new(provider);
    let cache = Arc::new(RecordingCache::default());
    *cache.entry.lock().unwrap() = Some(json!({ "token": 42 }));
    let client = Client::new(client_options(&client_id, &secret), transport.clone(), Some(cache.clone())).expect("client");

    let token = client.get_token().await.expect("token");
    assert_eq!(*cache.deletes.lock().unwrap(), 1);
    assert_eq!(transport.count(), 1);
    let stored = cache.entry.lock().unwrap().clone().expect("stored");
    assert_eq!(stored["token"], token.as_str());
    let refresh_at = stored["refreshAt"].as_i64().expect("refreshAt");
    let expected = trustline::Timestamp::now().as_millis() + 270_000;
    assert!((refresh_at - expected).abs() < 5_000, "refreshAt is exp minus the 30 s skew");
}

#[tokio::test]
async fn secrets_and_tokens_stay_out_of_debug_and_events() {
    let events = Arc::new(Mutex::new(Vec::new()));
    let (provider, client_id, secret) = provider_with_client(Some(events.clone())).await;
    let client = Client::new(client_options(&client_id, &secret), ProviderTransport::new(provider.clone()), None).expect("client");
    let token = client.get_token().await.expect("token");
    let failing = Client::new(
        client_options(&client_id, &ClientSecret::new("wrong-secret-value")),
        ProviderTransport::new(provider.clone()),
        None,
    )
    .expect("client");
    let error = failing.get_token().await.expect_err("wrong");

    let text = format!(
        "{client:?} {provider:?} {error:?} {error} {:?} {:?}",
        client_options(&client_id, &secret),
        events.lock().unwrap(),
    );
    let events_json = serde_json::to_string(&*events.lock().unwrap()).unwrap();
    for leaked in [secret.expose(), token.as_str(), "wrong-secret-value"] {
        assert!(!text.contains(leaked), "Debug output contains a secret or token");
        assert!(!events_json.contains(leaked), "events contain a secret or token");
    }
    let types: Vec<&str> = events.lock().unwrap().iter().map(|event| event.event_type).collect();
    assert!(types.contains(&"token.issued") && types.contains(&"token.issuance_failed"), "{types:?}");
}
