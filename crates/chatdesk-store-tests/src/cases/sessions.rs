//! Sessions: opening and resuming, reading, lists and pages, changes, closing, activity, linking and search.

use super::*;

pub async fn open_creates_then_resumes(store: Arc<dyn Store>) {
    let alice = user("alice");
    let (first, new1) = store
        .open_session(new_session(&alice, "shop"), true)
        .await
        .unwrap();
    assert!(new1);
    assert_eq!(first.status, SessionStatus::Waiting);
    assert_eq!(first.last_seq, 0);
    let (again, new2) = store
        .open_session(new_session(&alice, "shop"), true)
        .await
        .unwrap();
    assert!(!new2);
    assert_eq!(again.id, first.id);
    // Another tenant is another session.
    let (other, new3) = store
        .open_session(new_session(&alice, "elsewhere"), true)
        .await
        .unwrap();
    assert!(new3);
    assert_ne!(other.id, first.id);
    // Forced creation, then resume picks the most recently active one.
    let (second, new4) = store
        .open_session(new_session(&alice, "shop"), false)
        .await
        .unwrap();
    assert!(new4);
    assert!(second.number > first.number);
    let (resumed, _) = store
        .open_session(new_session(&alice, "shop"), true)
        .await
        .unwrap();
    assert_eq!(resumed.id, second.id);
    // Activity on the older one makes it the one to resume.
    created(append_one(&store, msg(first.id, &alice, "back to this")).await);
    let (resumed, _) = store
        .open_session(new_session(&alice, "shop"), true)
        .await
        .unwrap();
    assert_eq!(resumed.id, first.id);
}

pub async fn resume_skips_closed_and_deleted(store: Arc<dyn Store>) {
    let bob = user("bob");
    let a = create(&store, &bob, "shop").await;
    let close = SessionPatch {
        status: Some(StatusChange {
            from: SessionStatus::Waiting,
            to: SessionStatus::Closed,
        }),
        ..SessionPatch::default()
    };
    assert!(matches!(
        store
            .update_session(a.id, &close, clock::now())
            .await
            .unwrap(),
        PatchOutcome::Updated(_)
    ));
    let (b, new) = store
        .open_session(new_session(&bob, "shop"), true)
        .await
        .unwrap();
    assert!(new, "a closed session is never resumed");
    assert!(store.delete_session(b.id, clock::now()).await.unwrap());
    let (c, new) = store
        .open_session(new_session(&bob, "shop"), true)
        .await
        .unwrap();
    assert!(new, "a deleted session is never resumed");
    assert_ne!(c.id, b.id);
}

pub async fn concurrent_resume_creates_exactly_one(store: Arc<dyn Store>) {
    let carol = user("carol");
    let calls = (0..20).map(|_| {
        let store = store.clone();
        let carol = carol.clone();
        tokio::spawn(async move {
            store
                .open_session(new_session(&carol, "shop"), true)
                .await
                .unwrap()
        })
    });
    let results = futures::future::join_all(calls).await;
    let ids: HashSet<_> = results.iter().map(|r| r.as_ref().unwrap().0.id).collect();
    assert_eq!(
        ids.len(),
        1,
        "twenty concurrent resume-or-create calls made {} sessions",
        ids.len()
    );
    let created = results.iter().filter(|r| r.as_ref().unwrap().1).count();
    assert_eq!(created, 1);
}

/// Two committers (say, on two nodes) whose batches touch the same sessions in opposite
/// orders: both commit, every message gets its seq, each session's messages keep their order
/// within a batch. (Locking sessions in batch order deadlocked on PostgreSQL.)
pub async fn concurrent_opens_fail_alone(store: Arc<dyn Store>) {
    let lou = user("lou");
    let existing = create(&store, &lou, "shop").await;
    // Twenty opens at once; one reuses a stored session's id and must fail alone.
    let tasks = (0..20).map(|i| {
        let store = store.clone();
        let mut new = new_session(&user(&format!("opener-{i}")), "shop");
        if i == 7 {
            new.id = existing.id;
        }
        tokio::spawn(async move { store.open_session(new, false).await })
    });
    let results: Vec<_> = futures::future::join_all(tasks)
        .await
        .into_iter()
        .map(|r| r.unwrap())
        .collect();
    for (i, r) in results.iter().enumerate() {
        if i == 7 {
            assert!(matches!(r, Err(StoreError::Conflict(_))), "{r:?}");
        } else {
            let (s, created) = r.as_ref().unwrap();
            assert!(*created);
            assert_eq!(store.get_session(s.id).await.unwrap().as_ref(), Some(s));
        }
    }
    let kept = store.get_session(existing.id).await.unwrap().unwrap();
    assert_eq!(kept.owner, lou, "the stored session is untouched");
}

