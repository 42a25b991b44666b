//! The guard: local verification of access tokens against the issuer's JWKS, and, with
//! storage, revocation, disabled-client and cutoff checks. A token is verified in
//! [`Guard::verify`].

mod cache;
mod jwks;

use std::sync::{Arc, Mutex};

use futures_util::FutureExt;
use serde_json::{Map, Value};

pub use cache::VERIFIED_CACHE_CAPACITY;
pub use jwks::{FETCH_TIMEOUT, JWKS_TTL, REFETCH_COOLDOWN};

use crate::crypto::Algorithm;
use crate::error::{Error, ErrorKind, Result};
use crate::events::{emit, Event, EventHook, Outcome};
use crate::http::HttpTransport;
use crate::jwt;
use crate::provider::normalize_issuer;
use crate::storage::Storage;
use crate::time::Timestamp;
use cache::{CachedToken, VerifiedCache, UNKNOWN_VERSION};
use jwks::{JwksCache, KeySet, RefreshReport};

/// Default clock tolerance for `exp`, `nbf` and `iat`, in seconds.
pub const DEFAULT_CLOCK_TOLERANCE: u64 = 5;

/// Options of a guard.
#[derive(Clone)]
pub struct GuardOptions {
    /// The expected `iss` claim, compared exactly; a trailing slash in it is optional
    /// in tokens.
    pub issuer: String,
    /// Where the JWKS is; default `{issuer}/.well-known/jwks.json`.
    pub jwks_url: Option<String>,
    /// When not empty, the `aud` claim must name one of these.
    pub audience: Vec<String>,
    /// Scopes the token must all carry.
    pub scopes: Vec<String>,
    /// When set, the `env` claim must equal it.
    pub env: Option<String>,
    /// Allowed clock skew in seconds; default 5. Larger values accept expired tokens longer.
    pub clock_tolerance: u64,
    /// Receives guard events.
    pub on_event: Option<EventHook>,
    /// Enables revocation, disabled-client and cutoff checks.
    pub storage: Option<Arc<dyn Storage>>,
}

impl GuardOptions {
    /// Options with defaults for everything but the issuer.
    pub fn new(issuer: impl Into<String>) -> Self {
        Self {
            issuer: issuer.into(),
            jwks_url: None,
            audience: Vec::new(),
            scopes: Vec::new(),
            env: None,
            clock_tolerance: DEFAULT_CLOCK_TOLERANCE,
            on_event: None,
            storage: None,
        }
    }
}

/// The verified identity of a token's caller. Serializes in the camelCase form of the
/// JavaScript `ServiceIdentity`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ServiceIdentity {
    /// The `sub` claim: the caller's client id.
    pub client_id: String,
    /// The `name` claim.
    pub name: Option<String>,
    /// The scopes of the `scope` claim.
    pub scopes: Vec<String>,
    /// The `env` claim.
    pub env: Option<String>,
    /// Every claim of the token.
    pub raw: Map<String, Value>,
}

/// Verifies access tokens. Cheap to clone; clones share the JWKS cache.
#[derive(Clone)]
pub struct Guard {
    inner: Arc<GuardInner>,
}

struct GuardInner {
    options: GuardOptions,
    /// The issuer as configured, before its trailing slash was removed.
    configured_issuer: String,
    transport: Arc<dyn HttpTransport>,
    jwks: JwksCache,
    verified: VerifiedCache,
    last_header: Mutex<Option<LastHeader>>,
}

impl std::fmt::Debug for Guard {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("Guard")
            .field("issuer", &self.inner.options.issuer)
            .finish_non_exhaustive()
    }
}

enum SignatureCheck {
    Valid,
    /// No key with the token's `kid` (or, without `kid`, none verified).
    Missing,
    /// A key with the token's `kid` exists but the signature does not verify.
    Invalid,
    /// The key with the token's `kid` is of another type than `alg` names.
    WrongKeyType,
}

impl Guard {
    /// Creates a guard that fetches the JWKS through `transport`.
    pub fn new(mut options: GuardOptions, transport: Arc<dyn HttpTransport>) -> Result<Self> {
        let configured_issuer = options.issuer.trim().to_owned();
        options.issuer = normalize_issuer(&options.issuer)?;
        let jwks_url = match &options.jwks_url {
            Some(url) if url.starts_with("https://") || url.starts_with("http://") => url.clone(),
            Some(url) => {
                return Err(Error::invalid_argument(format!(
                    "invalid jwksUrl {url:?}: use an absolute http(s) URL"
                )))
            }
            None => format!("{}/.well-known/jwks.json", options.issuer),
        };
        if options.audience.iter().any(String::is_empty) {
            return Err(Error::invalid_argument("an audience is empty: pass non-empty audience values"));
        }
        Ok(Self {
            inner: Arc::new(GuardInner {
                jwks: JwksCache::new(jwks_url),
                verified: VerifiedCache::default(),
                last_header: Mutex::new(None),
                configured_issuer,
                options,
                transport,
            }),
        })
    }

