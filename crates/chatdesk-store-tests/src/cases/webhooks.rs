//! Webhooks: the delivery queue and the outbox.

use super::*;

pub async fn webhook_deliveries_queue_lease_and_retry(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    let url = WebhookUrl::parse("http://127.0.0.1:9/hook").unwrap();
    let hook = store
        .create_webhook(
            &shop,
            &url,
            "s3cret",
            &[WebhookEvent::MessageCreated, WebhookEvent::SessionClosed],
            clock::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        hook.events,
        vec![WebhookEvent::MessageCreated, WebhookEvent::SessionClosed]
    );
    assert_eq!(
        store.list_webhooks(&shop).await.unwrap(),
        vec![hook.clone()]
    );
    assert!(store
        .list_webhooks(&tenant("other"))
        .await
        .unwrap()
        .is_empty());

    let t0 = clock::now();
    let delivery = |body: &str| NewDelivery {
        id: uuid::Uuid::now_v7(),
        webhook_id: hook.id,
        event: WebhookEvent::MessageCreated,
        body: body.into(),
        at: t0,
    };
    let (d1, d2) = (delivery("{\"n\":1}"), delivery("{\"n\":2}"));
    store
        .enqueue_deliveries(&[d1.clone(), d2.clone()])
        .await
        .unwrap();

    let lease = t0 + Duration::seconds(60);
    let claimed = store.claim_deliveries(t0, lease, 10).await.unwrap();
    assert_eq!(claimed.len(), 2);
    let first = claimed.iter().find(|d| d.id == d1.id).unwrap();
    assert_eq!(
        (
            first.attempts,
            first.body.as_str(),
            first.url.as_str(),
            first.secret.as_str()
        ),
        (1, "{\"n\":1}", url.as_str(), "s3cret")
    );
    assert!(
        store
            .claim_deliveries(t0, lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "leased deliveries are not claimed twice"
    );

    store
        .finish_delivery(d1.id, Ok(()), None, t0)
        .await
        .unwrap();
    let retry_at = t0 + Duration::seconds(2);
    store
        .finish_delivery(d2.id, Err("HTTP 500".into()), Some(retry_at), t0)
        .await
        .unwrap();
    assert!(
        store
            .claim_deliveries(t0 + Duration::seconds(1), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "not before its retry time"
    );
    let again = store.claim_deliveries(retry_at, lease, 10).await.unwrap();
    assert_eq!(
        (again.len(), again[0].id, again[0].attempts),
        (1, d2.id, 2),
        "same delivery, same body, next attempt"
    );
    assert_eq!(again[0].body, "{\"n\":2}");
    store
        .finish_delivery(d2.id, Err("HTTP 500".into()), None, retry_at)
        .await
        .unwrap();
    assert!(
        store
            .claim_deliveries(lease + Duration::hours(1), lease, 10)
            .await
            .unwrap()
            .is_empty(),
        "given up, and delivered ones stay done"
    );
    // The webhook's log: what was sent, what failed and why.
    let log = store.list_deliveries(hook.id, 10).await.unwrap();
    assert_eq!(log.len(), 2);
    let sent = log.iter().find(|d| d.id == d1.id).unwrap();
    assert!(sent.delivered_at.is_some() && sent.failed_at.is_none());
    assert_eq!((sent.attempts, sent.last_error.as_deref()), (1, None));
    let failed = log.iter().find(|d| d.id == d2.id).unwrap();
    assert!(failed.delivered_at.is_none() && failed.failed_at.is_some());
    assert_eq!(
        (failed.attempts, failed.last_error.as_deref()),
        (2, Some("HTTP 500"))
    );
    assert_eq!(store.list_deliveries(hook.id, 1).await.unwrap().len(), 1);

    // Deleting a subscription drops what it had queued.
    let d3 = delivery("{\"n\":3}");
    store.enqueue_deliveries(&[d3]).await.unwrap();
    assert!(store.delete_webhook(&shop, hook.id, t0).await.unwrap());
    assert!(!store.delete_webhook(&shop, hook.id, t0).await.unwrap());
    assert!(store.list_webhooks(&shop).await.unwrap().is_empty());
    assert!(store
        .claim_deliveries(lease, lease, 10)
        .await
        .unwrap()
        .is_empty());
}

/// Every change a webhook subscribes to leaves an outbox entry in its own transaction (none
/// for tenants without one); dispatching queues each delivery once and empties the outbox.
pub async fn the_outbox_holds_each_subscribed_change(store: Arc<dyn Store>) {
    let (shop, quiet) = (tenant("shop"), tenant("quiet"));
    let at = clock::now();
    let url = WebhookUrl::parse("http://127.0.0.1:9/hook").unwrap();
    let hook = store
        .create_webhook(&shop, &url, "s3cret-s3cret-s3", &WebhookEvent::ALL, at)
        .await
        .unwrap();
    // The other tenant's only webhook is for something else.
    store
        .create_webhook(
            &quiet,
            &url,
            "s3cret-s3cret-s3",
            &[WebhookEvent::SessionAssigned],
            at,
        )
        .await
        .unwrap();
    let kinds = |entries: &[OutboxEntry]| -> Vec<(String, SessionId, Option<i64>)> {
        entries
            .iter()
            .map(|e| (e.event.as_str().to_owned(), e.session_id, e.seq))
            .collect()
    };

    let owner = user("olga");
    let opened = create(&store, &owner, "shop").await;
    let unheard = create(&store, &owner, "quiet").await;
    let mut old = new_session(&user("idle"), "shop");
    old.at = at - Duration::hours(2);
    let idle = store.open_session(old, false).await.unwrap().0;
    let sent = created(append_one(&store, msg(opened.id, &owner, "hello")).await);
    append_one(&store, msg(unheard.id, &owner, "not heard")).await;
    let ann = UserId::parse("ann").unwrap();
    let patch = SessionPatch {
        agent_id: Some(Some(ann.clone())),
        status: Some(StatusChange {
            from: SessionStatus::Waiting,
            to: SessionStatus::Active,
        }),
        ..SessionPatch::default()
    };
    store.update_session(opened.id, &patch, at).await.unwrap();
    let close = SessionPatch {
        status: Some(StatusChange {
            from: SessionStatus::Active,
            to: SessionStatus::Closed,
        }),
        ..SessionPatch::default()
    };
    store.update_session(opened.id, &close, at).await.unwrap();
    let filter = SessionFilter {
        business_id: Some(shop.clone()),
        ..SessionFilter::default()
    };
    store
        .close_idle_sessions(&filter, at - Duration::hours(1), at)
        .await
        .unwrap();
    // Routing gives the quiet tenant's session to its agent: that tenant subscribed to it.
    store
        .update_agent(
            &quiet,
            &ann,
            Some(1),
            None,
            Connections {
                node: "n1",
                delta: 1,
            },
            at,
        )
        .await
        .unwrap();
    assert!(store
        .assign_next(&quiet, &chatdesk_core::routing::OpenQueues::all(), at)
        .await
        .unwrap()
        .is_some());

    let entries = store.outbox(100).await.unwrap();
    assert_eq!(
        kinds(&entries),
        vec![
            ("session.created".into(), opened.id, None),
            ("session.created".into(), idle.id, None),
            ("message.created".into(), opened.id, Some(sent.seq)),
            ("session.assigned".into(), opened.id, None),
            ("session.closed".into(), opened.id, None),
            ("session.closed".into(), idle.id, None),
            ("session.assigned".into(), unheard.id, None),
        ],
        "in the order the changes committed, none for what nobody subscribed to"
    );
    assert_eq!(entries[0].business_id, shop);
    assert_eq!(entries[6].business_id, quiet);
    assert_eq!(store.outbox(2).await.unwrap(), entries[..2].to_vec());

    // Two dispatchers that read the same entries queue each delivery once.
    let first = &entries[0];
    let delivery = NewDelivery {
        id: uuid::Uuid::new_v5(&uuid::Uuid::NAMESPACE_URL, b"entry-1"),
        webhook_id: hook.id,
        event: first.event,
        body: "{\"n\":1}".into(),
        at: first.at,
    };
    store
        .dispatch_outbox(&[first.id], std::slice::from_ref(&delivery))
        .await
        .unwrap();
    let mut again = delivery.clone();
    again.body = "{\"n\":2}".into();
    store.dispatch_outbox(&[first.id], &[again]).await.unwrap();
    let rest: Vec<i64> = entries[1..].iter().map(|e| e.id).collect();
    store.dispatch_outbox(&rest, &[]).await.unwrap();
    assert!(store.outbox(100).await.unwrap().is_empty());
    let later = clock::now() + Duration::seconds(1);
    let claimed = store
        .claim_deliveries(later, later + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        claimed
            .iter()
            .map(|d| (d.id, d.body.as_str(), d.attempts))
            .collect::<Vec<_>>(),
        vec![(delivery.id, "{\"n\":1}", 1)]
    );

    // An attempt handed back (its server stopped mid-attempt) is due at once, uncounted.
    store
        .release_deliveries(&[delivery.id], later)
        .await
        .unwrap();
    let retaken = store
        .claim_deliveries(later, later + Duration::seconds(60), 10)
        .await
        .unwrap();
    assert_eq!(
        retaken
            .iter()
            .map(|d| (d.id, d.attempts))
            .collect::<Vec<_>>(),
        vec![(delivery.id, 1)]
    );
}