pub async fn get_by_id_and_number(store: Arc<dyn Store>) {
    let s = create(&store, &user("dan"), "shop").await;
    assert_eq!(store.get_session(s.id).await.unwrap().unwrap(), s);
    assert_eq!(
        store
            .get_session_by_number(s.number)
            .await
            .unwrap()
            .unwrap(),
        s
    );
    assert!(store
        .get_session(SessionId::generate())
        .await
        .unwrap()
        .is_none());
    assert!(store
        .get_session_by_number(s.number + 1000)
        .await
        .unwrap()
        .is_none());
    assert!(store.delete_session(s.id, clock::now()).await.unwrap());
    assert!(
        !store.delete_session(s.id, clock::now()).await.unwrap(),
        "deleting twice finds nothing"
    );
    assert!(store.get_session(s.id).await.unwrap().is_none());
    assert!(store
        .get_session_by_number(s.number)
        .await
        .unwrap()
        .is_none());
}

pub async fn list_filters_and_pages(store: Arc<dyn Store>) {
    let erin = user("erin");
    let frank = user("frank");
    let mut erins = Vec::new();
    for _ in 0..5 {
        erins.push(create(&store, &erin, "shop").await);
    }
    create(&store, &frank, "shop").await;
    create(&store, &frank, "other").await;

    let mine = SessionFilter {
        owner: Some(erin.clone()),
        ..SessionFilter::default()
    };
    let mut seen = Vec::new();
    let mut cursor = None;
    loop {
        let page = store.list_sessions(&mine, cursor, 2).await.unwrap();
        if page.is_empty() {
            break;
        }
        cursor = page.last().map(|s| SessionCursor {
            last_activity_at: s.last_activity_at,
            id: s.id,
        });
        seen.extend(page.into_iter().map(|s| s.id));
    }
    let expected: Vec<_> = erins.iter().rev().map(|s| s.id).collect();
    assert_eq!(seen, expected, "newest first, every session exactly once");

    let shop = SessionFilter {
        business_id: Some(tenant("shop")),
        ..SessionFilter::default()
    };
    assert_eq!(
        store.list_sessions(&shop, None, 100).await.unwrap().len(),
        6
    );
    let all = SessionFilter::default();
    assert_eq!(store.list_sessions(&all, None, 100).await.unwrap().len(), 7);

    let close = SessionPatch {
        status: Some(StatusChange {
            from: SessionStatus::Waiting,
            to: SessionStatus::Closed,
        }),
        ..SessionPatch::default()
    };
    store
        .update_session(erins[0].id, &close, clock::now())
        .await
        .unwrap();
    let closed = SessionFilter {
        status: Some(SessionStatus::Closed),
        ..SessionFilter::default()
    };
    let got = store.list_sessions(&closed, None, 100).await.unwrap();
    assert_eq!(
        got.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![erins[0].id]
    );
    let open = SessionFilter {
        owner: Some(erin.clone()),
        open_only: true,
        ..SessionFilter::default()
    };
    assert_eq!(
        store.list_sessions(&open, None, 100).await.unwrap().len(),
        4
    );
}

