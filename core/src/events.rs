//! Provider and guard events, delivered to the user's hook.

use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};

use crate::time::Timestamp;

/// Whether the operation an event reports succeeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// It succeeded.
    Success,
    /// It failed; `reason_code` names the cause.
    Failure,
}

/// One event. Never contains a secret or a token.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Event {
    /// Event type, e.g. `token.issued`.
    #[serde(rename = "type")]
    pub event_type: &'static str,
    /// When it happened.
    pub timestamp: Timestamp,
    /// The provider's or guard's issuer.
    pub issuer: String,
    /// Success or failure.
    pub outcome: Outcome,
    /// The client concerned, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The requested or verified audience, when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub audience: Option<String>,
    /// The error code of a failure.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason_code: Option<String>,
    /// Further details, such as granted scopes, `jti` or key id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub metadata: Option<Map<String, Value>>,
}

impl Event {
    pub(crate) fn new(event_type: &'static str, issuer: &str, outcome: Outcome) -> Self {
        Self {
            event_type,
            timestamp: Timestamp::now(),
            issuer: issuer.to_owned(),
            outcome,
            client_id: None,
            audience: None,
            reason_code: None,
            metadata: None,
        }
    }

    pub(crate) fn client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = Some(client_id.into());
        self
    }

    pub(crate) fn audience(mut self, audience: Option<String>) -> Self {
        self.audience = audience;
        self
    }

    pub(crate) fn reason(mut self, code: &str) -> Self {
        self.reason_code = Some(code.to_owned());
        self
    }

    pub(crate) fn metadata(mut self, key: &str, value: impl Into<Value>) -> Self {
        self.metadata.get_or_insert_with(Map::new).insert(key.to_owned(), value.into());
        self
    }
}

/// Receives events. It must return quickly and must not fail: a binding that calls
/// user code queues the event and catches whatever that code throws.
pub type EventHook = Arc<dyn Fn(Event) + Send + Sync>;

pub(crate) fn emit(hook: &Option<EventHook>, event: Event) {
    if let Some(hook) = hook {
        hook(event);
    }
}
