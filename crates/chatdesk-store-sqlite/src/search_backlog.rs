//! The message search index, written behind the messages.
//!
//! FTS5 writes a segment of its index at every commit that adds entries, and merges segments
//! as they pile up: inside the committer's batches, that merging (now and then a large one)
//! was the write path's latency tail. So a batch only records each new message in
//! `search_backlog` (a plain row), and the writer thread moves the backlog into the index in
//! a transaction of its own once its oldest row has waited [`MOST_LAG`] or [`MOST_ROWS`] have
//! gathered: fewer, larger segments, and no merge inside a message's commit.
//!
//! Nothing sees the lag. A search first has the backlog moved, on the writer, after every
//! write queued before it, so it finds every acknowledged message; a revision moves it inside
//! its own transaction, so an edited message's entry is replaced, never doubled. The backlog
//! is a table, so a crash loses none of it: the next start finds it and moves it.

use crate::error::error;
use chatdesk_core::store::StoreResult;
use rusqlite::{Connection, TransactionBehavior};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, PoisonError};
use std::time::{Duration, Instant};

/// The longest a message waits for its search entry when nobody searches.
pub const MOST_LAG: Duration = Duration::from_millis(100);
/// Rows that make the backlog due at once, whatever their age: one move stays a bounded
/// transaction.
pub const MOST_ROWS: usize = 4096;

/// What the writer knows of the backlog; the rows themselves are in the database.
#[derive(Default)]
pub struct SearchBacklog {
    /// Rows recorded since the last move (0: nothing waits).
    rows: AtomicUsize,
    /// When the oldest of them was recorded (or a failed move is to be tried again).
    since: Mutex<Option<Instant>>,
}

impl SearchBacklog {
    /// The backlog of `conn`'s database: one left by an earlier process is due at once.
    pub fn of(conn: &Connection) -> StoreResult<Self> {
        let backlog = Self::default();
        let left: bool = conn
            .query_row("SELECT EXISTS (SELECT 1 FROM search_backlog)", [], |r| {
                r.get(0)
            })
            .map_err(error)?;
        if left {
            backlog.rows.store(MOST_ROWS, Ordering::SeqCst);
            backlog.restart_clock(Instant::now());
        }
        Ok(backlog)
    }

    /// `rows` more were recorded by a write on the writer's thread.
    pub fn grew(&self, rows: usize) {
        if rows > 0 && self.rows.fetch_add(rows, Ordering::SeqCst) == 0 {
            self.restart_clock(Instant::now());
        }
    }

    /// Does anything wait to be indexed?
    pub fn waiting(&self) -> bool {
        self.rows.load(Ordering::SeqCst) > 0
    }

    /// How long until the backlog is due; `None` when nothing waits.
    pub fn due_in(&self) -> Option<Duration> {
        let rows = self.rows.load(Ordering::SeqCst);
        if rows == 0 {
            return None;
        }
        if rows >= MOST_ROWS {
            return Some(Duration::ZERO);
        }
        let since = self
            .since
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .unwrap_or_else(Instant::now);
        Some(MOST_LAG.saturating_sub(since.elapsed()))
    }

    /// Move the backlog into the index in a transaction of its own (the writer's thread).
    /// A failure leaves it waiting, to be tried again after [`MOST_LAG`].
    pub fn catch_up(&self, conn: &mut Connection) -> StoreResult<()> {
        if !self.waiting() {
            return Ok(());
        }
        let moved = conn
            .transaction_with_behavior(TransactionBehavior::Immediate)
            .map_err(error)
            .and_then(|tx| {
                move_into_index(&tx)?;
                tx.commit().map_err(error)
            });
        match moved {
            Ok(()) => {
                self.rows.store(0, Ordering::SeqCst);
                Ok(())
            }
            Err(e) => {
                self.restart_clock(Instant::now());
                Err(e)
            }
        }
    }

    fn restart_clock(&self, at: Instant) {
        *self.since.lock().unwrap_or_else(PoisonError::into_inner) = Some(at);
    }
}

/// Record a new message for the index (inside the committer's batch).
pub const RECORD: &str = "INSERT INTO search_backlog (session_id, seq) VALUES (?1, ?2)";

/// Index every message in the backlog and empty it, in the caller's transaction. Each
/// entry takes the message's content as stored now.
pub fn move_into_index(tx: &Connection) -> StoreResult<()> {
    tx.execute_batch(
        "INSERT INTO message_search (content, session_id, seq) \
             SELECT m.content, m.session_id, m.seq FROM search_backlog b \
             JOIN messages m ON m.session_id = b.session_id AND m.seq = b.seq ORDER BY b.rowid; \
         DELETE FROM search_backlog;",
    )
    .map_err(error)
}