    /// Verifies a token: signature, `iss`, `exp`, `nbf`, `iat`, `sub`, audience, scopes,
    /// env, and with storage the client, the `jti` and the cutoff.
    pub async fn verify(&self, token: &str) -> Result<ServiceIdentity> {
        self.verify_shared(token).await.map(Arc::unwrap_or_clone)
    }

    /// [`Guard::verify`], returning the identity the guard keeps for the token, which
    /// saves a copy.
    pub async fn verify_shared(&self, token: &str) -> Result<Arc<ServiceIdentity>> {
        if let Some(result) = self.verify_cached(token) {
            return result;
        }
        let mut signed_subject = None;
        let result = self.inner.verify(token, &mut signed_subject).await;
        self.inner.report(&result, signed_subject);
        result
    }

    /// Verifies a token on the calling thread when no I/O is needed: the JWKS is cached
    /// and has the token's key, and storage is absent or in this process. Returns `None`
    /// otherwise; then call [`Guard::verify`]. Both apply the same checks.
    pub fn verify_local(&self, token: &str) -> Option<Result<ServiceIdentity>> {
        self.verify_local_shared(token).map(|result| result.map(Arc::unwrap_or_clone))
    }

    /// [`Guard::verify_local`], returning the identity the guard keeps for the token.
    pub fn verify_local_shared(&self, token: &str) -> Option<Result<Arc<ServiceIdentity>>> {
        if let Some(result) = self.verify_cached(token) {
            return Some(result);
        }
        let mut signed_subject = None;
        let result = self.inner.verify_local(token, &mut signed_subject)?;
        self.inner.report(&result, signed_subject);
        Some(result)
    }

    /// Checks a token verified before (cached from its second verification), without
    /// parsing it or checking its signature again: expiry and, with storage, the client, the `jti` and the cutoff
    /// are still checked, so revocation applies to cached tokens at once.
    ///
    /// Storage is consulted again only when its [`Storage::version`] changed since the
    /// last check (always, for storage that cannot tell). Returns `None` when the token
    /// is not cached, has expired, or the storage check needs I/O; then verify it.
    pub fn verify_cached(&self, token: &str) -> Option<Result<Arc<ServiceIdentity>>> {
        let inner = &self.inner;
        let token = token.trim();
        let entry = inner.verified.get(token)?;

        let now = Timestamp::now().as_seconds() as f64;
        if now >= entry.expires_at + inner.options.clock_tolerance as f64 {
            inner.verified.remove(token);
            return None;
        }

        let result = match &inner.options.storage {
            None => Ok(()),
            Some(storage) => {
                let version = storage.version();
                if version.is_some_and(|version| version == entry.version()) {
                    Ok(())
                } else if storage.is_local() {
                    // Local storage completes its futures on the first poll.
                    let checked = check_storage(storage.as_ref(), &entry.identity.raw).now_or_never()?;
                    if checked.is_ok() {
                        entry.set_version(version.unwrap_or(UNKNOWN_VERSION));
                    }
                    checked
                } else {
                    return None;
                }
            }
        };

        let result = match result {
            Ok(()) => Ok(entry.identity.clone()),
            Err(error) => {
                inner.verified.remove(token);
                Err(error)
            }
        };
        let subject = Some(entry.identity.client_id.clone());
        inner.report_with(result.as_ref().map(|identity| identity.as_ref()), subject);
        Some(result)
    }
}

/// A token split and parsed, with its header read.
struct ParsedToken<'a> {
    /// The token without surrounding whitespace, the key of the verified cache.
    raw_token: &'a str,
    claims: Map<String, Value>,
    signing_input: &'a str,
    signature: Vec<u8>,
    algorithm: Algorithm,
    key_id: Option<Arc<str>>,
}

/// The last header that passed [`read_header`], as encoded in the token. Every token
/// signed with one key has the same header, so a token with this header skips decoding
/// it again.
struct LastHeader {
    encoded: Box<str>,
    algorithm: Algorithm,
    key_id: Option<Arc<str>>,
}

