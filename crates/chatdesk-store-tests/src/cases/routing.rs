//! Routing: departments, agents, queues and assignment.

use super::*;

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
    let a = connect(&store, &shop, &ann, 1, clock::now()).await;
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
        .update_agent(
            &shop,
            &ann,
            Some(3),
            Some(Presence::Away),
            Connections::NONE,
            clock::now(),
        )
        .await
        .unwrap();
    assert_eq!(
        (a.max_concurrent, a.effective_presence()),
        (3, Presence::Away)
    );
    let a = connect(&store, &shop, &ann, -5, clock::now()).await;
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
    assert!(store
        .assign_next(&shop, &chatdesk_core::routing::OpenQueues::all(), at)
        .await
        .unwrap()
        .is_none());
    // Ann online with room for one; Bob away.
    store
        .update_agent(
            &shop,
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
    store
        .update_agent(
            &shop,
            &bob,
            Some(5),
            Some(Presence::Away),
            Connections {
                node: "n1",
                delta: 1,
            },
            at,
        )
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

    let got = store
        .assign_next(&shop, &chatdesk_core::routing::OpenQueues::all(), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.id, got.agent_id.as_ref(), got.status),
        (first.id, Some(&ann), SessionStatus::Active),
        "oldest first"
    );
    assert!(
        store
            .assign_next(&shop, &chatdesk_core::routing::OpenQueues::all(), at)
            .await
            .unwrap()
            .is_none(),
        "ann is full, bob is away and only in Sales"
    );
    store
        .update_agent(
            &shop,
            &bob,
            None,
            Some(Presence::Online),
            Connections::NONE,
            at,
        )
        .await
        .unwrap();
    let got = store
        .assign_next(&shop, &chatdesk_core::routing::OpenQueues::all(), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.id, got.agent_id.as_ref()),
        (sales_session.id, Some(&bob)),
        "the Sales session goes to its member"
    );
    let got = store
        .assign_next(&shop, &chatdesk_core::routing::OpenQueues::all(), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (got.id, got.agent_id.as_ref()),
        (second.id, Some(&bob)),
        "ann is at her cap: the least-loaded with room"
    );
    assert!(store.queue(&shop, 10).await.unwrap().is_empty());
    assert!(store
        .assign_next(
            &tenant("other"),
            &chatdesk_core::routing::OpenQueues::all(),
            at
        )
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

/// A new agent starts with its tenant's `initial_presence`; one that exists keeps its own.
pub async fn a_new_agent_starts_with_its_tenants_initial_presence(store: Arc<dyn Store>) {
    let (shop, other) = (tenant("shop"), tenant("other"));
    let at = clock::now();
    let ann = UserId::parse("ann").unwrap();
    let before = connect(&store, &shop, &ann, 1, at).await;
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
    let new = connect(&store, &shop, &bob, 1, at).await;
    assert_eq!(new.presence, Presence::Away);
    let known = connect(&store, &shop, &ann, 1, at).await;
    assert_eq!(
        known.presence,
        Presence::Online,
        "an existing agent keeps its own"
    );
    let elsewhere = connect(&store, &other, &bob, 1, at).await;
    assert_eq!(
        elsewhere.presence,
        Presence::Online,
        "another tenant's default"
    );
    let chose = store
        .update_agent(
            &shop,
            &bob,
            None,
            Some(Presence::Online),
            Connections::NONE,
            at,
        )
        .await
        .unwrap();
    assert_eq!(chose.presence, Presence::Online);
}

/// Routing reads the queue a page at a time: a session that an agent can take is found
/// however many before it nobody can take.
pub async fn routing_finds_a_takeable_session_behind_a_long_queue(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    let at = clock::now();
    let auto = TenantSettings {
        auto_routing: true,
        ..TenantSettings::default()
    };
    store.set_tenant_settings(&shop, auto, at).await.unwrap();
    let nobodys = store
        .create_department(&shop, &DepartmentName::parse("Nobody's").unwrap(), at)
        .await
        .unwrap();
    let behind = chatdesk_core::routing::WAITING_PAGE as usize * 2 + 1;
    // Of every priority, so the pages cross from one priority to the next.
    let priorities = [Priority::Urgent, Priority::High, Priority::Normal];
    for i in 0..behind {
        let mut waiting = new_session(&user(&format!("w{i}")), "shop");
        waiting.department_id = Some(nobodys.id);
        waiting.priority = priorities[i % 3];
        store.open_session(waiting, false).await.unwrap();
    }
    let last = create(&store, &user("last"), "shop").await;
    let ann = UserId::parse("ann").unwrap();
    connect(&store, &shop, &ann, 1, at).await;
    let got = store
        .assign_next(&shop, &chatdesk_core::routing::OpenQueues::all(), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((got.id, got.agent_id), (last.id, Some(ann)));
    assert!(store
        .assign_next(&shop, &chatdesk_core::routing::OpenQueues::all(), at)
        .await
        .unwrap()
        .is_none());
}

/// Queues are served by priority, urgent first, and oldest first within one: in the queue's
/// listing, in each session's place, and in what routing assigns next.
pub async fn queues_are_served_by_priority_then_age(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    let at = clock::now();
    let mut opened = Vec::new();
    for (who, priority) in [
        ("low", Priority::Low),
        ("normal-1", Priority::Normal),
        ("urgent", Priority::Urgent),
        ("high", Priority::High),
        ("normal-2", Priority::Normal),
    ] {
        let mut s = new_session(&user(who), "shop");
        s.priority = priority;
        let (s, _) = store.open_session(s, false).await.unwrap();
        opened.push((who, s.id));
    }
    let name = |id: SessionId| opened.iter().find(|(_, s)| *s == id).unwrap().0;
    let order: Vec<&str> = places_agree(&store, &shop)
        .await
        .into_iter()
        .map(|(id, _)| name(id))
        .collect();
    assert_eq!(order, ["urgent", "high", "normal-1", "normal-2", "low"]);
    // Raised to high, the oldest session goes ahead of the younger high one too.
    let low = opened[0].1;
    let patch = SessionPatch {
        priority: Some(Priority::High),
        ..SessionPatch::default()
    };
    store.update_session(low, &patch, at).await.unwrap();
    let order: Vec<&str> = places_agree(&store, &shop)
        .await
        .into_iter()
        .map(|(id, _)| name(id))
        .collect();
    assert_eq!(order, ["urgent", "low", "high", "normal-1", "normal-2"]);
    let ann = UserId::parse("ann").unwrap();
    connect(&store, &shop, &ann, 1, at).await;
    let mut assigned = Vec::new();
    while let Some(s) = store
        .assign_next(&shop, &chatdesk_core::routing::OpenQueues::all(), at)
        .await
        .unwrap()
    {
        assigned.push(name(s.id));
    }
    assert_eq!(assigned, ["urgent", "low", "high", "normal-1", "normal-2"]);
}

/// Connections are counted per node: a node that falls silent takes its own off its agents'
/// counts, once, and leaves the other nodes' alone; closing more than a node opened takes
/// nothing from another node's.
pub async fn a_silent_node_stops_counting_its_agents_connections(store: Arc<dyn Store>) {
    let shop = BusinessId::parse("shop").unwrap();
    let ann = UserId::parse("ann").unwrap();
    let t0 = clock::now();
    let on = |node, delta| Connections { node, delta };
    for (node, delta) in [("a", 2), ("b", 1)] {
        store
            .update_agent(&shop, &ann, None, None, on(node, delta), t0)
            .await
            .unwrap();
    }
    let a = store
        .update_agent(&shop, &ann, None, None, on("b", -3), t0)
        .await
        .unwrap();
    assert_eq!(a.connections, 2, "b closed only what it had opened");
    store
        .update_agent(&shop, &ann, None, None, on("b", 1), t0)
        .await
        .unwrap();
    let later = t0 + chrono::Duration::seconds(60);
    store.node_alive("b", later).await.unwrap();
    // Nobody has been silent since before t0.
    assert_eq!(store.forget_silent_nodes(t0).await.unwrap(), 0);
    let before = later - chrono::Duration::seconds(30);
    let forgotten = futures::future::join(
        store.forget_silent_nodes(before),
        store.forget_silent_nodes(before),
    )
    .await;
    assert_eq!(forgotten.0.unwrap() + forgotten.1.unwrap(), 1, "a, once");
    let agents = store.list_agents(&shop).await.unwrap();
    assert_eq!(agents[0].connections, 1, "b's connection still counts");
    // A late close from the forgotten node takes nothing more off.
    let a = store
        .update_agent(&shop, &ann, None, None, on("a", -1), later)
        .await
        .unwrap();
    assert_eq!(a.connections, 1);
}

/// Routing serves only the queues business hours leave open: a closed department's sessions
/// wait however old they are, and the tenant's own queue follows the tenant's hours.
pub async fn routing_serves_only_open_queues(store: Arc<dyn Store>) {
    let shop = tenant("shop");
    let at = clock::now();
    let billing = store
        .create_department(&shop, &DepartmentName::parse("Billing").unwrap(), at)
        .await
        .unwrap();
    let ann = UserId::parse("ann").unwrap();
    store
        .set_department_member(&shop, billing.id, &ann, true)
        .await
        .unwrap();
    connect(&store, &shop, &ann, 1, at).await;
    let mut in_billing = new_session(&user("old"), "shop");
    in_billing.department_id = Some(billing.id);
    let (in_billing, _) = store.open_session(in_billing, false).await.unwrap();
    let general = create(&store, &user("young"), "shop").await;
    let billing_id = billing.id.to_string();
    let open = |tenant: bool, billing: bool| chatdesk_core::routing::OpenQueues {
        tenant,
        departments: vec![(billing_id.clone(), billing)],
    };
    assert!(store
        .assign_next(&shop, &open(false, false), at)
        .await
        .unwrap()
        .is_none());
    let first = store
        .assign_next(&shop, &open(true, false), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        first.id, general.id,
        "the closed department's older session waits"
    );
    assert!(store
        .assign_next(&shop, &open(true, false), at)
        .await
        .unwrap()
        .is_none());
    let then = store
        .assign_next(&shop, &open(false, true), at)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(then.id, in_billing.id);
}
