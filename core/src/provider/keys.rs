//! The provider's signing keys: loaded from storage once, parsed once, cached, and
//! created on first need.

use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::crypto::{Algorithm, SigningKeyPair};
use crate::error::{Error, Result};
use crate::storage::{SigningKeyRecord, Storage};
use crate::time::Timestamp;

use super::LocalSigning;

/// How long the cached key list is trusted before storage is read again. This bounds
/// how late a key rotated by another provider instance is used and published here.
pub const KEY_CACHE_TTL: Duration = Duration::from_secs(30);

/// Options for the keys the provider creates on first need.
#[derive(Clone, Default)]
pub struct SigningOptions {
    /// Algorithm of generated keys; default ES256.
    pub algorithm: Option<Algorithm>,
    /// A PKCS#8 PEM private key to import instead of generating one.
    pub private_key: Option<String>,
    /// The key id of that key; default `key_` followed by a UUIDv7.
    pub key_id: Option<String>,
}

impl std::fmt::Debug for SigningOptions {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("SigningOptions")
            .field("algorithm", &self.algorithm)
            .field("private_key", &self.private_key.as_ref().map(|_| "<redacted>"))
            .field("key_id", &self.key_id)
            .finish()
    }
}

/// A stored key with its parsed key pair.
pub(crate) struct LoadedKey {
    pub(crate) record: SigningKeyRecord,
    pub(crate) key_pair: Arc<SigningKeyPair>,
}

impl LoadedKey {
    fn signs_at(&self, now: Timestamp) -> bool {
        self.record.not_before <= now && self.verifies_at(now)
    }

    fn verifies_at(&self, now: Timestamp) -> bool {
        self.record.not_after.is_none_or(|not_after| not_after > now)
    }
}

struct KeySnapshot {
    keys: Vec<LoadedKey>,
    loaded_at: Instant,
}

pub(crate) struct KeyStore {
    storage: Arc<dyn Storage>,
    options: SigningOptions,
    /// How long a key retired after a creation race keeps verifying, in seconds.
    retire_overlap_seconds: i64,
    snapshot: RwLock<Option<Arc<KeySnapshot>>>,
    creation: tokio::sync::Mutex<()>,
}

pub(crate) fn new_key_id() -> String {
    format!("key_{}", uuid::Uuid::now_v7())
}

pub(crate) fn record_for(key_pair: &SigningKeyPair, not_before: Timestamp, now: Timestamp) -> SigningKeyRecord {
    SigningKeyRecord {
        key_id: key_pair.key_id().to_owned(),
        algorithm: key_pair.algorithm().as_str().to_owned(),
        private_key: key_pair.private_key_pem().to_owned(),
        public_key: key_pair.public_key_pem().to_owned(),
        created_at: now,
        not_before,
        not_after: None,
    }
}

impl KeyStore {
    pub(crate) fn new(storage: Arc<dyn Storage>, options: SigningOptions, retire_overlap_seconds: i64) -> Self {
        Self {
            storage,
            options,
            retire_overlap_seconds,
            snapshot: RwLock::new(None),
            creation: tokio::sync::Mutex::new(()),
        }
    }

    /// Forgets the cached keys, so that the next call reads storage.
    pub(crate) fn invalidate(&self) {
        *self.snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
    }

    fn cached(&self) -> Option<Arc<KeySnapshot>> {
        let snapshot = self.snapshot.read().unwrap_or_else(|poisoned| poisoned.into_inner());
        snapshot
            .as_ref()
            .filter(|snapshot| snapshot.loaded_at.elapsed() < KEY_CACHE_TTL)
            .cloned()
    }

    async fn load(&self) -> Result<Arc<KeySnapshot>> {
        if let Some(snapshot) = self.cached() {
            return Ok(snapshot);
        }

        let records = self.storage.get_signing_keys().await?;
        let mut keys = Vec::with_capacity(records.len());
        for record in records {
            match parse_record(&record) {
                Ok(key_pair) => keys.push(LoadedKey {
                    record,
                    key_pair: Arc::new(key_pair),
                }),
                Err(error) => {
                    tracing::warn!(key_id = %record.key_id, %error, "skipping a stored signing key that cannot be parsed");
                }
            }
        }

        self.retire_race_losers(&mut keys).await?;
        let snapshot = Arc::new(KeySnapshot {
            keys,
            loaded_at: Instant::now(),
        });
        *self.snapshot.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(snapshot.clone());
        Ok(snapshot)
    }

