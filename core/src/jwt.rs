//! Compact JWS encoding and decoding of JWT access tokens (RFC 7515, RFC 7519).
//!
//! Decoding here only splits and parses; it never trusts a token. The guard checks
//! the signature before it reads any claim.

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine;
use serde_json::{Map, Value};

use crate::crypto::SigningKeyPair;
use crate::error::{Error, Result};

/// The `typ` header of access tokens (RFC 9068 §2.1).
pub const ACCESS_TOKEN_TYPE: &str = "at+jwt";

/// The maximum length of a token the guard will parse, in bytes.
///
/// Our tokens are well under 1 KiB; the limit keeps oversized input cheap to reject.
pub const MAX_TOKEN_LENGTH: usize = 16 * 1024;

/// Signs claims into a compact JWS with header `{ alg, kid, typ }`.
pub fn encode(key: &SigningKeyPair, claims: &Map<String, Value>) -> Result<String> {
    let header = serde_json::json!({
        "alg": key.algorithm().as_str(),
        "kid": key.key_id(),
        "typ": ACCESS_TOKEN_TYPE,
    });
    let header_json = serde_json::to_vec(&header).map_err(|error| Error::internal(error.to_string()))?;
    let claims_json = serde_json::to_vec(claims).map_err(|error| Error::internal(error.to_string()))?;

    let mut token = String::with_capacity(64 + claims_json.len() * 4 / 3 + 360);
    URL_SAFE_NO_PAD.encode_string(&header_json, &mut token);
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&claims_json, &mut token);

    let signature = key.sign(token.as_bytes())?;
    token.push('.');
    URL_SAFE_NO_PAD.encode_string(&signature, &mut token);
    Ok(token)
}

/// A token split into its parts, with header and claims parsed but not yet trusted.
#[derive(Debug)]
pub struct UnverifiedToken<'a> {
    /// The JOSE header.
    pub header: Map<String, Value>,
    /// The claims set.
    pub claims: Map<String, Value>,
    /// `BASE64URL(header) '.' BASE64URL(payload)`, the bytes the signature covers.
    pub signing_input: &'a str,
    /// The decoded signature.
    pub signature: Vec<u8>,
}

/// A compact JWS split into its three base64url parts, none of them decoded yet.
pub(crate) struct JwsParts<'a> {
    pub(crate) header: &'a str,
    pub(crate) payload: &'a str,
    pub(crate) signature: &'a str,
    /// `BASE64URL(header) '.' BASE64URL(payload)`, the bytes the signature covers.
    pub(crate) signing_input: &'a str,
}

/// Splits a compact JWS into its parts. Every failure is `invalid_token`.
pub(crate) fn split(token: &str) -> Result<JwsParts<'_>> {
    if token.len() > MAX_TOKEN_LENGTH {
        return Err(Error::invalid_token(format!(
            "the token is {} bytes long, more than the {MAX_TOKEN_LENGTH} bytes accepted",
            token.len()
        )));
    }

    let mut parts = token.split('.');
    let (Some(header), Some(payload), Some(signature), None) = (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(Error::invalid_token(
            "the token is malformed: expected three base64url parts separated by dots",
        ));
    };
    Ok(JwsParts {
        header,
        payload,
        signature,
        signing_input: &token[..header.len() + 1 + payload.len()],
    })
}

/// Splits and parses a compact JWS. Every failure is `invalid_token`.
pub fn decode_unverified(token: &str) -> Result<UnverifiedToken<'_>> {
    let parts = split(token)?;
    Ok(UnverifiedToken {
        header: decode_json_part(parts.header, "header")?,
        claims: decode_json_part(parts.payload, "payload")?,
        signing_input: parts.signing_input,
        signature: decode_signature(parts.signature)?,
    })
}

/// Decodes the header or payload part into a JSON object. `name` names the part in errors.
pub(crate) fn decode_json_part(part: &str, name: &str) -> Result<Map<String, Value>> {
    let bytes = URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Error::invalid_token(format!("the token {name} is not base64url")))?;
    match serde_json::from_slice::<Value>(&bytes) {
        Ok(Value::Object(map)) => Ok(map),
        _ => Err(Error::invalid_token(format!("the token {name} is not a JSON object"))),
    }
}

/// Decodes the signature part.
pub(crate) fn decode_signature(part: &str) -> Result<Vec<u8>> {
    URL_SAFE_NO_PAD
        .decode(part)
        .map_err(|_| Error::invalid_token("the token signature is not base64url"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::{Algorithm, VerifyingKey};

    #[test]
    fn encoded_token_decodes_and_verifies() {
        let key = SigningKeyPair::generate(Algorithm::Es256, "kid-1".into()).expect("key");
        let mut claims = Map::new();
        claims.insert("sub".into(), "svc_1".into());
        let token = encode(&key, &claims).expect("encode");

        let decoded = decode_unverified(&token).expect("decode");
        assert_eq!(decoded.header["alg"], "ES256");
        assert_eq!(decoded.header["kid"], "kid-1");
        assert_eq!(decoded.header["typ"], ACCESS_TOKEN_TYPE);
        assert_eq!(decoded.claims["sub"], "svc_1");

        let verifying = VerifyingKey::from_jwk(&serde_json::to_value(key.jwk()).expect("jwk")).expect("key");
        assert!(verifying.verify(decoded.signing_input.as_bytes(), &decoded.signature));
    }

    #[test]
    fn malformed_tokens_are_invalid_token() {
        for token in ["", "a.b", "a.b.c.d", "!!.e30.AA", "e30.W10.AA", "e30.e30.***"] {
            let error = decode_unverified(token).expect_err(token);
            assert_eq!(error.code(), "invalid_token", "{token}");
        }
    }

    #[test]
    fn oversized_token_is_rejected_before_parsing() {
        let token = "a".repeat(MAX_TOKEN_LENGTH + 1);
        let error = decode_unverified(&token).expect_err("too long");
        assert!(error.message().contains("bytes"));
    }
}
