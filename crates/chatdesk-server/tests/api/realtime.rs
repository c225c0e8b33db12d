//! Real time with real clients: the official socket.io-client (node) for protocol truth, and
//! Server-Sent Events read off the wire.

use crate::harness::{assert_error, on_both_stores, run_with, As, Kind, TestApp};
use chatdesk_core::identity::Role;
use futures::StreamExt;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::time::Duration;

on_both_stores!(
    seed_004_react_flow,
    reconnect_with_since_seq_is_gap_free,
    bad_credentials_are_refused,
    sse_session_stream_resumes_exactly,
    sse_global_stream_follows_what_the_caller_may_see,
    typing_over_http_reaches_the_other_side,
    echo_namespace_is_off_by_default
);
#[cfg(feature = "echo")]
on_both_stores!(@with echo_on; echo_namespace_relays_in_order);
on_both_stores!(@with trusting; sockets_hold_under_unlucky_input);
on_both_stores!(a_linked_visitors_socket_goes_on_as_the_account);

async fn a_linked_visitors_socket_goes_on_as_the_account(app: TestApp) {
    node(
        &app,
        "linked.mjs",
        &[
            ("VISITOR", uuid::Uuid::new_v4().to_string()),
            (
                "USER_TOKEN",
                token(&app, "newly-signed-in", Role::Customer, None),
            ),
            (
                "STRANGER_TOKEN",
                token(&app, "stranger", Role::Customer, None),
            ),
        ],
    )
    .await;
}

fn trusting(s: &mut chatdesk_server::Settings) {
    s.trust_unverified_user_ids = true;
}

async fn sockets_hold_under_unlucky_input(app: TestApp) {
    node(
        &app,
        "hardening.mjs",
        &[
            ("USER_TOKEN", token(&app, "hana", Role::Customer, None)),
            ("AGENT_TOKEN", token(&app, "agent-h", Role::Agent, None)),
        ],
    )
    .await;
}

#[cfg(feature = "echo")]
fn echo_on(s: &mut chatdesk_server::Settings) {
    s.echo_namespace = true;
}

#[cfg(feature = "echo")]
async fn echo_namespace_relays_in_order(app: TestApp) {
    let report = node(&app, "echo.mjs", &[("ECHO", "on".into())]).await;
    assert_eq!(report["relayed"], 2, "{report}");
}

async fn echo_namespace_is_off_by_default(app: TestApp) {
    let report = node(&app, "echo.mjs", &[("ECHO", "off".into())]).await;
    assert_eq!(report["refused"], true, "{report}");
}

pub(crate) fn token(app: &TestApp, sub: &str, role: Role, business: Option<&str>) -> String {
    match app.token(sub, role, business) {
        As::Token(t) => t,
        _ => unreachable!(),
    }
}

/// Run one of tests/js/*.mjs against the app; its last line is a JSON report.
pub(crate) async fn node(app: &TestApp, script: &str, env: &[(&str, String)]) -> Value {
    node_at(&app.base, script, env).await
}

/// Run one of tests/js/*.mjs against the server at `base`; its last line is a JSON report.
pub(crate) async fn node_at(base: &str, script: &str, env: &[(&str, String)]) -> Value {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js");
    assert!(
        std::path::Path::new(dir).join("node_modules/socket.io-client").exists(),
        "socket.io-client is not installed: run `npm ci --prefix crates/chatdesk-server/tests/js` (scripts/test does)"
    );
    let mut cmd = tokio::process::Command::new("node");
    cmd.arg(format!("{dir}/{script}"))
        .env("CHATDESK_URL", base)
        .kill_on_drop(true);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = tokio::time::timeout(Duration::from_secs(60), cmd.output())
        .await
        .expect("node finished in time")
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{script} failed:\n{}\n{stdout}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_str(stdout.lines().last().expect("a report")).expect("a JSON report")
}

