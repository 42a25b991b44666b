//! The cache of verified tokens: a token verified twice skips parsing and the
//! signature check from then on until it expires, while storage checks (revocation,
//! disabled client, cutoff) still apply to every use.
//!
//! A token enters on its second verification, and the first only records its hash.
//! Most tokens verified once are never seen again, and keeping each of them, then
//! dropping an older entry whose memory has long left the CPU caches, cost about 1.5 µs
//! of a 20 µs RS256 verification.

use std::collections::VecDeque;
use std::hash::BuildHasher;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use hashbrown::HashTable;

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

/// How many of a token's last bytes are hashed to place it in the cache. They are
/// signature bytes, which differ between tokens, and hashing all 700 bytes or more of
/// a token would cost several times as much. Lookups still compare whole tokens.
const HASHED_SUFFIX_BYTES: usize = 32;

struct Slot {
    token: Arc<str>,
    hash: u64,
    entry: Arc<CachedToken>,
}

#[derive(Default)]
struct Entries {
    by_token: HashTable<Slot>,
    /// Each token with its hash, oldest first.
    insertion_order: VecDeque<(Arc<str>, u64)>,
    /// Hashes of tokens verified once and not cached yet, with their order, oldest
    /// first. Bounded like the cache.
    verified_once: HashTable<u64>,
    verified_once_order: VecDeque<u64>,
}

impl Entries {
    /// Returns whether a token was verified once before; otherwise records that it was
    /// verified now.
    fn verified_before(&mut self, hash: u64) -> bool {
        if let Ok(found) = self.verified_once.find_entry(hash, |&recorded| recorded == hash) {
            found.remove();
            return true;
        }

        while self.verified_once_order.len() >= VERIFIED_CACHE_CAPACITY {
            let Some(oldest) = self.verified_once_order.pop_front() else {
                break;
            };
            if let Ok(found) = self.verified_once.find_entry(oldest, |&recorded| recorded == oldest) {
                found.remove();
            }
        }
        self.verified_once_order.push_back(hash);
        self.verified_once.insert_unique(hash, hash, |&recorded| recorded);
        false
    }
}

/// The hash is foldhash with a per-process random seed, which is enough here because
/// only tokens with a valid signature are inserted.
#[derive(Default)]
pub(crate) struct VerifiedCache {
    entries: Mutex<Entries>,
    hasher: foldhash::fast::RandomState,
}

impl VerifiedCache {
    fn entries(&self) -> MutexGuard<'_, Entries> {
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn hash(&self, token: &str) -> u64 {
        let bytes = token.as_bytes();
        self.hasher.hash_one(&bytes[bytes.len().saturating_sub(HASHED_SUFFIX_BYTES)..])
    }

    pub(crate) fn get(&self, token: &str) -> Option<Arc<CachedToken>> {
        let hash = self.hash(token);
        let entries = self.entries();
        entries
            .by_token
            .find(hash, |slot| &*slot.token == token)
            .map(|slot| slot.entry.clone())
    }

    /// Caches a token on its second verification (see the module documentation).
    pub(crate) fn insert(&self, token: &str, entry: CachedToken) {
        let hash = self.hash(token);
        let mut entries = self.entries();
        if entries.by_token.find(hash, |slot| &*slot.token == token).is_some() {
            return;
        }
        if !entries.verified_before(hash) {
            return;
        }
        while entries.insertion_order.len() >= VERIFIED_CACHE_CAPACITY {
            let Some((oldest, oldest_hash)) = entries.insertion_order.pop_front() else {
                break;
            };
            // A token removed and inserted again has a newer slot, which stays.
            if let Ok(found) = entries.by_token.find_entry(oldest_hash, |slot| Arc::ptr_eq(&slot.token, &oldest)) {
                found.remove();
            }
        }

        let token: Arc<str> = token.into();
        entries.insertion_order.push_back((token.clone(), hash));
        let slot = Slot {
            token,
            hash,
            entry: Arc::new(entry),
        };
        entries.by_token.insert_unique(hash, slot, |slot| slot.hash);
    }

