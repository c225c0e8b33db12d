//! The contract cases. Each takes a fresh, empty store.

use chatdesk_core::clock;
use chatdesk_core::domain::*;
use chatdesk_core::identity::Role;
use chatdesk_core::store::*;
use chrono::Duration;
use std::collections::HashSet;
use std::sync::Arc;

fn user(id: &str) -> Party {
    Party::User(UserId::parse(id).unwrap())
}

fn tenant(id: &str) -> BusinessId {
    BusinessId::parse(id).unwrap()
}

fn new_session(owner: &Party, business: &str) -> NewSession {
    NewSession {
        topic: Some(Topic::parse("shipping").unwrap()),
        metadata: serde_json::json!({"source": "test"}),
        ..NewSession::general(tenant(business), owner.clone(), clock::now())
    }
}

fn msg(session: SessionId, sender: &Party, content: &str) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        session_id: session,
        sender: sender.clone(),
        sender_type: SenderType::Customer,
        content: content.to_owned(),
        client_msg_id: None,
        claim_for_agent: None,
        at: clock::now(),
    }
}

async fn create(store: &Arc<dyn Store>, owner: &Party, business: &str) -> Session {
    let (s, created) = store
        .open_session(new_session(owner, business), false)
        .await
        .unwrap();
    assert!(created);
    s
}

async fn append_one(store: &Arc<dyn Store>, m: NewMessage) -> AppendOutcome {
    store.append_messages(&[m]).await.unwrap().pop().unwrap()
}

fn created(o: AppendOutcome) -> Message {
    match o {
        AppendOutcome::Created(m) => m,
        other => panic!("expected Created, got {other:?}"),
    }
}

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

