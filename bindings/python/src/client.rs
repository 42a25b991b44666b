//! `Client`: fetches and caches access tokens from a provider's token endpoint.

use std::sync::Arc;

use pyo3::prelude::*;

use trustline::client::{Client, ClientOptions, TokenCache, DEFAULT_REFRESH_SKEW_SECONDS};
use trustline::secret::ClientSecret;

use crate::callbacks::PyTokenCache;
use crate::errors::IntoPyResult;
use crate::runtime::{self, Convert};
use crate::transport;

/// A token client for one client id, audience and scope set.
#[pyclass(frozen, module = "trustline._native", name = "Client")]
pub struct NativeClient {
    client: Client,
}

#[pymethods]
impl NativeClient {
    #[new]
    #[pyo3(signature = (token_url, client_id, client_secret, *, audience=None, scope=None, refresh_skew_seconds=None, cache=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        token_url: String,
        client_id: String,
        client_secret: String,
        audience: Option<String>,
        scope: Option<Vec<String>>,
        refresh_skew_seconds: Option<u64>,
        cache: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let options = ClientOptions {
            token_url,
            client_id,
            client_secret: ClientSecret::new(client_secret),
            audience: audience.filter(|audience| !audience.is_empty()),
            scope: scope.unwrap_or_default(),
            refresh_skew_seconds: refresh_skew_seconds.unwrap_or(DEFAULT_REFRESH_SKEW_SECONDS),
        };
        let cache =
            cache.map(|dispatch| Arc::new(PyTokenCache::new(dispatch)) as Arc<dyn TokenCache>);
        let client = Client::new(options, transport(py)?, cache).into_py_result(py)?;
        Ok(Self { client })
    }

    /// The key under which this client's token is cached. It contains no secret.
    #[getter]
    fn cache_key(&self) -> &str {
        self.client.cache_key()
    }

    /// Returns a cached token or fetches a new one, blocking.
    fn get_token(&self, py: Python<'_>) -> PyResult<String> {
        let client = self.client.clone();
        runtime::block_on(py, async move { client.get_token().await })?.into_py_result(py)
    }

    /// Gets a token on the runtime and calls `done(error, token)`.
    fn get_token_async(&self, done: Py<PyAny>) -> PyResult<()> {
        let client = self.client.clone();
        let convert: Convert<String> =
            Box::new(|py, token| Ok(token.into_pyobject(py)?.into_any().unbind()));
        runtime::spawn(async move { client.get_token().await }, convert, done)
    }
}
