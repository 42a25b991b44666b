//! `Client`: fetches and caches access tokens from a provider's token endpoint.

use std::sync::Arc;

use futures_util::FutureExt;

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
    /// Whether the token cache is the user's (Python) cache rather than the core's
    /// in-memory one.
    user_cache: bool,
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
        let user_cache = cache.is_some();
        let cache =
            cache.map(|dispatch| Arc::new(PyTokenCache::new(dispatch)) as Arc<dyn TokenCache>);
        let client = Client::new(options, transport(py)?, cache).into_py_result(py)?;
        Ok(Self { client, user_cache })
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

    /// Returns the cached token without leaving the calling thread, or `None` when a
    /// token request is needed (or the cache is the user's, whose methods may block)
    /// and `get_token_async` must be used.
    ///
    /// When the token must be fetched, this first poll starts the shared request, and
    /// `get_token_async` joins it.
    fn get_token_local(&self, py: Python<'_>) -> PyResult<Option<String>> {
        if self.user_cache {
            return Ok(None);
        }
        let handle = runtime::handle()?;
        let _context = handle.enter();
        match self.client.get_token().now_or_never() {
            Some(result) => result.map(Some).into_py_result(py),
            None => Ok(None),
        }
    }

    /// Gets a token on the runtime and calls `done(error, token)`.
    fn get_token_async(&self, done: Py<PyAny>) -> PyResult<()> {
        let client = self.client.clone();
        let convert: Convert<String> =
            Box::new(|py, token| Ok(token.into_pyobject(py)?.into_any().unbind()));
        runtime::spawn(async move { client.get_token().await }, convert, done)
    }
}
