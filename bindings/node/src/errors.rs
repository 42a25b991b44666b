//! The one place where core errors become JavaScript errors.
//!
//! Async napi functions can only reject with a `napi::Status` code, so the trustline
//! code and HTTP status travel at the start of the message as
//! `[trustline:<code>:<status>] <message>`; `ts/errors.ts` turns that into an `AuthError`.

use napi::Status;

/// Converts a core error into a napi error carrying its code and status.
pub fn to_napi(error: trustline::Error) -> napi::Error {
    napi::Error::new(
        Status::GenericFailure,
        format!("[trustline:{}:{}] {}", error.code(), error.status(), error.message()),
    )
}

/// An invalid argument error for values rejected at the binding edge.
pub fn invalid_argument(message: impl Into<String>) -> napi::Error {
    to_napi(trustline::Error::new(trustline::ErrorKind::InvalidArgument, message))
}

/// Maps a core result.
pub trait IntoNapi<T> {
    /// Converts the error side with [`to_napi`].
    fn into_napi(self) -> napi::Result<T>;
}

impl<T> IntoNapi<T> for trustline::Result<T> {
    fn into_napi(self) -> napi::Result<T> {
        self.map_err(to_napi)
    }
}
