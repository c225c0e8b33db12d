//! The search index is written behind the messages (`src/search_backlog.rs`): a search still
//! finds every acknowledged message, an edit replaces its entry, the backlog is moved within
//! its bound when nobody searches, and a backlog a stopped process left is moved at the next
//! start.

mod common;

use chatdesk_core::clock;
use chatdesk_core::domain::{Content, Message, Revision, SearchQuery, SessionId};
use chatdesk_core::store::{AppendOutcome, MessageStore, SessionFilter};
use chatdesk_store_sqlite::{Durability, SqliteStore};
use std::path::Path;
use std::time::{Duration, Instant};

async fn send(store: &SqliteStore, session: SessionId, text: &str) -> Message {
    let owner = common::customer();
    let sent = store
        .append_messages(&[common::message(session, &owner, text.into())])
        .await
        .unwrap();
    match sent.into_iter().next() {
        Some(AppendOutcome::Created(m)) => m,
        other => panic!("not created: {other:?}"),
    }
}

async fn search(store: &SqliteStore, words: &str) -> Vec<String> {
    let query = SearchQuery::parse(words).unwrap();
    let found = store
        .search_messages(&SessionFilter::default(), &query, 50)
        .await
        .unwrap();
    found.into_iter().map(|m| m.content).collect()
}

/// (rows waiting in the backlog, entries in the index), read beside the store.
fn counts(path: &Path) -> (i64, i64) {
    let conn = rusqlite::Connection::open(path).unwrap();
    let count = |table: &str| {
        conn.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| r.get(0))
            .unwrap()
    };
    (count("search_backlog"), count("message_search"))
}

#[tokio::test]
async fn a_search_right_after_a_send_finds_it_and_an_edit_replaces_its_entry() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("search.db");
    let store = common::file_store(&path, Durability::Normal).await;
    let session = common::open(&store, &common::customer()).await;
    let first = send(&store, session.id, "hello apple").await;
    assert_eq!(search(&store, "apple").await, ["hello apple"]);
    // Edited while its entry still waits in the backlog.
    let second = send(&store, session.id, "ripe cherry").await;
    let edited = Revision::Edit(Content::parse("ripe banana", 100).unwrap());
    store
        .revise_message(session.id, second.seq, &edited, clock::now())
        .await
        .unwrap();
    assert!(search(&store, "cherry").await.is_empty());
    assert_eq!(search(&store, "banana").await, ["ripe banana"]);
    store
        .revise_message(session.id, first.seq, &Revision::Delete, clock::now())
        .await
        .unwrap();
    assert!(search(&store, "apple").await.is_empty());
    assert_eq!(counts(&path), (0, 1), "one entry: the edited message's");
}

#[tokio::test]
async fn the_backlog_is_moved_within_its_bound_when_nobody_searches() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("lag.db");
    let store = common::file_store(&path, Durability::Normal).await;
    let session = common::open(&store, &common::customer()).await;
    for i in 0..5 {
        send(&store, session.id, &format!("note {i}")).await;
    }
    let sent = Instant::now();
    while counts(&path) != (0, 5) {
        assert!(
            sent.elapsed() < Duration::from_secs(5),
            "still waiting: {:?}",
            counts(&path)
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn a_backlog_left_by_a_stopped_process_is_moved_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("crash.db");
    let store = common::file_store(&path, Durability::Normal).await;
    let session = common::open(&store, &common::customer()).await;
    send(&store, session.id, "left behind").await;
    store.close().await;
    drop(store);
    // What a process that stopped before moving its backlog leaves.
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(
            "DELETE FROM message_search; \
             INSERT INTO search_backlog (session_id, seq) SELECT session_id, seq FROM messages;",
        )
        .unwrap();
    assert_eq!(counts(&path), (1, 0));
    let reopened = common::file_store(&path, Durability::Normal).await;
    assert_eq!(search(&reopened, "behind").await, ["left behind"]);
}