impl GuardInner {
    fn parse_token<'a>(&self, token: &'a str) -> Result<ParsedToken<'a>> {
        let token = token.trim();
        if token.is_empty() {
            return Err(Error::new(ErrorKind::MissingToken, "the bearer token is missing"));
        }
        let parts = jwt::split(token)?;
        let (algorithm, key_id) = self.read_header_part(parts.header)?;
        Ok(ParsedToken {
            raw_token: token,
            claims: jwt::decode_json_part(parts.payload, "payload")?,
            signing_input: parts.signing_input,
            signature: jwt::decode_signature(parts.signature)?,
            algorithm,
            key_id,
        })
    }

    fn read_header_part(&self, encoded: &str) -> Result<(Algorithm, Option<Arc<str>>)> {
        let mut last = self.last_header.lock().unwrap_or_else(|poisoned| poisoned.into_inner());
        if let Some(last) = last.as_ref().filter(|last| &*last.encoded == encoded) {
            return Ok((last.algorithm, last.key_id.clone()));
        }

        let header = jwt::decode_json_part(encoded, "header")?;
        let (algorithm, key_id) = read_header(&header)?;
        let key_id: Option<Arc<str>> = key_id.map(Arc::from);
        *last = Some(LastHeader {
            encoded: encoded.into(),
            algorithm,
            key_id: key_id.clone(),
        });
        Ok((algorithm, key_id))
    }

    async fn verify(&self, token: &str, signed_subject: &mut Option<String>) -> Result<Arc<ServiceIdentity>> {
        let parsed = self.parse_token(token)?;

        let keys = self.key_set().await?;
        let mut check = check_signature(&keys, &parsed);
        if matches!(check, SignatureCheck::Missing | SignatureCheck::Invalid) {
            let mut report = None;
            let refetched = self.jwks.refetch_after_miss(self.transport.as_ref(), &keys, &mut report).await;
            self.report_refresh(report);
            if let Ok(Some(newer)) = refetched {
                check = check_signature(&newer, &parsed);
            }
        }
        self.finish(parsed, check, signed_subject).await
    }

    /// Verifies without I/O, or returns `None` when that is not possible: the JWKS is
    /// not cached or lacks the key, or the storage must be awaited.
    fn verify_local(&self, token: &str, signed_subject: &mut Option<String>) -> Option<Result<Arc<ServiceIdentity>>> {
        let parsed = match self.parse_token(token) {
            Ok(parsed) => parsed,
            Err(error) => return Some(Err(error)),
        };
        let keys = self.jwks.fresh()?;
        let check = check_signature(&keys, &parsed);
        // A miss needs a refetch unless the cooldown forbids one, so that a stream of
        // forged tokens is rejected here, at the cost of a valid verification or less.
        if matches!(check, SignatureCheck::Missing | SignatureCheck::Invalid) && self.jwks.refetch_possible(&keys) {
            return None;
        }
        if self.options.storage.as_ref().is_some_and(|storage| !storage.is_local()) {
            return None;
        }
        // Local storage completes its futures on the first poll.
        self.finish(parsed, check, signed_subject).now_or_never()
    }

    /// Turns the signature check into a result, then checks claims and storage.
    async fn finish(
        &self,
        parsed: ParsedToken<'_>,
        check: SignatureCheck,
        signed_subject: &mut Option<String>,
    ) -> Result<Arc<ServiceIdentity>> {
        let algorithm = parsed.algorithm;
        match check {
            SignatureCheck::Valid => {}
            SignatureCheck::Missing => {
                return Err(Error::invalid_token(match &parsed.key_id {
                    Some(key_id) => format!("no key with id {key_id:?} in the issuer's JWKS"),
                    None => "no key in the issuer's JWKS verifies the token signature".to_owned(),
                }))
            }
            SignatureCheck::Invalid => return Err(Error::invalid_token("the token signature is invalid")),
            SignatureCheck::WrongKeyType => {
                return Err(Error::invalid_token(format!(
                    "the token's alg {algorithm} does not match the type of key {:?}",
                    parsed.key_id.as_deref().unwrap_or("")
                )))
            }
        }

        let claims = parsed.claims;
        if self.options.on_event.is_some() {
            *signed_subject = claims.get("sub").and_then(Value::as_str).map(str::to_owned);
        }
        self.check_claims(&claims)?;
        let mut storage_version = UNKNOWN_VERSION;
        if let Some(storage) = &self.options.storage {
            // Read before the check, so that a write during the check changes it.
            storage_version = storage.version().unwrap_or(UNKNOWN_VERSION);
            check_storage(storage.as_ref(), &claims).await?;
        }

        let expires_at = numeric_claim(&claims, "exp")?.unwrap_or(0.0);
        let identity = Arc::new(identity(claims));
        self.verified.insert(
            parsed.raw_token,
            CachedToken::new(identity.clone(), expires_at, storage_version),
        );
        Ok(identity)
    }

    fn report(&self, result: &Result<Arc<ServiceIdentity>>, signed_subject: Option<String>) {
        self.report_with(result.as_ref().map(|identity| identity.as_ref()), signed_subject);
    }

    fn report_with(&self, result: std::result::Result<&ServiceIdentity, &Error>, signed_subject: Option<String>) {
        if self.options.on_event.is_none() {
            return;
        }
        let issuer = &self.options.issuer;
        let event = match result {
            Ok(identity) => Event::new("token.verified", issuer, Outcome::Success)
                .client(&identity.client_id)
                .audience(audience_claim(&identity.raw))
                .metadata("scopes", identity.scopes.clone())
                .metadata("jti", identity.raw.get("jti").cloned().unwrap_or(Value::Null)),
            Err(error) => {
                let mut event = Event::new("token.verification_failed", issuer, Outcome::Failure)
                    .reason(error.code())
                    .metadata("message", error.message());
                // Only a subject under a valid signature is named: an unsigned one is
                // whatever the sender wrote.
                event.client_id = signed_subject;
                event
            }
        };
        emit(&self.options.on_event, event);
    }

    async fn key_set(&self) -> Result<Arc<KeySet>> {
        if let Some(set) = self.jwks.fresh() {
            return Ok(set);
        }
        let mut report = None;
        let result = self.jwks.get(self.transport.as_ref(), &mut report).await;
        self.report_refresh(report);
        result
    }

    fn report_refresh(&self, report: Option<RefreshReport>) {
        let issuer = &self.options.issuer;
        let event = match report {
            None => return,
            Some(RefreshReport::Refreshed { key_count }) => {
                Event::new("jwks.refreshed", issuer, Outcome::Success).metadata("keyCount", key_count)
            }
            Some(RefreshReport::Failed { message }) => Event::new("jwks.refresh_failed", issuer, Outcome::Failure)
                .reason("jwks_fetch_failed")
                .metadata("message", message),
        };
        emit(&self.options.on_event, event);
    }

    fn check_claims(&self, claims: &Map<String, Value>) -> Result<()> {
        let options = &self.options;
        let now = Timestamp::now().as_seconds() as f64;
        let tolerance = options.clock_tolerance as f64;

        match claims.get("iss").and_then(Value::as_str) {
            Some(issuer) if issuer == options.issuer || issuer == self.configured_issuer => {}
            Some(issuer) => {
                return Err(Error::new(
                    ErrorKind::InvalidIssuer,
                    format!("the token issuer {issuer:?} is not the expected {:?}", options.issuer),
                ))
            }
            None => return Err(Error::new(ErrorKind::InvalidIssuer, "the token has no iss claim")),
        }

        let expires_at = numeric_claim(claims, "exp")?
            .ok_or_else(|| Error::invalid_token("the token has no exp claim"))?;
        // RFC 7519 §4.1.4: the current time must be before exp.
        if now >= expires_at + tolerance {
            return Err(Error::invalid_token("the token has expired"));
        }
        if let Some(not_before) = numeric_claim(claims, "nbf")? {
            if not_before > now + tolerance {
                return Err(Error::invalid_token("the token is not valid yet (nbf is in the future)"));
            }
        }
        if let Some(issued_at) = numeric_claim(claims, "iat")? {
            if issued_at > now + tolerance {
                return Err(Error::invalid_token("the token was issued in the future (iat)"));
            }
        }

        match claims.get("sub").and_then(Value::as_str) {
            Some(subject) if !subject.is_empty() => {}
            _ => return Err(Error::invalid_token("the token has no sub claim")),
        }

        if !options.audience.is_empty() {
            let matches = match claims.get("aud") {
                Some(Value::String(audience)) => options.audience.contains(audience),
                Some(Value::Array(audiences)) => audiences
                    .iter()
                    .filter_map(Value::as_str)
                    .any(|audience| options.audience.iter().any(|expected| expected == audience)),
                _ => false,
            };
            if !matches {
                return Err(Error::new(
                    ErrorKind::InvalidAudience,
                    format!("the token audience does not include {:?}", options.audience.join("\", \"")),
                ));
            }
        }

        if !options.scopes.is_empty() {
            let granted = scopes_of(claims);
            let missing: Vec<&str> = options
                .scopes
                .iter()
                .filter(|scope| !granted.contains(scope))
                .map(String::as_str)
                .collect();
            if !missing.is_empty() {
                return Err(Error::new(
                    ErrorKind::InvalidScope,
                    format!("the token lacks the required scope {:?}", missing.join(" ")),
                ));
            }
        }

        if let Some(expected) = &options.env {
            let env = claims.get("env").and_then(Value::as_str);
            if env != Some(expected.as_str()) {
                return Err(Error::new(
                    ErrorKind::InvalidEnv,
                    format!("the token env {:?} is not the expected {expected:?}", env.unwrap_or("")),
                ));
            }
        }
        Ok(())
    }
}

