//! The one error model: every failure carries a stable code that callers branch on,
//! an HTTP status for servers that respond with it, and a message that names the value.

use std::fmt;

/// What failed. The `code()` strings are an interface shared by every binding.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ErrorKind {
    /// The bearer token was empty.
    MissingToken,
    /// The token is malformed, its signature is bad, it expired, or it was revoked,
    /// its client disabled, or its client cut off.
    InvalidToken,
    /// The `iss` claim differs from the configured issuer.
    InvalidIssuer,
    /// The `aud` claim does not name the configured audience.
    InvalidAudience,
    /// A required scope is missing from the token.
    InvalidScope,
    /// The `env` claim differs from the configured environment.
    InvalidEnv,
    /// The JWKS could not be fetched or parsed.
    JwksFetchFailed,
    /// An admin call named a client id that does not exist.
    ClientNotFound,
    /// A call received a value it cannot use; the message names the value.
    InvalidArgument,
    /// The storage backend failed or is unavailable.
    Storage,
    /// A concurrent change won; the call can be repeated.
    Conflict,
    /// A token endpoint responded with an OAuth 2.0 error (RFC 6749 §5.2).
    OAuth {
        /// The `error` code from the response body.
        code: OAuthErrorCode,
        /// The HTTP status of the response.
        status: u16,
    },
    /// A token request could not be sent or its response could not be read.
    TokenRequestFailed,
    /// An unexpected internal failure; a bug.
    Internal,
}

impl ErrorKind {
    /// The stable error code, e.g. `invalid_token`.
    pub fn code(&self) -> &str {
        match self {
            Self::MissingToken => "missing_token",
            Self::InvalidToken => "invalid_token",
            Self::InvalidIssuer => "invalid_issuer",
            Self::InvalidAudience => "invalid_audience",
            Self::InvalidScope => "invalid_scope",
            Self::InvalidEnv => "invalid_env",
            Self::JwksFetchFailed => "jwks_fetch_failed",
            Self::ClientNotFound => "client_not_found",
            Self::InvalidArgument => "invalid_argument",
            Self::Storage => "storage_unavailable",
            Self::Conflict => "conflict",
            Self::OAuth { code, .. } => code.as_str(),
            Self::TokenRequestFailed => "token_request_failed",
            Self::Internal => "internal_error",
        }
    }

    /// The HTTP status a server responds with for this failure.
    pub fn status(&self) -> u16 {
        match self {
            Self::MissingToken | Self::InvalidToken | Self::InvalidIssuer | Self::JwksFetchFailed => 401,
            Self::InvalidAudience | Self::InvalidScope | Self::InvalidEnv => 403,
            Self::ClientNotFound => 404,
            Self::InvalidArgument => 400,
            Self::Storage => 503,
            Self::Conflict => 409,
            Self::OAuth { status, .. } => *status,
            Self::TokenRequestFailed => 502,
            Self::Internal => 500,
        }
    }
}

/// A failure with its kind, a message for people, and an optional cause.
pub struct Error {
    kind: ErrorKind,
    message: String,
    source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl Error {
    /// Creates an error of a kind with a message that names the value and the fix.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            message: message.into(),
            source: None,
        }
    }

    /// Attaches the underlying cause.
    pub fn with_source(mut self, source: impl std::error::Error + Send + Sync + 'static) -> Self {
        self.source = Some(Box::new(source));
        self
    }

    /// What failed.
    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }

    /// The stable error code, e.g. `invalid_token`.
    pub fn code(&self) -> &str {
        self.kind.code()
    }

    /// The HTTP status for this failure.
    pub fn status(&self) -> u16 {
        self.kind.status()
    }

    /// The message without the code.
    pub fn message(&self) -> &str {
        &self.message
    }

    pub(crate) fn invalid_token(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidToken, message)
    }

    pub(crate) fn invalid_argument(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::InvalidArgument, message)
    }

    pub(crate) fn client_not_found(client_id: &str) -> Self {
        Self::new(
            ErrorKind::ClientNotFound,
            format!("unknown client id {client_id:?}: check the id, or list clients to find it"),
        )
    }

    pub(crate) fn storage(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Storage, message)
    }

    pub(crate) fn internal(message: impl Into<String>) -> Self {
        Self::new(ErrorKind::Internal, message)
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("Error")
            .field("code", &self.code())
            .field("status", &self.status())
            .field("message", &self.message)
            .field("source", &self.source)
            .finish()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|source| source.as_ref() as &(dyn std::error::Error + 'static))
    }
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// OAuth 2.0 error codes of RFC 6749 §5.2, with a fallback for codes a server invents.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OAuthErrorCode {
    /// `invalid_request`
    InvalidRequest,
    /// `invalid_client`
    InvalidClient,
    /// `invalid_grant`
    InvalidGrant,
    /// `unauthorized_client`
    UnauthorizedClient,
    /// `unsupported_grant_type`
    UnsupportedGrantType,
    /// `invalid_scope`
    InvalidScope,
    /// `temporarily_unavailable`
    TemporarilyUnavailable,
    /// `server_error`
    ServerError,
    /// Any other code, kept as sent.
    Other(String),
}

impl OAuthErrorCode {
    /// The code as it appears on the wire.
    pub fn as_str(&self) -> &str {
        match self {
            Self::InvalidRequest => "invalid_request",
            Self::InvalidClient => "invalid_client",
            Self::InvalidGrant => "invalid_grant",
            Self::UnauthorizedClient => "unauthorized_client",
            Self::UnsupportedGrantType => "unsupported_grant_type",
            Self::InvalidScope => "invalid_scope",
            Self::TemporarilyUnavailable => "temporarily_unavailable",
            Self::ServerError => "server_error",
            Self::Other(code) => code,
        }
    }

    /// Reads a wire code, keeping unknown ones.
    pub fn parse(code: &str) -> Self {
        match code {
            "invalid_request" => Self::InvalidRequest,
            "invalid_client" => Self::InvalidClient,
            "invalid_grant" => Self::InvalidGrant,
            "unauthorized_client" => Self::UnauthorizedClient,
            "unsupported_grant_type" => Self::UnsupportedGrantType,
            "invalid_scope" => Self::InvalidScope,
            "temporarily_unavailable" => Self::TemporarilyUnavailable,
            "server_error" => Self::ServerError,
            other => Self::Other(other.to_owned()),
        }
    }
}

impl fmt::Display for OAuthErrorCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(self.as_str())
    }
}
