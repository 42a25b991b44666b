//! Client administration: create, read, rename, scope, rotate secrets, disable, cut off.

use serde::Serialize;

use super::token_endpoint::promotion;
use super::Provider;
use crate::error::{Error, ErrorKind, Result};
use crate::events::{Event, Outcome};
use crate::secret::ClientSecret;
use crate::storage::{ClientUpdate, SecretSlot, ServiceClient};
use crate::time::Timestamp;

/// Default overlap of a secret rotation, in seconds.
pub const DEFAULT_SECRET_OVERLAP_SECONDS: u64 = 3600;

/// A client as shown to administrators: never a secret or a secret hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ProviderClient {
    pub id: String,
    pub client_id: String,
    pub name: String,
    pub scopes: Vec<String>,
    pub created_at: Timestamp,
    pub updated_at: Timestamp,
    pub last_seen_at: Option<Timestamp>,
    pub current_secret_created_at: Timestamp,
    pub current_secret_last_used_at: Option<Timestamp>,
    pub next_secret_created_at: Option<Timestamp>,
    pub next_secret_expires_at: Option<Timestamp>,
    pub next_secret_last_used_at: Option<Timestamp>,
    pub secret_last_rotated_at: Option<Timestamp>,
    pub active: bool,
    pub tokens_invalid_before: Option<Timestamp>,
    /// Whether a pending secret is waiting for its overlap to end.
    pub has_pending_secret_rotation: bool,
}

impl From<ServiceClient> for ProviderClient {
    fn from(client: ServiceClient) -> Self {
        Self {
            has_pending_secret_rotation: client.next_secret_hash.is_some(),
            id: client.id,
            client_id: client.client_id,
            name: client.name,
            scopes: client.scopes,
            created_at: client.created_at,
            updated_at: client.updated_at,
            last_seen_at: client.last_seen_at,
            current_secret_created_at: client.current_secret_created_at,
            current_secret_last_used_at: client.current_secret_last_used_at,
            next_secret_created_at: client.next_secret_created_at,
            next_secret_expires_at: client.next_secret_expires_at,
            next_secret_last_used_at: client.next_secret_last_used_at,
            secret_last_rotated_at: client.secret_last_rotated_at,
            active: client.active,
            tokens_invalid_before: client.tokens_invalid_before,
        }
    }
}

/// A new client with its secret, which is shown only this once.
#[derive(Debug, Clone)]
pub struct CreatedClient {
    /// The public client id.
    pub client_id: String,
    /// The client secret.
    pub client_secret: ClientSecret,
}

/// Input of [`Provider::rotate_secret`].
#[derive(Debug, Clone, Default)]
pub struct RotateSecretInput {
    /// When the overlap ends; wins over `overlap_seconds`.
    pub expires_at: Option<Timestamp>,
    /// How long both secrets work, in seconds; default 3600; 0 replaces the current
    /// secret at once.
    pub overlap_seconds: Option<u64>,
}

/// A rotated secret, shown only this once.
#[derive(Debug, Clone)]
pub struct RotatedSecret {
    /// The client id.
    pub client_id: String,
    /// The new secret.
    pub client_secret: ClientSecret,
    /// When the previous secret stops working; `None` when it stopped at once.
    pub expires_at: Option<Timestamp>,
}

fn validate_name(name: &str) -> Result<String> {
    let trimmed = name.trim();
    if trimmed.is_empty() || trimmed.len() > 255 {
        return Err(Error::invalid_argument(format!(
            "invalid client name {name:?}: use 1 to 255 characters"
        )));
    }
    Ok(trimmed.to_owned())
}

/// Checks scope tokens (RFC 6749 §3.3: printable ASCII without space, `"` and `\`) and
/// removes duplicates, keeping the first occurrence.
fn validate_scopes(scopes: &[String]) -> Result<Vec<String>> {
    let mut unique: Vec<String> = Vec::with_capacity(scopes.len());
    for scope in scopes {
        let valid = !scope.is_empty()
            && scope.len() <= 255
            && scope.bytes().all(|byte| byte == 0x21 || (0x23..=0x5B).contains(&byte) || (0x5D..=0x7E).contains(&byte));
        if !valid {
            return Err(Error::invalid_argument(format!(
                "invalid scope {scope:?}: use printable ASCII without spaces, quotes or backslashes"
            )));
        }
        if !unique.contains(scope) {
            unique.push(scope.clone());
        }
    }
    Ok(unique)
}

