//! The Store contract on SQLite: a fresh database file per case, in WAL mode like production.

use chatdesk_store_sqlite::{Durability, SqliteStore};
use chatdesk_store_tests::{contract_tests, Fixture};
use std::sync::Arc;

async fn fresh() -> Option<Fixture> {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}", dir.path().join("contract.db").display());
    let store = SqliteStore::connect(&url, Durability::Normal)
        .await
        .expect("open SQLite");
    Some(Fixture {
        store: Arc::new(store),
        // Keep the directory alive until the case is done, then delete it.
        teardown: Some(Box::pin(async move { drop(dir) })),
    })
}

contract_tests!(fresh);

#[tokio::test]
async fn in_memory_database_works() {
    chatdesk_store_tests::run(
        || async {
            let store = SqliteStore::connect("sqlite::memory:", Durability::Full)
                .await
                .unwrap();
            Some(Fixture {
                store: Arc::new(store),
                teardown: None,
            })
        },
        chatdesk_store_tests::cases::append_assigns_gap_free_seq,
    )
    .await;
}

/// SQLite tells a new session its place from the transaction that opened it (the contract
/// case checks that the place is right when told; here, that it is told).
#[tokio::test]
async fn a_new_session_is_told_its_place() {
    use chatdesk_core::clock;
    use chatdesk_core::domain::{BusinessId, Party, UserId};
    use chatdesk_core::store::{NewSession, SessionStore};
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", dir.path().join("place.db").display());
    let store = SqliteStore::connect(&url, Durability::Normal)
        .await
        .unwrap();
    let new = || {
        NewSession::general(
            BusinessId::default_tenant(),
            Party::User(UserId::parse("u").unwrap()),
            clock::now(),
        )
    };
    for place in 1..=3 {
        let (_, created, told) = store.open_session_with_place(new(), false).await.unwrap();
        assert!(created);
        assert_eq!(told, Some(place));
    }
}
