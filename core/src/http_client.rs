//! An [`HttpTransport`] over reqwest with rustls, for hosts without an HTTP client of
//! their own (the Python binding, the CLI, uniffi). Enabled by the `http-client` feature.
//!
//! Server certificates are checked against the operating system's trust store, so an
//! internal CA installed there is trusted. Redirects are not followed: a token endpoint
//! or JWKS URL that redirects is a configuration error, and following it would send the
//! client's credentials to another URL.

use std::time::Duration;

use async_trait::async_trait;

use crate::error::{Error, ErrorKind, Result};
use crate::http::{HttpRequest, HttpResponse, HttpTransport};

/// How long connecting to a server may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// The largest response body read, in bytes. A JWKS or token response is a few
/// kilobytes; a larger body is cut off with an error instead of filling memory.
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// Sends requests with a pooled reqwest client. Cheap to share behind an `Arc`.
///
/// It must be used inside a tokio runtime with I/O and time drivers enabled.
#[derive(Clone, Debug)]
pub struct ReqwestTransport {
    client: reqwest::Client,
}

impl ReqwestTransport {
    /// Creates a transport with the operating system's trust store and no redirects.
    pub fn new() -> Result<Self> {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("trustline/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|error| {
                Error::new(ErrorKind::Internal, format!("creating the HTTP client failed: {error}")).with_source(error)
            })?;
        Ok(Self { client })
    }
}

#[async_trait]
impl HttpTransport for ReqwestTransport {
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse> {
        let failed = |detail: String| Error::new(ErrorKind::TokenRequestFailed, detail);

        let method = reqwest::Method::from_bytes(request.method.as_bytes())
            .map_err(|_| Error::invalid_argument(format!("invalid HTTP method {:?}", request.method)))?;
        let mut builder = self.client.request(method, &request.url);
        for (name, value) in &request.headers {
            builder = builder.header(name.as_str(), value.as_str());
        }
        if !request.body.is_empty() {
            builder = builder.body(request.body);
        }

        // reqwest's error Display names the URL but never headers or bodies, so it
        // carries no credentials.
        let mut response = builder
            .send()
            .await
            .map_err(|error| failed(format!("{} {} failed: {}", request.method, request.url, describe(&error))))?;

        let status = response.status().as_u16();
        let headers = response
            .headers()
            .iter()
            .map(|(name, value)| (name.as_str().to_owned(), String::from_utf8_lossy(value.as_bytes()).into_owned()))
            .collect();

        let mut body = Vec::new();
        while let Some(chunk) = response
            .chunk()
            .await
            .map_err(|error| failed(format!("reading the response of {} failed: {}", request.url, describe(&error))))?
        {
            if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
                return Err(failed(format!(
                    "the response of {} is larger than {MAX_RESPONSE_BYTES} bytes",
                    request.url
                )));
            }
            body.extend_from_slice(&chunk);
        }

        Ok(HttpResponse {
            status,
            headers,
            body: String::from_utf8_lossy(&body).into_owned(),
        })
    }
}

/// Formats a reqwest error with its chain of causes, e.g. "error sending request:
/// connection refused", so that the reason is visible in one line.
fn describe(error: &reqwest::Error) -> String {
    let mut text = error.to_string();
    let mut source = std::error::Error::source(error);
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[tokio::test]
    async fn send_returns_status_headers_and_body() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let address = listener.local_addr().expect("address");
        let server = tokio::spawn(async move {
            let (mut socket, _) = listener.accept().await.expect("accept");
            let mut buffer = vec![0u8; 4096];
            let read = socket.read(&mut buffer).await.expect("read");
            let request = String::from_utf8_lossy(&buffer[..read]).into_owned();
            let body = r#"{"error":"invalid_client"}"#;
            let response = format!(
                "HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
                body.len()
            );
            socket.write_all(response.as_bytes()).await.expect("write");
            request
        });

        let transport = ReqwestTransport::new().expect("transport");
        let response = transport
            .send(HttpRequest {
                method: "POST".into(),
                url: format!("http://{address}/token"),
                headers: vec![("content-type".into(), "application/x-www-form-urlencoded".into())],
                body: b"grant_type=client_credentials".to_vec(),
            })
            .await
            .expect("response");

        assert_eq!(response.status, 401);
        assert_eq!(response.header("content-type"), Some("application/json"));
        assert_eq!(response.body, r#"{"error":"invalid_client"}"#);
        let request = server.await.expect("server");
        assert!(request.starts_with("POST /token HTTP/1.1"));
        assert!(request.ends_with("grant_type=client_credentials"));
    }

    #[tokio::test]
    async fn send_fails_when_connection_is_refused() {
        // Bind and drop a listener to find a port with nothing listening on it.
        let address = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("address");
        let transport = ReqwestTransport::new().expect("transport");
        let error = transport
            .send(HttpRequest {
                method: "GET".into(),
                url: format!("http://{address}/.well-known/jwks.json"),
                ..HttpRequest::default()
            })
            .await
            .expect_err("refused");
        assert_eq!(error.code(), "token_request_failed");
        assert!(error.message().contains(&address.to_string()), "{}", error.message());
    }
}
