//! SQLite's errors as the store reports them.

use chatdesk_core::store::StoreError;
use rusqlite::ErrorCode;

/// A rusqlite error as a [`StoreError`]: a unique key taken is a conflict, a busy or locked
/// database is unavailable (for now), anything else a backend failure.
pub fn error(e: rusqlite::Error) -> StoreError {
    use rusqlite::ffi::{SQLITE_CONSTRAINT_PRIMARYKEY, SQLITE_CONSTRAINT_UNIQUE};
    match &e {
        rusqlite::Error::SqliteFailure(f, _)
            if matches!(
                f.extended_code,
                SQLITE_CONSTRAINT_UNIQUE | SQLITE_CONSTRAINT_PRIMARYKEY
            ) =>
        {
            StoreError::Conflict(e.to_string())
        }
        _ if matches!(
            e.sqlite_error_code(),
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked | ErrorCode::CannotOpen)
        ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}

/// The error a caller gets when the thread that would have run its work is gone.
pub fn stopped(what: &str) -> StoreError {
    StoreError::Unavailable(format!("the SQLite {what} has stopped"))
}
