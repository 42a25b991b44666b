//! Timestamps as milliseconds since the Unix epoch, and their ISO-8601 text form.

use std::fmt;
use std::time::{SystemTime, UNIX_EPOCH};

use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

/// A point in time with millisecond precision, in UTC.
///
/// Stored SQL rows use the text form `2026-01-31T12:00:00.000Z`; JavaScript sees a `Date`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Timestamp(i64);

impl Timestamp {
    /// Creates a timestamp from milliseconds since the Unix epoch.
    pub const fn from_millis(millis: i64) -> Self {
        Self(millis)
    }

    /// Creates a timestamp from whole seconds since the Unix epoch.
    pub const fn from_seconds(seconds: i64) -> Self {
        Self(seconds.saturating_mul(1000))
    }

    /// Reads the system clock.
    pub fn now() -> Self {
        let millis = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|elapsed| elapsed.as_millis() as i64)
            .unwrap_or(0);
        Self(millis)
    }

    /// Milliseconds since the Unix epoch.
    pub const fn as_millis(self) -> i64 {
        self.0
    }

    /// Whole seconds since the Unix epoch, rounded down (the JWT `NumericDate` form).
    pub const fn as_seconds(self) -> i64 {
        self.0.div_euclid(1000)
    }

    /// Returns this timestamp moved by a signed number of seconds.
    pub const fn plus_seconds(self, seconds: i64) -> Self {
        Self(self.0.saturating_add(seconds.saturating_mul(1000)))
    }

    /// Parses an RFC 3339 / ISO-8601 timestamp such as `2026-01-31T12:00:00.000Z`.
    pub fn parse_iso(text: &str) -> Result<Self, InvalidTimestamp> {
        let parsed = OffsetDateTime::parse(text.trim(), &Rfc3339).map_err(|_| InvalidTimestamp {
            value: text.to_owned(),
        })?;
        let millis = parsed.unix_timestamp_nanos() / 1_000_000;
        Ok(Self(millis as i64))
    }

    /// Formats as ISO-8601 UTC with milliseconds, the form the SQL tables store.
    pub fn to_iso(self) -> String {
        let seconds = self.0.div_euclid(1000);
        let millis = self.0.rem_euclid(1000);
        match OffsetDateTime::from_unix_timestamp(seconds) {
            Ok(moment) => format!(
                "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
                moment.year(),
                u8::from(moment.month()),
                moment.day(),
                moment.hour(),
                moment.minute(),
                moment.second(),
                millis
            ),
            Err(_) => format!("{}ms", self.0),
        }
    }
}

impl fmt::Debug for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_iso())
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter.write_str(&self.to_iso())
    }
}

/// A timestamp text that is not RFC 3339.
#[derive(Debug, Clone, thiserror::Error)]
#[error("invalid timestamp {value:?}: expected ISO-8601 UTC such as 2026-01-31T12:00:00.000Z")]
pub struct InvalidTimestamp {
    /// The rejected text.
    pub value: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn iso_round_trip_keeps_millis() {
        let stamp = Timestamp::parse_iso("2026-01-31T12:00:00.123Z").expect("valid");
        assert_eq!(stamp.to_iso(), "2026-01-31T12:00:00.123Z");
        assert_eq!(stamp.as_seconds(), 1_769_860_800);
    }

    #[test]
    fn iso_parse_accepts_offsets() {
        let stamp = Timestamp::parse_iso("2026-01-31T13:00:00+01:00").expect("valid");
        assert_eq!(stamp.to_iso(), "2026-01-31T12:00:00.000Z");
    }

    #[test]
    fn iso_parse_rejects_garbage() {
        let error = Timestamp::parse_iso("yesterday").expect_err("invalid");
        assert!(error.to_string().contains("\"yesterday\""));
    }
}