fn read_header(header: &Map<String, Value>) -> Result<(Algorithm, Option<&str>)> {
    let algorithm = match header.get("alg").and_then(Value::as_str) {
        Some("ES256") => Algorithm::Es256,
        Some("RS256") => Algorithm::Rs256,
        Some(other) => {
            return Err(Error::invalid_token(format!(
                "the token algorithm {other:?} is not accepted: only ES256 and RS256 are"
            )))
        }
        None => return Err(Error::invalid_token("the token header has no alg")),
    };
    if header.contains_key("crit") {
        return Err(Error::invalid_token("the token header has critical extensions (crit), which are not supported"));
    }
    let key_id = match header.get("kid") {
        None => None,
        Some(Value::String(key_id)) => Some(key_id.as_str()),
        Some(_) => return Err(Error::invalid_token("the token header kid is not a string")),
    };
    Ok((algorithm, key_id))
}

fn check_signature(keys: &KeySet, parsed: &ParsedToken<'_>) -> SignatureCheck {
    let (algorithm, key_id) = (parsed.algorithm, parsed.key_id.as_deref());
    let mut outcome = SignatureCheck::Missing;
    for key in keys.find(key_id) {
        if key.algorithm() != algorithm {
            if key_id.is_some() {
                outcome = SignatureCheck::WrongKeyType;
            }
            continue;
        }
        if key.verify(parsed.signing_input.as_bytes(), &parsed.signature) {
            return SignatureCheck::Valid;
        }
        outcome = if key_id.is_some() {
            SignatureCheck::Invalid
        } else {
            SignatureCheck::Missing
        };
    }
    outcome
}

