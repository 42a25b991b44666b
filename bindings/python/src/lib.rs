//! The native module `trustline._native`: thin pyo3 classes over the trustline core.
//!
//! The pure-Python package in `python/trustline/` is the only caller. It checks and
//! converts arguments (keyword options, `datetime`, dataclasses), raises its own
//! exception classes through the factory registered in [`errors`], and builds the
//! blocking and asyncio APIs on the `*_async(…, done)` methods here.

mod args;
mod callbacks;
mod client;
mod convert;
mod errors;
mod guard;
mod provider;
mod runtime;
mod storage;

use std::sync::{Arc, Mutex};

use pyo3::prelude::*;

use trustline::http::HttpTransport;
use trustline::http_client::ReqwestTransport;

use errors::IntoPyResult;

/// The HTTP transport of new guards and clients, shared so that they share one
/// connection pool. A child process after `fork()` starts a new one, because pooled
/// connections belong to the parent's runtime.
static TRANSPORT: Mutex<Option<Arc<ReqwestTransport>>> = Mutex::new(None);

fn transport(py: Python<'_>) -> PyResult<Arc<dyn HttpTransport>> {
    let mut slot = TRANSPORT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner());
    if let Some(transport) = slot.as_ref() {
        return Ok(transport.clone());
    }
    let transport = Arc::new(ReqwestTransport::new().into_py_result(py)?);
    *slot = Some(transport.clone());
    Ok(transport)
}

/// Registers the function that builds `AuthError` exceptions:
/// `factory(kind, code, status, message) -> AuthError`.
#[pyfunction]
fn _set_error_factory(py: Python<'_>, factory: Py<PyAny>) {
    errors::set_error_factory(py, factory);
}

/// Shuts the runtime down, waiting up to five seconds for operations in flight. The
/// package registers it with `atexit`; after it, trustline calls raise `RuntimeError`.
#[pyfunction]
fn _shutdown_at_exit(py: Python<'_>) {
    runtime::shutdown_at_exit(py);
}

/// Forgets the parent's runtime and HTTP transport in a child process after `fork()`.
/// The package registers it with `os.register_at_fork`.
#[pyfunction]
fn _after_fork_in_child() {
    runtime::forget_after_fork();
    *TRANSPORT
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner()) = None;
}

#[pymodule]
#[pyo3(name = "_native")]
fn native_module(module: &Bound<'_, PyModule>) -> PyResult<()> {
    module.add("__version__", env!("CARGO_PKG_VERSION"))?;
    module.add_class::<storage::NativeStorage>()?;
    module.add_class::<provider::NativeProvider>()?;
    module.add_class::<guard::NativeGuard>()?;
    module.add_class::<client::NativeClient>()?;
    module.add_function(wrap_pyfunction!(_set_error_factory, module)?)?;
    module.add_function(wrap_pyfunction!(_shutdown_at_exit, module)?)?;
    module.add_function(wrap_pyfunction!(_after_fork_in_child, module)?)?;
    Ok(())
}
