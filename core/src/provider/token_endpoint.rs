//! The token endpoint: the OAuth 2.0 client credentials grant (RFC 6749 §4.4).

use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD};
use base64::Engine;
use serde_json::{json, Map, Value};

use super::{unavailable, ProviderInner};
use crate::error::Error;
use crate::events::{Event, Outcome};
use crate::http::{form_decode, parse_form, HttpRequest, HttpResponse};
use crate::jwt;
use crate::secret::{check_secret, ClientSecret, SecretCheck};
use crate::storage::{ClientUpdate, SecretSlot, ServiceClient};
use crate::time::Timestamp;

/// The largest token request body accepted, in bytes.
pub const MAX_TOKEN_REQUEST_BYTES: usize = 16 * 1024;

/// How stale `lastSeenAt` and the secrets' last-used times may get, in seconds: they are
/// written at most once per this interval per client, not on every token.
const USAGE_WRITE_INTERVAL_SECONDS: i64 = 60;

/// A token request that failed, as the OAuth error response it becomes.
struct Rejection {
    status: u16,
    code: &'static str,
    description: String,
    challenge: bool,
    client_id: Option<String>,
}

impl Rejection {
    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(400, "invalid_request", description)
    }

    fn invalid_client(description: impl Into<String>, challenge: bool) -> Self {
        Self {
            challenge,
            ..Self::new(401, "invalid_client", description)
        }
    }

    fn new(status: u16, code: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            code,
            description: description.into(),
            challenge: false,
            client_id: None,
        }
    }

    fn for_client(mut self, client_id: &str) -> Self {
        self.client_id = Some(client_id.to_owned());
        self
    }

    fn into_response(self, realm: &str) -> HttpResponse {
        let mut response = HttpResponse::json(
            self.status,
            &json!({ "error": self.code, "error_description": self.description }),
        )
        .with_header("cache-control", "no-store")
        .with_header("pragma", "no-cache");
        if self.challenge {
            let realm = realm.replace('"', "");
            response = response.with_header("www-authenticate", format!("Basic realm=\"{realm}\", charset=\"UTF-8\""));
        }
        response
    }
}

/// Where the client credentials came from.
enum Credentials {
    Basic { client_id: String, secret: ClientSecret },
    Post { client_id: String, secret: ClientSecret },
}

impl Credentials {
    fn client_id(&self) -> &str {
        match self {
            Self::Basic { client_id, .. } | Self::Post { client_id, .. } => client_id,
        }
    }

    fn secret(&self) -> &ClientSecret {
        match self {
            Self::Basic { secret, .. } | Self::Post { secret, .. } => secret,
        }
    }

    fn is_basic(&self) -> bool {
        matches!(self, Self::Basic { .. })
    }
}

/// A legacy hash to replace: the slot, the hash read, and the update that replaces it.
struct Rehash {
    slot: SecretSlot,
    legacy_hash: String,
    update: ClientUpdate,
}

/// What a successful token request is granted.
struct Grant {
    client: ServiceClient,
    scopes: Vec<String>,
    audience: Option<String>,
    used_next_secret: bool,
    rehash: Option<Rehash>,
}

enum Failure {
    Rejected(Rejection),
    Unavailable(Error),
}

impl From<Rejection> for Failure {
    fn from(rejection: Rejection) -> Self {
        Self::Rejected(rejection)
    }
}

impl From<Error> for Failure {
    fn from(error: Error) -> Self {
        Self::Unavailable(error)
    }
}

impl ProviderInner {
    /// Handles `POST {issuer}/token`.
    pub(super) async fn token_endpoint(&self, request: &HttpRequest) -> HttpResponse {
        let issuer = &self.options.issuer;
        match self.grant(request).await {
            Ok(grant) => match self.issue(grant).await {
                Ok(response) => response,
                Err(error) => {
                    self.emit(
                        Event::new("token.issuance_failed", issuer, Outcome::Failure).reason(error.code()),
                    );
                    unavailable(&error)
                }
            },
            Err(Failure::Rejected(rejection)) => {
                let mut event = Event::new("token.issuance_failed", issuer, Outcome::Failure).reason(rejection.code);
                event.client_id = rejection.client_id.clone();
                event = event.metadata("description", rejection.description.clone());
                self.emit(event);
                rejection.into_response(issuer)
            }
            Err(Failure::Unavailable(error)) => {
                self.emit(Event::new("token.issuance_failed", issuer, Outcome::Failure).reason("temporarily_unavailable"));
                unavailable(&error)
            }
        }
    }

