//! Errors of the use cases. Every variant maps to one HTTP status in the server; the codes are
//! stable and machine-readable.

use crate::domain::Invalid;
use crate::store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum ServiceError {
    /// Input that does not parse: 400/422 with the parser's code.
    #[error(transparent)]
    Invalid(#[from] Invalid),
    /// The thing does not exist, or the caller may not know it does.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The caller is known but may not do this. The text says what was refused.
    #[error("{0}")]
    Forbidden(&'static str),
    /// The request conflicts with the current state (closed session, duplicate email, …).
    #[error("{message}")]
    Conflict { code: &'static str, message: String },
    /// An upload larger than allowed, or one its tenant's quota has no room for (413).
    #[error("{message}")]
    TooLarge { code: &'static str, message: String },
    /// A file whose content is of a type this deployment does not accept (415).
    #[error("{0}")]
    UnsupportedType(String),
    /// The database or the committer is not available right now.
    #[error("service unavailable: {0}")]
    Unavailable(String),
    /// Our own fault.
    #[error("internal error: {0}")]
    Internal(String),
}

impl ServiceError {
    pub fn conflict(code: &'static str, message: impl Into<String>) -> Self {
        Self::Conflict {
            code,
            message: message.into(),
        }
    }
}

impl From<StoreError> for ServiceError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict(what) => Self::conflict("conflict", what),
            StoreError::Unavailable(why) => Self::Unavailable(why),
            StoreError::Backend(why) | StoreError::Corrupt(why) => Self::Internal(why),
        }
    }
}

pub type ServiceResult<T> = Result<T, ServiceError>;
