//! `Guard`: verifies access tokens. `verify_local` runs on the calling thread and needs
//! no runtime; `verify` and `verify_async` fetch the JWKS or await storage when needed.

use pyo3::prelude::*;
use pyo3::types::{PyString, PyTuple};

use trustline::guard::{Guard, GuardOptions, ServiceIdentity, DEFAULT_CLOCK_TOLERANCE};

use crate::callbacks::event_hook;
use crate::convert::map_to_python;
use crate::errors::IntoPyResult;
use crate::runtime::{self, Convert};
use crate::storage::NativeStorage;
use crate::transport;

/// Converts an identity into `(client_id, name, scopes, env, raw)`.
fn identity_tuple(py: Python<'_>, identity: ServiceIdentity) -> PyResult<Py<PyAny>> {
    let optional = |text: Option<String>| match text {
        Some(text) => PyString::new(py, &text).into_any(),
        None => py.None().into_bound(py),
    };
    let scopes = PyTuple::new(py, identity.scopes)?;
    let tuple = PyTuple::new(
        py,
        [
            PyString::new(py, &identity.client_id).into_any(),
            optional(identity.name),
            scopes.into_any(),
            optional(identity.env),
            map_to_python(py, &identity.raw)?.into_any(),
        ],
    )?;
    Ok(tuple.into_any().unbind())
}

/// A verifier of access tokens for one issuer.
#[pyclass(frozen, module = "trustline._native", name = "Guard")]
pub struct NativeGuard {
    guard: Guard,
}

#[pymethods]
impl NativeGuard {
    #[new]
    #[pyo3(signature = (issuer, *, jwks_url=None, audience=None, scopes=None, env=None, clock_tolerance=None, storage=None, on_event=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        issuer: String,
        jwks_url: Option<String>,
        audience: Option<Vec<String>>,
        scopes: Option<Vec<String>>,
        env: Option<String>,
        clock_tolerance: Option<u64>,
        storage: Option<&NativeStorage>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let mut options = GuardOptions::new(issuer);
        options.jwks_url = jwks_url;
        options.audience = audience.unwrap_or_default();
        options.scopes = scopes.unwrap_or_default();
        options.env = env;
        options.clock_tolerance = clock_tolerance.unwrap_or(DEFAULT_CLOCK_TOLERANCE);
        options.storage = storage.map(|storage| storage.storage.clone());
        options.on_event = on_event.map(event_hook);

        let guard = Guard::new(options, transport(py)?).into_py_result(py)?;
        Ok(Self { guard })
    }

    /// Verifies on the calling thread when no I/O is needed; returns `None` otherwise.
    fn verify_local(&self, py: Python<'_>, token: &str) -> PyResult<Option<Py<PyAny>>> {
        match self.guard.verify_local(token) {
            Some(result) => identity_tuple(py, result.into_py_result(py)?).map(Some),
            None => Ok(None),
        }
    }

    /// Verifies a token, blocking while the JWKS is fetched or storage is read.
    fn verify(&self, py: Python<'_>, token: String) -> PyResult<Py<PyAny>> {
        if let Some(result) = self.guard.verify_local(&token) {
            return identity_tuple(py, result.into_py_result(py)?);
        }
        let guard = self.guard.clone();
        let result = runtime::block_on(py, async move { guard.verify(&token).await })?;
        identity_tuple(py, result.into_py_result(py)?)
    }

    /// Verifies a token on the runtime and calls `done(error, identity)`.
    fn verify_async(&self, token: String, done: Py<PyAny>) -> PyResult<()> {
        let guard = self.guard.clone();
        let convert: Convert<ServiceIdentity> = Box::new(identity_tuple);
        runtime::spawn(async move { guard.verify(&token).await }, convert, done)
    }
}
