//! Signing and verification keys for ES256 and RS256, backed by aws-lc-rs.
//!
//! Keys are parsed once into these types and then reused for every token.

use std::fmt;

use aws_lc_rs::encoding::{AsDer, Pkcs8V1Der, PublicKeyX509Der};
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::rsa::{KeyPair as RsaKeyPair, KeySize, PublicKeyComponents};
use aws_lc_rs::signature::{
    EcdsaKeyPair, KeyPair, ParsedPublicKey, ECDSA_P256_SHA256_FIXED, ECDSA_P256_SHA256_FIXED_SIGNING,
    RSA_PKCS1_2048_8192_SHA256, RSA_PKCS1_SHA256,
};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};

/// A JWS algorithm this library signs and verifies with (RFC 7518).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Algorithm {
    /// ECDSA with P-256 and SHA-256.
    #[serde(rename = "ES256")]
    Es256,
    /// RSASSA-PKCS1-v1_5 with SHA-256.
    #[serde(rename = "RS256")]
    Rs256,
}

impl Algorithm {
    /// The JWS `alg` name.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Es256 => "ES256",
            Self::Rs256 => "RS256",
        }
    }

    /// Reads a JWS `alg` name; only `ES256` and `RS256` are accepted.
    pub fn parse(name: &str) -> Result<Self> {
        match name {
            "ES256" => Ok(Self::Es256),
            "RS256" => Ok(Self::Rs256),
            other => Err(Error::invalid_argument(format!(
                "unsupported signing algorithm {other:?}: use \"ES256\" or \"RS256\""
            ))),
        }
    }
}

impl fmt::Display for Algorithm {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}

/// A public key in JWK form (RFC 7517), as published in the JWKS.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PublicJwk {
    /// Key type: `EC` or `RSA`.
    pub kty: String,
    /// Key id.
    pub kid: String,
    /// The algorithm this key verifies.
    pub alg: String,
    /// Always `sig`.
    #[serde(rename = "use")]
    pub key_use: String,
    /// EC curve (`P-256`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub crv: Option<String>,
    /// EC x coordinate, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub x: Option<String>,
    /// EC y coordinate, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub y: Option<String>,
    /// RSA modulus, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub n: Option<String>,
    /// RSA public exponent, base64url.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub e: Option<String>,
}

enum PrivateKey {
    Ec(EcdsaKeyPair),
    Rsa(RsaKeyPair),
}

/// A private signing key with its id, its PEM forms and its public JWK.
pub struct SigningKeyPair {
    key_id: String,
    algorithm: Algorithm,
    private_key: PrivateKey,
    private_key_pem: String,
    public_key_pem: String,
    jwk: PublicJwk,
    rng: SystemRandom,
}

impl fmt::Debug for SigningKeyPair {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SigningKeyPair")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .field("private_key", &"<redacted>")
            .finish()
    }
}