async fn seed_004_react_flow(app: TestApp) {
    let report = node(
        &app,
        "seed004_flow.mjs",
        &[
            ("USER_TOKEN", token(&app, "7", Role::Customer, None)),
            ("USER2_TOKEN", token(&app, "8", Role::Customer, None)),
            ("USER2_ID", "8".into()),
            ("ADMIN_TOKEN", token(&app, "1", Role::Admin, None)),
        ],
    )
    .await;
    assert!(report["conversationId"].as_i64().is_some(), "{report}");
    // What the sockets did is in the database: two messages, read by the user.
    let user = app.customer("7");
    let (_, list) = app.get("/v1/sessions", &user).await;
    let s = &list["sessions"][0];
    assert_eq!(s["last_seq"], 2);
    assert_eq!(
        s["status"], "active",
        "the admin's reply took the conversation"
    );
    let (_, unread) = app.get("/v1/me/unread", &user).await;
    assert_eq!(unread["total"], 0);
}

async fn reconnect_with_since_seq_is_gap_free(app: TestApp) {
    let report = node(
        &app,
        "reconnect.mjs",
        &[
            ("USER_TOKEN", token(&app, "u1", Role::Customer, None)),
            ("AGENT_TOKEN", token(&app, "agent", Role::Agent, None)),
            ("STRANGER_TOKEN", token(&app, "u2", Role::Customer, None)),
        ],
    )
    .await;
    assert_eq!(report["replayedAfterReconnect"], 35);
}

async fn bad_credentials_are_refused(app: TestApp) {
    node(&app, "refused.mjs", &[]).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_seeds_bare_authenticate_works_in_dev_mode_over_both_transports() {
    run_with(
        Kind::Sqlite,
        |s| s.dev = true,
        |app| async move {
            let report = node(&app, "dev_flow.mjs", &[]).await;
            assert_eq!(report["transport"], "polling");
        },
    )
    .await;
}

/// A minimal SSE reader: events as (event, id, data).
pub(crate) struct Sse {
    body: std::pin::Pin<Box<dyn futures::Stream<Item = reqwest::Result<bytes::Bytes>> + Send>>,
    buf: String,
}

#[derive(Debug)]
pub(crate) struct Frame {
    pub(crate) event: String,
    pub(crate) id: Option<String>,
    pub(crate) data: Value,
}

impl Sse {
    pub(crate) async fn open(
        app: &TestApp,
        path: &str,
        who: &As,
        last_event_id: Option<&str>,
    ) -> Result<Self, (StatusCode, Value)> {
        let mut rb = app.request(reqwest::Method::GET, path, who);
        if let Some(id) = last_event_id {
            rb = rb.header("Last-Event-ID", id);
        }
        let r = rb.send().await.unwrap();
        if r.status() != StatusCode::OK {
            return Err(crate::harness::split(r).await);
        }
        assert!(r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("text/event-stream"));
        Ok(Self {
            body: Box::pin(r.bytes_stream()),
            buf: String::new(),
        })
    }

    /// The next event that is not a comment, within five seconds.
    pub(crate) async fn next(&mut self) -> Frame {
        loop {
            if let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let (mut event, mut id, mut data) = (String::from("message"), None, String::new());
                for line in block.lines() {
                    if let Some(v) = line.strip_prefix("event:") {
                        event = v.trim().to_owned();
                    } else if let Some(v) = line.strip_prefix("id:") {
                        id = Some(v.trim().to_owned());
                    } else if let Some(v) = line.strip_prefix("data:") {
                        data.push_str(v.trim_start());
                    }
                }
                if data.is_empty() {
                    continue; // a keep-alive comment
                }
                return Frame {
                    event,
                    id,
                    data: serde_json::from_str(&data).unwrap(),
                };
            }
            let chunk = tokio::time::timeout(Duration::from_secs(5), self.body.next())
                .await
                .expect("an event within 5 s")
                .expect("stream open")
                .unwrap();
            self.buf.push_str(&String::from_utf8_lossy(&chunk));
        }
    }

    pub(crate) async fn next_message(&mut self) -> Frame {
        loop {
            let f = self.next().await;
            if f.event == "newMessage" {
                return f;
            }
        }
    }
}

