//! `trustline-cli serve`: the provider's endpoints over HTTP/1.1 on hyper.
//!
//! - `POST {issuer path}/token` and `GET {issuer path}/.well-known/jwks.json` go to
//!   `Provider::handle`, which returns 404 for every other path.
//! - `GET /healthz` returns 200 while the process runs; `GET /readyz` returns 200 when
//!   the database responds and 503 once shutdown has begun.
//! - SIGTERM or SIGINT stops accepting connections, lets requests in flight finish (up
//!   to the shutdown timeout), then closes the database connections. The provider
//!   writes to the database inside each request, so nothing is left to flush after.

use std::cell::RefCell;
use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Full, LengthLimitError, Limited};
use hyper::body::Incoming;
use hyper::header::{HeaderName, HeaderValue, CONTENT_LENGTH};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use serde_json::json;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use trustline::events::{Event, EventHook, Outcome};
use trustline::http::{HttpRequest, HttpResponse};
use trustline::provider::Provider;
use trustline::storage::{SqlStorage, Storage};

use crate::config::ServeSettings;
use crate::error::{CliError, CliResult};

/// How long a client may take to send the request line and headers.
const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);

/// Most header fields in one request.
const MAX_HEADER_COUNT: usize = 100;

/// The provider's report on the request being handled, for its log line.
#[derive(Debug, Default)]
struct RequestOutcome {
    client_id: Option<String>,
    event: Option<&'static str>,
    outcome: Option<&'static str>,
    reason: Option<String>,
}

tokio::task_local! {
    /// The outcome of the request that the current task is handling.
    static OUTCOME: RefCell<RequestOutcome>;
}

/// Returns the event hook for the provider: it records the client id and outcome of
/// the request being handled, and logs the event at debug level. Events carry no
/// secrets or tokens.
pub fn event_hook() -> EventHook {
    Arc::new(|event: Event| {
        tracing::debug!(
            event = event.event_type,
            outcome = ?event.outcome,
            client_id = event.client_id.as_deref(),
            reason = event.reason_code.as_deref(),
            "provider event"
        );
        let _ = OUTCOME.try_with(|slot| {
            let mut outcome = slot.borrow_mut();
            if event.client_id.is_some() {
                outcome.client_id.clone_from(&event.client_id);
            }
            outcome.event = Some(event.event_type);
            outcome.outcome = Some(match event.outcome {
                Outcome::Success => "success",
                Outcome::Failure => "failure",
            });
            outcome.reason.clone_from(&event.reason_code);
        });
    })
}

struct State {
    provider: Provider,
    storage: Arc<SqlStorage>,
    settings: ServeSettings,
    draining: AtomicBool,
}