impl SigningKeyPair {
    /// Generates a new key: P-256 for ES256, 2048-bit RSA for RS256.
    pub fn generate(algorithm: Algorithm, key_id: String) -> Result<Self> {
        let pkcs8 = match algorithm {
            Algorithm::Es256 => {
                let document =
                    EcdsaKeyPair::generate_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, &SystemRandom::new())
                        .map_err(|_| Error::internal("generating a P-256 key failed"))?;
                document.as_ref().to_vec()
            }
            Algorithm::Rs256 => {
                let key_pair = RsaKeyPair::generate(KeySize::Rsa2048)
                    .map_err(|_| Error::internal("generating an RSA key failed"))?;
                let der: Pkcs8V1Der<'static> = key_pair
                    .as_der()
                    .map_err(|_| Error::internal("encoding an RSA key as PKCS#8 failed"))?;
                der.as_ref().to_vec()
            }
        };
        Self::from_pkcs8_der(Some(algorithm), &pkcs8, key_id)
    }

    /// Imports a PEM private key: PKCS#8 (`PRIVATE KEY`), SEC1 (`EC PRIVATE KEY`) or
    /// PKCS#1 (`RSA PRIVATE KEY`). With `algorithm`, the key type must match it.
    pub fn from_pem(algorithm: Option<Algorithm>, pem_text: &str, key_id: String) -> Result<Self> {
        let parsed = pem::parse(pem_text.trim()).map_err(|_| {
            Error::invalid_argument(
                "the signing private key is not PEM: expected a PKCS#8 \"-----BEGIN PRIVATE KEY-----\" block",
            )
        })?;
        match parsed.tag() {
            "PRIVATE KEY" => Self::from_pkcs8_der(algorithm, parsed.contents(), key_id),
            "EC PRIVATE KEY" => {
                let key_pair = EcdsaKeyPair::from_private_key_der(&ECDSA_P256_SHA256_FIXED_SIGNING, parsed.contents())
                    .map_err(|_| Error::invalid_argument("the EC PRIVATE KEY is not a valid P-256 key"))?;
                let document = key_pair
                    .to_pkcs8v1()
                    .map_err(|_| Error::internal("encoding a P-256 key as PKCS#8 failed"))?;
                Self::from_pkcs8_der(algorithm, document.as_ref(), key_id)
            }
            "RSA PRIVATE KEY" => {
                let key_pair = RsaKeyPair::from_der(parsed.contents())
                    .map_err(|_| Error::invalid_argument("the RSA PRIVATE KEY is not a valid RSA key of 2048 bits or more"))?;
                let der: Pkcs8V1Der<'static> = key_pair
                    .as_der()
                    .map_err(|_| Error::internal("encoding an RSA key as PKCS#8 failed"))?;
                Self::from_pkcs8_der(algorithm, der.as_ref(), key_id)
            }
            other => Err(Error::invalid_argument(format!(
                "the signing private key is a PEM {other:?} block: expected \"PRIVATE KEY\" (PKCS#8)"
            ))),
        }
    }

    fn from_pkcs8_der(algorithm: Option<Algorithm>, der: &[u8], key_id: String) -> Result<Self> {
        let private_key = if let Ok(key_pair) = EcdsaKeyPair::from_pkcs8(&ECDSA_P256_SHA256_FIXED_SIGNING, der) {
            PrivateKey::Ec(key_pair)
        } else if let Ok(key_pair) = RsaKeyPair::from_pkcs8(der) {
            PrivateKey::Rsa(key_pair)
        } else {
            return Err(Error::invalid_argument(
                "the signing private key is neither a P-256 EC key nor an RSA key of 2048 bits or more",
            ));
        };

        let key_algorithm = match &private_key {
            PrivateKey::Ec(_) => Algorithm::Es256,
            PrivateKey::Rsa(_) => Algorithm::Rs256,
        };
        if let Some(expected) = algorithm {
            if expected != key_algorithm {
                return Err(Error::invalid_argument(format!(
                    "the signing private key is a {} key but the algorithm is {expected}: pass algorithm {key_algorithm:?} or a matching key",
                    match key_algorithm {
                        Algorithm::Es256 => "P-256 EC",
                        Algorithm::Rs256 => "RSA",
                    }
                )));
            }
        }

        let (spki, jwk) = match &private_key {
            PrivateKey::Ec(key_pair) => {
                let point = key_pair.public_key().as_ref();
                let spki: PublicKeyX509Der<'static> = key_pair
                    .public_key()
                    .as_der()
                    .map_err(|_| Error::internal("encoding a P-256 public key failed"))?;
                let jwk = PublicJwk {
                    kty: "EC".into(),
                    kid: key_id.clone(),
                    alg: key_algorithm.as_str().into(),
                    key_use: "sig".into(),
                    crv: Some("P-256".into()),
                    x: Some(URL_SAFE_NO_PAD.encode(&point[1..33])),
                    y: Some(URL_SAFE_NO_PAD.encode(&point[33..65])),
                    n: None,
                    e: None,
                };
                (spki.as_ref().to_vec(), jwk)
            }
            PrivateKey::Rsa(key_pair) => {
                let public_key = key_pair.public_key();
                let spki: PublicKeyX509Der<'static> = public_key
                    .as_der()
                    .map_err(|_| Error::internal("encoding an RSA public key failed"))?;
                let components: PublicKeyComponents<Vec<u8>> = public_key.into();
                let jwk = PublicJwk {
                    kty: "RSA".into(),
                    kid: key_id.clone(),
                    alg: key_algorithm.as_str().into(),
                    key_use: "sig".into(),
                    crv: None,
                    x: None,
                    y: None,
                    n: Some(URL_SAFE_NO_PAD.encode(&components.n)),
                    e: Some(URL_SAFE_NO_PAD.encode(&components.e)),
                };
                (spki.as_ref().to_vec(), jwk)
            }
        };

        Ok(Self {
            key_id,
            algorithm: key_algorithm,
            private_key,
            private_key_pem: encode_pem("PRIVATE KEY", der),
            public_key_pem: encode_pem("PUBLIC KEY", &spki),
            jwk,
            rng: SystemRandom::new(),
        })
    }

    /// The key id (`kid`).
    pub fn key_id(&self) -> &str {
        &self.key_id
    }

    /// The algorithm this key signs with.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// The private key as PKCS#8 PEM, for storage.
    pub fn private_key_pem(&self) -> &str {
        &self.private_key_pem
    }

    /// The public key as SPKI PEM, for storage.
    pub fn public_key_pem(&self) -> &str {
        &self.public_key_pem
    }

    /// The public key as a JWK.
    pub fn jwk(&self) -> &PublicJwk {
        &self.jwk
    }

    /// Signs a JWS signing input, returning the raw signature (R||S for ES256).
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        match &self.private_key {
            PrivateKey::Ec(key_pair) => key_pair
                .sign(&self.rng, message)
                .map(|signature| signature.as_ref().to_vec())
                .map_err(|_| Error::internal("ES256 signing failed")),
            PrivateKey::Rsa(key_pair) => {
                let mut signature = vec![0u8; key_pair.public_modulus_len()];
                key_pair
                    .sign(&RSA_PKCS1_SHA256, &self.rng, message, &mut signature)
                    .map_err(|_| Error::internal("RS256 signing failed"))?;
                Ok(signature)
            }
        }
    }
}

