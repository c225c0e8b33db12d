//! A database file made by an earlier version (whose SQLite store ran sqlx's migrator) opens
//! as it is: no migration runs again, and what it holds reads back and grows.
//!
//! `fixtures/made-by-sqlx.sql` is `sqlite3 .dump` of a file that version 6940401 made: one
//! session of `ann`'s in `shop` with three messages.

mod common;

use chatdesk_core::domain::{Party, SessionId, UserId};
use chatdesk_core::store::{AppendOutcome, MessageRange, MessageStore, SessionStore};
use chatdesk_store_sqlite::Durability;

const SESSION: &str = "01a23761-c63f-7343-9417-dc03d4818a3c";

fn migrations(path: &std::path::Path) -> Vec<(i64, String)> {
    let conn = rusqlite::Connection::open(path).unwrap();
    let mut stmt = conn
        .prepare("SELECT version, installed_on FROM _sqlx_migrations ORDER BY version")
        .unwrap();
    stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[tokio::test]
async fn a_database_the_sqlx_migrator_made_carries_on() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("earlier.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(include_str!("fixtures/made-by-sqlx.sql"))
        .unwrap();
    let before = migrations(&path);
    assert_eq!(
        before.len(),
        16,
        "the fixture has every migration of its time"
    );

    let store = common::file_store(&path, Durability::Normal).await;
    let id = SessionId::parse(SESSION).unwrap();
    let session = store.get_session(id).await.unwrap().expect("the session");
    assert_eq!(session.owner, Party::User(UserId::parse("ann").unwrap()));
    assert_eq!(
        session.topic.as_ref().map(|t| t.as_str()),
        Some("made by sqlx")
    );
    let range = MessageRange::After {
        after: 0,
        limit: 10,
    };
    let kept = store.list_messages(id, range).await.unwrap();
    assert_eq!(
        kept.iter().map(|m| m.content.as_str()).collect::<Vec<_>>(),
        ["hello 1", "hello 2", "hello 3"]
    );
    let next = [common::message(id, &session.owner, "hello 4".into())];
    match &store.append_messages(&next).await.unwrap()[..] {
        [AppendOutcome::Created(m)] => assert_eq!(m.seq, 4),
        other => panic!("expected the fourth message, got {other:?}"),
    }
    store.close().await;
    let after = migrations(&path);
    assert_eq!(after[..before.len()], before[..], "no migration ran again");
}
