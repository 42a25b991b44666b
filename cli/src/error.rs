//! The CLI's failures and their exit statuses.

use std::fmt;

/// What kind of failure ended a command; it decides the exit status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailureKind {
    /// The database, a file or the network failed (exit status 1).
    Failure,
    /// The command line, the configuration or an input value is invalid (exit status 2).
    Usage,
    /// The client id names no client (exit status 3).
    NotFound,
}

impl FailureKind {
    /// Returns the process exit status for this kind.
    pub fn exit_code(self) -> u8 {
        match self {
            Self::Failure => 1,
            Self::Usage => 2,
            Self::NotFound => 3,
        }
    }
}

/// A failure with a stable code and a message for the operator.
#[derive(Debug)]
pub struct CliError {
    /// Decides the exit status.
    pub kind: FailureKind,
    /// A stable code for scripts, such as `client_not_found` or `storage_unavailable`.
    pub code: String,
    /// The message: what failed, on which value, and what to do next.
    pub message: String,
}

impl CliError {
    /// Creates an error for an invalid command line, configuration or input value.
    pub fn usage(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Usage,
            code: "invalid_argument".to_owned(),
            message: message.into(),
        }
    }

    /// Creates an error for a failure of the database, a file or the network.
    pub fn failure(code: &str, message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::Failure,
            code: code.to_owned(),
            message: message.into(),
        }
    }

    /// Creates an error for an unknown client id.
    pub fn not_found(message: impl Into<String>) -> Self {
        Self {
            kind: FailureKind::NotFound,
            code: "client_not_found".to_owned(),
            message: message.into(),
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.message)
    }
}

impl From<trustline::Error> for CliError {
    fn from(error: trustline::Error) -> Self {
        let kind = match error.kind() {
            trustline::ErrorKind::ClientNotFound => FailureKind::NotFound,
            trustline::ErrorKind::InvalidArgument => FailureKind::Usage,
            _ => FailureKind::Failure,
        };
        Self {
            kind,
            code: error.code().to_owned(),
            message: error.message().to_owned(),
        }
    }
}

/// Shorthand for results of the CLI.
pub type CliResult<T> = Result<T, CliError>;
