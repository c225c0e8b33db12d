//! `rest`: 64 connections hammering three requests in turn — open a session with
//! `force_new`, fetch one session, fetch a page of 50 messages — each for a fixed time.
//! A fourth row, `GET /healthz` (a constant body, no identity, no store), is the scale:
//! what the HTTP stack and the load generator alone reach on this machine, as `echo` is for
//! `fanout`.

use crate::server::{open_session, SECRET};
use crate::stats::{row, Row, Samples, Target};
use chatdesk_core::identity::Role;
use chatdesk_server::auth::jwt::JwtKeys;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

pub async fn run(base: &str, connections: usize, duration: Duration) -> anyhow::Result<Vec<Row>> {
    let token =
        JwtKeys::new(SECRET).issue("rest-user", Role::Customer, None, Duration::from_secs(3600));
    let setup = reqwest::Client::new();
    let sid = open_session(&setup, base, &token, &json!({"force_new": true})).await?;
    for i in 0..50 {
        setup
            .post(format!("{base}/v1/sessions/{sid}/messages"))
            .bearer_auth(&token)
            .json(&json!({"content": format!("message {i}")}))
            .send()
            .await?
            .error_for_status()?;
    }
    let cases = [
        (
            "POST /v1/sessions (force_new)",
            Target::AtLeast(20_000.0),
            "post",
        ),
        ("GET /v1/sessions/{id}", Target::AtLeast(60_000.0), "get"),
        ("GET 50 messages", Target::AtLeast(20_000.0), "page"),
        (
            "GET /healthz (HTTP alone, for scale)",
            Target::Report,
            "healthz",
        ),
    ];
    let mut rows = Vec::new();
    for (name, target, kind) in cases {
        let (count, mut lat) = hammer(base, &token, &sid, kind, connections, duration).await?;
        let rate = count as f64 / duration.as_secs_f64();
        rows.push(row(
            "rest",
            name,
            rate,
            "req/s",
            target,
            format!(
                "{connections} connections; p50 {:.2} ms, p99 {:.2} ms",
                lat.percentile_ms(50.0),
                lat.percentile_ms(99.0)
            ),
        ));
    }
    Ok(rows)
}

async fn hammer(
    base: &str,
    token: &str,
    sid: &str,
    kind: &str,
    connections: usize,
    duration: Duration,
) -> anyhow::Result<(u64, Samples)> {
    let deadline = Instant::now() + duration;
    let (base, token, sid) = (
        Arc::new(base.to_owned()),
        Arc::new(token.to_owned()),
        Arc::new(sid.to_owned()),
    );
    let tasks = (0..connections).map(|_| {
        let (base, token, sid, kind) = (base.clone(), token.clone(), sid.clone(), kind.to_owned());
        tokio::spawn(async move {
            let client = reqwest::Client::builder()
                .pool_max_idle_per_host(1)
                .build()?;
            let mut lat = Samples::default();
            let mut n = 0u64;
            while Instant::now() < deadline {
                let t = Instant::now();
                let req = match kind.as_str() {
                    "post" => client
                        .post(format!("{base}/v1/sessions"))
                        .json(&json!({"force_new": true})),
                    "get" => client.get(format!("{base}/v1/sessions/{sid}")),
                    "healthz" => client.get(format!("{base}/healthz")),
                    _ => client.get(format!("{base}/v1/sessions/{sid}/messages?limit=50")),
                };
                let r = req.bearer_auth(token.as_str()).send().await?;
                anyhow::ensure!(r.status().is_success(), "{kind}: HTTP {}", r.status());
                r.bytes().await?;
                lat.push(t.elapsed());
                n += 1;
            }
            anyhow::Ok((n, lat))
        })
    });
    let mut total = 0;
    let mut all = Samples::default();
    for r in futures::future::join_all(tasks).await {
        let (n, lat) = r??;
        total += n;
        all.extend(lat);
    }
    Ok((total, all))
}
