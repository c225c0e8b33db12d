//! Messages: the append (seqs, idempotency, failures), pages, read cursors and analytics inputs.

use super::*;

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

/// A visitor writes only to sessions it owns: once they are linked to an account, a send
/// as the visitor (authorized a moment before, elsewhere) finds nothing; the account writes.
pub async fn a_visitor_cannot_write_to_a_session_linked_away(store: Arc<dyn Store>) {
    let visitor = VisitorId::from_uuid(uuid::Uuid::new_v4());
    let as_visitor = Party::Visitor(visitor);
    let s = create(&store, &as_visitor, "shop").await;
    assert_eq!(
        created(append_one(&store, msg(s.id, &as_visitor, "before")).await).seq,
        1
    );
    let account = UserId::parse("vera").unwrap();
    store
        .link_visitor(visitor, &account, clock::now())
        .await
        .unwrap();
    assert_eq!(
        append_one(&store, msg(s.id, &as_visitor, "after")).await,
        AppendOutcome::SessionMissing
    );
    let as_account = Party::User(account);
    assert_eq!(
        created(append_one(&store, msg(s.id, &as_account, "mine")).await).seq,
        2
    );
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

/// Through the committer: a batch one of whose messages cannot be written (here, an id that
/// is already taken) fails that message alone; the others that shared its transaction are
/// committed with gap-free seqs. Run on one thread, so all of them queue into one batch.
// contract: one thread
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

/// An edit changes a message's text in place (its seq stays) and search finds the new words,
/// not the old; a deletion empties it, and search finds nothing of it.
pub async fn revisions_change_a_message_in_place_and_in_search(store: Arc<dyn Store>) {
    let ann = user("ann");
    let s = create(&store, &ann, "shop").await;
    append_one(&store, msg(s.id, &ann, "parcel lost in transit")).await;
    append_one(&store, msg(s.id, &ann, "second")).await;
    let at = clock::now();
    let edit = Revision::Edit(Content::parse("parcel found at the depot", 100).unwrap());
    let edited = store
        .revise_message(s.id, 1, &edit, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (edited.seq, edited.content.as_str()),
        (1, "parcel found at the depot")
    );
    assert!(edited.edited_at.is_some() && edited.deleted_at.is_none());
    let shop = SessionFilter {
        business_id: Some(tenant("shop")),
        ..SessionFilter::default()
    };
    let find = |q: &str| {
        let store = store.clone();
        let shop = shop.clone();
        let q = SearchQuery::parse(q).unwrap();
        async move { store.search_messages(&shop, &q, 10).await.unwrap() }
    };
    assert_eq!(find("depot").await.len(), 1);
    assert!(
        find("transit").await.is_empty(),
        "the old words are gone from search"
    );

    let deleted = store
        .revise_message(s.id, 1, &Revision::Delete, at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(deleted.content, "");
    assert!(deleted.deleted_at.is_some());
    assert!(find("depot").await.is_empty());
    assert!(
        store
            .revise_message(s.id, 1, &Revision::Delete, at)
            .await
            .unwrap()
            .is_none(),
        "a deleted message stays deleted"
    );
    assert!(store
        .revise_message(s.id, 9, &edit, at)
        .await
        .unwrap()
        .is_none());
    let all = first_messages(&store, s.id).await;
    assert_eq!(all.iter().map(|m| m.seq).collect::<Vec<_>>(), vec![1, 2]);
    assert_eq!(all[1].content, "second");
}