    /// Gives every signing key but the newest an end date, when more than one signs
    /// without one. That happens only when provider instances create their first key at
    /// the same time, and it makes them all converge on one key when they next read
    /// storage, within [`KEY_CACHE_TTL`]. The others keep verifying for the overlap.
    async fn retire_race_losers(&self, keys: &mut [LoadedKey]) -> Result<()> {
        let now = Timestamp::now();
        let Some(winner) = select_signing_key_id(keys, now) else {
            return Ok(());
        };
        let retire_at = now.plus_seconds(self.retire_overlap_seconds);
        for key in keys.iter_mut() {
            let open_ended = key.record.not_after.is_none() && key.record.not_before <= now;
            if open_ended && key.record.key_id != winner {
                tracing::info!(key_id = %key.record.key_id, winner = %winner, "retiring a signing key created concurrently with another");
                self.storage.set_signing_key_not_after(&key.record.key_id, Some(retire_at)).await?;
                key.record.not_after = Some(retire_at);
            }
        }
        Ok(())
    }

    /// Returns whether the cached key that signs now may sign on the caller's thread:
    /// `false` when nothing is cached yet, so that the first request, which may
    /// generate a key, runs off the caller's thread.
    pub(crate) fn cached_signing_allows(&self, signing: LocalSigning) -> bool {
        self.cached()
            .and_then(|snapshot| select_signing_key(&snapshot.keys, Timestamp::now()))
            .is_some_and(|key| signing == LocalSigning::Any || key.algorithm() == Algorithm::Es256)
    }

    /// Returns the key that signs now: the newest whose `not_before` has passed and whose
    /// `not_after` has not. Creates one from the signing options when there is none.
    pub(crate) async fn signing_key(&self) -> Result<Arc<SigningKeyPair>> {
        let now = Timestamp::now();
        if let Some(key) = select_signing_key(&self.load().await?.keys, now) {
            return Ok(key);
        }

        let _creating = self.creation.lock().await;
        self.invalidate();
        if let Some(key) = select_signing_key(&self.load().await?.keys, now) {
            return Ok(key);
        }
        self.create_initial_key(now).await
    }

    async fn create_initial_key(&self, now: Timestamp) -> Result<Arc<SigningKeyPair>> {
        let key_id = self.options.key_id.clone().unwrap_or_else(new_key_id);
        let key_pair = match &self.options.private_key {
            Some(pem) => SigningKeyPair::from_pem(self.options.algorithm, pem, key_id)?,
            None => SigningKeyPair::generate(self.options.algorithm.unwrap_or(Algorithm::Es256), key_id)?,
        };
        self.storage.add_signing_key(&record_for(&key_pair, now, now)).await?;
        self.invalidate();
        Ok(Arc::new(key_pair))
    }

    /// Returns the JWKS document: every key that still verifies, including keys whose
    /// `not_before` is in the future, so that guards know them before they sign.
    pub(crate) async fn jwks(&self) -> Result<Value> {
        self.signing_key().await?;
        let now = Timestamp::now();
        let snapshot = self.load().await?;
        let keys: Vec<Value> = snapshot
            .keys
            .iter()
            .filter(|key| key.verifies_at(now))
            .map(|key| serde_json::to_value(key.key_pair.jwk()).unwrap_or(Value::Null))
            .collect();
        Ok(json!({ "keys": keys }))
    }

    /// Lists the stored keys that still verify or sign later.
    pub(crate) async fn current_records(&self) -> Result<Vec<SigningKeyRecord>> {
        self.invalidate();
        let now = Timestamp::now();
        Ok(self
            .load()
            .await?
            .keys
            .iter()
            .filter(|key| key.verifies_at(now))
            .map(|key| key.record.clone())
            .collect())
    }
}

/// The newest key that signs now; ties are broken by key id so that every instance
/// picks the same one.
fn newest_signing_key(keys: &[LoadedKey], now: Timestamp) -> Option<&LoadedKey> {
    keys.iter()
        .filter(|key| key.signs_at(now))
        .max_by(|a, b| {
            (a.record.not_before, a.record.created_at, &a.record.key_id)
                .cmp(&(b.record.not_before, b.record.created_at, &b.record.key_id))
        })
}

fn select_signing_key(keys: &[LoadedKey], now: Timestamp) -> Option<Arc<SigningKeyPair>> {
    newest_signing_key(keys, now).map(|key| key.key_pair.clone())
}

fn select_signing_key_id(keys: &[LoadedKey], now: Timestamp) -> Option<String> {
    newest_signing_key(keys, now).map(|key| key.record.key_id.clone())
}

fn parse_record(record: &SigningKeyRecord) -> Result<SigningKeyPair> {
    let algorithm = Algorithm::parse(&record.algorithm)?;
    let key_pair = SigningKeyPair::from_pem(Some(algorithm), &record.private_key, record.key_id.clone())?;
    if key_pair.key_id().is_empty() {
        return Err(Error::invalid_argument("a stored signing key has an empty key id"));
    }
    Ok(key_pair)
}
