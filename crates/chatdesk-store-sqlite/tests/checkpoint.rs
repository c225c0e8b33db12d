//! The writer runs with SQLite's automatic checkpoints off; the store's own checkpointer
//! must still move committed pages from the WAL into the database file, or the WAL would
//! grow without end.

mod common;

use chatdesk_core::store::{AppendOutcome, MessageStore, NewMessage};
use chatdesk_store_sqlite::Durability;
use std::time::{Duration, Instant};

#[tokio::test]
async fn committed_pages_reach_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wal.db");
    let store = common::file_store(&db, Durability::Normal).await;
    let owner = common::customer();
    let session = common::open(&store, &owner).await;
    let before = std::fs::metadata(&db).unwrap().len();
    // ~2 MB of messages: far more than the file held after the migrations.
    for _ in 0..20 {
        let batch: Vec<NewMessage> = (0..100)
            .map(|_| common::message(session.id, &owner, "x".repeat(1000)))
            .collect();
        for outcome in store.append_messages(&batch).await.unwrap() {
            assert!(matches!(outcome, AppendOutcome::Created(_)), "{outcome:?}");
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let size = std::fs::metadata(&db).unwrap().len();
        if size > before + 1_500_000 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "the database file stayed at {size} bytes (was {before}): nothing was checkpointed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Under writes that never pause, the WAL must still start over: SQLite rewinds it only
/// when a write transaction begins with every frame checkpointed, which a background
/// checkpoint alone never achieves while the writer keeps appending (the WAL then grew by
/// everything written, and more: its frames carry whole pages). ~190 MB of messages go
/// through here; a WAL that never started over would be larger than that. How often it
/// starts over depends on how fast the background checkpoint copies, which a busy machine
/// slows (on a quiet one the WAL settles at a few times the 16 MB at which the writer is
/// asked to let it start over), so the bound proves only that it did.
#[tokio::test]
async fn the_wal_starts_over_under_steady_writes() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("steady.db");
    let wal = dir.path().join("steady.db-wal");
    let store = common::file_store(&db, Durability::Normal).await;
    let owner = common::customer();
    let mut sessions = Vec::new();
    for _ in 0..8 {
        sessions.push(common::open(&store, &owner).await.id);
    }
    let mut largest = 0;
    const ROUNDS: usize = 800;
    for round in 0..ROUNDS {
        let batch: Vec<NewMessage> = (0..60)
            .map(|i| {
                let session = sessions[(round + i) % sessions.len()];
                common::message(session, &owner, "x".repeat(4000))
            })
            .collect();
        store.append_messages(&batch).await.unwrap();
        largest = largest.max(std::fs::metadata(&wal).map_or(0, |m| m.len()));
    }
    let written = (ROUNDS * 60 * 4000) as u64;
    assert!(
        largest < written / 10 * 9,
        "the WAL reached {largest} bytes for {written} bytes of messages: it never started over"
    );
}
