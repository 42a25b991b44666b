//! The cache of verified tokens: a token seen before skips parsing and the signature
//! check until it expires, while storage checks (revocation, disabled client, cutoff)
//! still apply to every use.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use super::ServiceIdentity;

/// How many verified tokens a guard keeps; the oldest is dropped first. About 1.5 KB
/// each for typical tokens.
pub const VERIFIED_CACHE_CAPACITY: usize = 4096;

/// The storage version recorded when storage was not consulted or cannot say.
pub(crate) const UNKNOWN_VERSION: u64 = u64::MAX;

pub(crate) struct CachedToken {
    pub(crate) identity: Arc<ServiceIdentity>,
    /// The `exp` claim, in seconds.
    pub(crate) expires_at: f64,
    /// The storage version under which the storage checks last passed.
    pub(crate) storage_version: AtomicU64,
}

#[derive(Default)]
struct Entries {
    by_token: HashMap<Box<str>, Arc<CachedToken>>,
    insertion_order: VecDeque<Box<str>>,
}

#[derive(Default)]
pub(crate) struct VerifiedCache {
    entries: Mutex<Entries>,
}

impl VerifiedCache {
    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn get(&self, token: &str) -> Option<Arc<CachedToken>> {
        self.entries().by_token.get(token).cloned()
    }

    pub(crate) fn insert(&self, token: &str, entry: CachedToken) {
        let mut entries = self.entries();
        if entries.by_token.contains_key(token) {
            return;
        }
        while entries.insertion_order.len() >= VERIFIED_CACHE_CAPACITY {
            if let Some(oldest) = entries.insertion_order.pop_front() {
                entries.by_token.remove(&oldest);
            }
        }
        let key: Box<str> = token.into();
        entries.insertion_order.push_back(key.clone());
        entries.by_token.insert(key, Arc::new(entry));
    }

    /// Drops a token. Its slot in the insertion order is reclaimed when it comes up.
    pub(crate) fn remove(&self, token: &str) {
        self.entries().by_token.remove(token);
    }
}

impl CachedToken {
    pub(crate) fn new(identity: Arc<ServiceIdentity>, expires_at: f64, storage_version: u64) -> Self {
        Self {
            identity,
            expires_at,
            storage_version: AtomicU64::new(storage_version),
        }
    }

    pub(crate) fn version(&self) -> u64 {
        self.storage_version.load(Ordering::Relaxed)
    }

    pub(crate) fn set_version(&self, version: u64) {
        self.storage_version.store(version, Ordering::Relaxed);
    }
}
