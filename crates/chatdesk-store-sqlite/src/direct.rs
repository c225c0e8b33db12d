//! Synchronous SQLite work on a pooled sqlx connection's own handle.
//!
//! sqlx runs every SQLite connection on a thread of its own and hands each statement, and
//! each row back, across threads. For a chain of statements those hand-offs, not SQLite,
//! are the cost (the committer's profile: the SQLite thread ~60% busy, the rest waiting on
//! hand-offs). `run` borrows the handle from sqlx once (`lock_handle`: one round trip) and
//! runs the whole unit of work on the caller's thread through rusqlite, which wraps the same
//! libsqlite3-sys handle without owning it.

use crate::db;
use chatdesk_core::store::{StoreError, StoreResult};
use rusqlite::ErrorCode;
use sqlx::SqliteConnection;

/// Run `work` on `conn`'s handle. `work` must leave no transaction open (use a rusqlite
/// `Transaction`: dropping it without commit rolls back, also on panic).
pub async fn run<T>(
    conn: &mut SqliteConnection,
    work: impl FnOnce(&mut rusqlite::Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let mut locked = conn.lock_handle().await.map_err(db)?;
    // SAFETY: while `locked` lives, sqlx's worker thread has let go of the handle and waits
    // to take it back, so nothing else uses it. `from_handle` does not own the handle:
    // dropping the wrapper finalizes the statements it prepared and leaves the connection
    // open. The wrapper is dropped before `locked`.
    #[allow(unsafe_code)]
    let mut handle = unsafe { rusqlite::Connection::from_handle(locked.as_raw_handle().as_ptr()) }
        .map_err(error)?;
    let out = work(&mut handle);
    drop(handle);
    drop(locked);
    out
}

/// A rusqlite error as the store reports it (the same classes as sqlx's, see `db`).
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
            Some(ErrorCode::DatabaseBusy | ErrorCode::DatabaseLocked)
        ) =>
        {
            StoreError::Unavailable(e.to_string())
        }
        _ => StoreError::Backend(e.to_string()),
    }
}