impl Provider {
    /// Registers a client and returns its id and secret.
    pub async fn create_client(&self, name: &str, scopes: &[String]) -> Result<CreatedClient> {
        let name = validate_name(name)?;
        let scopes = validate_scopes(scopes)?;
        let now = Timestamp::now();
        let id = uuid::Uuid::now_v7();
        let client_id = format!("svc_{}", uuid::Uuid::now_v7().simple());
        let secret = ClientSecret::generate()?;

        let client = ServiceClient {
            id: id.to_string(),
            client_id: client_id.clone(),
            name,
            scopes,
            created_at: now,
            updated_at: now,
            last_seen_at: None,
            current_secret_hash: secret.hash(),
            current_secret_created_at: now,
            current_secret_last_used_at: None,
            next_secret_hash: None,
            next_secret_created_at: None,
            next_secret_expires_at: None,
            next_secret_last_used_at: None,
            secret_last_rotated_at: None,
            active: true,
            tokens_invalid_before: None,
        };
        self.inner.storage.create_client(&client).await?;

        self.inner.emit(
            Event::new("client.created", self.issuer(), Outcome::Success)
                .client(&client_id)
                .metadata("name", client.name.clone())
                .metadata("scopes", client.scopes.clone()),
        );
        Ok(CreatedClient {
            client_id,
            client_secret: secret,
        })
    }

    /// Lists every client, without secrets.
    pub async fn list_clients(&self) -> Result<Vec<ProviderClient>> {
        let now = Timestamp::now();
        let clients = self.inner.storage.list_clients().await?;
        let mut result = Vec::with_capacity(clients.len());
        for client in clients {
            let client = if promotion(&client, now).is_some() {
                match self.inner.load_client(&client.client_id, now).await? {
                    Some(client) => client,
                    None => continue,
                }
            } else {
                client
            };
            result.push(ProviderClient::from(client));
        }
        Ok(result)
    }

    /// Returns one client, without secrets, or `None` when the id is unknown.
    pub async fn get_client(&self, client_id: &str) -> Result<Option<ProviderClient>> {
        let client = self.inner.load_client(client_id, Timestamp::now()).await?;
        Ok(client.map(ProviderClient::from))
    }

    async fn require_client(&self, client_id: &str) -> Result<ServiceClient> {
        self.inner
            .load_client(client_id, Timestamp::now())
            .await?
            .ok_or_else(|| Error::client_not_found(client_id))
    }

    /// Renames a client; the new name appears in tokens issued from now on.
    pub async fn rename_client(&self, client_id: &str, name: &str) -> Result<()> {
        let name = validate_name(name)?;
        let client = self.require_client(client_id).await?;
        let update = ClientUpdate {
            name: Some(name.clone()),
            updated_at: Some(Timestamp::now()),
            ..ClientUpdate::default()
        };
        self.inner.storage.update_client(client_id, &update).await?;
        self.inner.emit(
            Event::new("client.renamed", self.issuer(), Outcome::Success)
                .client(client_id)
                .metadata("previousName", client.name)
                .metadata("name", name),
        );
        Ok(())
    }

    /// Replaces the scopes a client may request.
    pub async fn update_scopes(&self, client_id: &str, scopes: &[String]) -> Result<()> {
        let scopes = validate_scopes(scopes)?;
        self.require_client(client_id).await?;
        let update = ClientUpdate {
            scopes: Some(scopes.clone()),
            updated_at: Some(Timestamp::now()),
            ..ClientUpdate::default()
        };
        self.inner.storage.update_client(client_id, &update).await?;
        self.inner.emit(
            Event::new("client.scopes_updated", self.issuer(), Outcome::Success)
                .client(client_id)
                .metadata("scopes", scopes),
        );
        Ok(())
    }