fn encode_pem(tag: &str, der: &[u8]) -> String {
    let block = pem::Pem::new(tag, der.to_vec());
    pem::encode_config(&block, pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF))
}

/// A public key parsed from a JWK, pinned to the one algorithm its type allows.
pub struct VerifyingKey {
    key_id: Option<String>,
    algorithm: Algorithm,
    key: ParsedPublicKey,
}

impl fmt::Debug for VerifyingKey {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("VerifyingKey")
            .field("key_id", &self.key_id)
            .field("algorithm", &self.algorithm)
            .finish()
    }
}

impl VerifyingKey {
    /// Parses one JWK object. Returns `None` for keys this library cannot use
    /// (other key types or curves, encryption keys, or an `alg` other than ES256/RS256),
    /// so that one such key does not make a whole JWKS unusable.
    pub fn from_jwk(jwk: &serde_json::Value) -> Option<Self> {
        let field = |name: &str| jwk.get(name).and_then(serde_json::Value::as_str);
        if let Some(key_use) = field("use") {
            if key_use != "sig" {
                return None;
            }
        }
        let key_id = field("kid").map(str::to_owned);

        let (algorithm, key) = match field("kty")? {
            "EC" => {
                if field("crv")? != "P-256" {
                    return None;
                }
                let x = decode_coordinate(field("x")?)?;
                let y = decode_coordinate(field("y")?)?;
                let mut point = Vec::with_capacity(65);
                point.push(0x04);
                point.extend_from_slice(&x);
                point.extend_from_slice(&y);
                let key = ParsedPublicKey::new(&ECDSA_P256_SHA256_FIXED, point).ok()?;
                (Algorithm::Es256, key)
            }
            "RSA" => {
                let n = URL_SAFE_NO_PAD.decode(field("n")?.trim_end_matches('=')).ok()?;
                let e = URL_SAFE_NO_PAD.decode(field("e")?.trim_end_matches('=')).ok()?;
                let components = PublicKeyComponents { n: strip_leading_zeros(&n), e: strip_leading_zeros(&e) };
                let key = components.to_parsed_public_key(&RSA_PKCS1_2048_8192_SHA256).ok()?;
                (Algorithm::Rs256, key)
            }
            _ => return None,
        };

        if let Some(alg) = field("alg") {
            if alg != algorithm.as_str() {
                return None;
            }
        }

        Some(Self { key_id, algorithm, key })
    }