pub async fn concurrent_batches_sharing_sessions_both_commit(store: Arc<dyn Store>) {
    let dave = user("dave");
    let mut sessions = Vec::new();
    for _ in 0..8 {
        sessions.push(create(&store, &dave, "shop").await.id);
    }
    for round in 0..5 {
        let forward: Vec<NewMessage> = sessions
            .iter()
            .flat_map(|s| [msg(*s, &dave, "f1"), msg(*s, &dave, "f2")])
            .collect();
        let backward: Vec<NewMessage> = sessions
            .iter()
            .rev()
            .flat_map(|s| [msg(*s, &dave, "b1"), msg(*s, &dave, "b2")])
            .collect();
        let (a, b) = tokio::join!(
            store.append_messages(&forward),
            store.append_messages(&backward)
        );
        for (batch, outcomes) in [(&forward, a), (&backward, b)] {
            let outcomes = outcomes.unwrap_or_else(|e| panic!("round {round}: {e}"));
            assert_eq!(outcomes.len(), batch.len());
            for (pair, sent) in outcomes.chunks(2).zip(batch.chunks(2)) {
                let (first, second) = (created(pair[0].clone()), created(pair[1].clone()));
                assert_eq!(
                    first.session_id, sent[0].session_id,
                    "outcomes in batch order"
                );
                assert_eq!(first.content.as_str(), sent[0].content.as_str());
                assert_eq!(
                    second.seq,
                    first.seq + 1,
                    "a session's messages keep their order"
                );
            }
        }
    }
    for s in &sessions {
        let stored = store.get_session(*s).await.unwrap().unwrap();
        assert_eq!(stored.last_seq, 20, "5 rounds × 2 batches × 2 messages");
    }
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

pub async fn append_assigns_gap_free_seq(store: Arc<dyn Store>) {
    let ivy = user("ivy");
    let a = create(&store, &ivy, "shop").await;
    let b = create(&store, &ivy, "shop").await;
    let batch: Vec<_> = (0..6)
        .map(|i| msg(if i % 2 == 0 { a.id } else { b.id }, &ivy, &format!("m{i}")))
        .collect();
    let out = store.append_messages(&batch).await.unwrap();
    let seqs: Vec<_> = out
        .into_iter()
        .map(|o| {
            let m = created(o);
            (m.session_id, m.seq)
        })
        .collect();
    assert_eq!(
        seqs,
        vec![
            (a.id, 1),
            (b.id, 1),
            (a.id, 2),
            (b.id, 2),
            (a.id, 3),
            (b.id, 3)
        ]
    );
    let a2 = store.get_session(a.id).await.unwrap().unwrap();
    assert_eq!(a2.last_seq, 3);
    assert_eq!(a2.message_count, 3);
    assert!(a2.last_message_at.is_some());
    assert!(a2.last_activity_at >= a.last_activity_at);
}

pub async fn append_is_idempotent_by_client_msg_id(store: Arc<dyn Store>) {
    let jo = user("jo");
    let s = create(&store, &jo, "shop").await;
    let mut first = msg(s.id, &jo, "hello");
    first.client_msg_id = Some(ClientMsgId::parse("c-1").unwrap());
    let original = created(append_one(&store, first.clone()).await);
    let mut retry = first.clone();
    retry.id = MessageId::generate();
    retry.content = "hello (retried)".into();
    match append_one(&store, retry.clone()).await {
        AppendOutcome::Duplicate(m) => assert_eq!(m, original),
        other => panic!("expected Duplicate, got {other:?}"),
    }
    // Twice in one batch: the second sees the first.
    let mut x = msg(s.id, &jo, "x");
    x.client_msg_id = Some(ClientMsgId::parse("c-2").unwrap());
    let mut x2 = x.clone();
    x2.id = MessageId::generate();
    let out = store.append_messages(&[x, x2]).await.unwrap();
    let AppendOutcome::Created(made) = &out[0] else {
        panic!("{out:?}")
    };
    assert_eq!(out[1], AppendOutcome::Duplicate(made.clone()));
    let s2 = store.get_session(s.id).await.unwrap().unwrap();
    assert_eq!(s2.last_seq, 2, "duplicates do not consume a seq");
}

pub async fn append_to_closed_or_missing_session_writes_nothing(store: Arc<dyn Store>) {
    let kim = user("kim");
    let s = create(&store, &kim, "shop").await;
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
    let open = create(&store, &kim, "shop").await;
    let out = store
        .append_messages(&[
            msg(s.id, &kim, "late"),
            msg(SessionId::generate(), &kim, "nowhere"),
            msg(open.id, &kim, "ok"),
        ])
        .await
        .unwrap();
    assert_eq!(out[0], AppendOutcome::SessionClosed);
    assert_eq!(out[1], AppendOutcome::SessionMissing);
    assert_eq!(
        created(out[2].clone()).seq,
        1,
        "one bad message does not spoil the batch"
    );
    let closed = store.get_session(s.id).await.unwrap().unwrap();
    assert_eq!(closed.last_seq, 0);
    let range = MessageRange::After {
        after: 0,
        limit: 10,
    };
    assert!(store.list_messages(s.id, range).await.unwrap().is_empty());
}

pub async fn a_failing_batch_writes_nothing(store: Arc<dyn Store>) {
    let nia = user("nia");
    let a = create(&store, &nia, "shop").await;
    let b = create(&store, &nia, "shop").await;
    let stored = created(append_one(&store, msg(b.id, &nia, "first")).await);
    // The batch's second message reuses a stored message's id: the store refuses the batch.
    let mut clash = msg(a.id, &nia, "clash");
    clash.id = stored.id;
    let result = store
        .append_messages(&[msg(a.id, &nia, "would be seq 1"), clash])
        .await;
    assert!(matches!(result, Err(StoreError::Conflict(_))), "{result:?}");
    let a2 = store.get_session(a.id).await.unwrap().unwrap();
    assert_eq!((a2.last_seq, a2.message_count), (0, 0));
    let range = MessageRange::After {
        after: 0,
        limit: 10,
    };
    assert!(store.list_messages(a.id, range).await.unwrap().is_empty());
    // No transaction was left open: the next batch commits.
    assert_eq!(
        created(append_one(&store, msg(a.id, &nia, "ok")).await).seq,
        1
    );
}

pub async fn staff_reply_claims_a_waiting_session(store: Arc<dyn Store>) {
    let lee = user("lee");
    let agent = UserId::parse("agent-7").unwrap();
    let s = create(&store, &lee, "shop").await;
    let mut reply = msg(s.id, &Party::User(agent.clone()), "hi, how can I help?");
    reply.sender_type = SenderType::Agent;
    reply.claim_for_agent = Some(agent.clone());
    created(append_one(&store, reply).await);
    let s2 = store.get_session(s.id).await.unwrap().unwrap();
    assert_eq!(s2.status, SessionStatus::Active);
    assert_eq!(s2.agent_id, Some(agent));
    // A second agent does not take over.
    let other = UserId::parse("agent-8").unwrap();
    let mut reply = msg(s.id, &Party::User(other.clone()), "me too");
    reply.claim_for_agent = Some(other);
    created(append_one(&store, reply).await);
    assert_eq!(
        store
            .get_session(s.id)
            .await
            .unwrap()
            .unwrap()
            .agent_id
            .unwrap()
            .as_str(),
        "agent-7"
    );
}

pub async fn concurrent_appends_stay_gap_free(store: Arc<dyn Store>) {
    let mo = user("mo");
    let s = create(&store, &mo, "shop").await;
    let tasks = (0..8).map(|t| {
        let store = store.clone();
        let mo = mo.clone();
        tokio::spawn(async move {
            for i in 0..10 {
                created(append_one(&store, msg(s.id, &mo, &format!("{t}-{i}"))).await);
            }
        })
    });
    for r in futures::future::join_all(tasks).await {
        r.unwrap();
    }
    let all = store
        .list_messages(
            s.id,
            MessageRange::After {
                after: 0,
                limit: 1000,
            },
        )
        .await
        .unwrap();
    let seqs: Vec<i64> = all.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, (1..=80).collect::<Vec<_>>());
}