    /// Validates the request and authenticates the client: everything before signing.
    async fn grant(&self, request: &HttpRequest) -> Result<Grant, Failure> {
        let parameters = read_form(request)?;
        let parameter = |name: &str| {
            parameters
                .iter()
                .find(|(candidate, _)| candidate == name)
                .map(|(_, value)| value.as_str())
        };

        match parameter("grant_type") {
            None | Some("") => {
                return Err(Rejection::invalid_request(
                    "the grant_type parameter is missing: send grant_type=client_credentials",
                )
                .into())
            }
            Some("client_credentials") => {}
            Some(other) => {
                return Err(Rejection::new(
                    400,
                    "unsupported_grant_type",
                    format!("grant type {other:?} is not supported: use client_credentials"),
                )
                .into())
            }
        }

        let credentials = read_credentials(request, parameter("client_id"), parameter("client_secret"))?;
        let now = Timestamp::now();
        let (client, used_next_secret, rehash) = self.authenticate(&credentials, now).await?;

        let scopes = grant_scopes(&client, parameter("scope"))?;
        let audience = parameter("audience").filter(|audience| !audience.is_empty()).map(str::to_owned);

        Ok(Grant {
            client,
            scopes,
            audience,
            used_next_secret,
            rehash,
        })
    }

    /// Finds the client, promotes a pending secret whose overlap ended, and checks the
    /// presented secret against the current and the pending one.
    async fn authenticate(
        &self,
        credentials: &Credentials,
        now: Timestamp,
    ) -> Result<(ServiceClient, bool, Option<Rehash>), Failure> {
        let client_id = credentials.client_id();
        let challenge = credentials.is_basic();
        let Some(client) = self.load_client(client_id, now).await? else {
            return Err(Rejection::invalid_client("client authentication failed", challenge)
                .for_client(client_id)
                .into());
        };

        let presented = credentials.secret();
        let mut used_next_secret = false;
        let mut check = check_secret(presented, &client.current_secret_hash);
        if !check.matched() {
            if let Some(next_hash) = &client.next_secret_hash {
                check = check_secret(presented, next_hash);
                used_next_secret = check.matched();
            }
        }
        if !check.matched() {
            return Err(Rejection::invalid_client("client authentication failed", challenge)
                .for_client(client_id)
                .into());
        }
        if !client.active {
            return Err(Rejection::invalid_client("the client is disabled", challenge)
                .for_client(client_id)
                .into());
        }

        let rehash = (check == SecretCheck::MatchNeedsRehash).then(|| {
            let hash = presented.hash();
            if used_next_secret {
                Rehash {
                    slot: SecretSlot::Next,
                    legacy_hash: client.next_secret_hash.clone().unwrap_or_default(),
                    update: ClientUpdate {
                        next_secret_hash: Some(Some(hash)),
                        ..ClientUpdate::default()
                    },
                }
            } else {
                Rehash {
                    slot: SecretSlot::Current,
                    legacy_hash: client.current_secret_hash.clone(),
                    update: ClientUpdate {
                        current_secret_hash: Some(hash),
                        ..ClientUpdate::default()
                    },
                }
            }
        });
        Ok((client, used_next_secret, rehash))
    }

