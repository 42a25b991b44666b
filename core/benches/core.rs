//! Criterion benchmarks of the core operations: signing, token issuance through the
//! HTTP handler, and verification of new and already verified tokens.
//!
//! Run with `cargo bench -p trustline --bench core`.

use std::sync::Arc;

use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::FutureExt;
use trustline::crypto::{Algorithm, SigningKeyPair};
use trustline::guard::{Guard, GuardOptions};
use trustline::http::{HttpRequest, HttpResponse, HttpTransport};
use trustline::provider::{Provider, ProviderOptions};
use trustline::storage::MemoryStorage;

const ISSUER: &str = "https://auth.bench.internal";

struct InProcess(Provider);

#[async_trait]
impl HttpTransport for InProcess {
    async fn send(&self, request: HttpRequest) -> trustline::Result<HttpResponse> {
        Ok(self.0.handle(&request).await)
    }
}

fn block<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime")
        .block_on(future)
}

fn token_request(client_id: &str, secret: &str) -> HttpRequest {
    HttpRequest {
        method: "POST".into(),
        url: format!("{ISSUER}/token"),
        headers: vec![
            ("authorization".into(), format!("Basic {}", STANDARD.encode(format!("{client_id}:{secret}")))),
            ("content-type".into(), "application/x-www-form-urlencoded".into()),
        ],
        body: b"grant_type=client_credentials".to_vec(),
    }
}

fn benchmarks(criterion: &mut Criterion) {
    for algorithm in [Algorithm::Es256, Algorithm::Rs256] {
        let key = SigningKeyPair::generate(algorithm, "bench".into()).expect("key");
        let input = vec![b'A'; 400];
        criterion.bench_function(&format!("sign {algorithm}"), |bench| bench.iter(|| key.sign(&input).expect("sign")));

        let mut options = ProviderOptions::new(ISSUER);
        options.signing.algorithm = Some(algorithm);
        let provider = Provider::new(options, Arc::new(MemoryStorage::new())).expect("provider");
        let created = block(provider.create_client("bench", &["read".into()])).expect("client");
        let request = token_request(&created.client_id, created.client_secret.expose());
        let response = block(provider.handle(&request));
        assert_eq!(response.status, 200);
        criterion.bench_function(&format!("issue token {algorithm} (memory storage)"), |bench| {
            bench.iter(|| provider.handle(&request).now_or_never().expect("memory storage is ready at once"))
        });

        // More distinct tokens than the guard keeps, so that cycling through them
        // measures full verifications, not cache hits.
        let tokens: Vec<String> = (0..2 * trustline::guard::VERIFIED_CACHE_CAPACITY)
            .map(|_| {
                let response = provider.handle(&request).now_or_never().expect("ready");
                serde_json::from_str::<serde_json::Value>(&response.body).expect("json")["access_token"]
                    .as_str()
                    .expect("token")
                    .to_owned()
            })
            .collect();
        let guard = Guard::new(GuardOptions::new(ISSUER), Arc::new(InProcess(provider.clone()))).expect("guard");
        block(guard.verify(&tokens[0])).expect("valid");
        let mut next = 0;
        criterion.bench_function(&format!("verify {algorithm}, new token (cached JWKS)"), |bench| {
            bench.iter(|| {
                next = (next + 1) % tokens.len();
                guard.verify_local(&tokens[next]).expect("local").expect("valid")
            })
        });
        // A token is cached from its second verification.
        for _ in 0..2 {
            guard.verify_local(&tokens[0]).expect("local").expect("valid");
        }
        criterion.bench_function(&format!("verify {algorithm}, token seen before"), |bench| {
            bench.iter(|| guard.verify_cached(&tokens[0]).expect("cached").expect("valid"))
        });
    }
}

criterion_group!(core, benchmarks);
criterion_main!(core);