pub async fn message_ranges(store: Arc<dyn Store>) {
    let ned = user("ned");
    let s = create(&store, &ned, "shop").await;
    let batch: Vec<_> = (1..=10)
        .map(|i| msg(s.id, &ned, &format!("m{i}")))
        .collect();
    store.append_messages(&batch).await.unwrap();
    let seqs = |v: Vec<Message>| v.into_iter().map(|m| m.seq).collect::<Vec<_>>();
    assert_eq!(
        seqs(
            store
                .list_messages(s.id, MessageRange::After { after: 0, limit: 3 })
                .await
                .unwrap()
        ),
        vec![1, 2, 3]
    );
    assert_eq!(
        seqs(
            store
                .list_messages(s.id, MessageRange::After { after: 8, limit: 5 })
                .await
                .unwrap()
        ),
        vec![9, 10]
    );
    assert_eq!(
        seqs(
            store
                .list_messages(
                    s.id,
                    MessageRange::Before {
                        before: 11,
                        after: 0,
                        limit: 3
                    }
                )
                .await
                .unwrap()
        ),
        vec![8, 9, 10],
        "before returns the newest page, oldest first"
    );
    assert_eq!(
        seqs(
            store
                .list_messages(
                    s.id,
                    MessageRange::Before {
                        before: 6,
                        after: 3,
                        limit: 10
                    }
                )
                .await
                .unwrap()
        ),
        vec![4, 5]
    );
    let first = &store
        .list_messages(s.id, MessageRange::After { after: 0, limit: 1 })
        .await
        .unwrap()[0];
    assert_eq!(first.content, "m1");
    assert_eq!(first.sender, ned);
    assert_eq!(first.sender_type, SenderType::Customer);

    // The session and a page in one read: the same page as on its own, and nothing for a
    // session that is missing or deleted.
    let range = MessageRange::Before {
        before: 11,
        after: 0,
        limit: 3,
    };
    let (session, page) = store
        .get_session_with_messages(s.id, range)
        .await
        .unwrap()
        .expect("the session");
    assert_eq!(session.id, s.id);
    assert_eq!(session.last_seq, 10);
    assert_eq!(seqs(page), vec![8, 9, 10]);
    let missing = store
        .get_session_with_messages(SessionId::generate(), range)
        .await
        .unwrap();
    assert!(missing.is_none());
    assert!(store.delete_session(s.id, clock::now()).await.unwrap());
    assert!(store
        .get_session_with_messages(s.id, range)
        .await
        .unwrap()
        .is_none());
}

pub async fn read_cursor_is_monotonic_and_unread_excludes_own(store: Arc<dyn Store>) {
    let owner = user("olga");
    let agent = user("agent-1");
    let s = create(&store, &owner, "shop").await;
    let mut batch: Vec<_> = (0..3)
        .map(|i| msg(s.id, &owner, &format!("q{i}")))
        .collect();
    batch.extend((0..2).map(|i| msg(s.id, &agent, &format!("a{i}"))));
    store.append_messages(&batch).await.unwrap();

    let counts = store.unread_counts(&owner, None).await.unwrap();
    assert_eq!(counts.len(), 1);
    assert_eq!(
        counts[0].unread, 2,
        "the owner's own three messages are not unread for them"
    );
    assert_eq!(counts[0].number, s.number);

    assert_eq!(
        store
            .mark_read(s.id, &owner, 4, clock::now())
            .await
            .unwrap(),
        4
    );
    assert_eq!(
        store
            .mark_read(s.id, &owner, 2, clock::now())
            .await
            .unwrap(),
        4,
        "never moves back"
    );
    let counts = store.unread_counts(&owner, None).await.unwrap();
    assert_eq!((counts[0].unread, counts[0].last_read_seq), (1, 4));

    // The agent has not read anything yet and is not assigned: the session appears once it reads.
    assert!(store.unread_counts(&agent, None).await.unwrap().is_empty());
    store
        .mark_read(s.id, &agent, 1, clock::now())
        .await
        .unwrap();
    let counts = store.unread_counts(&agent, None).await.unwrap();
    assert_eq!(counts[0].unread, 2, "messages 2 and 3 from the owner");
    // Only one tenant's, when asked.
    let elsewhere = create(&store, &owner, "elsewhere").await;
    store
        .append_messages(&[msg(elsewhere.id, &agent, "hi")])
        .await
        .unwrap();
    store
        .mark_read(elsewhere.id, &agent, 0, clock::now())
        .await
        .unwrap();
    assert_eq!(store.unread_counts(&agent, None).await.unwrap().len(), 2);
    let shop_only = store
        .unread_counts(&agent, Some(&tenant("shop")))
        .await
        .unwrap();
    assert_eq!(shop_only.len(), 1);
    assert_eq!(shop_only[0].session_id, s.id);
}

pub async fn accounts(store: Arc<dyn Store>) {
    let email = Email::parse("admin@example.com").unwrap();
    let new = NewAccount {
        email: email.clone(),
        password_hash: "$argon2id$fake".into(),
        role: Role::Admin,
        business_id: Some(tenant("shop")),
        name: Some("Ada".into()),
    };
    let a = store.create_account(new.clone()).await.unwrap();
    assert!(a.id > 0);
    let found = store.find_account_by_email(&email).await.unwrap().unwrap();
    assert_eq!(
        (found.id, found.role, found.name.as_deref()),
        (a.id, Role::Admin, Some("Ada"))
    );
    assert!(matches!(
        store.create_account(new).await,
        Err(StoreError::Conflict(_))
    ));
    assert!(store
        .find_account_by_email(&Email::parse("nobody@example.com").unwrap())
        .await
        .unwrap()
        .is_none());
}

