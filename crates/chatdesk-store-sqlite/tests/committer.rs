//! The committer on a real SQLite store: concurrent sends are grouped into one transaction,
//! every caller gets its own gap-free seq, and events go out only for committed messages.

mod common;

use chatdesk_core::bus::{Bus, Event, InProcessBus, Received};
use chatdesk_core::committer::{Audience, CommitObserver, Committer, CommitterConfig};
use chatdesk_core::domain::*;
use chatdesk_core::store::{AppendOutcome, NewMessage, Store};
use chatdesk_store_sqlite::Durability;
use std::sync::{Arc, Mutex};
use std::time::Duration;

#[derive(Default)]
struct Batches(Mutex<Vec<usize>>);

impl CommitObserver for Batches {
    fn batch_committed(&self, size: usize, _created: usize, _took: Duration) {
        self.0.lock().unwrap().push(size);
    }
}

// One thread: every send below is queued before the committer runs again, so batching is
// deterministic rather than timing-dependent.
#[tokio::test(flavor = "current_thread")]
async fn concurrent_sends_share_transactions_and_events_follow_commits() {
    let sizes = concurrent_sends(false).await;
    assert!(
        sizes.len() < 200 / 8,
        "sends were grouped into few transactions: {sizes:?}"
    );
}

// The server's SQLite configuration: the committer on a thread of its own. Batching then
// depends on timing; everything else must hold exactly.
#[tokio::test(flavor = "current_thread")]
async fn a_committer_on_its_own_thread_keeps_every_guarantee() {
    concurrent_sends(true).await;
}

/// 200 concurrent sends (20 of them retries) through a committer: seqs gap-free, retries
/// answered as duplicates, batches within the limit, events in commit order. The batch sizes.
async fn concurrent_sends(own_thread: bool) -> Vec<usize> {
    let dir = tempfile::tempdir().unwrap();
    let store = common::file_store(&dir.path().join("c.db"), Durability::Full).await;
    let owner = common::customer();
    let session = common::open(&store, &owner).await;
    let store: Arc<dyn Store> = Arc::new(store);
    let bus = Arc::new(InProcessBus::new(1024));
    let mut events = bus.subscribe();
    let batches = Arc::new(Batches::default());
    let (committer, task) = Committer::spawn(
        store.clone(),
        bus.clone(),
        batches.clone(),
        CommitterConfig {
            max_batch: 64,
            queue: 1024,
            own_thread,
        },
    );

    let sends = (0..200).map(|i| {
        let committer = committer.clone();
        let owner = owner.clone();
        let audience = Audience {
            business_id: BusinessId::default_tenant(),
            owner: owner.clone(),
            session_number: session.number,
        };
        tokio::spawn(async move {
            let m = NewMessage {
                // Every tenth send is a retry of the one before it.
                client_msg_id: Some(
                    ClientMsgId::parse(&format!("k{}", i - (i % 10 == 9) as i32)).unwrap(),
                ),
                ..common::message(session.id, &owner, format!("m{i}"))
            };
            committer.append(m, audience).await.unwrap()
        })
    });
    let outcomes: Vec<AppendOutcome> = futures_join(sends).await;
    drop(committer);
    task.await.unwrap();

    let mut seqs: Vec<i64> = outcomes
        .iter()
        .filter_map(|o| match o {
            AppendOutcome::Created(m) => Some(m.seq),
            _ => None,
        })
        .collect();
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=180).collect::<Vec<_>>(),
        "180 distinct sends, gap-free"
    );
    assert_eq!(
        outcomes
            .iter()
            .filter(|o| matches!(o, AppendOutcome::Duplicate(_)))
            .count(),
        20
    );

    let sizes = batches.0.lock().unwrap().clone();
    assert_eq!(sizes.iter().sum::<usize>(), 200);
    assert!(
        sizes.iter().all(|&s| s <= 64),
        "batches respect the limit: {sizes:?}"
    );

    // One event per created message, in commit order; none for duplicates.
    let mut published = Vec::new();
    while let Some(received) = events.try_recv() {
        let Received::Event(e) = received else {
            panic!("the bus lost events: {received:?}");
        };
        if let Event::MessageCreated { message, .. } = &*e {
            published.push(message.seq);
        }
    }
    assert_eq!(published, (1..=180).collect::<Vec<_>>());
    sizes
}

async fn futures_join<T>(handles: impl Iterator<Item = tokio::task::JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::new();
    for h in handles.collect::<Vec<_>>() {
        out.push(h.await.unwrap());
    }
    out
}
