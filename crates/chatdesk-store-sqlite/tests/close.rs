//! Closing the store finishes the writes already queued, and refuses later ones with a
//! clear error rather than hanging or losing them.

mod common;

use chatdesk_core::store::{AppendOutcome, MessageStore, StoreError};
use chatdesk_store_sqlite::Durability;

#[tokio::test]
async fn close_commits_what_was_queued_and_refuses_the_rest() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("close.db");
    let store = common::file_store(&path, Durability::Normal).await;
    let owner = common::customer();
    let session = common::open(&store, &owner).await;
    // Queued together; close is asked for while they wait behind each other.
    let sends: Vec<_> = (0..20)
        .map(|i| {
            let (store, owner) = (store.clone(), owner.clone());
            tokio::spawn(async move {
                let batch = [common::message(session.id, &owner, format!("m{i}"))];
                store.append_messages(&batch).await
            })
        })
        .collect();
    tokio::task::yield_now().await;
    store.close().await;
    let mut committed = 0;
    for send in sends {
        match send.await.unwrap() {
            Ok(outcomes) => {
                assert!(matches!(outcomes[..], [AppendOutcome::Created(_)]));
                committed += 1;
            }
            Err(e) => assert!(matches!(e, StoreError::Unavailable(_)), "{e:?}"),
        }
    }
    let late = [common::message(session.id, &owner, "late".into())];
    assert!(matches!(
        store.append_messages(&late).await,
        Err(StoreError::Unavailable(_))
    ));
    drop(store);
    // Every acknowledged send is in the file, and nothing else.
    let reopened = common::file_store(&path, Durability::Normal).await;
    let stored = reopened
        .list_messages(
            session.id,
            chatdesk_core::store::MessageRange::After {
                after: 0,
                limit: 100,
            },
        )
        .await
        .unwrap();
    assert_eq!(stored.len(), committed);
}