pub async fn api_keys(store: Arc<dyn Store>) {
    let k = store
        .create_api_key("crm", &tenant("shop"), "abc123")
        .await
        .unwrap();
    let found = store.find_api_key("abc123").await.unwrap().unwrap();
    assert_eq!(
        (found.id, found.name.as_str(), found.business_id.as_str()),
        (k.id, "crm", "shop")
    );
    assert!(store.find_api_key("nope").await.unwrap().is_none());
    let other = store
        .create_api_key("bot", &tenant("other"), "def456")
        .await
        .unwrap();
    let names = |keys: Vec<ApiKey>| keys.into_iter().map(|k| k.name).collect::<Vec<_>>();
    assert_eq!(
        names(store.list_api_keys(None).await.unwrap()),
        ["crm", "bot"]
    );
    assert_eq!(
        names(store.list_api_keys(Some(&tenant("shop"))).await.unwrap()),
        ["crm"]
    );
    // Only within its tenant, when one is named; once.
    assert!(!store
        .revoke_api_key(Some(&tenant("shop")), other.id, clock::now())
        .await
        .unwrap());
    assert!(store
        .revoke_api_key(Some(&tenant("shop")), k.id, clock::now())
        .await
        .unwrap());
    assert!(!store
        .revoke_api_key(None, k.id, clock::now())
        .await
        .unwrap());
    assert!(store.find_api_key("abc123").await.unwrap().is_none());
    assert_eq!(names(store.list_api_keys(None).await.unwrap()), ["bot"]);
}

