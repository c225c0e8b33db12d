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
use sqlx::{SqliteConnection, SqlitePool};
use std::sync::{Mutex, PoisonError};

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

/// The writer's rusqlite wrapper, kept from one unit of work to the next with its prepared
/// statements. A wrapper made per unit finalizes them when dropped, so each batch parsed and
/// planned its statements again: at a moderate load (many small batches) that was a fifth
/// of the committer's time.
///
/// Why keeping it is sound: the wrapper is used only while its connection's handle is
/// locked (`run_kept`), and it is tied to that handle by address. A handle cannot be freed
/// while statements prepared on it are alive (`sqlite3_close` refuses), so the address
/// stays valid; sqlx is only asked to close the writer after the store has finalized them
/// (`release`, and field order when the store is dropped), and the writer pool is told
/// never to retire its connection on its own.
#[derive(Default)]
pub struct Kept(Mutex<Option<Wrapper>>);

pub struct Wrapper {
    /// The address of the sqlx handle it wraps (only compared).
    handle: usize,
    conn: rusqlite::Connection,
}

/// Statements kept per connection: a batch's and a session opening's, with room to spare.
const KEPT_STATEMENTS: usize = 32;

impl Kept {
    /// Finalize the kept statements, under the handle's lock so that nothing of sqlx's runs
    /// on the connection meanwhile: before the pool that owns the connection is closed.
    pub async fn release(&self, pool: &SqlitePool) {
        let mut conn = pool.acquire().await.ok();
        let locked = match conn.as_mut() {
            Some(conn) => conn.lock_handle().await.ok(),
            None => None,
        };
        drop(self.0.lock().unwrap_or_else(PoisonError::into_inner).take());
        drop(locked);
    }
}

/// `run`, on the wrapper `kept` holds for this connection (made on first use).
pub async fn run_kept<T>(
    conn: &mut SqliteConnection,
    kept: &Kept,
    work: impl FnOnce(&mut rusqlite::Connection) -> StoreResult<T>,
) -> StoreResult<T> {
    let mut locked = conn.lock_handle().await.map_err(db)?;
    let raw = locked.as_raw_handle().as_ptr();
    let mut slot = kept.0.lock().unwrap_or_else(PoisonError::into_inner);
    if slot.as_ref().is_some_and(|w| w.handle != raw as usize) {
        // Another connection than last time (see above): the old one's statements go.
        *slot = None;
    }
    let wrapper = match &mut *slot {
        Some(wrapper) => wrapper,
        empty => {
            // SAFETY: as in `run`; the wrapper outlives `locked` but is used only under a
            // later lock of the same handle, and `Kept` explains why the handle stays valid.
            #[allow(unsafe_code)]
            let conn = unsafe { rusqlite::Connection::from_handle(raw) }.map_err(error)?;
            conn.set_prepared_statement_cache_capacity(KEPT_STATEMENTS);
            empty.insert(Wrapper {
                handle: raw as usize,
                conn,
            })
        }
    };
    let out = work(&mut wrapper.conn);
    drop(slot);
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