pub async fn update_patches_and_clears(store: Arc<dyn Store>) {
    let s = create(&store, &user("gina"), "shop").await;
    let later = s.updated_at + Duration::seconds(1);
    let patch = SessionPatch {
        topic: Some(None),
        title: Some(Some(Title::parse("Hỏi về shipping").unwrap())),
        location_id: Some(Some(LocationId::parse("L001").unwrap())),
        priority: Some(Priority::Urgent),
        metadata: Some(serde_json::json!({"k": [1, 2]})),
        ..SessionPatch::default()
    };
    let PatchOutcome::Updated(u) = store.update_session(s.id, &patch, later).await.unwrap() else {
        panic!("expected an update");
    };
    assert_eq!(u.topic, None);
    assert_eq!(u.title.as_ref().unwrap().as_str(), "Hỏi về shipping");
    assert_eq!(u.location_id.as_ref().unwrap().as_str(), "L001");
    assert_eq!(u.priority, Priority::Urgent);
    assert_eq!(u.metadata, serde_json::json!({"k": [1, 2]}));
    assert_eq!(u.updated_at, later);
    assert_eq!(store.get_session(s.id).await.unwrap().unwrap(), u);
    assert!(matches!(
        store
            .update_session(SessionId::generate(), &patch, later)
            .await
            .unwrap(),
        PatchOutcome::NotFound
    ));
}

pub async fn status_change_is_optimistic_and_closing_sets_ended_at(store: Arc<dyn Store>) {
    let s = create(&store, &user("hal"), "shop").await;
    let stale = SessionPatch {
        title: Some(Some(Title::parse("never written").unwrap())),
        status: Some(StatusChange {
            from: SessionStatus::Active,
            to: SessionStatus::Closed,
        }),
        ..SessionPatch::default()
    };
    let PatchOutcome::StatusChanged(now) = store
        .update_session(s.id, &stale, clock::now())
        .await
        .unwrap()
    else {
        panic!("a status change from the wrong status must not apply");
    };
    assert_eq!(now.status, SessionStatus::Waiting);
    assert_eq!(now.title, None, "nothing of a refused patch is written");
    let close = SessionPatch {
        status: Some(StatusChange {
            from: SessionStatus::Waiting,
            to: SessionStatus::Closed,
        }),
        ..SessionPatch::default()
    };
    let at = clock::now();
    let PatchOutcome::Updated(closed) = store.update_session(s.id, &close, at).await.unwrap()
    else {
        panic!("expected close");
    };
    assert_eq!(closed.status, SessionStatus::Closed);
    assert_eq!(closed.ended_at, Some(at));
}

pub async fn timestamps_round_trip(store: Arc<dyn Store>) {
    let s = create(&store, &user("pat"), "shop").await;
    let m = created(append_one(&store, msg(s.id, &user("pat"), "t")).await);
    let back = &store
        .list_messages(s.id, MessageRange::After { after: 0, limit: 1 })
        .await
        .unwrap()[0];
    assert_eq!(back.created_at, m.created_at);
    assert_eq!(back, &m);
}

pub async fn counts_and_offset_pages(store: Arc<dyn Store>) {
    let owner = user("quinn");
    let mut made = Vec::new();
    for _ in 0..5 {
        made.push(create(&store, &owner, "shop").await.id);
    }
    create(&store, &user("other"), "shop").await;
    let mine = SessionFilter {
        owner: Some(owner.clone()),
        ..SessionFilter::default()
    };
    assert_eq!(store.count_sessions(&mine).await.unwrap(), 5);
    made.reverse();
    let page: Vec<_> = store
        .list_sessions_offset(&mine, 1, 2)
        .await
        .unwrap()
        .into_iter()
        .map(|s| s.id)
        .collect();
    assert_eq!(page, made[1..3].to_vec());
    assert!(store
        .list_sessions_offset(&mine, 5, 2)
        .await
        .unwrap()
        .is_empty());
    store.delete_session(made[0], clock::now()).await.unwrap();
    assert_eq!(
        store.count_sessions(&mine).await.unwrap(),
        4,
        "deleted sessions are not counted"
    );
}