    /// The key id, when the JWK has one.
    pub fn key_id(&self) -> Option<&str> {
        self.key_id.as_deref()
    }

    /// The only algorithm this key verifies.
    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    /// Checks a signature over a JWS signing input.
    pub fn verify(&self, message: &[u8], signature: &[u8]) -> bool {
        self.key.verify_sig(message, signature).is_ok()
    }
}

fn decode_coordinate(text: &str) -> Option<Vec<u8>> {
    let bytes = URL_SAFE_NO_PAD.decode(text.trim_end_matches('=')).ok()?;
    (bytes.len() == 32).then_some(bytes)
}

fn strip_leading_zeros(bytes: &[u8]) -> &[u8] {
    let start = bytes.iter().position(|byte| *byte != 0).unwrap_or(bytes.len().saturating_sub(1));
    &bytes[start..]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sign_and_verify(algorithm: Algorithm) {
        let key = SigningKeyPair::generate(algorithm, "k1".into()).expect("generate");
        let jwk = serde_json::to_value(key.jwk()).expect("jwk");
        let verifying = VerifyingKey::from_jwk(&jwk).expect("usable jwk");
        let signature = key.sign(b"header.payload").expect("sign");
        assert_eq!(verifying.algorithm(), algorithm);
        assert!(verifying.verify(b"header.payload", &signature));
        assert!(!verifying.verify(b"header.payload2", &signature));
    }

    #[test]
    fn es256_round_trip() {
        sign_and_verify(Algorithm::Es256);
    }

    #[test]
    fn rs256_round_trip() {
        sign_and_verify(Algorithm::Rs256);
    }

    #[test]
    fn pem_export_imports_again() {
        let key = SigningKeyPair::generate(Algorithm::Es256, "k1".into()).expect("generate");
        assert!(key.private_key_pem().starts_with("-----BEGIN PRIVATE KEY-----\n"));
        assert!(key.public_key_pem().starts_with("-----BEGIN PUBLIC KEY-----\n"));
        let imported = SigningKeyPair::from_pem(None, key.private_key_pem(), "k1".into()).expect("import");
        assert_eq!(imported.jwk(), key.jwk());
    }

    #[test]
    fn import_rejects_algorithm_mismatch() {
        let key = SigningKeyPair::generate(Algorithm::Es256, "k1".into()).expect("generate");
        let error = SigningKeyPair::from_pem(Some(Algorithm::Rs256), key.private_key_pem(), "k1".into())
            .expect_err("mismatch");
        assert_eq!(error.code(), "invalid_argument");
    }

    #[test]
    fn jwk_with_other_alg_is_unusable() {
        let key = SigningKeyPair::generate(Algorithm::Es256, "k1".into()).expect("generate");
        let mut jwk = serde_json::to_value(key.jwk()).expect("jwk");
        jwk["alg"] = "RS256".into();
        assert!(VerifyingKey::from_jwk(&jwk).is_none());
        jwk["alg"] = "ES256".into();
        jwk["use"] = "enc".into();
        assert!(VerifyingKey::from_jwk(&jwk).is_none());
    }
}