    /// Signs the access token, records the client's use, and builds the response.
    async fn issue(&self, grant: Grant) -> Result<HttpResponse, Error> {
        let key = self.keys.signing_key().await?;
        let now = Timestamp::now();
        // A token issued in the same second as a past cutoff must not fall before it.
        let issued_at = match grant.client.tokens_invalid_before {
            Some(cutoff) if cutoff <= now => now.as_seconds().max((cutoff.as_millis() + 999).div_euclid(1000)),
            _ => now.as_seconds(),
        };
        let expires_at = issued_at + self.options.token_ttl as i64;
        let jti = new_jti(now)?;
        let scope = grant.scopes.join(" ");
        let client = &grant.client;

        let mut claims = Map::new();
        claims.insert("iss".into(), Value::String(self.options.issuer.clone()));
        claims.insert("sub".into(), Value::String(client.client_id.clone()));
        if let Some(audience) = &grant.audience {
            claims.insert("aud".into(), Value::String(audience.clone()));
        }
        claims.insert("scope".into(), Value::String(scope.clone()));
        claims.insert("client_id".into(), Value::String(client.client_id.clone()));
        claims.insert("name".into(), Value::String(client.name.clone()));
        if let Some(env) = &self.options.env {
            claims.insert("env".into(), Value::String(env.clone()));
        }
        claims.insert("jti".into(), Value::String(jti.clone()));
        claims.insert("iat".into(), Value::from(issued_at));
        claims.insert("exp".into(), Value::from(expires_at));
        let access_token = jwt::encode(&key, &claims)?;

        self.record_usage(&grant, now).await;

        self.emit(
            Event::new("token.issued", &self.options.issuer, Outcome::Success)
                .client(&client.client_id)
                .audience(grant.audience.clone())
                .metadata("scope", scope.clone())
                .metadata("jti", jti)
                .metadata("keyId", key.key_id())
                .metadata("expiresAt", Timestamp::from_seconds(expires_at).to_iso()),
        );

        let body = json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": self.options.token_ttl,
            "scope": scope,
        });
        Ok(HttpResponse::json(200, &body)
            .with_header("cache-control", "no-store")
            .with_header("pragma", "no-cache"))
    }

    /// Replaces a legacy bcrypt hash at once, and writes the last-seen times at most once
    /// per interval. A failed write is logged and does not fail the token request.
    async fn record_usage(&self, grant: &Grant, now: Timestamp) {
        let client = &grant.client;
        let stale = |at: Option<Timestamp>| {
            at.is_none_or(|at| now.as_millis() - at.as_millis() >= USAGE_WRITE_INTERVAL_SECONDS * 1000)
        };
        if let Some(rehash) = &grant.rehash {
            // Only while the legacy hash is still stored: a rotation in between wins.
            let replaced = self
                .storage
                .update_client_if_secret(&client.client_id, rehash.slot, Some(&rehash.legacy_hash), &rehash.update)
                .await;
            if let Err(error) = replaced {
                tracing::warn!(client_id = %client.client_id, %error, "replacing a bcrypt secret hash failed");
            }
        }

        let mut update = ClientUpdate::default();
        if stale(client.last_seen_at) {
            update.last_seen_at = Some(Some(now));
        }
        if grant.used_next_secret {
            if stale(client.next_secret_last_used_at) {
                update.next_secret_last_used_at = Some(Some(now));
            }
        } else if stale(client.current_secret_last_used_at) {
            update.current_secret_last_used_at = Some(Some(now));
        }

        if update == ClientUpdate::default() {
            return;
        }
        if let Err(error) = self.storage.update_client(&client.client_id, &update).await {
            tracing::warn!(client_id = %client.client_id, %error, "recording client usage failed");
        }
    }
}

fn read_form(request: &HttpRequest) -> Result<Vec<(String, String)>, Rejection> {
    let content_type = request.header("content-type").unwrap_or("");
    let media_type = content_type.split(';').next().unwrap_or("").trim();
    if !media_type.eq_ignore_ascii_case("application/x-www-form-urlencoded") {
        return Err(Rejection::invalid_request(format!(
            "unsupported content type {content_type:?}: send the parameters as application/x-www-form-urlencoded"
        )));
    }
    if request.body.len() > MAX_TOKEN_REQUEST_BYTES {
        return Err(Rejection::new(
            413,
            "invalid_request",
            format!("the request body is larger than {MAX_TOKEN_REQUEST_BYTES} bytes"),
        ));
    }

    let parameters = parse_form(&request.body)
        .map_err(|_| Rejection::invalid_request("the request body is not valid form-urlencoded UTF-8"))?;
    for (index, (name, _)) in parameters.iter().enumerate() {
        if parameters[..index].iter().any(|(earlier, _)| earlier == name) {
            return Err(Rejection::invalid_request(format!(
                "the parameter {name:?} is repeated: send each parameter once"
            )));
        }
    }
    Ok(parameters)
}

/// Reads client credentials from HTTP Basic (`client_secret_basic`, RFC 6749 §2.3.1) or
/// from the body (`client_secret_post`). Using both is an `invalid_request`.
fn read_credentials(
    request: &HttpRequest,
    body_client_id: Option<&str>,
    body_secret: Option<&str>,
) -> Result<Credentials, Rejection> {
    let basic = match request.header("authorization") {
        Some(header) => parse_basic(header)?,
        None => None,
    };

    match (basic, body_client_id, body_secret) {
        (Some(_), _, Some(_)) => Err(Rejection::invalid_request(
            "client credentials were sent both in the Authorization header and in the body: use one method",
        )),
        (Some((client_id, _)), Some(body_id), None) if body_id != client_id => Err(Rejection::invalid_request(
            "the client_id parameter differs from the client id in the Authorization header",
        )),
        (Some((client_id, secret)), _, None) => Ok(Credentials::Basic {
            client_id,
            secret: ClientSecret::new(secret),
        }),
        (None, Some(client_id), Some(secret)) if !client_id.is_empty() => Ok(Credentials::Post {
            client_id: client_id.to_owned(),
            secret: ClientSecret::new(secret),
        }),
        (None, _, _) => {
            let other_scheme = request.header("authorization").is_some();
            Err(Rejection::invalid_client(
                if other_scheme {
                    "unsupported Authorization scheme: authenticate with HTTP Basic or client_id and client_secret in the body"
                } else {
                    "client authentication is missing: use HTTP Basic or client_id and client_secret in the body"
                },
                true,
            ))
        }
    }
}

