//! Client secrets: generation, hashing and the one place where a presented secret is checked.

use std::fmt;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::error::{Error, Result};

/// Prefix of secret hashes written by this library.
const SHA256_PREFIX: &str = "sha256:";

/// A client secret in clear text. Its `Debug` output is redacted.
#[derive(Clone, PartialEq, Eq)]
pub struct ClientSecret(String);

impl ClientSecret {
    /// Generates 32 random bytes, encoded as base64url without padding (43 characters).
    pub fn generate() -> Result<Self> {
        let mut bytes = [0u8; 32];
        aws_lc_rs::rand::fill(&mut bytes)
            .map_err(|_| Error::internal("the system random number generator failed"))?;
        Ok(Self(URL_SAFE_NO_PAD.encode(bytes)))
    }

    /// Wraps a secret presented by a client or a user.
    pub fn new(secret: impl Into<String>) -> Self {
        Self(secret.into())
    }

    /// The secret text. Call only to hand it to its owner or to hash it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// Hashes the secret for storage as `sha256:` followed by the base64url digest.
    ///
    /// A fast hash is enough because generated secrets carry 256 bits of entropy.
    pub fn hash(&self) -> String {
        let digest = Sha256::digest(self.0.as_bytes());
        format!("{SHA256_PREFIX}{}", URL_SAFE_NO_PAD.encode(digest))
    }
}

impl fmt::Debug for ClientSecret {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str("ClientSecret(<redacted>)")
    }
}

/// The outcome of checking a presented secret against a stored hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecretCheck {
    /// The secret does not match.
    Mismatch,
    /// The secret matches a current-format hash.
    Match,
    /// The secret matches a legacy bcrypt hash, which should be replaced by `ClientSecret::hash`.
    MatchNeedsRehash,
}

impl SecretCheck {
    /// Whether the secret matched, in either format.
    pub fn matched(self) -> bool {
        !matches!(self, Self::Mismatch)
    }
}

/// Checks a presented secret against a stored hash in constant time.
///
/// Accepts `sha256:` hashes and the bcrypt hashes (`$2a$`, `$2b$`, `$2y$`) that the
/// TypeScript package stored. An unrecognised hash never matches.
pub fn check_secret(presented: &ClientSecret, stored_hash: &str) -> SecretCheck {
    if let Some(expected) = stored_hash.strip_prefix(SHA256_PREFIX) {
        let presented_hash = presented.hash();
        let presented_digest = &presented_hash.as_bytes()[SHA256_PREFIX.len()..];
        return if presented_digest.ct_eq(expected.as_bytes()).into() {
            SecretCheck::Match
        } else {
            SecretCheck::Mismatch
        };
    }

    if is_bcrypt_hash(stored_hash) {
        return match bcrypt::verify(presented.expose(), stored_hash) {
            Ok(true) => SecretCheck::MatchNeedsRehash,
            _ => SecretCheck::Mismatch,
        };
    }

    SecretCheck::Mismatch
}

fn is_bcrypt_hash(hash: &str) -> bool {
    ["$2a$", "$2b$", "$2y$"].iter().any(|prefix| hash.starts_with(prefix))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn generated_secret_is_43_base64url_chars() {
        let secret = ClientSecret::generate().expect("rng");
        assert_eq!(secret.expose().len(), 43);
        assert!(secret
            .expose()
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_'));
    }

    #[test]
    fn sha256_hash_matches_only_its_secret() {
        let secret = ClientSecret::new("correct horse");
        let hash = secret.hash();
        assert!(hash.starts_with("sha256:"));
        assert_eq!(check_secret(&secret, &hash), SecretCheck::Match);
        assert_eq!(check_secret(&ClientSecret::new("wrong"), &hash), SecretCheck::Mismatch);
    }

    #[test]
    fn bcrypt_hash_matches_and_asks_for_rehash() {
        let hash = bcrypt::hash("legacy-secret", 4).expect("bcrypt");
        let check = check_secret(&ClientSecret::new("legacy-secret"), &hash);
        assert_eq!(check, SecretCheck::MatchNeedsRehash);
        let wrong = check_secret(&ClientSecret::new("other"), &hash);
        assert_eq!(wrong, SecretCheck::Mismatch);
    }

    #[test]
    fn unknown_hash_format_never_matches() {
        let check = check_secret(&ClientSecret::new("x"), "plain:x");
        assert_eq!(check, SecretCheck::Mismatch);
    }

    #[test]
    fn debug_output_is_redacted() {
        let secret = ClientSecret::new("super-secret-value");
        assert!(!format!("{secret:?}").contains("super-secret-value"));
    }
}