    /// Drops a token. Its place in the insertion order is reclaimed when it comes up.
    pub(crate) fn remove(&self, token: &str) {
        let hash = self.hash(token);
        if let Ok(found) = self.entries().by_token.find_entry(hash, |slot| &*slot.token == token) {
            found.remove();
        }
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

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(client_id: &str) -> CachedToken {
        let identity = ServiceIdentity {
            client_id: client_id.to_owned(),
            name: None,
            scopes: Vec::new(),
            env: None,
            raw: serde_json::Map::new(),
        };
        CachedToken::new(Arc::new(identity), 0.0, UNKNOWN_VERSION)
    }

    fn client_of(cache: &VerifiedCache, token: &str) -> Option<String> {
        cache.get(token).map(|cached| cached.identity.client_id.clone())
    }

    /// Inserts a token as its second verification does.
    fn insert_verified_twice(cache: &VerifiedCache, token: &str, client_id: &str) {
        cache.insert(token, entry(client_id));
        cache.insert(token, entry(client_id));
    }

    #[test]
    fn token_enters_on_second_verification() {
        let cache = VerifiedCache::default();
        cache.insert("token", entry("a"));
        assert_eq!(client_of(&cache, "token"), None);

        cache.insert("token", entry("a"));
        assert_eq!(client_of(&cache, "token").as_deref(), Some("a"));
    }

    #[test]
    fn first_verifications_are_remembered_up_to_capacity() {
        let cache = VerifiedCache::default();
        for index in 0..=VERIFIED_CACHE_CAPACITY {
            cache.insert(&format!("token-{index}"), entry("a"));
        }

        cache.insert("token-1", entry("a"));
        assert_eq!(client_of(&cache, "token-1").as_deref(), Some("a"));

        // The oldest first verification was forgotten, so this is a first one again.
        cache.insert("token-0", entry("a"));
        assert_eq!(client_of(&cache, "token-0"), None);
    }

    #[test]
    fn tokens_sharing_their_hashed_suffix_stay_apart() {
        let cache = VerifiedCache::default();
        let suffix = "s".repeat(HASHED_SUFFIX_BYTES);
        insert_verified_twice(&cache, &format!("a.{suffix}"), "a");
        insert_verified_twice(&cache, &format!("b.{suffix}"), "b");

        assert_eq!(client_of(&cache, &format!("a.{suffix}")).as_deref(), Some("a"));
        assert_eq!(client_of(&cache, &format!("b.{suffix}")).as_deref(), Some("b"));
        assert_eq!(client_of(&cache, &format!("c.{suffix}")), None);
        assert_eq!(client_of(&cache, &suffix), None);
    }

    #[test]
    fn oldest_token_leaves_first_at_capacity() {
        let cache = VerifiedCache::default();
        for index in 0..=VERIFIED_CACHE_CAPACITY {
            insert_verified_twice(&cache, &format!("token-{index}"), &index.to_string());
        }

        assert_eq!(client_of(&cache, "token-0"), None);
        assert_eq!(client_of(&cache, "token-1").as_deref(), Some("1"));
        let newest = format!("token-{VERIFIED_CACHE_CAPACITY}");
        assert_eq!(client_of(&cache, &newest), Some(VERIFIED_CACHE_CAPACITY.to_string()));
    }

    #[test]
    fn removed_token_inserted_again_outlives_its_old_place() {
        let cache = VerifiedCache::default();
        insert_verified_twice(&cache, "first", "old");
        cache.remove("first");
        assert_eq!(client_of(&cache, "first"), None);
        insert_verified_twice(&cache, "first", "new");

        // Filling the cache evicts the first insertion's place, not the newer entry.
        for index in 1..VERIFIED_CACHE_CAPACITY {
            insert_verified_twice(&cache, &format!("token-{index}"), "filler");
        }
        assert_eq!(client_of(&cache, "first").as_deref(), Some("new"));
    }

    #[test]
    fn inserting_a_cached_token_keeps_the_first_entry() {
        let cache = VerifiedCache::default();
        insert_verified_twice(&cache, "token", "first");
        cache.insert("token", entry("second"));
        assert_eq!(client_of(&cache, "token").as_deref(), Some("first"));
    }
}
