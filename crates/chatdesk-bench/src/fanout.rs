//! `fanout`: sessions each with a visitor and an agent on Socket.IO (websocket). Visitors send
//! as fast as acknowledgements come back (a window of in-flight sends each); every message is
//! persisted, then delivered to the session's agent. Every acknowledged message must arrive at
//! its agent exactly once, in seq order: the run fails otherwise.

use crate::server::SECRET;
use crate::sio::Socket;
use crate::stats::{row, Row, Samples};
use chatdesk_core::identity::Role;
use chatdesk_server::auth::jwt::JwtKeys;
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::json;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

pub struct Config {
    pub label: &'static str,
    pub sessions: usize,
    pub window: usize,
    pub duration: Duration,
}

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

pub async fn run(base: &str, cfg: Config) -> anyhow::Result<Vec<Row>> {
    let keys = JwtKeys::new(SECRET);
    let ttl = Duration::from_secs(3600);
    let client = reqwest::Client::new();
    // One tenant per session, so each agent's feed carries exactly its session.
    let mut pairs = Vec::with_capacity(cfg.sessions);
    for i in 0..cfg.sessions {
        let visitor_token = keys.issue(&format!("v{i}"), Role::Customer, None, ttl);
        let agent_token = keys.issue(&format!("a{i}"), Role::Agent, Some(&format!("t{i}")), ttl);
        let opened: serde_json::Value = client
            .post(format!("{base}/v1/sessions"))
            .bearer_auth(&visitor_token)
            .json(&json!({"business_id": format!("t{i}")}))
            .send()
            .await?
            .json()
            .await?;
        let sid = opened["session"]["id"]
            .as_str()
            .ok_or_else(|| anyhow::anyhow!("open failed: {opened}"))?
            .to_owned();
        pairs.push((sid, visitor_token, agent_token));
    }
    let mut sockets = Vec::with_capacity(cfg.sessions);
    for chunk in pairs.chunks(100) {
        let connected = futures::future::try_join_all(chunk.iter().map(|(sid, v, a)| async move {
            let visitor = Socket::connect(base, v).await?;
            let agent = Socket::connect(base, a).await?;
            anyhow::Ok((sid.clone(), visitor, agent))
        }))
        .await?;
        sockets.extend(connected);
    }

    let stop = Arc::new(AtomicBool::new(false));
    let acked_total = Arc::new(AtomicU64::new(0));
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (sid, visitor, mut agent) in sockets {
        let (stop2, acked_total2, window) = (stop.clone(), acked_total.clone(), cfg.window);
        // What the receiver must reach: unknown (MAX) until the sender is done.
        let expected = Arc::new(AtomicU64::new(u64::MAX));
        let (sid2, expected2) = (sid.clone(), expected.clone());
        senders.push(tokio::spawn(async move {
            let visitor = Arc::new(visitor);
            let mut in_flight = FuturesUnordered::new();
            let mut acked = 0u64;
            let mut errors = 0u64;
            loop {
                while in_flight.len() < window && !stop2.load(Ordering::Relaxed) {
                    let v = visitor.clone();
                    let data = json!({"sessionId": sid2, "content": now_micros().to_string()});
                    in_flight.push(async move { v.ask("sendMessage", &data).await });
                }
                match in_flight.next().await {
                    Some(Ok(ack)) if ack.get("seq").is_some() => acked += 1,
                    Some(_) => errors += 1,
                    None => break,
                }
            }
            acked_total2.fetch_add(acked, Ordering::Relaxed);
            expected2.store(acked, Ordering::Relaxed);
            (acked, errors, visitor)
        }));
        let stop3 = stop.clone();
        receivers.push(tokio::spawn(async move {
            let mut latencies = Samples::default();
            let (mut received, mut last_seq, mut out_of_order) = (0u64, 0i64, 0u64);
            let mut stopped_at: Option<Instant> = None;
            while received < expected.load(Ordering::Relaxed) {
                if stop3.load(Ordering::Relaxed) {
                    let since = *stopped_at.get_or_insert_with(Instant::now);
                    if since.elapsed() > Duration::from_secs(10) {
                        break;
                    }
                }
                match tokio::time::timeout(Duration::from_millis(100), agent.events.recv()).await {
                    Ok(Some((name, data)))
                        if name == "newMessage" && data["sessionId"] == sid.as_str() =>
                    {
                        let seq = data["seq"].as_i64().unwrap_or(-1);
                        if seq != last_seq + 1 {
                            out_of_order += 1;
                        }
                        last_seq = seq;
                        received += 1;
                        if let Some(sent) =
                            data["content"].as_str().and_then(|c| c.parse::<u64>().ok())
                        {
                            latencies
                                .push(Duration::from_micros(now_micros().saturating_sub(sent)));
                        }
                    }
                    Ok(Some(_)) | Err(_) => {}
                    Ok(None) => break,
                }
            }
            (received, out_of_order, latencies, agent)
        }));
    }
    let started = Instant::now();
    tokio::time::sleep(cfg.duration).await;
    stop.store(true, Ordering::Relaxed);
    let mut acked_by_session = Vec::new();
    let mut errors = 0;
    for s in senders {
        let (acked, e, _v) = s.await?;
        acked_by_session.push(acked);
        errors += e;
    }
    let elapsed = started.elapsed();
    let acked: u64 = acked_by_session.iter().sum();
    let mut received_total = 0;
    let mut disorder = 0;
    let mut latencies = Samples::default();
    let mut lost = 0u64;
    for (r, expected) in receivers.into_iter().zip(acked_by_session) {
        let (received, out_of_order, l, _agent) = r.await?;
        received_total += received;
        disorder += out_of_order;
        latencies.extend(l);
        lost += expected.saturating_sub(received);
    }
    let rate = acked as f64 / elapsed.as_secs_f64();
    let ok = lost == 0 && received_total == acked && disorder == 0;
    let note = format!(
        "{} sessions, window {}; {acked} acknowledged, {received_total} delivered, {lost} lost, {disorder} out of order, {errors} send errors{}",
        cfg.sessions,
        cfg.window,
        if ok { "" } else { " — DELIVERY CHECK FAILED" }
    );
    anyhow::ensure!(ok, "{}: {note}", cfg.label);
    Ok(vec![
        row(
            cfg.label,
            "messages/s (persisted and delivered)",
            format!("{rate:.0}"),
            target(cfg.label),
            note,
        ),
        row(
            cfg.label,
            "send→deliver p50 / p99 ms",
            format!(
                "{:.2} / {:.2}",
                latencies.percentile_ms(50.0),
                latencies.percentile_ms(99.0)
            ),
            "p99 ≤ 10 at half rate",
            "at full load".into(),
        ),
    ])
}

fn target(label: &str) -> &'static str {
    match label {
        "fanout" => "≥ 50,000",
        "durable" => "≥ 20,000",
        _ => "report",
    }
}
