//! Webhooks against a real local receiver: signed deliveries, retries that keep their id,
//! and a queue that survives a restart.

use crate::harness::{assert_error, on_both_stores, start, As, TestApp, SECRET};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxumStatus};
use axum::routing::post;
use chatdesk_core::identity::Role;
use chatdesk_server::Settings;
use reqwest::StatusCode;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(Clone, Debug)]
pub(crate) struct Received {
    pub headers: HeaderMap,
    pub body: String,
}

impl Received {
    /// The delivery's id: the same on every attempt of one delivery.
    pub fn delivery_id(&self) -> String {
        self.headers["x-chatdesk-delivery"]
            .to_str()
            .unwrap()
            .to_owned()
    }
}

/// A webhook receiver on a local port that keeps what it was sent.
#[derive(Clone, Default)]
pub(crate) struct Receiver {
    pub got: Arc<Mutex<Vec<Received>>>,
    /// Answer 500 to this many requests first.
    fail_first: Arc<Mutex<usize>>,
}

impl Receiver {
    async fn serve_on(self, listener: tokio::net::TcpListener) -> tokio::task::JoinHandle<()> {
        let app = axum::Router::new()
            .route("/hook", post(receive))
            .with_state(self);
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        })
    }

    pub async fn start(self) -> (String, tokio::task::JoinHandle<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/hook", listener.local_addr().unwrap());
        (url, self.serve_on(listener).await)
    }

    pub async fn wait_for(&self, n: usize) -> Vec<Received> {
        let started = Instant::now();
        loop {
            let got = self.got.lock().unwrap().clone();
            if got.len() >= n {
                return got;
            }
            assert!(
                started.elapsed() < Duration::from_secs(15),
                "only {} of {n} deliveries arrived",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> AxumStatus {
    r.got.lock().unwrap().push(Received { headers, body });
    let mut fail = r.fail_first.lock().unwrap();
    if *fail > 0 {
        *fail -= 1;
        AxumStatus::INTERNAL_SERVER_ERROR
    } else {
        AxumStatus::NO_CONTENT
    }
}

/// Check `X-Chatdesk-Signature` the way a receiver would.
fn verify(secret: &str, r: &Received) {
    let header = r.headers["x-chatdesk-signature"].to_str().unwrap();
    let t: i64 = header
        .split(',')
        .next()
        .unwrap()
        .strip_prefix("t=")
        .unwrap()
        .parse()
        .unwrap();
    assert_eq!(
        header,
        chatdesk_server::webhooks::sign(secret, t, &r.body),
        "signature over t.body with the secret"
    );
    assert!((chrono::Utc::now().timestamp() - t).abs() < 60);
}

/// A webhook's delivery log once its newest delivery shows as delivered (within 2 s).
async fn delivered_log(app: &TestApp, admin: &As, hook: i64) -> Value {
    for _ in 0..100 {
        let (_, log) = app
            .get(&format!("/v1/webhooks/{hook}/deliveries"), admin)
            .await;
        if log[0]["status"] == "delivered" {
            return log;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the newest delivery never showed as delivered");
}

/// Settings for a server whose SQLite database outlives it (in `dir`), for restarts.
fn on_file(dir: &tempfile::TempDir) -> Settings {
    let mut settings = Settings::for_database(format!(
        "sqlite://{}",
        dir.path().join("hooks.db").display()
    ));
    settings.jwt_secret = Some(SECRET.into());
    settings
}

/// Quick retries, and the test receivers (on loopback) allowed as destinations.
pub(crate) fn quick_retries(s: &mut Settings) {
    s.webhook_retry_base_ms = 50;
    s.webhook_allowed_networks = vec!["127.0.0.0/8".into()];
}

/// A receiver subscribed, as the shop's admin, to `event`; keep the handle while it listens.
pub(crate) async fn shop_receiver(
    app: &TestApp,
    event: &str,
) -> (Receiver, tokio::task::JoinHandle<()>) {
    receiver_for(app, "shop", &[event]).await
}

/// A receiver subscribed, as `business`'s admin, to `events`.
pub(crate) async fn receiver_for(
    app: &TestApp,
    business: &str,
    events: &[&str],
) -> (Receiver, tokio::task::JoinHandle<()>) {
    let receiver = Receiver::default();
    let (url, server) = receiver.clone().start().await;
    let admin = app.token("boss", Role::Admin, Some(business));
    let (status, body) = app
        .post(
            "/v1/webhooks",
            &admin,
            json!({"url": url, "events": events}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    (receiver, server)
}

on_both_stores!(@with quick_retries; signed_deliveries_for_the_subscribed_events, a_failing_receiver_gets_retries_with_the_same_delivery_id, an_assignment_is_delivered);
on_both_stores!(@with few_webhooks; private_destinations_are_refused_and_webhooks_are_capped);
on_both_stores!(@with quick_retries; an_admin_sees_a_webhook_its_deliveries_and_can_ping_it);

/// An admin's view of one webhook: the webhook itself, a test ping, and the delivery log
/// saying what was sent, what failed and why.
async fn an_admin_sees_a_webhook_its_deliveries_and_can_ping_it(app: TestApp) {
    let receiver = Receiver {
        fail_first: Arc::new(Mutex::new(1)),
        ..Receiver::default()
    };
    let (url, _server) = receiver.clone().start().await;
    let admin = app.token("boss", Role::Admin, Some("shop"));
    let secret = "whsec_ping_secret_0123456789";
    let (_, hook) = app
        .post(
            "/v1/webhooks",
            &admin,
            json!({"url": url, "events": ["message.created"], "secret": secret}),
        )
        .await;
    let id = hook["id"].as_i64().unwrap();
    let (s, one) = app.get(&format!("/v1/webhooks/{id}"), &admin).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (one["id"].as_i64(), one["url"].as_str()),
        (Some(id), Some(url.as_str()))
    );
    assert!(one.get("secret").is_none());
    // Another tenant's admin finds nothing.
    let other = app.token("eve", Role::Admin, Some("other"));
    for path in [
        format!("/v1/webhooks/{id}"),
        format!("/v1/webhooks/{id}/deliveries"),
    ] {
        assert_error(
            &app.get(&path, &other).await,
            StatusCode::NOT_FOUND,
            "not_found",
        );
    }
    assert_error(
        &app.post(&format!("/v1/webhooks/{id}/ping"), &other, json!({}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let (s, queued) = app
        .post(&format!("/v1/webhooks/{id}/ping"), &admin, json!({}))
        .await;
    assert_eq!(s, StatusCode::ACCEPTED, "{queued}");
    // The first attempt fails (the receiver answers 500), the retry is delivered, signed.
    let got = receiver.wait_for(2).await;
    assert_eq!(got[1].headers["x-chatdesk-event"], "ping");
    assert_eq!(
        got[1].headers["x-chatdesk-delivery"].to_str().unwrap(),
        queued["delivery_id"].as_str().unwrap()
    );
    verify(secret, &got[1]);
    let log = delivered_log(&app, &admin, id).await;
    assert_eq!(log[0]["event"], "ping");
    assert_eq!(log[0]["attempts"], 2);
    assert_eq!(log[0]["last_error"], serde_json::Value::Null);

    // Changed in place: events and secret; the next ping is signed with the new secret.
    let path = format!("/v1/webhooks/{id}");
    let new_secret = "whsec_rotated_secret_98765";
    let change = json!({"events": ["session.closed", "message.created"], "secret": new_secret});
    let (s, changed) = app.patch(&path, &admin, change.clone()).await;
    assert_eq!(s, StatusCode::OK, "{changed}");
    assert_eq!(
        (
            changed["id"].as_i64(),
            changed["url"].as_str(),
            changed["events"].clone()
        ),
        (
            Some(id),
            Some(url.as_str()),
            json!(["session.closed", "message.created"])
        )
    );
    assert!(changed.get("secret").is_none());
    assert_error(
        &app.patch(&path, &other, change).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    for (bad, code) in [
        (json!({"events": ["nope"]}), "invalid_event"),
        (json!({"events": []}), "invalid_event"),
        (json!({"secret": "short"}), "weak_secret"),
        (
            json!({"secret": "sixteen chars\u{0} and more"}),
            "invalid_secret",
        ),
        (json!({"secret": "x".repeat(257)}), "invalid_secret"),
        (json!({"url": "ftp://x"}), "invalid_url"),
        (
            json!({"url": "http://169.254.169.254/latest"}),
            "webhook_destination_refused",
        ),
    ] {
        assert_error(
            &app.patch(&path, &admin, bad).await,
            StatusCode::BAD_REQUEST,
            code,
        );
    }
    app.post(&format!("{path}/ping"), &admin, json!({})).await;
    let got = receiver.wait_for(3).await;
    verify(new_secret, &got[2]);
}

fn few_webhooks(s: &mut Settings) {
    s.webhook_retry_base_ms = 50;
    s.max_webhooks_per_tenant = 2;
}

/// By default nothing on this machine's loopback (or any private or link-local address) is
/// a destination: a literal is refused at once, a name that resolves to one at delivery.
async fn private_destinations_are_refused_and_webhooks_are_capped(app: TestApp) {
    let receiver = Receiver::default();
    let (url, _server) = receiver.clone().start().await;
    let admin = app.token("boss", Role::Admin, None);
    for literal in [
        url.clone(),
        "http://169.254.169.254/latest/meta-data".to_owned(),
        "http://[::1]:9/hook".to_owned(),
        "http://10.0.0.1/hook".to_owned(),
    ] {
        assert_error(
            &app.post(
                "/v1/webhooks",
                &admin,
                json!({"url": literal, "events": ["message.created"]}),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "webhook_destination_refused",
        );
    }
    // The same receiver by name: accepted, but never reached.
    let by_name = url.replace("127.0.0.1", "localhost");
    let (s, _) = app
        .post(
            "/v1/webhooks",
            &admin,
            json!({"url": by_name, "events": ["message.created"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let alice = app.customer("alice");
    let id = app.open(&alice, json!({})).await;
    app.send(&alice, &id, "to nowhere private").await;
    // Several retries' worth of time (retries start at 50 ms).
    tokio::time::sleep(Duration::from_millis(600)).await;
    assert!(receiver.got.lock().unwrap().is_empty());
    // At most two per tenant here.
    let public = json!({"url": "https://hooks.example.com/x", "events": ["message.created"]});
    let (s, _) = app.post("/v1/webhooks", &admin, public.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_error(
        &app.post("/v1/webhooks", &admin, public).await,
        StatusCode::CONFLICT,
        "webhook_limit_reached",
    );
}

async fn signed_deliveries_for_the_subscribed_events(app: TestApp) {
    let receiver = Receiver::default();
    let (url, _server) = receiver.clone().start().await;
    let admin = app.token("boss", Role::Admin, Some("shop"));
    let secret = "whsec_test_secret_0123456789";
    let (s, hook) = app
        .post("/v1/webhooks", &admin, json!({"url": url, "events": ["session.created", "message.created", "session.closed"], "secret": secret}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{hook}");
    assert_eq!(hook["secret"], secret);
    // Another tenant's subscription hears nothing of this one.
    let other = Receiver::default();
    let (other_url, _o) = other.clone().start().await;
    let key = app.api_key("other").await;
    let (s, _) = app
        .post(
            "/v1/webhooks",
            &key,
            json!({"url": other_url, "events": ["message.created"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);

    let alice = app.customer("alice");
    let id = app.open(&alice, json!({"business_id": "shop"})).await;
    app.send(&alice, &id, "hello webhook").await;
    app.post(&format!("/v1/sessions/{id}/end"), &alice, json!({}))
        .await;

    // The customer's message, and the system's "Conversation closed" note.
    let got = receiver.wait_for(4).await;
    let mut events: Vec<_> = got
        .iter()
        .map(|r| r.headers["x-chatdesk-event"].to_str().unwrap().to_owned())
        .collect();
    events.sort();
    assert_eq!(
        events,
        vec![
            "message.created",
            "message.created",
            "session.closed",
            "session.created"
        ]
    );
    for r in &got {
        verify(secret, r);
        let body: Value = serde_json::from_str(&r.body).unwrap();
        assert_eq!(
            body["id"],
            r.headers["x-chatdesk-delivery"].to_str().unwrap(),
            "the body names its delivery id"
        );
        assert_eq!(
            body["event"],
            r.headers["x-chatdesk-event"].to_str().unwrap()
        );
        match body["event"].as_str().unwrap() {
            "message.created" => {
                let m = &body["data"]["message"];
                assert!(
                    (m["content"] == "hello webhook" && m["sender_type"] == "customer")
                        || (m["content"] == "Conversation closed" && m["sender_type"] == "system"),
                    "{m}"
                );
            }
            "session.closed" => assert_eq!(body["data"]["session"]["status"], "closed"),
            _ => assert_eq!(body["data"]["session"]["id"], id.as_str()),
        }
    }
    assert!(
        other.got.lock().unwrap().is_empty(),
        "the other tenant's receiver got nothing"
    );

    let (_, list) = app.get("/v1/webhooks", &admin).await;
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(list[0].get("secret").is_none(), "secrets are shown once");
    let hook_id = hook["id"].as_i64().unwrap();
    assert_error(
        &app.delete(&format!("/v1/webhooks/{hook_id}"), &key).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (s, _) = app.delete(&format!("/v1/webhooks/{hook_id}"), &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);

    // Who may, and what is valid.
    let body = json!({"url": url, "events": ["message.created"]});
    assert_error(
        &app.post("/v1/webhooks", &alice, body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.post("/v1/webhooks", &app.agent("ag", "shop"), body)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    for (bad, code) in [
        (
            json!({"url": "ftp://x", "events": ["message.created"]}),
            "invalid_url",
        ),
        (
            json!({"url": url, "events": ["message.exploded"]}),
            "invalid_event",
        ),
        (json!({"url": url, "events": []}), "invalid_event"),
        (
            json!({"url": url, "events": ["message.created"], "secret": "short"}),
            "weak_secret",
        ),
    ] {
        assert_error(
            &app.post("/v1/webhooks", &admin, bad).await,
            StatusCode::BAD_REQUEST,
            code,
        );
    }
}

async fn a_failing_receiver_gets_retries_with_the_same_delivery_id(app: TestApp) {
    let receiver = Receiver {
        fail_first: Arc::new(Mutex::new(2)),
        ..Receiver::default()
    };
    let (url, _server) = receiver.clone().start().await;
    let admin = app.token("boss", Role::Admin, None);
    app.post(
        "/v1/webhooks",
        &admin,
        json!({"url": url, "events": ["message.created"]}),
    )
    .await;
    let alice = app.customer("alice");
    let id = app.open(&alice, json!({})).await;
    app.send(&alice, &id, "retry me").await;
    let got = receiver.wait_for(3).await;
    let ids: Vec<_> = got.iter().map(Received::delivery_id).collect();
    assert!(
        ids.iter().all(|i| *i == ids[0]),
        "every retry carries the same delivery id: {ids:?}"
    );
    assert!(
        got.iter().all(|r| r.body == got[0].body),
        "and the same body"
    );
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        receiver.got.lock().unwrap().len(),
        3,
        "nothing more once it was accepted"
    );
}

/// A delivery queued while the receiver is down is still delivered after the server restarts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_survive_a_restart() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = on_file(&dir);
    quick_retries(&mut settings);
    // A port with nobody listening yet.
    let parked = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = parked.local_addr().unwrap();
    drop(parked);
    let url = format!("http://{addr}/hook");

    let running = start(settings.clone()).await;
    let app = running.app.clone();
    let admin = app.token("boss", Role::Admin, None);
    let (s, _) = app
        .post(
            "/v1/webhooks",
            &admin,
            json!({"url": url, "events": ["message.created"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let alice = app.customer("alice");
    let id = app.open(&alice, json!({})).await;
    let sent = app.send(&alice, &id, "while the receiver is down").await;
    tokio::time::sleep(Duration::from_millis(300)).await; // a few refused attempts
    running.stop().await;

    let receiver = Receiver::default();
    let _server = receiver
        .clone()
        .serve_on(tokio::net::TcpListener::bind(addr).await.unwrap())
        .await;
    let restarted = start(settings).await;
    let got = receiver.wait_for(1).await;
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["data"]["message"]["id"], sent["id"]);
    restarted.stop().await;
    let _ = As::Nobody;
}

/// An attempt under way when the server stops is handed back: it goes out as soon as the
/// server is up again, not when its lease would have run out.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_attempt_cut_by_shutdown_goes_out_at_the_next_start() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = on_file(&dir);
    settings.webhook_timeout_secs = 30;
    quick_retries(&mut settings);
    // A receiver that takes the request and never answers.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = silent.local_addr().unwrap();
    let (got_request, request_seen) = tokio::sync::oneshot::channel::<()>();
    let hold = tokio::spawn(async move {
        let (mut socket, _) = silent.accept().await.unwrap();
        let mut buf = [0u8; 1024];
        let _ = tokio::io::AsyncReadExt::read(&mut socket, &mut buf).await;
        let _ = got_request.send(());
        std::future::pending::<()>().await;
        drop(socket);
    });

    let running = start(settings.clone()).await;
    let app = running.app.clone();
    let admin = app.token("boss", Role::Admin, None);
    let url = format!("http://{addr}/hook");
    let (s, created) = app
        .post(
            "/v1/webhooks",
            &admin,
            json!({"url": url, "events": ["message.created"]}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let hook = created["id"].as_i64().unwrap();
    let alice = app.customer("alice");
    let id = app.open(&alice, json!({})).await;
    let sent = app.send(&alice, &id, "cut off mid-attempt").await;
    tokio::time::timeout(Duration::from_secs(10), request_seen)
        .await
        .expect("the attempt reached the receiver")
        .unwrap();
    running.stop().await;
    hold.abort();
    let _ = hold.await;

    let receiver = Receiver::default();
    let _server = receiver
        .clone()
        .serve_on(tokio::net::TcpListener::bind(addr).await.unwrap())
        .await;
    let restarted = start(settings).await;
    let got = receiver.wait_for(1).await; // 15 s at most; the old lease was 60 s
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(body["data"]["message"]["id"], sent["id"]);
    let log = delivered_log(&restarted.app, &admin, hook).await;
    assert_eq!(
        log[0]["attempts"], 1,
        "the interrupted attempt is not counted"
    );
    restarted.stop().await;
}

async fn an_assignment_is_delivered(app: TestApp) {
    let receiver = Receiver::default();
    let (url, _server) = receiver.clone().start().await;
    let admin = app.token("boss", Role::Admin, None);
    app.post(
        "/v1/webhooks",
        &admin,
        json!({"url": url, "events": ["session.assigned"]}),
    )
    .await;
    let alice = app.customer("alice");
    let id = app.open(&alice, json!({})).await;
    let (s, _) = app
        .post(
            &format!("/v1/sessions/{id}/assign"),
            &app.agent("bob", "default"),
            json!({"agent_id": "bob"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let got = receiver.wait_for(1).await;
    let body: Value = serde_json::from_str(&got[0].body).unwrap();
    assert_eq!(
        (
            body["event"].as_str(),
            body["data"]["session"]["agent_id"].as_str()
        ),
        (Some("session.assigned"), Some("bob"))
    );
}