/// Serves until SIGTERM or SIGINT, then drains the connections.
pub async fn run(
    provider: Provider,
    storage: Arc<SqlStorage>,
    database: &str,
    settings: ServeSettings,
) -> CliResult<()> {
    let address = format!("{}:{}", settings.host, settings.port);
    let listener = TcpListener::bind(&address).await.map_err(|error| {
        CliError::failure(
            "listen_failed",
            format!("listening on {address} failed: {error}"),
        )
    })?;
    let local = listener.local_addr().map_err(|error| {
        CliError::failure(
            "listen_failed",
            format!("reading the bound address failed: {error}"),
        )
    })?;

    let mut terminate = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        .map_err(|error| {
        CliError::failure(
            "signal_failed",
            format!("installing the SIGTERM handler failed: {error}"),
        )
    })?;
    let mut interrupt = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::interrupt())
        .map_err(|error| {
        CliError::failure(
            "signal_failed",
            format!("installing the SIGINT handler failed: {error}"),
        )
    })?;

    let issuer = provider.issuer().to_owned();
    tracing::info!(
        address = %local,
        issuer = %issuer,
        database,
        max_connections = settings.max_connections,
        max_body_bytes = settings.max_body_bytes,
        max_header_bytes = settings.max_header_bytes,
        "listening"
    );

    let state = Arc::new(State {
        provider,
        storage,
        settings: settings.clone(),
        draining: AtomicBool::new(false),
    });
    let connections = Arc::new(Semaphore::new(settings.max_connections));
    let graceful = GracefulShutdown::new();
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT)
        .max_buf_size(settings.max_header_bytes)
        .max_headers(MAX_HEADER_COUNT);

    let signal = loop {
        // Wait for a free connection slot before accepting, so that excess
        // connections queue in the kernel's backlog instead of in memory.
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break "closed",
            },
            _ = terminate.recv() => break "SIGTERM",
            _ = interrupt.recv() => break "SIGINT",
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Such as too many open files: wait briefly instead of spinning.
                    tracing::warn!(error = %error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            _ = terminate.recv() => break "SIGTERM",
            _ = interrupt.recv() => break "SIGINT",
        };

        let state = state.clone();
        let service =
            hyper::service::service_fn(move |request| handle(state.clone(), peer, request));
        let connection = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(error) = connection.await {
                tracing::debug!(peer = %peer, error = %error, "connection ended with an error");
            }
            drop(permit);
        });
    };

    drop(listener);
    state.draining.store(true, Ordering::SeqCst);
    tracing::info!(
        signal,
        timeout_seconds = settings.shutdown_timeout.as_secs(),
        "shutting down: finishing requests in flight"
    );
    tokio::select! {
        () = graceful.shutdown() => tracing::info!("all connections closed"),
        () = tokio::time::sleep(settings.shutdown_timeout) => {
            tracing::warn!(timeout_seconds = settings.shutdown_timeout.as_secs(), "requests still in flight at the shutdown timeout were cut off");
        }
    }
    Ok(())
}

/// Takes the caller's `x-request-id` when it is 1 to 128 visible ASCII characters of
/// `A-Z a-z 0-9 - _ . : /`, else makes a UUIDv7.
fn request_id(request: &Request<Incoming>) -> String {
    let incoming = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .filter(|value| {
            !value.is_empty()
                && value.len() <= 128
                && value.bytes().all(|byte| {
                    byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b':' | b'/')
                })
        });
    incoming.map_or_else(|| uuid::Uuid::now_v7().to_string(), str::to_owned)
}

async fn handle(
    state: Arc<State>,
    peer: SocketAddr,
    request: Request<Incoming>,
) -> Result<Response<Full<Bytes>>, Infallible> {
    let started = Instant::now();
    let request_id = request_id(&request);
    let method = request.method().clone();
    let path = request.uri().path().to_owned();

    let timeout = state.settings.request_timeout;
    let (mut response, outcome) = OUTCOME
        .scope(RefCell::new(RequestOutcome::default()), async {
            let response = match tokio::time::timeout(timeout, route(&state, request)).await {
                Ok(response) => response,
                Err(_) => {
                    tracing::warn!(request_id = %request_id, path = %path, timeout_seconds = timeout.as_secs(), "request timed out");
                    oauth_error(503, "temporarily_unavailable", "the request timed out: retry later")
                }
            };
            (response, OUTCOME.with(|slot| slot.take()))
        })
        .await;

    if let Ok(value) = HeaderValue::from_str(&request_id) {
        response
            .headers_mut()
            .insert(HeaderName::from_static("x-request-id"), value);
    }

    let status = response.status().as_u16();
    let duration_ms = started.elapsed().as_micros() as f64 / 1000.0;
    if status >= 500 {
        tracing::warn!(
            request_id = %request_id, peer = %peer, method = %method, path = %path, status,
            client_id = outcome.client_id.as_deref(), event = outcome.event, outcome = outcome.outcome, reason = outcome.reason.as_deref(),
            duration_ms, "request failed"
        );
    } else {
        tracing::info!(
            request_id = %request_id, peer = %peer, method = %method, path = %path, status,
            client_id = outcome.client_id.as_deref(), event = outcome.event, outcome = outcome.outcome, reason = outcome.reason.as_deref(),
            duration_ms, "request"
        );
    }
    Ok(response)
}

