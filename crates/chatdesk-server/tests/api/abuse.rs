//! Abuse limits: each flood gets `429` with `Retry-After` (or a cut connection), and the
//! server holds bounded memory while it runs.

use crate::binary::Binary;
use crate::harness::{assert_error, run_with, As, Kind, TestApp};
use crate::realtime::node;
use chatdesk_core::identity::Role;
use chatdesk_server::config::Rate;
use reqwest::StatusCode;
use serde_json::json;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A `429 rate_limited`, in the native shape or a seed door's (`{code, statusCode}`).
fn rate_limited(got: &(StatusCode, serde_json::Value)) {
    if got.1.get("statusCode").is_some() {
        assert_eq!(got.0, StatusCode::TOO_MANY_REQUESTS, "{}", got.1);
        assert_eq!(got.1["code"], "rate_limited", "{}", got.1);
    } else {
        assert_error(got, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    }
}

async fn login(app: &TestApp, email: &str, password: &str) -> reqwest::Response {
    app.client
        .post(app.url("/v1/auth/login"))
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logins_are_limited_per_account_and_per_address() {
    run_with(
        Kind::Sqlite,
        |s| {
            s.limits.login_per_ip = Rate::new(8, 3600.0);
            s.limits.login_failures_per_account = Rate::new(3, 3600.0);
        },
        |app| async move {
            app.account("guessed@example.com", "agent").await;
            app.account("other@example.com", "agent").await;
            for _ in 0..3 {
                let r = login(&app, "guessed@example.com", "wrong").await;
                assert_eq!(r.status(), StatusCode::UNAUTHORIZED);
            }
            // The right password no longer helps: the account's failures are spent.
            let r = login(&app, "Guessed@example.com", "password").await;
            assert!(r.headers().contains_key("retry-after"), "{r:?}");
            rate_limited(&crate::harness::split(r).await);
            // Another account from the same address is not affected.
            let r = login(&app, "other@example.com", "password").await;
            assert_eq!(r.status(), StatusCode::OK);
            // Until the address's own allowance (8) is spent; seed 004's door shares it.
            for _ in 0..3 {
                let r = login(&app, "other@example.com", "password").await;
                assert_eq!(r.status(), StatusCode::OK);
            }
            let r = app
                .client
                .post(app.url("/auth/login"))
                .json(&json!({"email": "other@example.com", "password": "password"}))
                .send()
                .await
                .unwrap();
            let retry: u64 = r.headers()["retry-after"]
                .to_str()
                .unwrap()
                .parse()
                .unwrap();
            assert!((1..=3600).contains(&retry), "{retry}");
            rate_limited(&crate::harness::split(r).await);
        },
    )
    .await;
}

/// Memory the server holds is bounded by the hashing limit, not by the number of attempts:
/// each argon2 hash holds ~19 MB while it runs, so 64 at once would be ~1.2 GB.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_logins_hash_a_bounded_number_at_once() {
    let server = Binary::start_fresh(&[
        ("CHATDESK_LIMITS__LOGIN_PER_IP", "{burst=0, every_secs=1}"),
        (
            "CHATDESK_LIMITS__LOGIN_FAILURES_PER_ACCOUNT",
            "{burst=0, every_secs=1}",
        ),
        ("CHATDESK_LIMITS__LOGIN_HASHING_CONCURRENCY", "2"),
    ]);
    let client = reqwest::Client::new();
    let before = server.rss_mb();
    let attempts = (0..64).map(|i| {
        let (client, url) = (client.clone(), format!("{}/v1/auth/login", server.base));
        async move {
            let body = json!({"email": format!("nobody{i}@example.com"), "password": "x"});
            client.post(url).json(&body).send().await.unwrap().status()
        }
    });
    let flood = tokio::spawn(futures::future::join_all(attempts));
    let mut peak = before;
    while !flood.is_finished() {
        peak = peak.max(server.rss_mb());
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    for s in flood.await.unwrap() {
        assert!(
            s == StatusCode::UNAUTHORIZED || s == StatusCode::TOO_MANY_REQUESTS,
            "{s}"
        );
    }
    let grew = peak - before;
    assert!(grew < 150, "the server grew by {grew} MB during the flood");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn opening_sessions_is_limited_per_address_across_doors() {
    run_with(
        Kind::Sqlite,
        |s| s.limits.session_opens_per_ip = Rate::new(5, 3600.0),
        |app| async move {
            for i in 0..4 {
                let (status, _) = app
                    .post(
                        "/v1/sessions",
                        &app.visitor(),
                        json!({"topic": format!("t{i}")}),
                    )
                    .await;
                assert_eq!(status, StatusCode::CREATED);
            }
            // Resuming is free; it does not count.
            let who = app.visitor();
            let (status, _) = app.post("/v1/sessions", &who, json!({})).await;
            assert_eq!(status, StatusCode::CREATED);
            // The allowance is spent, whichever door asks next.
            let visitor = uuid::Uuid::new_v4().to_string();
            let r = app
                .client
                .post(app.url("/api/v1/chat/session/new"))
                .json(&json!({"visitor_id": visitor}))
                .send()
                .await
                .unwrap();
            assert!(r.headers().contains_key("retry-after"));
            rate_limited(&crate::harness::split(r).await);
            rate_limited(&app.post("/v1/sessions", &app.visitor(), json!({})).await);
            // Nothing was created by the refused calls.
            let agent = app.agent("counter", "default");
            let (_, list) = app.get("/v1/sessions?limit=200", &agent).await;
            assert_eq!(list["sessions"].as_array().unwrap().len(), 5, "{list}");
        },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flooding_or_anonymous_socket_is_cut() {
    run_with(
        Kind::Sqlite,
        |s| {
            s.limits.socket_events = Rate::new(20, 1.0);
            s.limits.unauthenticated_socket_secs = 1;
        },
        |app| async move {
            let token = match app.token("flood", Role::Customer, None) {
                As::Token(t) => t,
                _ => unreachable!(),
            };
            let report = node(&app, "flood.mjs", &[("USER_TOKEN", token)]).await;
            let after = report["anonymousCutAfterMs"].as_u64().unwrap();
            assert!((900..10_000).contains(&after), "{report}");
        },
    )
    .await;
}

/// Read until the peer closes; how long that took.
async fn closed_within(stream: &mut TcpStream, limit: Duration) -> Duration {
    let started = Instant::now();
    let mut buf = [0u8; 1024];
    loop {
        match tokio::time::timeout(limit, stream.read(&mut buf)).await {
            Ok(Ok(0) | Err(_)) => return started.elapsed(),
            Ok(Ok(_)) => continue,
            Err(_) => panic!("the connection was still open after {limit:?}"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_per_address_and_slow_request_heads_are_bounded() {
    run_with(
        Kind::Sqlite,
        |s| {
            s.limits.max_connections_per_ip = 4;
            s.limits.request_head_timeout_secs = 1;
        },
        |app| async move {
            let addr = app.base.trim_start_matches("http://").to_owned();
            // Half a request head: cut after the head timeout, not held open.
            let mut slow = TcpStream::connect(&addr).await.unwrap();
            slow.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
                .await
                .unwrap();
            let took = closed_within(&mut slow, Duration::from_secs(10)).await;
            assert!(took >= Duration::from_millis(800), "{took:?}");
            // Eight connections at once, each asking once and staying open: at most four are
            // served (the test client's own pooled connection may hold one of the four).
            let mut conns = Vec::new();
            let mut served = 0;
            for _ in 0..8 {
                let mut c = TcpStream::connect(&addr).await.unwrap();
                let _ = c
                    .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                    .await;
                let mut buf = [0u8; 256];
                match tokio::time::timeout(Duration::from_secs(5), c.read(&mut buf)).await {
                    Ok(Ok(n)) if n > 0 => {
                        assert!(buf.starts_with(b"HTTP/1.1 200"));
                        served += 1;
                    }
                    Ok(_) => {}
                    Err(_) => panic!("neither served nor closed"),
                }
                conns.push(c);
            }
            assert!((3..=4).contains(&served), "{served} of 8 served");
            // Closing them gives the slots back.
            drop(conns);
            let mut ok = None;
            for _ in 0..50 {
                let fresh = reqwest::Client::new();
                if let Ok(r) = fresh.get(app.url("/healthz")).send().await {
                    ok = Some(r.status());
                    break;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            assert_eq!(ok, Some(StatusCode::OK));
        },
    )
    .await;
}

/// Catch-ups that ask for a long history and never read it: what the server holds for them
/// is bounded by `MAX_REPLAY_BYTES` per stream, not by the history's size.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unread_catch_ups_hold_bounded_memory() {
    let server = Binary::start_fresh(&[(
        "CHATDESK_LIMITS__SESSION_OPENS_PER_IP",
        "{burst=0, every_secs=1}",
    )]);
    let client = reqwest::Client::new();
    let keys = chatdesk_server::auth::jwt::JwtKeys::new(crate::harness::SECRET);
    let token = keys.issue("reader", Role::Customer, None, Duration::from_secs(600));
    let opened = server
        .call(
            reqwest::Method::POST,
            "/v1/sessions",
            &token,
            Some(json!({})),
        )
        .await;
    let id = opened["session"]["id"].as_str().unwrap().to_owned();
    // 3,000 messages of 10,000 characters: 30 MB of history.
    let text = "x".repeat(10_000);
    let sends = (0..8).map(|_| {
        let (client, url, token, text) = (
            client.clone(),
            server.url(&format!("/v1/sessions/{id}/messages")),
            token.clone(),
            text.clone(),
        );
        tokio::spawn(async move {
            for _ in 0..375 {
                let r = client
                    .post(&url)
                    .bearer_auth(&token)
                    .json(&json!({"content": text}))
                    .send()
                    .await
                    .unwrap();
                assert_eq!(r.status(), StatusCode::CREATED);
            }
        })
    });
    for s in futures::future::join_all(sends).await {
        s.unwrap();
    }
    let before = server.rss_mb();
    // Ten streams from the start of that history, never read.
    let mut streams = Vec::new();
    for _ in 0..10 {
        let r = client
            .get(server.url(&format!("/v1/sessions/{id}/events?since_seq=0")))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        streams.push(r);
    }
    let mut peak = before;
    for _ in 0..20 {
        peak = peak.max(server.rss_mb());
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let grew = peak.saturating_sub(before);
    assert!(
        grew < 200,
        "ten unread catch-ups grew the server by {grew} MB"
    );
    drop(streams);
}
