//! The writer keeps its prepared statements between batches (`direct::Kept`). sqlx closes a
//! SQLite connection with `sqlite3_close`, which refuses while any statement prepared on it
//! is alive, and sqlx then panics on its connection's thread (and leaks the connection).
//! So the store must finalize them first: when it is closed, and when it is dropped.
//! This file holds one test, alone in its binary, because it watches every thread's panics.

mod common;

use chatdesk_core::domain::*;
use chatdesk_core::store::{AppendOutcome, MessageStore, NewMessage};
use chatdesk_store_sqlite::Durability;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

#[tokio::test]
async fn the_writer_closes_cleanly_with_kept_statements() {
    let panics = Arc::new(AtomicUsize::new(0));
    let seen = panics.clone();
    let report = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        seen.fetch_add(1, Ordering::SeqCst);
        report(info);
    }));
    let dir = tempfile::tempdir().unwrap();
    for (i, close) in [true, false].into_iter().enumerate() {
        let path = dir.path().join(format!("{i}.db"));
        let store = common::file_store(&path, Durability::Normal).await;
        let owner = common::customer();
        let session = common::open(&store, &owner).await;
        // Two batches: the second runs on the statements the first prepared.
        for _ in 0..2 {
            let batch = [NewMessage {
                client_msg_id: Some(
                    ClientMsgId::parse(&MessageId::generate().to_string()).unwrap(),
                ),
                ..common::message(session.id, &owner, "hello".into())
            }];
            let outcome = store.append_messages(&batch).await.unwrap();
            assert!(
                matches!(outcome[..], [AppendOutcome::Created(_)]),
                "{outcome:?}"
            );
        }
        // Written through sqlx between kept-statement batches: the same connection.
        let clone = store.clone();
        if close {
            store.close().await;
            drop(clone);
        } else {
            drop(store);
            drop(clone);
        }
        // sqlx closes its connections on threads of its own.
        tokio::time::sleep(Duration::from_millis(500)).await;
        assert_eq!(
            panics.load(Ordering::SeqCst),
            0,
            "a thread panicked closing the store (close: {close})"
        );
    }
}
