//! Ratings: the first one a session gets is kept, with its outbox entry.

use super::*;

pub async fn a_session_keeps_its_first_rating(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    subscribe(&store, &shop, WebhookEvent::SessionRated).await;
    let s = create(&store, &user("ann"), "shop").await;
    let unrated = create(&store, &user("bob"), "shop").await;
    let rating = |score, comment: Option<&str>| Rating {
        session_id: s.id,
        score: Score::parse(score).unwrap(),
        comment: comment.map(str::to_owned),
        rated_at: clock::now(),
    };
    let first = rating(4, Some("quick and kind"));
    assert!(matches!(
        store.rate_session(&first).await.unwrap(),
        RateOutcome::Rated(r) if r == first
    ));
    match store.rate_session(&rating(1, None)).await.unwrap() {
        RateOutcome::AlreadyRated(kept) => assert_eq!(kept.score.get(), 4),
        _ => panic!("a second rating is refused"),
    }
    let got = store.ratings(&[s.id, unrated.id]).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(
        (got[0].score.get(), got[0].comment.as_deref()),
        (4, Some("quick and kind"))
    );
    let nowhere = Rating {
        session_id: SessionId::generate(),
        ..first.clone()
    };
    assert!(matches!(
        store.rate_session(&nowhere).await.unwrap(),
        RateOutcome::NotFound
    ));
    let entries: Vec<_> = store
        .outbox(10)
        .await
        .unwrap()
        .into_iter()
        .filter(|e| e.event == WebhookEvent::SessionRated)
        .map(|e| e.session_id)
        .collect();
    assert_eq!(entries, vec![s.id], "one entry, for the rating kept");
}
