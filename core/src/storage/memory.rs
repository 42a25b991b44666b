//! In-process storage, for tests and single-process services.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, MutexGuard};

use async_trait::async_trait;

use super::{ClientUpdate, RevokedToken, SecretSlot, ServiceClient, SigningKeyRecord, Storage};
use crate::error::Result;
use crate::time::Timestamp;

#[derive(Default)]
struct State {
    clients: Vec<ServiceClient>,
    signing_keys: Vec<SigningKeyRecord>,
    revoked_tokens: HashMap<String, Timestamp>,
}

/// Storage in memory. Everything is lost when the process exits.
#[derive(Default)]
pub struct MemoryStorage {
    state: Mutex<State>,
    /// Incremented by every write, for [`Storage::version`].
    writes: AtomicU64,
}

impl MemoryStorage {
    /// Creates empty storage.
    pub fn new() -> Self {
        Self::default()
    }

    /// Locks the state for a write, and counts the write.
    fn write(&self) -> MutexGuard<'_, State> {
        let state = self.state();
        self.writes.fetch_add(1, Ordering::Release);
        state
    }

    fn state(&self) -> MutexGuard<'_, State> {
        // A panic while holding the lock cannot leave a record half-written, so the
        // data is still consistent after poisoning.
        self.state.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[async_trait]
impl Storage for MemoryStorage {
    fn is_local(&self) -> bool {
        true
    }

    fn version(&self) -> Option<u64> {
        Some(self.writes.load(Ordering::Acquire))
    }

    async fn find_client(&self, client_id: &str) -> Result<Option<ServiceClient>> {
        Ok(self.state().clients.iter().find(|client| client.client_id == client_id).cloned())
    }

    async fn create_client(&self, client: &ServiceClient) -> Result<()> {
        let mut state = self.write();
        if state.clients.iter().any(|existing| existing.client_id == client.client_id) {
            return Err(crate::Error::invalid_argument(format!(
                "a client with id {:?} already exists",
                client.client_id
            )));
        }
        state.clients.push(client.clone());
        Ok(())
    }

    async fn delete_client(&self, client_id: &str) -> Result<()> {
        self.write().clients.retain(|client| client.client_id != client_id);
        Ok(())
    }

    async fn list_clients(&self) -> Result<Vec<ServiceClient>> {
        Ok(self.state().clients.clone())
    }

    async fn update_client(&self, client_id: &str, updates: &ClientUpdate) -> Result<()> {
        if let Some(client) = self.write().clients.iter_mut().find(|client| client.client_id == client_id) {
            updates.apply_to(client);
        }
        Ok(())
    }

    async fn update_client_if_secret(
        &self,
        client_id: &str,
        slot: SecretSlot,
        expected_hash: Option<&str>,
        updates: &ClientUpdate,
    ) -> Result<bool> {
        let mut state = self.write();
        let Some(client) = state.clients.iter_mut().find(|client| client.client_id == client_id) else {
            return Ok(false);
        };
        if slot.hash_of(client) != expected_hash {
            return Ok(false);
        }
        updates.apply_to(client);
        Ok(true)
    }

    async fn touch_client(&self, client_id: &str, last_seen_at: Timestamp) -> Result<()> {
        let update = ClientUpdate {
            last_seen_at: Some(Some(last_seen_at)),
            ..ClientUpdate::default()
        };
        self.update_client(client_id, &update).await
    }

    async fn set_client_active(&self, client_id: &str, active: bool) -> Result<()> {
        let update = ClientUpdate {
            active: Some(active),
            updated_at: Some(Timestamp::now()),
            ..ClientUpdate::default()
        };
        self.update_client(client_id, &update).await
    }

    async fn set_tokens_invalid_before(&self, client_id: &str, at: Option<Timestamp>) -> Result<()> {
        let update = ClientUpdate {
            tokens_invalid_before: Some(at),
            updated_at: Some(Timestamp::now()),
            ..ClientUpdate::default()
        };
        self.update_client(client_id, &update).await
    }

    async fn get_signing_keys(&self) -> Result<Vec<SigningKeyRecord>> {
        Ok(self.state().signing_keys.clone())
    }

    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()> {
        let mut state = self.write();
        state.signing_keys.retain(|existing| existing.key_id != key.key_id);
        state.signing_keys.push(key.clone());
        Ok(())
    }

    async fn set_signing_key_not_after(&self, key_id: &str, not_after: Option<Timestamp>) -> Result<()> {
        if let Some(key) = self.write().signing_keys.iter_mut().find(|key| key.key_id == key_id) {
            key.not_after = not_after;
        }
        Ok(())
    }

    async fn find_revoked_token(&self, jti: &str) -> Result<Option<RevokedToken>> {
        Ok(self.state().revoked_tokens.get(jti).map(|expires_at| RevokedToken {
            jti: jti.to_owned(),
            expires_at: *expires_at,
        }))
    }

    async fn revoke_token(&self, token: &RevokedToken) -> Result<()> {
        let now = Timestamp::now();
        let mut state = self.write();
        state.revoked_tokens.retain(|_, expires_at| *expires_at > now);
        let entry = state.revoked_tokens.entry(token.jti.clone()).or_insert(token.expires_at);
        *entry = (*entry).max(token.expires_at);
        Ok(())
    }
}
