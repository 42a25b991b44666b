//! Raw signing and verification rates of the crypto the core uses, measured in a Rust
//! loop with no JavaScript in between. The benchmark suite compares the package's
//! issuance and verification rates with these, in the same process and run. Not part
//! of the public API.

use std::time::Instant;

use napi_derive::napi;

use crate::errors::IntoNapi;
use trustline::crypto::{Algorithm, SigningKeyPair, VerifyingKey};

/// A JWS signing input of the size of a typical access token (about 400 bytes).
fn signing_input() -> Vec<u8> {
    let mut input = b"eyJhbGciOiJFUzI1NiIsImtpZCI6ImtleV8wMWEyNDJiNyIsInR5cCI6ImF0K2p3dCJ9.".to_vec();
    input.resize(400, b'A');
    input
}

/// Signs `iterations` times and returns the nanoseconds per signature.
#[napi]
pub fn benchmark_raw_sign(algorithm: String, iterations: u32) -> napi::Result<f64> {
    let algorithm = Algorithm::parse(&algorithm).into_napi()?;
    let key = SigningKeyPair::generate(algorithm, "benchmark".into()).into_napi()?;
    let input = signing_input();

    let started = Instant::now();
    for _ in 0..iterations {
        std::hint::black_box(key.sign(std::hint::black_box(&input)).into_napi()?);
    }
    Ok(started.elapsed().as_nanos() as f64 / f64::from(iterations.max(1)))
}

/// How many distinct messages the raw verification rate cycles through. A guard gets
/// a new token each time, and ECDSA verification of public data takes branches that
/// depend on it: on this project's 2-core test machine, verifying one ES256 signature
/// over and over ran about 5% faster than verifying distinct ones.
const DISTINCT_MESSAGES: usize = 1024;

/// Raw verifications with one key, parsed once, over `DISTINCT_MESSAGES` signed
/// messages. `run` continues through the messages where the last call stopped, so that
/// the benchmark can take turns between it and the libraries it compares.
#[napi]
pub struct BenchmarkVerifier {
    key: VerifyingKey,
    signed: Vec<(Vec<u8>, Vec<u8>)>,
    next: usize,
}

#[napi]
impl BenchmarkVerifier {
    #[napi(constructor)]
    pub fn new(algorithm: String) -> napi::Result<Self> {
        let algorithm = Algorithm::parse(&algorithm).into_napi()?;
        let key = SigningKeyPair::generate(algorithm, "benchmark".into()).into_napi()?;
        let jwk = serde_json::to_value(key.jwk()).unwrap_or_default();
        let verifying = VerifyingKey::from_jwk(&jwk)
            .ok_or_else(|| crate::errors::invalid_argument("the benchmark key did not parse as a JWK"))?;
        let signed = (0..DISTINCT_MESSAGES)
            .map(|index| {
                let mut input = signing_input();
                input.extend_from_slice(index.to_string().as_bytes());
                let signature = key.sign(&input).into_napi()?;
                Ok((input, signature))
            })
            .collect::<napi::Result<_>>()?;
        Ok(Self { key: verifying, signed, next: 0 })
    }

    /// Verifies `iterations` signatures and returns the nanoseconds per verification.
    #[napi]
    pub fn run(&mut self, iterations: u32) -> f64 {
        let started = Instant::now();
        for _ in 0..iterations {
            let (input, signature) = &self.signed[self.next];
            std::hint::black_box(self.key.verify(std::hint::black_box(input), signature));
            self.next = (self.next + 1) % self.signed.len();
        }
        started.elapsed().as_nanos() as f64 / f64::from(iterations.max(1))
    }
}