    /// Creates a new secret. With an overlap, it becomes the pending secret and both work
    /// until the overlap ends; with `overlap_seconds: 0` it replaces the current one at once.
    ///
    /// A rotation while another is pending replaces the pending secret; the current one
    /// keeps working until the new overlap ends.
    pub async fn rotate_secret(&self, client_id: &str, input: RotateSecretInput) -> Result<RotatedSecret> {
        let now = Timestamp::now();
        let expires_at = match (input.expires_at, input.overlap_seconds) {
            (Some(expires_at), _) if expires_at <= now => {
                return Err(Error::invalid_argument(format!(
                    "the secret expiry {expires_at} is not in the future: pass a later expiresAt"
                )))
            }
            (Some(expires_at), _) => Some(expires_at),
            (None, Some(0)) => None,
            (None, overlap) => Some(now.plus_seconds(overlap.unwrap_or(DEFAULT_SECRET_OVERLAP_SECONDS) as i64)),
        };
        let client = self.require_client(client_id).await?;

        let secret = ClientSecret::generate()?;
        let update = match expires_at {
            Some(expires_at) => ClientUpdate {
                next_secret_hash: Some(Some(secret.hash())),
                next_secret_created_at: Some(Some(now)),
                next_secret_expires_at: Some(Some(expires_at)),
                next_secret_last_used_at: Some(None),
                secret_last_rotated_at: Some(Some(now)),
                updated_at: Some(now),
                ..ClientUpdate::default()
            },
            None => ClientUpdate {
                current_secret_hash: Some(secret.hash()),
                current_secret_created_at: Some(now),
                current_secret_last_used_at: Some(None),
                next_secret_hash: Some(None),
                next_secret_created_at: Some(None),
                next_secret_expires_at: Some(None),
                next_secret_last_used_at: Some(None),
                secret_last_rotated_at: Some(Some(now)),
                updated_at: Some(now),
                ..ClientUpdate::default()
            },
        };
        // The write applies only if no other rotation changed the slot since it was
        // read, so two concurrent rotations never both return a secret.
        let (slot, expected) = match expires_at {
            Some(_) => (SecretSlot::Next, client.next_secret_hash.as_deref()),
            None => (SecretSlot::Current, Some(client.current_secret_hash.as_str())),
        };
        let applied = self
            .inner
            .storage
            .update_client_if_secret(client_id, slot, expected, &update)
            .await?;
        if !applied {
            return Err(Error::new(
                ErrorKind::Conflict,
                format!("the secret of client {client_id:?} changed during the rotation: rotate again"),
            ));
        }

        let mut event = Event::new("client.secret_rotated", self.issuer(), Outcome::Success).client(client_id);
        event = event.metadata("overlapEndsAt", expires_at.map(Timestamp::to_iso));
        self.inner.emit(event);
        Ok(RotatedSecret {
            client_id: client_id.to_owned(),
            client_secret: secret,
            expires_at,
        })
    }

    /// Deletes a client; its tokens fail guards that have storage.
    pub async fn revoke_client(&self, client_id: &str) -> Result<()> {
        self.require_client(client_id).await?;
        self.inner.storage.delete_client(client_id).await?;
        self.inner
            .emit(Event::new("client.revoked", self.issuer(), Outcome::Success).client(client_id));
        Ok(())
    }

    /// Disables a client: it gets no tokens, and guards with storage reject its tokens.
    pub async fn disable_client(&self, client_id: &str) -> Result<()> {
        self.require_client(client_id).await?;
        self.inner.storage.set_client_active(client_id, false).await?;
        self.inner
            .emit(Event::new("client.deactivated", self.issuer(), Outcome::Success).client(client_id));
        Ok(())
    }

    /// Enables a disabled client.
    pub async fn enable_client(&self, client_id: &str) -> Result<()> {
        self.require_client(client_id).await?;
        self.inner.storage.set_client_active(client_id, true).await?;
        self.inner
            .emit(Event::new("client.activated", self.issuer(), Outcome::Success).client(client_id));
        Ok(())
    }

    /// Rejects, in guards with storage, every token of the client issued before `at`
    /// (default now).
    pub async fn invalidate_tokens_before(&self, client_id: &str, at: Option<Timestamp>) -> Result<()> {
        let at = at.unwrap_or_else(Timestamp::now);
        self.require_client(client_id).await?;
        self.inner.storage.set_tokens_invalid_before(client_id, Some(at)).await?;
        self.inner.emit(
            Event::new("client.tokens_invalidated", self.issuer(), Outcome::Success)
                .client(client_id)
                .metadata("tokensInvalidBefore", at.to_iso()),
        );
        Ok(())
    }

    /// Removes the client's token cutoff.
    pub async fn clear_tokens_invalid_before(&self, client_id: &str) -> Result<()> {
        self.require_client(client_id).await?;
        self.inner.storage.set_tokens_invalid_before(client_id, None).await?;
        self.inner
            .emit(Event::new("client.tokens_cutoff_cleared", self.issuer(), Outcome::Success).client(client_id));
        Ok(())
    }
}
