//! The one place where core errors become Python exceptions.
//!
//! The exception classes live in Python (`trustline/errors.py`). At import, the package
//! registers a factory with `_set_error_factory`; every core error is raised as
//! `factory(kind, code, status, message)`, which picks the subclass of `AuthError`.

use pyo3::exceptions::PyRuntimeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use trustline::ErrorKind;

static ERROR_FACTORY: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// Registers the Python function that builds exceptions. Later calls are ignored.
pub fn set_error_factory(py: Python<'_>, factory: Py<PyAny>) {
    let _ = ERROR_FACTORY.set(py, factory);
}

/// The kind name the factory dispatches on: the error code, except for OAuth errors
/// from a token endpoint, whose codes (such as `invalid_scope`) would collide with the
/// guard's.
fn kind_name(kind: &ErrorKind) -> &str {
    match kind {
        ErrorKind::OAuth { .. } => "oauth",
        other => other.code(),
    }
}

/// Converts a core error into the matching `AuthError` subclass.
pub fn to_py_err(py: Python<'_>, error: trustline::Error) -> PyErr {
    let (kind, code, status, message) = (
        kind_name(error.kind()),
        error.code(),
        error.status(),
        error.message(),
    );
    let Some(factory) = ERROR_FACTORY.get(py) else {
        return PyRuntimeError::new_err(format!("[{code}:{status}] {message}"));
    };
    match factory.call1(py, (kind, code, status, message)) {
        Ok(exception) => PyErr::from_value(exception.into_bound(py)),
        Err(error) => error,
    }
}

/// An `invalid_argument` error for a value rejected at the binding edge.
pub fn invalid_argument(py: Python<'_>, message: impl Into<String>) -> PyErr {
    to_py_err(
        py,
        trustline::Error::new(ErrorKind::InvalidArgument, message),
    )
}

/// Maps a core result into a Python one.
pub trait IntoPyResult<T> {
    /// Converts the error side with [`to_py_err`].
    fn into_py_result(self, py: Python<'_>) -> PyResult<T>;
}

impl<T> IntoPyResult<T> for trustline::Result<T> {
    fn into_py_result(self, py: Python<'_>) -> PyResult<T> {
        self.map_err(|error| to_py_err(py, error))
    }
}
