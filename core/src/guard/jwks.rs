//! The guard's JWKS cache: fetched on first use, kept for [`JWKS_TTL`], one fetch in
//! flight, and refetched early only for an unknown key id or a failed signature, at most
//! once per [`REFETCH_COOLDOWN`].

use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant};

use crate::crypto::VerifyingKey;
use crate::error::{Error, ErrorKind, Result};
use crate::http::{HttpRequest, HttpTransport};

/// How long a fetched JWKS is used before it is fetched again.
pub const JWKS_TTL: Duration = Duration::from_secs(600);

/// The minimum time between two early refetches caused by unknown key ids or failed
/// signatures. Tokens with forged key ids cause at most one fetch per cooldown.
pub const REFETCH_COOLDOWN: Duration = Duration::from_secs(30);

/// How long one JWKS fetch may take.
pub const FETCH_TIMEOUT: Duration = Duration::from_secs(10);

/// A parsed key set.
pub(crate) struct KeySet {
    pub(crate) keys: Vec<VerifyingKey>,
    fetched_at: Instant,
    pub(crate) generation: u64,
}

impl KeySet {
    pub(crate) fn find<'a>(&'a self, key_id: Option<&'a str>) -> impl Iterator<Item = &'a VerifyingKey> + 'a {
        self.keys
            .iter()
            .filter(move |key| key_id.is_none() || key.key_id() == key_id)
    }
}

/// The outcome of a JWKS refresh, for the guard's events.
pub(crate) enum RefreshReport {
    Refreshed { key_count: usize },
    Failed { message: String },
}

pub(crate) struct JwksCache {
    url: String,
    current: RwLock<Option<Arc<KeySet>>>,
    fetch_lock: tokio::sync::Mutex<()>,
    last_early_refetch: Mutex<Option<Instant>>,
}

impl JwksCache {
    pub(crate) fn new(url: String) -> Self {
        Self {
            url,
            current: RwLock::new(None),
            fetch_lock: tokio::sync::Mutex::new(()),
            last_early_refetch: Mutex::new(None),
        }
    }

    fn snapshot(&self) -> Option<Arc<KeySet>> {
        self.current.read().unwrap_or_else(|poisoned| poisoned.into_inner()).clone()
    }

    /// Returns the cached key set while it is fresh, without any I/O.
    pub(crate) fn fresh(&self) -> Option<Arc<KeySet>> {
        self.snapshot().filter(|set| set.fetched_at.elapsed() < JWKS_TTL)
    }

    /// Returns a fresh key set, fetching it when there is none or it expired. When a
    /// refetch fails but an older set exists, the older set is kept and returned.
    pub(crate) async fn get(
        &self,
        transport: &dyn HttpTransport,
        report: &mut Option<RefreshReport>,
    ) -> Result<Arc<KeySet>> {
        if let Some(set) = self.fresh() {
            return Ok(set);
        }
        let _fetching = self.fetch_lock.lock().await;
        if let Some(set) = self.fresh() {
            return Ok(set);
        }
        self.fetch_and_store(transport, report).await
    }

    /// Whether [`JwksCache::refetch_after_miss`] could fetch or find a newer key set
    /// than `seen` now; when not, a miss can be decided without waiting for it.
    pub(crate) fn refetch_possible(&self, seen: &KeySet) -> bool {
        if self.snapshot().is_some_and(|set| set.generation != seen.generation) {
            return true;
        }
        let last = self.last_early_refetch.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        !last.is_some_and(|at| at.elapsed() < REFETCH_COOLDOWN)
    }

    /// Refetches early because `seen` lacked a key, unless another caller already did
    /// since, or the cooldown since the last early refetch has not passed. Returns the
    /// newer set, or `None` when nothing newer may be fetched.
    pub(crate) async fn refetch_after_miss(
        &self,
        transport: &dyn HttpTransport,
        seen: &KeySet,
        report: &mut Option<RefreshReport>,
    ) -> Result<Option<Arc<KeySet>>> {
        let _fetching = self.fetch_lock.lock().await;
        if let Some(set) = self.snapshot() {
            if set.generation != seen.generation {
                return Ok(Some(set));
            }
        }

        {
            let mut last = self.last_early_refetch.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
            if last.is_some_and(|at| at.elapsed() < REFETCH_COOLDOWN) {
                return Ok(None);
            }
            *last = Some(Instant::now());
        }
        self.fetch_and_store(transport, report).await.map(Some)
    }

    async fn fetch_and_store(
        &self,
        transport: &dyn HttpTransport,
        report: &mut Option<RefreshReport>,
    ) -> Result<Arc<KeySet>> {
        let previous = self.snapshot();
        match self.fetch(transport).await {
            Ok(keys) => {
                let set = Arc::new(KeySet {
                    keys,
                    fetched_at: Instant::now(),
                    generation: previous.as_ref().map_or(1, |set| set.generation + 1),
                });
                *report = Some(RefreshReport::Refreshed {
                    key_count: set.keys.len(),
                });
                *self.current.write().unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(set.clone());
                Ok(set)
            }
            Err(error) => {
                *report = Some(RefreshReport::Failed {
                    message: error.message().to_owned(),
                });
                match previous {
                    Some(set) => {
                        tracing::warn!(url = %self.url, %error, "JWKS refresh failed; keeping the previous keys");
                        Ok(set)
                    }
                    None => Err(error),
                }
            }
        }
    }

    async fn fetch(&self, transport: &dyn HttpTransport) -> Result<Vec<VerifyingKey>> {
        let failed = |detail: String| {
            Error::new(
                ErrorKind::JwksFetchFailed,
                format!("fetching the JWKS from {} failed: {detail}", self.url),
            )
        };
        let request = HttpRequest {
            method: "GET".into(),
            url: self.url.clone(),
            headers: vec![("accept".into(), "application/json".into())],
            body: Vec::new(),
        };
        let response = match tokio::time::timeout(FETCH_TIMEOUT, transport.send(request)).await {
            Ok(Ok(response)) => response,
            Ok(Err(error)) => return Err(failed(error.message().to_owned())),
            Err(_) => return Err(failed(format!("no response within {} seconds", FETCH_TIMEOUT.as_secs()))),
        };
        if response.status != 200 {
            return Err(failed(format!("the server answered HTTP {}", response.status)));
        }

        let document: serde_json::Value =
            serde_json::from_str(&response.body).map_err(|_| failed("the response is not JSON".into()))?;
        let Some(entries) = document.get("keys").and_then(serde_json::Value::as_array) else {
            return Err(failed("the response has no \"keys\" array".into()));
        };
        Ok(entries.iter().filter_map(VerifyingKey::from_jwk).collect())
    }
}