async fn sse_session_stream_resumes_exactly(app: TestApp) {
    let me = app.customer("sse-user");
    let agent = app.agent("sse-agent", "default");
    let id = app.open(&me, json!({})).await;
    for i in 1..=3 {
        app.send(&me, &id, &format!("m{i}")).await;
    }
    let path = format!("/v1/sessions/{id}/events");
    let mut stream = Sse::open(&app, &path, &me, Some("1")).await.unwrap();
    let a = stream.next_message().await;
    let b = stream.next_message().await;
    assert_eq!(
        (a.id.as_deref(), b.id.as_deref()),
        (Some("2"), Some("3")),
        "the backlog after Last-Event-ID"
    );
    assert_eq!(a.data["content"], "m2");
    assert_eq!(
        (a.data["isRead"].clone(), b.data["isRead"].clone()),
        (json!(false), json!(false))
    );
    app.send(&agent, &id, "live").await;
    let live = stream.next_message().await;
    assert_eq!(
        (live.id.as_deref(), live.data["content"].as_str()),
        (Some("4"), Some("live"))
    );
    // Read receipts and typing from the other side arrive too.
    app.post(
        &format!("/v1/sessions/{id}/read"),
        &agent,
        json!({"up_to_seq": 4}),
    )
    .await;
    let read = stream.next().await;
    assert_eq!(
        (read.event.as_str(), read.data["upToSeq"].as_i64()),
        ("messagesRead", Some(4))
    );
    drop(stream);

    // Away for three messages; resume from 4 while more are being sent.
    for i in 5..=7 {
        app.send(&agent, &id, &format!("m{i}")).await;
    }
    let mut stream = Sse::open(&app, &path, &me, Some("4")).await.unwrap();
    let sender = {
        let (app, agent, id) = (app.clone(), agent.clone(), id.clone());
        tokio::spawn(async move {
            for i in 8..=20 {
                app.send(&agent, &id, &format!("m{i}")).await;
            }
        })
    };
    let mut seqs = Vec::new();
    while seqs.len() < 16 {
        seqs.push(
            stream
                .next_message()
                .await
                .id
                .unwrap()
                .parse::<i64>()
                .unwrap(),
        );
    }
    sender.await.unwrap();
    assert_eq!(seqs, (5..=20).collect::<Vec<_>>(), "no gap, no duplicate");

    let stranger = app.customer("nosy");
    let refused = Sse::open(&app, &path, &stranger, None).await.err().unwrap();
    assert_error(&refused, StatusCode::NOT_FOUND, "not_found");
    let bad = Sse::open(&app, &path, &me, Some("yesterday"))
        .await
        .err()
        .unwrap();
    assert_error(&bad, StatusCode::BAD_REQUEST, "invalid_last_event_id");
    // A replay says which messages the other side has read, as seed 004's REST does: the
    // agent read up to 4; its own message 4 is unread by the customer.
    let mut again = Sse::open(&app, &path, &me, Some("0")).await.unwrap();
    let mut read = Vec::new();
    for _ in 0..5 {
        let m = again.next_message().await;
        read.push(m.data["isRead"].as_bool());
    }
    assert_eq!(
        read,
        [true, true, true, false, false].map(Some).to_vec(),
        "messages 1-5"
    );
}

