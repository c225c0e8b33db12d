//! Routing: automatic assignment, queue places, capacity, and routing by hand.

use crate::harness::{assert_error, on_both_stores, As, TestApp};
use crate::realtime::Sse;
use chatdesk_core::identity::Role;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};

on_both_stores!(
    auto_routing_assigns_and_tells_visitors_their_place,
    routing_by_hand_and_reopening,
    an_assignment_note_names_the_person,
    a_tenant_can_have_new_agents_start_away
);

/// With `initial_presence: away`, an agent whose console opens is not routed sessions until
/// it says it is online.
async fn a_tenant_can_have_new_agents_start_away(app: TestApp) {
    let admin = app.token("boss", Role::Admin, Some("careful"));
    let set = |body| app.call(Method::PUT, "/v1/tenant/settings", &admin, Some(body));
    assert_error(
        &set(json!({"initial_presence": "offline"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_presence",
    );
    let (s, saved) = set(json!({"routing": "auto", "initial_presence": "away"})).await;
    assert_eq!(
        (s, saved["initial_presence"].as_str()),
        (StatusCode::OK, Some("away"))
    );
    let ann = app.agent("ann", "careful");
    let _console = Sse::open(&app, "/v1/events", &ann, None).await.unwrap();
    until("ann is connected", async || {
        app.get("/v1/agents", &ann).await.1[0]["presence"] == "away"
    })
    .await;
    let visitor = app.visitor();
    let id = app.open(&visitor, json!({"business_id": "careful"})).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let (_, waiting) = app.get(&format!("/v1/sessions/{id}"), &visitor).await;
    assert_eq!(waiting["status"], "waiting", "an away agent gets nothing");
    let (s, _) = app
        .call(
            Method::PUT,
            "/v1/agents/me/presence",
            &ann,
            Some(json!({"status": "online"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    until("the session is routed to ann", async || {
        app.get(&format!("/v1/sessions/{id}"), &visitor).await.1["agent_id"] == "ann"
    })
    .await;
}

/// People read names: a built-in account is named in the conversation, not numbered.
async fn an_assignment_note_names_the_person(app: TestApp) {
    let id = app.account("smith@example.com", "agent").await;
    let alice = app.customer("alice");
    let session = app.open(&alice, json!({})).await;
    let admin = app.token("root", Role::Admin, None);
    let (s, _) = app
        .post(
            &format!("/v1/sessions/{session}/assign"),
            &admin,
            json!({"agent_id": id.to_string()}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, list) = app
        .get(&format!("/v1/sessions/{session}/messages"), &alice)
        .await;
    assert_eq!(list["messages"][0]["content"], "Assigned to Agent Smith");
    // Views put the name beside the id: the session's agent, and what the agent writes.
    let (_, one) = app.get(&format!("/v1/sessions/{session}"), &alice).await;
    assert_eq!(
        (one["agent_id"].clone(), one["agent_name"].as_str()),
        (json!(id.to_string()), Some("Agent Smith"))
    );
    let (_, page) = app.get("/v1/sessions", &admin).await;
    let listed = page["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["id"] == session.as_str())
        .unwrap()
        .clone();
    assert_eq!(listed["agent_name"], "Agent Smith");
    let smith = app.token(&id.to_string(), Role::Agent, None);
    app.send(&smith, &session, "How can I help?").await;
    let (_, list) = app
        .get(&format!("/v1/sessions/{session}/messages"), &alice)
        .await;
    let reply = list["messages"].as_array().unwrap().last().unwrap().clone();
    assert_eq!(
        (reply["content"].as_str(), reply["sender_name"].as_str()),
        (Some("How can I help?"), Some("Agent Smith"))
    );
}

async fn until(what: &str, mut check: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !check().await {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "timed out waiting until {what}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// The next event named `name`, skipping others.
async fn next_named(stream: &mut Sse, name: &str) -> serde_json::Value {
    loop {
        let f = stream.next().await;
        if f.event == name {
            return f.data;
        }
    }
}

async fn auto_routing_assigns_and_tells_visitors_their_place(app: TestApp) {
    let admin = app.token("boss", Role::Admin, Some("shop"));
    let (s, settings) = app
        .call(
            Method::PUT,
            "/v1/tenant/settings",
            &admin,
            Some(json!({"routing": "auto"})),
        )
        .await;
    assert_eq!(
        (s, settings["routing"].as_str()),
        (StatusCode::OK, Some("auto"))
    );
    app.call(
        Method::PUT,
        "/v1/agents/ann",
        &admin,
        Some(json!({"max_concurrent": 1})),
    )
    .await;
    let ann = app.agent("ann", "shop");
    // Ann's console is open: that makes her online.
    let mut console = Sse::open(&app, "/v1/events", &ann, None).await.unwrap();
    until("ann is online", async || {
        app.get("/v1/agents", &ann).await.1[0]["presence"] == "online"
    })
    .await;

    let v1 = app.visitor();
    let first = app.open(&v1, json!({"business_id": "shop"})).await;
    let assigned = next_named(&mut console, "sessionAssigned").await;
    assert_eq!(
        (assigned["id"].as_str(), assigned["agentId"].as_str()),
        (Some(first.as_str()), Some("ann"))
    );
    let (_, s1) = app.get(&format!("/v1/sessions/{first}"), &v1).await;
    assert_eq!(
        (s1["status"].as_str(), s1["agent_id"].as_str()),
        (Some("active"), Some("ann"))
    );

    // Ann is at her cap: the next visitor waits, and is told where it stands.
    let v2 = app.visitor();
    let mut visitor_stream = Sse::open(&app, "/v1/events", &v2, None).await.unwrap();
    let second = app.open(&v2, json!({"business_id": "shop"})).await;
    let place = next_named(&mut visitor_stream, "queuePosition").await;
    assert_eq!(
        (place["sessionId"].as_str(), place["position"].as_i64()),
        (Some(second.as_str()), Some(1))
    );
    let (_, q) = app.get(&format!("/v1/sessions/{second}/queue"), &v2).await;
    assert_eq!(q, json!({"status": "waiting", "position": 1}));

    // Capacity frees up: the oldest waiting session goes first.
    app.post(&format!("/v1/sessions/{first}/end"), &v1, json!({}))
        .await;
    let got = next_named(&mut visitor_stream, "sessionAssigned").await;
    assert_eq!(
        (got["id"].as_str(), got["agentId"].as_str()),
        (Some(second.as_str()), Some("ann"))
    );
    let (_, q) = app.get(&format!("/v1/sessions/{second}/queue"), &v2).await;
    assert_eq!(q, json!({"status": "active", "position": null}));
    let (_, agents) = app.get("/v1/agents", &ann).await;
    assert_eq!(agents[0]["active_sessions"], 1);
    drop(console);
}

async fn routing_by_hand_and_reopening(app: TestApp) {
    let admin = app.token("boss", Role::Admin, None);
    let agent = app.agent("bob", "default");
    let alice = app.customer("alice");
    let id = app.open(&alice, json!({})).await;
    let (_, q) = app.get(&format!("/v1/sessions/{id}/queue"), &alice).await;
    assert_eq!(
        q["position"], 1,
        "manual routing (the default) leaves it waiting"
    );

    let path = |what: &str| format!("/v1/sessions/{id}/{what}");
    let (s, assigned) = app
        .post(&path("assign"), &agent, json!({"agent_id": "bob"}))
        .await;
    assert_eq!(
        (
            s,
            assigned["status"].as_str(),
            assigned["agent_id"].as_str()
        ),
        (StatusCode::OK, Some("active"), Some("bob"))
    );
    let (_, back) = app.post(&path("unassign"), &agent, json!({})).await;
    assert_eq!(
        (back["status"].as_str(), back["agent_id"].as_str()),
        (Some("waiting"), None)
    );
    let (_, dept) = app
        .post("/v1/departments", &admin, json!({"name": "Billing"}))
        .await;
    let (s, moved) = app
        .post(
            &path("assign"),
            &agent,
            json!({"department_id": dept["id"]}),
        )
        .await;
    assert_eq!(
        (s, moved["department_id"].as_str()),
        (StatusCode::OK, dept["id"].as_str())
    );
    assert_eq!(moved["status"], "waiting");
    assert_error(
        &app.post(&path("assign"), &alice, json!({"agent_id": "alice"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.post(&path("assign"), &agent, json!({})).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
    );
    assert_error(
        &app.post(&path("assign"), &agent, json!({"department_id": "nope"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_department",
    );
    assert_error(
        &app.post(
            &path("assign"),
            &app.agent("eve", "other"),
            json!({"agent_id": "eve"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Each change is noted in the conversation by the system.
    let (_, notes) = app.get(&path("messages"), &alice).await;
    let notes: Vec<(String, String)> = notes["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| {
            (
                m["sender_type"].as_str().unwrap().to_owned(),
                m["content"].as_str().unwrap().to_owned(),
            )
        })
        .collect();
    let system = |t: &str| ("system".to_owned(), t.to_owned());
    assert_eq!(
        notes,
        vec![
            system("Assigned to bob"),
            system("Unassigned; waiting for an agent"),
            system("Transferred to another department; waiting for an agent"),
        ]
    );

    // Reopening, where the tenant allows it (the default).
    app.post(&path("end"), &alice, json!({})).await;
    let (_, after) = app.get(&path("messages"), &alice).await;
    assert_eq!(
        after["messages"].as_array().unwrap().last().unwrap()["content"],
        "Conversation closed",
        "a closed session still gets the system's note"
    );
    assert_error(
        &app.post(&path("assign"), &agent, json!({"agent_id": "bob"}))
            .await,
        StatusCode::CONFLICT,
        "session_closed",
    );
    let (s, reopened) = app.post(&path("reopen"), &alice, json!({})).await;
    assert_eq!(
        (s, reopened["status"].as_str(), reopened["ended_at"].clone()),
        (StatusCode::OK, Some("waiting"), json!(null))
    );
    app.call(
        Method::PUT,
        "/v1/tenant/settings",
        &admin,
        Some(json!({"allow_reopen": false, "business_id": "default"})),
    )
    .await;
    app.post(&path("end"), &alice, json!({})).await;
    assert_error(
        &app.post(&path("reopen"), &alice, json!({})).await,
        StatusCode::CONFLICT,
        "reopen_not_allowed",
    );
    assert_error(
        &app.call(
            Method::PUT,
            "/v1/tenant/settings",
            &admin,
            Some(json!({"routing": "sometimes"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_routing",
    );
    assert_error(
        &app.call(
            Method::PUT,
            "/v1/tenant/settings",
            &agent,
            Some(json!({"routing": "auto"})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let _ = As::Nobody;
}

/// The idle job honours a tenant's own timeout; other tenants keep the server's default.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_job_uses_each_tenants_timeout() {
    crate::harness::run_with(
        crate::harness::Kind::Sqlite,
        |s| {
            s.idle_timeout_secs = 3600;
            s.idle_sweep_interval_secs = 1;
        },
        |app| async move {
            let admin = app.token("boss", Role::Admin, None);
            let set = |body| app.call(Method::PUT, "/v1/tenant/settings", &admin, Some(body));
            assert_error(
                &set(json!({"business_id": "quick", "idle_timeout_secs": 0})).await,
                StatusCode::BAD_REQUEST,
                "invalid_idle_timeout",
            );
            let (s, saved) = set(json!({"business_id": "quick", "idle_timeout_secs": 1})).await;
            assert_eq!(
                (s, saved["idle_timeout_secs"].as_i64()),
                (StatusCode::OK, Some(1))
            );
            let alice = app.customer("alice");
            let quick = app.open(&alice, json!({"business_id": "quick"})).await;
            let slow = app.open(&alice, json!({"business_id": "slow"})).await;
            until("the quick tenant's idle session is closed", async || {
                app.get(&format!("/v1/sessions/{quick}"), &alice).await.1["status"] == "closed"
            })
            .await;
            // The note goes through the committer after the close has been committed, so a
            // read can fall between the two.
            until("the closed session carries its note", async || {
                let (_, notes) = app
                    .get(&format!("/v1/sessions/{quick}/messages"), &alice)
                    .await;
                notes["messages"][0]["content"] == "Conversation closed after inactivity"
            })
            .await;
            let (_, other) = app.get(&format!("/v1/sessions/{slow}"), &alice).await;
            assert_eq!(
                other["status"], "waiting",
                "the other tenant keeps the default hour"
            );
            let (_, cleared) =
                set(json!({"business_id": "quick", "idle_timeout_secs": null})).await;
            assert_eq!(cleared["idle_timeout_secs"], json!(null));
        },
    )
    .await;
}
