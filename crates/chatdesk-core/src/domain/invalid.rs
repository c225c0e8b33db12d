//! The one error every domain parser returns: which field, a stable code, and a human message.

use std::fmt;

/// Input that does not parse into a domain value. `code` is stable and machine-readable;
/// it ends up verbatim in the API's error body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub field: &'static str,
    pub code: &'static str,
    pub message: String,
}

impl Invalid {
    pub fn new(field: &'static str, code: &'static str, message: impl Into<String>) -> Self {
        Self {
            field,
            code,
            message: message.into(),
        }
    }
}

impl fmt::Display for Invalid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.field, self.message)
    }
}

impl std::error::Error for Invalid {}