/// Parses `Basic base64(urlencode(id) ":" urlencode(secret))`. Returns `None` for other
/// schemes.
fn parse_basic(header: &str) -> Result<Option<(String, String)>, Rejection> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    if !scheme.eq_ignore_ascii_case("basic") {
        return Ok(None);
    }

    let malformed = || Rejection::invalid_client("the Basic credentials are malformed", true);
    let encoded = rest.trim();
    let decoded = STANDARD
        .decode(encoded)
        .or_else(|_| STANDARD_NO_PAD.decode(encoded))
        .map_err(|_| malformed())?;
    let text = String::from_utf8(decoded).map_err(|_| malformed())?;
    let (client_id, secret) = text.split_once(':').ok_or_else(malformed)?;
    let client_id = form_decode(client_id).map_err(|_| malformed())?;
    let secret = form_decode(secret).map_err(|_| malformed())?;
    if client_id.is_empty() {
        return Err(malformed());
    }
    Ok(Some((client_id, secret)))
}

/// Narrows the client's scopes to the requested ones; an absent or empty `scope` grants
/// all of them.
fn grant_scopes(client: &ServiceClient, requested: Option<&str>) -> Result<Vec<String>, Rejection> {
    let requested: Vec<&str> = requested.unwrap_or("").split(' ').filter(|scope| !scope.is_empty()).collect();
    if requested.is_empty() {
        return Ok(client.scopes.clone());
    }

    let mut granted: Vec<String> = Vec::with_capacity(requested.len());
    for scope in requested {
        if !client.scopes.iter().any(|allowed| allowed == scope) {
            return Err(Rejection::new(
                400,
                "invalid_scope",
                format!("the scope {scope:?} is not granted to this client"),
            )
            .for_client(&client.client_id));
        }
        if !granted.iter().any(|existing| existing == scope) {
            granted.push(scope.to_owned());
        }
    }
    Ok(granted)
}

impl ProviderInner {
    /// Loads a client and, when its pending secret's overlap has ended, promotes that
    /// secret to current in storage first.
    ///
    /// The promotion only applies while the pending secret is still the one read, so
    /// two instances promoting at once, or a rotation in between, lose no update: the
    /// loser reads the client again.
    pub(super) async fn load_client(&self, client_id: &str, now: Timestamp) -> Result<Option<ServiceClient>, Error> {
        for _ in 0..3 {
            let Some(mut client) = self.storage.find_client(client_id).await? else {
                return Ok(None);
            };
            let Some(update) = promotion(&client, now) else {
                return Ok(Some(client));
            };
            let expected = client.next_secret_hash.clone();
            if self
                .storage
                .update_client_if_secret(client_id, SecretSlot::Next, expected.as_deref(), &update)
                .await?
            {
                update.apply_to(&mut client);
                return Ok(Some(client));
            }
        }
        Err(Error::storage(format!(
            "promoting the pending secret of client {client_id:?} kept conflicting with concurrent changes"
        )))
    }
}

/// The update that makes a pending secret current once its overlap has ended.
pub(super) fn promotion(client: &ServiceClient, now: Timestamp) -> Option<ClientUpdate> {
    let expires_at = client.next_secret_expires_at?;
    let next_hash = client.next_secret_hash.clone()?;
    if expires_at > now {
        return None;
    }
    Some(ClientUpdate {
        current_secret_hash: Some(next_hash),
        current_secret_created_at: Some(client.next_secret_created_at.unwrap_or(expires_at)),
        current_secret_last_used_at: Some(client.next_secret_last_used_at),
        next_secret_hash: Some(None),
        next_secret_created_at: Some(None),
        next_secret_expires_at: Some(None),
        next_secret_last_used_at: Some(None),
        updated_at: Some(now),
        ..ClientUpdate::default()
    })
}

/// Makes a UUID v7 for the `jti` claim from the issue time and 74 random bits of
/// aws-lc's generator, which, unlike the uuid crate's default source, makes no system
/// call per token.
fn new_jti(now: Timestamp) -> Result<String, Error> {
    let mut random = [0u8; 10];
    aws_lc_rs::rand::fill(&mut random).map_err(|_| Error::internal("the random number generator failed to produce a jti: retry the request"))?;
    let millis = u64::try_from(now.as_millis()).unwrap_or_default();
    Ok(uuid::Builder::from_unix_timestamp_millis(millis, &random).into_uuid().to_string())
}
