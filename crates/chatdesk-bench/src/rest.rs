//! `rest`: 64 connections hammering three requests in turn — open a session with
//! `force_new`, fetch one session, fetch a page of 50 messages — each for a fixed time.
//! A fourth row, `GET /healthz` (a constant body, no identity, no store), is the scale:
//! what the HTTP stack and the load generator alone reach on this machine, as `echo` is for
//! `fanout`.
//!
//! Two more rows repeat the reads while messages are written alongside them at a steady
//! rate, as on a server where agents read while chats go on. On SQLite a read that finds
//! the WAL moved since its connection's last read starts from an empty page cache and a
//! fresh file mapping, which the read-only phases never show.

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
    // (row, target, request, whether messages are written alongside)
    let cases = [
        (
            "POST /v1/sessions (force_new)",
            Target::AtLeast(20_000.0),
            "post",
            false,
        ),
        (
            "GET /v1/sessions/{id}",
            Target::AtLeast(60_000.0),
            "get",
            false,
        ),
        ("GET 50 messages", Target::AtLeast(20_000.0), "page", false),
        (
            "GET /healthz (HTTP alone, for scale)",
            Target::Report,
            "healthz",
            false,
        ),
        (
            "GET /v1/sessions/{id}, messages written alongside",
            Target::Report,
            "get",
            true,
        ),
        (
            "GET 50 messages, messages written alongside",
            Target::Report,
            "page",
            true,
        ),
    ];
    let writers = Writers::open(&setup, base, &token).await?;
    let mut rows = Vec::new();
    for (name, target, kind, alongside) in cases {
        let deadline = Instant::now() + duration;
        let writing = alongside.then(|| writers.start(base, &token, deadline));
        let (count, mut lat) = hammer(base, &token, &sid, kind, connections, deadline).await?;
        let rate = count as f64 / duration.as_secs_f64();
        let mut note = format!(
            "{connections} connections; p50 {:.2} ms, p99 {:.2} ms",
            lat.percentile_ms(50.0),
            lat.percentile_ms(99.0)
        );
        if let Some(writing) = writing {
            let written = writing.await??;
            note += &format!(
                "; {:.0} messages/s written alongside",
                written as f64 / duration.as_secs_f64()
            );
        }
        rows.push(row("rest", name, rate, "req/s", target, note));
    }
    Ok(rows)
}

/// Messages written while reads run: [`WRITERS`] clients, each posting to a session of its
/// own, paced together at [`WRITE_RATE`] — a steady stream, not a second load test.
const WRITE_RATE: u32 = 1_000;
const WRITERS: u32 = 16;

struct Writers {
    sessions: Vec<Arc<String>>,
}

impl Writers {
    async fn open(client: &reqwest::Client, base: &str, token: &str) -> anyhow::Result<Self> {
        let mut sessions = Vec::new();
        for _ in 0..WRITERS {
            let sid = open_session(client, base, token, &json!({"force_new": true})).await?;
            sessions.push(Arc::new(sid));
        }
        Ok(Self { sessions })
    }

    /// Write until `deadline`; the task answers how many messages were written.
    fn start(
        &self,
        base: &str,
        token: &str,
        deadline: Instant,
    ) -> tokio::task::JoinHandle<anyhow::Result<u64>> {
        let every = Duration::from_secs(1) * WRITERS / WRITE_RATE;
        let tasks: Vec<_> = self
            .sessions
            .iter()
            .map(|sid| {
                let url = format!("{base}/v1/sessions/{sid}/messages");
                let token = token.to_owned();
                tokio::spawn(async move {
                    let client = reqwest::Client::new();
                    let mut tick = tokio::time::interval(every);
                    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
                    let mut n = 0u64;
                    while Instant::now() < deadline {
                        tick.tick().await;
                        client
                            .post(&url)
                            .bearer_auth(&token)
                            .json(&json!({"content": format!("alongside {n}")}))
                            .send()
                            .await?
                            .error_for_status()?;
                        n += 1;
                    }
                    anyhow::Ok(n)
                })
            })
            .collect();
        tokio::spawn(async move {
            let mut total = 0;
            for t in tasks {
                total += t.await??;
            }
            Ok(total)
        })
    }
}

async fn hammer(
    base: &str,
    token: &str,
    sid: &str,
    kind: &str,
    connections: usize,
    deadline: Instant,
) -> anyhow::Result<(u64, Samples)> {
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
