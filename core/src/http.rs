//! A framework-free HTTP model: the provider turns [`HttpRequest`]s into
//! [`HttpResponse`]s, and outgoing requests go through an [`HttpTransport`] that the
//! host runtime provides (its `fetch`, or a Rust HTTP client).

use async_trait::async_trait;
use percent_encoding::percent_decode_str;

use crate::error::Result;

/// An HTTP request as plain data.
#[derive(Clone, Default)]
pub struct HttpRequest {
    /// Method, e.g. `POST`.
    pub method: String,
    /// Absolute URL or origin-form path with query, e.g. `https://auth.internal/token`.
    pub url: String,
    /// Header fields in arrival order; names compare case-insensitively.
    pub headers: Vec<(String, String)>,
    /// The body bytes.
    pub body: Vec<u8>,
}

impl std::fmt::Debug for HttpRequest {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Headers and body may carry credentials, so only their sizes are shown.
        formatter
            .debug_struct("HttpRequest")
            .field("method", &self.method)
            .field("url", &self.url)
            .field("header_count", &self.headers.len())
            .field("body_length", &self.body.len())
            .finish()
    }
}

impl HttpRequest {
    /// Returns the first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }

    /// The path of the URL, without query or fragment.
    pub fn path(&self) -> &str {
        url_path(&self.url)
    }
}

/// An HTTP response as plain data.
#[derive(Clone, Default)]
pub struct HttpResponse {
    /// Status code.
    pub status: u16,
    /// Header fields.
    pub headers: Vec<(String, String)>,
    /// The body, as text (every body this library sends or reads is JSON).
    pub body: String,
}

impl std::fmt::Debug for HttpResponse {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("HttpResponse")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_length", &self.body.len())
            .finish()
    }
}

impl HttpResponse {
    /// Builds a JSON response.
    pub fn json(status: u16, body: &serde_json::Value) -> Self {
        Self {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string(),
        }
    }

    /// Adds a header.
    pub fn with_header(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_owned(), value.into()));
        self
    }

    /// Returns the first value of a header, by case-insensitive name.
    pub fn header(&self, name: &str) -> Option<&str> {
        header_value(&self.headers, name)
    }
}

/// Sends outgoing HTTP requests: the guard's JWKS fetch and the client's token request.
#[async_trait]
pub trait HttpTransport: Send + Sync {
    /// Sends a request and returns the response, whatever its status. Fails only when
    /// no response arrived (connection refused, timeout, unreadable body).
    async fn send(&self, request: HttpRequest) -> Result<HttpResponse>;
}

fn header_value<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers
        .iter()
        .find(|(candidate, _)| candidate.eq_ignore_ascii_case(name))
        .map(|(_, value)| value.as_str())
}

/// Returns the path of an absolute URL or an origin-form request target.
pub(crate) fn url_path(url: &str) -> &str {
    let without_fragment = url.split('#').next().unwrap_or("");
    let without_query = without_fragment.split('?').next().unwrap_or("");
    match without_query.find("://") {
        Some(scheme_end) => {
            let after_authority = &without_query[scheme_end + 3..];
            match after_authority.find('/') {
                Some(path_start) => &after_authority[path_start..],
                None => "/",
            }
        }
        None if without_query.is_empty() => "/",
        None => without_query,
    }
}

/// A form body that could not be parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum FormError {
    /// A name or value is not valid UTF-8 after percent-decoding.
    InvalidEncoding,
}

/// Parses an `application/x-www-form-urlencoded` body into name/value pairs, in order.
pub(crate) fn parse_form(body: &[u8]) -> Result<Vec<(String, String)>, FormError> {
    let text = std::str::from_utf8(body).map_err(|_| FormError::InvalidEncoding)?;
    let mut pairs = Vec::new();
    for field in text.split('&').filter(|field| !field.is_empty()) {
        let (name, value) = field.split_once('=').unwrap_or((field, ""));
        pairs.push((form_decode(name)?, form_decode(value)?));
    }
    Ok(pairs)
}

/// Decodes one form-urlencoded component: `+` is a space, then percent-decoding.
pub(crate) fn form_decode(component: &str) -> Result<String, FormError> {
    let spaced = component.replace('+', " ");
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|decoded| decoded.into_owned())
        .map_err(|_| FormError::InvalidEncoding)
}

/// Encodes one form-urlencoded component (the `application/x-www-form-urlencoded`
/// byte serializer of the WHATWG URL standard).
pub(crate) fn form_encode(component: &str) -> String {
    let mut encoded = String::with_capacity(component.len());
    for byte in component.bytes() {
        match byte {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'*' | b'-' | b'.' | b'_' => encoded.push(byte as char),
            b' ' => encoded.push('+'),
            _ => encoded.push_str(&format!("%{byte:02X}")),
        }
    }
    encoded
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn url_path_of_absolute_and_relative_urls() {
        assert_eq!(url_path("https://auth.internal/auth/token?x=1"), "/auth/token");
        assert_eq!(url_path("https://auth.internal"), "/");
        assert_eq!(url_path("/token#frag"), "/token");
        assert_eq!(url_path(""), "/");
    }

    #[test]
    fn form_round_trip_with_reserved_characters() {
        let value = "a b+c%d&e=f/é";
        let body = format!("k={}", form_encode(value));
        let pairs = parse_form(body.as_bytes()).expect("valid");
        assert_eq!(pairs, vec![("k".to_owned(), value.to_owned())]);
    }

    #[test]
    fn form_rejects_invalid_utf8() {
        assert_eq!(parse_form(b"k=%FF"), Err(FormError::InvalidEncoding));
    }
}
