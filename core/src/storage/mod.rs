//! Storage of clients, signing keys and revoked token ids.
//!
//! [`Storage`] is the one interface the provider and the guard use. It is implemented by
//! [`MemoryStorage`], by [`SqlStorage`] over any [`SqlExecutor`], and by the bindings for
//! storage objects written in the host language.

mod memory;
#[cfg(feature = "mysql")]
mod mysql;
#[cfg(feature = "postgres")]
mod postgres;
mod records;
mod sql;
#[cfg(feature = "sqlite")]
mod sqlite;

use async_trait::async_trait;

pub use memory::MemoryStorage;
#[cfg(feature = "mysql")]
pub use mysql::{MysqlExecutor, MysqlPoolOptions};
#[cfg(feature = "postgres")]
pub use postgres::{PostgresExecutor, PostgresPoolOptions};
pub use records::{ClientUpdate, RevokedToken, SecretSlot, ServiceClient, SigningKeyRecord};
pub use sql::{SqlDialect, SqlExecutor, SqlRow, SqlStorage, SqlTables, SqlValue};
#[cfg(feature = "sqlite")]
pub use sqlite::SqliteExecutor;

use crate::error::Result;
use crate::time::Timestamp;

/// Persistent state of a provider, and the revocation state a guard may consult.
///
/// Methods that name a client id that does not exist succeed without effect; callers
/// that must report unknown ids look the client up first.
#[async_trait]
pub trait Storage: Send + Sync {
    /// Whether every method completes without waiting on I/O outside this process (its
    /// futures are ready when first polled), so the guard may call it on the caller's
    /// thread. Default `false`.
    fn is_local(&self) -> bool {
        false
    }

    /// A number that changes whenever the stored data changes, from this process or any
    /// other, or `None` when this storage cannot tell. The guard uses it to skip storage
    /// checks for a token it verified before while nothing changed.
    fn version(&self) -> Option<u64> {
        None
    }

    /// Looks a client up by its `clientId`.
    async fn find_client(&self, client_id: &str) -> Result<Option<ServiceClient>>;
    /// Inserts a new client.
    async fn create_client(&self, client: &ServiceClient) -> Result<()>;
    /// Deletes a client.
    async fn delete_client(&self, client_id: &str) -> Result<()>;
    /// Lists every client, oldest first.
    async fn list_clients(&self) -> Result<Vec<ServiceClient>>;
    /// Applies the fields that are set in `updates`.
    async fn update_client(&self, client_id: &str, updates: &ClientUpdate) -> Result<()>;
    /// Applies `updates` only while the secret hash in `slot` still equals
    /// `expected_hash` (`None`: the slot is empty), and returns whether it did.
    ///
    /// SQL storage does this in one statement, so two provider instances promoting or
    /// upgrading the same secret cannot both apply it. This default reads, then writes:
    /// atomic only when nothing else writes the client in between.
    async fn update_client_if_secret(
        &self,
        client_id: &str,
        slot: SecretSlot,
        expected_hash: Option<&str>,
        updates: &ClientUpdate,
    ) -> Result<bool> {
        let Some(client) = self.find_client(client_id).await? else {
            return Ok(false);
        };
        if slot.hash_of(&client) != expected_hash {
            return Ok(false);
        }
        self.update_client(client_id, updates).await?;
        Ok(true)
    }
    /// Records when the client was last seen.
    async fn touch_client(&self, client_id: &str, last_seen_at: Timestamp) -> Result<()>;
    /// Enables or disables a client.
    async fn set_client_active(&self, client_id: &str, active: bool) -> Result<()>;
    /// Sets or clears the time before which the client's tokens are rejected.
    async fn set_tokens_invalid_before(&self, client_id: &str, at: Option<Timestamp>) -> Result<()>;
    /// Lists every stored signing key.
    async fn get_signing_keys(&self) -> Result<Vec<SigningKeyRecord>>;
    /// Stores a new signing key.
    async fn add_signing_key(&self, key: &SigningKeyRecord) -> Result<()>;
    /// Sets or clears the time after which a key no longer verifies.
    async fn set_signing_key_not_after(&self, key_id: &str, not_after: Option<Timestamp>) -> Result<()>;
    /// Looks a revoked token id up. Expired revocations may be returned or not.
    async fn find_revoked_token(&self, jti: &str) -> Result<Option<RevokedToken>>;
    /// Remembers a revoked token id until its expiry. Revoking twice is not an error.
    async fn revoke_token(&self, token: &RevokedToken) -> Result<()>;
}
