//! WAL checkpoints off the write path.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: the
//! committer then copies pages into the database file and fsyncs it while every message
//! queued behind it waits, and with many busy sessions it copies the same pages again after
//! every few batches (fanout's profile: a third of the committer's thread in `pwrite` and
//! `fsync`). Here the writer runs with automatic checkpoints off, and a task checkpoints on
//! a connection of its own (so on its own sqlx thread) every `INTERVAL`: a page written many
//! times in between is copied once. `PASSIVE` never blocks the writer or the readers.

use sqlx::sqlite::SqliteConnectOptions;
use sqlx::{ConnectOptions, Connection};
use std::sync::Weak;
use std::time::Duration;

const INTERVAL: Duration = Duration::from_secs(1);

/// Checkpoint the database `options` opens until `alive` can no longer be upgraded (the
/// store and all its clones are gone).
pub fn spawn(options: SqliteConnectOptions, alive: Weak<()>) {
    tokio::spawn(async move {
        let mut conn = match options.connect().await {
            Ok(conn) => conn,
            Err(e) => {
                tracing::error!(error = %e, "WAL checkpointer could not connect; the WAL will grow");
                return;
            }
        };
        loop {
            tokio::time::sleep(INTERVAL).await;
            if alive.upgrade().is_none() {
                break;
            }
            if let Err(e) = sqlx::query("PRAGMA wal_checkpoint(PASSIVE)")
                .execute(&mut conn)
                .await
            {
                tracing::warn!(error = %e, "WAL checkpoint failed; retrying");
            }
        }
        conn.close().await.ok();
    });
}