fn numeric_claim(claims: &Map<String, Value>, name: &str) -> Result<Option<f64>> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(number)) => number
            .as_f64()
            .map(Some)
            .ok_or_else(|| Error::invalid_token(format!("the {name} claim is not a number"))),
        Some(_) => Err(Error::invalid_token(format!("the {name} claim is not a number"))),
    }
}

fn scopes_of(claims: &Map<String, Value>) -> Vec<String> {
    match claims.get("scope") {
        Some(Value::String(scope)) => scope.split(' ').filter(|scope| !scope.is_empty()).map(str::to_owned).collect(),
        _ => Vec::new(),
    }
}

fn audience_claim(claims: &Map<String, Value>) -> Option<String> {
    match claims.get("aud") {
        Some(Value::String(audience)) => Some(audience.clone()),
        Some(Value::Array(audiences)) => Some(
            audiences
                .iter()
                .filter_map(Value::as_str)
                .collect::<Vec<_>>()
                .join(" "),
        ),
        _ => None,
    }
}

/// Rejects tokens of unknown or disabled clients, revoked `jti`s, and tokens issued
/// before the client's cutoff.
async fn check_storage(storage: &dyn Storage, claims: &Map<String, Value>) -> Result<()> {
    let client_id = claims.get("sub").and_then(Value::as_str).unwrap_or("");
    let Some(client) = storage.find_client(client_id).await? else {
        return Err(Error::invalid_token(format!("the token's client {client_id:?} no longer exists")));
    };
    if !client.active {
        return Err(Error::invalid_token(format!("the token's client {client_id:?} is disabled")));
    }

    if let Some(cutoff) = client.tokens_invalid_before {
        let issued_at = numeric_claim(claims, "iat")?
            .ok_or_else(|| Error::invalid_token("the token has no iat claim, so the client's cutoff cannot be checked"))?;
        if issued_at * 1000.0 < cutoff.as_millis() as f64 {
            return Err(Error::invalid_token(format!(
                "the token was issued before the client's cutoff {cutoff}"
            )));
        }
    }

    if let Some(jti) = claims.get("jti").and_then(Value::as_str) {
        if storage.find_revoked_token(jti).await?.is_some() {
            return Err(Error::invalid_token("the token has been revoked"));
        }
    }
    Ok(())
}

fn identity(claims: Map<String, Value>) -> ServiceIdentity {
    let text = |name: &str| claims.get(name).and_then(Value::as_str).map(str::to_owned);
    ServiceIdentity {
        client_id: text("sub").unwrap_or_default(),
        name: text("name"),
        scopes: scopes_of(&claims),
        env: text("env"),
        raw: claims,
    }
}