async fn route(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let path = request.uri().path();
    let method = request.method();
    let is_read = method == Method::GET || method == Method::HEAD;

    if path == "/healthz" && is_read {
        return json_response(200, &json!({ "status": "ok" }));
    }
    if path == "/readyz" && is_read {
        return readiness(state).await;
    }
    provider_response(state, request).await
}

/// Checks that the database responds to a one-row primary-key lookup.
async fn readiness(state: &State) -> Response<Full<Bytes>> {
    if state.draining.load(Ordering::SeqCst) {
        return json_response(503, &json!({ "status": "shutting_down" }));
    }
    match state.storage.find_revoked_token("readiness-probe").await {
        Ok(_) => json_response(200, &json!({ "status": "ready" })),
        Err(error) => {
            tracing::warn!(code = error.code(), error = %error, "readiness check failed");
            json_response(
                503,
                &json!({ "status": "unavailable", "error": error.code() }),
            )
        }
    }
}

async fn provider_response(state: &State, request: Request<Incoming>) -> Response<Full<Bytes>> {
    let max_body = state.settings.max_body_bytes;
    let declared_length = request
        .headers()
        .get(CONTENT_LENGTH)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| value.parse::<u64>().ok());
    if declared_length.is_some_and(|length| length > max_body as u64) {
        return body_too_large(max_body);
    }

    let (parts, body) = request.into_parts();
    let body = match Limited::new(body, max_body).collect().await {
        Ok(collected) => collected.to_bytes(),
        Err(error) if error.downcast_ref::<LengthLimitError>().is_some() => {
            return body_too_large(max_body)
        }
        Err(error) => {
            tracing::debug!(error = %error, "reading the request body failed");
            return oauth_error(400, "invalid_request", "the request body could not be read");
        }
    };

    let headers = parts
        .headers
        .iter()
        .filter_map(|(name, value)| {
            value
                .to_str()
                .ok()
                .map(|value| (name.as_str().to_owned(), value.to_owned()))
        })
        .collect();
    let url = parts.uri.path_and_query().map_or_else(
        || parts.uri.path().to_owned(),
        |path| path.as_str().to_owned(),
    );
    let request = HttpRequest {
        method: parts.method.as_str().to_owned(),
        url,
        headers,
        body: body.to_vec(),
    };
    to_hyper(state.provider.handle(&request).await)
}

fn body_too_large(max_body: usize) -> Response<Full<Bytes>> {
    oauth_error(
        413,
        "invalid_request",
        &format!("the request body is larger than {max_body} bytes"),
    )
}

fn oauth_error(status: u16, code: &str, description: &str) -> Response<Full<Bytes>> {
    let mut response = json_response(
        status,
        &json!({ "error": code, "error_description": description }),
    );
    response.headers_mut().insert(
        hyper::header::CACHE_CONTROL,
        HeaderValue::from_static("no-store"),
    );
    response
}

fn json_response(status: u16, body: &serde_json::Value) -> Response<Full<Bytes>> {
    to_hyper(HttpResponse::json(status, body))
}

fn to_hyper(response: HttpResponse) -> Response<Full<Bytes>> {
    let mut builder = Response::builder()
        .status(StatusCode::from_u16(response.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR));
    for (name, value) in &response.headers {
        builder = builder.header(name.as_str(), value.as_str());
    }
    builder
        .body(Full::new(Bytes::from(response.body)))
        .unwrap_or_else(|error| {
            tracing::error!(error = %error, "building the HTTP response failed");
            let mut fallback = Response::new(Full::new(Bytes::from_static(
                b"{\"error\":\"server_error\"}",
            )));
            *fallback.status_mut() = StatusCode::INTERNAL_SERVER_ERROR;
            fallback
        })
}
