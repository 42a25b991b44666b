//! `Provider`: the core provider, with its HTTP handler and its admin operations
//! reachable from Python, each in a blocking and an asyncio form.

use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use serde_json::{json, Value};

use trustline::crypto::Algorithm;
use trustline::http::{HttpRequest, HttpResponse};
use trustline::provider::{
    Provider, ProviderOptions, RotateKeyInput, RotateSecretInput, SigningOptions,
};
use trustline::{Error, ErrorKind, Result, Timestamp};

use crate::args::{wire, Args};
use crate::callbacks::event_hook;
use crate::convert::{from_python, to_python};
use crate::errors::{invalid_argument, IntoPyResult};
use crate::runtime::{self, Convert};
use crate::storage::NativeStorage;

/// Status, headers and body of a provider response.
type Response = (u16, Vec<(String, String)>, String);

fn algorithm(py: Python<'_>, name: Option<&str>) -> PyResult<Option<Algorithm>> {
    name.map(Algorithm::parse).transpose().into_py_result(py)
}

/// An OAuth 2.0 client-credentials provider over a storage backend.
#[pyclass(frozen, module = "trustline._native", name = "Provider")]
pub struct NativeProvider {
    provider: Provider,
}

#[pymethods]
impl NativeProvider {
    #[new]
    #[pyo3(signature = (issuer, storage, *, algorithm=None, private_key=None, key_id=None, token_ttl=None, env=None, on_event=None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        issuer: String,
        storage: &NativeStorage,
        algorithm: Option<&str>,
        private_key: Option<String>,
        key_id: Option<String>,
        token_ttl: Option<u64>,
        env: Option<String>,
        on_event: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let mut options = ProviderOptions::new(issuer);
        options.signing = SigningOptions {
            algorithm: self::algorithm(py, algorithm)?,
            private_key,
            key_id,
        };
        if let Some(ttl) = token_ttl {
            options.token_ttl = ttl;
        }
        options.env = env;
        options.on_event = on_event.map(event_hook);

        let provider = Provider::new(options, storage.storage.clone()).into_py_result(py)?;
        Ok(Self { provider })
    }

    /// Handles an HTTP request (token endpoint, JWKS, or 404), blocking.
    fn handle(
        &self,
        py: Python<'_>,
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
    ) -> PyResult<Response> {
        let request = http_request(method, url, headers, body);
        let provider = self.provider.clone();
        let response = runtime::block_on(py, async move { provider.handle(&request).await })?;
        Ok(response_tuple(response))
    }

    /// Handles an HTTP request on the runtime and calls `done(error, response)`.
    fn handle_async(
        &self,
        method: String,
        url: String,
        headers: Vec<(String, String)>,
        body: Vec<u8>,
        done: Py<PyAny>,
    ) -> PyResult<()> {
        let request = http_request(method, url, headers, body);
        let provider = self.provider.clone();
        let convert: Convert<HttpResponse> = Box::new(|py, response| {
            Ok(response_tuple(response)
                .into_pyobject(py)?
                .into_any()
                .unbind())
        });
        runtime::spawn(
            async move { Ok(provider.handle(&request).await) },
            convert,
            done,
        )
    }

    /// Runs an admin operation with wire arguments, blocking.
    fn call(
        &self,
        py: Python<'_>,
        operation: String,
        args: &Bound<'_, PyAny>,
    ) -> PyResult<Py<PyAny>> {
        let args = arguments(py, args)?;
        let provider = self.provider.clone();
        let result = runtime::block_on(py, async move {
            call_provider(&provider, &operation, &args).await
        })?;
        to_python(py, &result.into_py_result(py)?)
    }

    /// Runs an admin operation on the runtime and calls `done(error, result)`.
    fn call_async(
        &self,
        py: Python<'_>,
        operation: String,
        args: &Bound<'_, PyAny>,
        done: Py<PyAny>,
    ) -> PyResult<()> {
        let args = arguments(py, args)?;
        let provider = self.provider.clone();
        let convert: Convert<Value> = Box::new(|py, value| to_python(py, &value));
        runtime::spawn(
            async move { call_provider(&provider, &operation, &args).await },
            convert,
            done,
        )
    }
}

fn arguments(py: Python<'_>, args: &Bound<'_, PyAny>) -> PyResult<Vec<Value>> {
    match from_python(args) {
        Ok(Value::Array(values)) => Ok(values),
        Ok(_) => Err(PyValueError::new_err("args must be a list")),
        Err(error) => Err(invalid_argument(py, error.to_string())),
    }
}

fn http_request(
    method: String,
    url: String,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
) -> HttpRequest {
    HttpRequest {
        method: method.to_ascii_uppercase(),
        url,
        headers,
        body,
    }
}

fn response_tuple(response: HttpResponse) -> Response {
    (response.status, response.headers, response.body)
}

/// Runs one admin operation with wire arguments and returns its wire result.
async fn call_provider(provider: &Provider, operation: &str, values: &[Value]) -> Result<Value> {
    let args = Args { operation, values };
    let unit = |_: ()| Value::Null;
    let result = match operation {
        "create_client" => {
            let created = provider
                .create_client(&args.string(0)?, &args.strings(1)?)
                .await?;
            json!({ "clientId": created.client_id, "clientSecret": created.client_secret.expose() })
        }
        "list_clients" => wire(&provider.list_clients().await?),
        "get_client" => wire(&provider.get_client(&args.string(0)?).await?),
        "rename_client" => unit(
            provider
                .rename_client(&args.string(0)?, &args.string(1)?)
                .await?,
        ),
        "update_scopes" => unit(
            provider
                .update_scopes(&args.string(0)?, &args.strings(1)?)
                .await?,
        ),
        "rotate_secret" => {
            let input = RotateSecretInput {
                expires_at: args.optional_timestamp(1)?,
                overlap_seconds: args.optional_seconds(2)?,
            };
            let rotated = provider.rotate_secret(&args.string(0)?, input).await?;
            json!({
                "clientId": rotated.client_id,
                "clientSecret": rotated.client_secret.expose(),
                "expiresAt": rotated.expires_at.map(Timestamp::as_millis),
            })
        }
        "revoke_client" => unit(provider.revoke_client(&args.string(0)?).await?),
        "disable_client" => unit(provider.disable_client(&args.string(0)?).await?),
        "enable_client" => unit(provider.enable_client(&args.string(0)?).await?),
        "invalidate_tokens_before" => unit(
            provider
                .invalidate_tokens_before(&args.string(0)?, args.optional_timestamp(1)?)
                .await?,
        ),
        "clear_tokens_invalid_before" => unit(
            provider
                .clear_tokens_invalid_before(&args.string(0)?)
                .await?,
        ),
        "rotate_key" => {
            let algorithm = args
                .optional_string(1)?
                .map(|name| Algorithm::parse(&name))
                .transpose()?;
            let input = RotateKeyInput {
                activate_at: args.optional_timestamp(0)?,
                algorithm,
                key_id: args.optional_string(2)?,
                overlap_seconds: args.optional_seconds(3)?,
                private_key: args.optional_string(4)?,
            };
            json!({ "keyId": provider.rotate_key(input).await? })
        }
        "revoke_token" => unit(
            provider
                .revoke_token(&args.string(0)?, args.timestamp(1)?)
                .await?,
        ),
        "jwks" => provider.jwks().await?,
        other => {
            return Err(Error::new(
                ErrorKind::InvalidArgument,
                format!("unknown provider operation {other:?}"),
            ))
        }
    };
    Ok(result)
}