pub async fn idle_sessions_are_closed(store: Arc<dyn Store>) {
    let owner = user("rae");
    let old = {
        let mut n = new_session(&owner, "shop");
        n.at = clock::now() - Duration::hours(2);
        store.open_session(n, false).await.unwrap().0
    };
    let fresh = create(&store, &owner, "shop").await;
    let other_tenant = {
        let mut n = new_session(&owner, "elsewhere");
        n.at = clock::now() - Duration::hours(2);
        store.open_session(n, false).await.unwrap().0
    };
    let at = clock::now();
    let shop = SessionFilter {
        business_id: Some(tenant("shop")),
        ..SessionFilter::default()
    };
    let closed = store
        .close_idle_sessions(&shop, at - Duration::hours(1), at)
        .await
        .unwrap();
    assert_eq!(
        closed.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![old.id]
    );
    assert_eq!(closed[0].status, SessionStatus::Closed);
    assert_eq!(closed[0].ended_at, Some(at));
    assert_eq!(
        store.get_session(fresh.id).await.unwrap().unwrap().status,
        SessionStatus::Waiting
    );
    assert_eq!(
        store
            .get_session(other_tenant.id)
            .await
            .unwrap()
            .unwrap()
            .status,
        SessionStatus::Waiting
    );
    assert!(
        store
            .close_idle_sessions(&shop, at - Duration::hours(1), at)
            .await
            .unwrap()
            .is_empty(),
        "closing twice closes nothing"
    );
}

pub async fn activity_counters_accumulate(store: Arc<dyn Store>) {
    let s = create(&store, &user("sam"), "shop").await;
    for _ in 0..3 {
        store
            .record_activity(s.id, ActivityKind::MessageSent, None, clock::now())
            .await
            .unwrap()
            .unwrap();
    }
    store
        .record_activity(s.id, ActivityKind::ConversationStarted, None, clock::now())
        .await
        .unwrap();
    store
        .record_activity(
            s.id,
            ActivityKind::ResponseReceived,
            Some(1000),
            clock::now(),
        )
        .await
        .unwrap();
    let after = store
        .record_activity(
            s.id,
            ActivityKind::ResponseReceived,
            Some(2000),
            clock::now(),
        )
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        after.activity,
        ActivityCounters {
            messages_sent: 3,
            conversations: 1,
            response_time_total_ms: 3000,
            response_count: 2
        }
    );
    assert!((after.activity.average_response_secs() - 1.5).abs() < 1e-9);
    assert_eq!(
        store.get_session(s.id).await.unwrap().unwrap().activity,
        after.activity
    );
    let close = SessionPatch {
        status: Some(StatusChange {
            from: SessionStatus::Waiting,
            to: SessionStatus::Closed,
        }),
        ..SessionPatch::default()
    };
    store
        .update_session(s.id, &close, clock::now())
        .await
        .unwrap();
    assert!(store
        .record_activity(s.id, ActivityKind::MessageSent, None, clock::now())
        .await
        .unwrap()
        .is_none());
    assert!(store
        .record_activity(
            SessionId::generate(),
            ActivityKind::MessageSent,
            None,
            clock::now()
        )
        .await
        .unwrap()
        .is_none());
}

pub async fn linking_a_visitor_moves_its_sessions(store: Arc<dyn Store>) {
    let visitor = VisitorId::parse("550e8400-e29b-41d4-a716-446655440000").unwrap();
    let as_visitor = Party::Visitor(visitor);
    let account = UserId::parse("USER123").unwrap();
    let as_user = Party::User(account.clone());
    let s = create(&store, &as_visitor, "shop").await;
    let agent = user("agent-1");
    store
        .append_messages(&[msg(s.id, &as_visitor, "hi"), msg(s.id, &agent, "hello")])
        .await
        .unwrap();
    store
        .mark_read(s.id, &as_visitor, 1, clock::now())
        .await
        .unwrap();

    assert_eq!(
        store
            .link_visitor(visitor, &account, clock::now())
            .await
            .unwrap(),
        LinkOutcome::Linked { sessions_moved: 1 }
    );
    let moved = store.get_session(s.id).await.unwrap().unwrap();
    assert_eq!(moved.owner, as_user);
    let msgs = first_messages(&store, s.id).await;
    assert_eq!(
        msgs[0].sender, as_user,
        "the visitor's messages are the account's now"
    );
    assert_eq!(msgs[1].sender, agent);
    let unread = store.unread_counts(&as_user, None).await.unwrap();
    assert_eq!(
        (unread[0].last_read_seq, unread[0].unread),
        (1, 1),
        "the read cursor moved too"
    );
    assert!(store
        .unread_counts(&as_visitor, None)
        .await
        .unwrap()
        .is_empty());

    // Idempotent; later visitor sessions move on the next link call.
    assert_eq!(
        store
            .link_visitor(visitor, &account, clock::now())
            .await
            .unwrap(),
        LinkOutcome::Linked { sessions_moved: 0 }
    );
    create(&store, &as_visitor, "shop").await;
    assert_eq!(
        store
            .link_visitor(visitor, &account, clock::now())
            .await
            .unwrap(),
        LinkOutcome::Linked { sessions_moved: 1 }
    );
    assert_eq!(
        store.visitor_link(visitor).await.unwrap(),
        Some(account.clone())
    );

    // Never to a second account.
    let other = UserId::parse("USER999").unwrap();
    assert_eq!(
        store
            .link_visitor(visitor, &other, clock::now())
            .await
            .unwrap(),
        LinkOutcome::LinkedToOther(account)
    );
    let theirs = SessionFilter {
        owner: Some(Party::User(other)),
        ..SessionFilter::default()
    };
    assert_eq!(store.count_sessions(&theirs).await.unwrap(), 0);
}