async fn sse_global_stream_follows_what_the_caller_may_see(app: TestApp) {
    let agent = app.agent("shop-agent", "shop");
    let mut stream = Sse::open(&app, "/v1/events", &agent, None).await.unwrap();
    let alice = app.customer("alice");
    let elsewhere = app.open(&alice, json!({"business_id": "elsewhere"})).await;
    app.send(&alice, &elsewhere, "not for the shop").await;
    let shop = app.open(&alice, json!({"business_id": "shop"})).await;
    let created = stream.next().await;
    assert_eq!(
        (created.event.as_str(), created.data["id"].as_str()),
        ("sessionCreated", Some(shop.as_str()))
    );
    app.send(&alice, &shop, "for the shop").await;
    let m = stream.next_message().await;
    assert_eq!(
        m.data["content"], "for the shop",
        "the other tenant's message never arrived"
    );
    let resume_from = m.id.clone().unwrap();
    assert_eq!(resume_from, format!("{shop}:1"));
    drop(stream);

    // While away: more in this session and a new one.
    app.send(&alice, &shop, "missed 1").await;
    let bob = app.customer("bob");
    let other = app.open(&bob, json!({"business_id": "shop"})).await;
    app.send(&bob, &other, "missed 2").await;
    let mut stream = Sse::open(&app, "/v1/events", &agent, Some(&resume_from))
        .await
        .unwrap();
    let mut contents = vec![stream.next_message().await.data["content"]
        .as_str()
        .unwrap()
        .to_owned()];
    contents.push(
        stream.next_message().await.data["content"]
            .as_str()
            .unwrap()
            .to_owned(),
    );
    contents.sort();
    assert_eq!(contents, vec!["missed 1", "missed 2"]);

    // A customer's global stream carries only their own sessions.
    let mut mine = Sse::open(&app, "/v1/events", &bob, None).await.unwrap();
    app.send(&alice, &shop, "alice again").await;
    app.send(&bob, &other, "bob again").await;
    assert_eq!(mine.next_message().await.data["content"], "bob again");
}

async fn typing_over_http_reaches_the_other_side(app: TestApp) {
    let me = app.customer("typist");
    let agent = app.agent("typing-agent", "default");
    let id = app.open(&me, json!({})).await;
    app.send(&me, &id, "hello").await;
    let mut stream = Sse::open(&app, &format!("/v1/sessions/{id}/events"), &me, None)
        .await
        .unwrap();
    let typing = format!("/v1/sessions/{id}/typing");
    let (status, _) = app.post(&typing, &agent, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = app.post(&typing, &agent, json!({"is_typing": false})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    // One's own typing is not echoed back: only the agent's two notices arrive.
    let (status, _) = app.post(&typing, &me, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for expected in [true, false] {
        let f = stream.next().await;
        assert_eq!(f.event, "userTyping", "{f:?}");
        assert_eq!(f.data["isTyping"], expected, "{f:?}");
        assert_eq!(f.data["userId"], "typing-agent", "{f:?}");
    }
    app.send(&agent, &id, "after typing").await;
    assert_eq!(stream.next().await.event, "newMessage");

    assert_error(
        &app.post(&typing, &agent, json!({"is_typing": "yes"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    let stranger = app.customer("not-in-it");
    assert_error(
        &app.post(&typing, &stranger, json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // The default allowance (5 at once, one a second) is spent by a flood, and said so.
    let mut limited = None;
    for _ in 0..20 {
        let r = app
            .request(reqwest::Method::POST, &typing, &me)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        if r.status() == StatusCode::TOO_MANY_REQUESTS {
            limited = Some(r);
            break;
        }
    }
    let r = limited.expect("a flood of typing notices is limited");
    assert!(r.headers().contains_key("retry-after"), "{r:?}");
    assert_error(
        &crate::harness::split(r).await,
        StatusCode::TOO_MANY_REQUESTS,
        "rate_limited",
    );
    // Another caller in the same session has its own allowance.
    let (status, _) = app.post(&typing, &agent, json!({})).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn notes_files_edits_and_ratings_over_socket_io() {
    crate::harness::run(Kind::Sqlite, |app: TestApp| async move {
        let report = node(
            &app,
            "depth.mjs",
            &[
                (
                    "CUSTOMER_TOKEN",
                    token(&app, "depth-customer", Role::Customer, Some("shop")),
                ),
                (
                    "AGENT_TOKEN",
                    token(&app, "depth-agent", Role::Agent, Some("shop")),
                ),
            ],
        )
        .await;
        assert_eq!(report["ok"], true, "{report}");
    })
    .await;
}
