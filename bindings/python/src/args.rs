//! Positional arguments of the dispatched calls (`Storage.call`, `Provider.call`), as
//! JSON values. The Python package checks types first; these checks keep a wrong call
//! from the package itself from turning into a panic.

use serde::de::DeserializeOwned;
use serde_json::Value;

use trustline::{Error, ErrorKind, Result, Timestamp};

/// The arguments of one call, with the operation name for error messages.
pub struct Args<'a> {
    pub operation: &'a str,
    pub values: &'a [Value],
}

impl Args<'_> {
    fn invalid(&self, index: usize, expected: &str) -> Error {
        Error::new(
            ErrorKind::InvalidArgument,
            format!("argument {index} of {} must be {expected}", self.operation),
        )
    }

    fn get(&self, index: usize) -> &Value {
        self.values.get(index).unwrap_or(&Value::Null)
    }

    pub fn string(&self, index: usize) -> Result<String> {
        self.get(index)
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| self.invalid(index, "a string"))
    }

    pub fn optional_string(&self, index: usize) -> Result<Option<String>> {
        match self.get(index) {
            Value::Null => Ok(None),
            _ => self.string(index).map(Some),
        }
    }

    pub fn boolean(&self, index: usize) -> Result<bool> {
        self.get(index)
            .as_bool()
            .ok_or_else(|| self.invalid(index, "a bool"))
    }

    pub fn strings(&self, index: usize) -> Result<Vec<String>> {
        self.record(index, "a list of strings")
    }

    pub fn timestamp(&self, index: usize) -> Result<Timestamp> {
        self.get(index)
            .as_i64()
            .map(Timestamp::from_millis)
            .ok_or_else(|| self.invalid(index, "epoch milliseconds"))
    }

    pub fn optional_timestamp(&self, index: usize) -> Result<Option<Timestamp>> {
        match self.get(index) {
            Value::Null => Ok(None),
            _ => self.timestamp(index).map(Some),
        }
    }

    pub fn optional_seconds(&self, index: usize) -> Result<Option<u64>> {
        match self.get(index) {
            Value::Null => Ok(None),
            value => value
                .as_u64()
                .map(Some)
                .ok_or_else(|| self.invalid(index, "a whole number of seconds, 0 or more")),
        }
    }

    /// Reads a wire record such as a `ServiceClient` dict.
    pub fn record<T: DeserializeOwned>(&self, index: usize, expected: &str) -> Result<T> {
        serde_json::from_value(self.get(index).clone()).map_err(|error| {
            Error::new(
                ErrorKind::InvalidArgument,
                format!(
                    "argument {index} of {} must be {expected}: {error}",
                    self.operation
                ),
            )
        })
    }
}

/// Serializes a result record into its wire form.
pub fn wire<T: serde::Serialize>(value: &T) -> Value {
    serde_json::to_value(value).unwrap_or(Value::Null)
}
