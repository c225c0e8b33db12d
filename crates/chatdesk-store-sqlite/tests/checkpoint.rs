//! The writer runs with SQLite's automatic checkpoints off; the store's own checkpointer
//! must still move committed pages from the WAL into the database file, or the WAL would
//! grow without end.

mod common;

use chatdesk_core::clock;
use chatdesk_core::domain::*;
use chatdesk_core::store::{AppendOutcome, NewMessage, Store};
use chatdesk_store_sqlite::{Durability, SqliteStore};
use std::time::{Duration, Instant};

#[tokio::test]
async fn committed_pages_reach_the_database_file() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("wal.db");
    let store = SqliteStore::connect(&format!("sqlite://{}", db.display()), Durability::Normal)
        .await
        .unwrap();
    let owner = Party::User(UserId::parse("u").unwrap());
    let (session, _) = store
        .open_session(common::new_session(&owner), false)
        .await
        .unwrap();
    let before = std::fs::metadata(&db).unwrap().len();
    // ~2 MB of messages: far more than the file held after the migrations.
    for _ in 0..20 {
        let batch: Vec<NewMessage> = (0..100)
            .map(|_| NewMessage {
                id: MessageId::generate(),
                session_id: session.id,
                sender: owner.clone(),
                sender_type: SenderType::Customer,
                content: "x".repeat(1000),
                client_msg_id: None,
                claim_for_agent: None,
                at: clock::now(),
            })
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