pub async fn search_finds_words_within_the_filter(store: Arc<dyn Store>) {
    let q = |s: &str| SearchQuery::parse(s).unwrap();
    let wren = user("wren");
    let xia = user("xia");
    let mut n = new_session(&wren, "shop");
    n.topic = Some(Topic::parse("Pertanyaan tentang izin usaha").unwrap());
    let a = store.open_session(n, false).await.unwrap().0;
    let b = create(&store, &xia, "shop").await;
    store
        .append_messages(&[
            msg(a.id, &wren, "Where is my PARCEL? It was lost."),
            msg(a.id, &wren, "parcels are late"),
            msg(b.id, &xia, "my parcel arrived, thanks"),
        ])
        .await
        .unwrap();
    let all = SessionFilter::default();
    let hits = store.search_messages(&all, &q("parcel"), 10).await.unwrap();
    let mut contents: Vec<_> = hits.iter().map(|m| m.content.as_str()).collect();
    contents.sort_unstable();
    assert_eq!(
        contents,
        vec![
            "Where is my PARCEL? It was lost.",
            "my parcel arrived, thanks"
        ],
        "whole words, any case"
    );
    assert_eq!(
        store
            .search_messages(&all, &q("lost parcel"), 10)
            .await
            .unwrap()
            .len(),
        1,
        "every word must match"
    );
    let mine = SessionFilter {
        owner: Some(xia.clone()),
        ..SessionFilter::default()
    };
    let hits = store
        .search_messages(&mine, &q("parcel"), 10)
        .await
        .unwrap();
    assert_eq!(
        hits.iter().map(|m| m.session_id).collect::<Vec<_>>(),
        vec![b.id],
        "only within the filter"
    );
    assert!(
        store
            .search_messages(&all, &q("\"OR* NEAR(x"), 10)
            .await
            .unwrap()
            .is_empty(),
        "typed operators are plain words"
    );
    assert_eq!(
        store
            .search_messages(&all, &q("parcel"), 1)
            .await
            .unwrap()
            .len(),
        1,
        "limit"
    );

    let found = store
        .search_sessions(&all, &q("izin USAHA"), 10)
        .await
        .unwrap();
    assert_eq!(found.iter().map(|s| s.id).collect::<Vec<_>>(), vec![a.id]);
    let retitle = SessionPatch {
        title: Some(Some(Title::parse("Hỏi về shipping").unwrap())),
        ..SessionPatch::default()
    };
    store
        .update_session(b.id, &retitle, clock::now())
        .await
        .unwrap();
    let found = store
        .search_sessions(&all, &q("shipping"), 10)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![b.id],
        "titles are searchable after a change"
    );
    store.delete_session(a.id, clock::now()).await.unwrap();
    assert!(
        store
            .search_sessions(&all, &q("izin"), 10)
            .await
            .unwrap()
            .is_empty(),
        "deleted sessions are not found"
    );
    assert_eq!(
        store
            .search_messages(&all, &q("parcel"), 10)
            .await
            .unwrap()
            .len(),
        1
    );
}