pub async fn server_secret_is_created_once(store: Arc<dyn Store>) {
    let a = store
        .server_secret("jwt", &|| "first".to_owned())
        .await
        .unwrap();
    let b = store
        .server_secret("jwt", &|| "second".to_owned())
        .await
        .unwrap();
    assert_eq!((a.as_str(), b.as_str()), ("first", "first"));
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

pub async fn contacts_are_upserted(store: Arc<dyn Store>) {
    let s = create(&store, &user("tia"), "shop").await;
    let other = create(&store, &user("ulla"), "shop").await;
    let elsewhere = create(&store, &user("tia"), "mall").await;
    let first = NewContact {
        id: uuid::Uuid::now_v7(),
        name: ContactText::parse("John Doe").unwrap(),
        email: Email::parse("john@company.com").unwrap(),
        phone: Some(Phone::parse("+6281234567890").unwrap()),
        position: Some(ContactText::parse("Manager").unwrap()),
        company_name: Some(ContactText::parse("PT. Example").unwrap()),
    };
    let c1 = store
        .upsert_contact(s.id, first.clone(), clock::now())
        .await
        .unwrap();
    assert_eq!(c1.name.as_str(), "John Doe");
    let mut second = first.clone();
    second.id = uuid::Uuid::now_v7();
    second.phone = None;
    second.email = Email::parse("jd@company.com").unwrap();
    let c2 = store
        .upsert_contact(s.id, second, clock::now())
        .await
        .unwrap();
    assert_eq!(c2.id, c1.id, "the contact keeps its id when replaced");
    assert_eq!(
        (c2.email.as_str(), c2.phone.as_ref()),
        ("jd@company.com", None)
    );
    let all = store
        .contacts(&[s.id, other.id, elsewhere.id, SessionId::generate()])
        .await
        .unwrap();
    assert_eq!(all, vec![(s.id, c2.clone())]);
    assert!(store.contacts(&[]).await.unwrap().is_empty());

    // One session with its contact: the same as the two reads, and gone once deleted.
    let (with, contact) = store.get_session_with_contact(s.id).await.unwrap().unwrap();
    assert_eq!(
        (with, contact),
        (
            store.get_session(s.id).await.unwrap().unwrap(),
            Some(c2.clone())
        )
    );
    let (without, none) = store
        .get_session_with_contact(other.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((without.id, none), (other.id, None));
    assert!(store
        .get_session_with_contact(SessionId::generate())
        .await
        .unwrap()
        .is_none());

    // A contact belongs to the person: their next session in the tenant shows it, until
    // that session is given one of its own, which is then the newest.
    let next = create(&store, &user("tia"), "shop").await;
    assert_eq!(
        store.contacts(&[next.id]).await.unwrap(),
        vec![(next.id, c2.clone())]
    );
    let (_, carried) = store
        .get_session_with_contact(next.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(carried, Some(c2.clone()));
    let mut third = first.clone();
    third.id = uuid::Uuid::now_v7();
    third.name = ContactText::parse("Tia Again").unwrap();
    let c3 = store
        .upsert_contact(next.id, third, clock::now())
        .await
        .unwrap();
    let after = create(&store, &user("tia"), "shop").await;
    let got = store.contacts(&[next.id, after.id]).await.unwrap();
    assert!(got.contains(&(next.id, c3.clone())) && got.contains(&(after.id, c3)));
    assert_eq!(got.len(), 2);

    store.delete_session(s.id, clock::now()).await.unwrap();
    assert!(store
        .get_session_with_contact(s.id)
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
    let msgs = store
        .list_messages(
            s.id,
            MessageRange::After {
                after: 0,
                limit: 10,
            },
        )
        .await
        .unwrap();
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

pub async fn read_cursors_and_accounts_by_id(store: Arc<dyn Store>) {
    let a = user("uri");
    let b = user("agent-2");
    let s = create(&store, &a, "shop").await;
    store
        .append_messages(&[msg(s.id, &a, "1"), msg(s.id, &a, "2")])
        .await
        .unwrap();
    store.mark_read(s.id, &a, 2, clock::now()).await.unwrap();
    store.mark_read(s.id, &b, 1, clock::now()).await.unwrap();
    let mut cursors = store.read_cursors(s.id).await.unwrap();
    cursors.sort_by_key(|(_, seq)| *seq);
    assert_eq!(cursors, vec![(b, 1), (a, 2)]);

    let acct = store
        .create_account(NewAccount {
            email: Email::parse("agent@example.com").unwrap(),
            password_hash: "x".into(),
            role: Role::Agent,
            business_id: None,
            name: Some("Agent Smith".into()),
        })
        .await
        .unwrap();
    assert_eq!(
        store
            .find_account(acct.id)
            .await
            .unwrap()
            .unwrap()
            .name
            .as_deref(),
        Some("Agent Smith")
    );
    assert!(store.find_account(acct.id + 100).await.unwrap().is_none());
}

pub async fn unread_in_named_sessions_counts_for_any_reader(store: Arc<dyn Store>) {
    let owner = user("vic");
    let admin = user("admin-1");
    let s = create(&store, &owner, "shop").await;
    let quiet = create(&store, &owner, "shop").await;
    store
        .append_messages(&[msg(s.id, &owner, "help"), msg(s.id, &owner, "anyone?")])
        .await
        .unwrap();
    // The admin never took part, yet sees what waits for it in the sessions it looks at.
    let counts = store.unread_in(&admin, &[s.id, quiet.id]).await.unwrap();
    let of = |id: SessionId| counts.iter().find(|u| u.session_id == id).map(|u| u.unread);
    assert_eq!((of(s.id), of(quiet.id)), (Some(2), Some(0)));
    store
        .mark_read(s.id, &admin, 1, clock::now())
        .await
        .unwrap();
    assert_eq!(store.unread_in(&admin, &[s.id]).await.unwrap()[0].unread, 1);
    assert_eq!(
        store.unread_in(&owner, &[s.id]).await.unwrap()[0].unread,
        0,
        "own messages are never unread"
    );
    assert!(store.unread_in(&admin, &[]).await.unwrap().is_empty());
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

pub async fn analytics_inputs_time_ranges_and_beats(store: Arc<dyn Store>) {
    let owner = user("yan");
    let t0 = clock::now() - Duration::days(3);
    let mut old = new_session(&owner, "shop");
    old.at = t0;
    let old = store.open_session(old, false).await.unwrap().0;
    let recent = create(&store, &owner, "shop").await;
    let agent = UserId::parse("agent-5").unwrap();
    let mut reply = msg(recent.id, &Party::User(agent.clone()), "hello");
    reply.sender_type = SenderType::Agent;
    reply.claim_for_agent = Some(agent.clone());
    store
        .append_messages(&[
            msg(recent.id, &owner, "q"),
            reply,
            msg(old.id, &owner, "old q"),
        ])
        .await
        .unwrap();

    let since_yesterday = SessionFilter {
        started_from: Some(clock::now() - Duration::days(1)),
        ..SessionFilter::default()
    };
    let found = store
        .list_sessions(&since_yesterday, None, 10)
        .await
        .unwrap();
    assert_eq!(
        found.iter().map(|s| s.id).collect::<Vec<_>>(),
        vec![recent.id]
    );
    let before = SessionFilter {
        started_before: Some(clock::now() - Duration::days(1)),
        ..SessionFilter::default()
    };
    assert_eq!(store.count_sessions(&before).await.unwrap(), 1);
    let by_agent = SessionFilter {
        agent_id: Some(agent),
        ..SessionFilter::default()
    };
    assert_eq!(store.count_sessions(&by_agent).await.unwrap(), 1);

    let beats = store.message_beats(&[recent.id, old.id]).await.unwrap();
    let of_recent: Vec<_> = beats
        .iter()
        .filter(|(s, _)| *s == recent.id)
        .map(|(_, b)| (b.seq, b.sender_type))
        .collect();
    assert_eq!(
        of_recent,
        vec![(1, SenderType::Customer), (2, SenderType::Agent)]
    );
    assert_eq!(beats.len(), 3);
    assert!(store.message_beats(&[]).await.unwrap().is_empty());
}

pub async fn departments_and_agents(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    let name = |n: &str| DepartmentName::parse(n).unwrap();
    let sales = store
        .create_department(&shop, &name("Sales"), clock::now())
        .await
        .unwrap();
    assert!(
        matches!(
            store
                .create_department(&shop, &name("Sales"), clock::now())
                .await,
            Err(StoreError::Conflict(_))
        ),
        "names are unique per tenant"
    );
    store
        .create_department(&tenant("other"), &name("Sales"), clock::now())
        .await
        .unwrap();
    let support = store
        .create_department(&shop, &name("Support"), clock::now())
        .await
        .unwrap();
    let ann = UserId::parse("ann").unwrap();
    let with_ann = store
        .set_department_member(&shop, sales.id, &ann, true)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(with_ann.agents, vec![ann.clone()]);
    store
        .set_department_member(&shop, sales.id, &ann, true)
        .await
        .unwrap();
    let listed = store.list_departments(&shop).await.unwrap();
    assert_eq!(
        listed
            .iter()
            .map(|d| (d.name.as_str(), d.agents.len()))
            .collect::<Vec<_>>(),
        vec![("Sales", 1), ("Support", 0)]
    );
    assert!(
        store
            .set_department_member(&tenant("other"), sales.id, &ann, true)
            .await
            .unwrap()
            .is_none(),
        "not another tenant's"
    );
    let renamed = store
        .rename_department(&shop, support.id, &name("Help desk"), clock::now())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(renamed.name.as_str(), "Help desk");
    assert!(store
        .delete_department(&shop, support.id, clock::now())
        .await
        .unwrap());
    assert!(store
        .get_department(&shop, support.id)
        .await
        .unwrap()
        .is_none());
    let without = store
        .set_department_member(&shop, sales.id, &ann, false)
        .await
        .unwrap()
        .unwrap();
    assert!(without.agents.is_empty());

    // Agents: created on first change; connections never below zero; load counts open sessions.
    let a = store
        .update_agent(&shop, &ann, None, None, 1, clock::now())
        .await
        .unwrap();
    assert_eq!(
        (
            a.max_concurrent,
            a.presence,
            a.connections,
            a.effective_presence()
        ),
        (5, Presence::Online, 1, Presence::Online)
    );
    let a = store
        .update_agent(&shop, &ann, Some(3), Some(Presence::Away), 0, clock::now())
        .await
        .unwrap();
    assert_eq!(
        (a.max_concurrent, a.effective_presence()),
        (3, Presence::Away)
    );
    let a = store
        .update_agent(&shop, &ann, None, None, -5, clock::now())
        .await
        .unwrap();
    assert_eq!(
        (a.connections, a.effective_presence()),
        (0, Presence::Offline)
    );
    let customer = user("cus");
    let s = create(&store, &customer, "shop").await;
    let mut reply = msg(s.id, &Party::User(ann.clone()), "hi");
    reply.claim_for_agent = Some(ann.clone());
    store.append_messages(&[reply]).await.unwrap();
    let agents = store.list_agents(&shop).await.unwrap();
    assert_eq!((agents.len(), agents[0].active_sessions), (1, 1));
    assert!(store
        .list_agents(&tenant("other"))
        .await
        .unwrap()
        .is_empty());
}

pub async fn routing_assigns_oldest_first_to_the_least_loaded_eligible_agent(
    store: Arc<dyn Store>,
) {
    let shop = tenant("shop");
    let at = clock::now();
    assert_eq!(
        store.tenant_settings(&shop).await.unwrap(),
        TenantSettings::default()
    );
    let auto = TenantSettings {
        auto_routing: true,
        allow_reopen: false,
        idle_timeout_secs: Some(90),
        initial_presence: Presence::Online,
    };
    store.set_tenant_settings(&shop, auto, at).await.unwrap();
    assert_eq!(
        store.tenant_idle_timeouts().await.unwrap(),
        vec![(shop.clone(), 90)]
    );
    assert_eq!(store.tenant_settings(&shop).await.unwrap(), auto);

    let (ann, bob) = (UserId::parse("ann").unwrap(), UserId::parse("bob").unwrap());
    let sales = store
        .create_department(&shop, &DepartmentName::parse("Sales").unwrap(), at)
        .await
        .unwrap();
    store
        .set_department_member(&shop, sales.id, &bob, true)
        .await
        .unwrap();
    // Nobody online: nothing to assign.
    let first = create(&store, &user("c1"), "shop").await;
    assert!(store.assign_next(&shop, at).await.unwrap().is_none());
    // Ann online with room for one; Bob away.
    store
        .update_agent(&shop, &ann, Some(1), None, 1, at)
        .await
        .unwrap();
    store
        .update_agent(&shop, &bob, Some(5), Some(Presence::Away), 1, at)
        .await
        .unwrap();
    let mut in_sales = new_session(&user("c2"), "shop");
    in_sales.department_id = Some(sales.id);
    let sales_session = store.open_session(in_sales, false).await.unwrap().0;
    let second = create(&store, &user("c3"), "shop").await;
    let queue = store.queue(&shop, 10).await.unwrap();
    let places: Vec<_> = queue.iter().map(|(s, p)| (s.id, *p)).collect();
    assert_eq!(
        places,
        vec![(first.id, 1), (sales_session.id, 1), (second.id, 2)],
        "one queue per department"
    );

    let got = store.assign_next(&shop, at).await.unwrap().unwrap();
    assert_eq!(
        (got.id, got.agent_id.as_ref(), got.status),
        (first.id, Some(&ann), SessionStatus::Active),
        "oldest first"
    );
    assert!(
        store.assign_next(&shop, at).await.unwrap().is_none(),
        "ann is full, bob is away and only in Sales"
    );
    store
        .update_agent(&shop, &bob, None, Some(Presence::Online), 0, at)
        .await
        .unwrap();
    let got = store.assign_next(&shop, at).await.unwrap().unwrap();
    assert_eq!(
        (got.id, got.agent_id.as_ref()),
        (sales_session.id, Some(&bob)),
        "the Sales session goes to its member"
    );
    let got = store.assign_next(&shop, at).await.unwrap().unwrap();
    assert_eq!(
        (got.id, got.agent_id.as_ref()),
        (second.id, Some(&bob)),
        "ann is at her cap: the least-loaded with room"
    );
    assert!(store.queue(&shop, 10).await.unwrap().is_empty());
    assert!(store
        .assign_next(&tenant("other"), at)
        .await
        .unwrap()
        .is_none());

    // Unassign, transfer, reopen through the patch.
    let back = SessionPatch {
        agent_id: Some(None),
        department_id: Some(None),
        status: Some(StatusChange {
            from: SessionStatus::Active,
            to: SessionStatus::Waiting,
        }),
        ..SessionPatch::default()
    };
    let PatchOutcome::Updated(s) = store
        .update_session(sales_session.id, &back, at)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (s.agent_id, s.department_id, s.status),
        (None, None, SessionStatus::Waiting)
    );
    let close = SessionPatch {
        status: Some(StatusChange {
            from: SessionStatus::Active,
            to: SessionStatus::Closed,
        }),
        ..SessionPatch::default()
    };
    store.update_session(first.id, &close, at).await.unwrap();
    let reopen = SessionPatch {
        status: Some(StatusChange {
            from: SessionStatus::Closed,
            to: SessionStatus::Active,
        }),
        ..SessionPatch::default()
    };
    let PatchOutcome::Updated(s) = store.update_session(first.id, &reopen, at).await.unwrap()
    else {
        panic!()
    };
    assert_eq!(
        (s.status, s.ended_at),
        (SessionStatus::Active, None),
        "reopening clears the end"
    );
}

/// Every waiting session's place, as `queue_position` tells it, equals its place in the
/// `queue` listing; returns the listing's (session, place) pairs.
async fn places_agree(store: &Arc<dyn Store>, shop: &BusinessId) -> Vec<(SessionId, i64)> {
    let mut places = Vec::new();
    for (s, place) in store.queue(shop, 1_000).await.unwrap() {
        assert_eq!(
            store.queue_position(&s).await.unwrap(),
            place,
            "session {} (number {})",
            s.id,
            s.number
        );
        places.push((s.id, place));
    }
    places
}

pub async fn queue_positions_follow_every_way_in_and_out(store: Arc<dyn Store>) {
    let shop = tenant("queue-shop");
    let pat = user("pat");
    let sales = store
        .create_department(
            &shop,
            &DepartmentName::parse("Sales").unwrap(),
            clock::now(),
        )
        .await
        .unwrap();
    let mut s = Vec::new();
    for _ in 0..4 {
        s.push(create(&store, &pat, "queue-shop").await);
    }
    let ids = |v: &[usize]| v.iter().map(|&i| s[i].id).collect::<Vec<_>>();
    let patch = |status: Option<(SessionStatus, SessionStatus)>,
                 department: Option<Option<uuid::Uuid>>| SessionPatch {
        status: status.map(|(from, to)| StatusChange { from, to }),
        department_id: department,
        ..SessionPatch::default()
    };
    let order =
        |places: Vec<(SessionId, i64)>| places.into_iter().map(|(id, _)| id).collect::<Vec<_>>();
    assert_eq!(order(places_agree(&store, &shop).await), ids(&[0, 1, 2, 3]));

    // Out by closing.
    let closing = patch(Some((SessionStatus::Waiting, SessionStatus::Closed)), None);
    store
        .update_session(s[0].id, &closing, clock::now())
        .await
        .unwrap();
    assert_eq!(order(places_agree(&store, &shop).await), ids(&[1, 2, 3]));

    // Into a department's queue: its own places start at 1.
    let to_sales = patch(None, Some(Some(sales.id)));
    store
        .update_session(s[2].id, &to_sales, clock::now())
        .await
        .unwrap();
    let places = places_agree(&store, &shop).await;
    assert!(
        places.contains(&(s[2].id, 1)) && places.contains(&(s[3].id, 2)),
        "{places:?}"
    );

    // Out by deletion.
    store.delete_session(s[1].id, clock::now()).await.unwrap();
    let places = places_agree(&store, &shop).await;
    assert!(places.contains(&(s[3].id, 1)), "{places:?}");

    // Back in by reopening: by number, ahead of later arrivals.
    let reopening = patch(Some((SessionStatus::Closed, SessionStatus::Waiting)), None);
    store
        .update_session(s[0].id, &reopening, clock::now())
        .await
        .unwrap();
    let places = places_agree(&store, &shop).await;
    assert!(
        places.contains(&(s[0].id, 1)) && places.contains(&(s[3].id, 2)),
        "{places:?}"
    );

    // Out by a staff reply that claims the session; an append that does not claim leaves
    // the queue as it was.
    created(append_one(&store, msg(s[3].id, &pat, "still waiting")).await);
    assert_eq!(places_agree(&store, &shop).await.len(), 3);
    let agent = UserId::parse("agent-q").unwrap();
    let mut reply = msg(s[0].id, &Party::User(agent.clone()), "on it");
    reply.sender_type = SenderType::Agent;
    reply.claim_for_agent = Some(agent);
    created(append_one(&store, reply).await);
    let places = places_agree(&store, &shop).await;
    assert_eq!(places.len(), 2, "{places:?}");
    assert!(places.contains(&(s[3].id, 1)), "{places:?}");

    // A new arrival's place counts everyone ahead of it.
    let late = create(&store, &pat, "queue-shop").await;
    assert_eq!(store.queue_position(&late).await.unwrap(), 2);

    // A place told at opening is the place `queue_position` tells, in either queue; a
    // resumed session is told none.
    let mut to_sales = new_session(&pat, "queue-shop");
    to_sales.department_id = Some(sales.id);
    for (new, place) in [(new_session(&pat, "queue-shop"), 3), (to_sales, 2)] {
        let (opened, created, told) = store.open_session_with_place(new, false).await.unwrap();
        assert!(created);
        assert_eq!(store.queue_position(&opened).await.unwrap(), place);
        assert!(
            told.is_none_or(|told| told == place),
            "told {told:?}, is {place}"
        );
    }
    let (_, created, told) = store
        .open_session_with_place(new_session(&pat, "queue-shop"), true)
        .await
        .unwrap();
    assert!(!created && told.is_none());
}

/// Through the committer: a batch one of whose messages cannot be written (here, an id that
/// is already taken) fails that message alone; the others that shared its transaction are
/// committed with gap-free seqs. Run on one thread, so all of them queue into one batch.
pub async fn a_failing_message_fails_only_itself(store: Arc<dyn Store>) {
    use chatdesk_core::bus::InProcessBus;
    use chatdesk_core::committer::{Audience, Committer, CommitterConfig, NoObserver};
    let ann = user("ann");
    let s = create(&store, &ann, "shop").await;
    let taken = created(append_one(&store, msg(s.id, &ann, "first")).await);
    let (committer, task) = Committer::spawn(
        store.clone(),
        Arc::new(InProcessBus::new(16)),
        Arc::new(NoObserver),
        CommitterConfig::default(),
    );
    let audience = Audience {
        business_id: tenant("shop"),
        owner: ann.clone(),
        session_number: s.number,
    };
    let sends = (0..6).map(|i| {
        let mut m = msg(s.id, &ann, &format!("m{i}"));
        if i == 3 {
            m.id = taken.id;
        }
        committer.append(m, audience.clone())
    });
    let results = futures::future::join_all(sends).await;
    for (i, r) in results.iter().enumerate() {
        match (i, r) {
            (3, Err(_)) => {}
            (3, Ok(o)) => panic!("the message with a taken id was written: {o:?}"),
            (_, Ok(AppendOutcome::Created(_))) => {}
            (_, other) => panic!("message {i} failed with the bad one: {other:?}"),
        }
    }
    drop(committer);
    task.await.unwrap();
    let all = store
        .list_messages(
            s.id,
            MessageRange::After {
                after: 0,
                limit: 100,
            },
        )
        .await
        .unwrap();
    let seqs: Vec<i64> = all.iter().map(|m| m.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3, 4, 5, 6]);
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
        .update_agent(&quiet, &ann, Some(1), None, 1, at)
        .await
        .unwrap();
    assert!(store.assign_next(&quiet, at).await.unwrap().is_some());

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

/// A new agent starts with its tenant's `initial_presence`; one that exists keeps its own.
pub async fn a_new_agent_starts_with_its_tenants_initial_presence(store: Arc<dyn Store>) {
    let (shop, other) = (tenant("shop"), tenant("other"));
    let at = clock::now();
    let ann = UserId::parse("ann").unwrap();
    let before = store
        .update_agent(&shop, &ann, None, None, 1, at)
        .await
        .unwrap();
    assert_eq!(before.presence, Presence::Online, "the default");
    let away_first = TenantSettings {
        initial_presence: Presence::Away,
        ..TenantSettings::default()
    };
    assert_eq!(
        store
            .set_tenant_settings(&shop, away_first, at)
            .await
            .unwrap(),
        away_first
    );
    assert_eq!(store.tenant_settings(&shop).await.unwrap(), away_first);
    let bob = UserId::parse("bob").unwrap();
    let new = store
        .update_agent(&shop, &bob, None, None, 1, at)
        .await
        .unwrap();
    assert_eq!(new.presence, Presence::Away);
    let known = store
        .update_agent(&shop, &ann, None, None, 1, at)
        .await
        .unwrap();
    assert_eq!(
        known.presence,
        Presence::Online,
        "an existing agent keeps its own"
    );
    let elsewhere = store
        .update_agent(&other, &bob, None, None, 1, at)
        .await
        .unwrap();
    assert_eq!(
        elsewhere.presence,
        Presence::Online,
        "another tenant's default"
    );
    let chose = store
        .update_agent(&shop, &bob, None, Some(Presence::Online), 0, at)
        .await
        .unwrap();
    assert_eq!(chose.presence, Presence::Online);
}
