//! WAL checkpoints off the write path, and a WAL that starts over under sustained load.
//!
//! By default SQLite checkpoints inside the commit that takes the WAL past 1,000 pages: the
//! committer then copies pages into the database file and fsyncs it while every message
//! queued behind it waits, and with many busy sessions it copies the same pages again after
//! every few batches. Here the writer runs with automatic checkpoints off, and a thread checkpoints on
//! a connection of its own every `INTERVAL`: a page written many
//! times in between is copied once. `PASSIVE` never blocks the writer or the readers.
//!
//! A checkpoint alone does not make the WAL start over: SQLite rewinds it only when a write
//! transaction begins with every frame already copied, and under steady writes the writer
//! has always appended more by the time a background checkpoint ends. The WAL then grew for
//! as long as the load lasted, and every frame went to a new place in the file, which the
//! kernel must allocate and zero (docs/benchmarks.md has the profile). So when the background checkpoint sees the WAL past
//! `RESTART_FRAMES`, it asks the writer (`Wal::restart_wanted`) to checkpoint once itself
//! between two transactions — only what was written since the last background pass — so that
//! its next transaction rewinds the WAL to the start of the file.

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

const INTERVAL: Duration = Duration::from_millis(250);

/// WAL length (in pages) past which the writer is asked to let the WAL start over: long
/// enough that it happens a few times a second at most under full load.
const RESTART_FRAMES: i64 = 4096;

/// What the background checkpointer tells the writer.
#[derive(Default)]
pub struct Wal {
    restart_wanted: AtomicBool,
}

impl Wal {
    /// Before a write transaction on the writer's handle: if asked, finish the checkpoint
    /// here, where no other write can come between it and the transaction that follows.
    /// A failure only postpones the rewind (the background pass asks again), so it is
    /// logged, never passed on to the write.
    pub fn before_write(&self, writer: &rusqlite::Connection) {
        if self.restart_wanted.swap(false, Ordering::Relaxed) {
            if let Err(e) = writer.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())) {
                tracing::warn!(error = %e, "WAL checkpoint before a write failed; the WAL rewinds later");
            }
        }
    }
}

/// Checkpoint the database at `path` until `alive` can no longer be upgraded (the store and
/// all its clones are gone).
pub fn spawn(path: PathBuf, wal: Arc<Wal>, alive: Weak<()>) -> std::io::Result<()> {
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            let conn = match rusqlite::Connection::open(&path) {
                Ok(conn) => conn,
                Err(e) => {
                    tracing::error!(error = %e, "WAL checkpointer could not connect; the WAL will grow");
                    return;
                }
            };
            if let Err(e) = conn.busy_timeout(Duration::from_secs(5)) {
                tracing::warn!(error = %e, "WAL checkpointer has no busy timeout");
            }
            loop {
                std::thread::sleep(INTERVAL);
                if alive.upgrade().is_none() {
                    break;
                }
                // (busy, frames in the WAL, frames copied)
                let pass = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |r| {
                    r.get::<_, i64>(1)
                });
                match pass {
                    Ok(frames) if frames > RESTART_FRAMES => {
                        wal.restart_wanted.store(true, Ordering::Relaxed);
                    }
                    Ok(_) => {}
                    Err(e) => tracing::warn!(error = %e, "WAL checkpoint failed; retrying"),
                }
            }
        })
        .map(drop)
}
