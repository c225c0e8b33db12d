//! Private notes: numbered per session, apart from messages, with their outbox entry.

use super::*;

pub async fn notes_are_numbered_per_session_apart_from_messages(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    subscribe(&store, &shop, WebhookEvent::NoteCreated).await;
    let s = create(&store, &user("ann"), "shop").await;
    let other = create(&store, &user("bob"), "shop").await;
    append_one(&store, msg(s.id, &user("ann"), "hello")).await;
    let agent = UserId::parse("ag1").unwrap();
    let content = |text: &str| Content::parse(text, 100).unwrap();
    let at = clock::now();
    let first = store
        .add_note(s.id, &agent, &content("VIP"), at)
        .await
        .unwrap()
        .unwrap();
    let second = store
        .add_note(s.id, &agent, &content("refund approved"), at)
        .await
        .unwrap()
        .unwrap();
    let elsewhere = store
        .add_note(other.id, &agent, &content("other"), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((first.number, second.number, elsewhere.number), (1, 2, 1));
    assert_eq!(first.author, agent);
    assert_eq!(
        store.list_notes(s.id, 10).await.unwrap(),
        vec![first.clone(), second.clone()]
    );
    assert_eq!(
        store.list_notes(s.id, 1).await.unwrap(),
        vec![second.clone()]
    );
    assert_eq!(store.get_note(s.id, 2).await.unwrap(), Some(second));
    assert_eq!(store.get_note(s.id, 3).await.unwrap(), None);
    // The messages are untouched: one message, seq 1, and no note among them.
    let messages = first_messages(&store, s.id).await;
    assert_eq!(messages.len(), 1);
    assert_eq!(messages[0].seq, 1);
    // Each note queued its webhook entry, naming its number.
    let entries = store.outbox(10).await.unwrap();
    let notes: Vec<(SessionId, Option<i64>)> = entries
        .iter()
        .filter(|e| e.event == WebhookEvent::NoteCreated)
        .map(|e| (e.session_id, e.seq))
        .collect();
    assert_eq!(
        notes,
        vec![(s.id, Some(1)), (s.id, Some(2)), (other.id, Some(1))]
    );
    // No session, no note.
    let gone = store
        .add_note(SessionId::generate(), &agent, &content("x"), at)
        .await
        .unwrap();
    assert!(gone.is_none());
}

// contract: one thread
pub async fn concurrent_notes_take_distinct_numbers(store: Arc<dyn Store>) {
    let s = create(&store, &user("ann"), "shop").await;
    let agent = UserId::parse("ag1").unwrap();
    let adds = (0..8).map(|i| {
        let store = store.clone();
        let agent = agent.clone();
        async move {
            let c = Content::parse(&format!("note {i}"), 100).unwrap();
            store
                .add_note(s.id, &agent, &c, clock::now())
                .await
                .unwrap()
                .unwrap()
        }
    });
    let mut numbers: Vec<i64> = futures::future::join_all(adds)
        .await
        .into_iter()
        .map(|n| n.number)
        .collect();
    numbers.sort();
    assert_eq!(numbers, (1..=8).collect::<Vec<_>>());
}
