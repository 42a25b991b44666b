//! Helpers shared by the integration tests: an in-process transport that sends
//! requests to a real `Provider::handle`, and storage backends to run each test on.

#![allow(dead_code)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine;
use serde_json::Value;
use trustline::http::{HttpRequest, HttpResponse, HttpTransport};
use trustline::provider::Provider;
use trustline::storage::{MemoryStorage, SqlStorage, SqlTables, SqliteExecutor, Storage};
use trustline::Result;

pub const ISSUER: &str = "https://auth.test.internal";

/// Routes outgoing requests to a provider in the same process and counts them.
pub struct ProviderTransport {
    pub provider: Provider,
    pub requests: AtomicUsize,
}

impl ProviderTransport {
    pub fn new(provider: Provider) -> Arc<Self> {
        Arc::new(Self {
            provider,
            requests: AtomicUsize::new(0),
        })
    }

    pub fn count(&self) -> usize {
        self.requests.load(Ordering::SeqCst)
    }
}

#[async_trait]
impl HttpTransport for ProviderTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        self.requests.fetch_add(1, Ordering::SeqCst);
        Ok(self.provider.handle(&request).await)
    }
}

/// A storage backend under test, with the temporary directory it lives in.
pub struct Backend {
    pub name: &'static str,
    pub storage: Arc<dyn Storage>,
    _directory: Option<tempfile::TempDir>,
}

pub async fn backends() -> Vec<Backend> {
    let directory = tempfile::tempdir().expect("temporary directory");
    let executor = SqliteExecutor::open(directory.path().join("trustline.sqlite")).expect("open sqlite");
    let sqlite = SqlStorage::open(Arc::new(executor), SqlTables::default())
        .await
        .expect("create tables");
    vec![
        Backend {
            name: "memory",
            storage: Arc::new(MemoryStorage::new()),
            _directory: None,
        },
        Backend {
            name: "sqlite",
            storage: Arc::new(sqlite),
            _directory: Some(directory),
        },
    ]
}

pub fn form_request(url: &str, headers: &[(&str, &str)], body: &str) -> HttpRequest {
    let mut all_headers = vec![("content-type".to_owned(), "application/x-www-form-urlencoded".to_owned())];
    all_headers.extend(headers.iter().map(|(name, value)| ((*name).to_owned(), (*value).to_owned())));
    HttpRequest {
        method: "POST".into(),
        url: url.into(),
        headers: all_headers,
        body: body.as_bytes().to_vec(),
    }
}

pub fn basic(client_id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")))
}

pub async fn request_token(provider: &Provider, client_id: &str, secret: &str, body: &str) -> HttpResponse {
    let authorization = basic(client_id, secret);
    let request = form_request(
        &format!("{}/token", provider.issuer()),
        &[("authorization", authorization.as_str())],
        body,
    );
    provider.handle(&request).await
}

pub fn json(response: &HttpResponse) -> Value {
    serde_json::from_str(&response.body).expect("JSON body")
}

pub fn access_token(response: &HttpResponse) -> String {
    assert_eq!(response.status, 200, "token response: {}", response.body);
    json(response)["access_token"].as_str().expect("access_token").to_owned()
}

pub fn decode_part(token: &str, index: usize) -> Value {
    let part = token.split('.').nth(index).expect("token part");
    serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).expect("base64url")).expect("JSON part")
}
