//! Trustline: machine-to-machine authentication for internal services.
//!
//! - [`provider::Provider`] issues access tokens with the OAuth 2.0 client credentials
//!   grant and publishes its keys as a JWKS.
//! - [`guard::Guard`] verifies those tokens locally.
//! - [`client::Client`] fetches and caches tokens for outgoing calls.
//! - [`storage`] keeps clients, signing keys and revoked token ids.

pub mod client;
pub mod crypto;
pub mod error;
pub mod events;
pub mod guard;
pub mod http;
#[cfg(feature = "http-client")]
pub mod http_client;
pub mod jwt;
pub mod provider;
pub mod secret;
pub mod storage;
pub mod time;

pub use error::{Error, ErrorKind, OAuthErrorCode, Result};
pub use time::Timestamp;
