//! The records that storage keeps, in the shape of the SQL tables.

use std::fmt;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::time::Timestamp;

impl Serialize for Timestamp {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_i64(self.as_millis())
    }
}

impl<'de> Deserialize<'de> for Timestamp {
    /// Accepts milliseconds since the epoch or an ISO-8601 string.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        #[derive(Deserialize)]
        #[serde(untagged)]
        enum Form {
            Millis(f64),
            Text(String),
        }
        match Form::deserialize(deserializer)? {
            Form::Millis(millis) if millis.is_finite() => Ok(Timestamp::from_millis(millis as i64)),
            Form::Millis(_) => Err(serde::de::Error::custom("timestamp is not a finite number")),
            Form::Text(text) => Timestamp::parse_iso(&text).map_err(serde::de::Error::custom),
        }
    }
}

/// A registered service client, as stored. Contains secret hashes: never hand it to users
/// as is (see `ProviderClient`).
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceClient {
    /// Internal id, a UUIDv7.
    pub id: String,
    /// Public client id, `svc_` followed by 32 hex digits.
    pub client_id: String,
    /// Human-readable name, copied into the `name` claim.
    pub name: String,
    /// Scopes the client may request.
    pub scopes: Vec<String>,
    /// When the client was created.
    pub created_at: Timestamp,
    /// When the client record last changed.
    pub updated_at: Timestamp,
    /// When the client last obtained a token.
    pub last_seen_at: Option<Timestamp>,
    /// Hash of the current secret.
    pub current_secret_hash: String,
    /// When the current secret was created.
    pub current_secret_created_at: Timestamp,
    /// When the current secret was last used.
    pub current_secret_last_used_at: Option<Timestamp>,
    /// Hash of the pending secret during a rotation overlap.
    pub next_secret_hash: Option<String>,
    /// When the pending secret was created.
    pub next_secret_created_at: Option<Timestamp>,
    /// When the overlap ends and the pending secret replaces the current one.
    pub next_secret_expires_at: Option<Timestamp>,
    /// When the pending secret was last used.
    pub next_secret_last_used_at: Option<Timestamp>,
    /// When a secret rotation last started.
    pub secret_last_rotated_at: Option<Timestamp>,
    /// Whether the client may obtain tokens and its tokens are accepted.
    pub active: bool,
    /// Tokens issued before this time are rejected by guards with storage.
    pub tokens_invalid_before: Option<Timestamp>,
}

impl fmt::Debug for ServiceClient {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ServiceClient")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("active", &self.active)
            .field("current_secret_hash", &"<redacted>")
            .field("next_secret_hash", &self.next_secret_hash.as_ref().map(|_| "<redacted>"))
            .field("next_secret_expires_at", &self.next_secret_expires_at)
            .field("tokens_invalid_before", &self.tokens_invalid_before)
            .finish_non_exhaustive()
    }
}

/// A partial update of a client: only the fields that are `Some` change.
/// For nullable columns, `Some(None)` sets the column to null.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
#[allow(missing_docs)]
pub struct ClientUpdate {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub updated_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub last_seen_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_secret_hash: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub current_secret_created_at: Option<Timestamp>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub current_secret_last_used_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub next_secret_hash: Option<Option<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub next_secret_created_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub next_secret_expires_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub next_secret_last_used_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub secret_last_rotated_at: Option<Option<Timestamp>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "nullable")]
    pub tokens_invalid_before: Option<Option<Timestamp>>,
}

impl fmt::Debug for ClientUpdate {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("ClientUpdate")
            .field("name", &self.name)
            .field("scopes", &self.scopes)
            .field("current_secret_hash", &self.current_secret_hash.as_ref().map(|_| "<redacted>"))
            .field(
                "next_secret_hash",
                &self.next_secret_hash.as_ref().map(|hash| hash.as_ref().map(|_| "<redacted>")),
            )
            .field("active", &self.active)
            .finish_non_exhaustive()
    }
}

impl ClientUpdate {
    /// Applies the set fields to a client record.
    pub fn apply_to(&self, client: &mut ServiceClient) {
        fn set<T: Clone>(target: &mut T, value: &Option<T>) {
            if let Some(value) = value {
                *target = value.clone();
            }
        }
        set(&mut client.name, &self.name);
        set(&mut client.scopes, &self.scopes);
        set(&mut client.updated_at, &self.updated_at);
        set(&mut client.last_seen_at, &self.last_seen_at);
        set(&mut client.current_secret_hash, &self.current_secret_hash);
        set(&mut client.current_secret_created_at, &self.current_secret_created_at);
        set(&mut client.current_secret_last_used_at, &self.current_secret_last_used_at);
        set(&mut client.next_secret_hash, &self.next_secret_hash);
        set(&mut client.next_secret_created_at, &self.next_secret_created_at);
        set(&mut client.next_secret_expires_at, &self.next_secret_expires_at);
        set(&mut client.next_secret_last_used_at, &self.next_secret_last_used_at);
        set(&mut client.secret_last_rotated_at, &self.secret_last_rotated_at);
        set(&mut client.active, &self.active);
        set(&mut client.tokens_invalid_before, &self.tokens_invalid_before);
    }
}

/// Serde support for `Option<Option<T>>`: a missing field is `None`, `null` is `Some(None)`.
mod nullable {
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    pub fn serialize<T: Serialize, S: Serializer>(value: &Option<Option<T>>, serializer: S) -> Result<S::Ok, S::Error> {
        match value {
            Some(inner) => inner.serialize(serializer),
            None => serializer.serialize_none(),
        }
    }

    pub fn deserialize<'de, T: Deserialize<'de>, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<Option<T>>, D::Error> {
        Option::<T>::deserialize(deserializer).map(Some)
    }
}

/// Which of a client's two secret hashes an operation concerns.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretSlot {
    /// `current_secret_hash`.
    Current,
    /// `next_secret_hash`, the pending secret of a rotation.
    Next,
}

impl SecretSlot {
    /// The hash in this slot of a client.
    pub fn hash_of(self, client: &ServiceClient) -> Option<&str> {
        match self {
            Self::Current => Some(client.current_secret_hash.as_str()),
            Self::Next => client.next_secret_hash.as_deref(),
        }
    }

    /// The SQL column of this slot.
    pub fn column(self) -> &'static str {
        match self {
            Self::Current => "current_secret_hash",
            Self::Next => "next_secret_hash",
        }
    }
}

/// A stored signing key. Its `Debug` output omits the private key.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SigningKeyRecord {
    /// Key id (`kid`).
    pub key_id: String,
    /// `ES256` or `RS256`.
    pub algorithm: String,
    /// PKCS#8 PEM.
    pub private_key: String,
    /// SPKI PEM.
    pub public_key: String,
    /// When the key was created.
    pub created_at: Timestamp,
    /// When the key starts signing.
    pub not_before: Timestamp,
    /// When the key stops verifying and leaves the JWKS; `None` while it is current.
    pub not_after: Option<Timestamp>,
}

impl fmt::Debug for SigningKeyRecord {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SigningKeyRecord")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"<redacted>")
            .field("not_before", &self.not_before)
            .field("not_after", &self.not_after)
            .finish_non_exhaustive()
    }
}

/// A revoked token id, remembered until the token would have expired anyway.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RevokedToken {
    /// The token's `jti` claim.
    pub jti: String,
    /// When the revocation may be forgotten.
    pub expires_at: Timestamp,
}
