//! `fanout`: sessions each with a visitor and an agent on Socket.IO (websocket). Visitors send
//! as fast as acknowledgements come back (a window of in-flight sends each), or at a fixed
//! total rate; every message is persisted, then delivered to the session's agent. Every
//! acknowledged message must arrive at its agent exactly once, in seq order: the run fails
//! otherwise. `echo` drives the same clients against the bare `/echo` namespace.

use crate::server::{open_session, SECRET};
use crate::sio::{Dial, Socket};
use crate::stats::{row, Row, Samples, Target};
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
    /// `/echo` instead of `/chat`: no tokens, no sessions, nothing stored.
    pub echo: bool,
    /// Total messages per second across all visitors; `None` sends as fast as acks return.
    pub rate: Option<f64>,
    /// The paced rate is a fixed one (`FIXED_RATE`), not half the measured rate.
    pub fixed: bool,
}

/// The rate whose tail is held to a fixed bound, whatever the machine's full speed.
pub const FIXED_RATE: f64 = 1_000.0;

fn now_micros() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_micros() as u64)
}

/// Connected (session id, visitor, agent) triples.
async fn connect_pairs(
    base: &str,
    agents_base: &str,
    cfg: &Config,
) -> anyhow::Result<Vec<(String, Socket, Socket)>> {
    let pairs = if cfg.echo {
        (0..cfg.sessions)
            .map(|i| (format!("room-{i}"), String::new(), String::new()))
            .collect()
    } else {
        open_sessions(base, cfg.sessions).await?
    };
    let mut sockets = Vec::with_capacity(cfg.sessions);
    for chunk in pairs.chunks(100) {
        let connected = futures::future::try_join_all(chunk.iter().map(|(sid, v, a)| async move {
            let (visitor, agent) = if cfg.echo {
                let dial = || Dial {
                    base,
                    ns: "/echo",
                    auth: json!({ "room": sid }),
                    source: None,
                };
                (Socket::dial(dial()).await?, Socket::dial(dial()).await?)
            } else {
                (
                    Socket::connect(base, v).await?,
                    Socket::connect(agents_base, a).await?,
                )
            };
            anyhow::Ok((sid.clone(), visitor, agent))
        }))
        .await?;
        sockets.extend(connected);
    }
    Ok(sockets)
}

/// One session per visitor, each in its own tenant, so each agent's feed carries exactly its
/// session: (session id, visitor token, agent token).
pub async fn open_sessions(
    base: &str,
    sessions: usize,
) -> anyhow::Result<Vec<(String, String, String)>> {
    let keys = JwtKeys::new(SECRET);
    let ttl = Duration::from_secs(3600);
    let client = reqwest::Client::new();
    let mut pairs = Vec::with_capacity(sessions);
    for i in 0..sessions {
        let visitor_token = keys.issue(&format!("v{i}"), Role::Customer, None, ttl);
        let agent_token = keys.issue(&format!("a{i}"), Role::Agent, Some(&format!("t{i}")), ttl);
        let body = json!({"business_id": format!("t{i}"), "force_new": true});
        let sid = open_session(&client, base, &visitor_token, &body).await?;
        pairs.push((sid, visitor_token, agent_token));
    }
    Ok(pairs)
}

/// Visitors connect to `base`, agents to `agents_base` (another node, or the same server).
pub async fn run(base: &str, agents_base: &str, cfg: Config) -> anyhow::Result<Vec<Row>> {
    let sockets = connect_pairs(base, agents_base, &cfg).await?;
    // Paced sends: each visitor sends every `period`, its first send staggered so the
    // visitors do not tick together.
    let period = cfg
        .rate
        .map(|r| Duration::from_secs_f64(cfg.sessions as f64 / r.max(1.0)));

    let stop = Arc::new(AtomicBool::new(false));
    let acked_total = Arc::new(AtomicU64::new(0));
    let mut senders = Vec::new();
    let mut receivers = Vec::new();
    for (i, (sid, visitor, mut agent)) in sockets.into_iter().enumerate() {
        let (stop2, acked_total2, window) = (stop.clone(), acked_total.clone(), cfg.window);
        let mut ticks = period.map(|p| {
            let first = tokio::time::Instant::now() + p.mul_f64(i as f64 / cfg.sessions as f64);
            let mut t = tokio::time::interval_at(first, p);
            t.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            t
        });
        // What the receiver must reach: unknown (MAX) until the sender is done.
        let expected = Arc::new(AtomicU64::new(u64::MAX));
        let (sid2, expected2) = (sid.clone(), expected.clone());
        senders.push(tokio::spawn(async move {
            let visitor = Arc::new(visitor);
            let mut in_flight = FuturesUnordered::new();
            let mut acked = 0u64;
            let mut errors = 0u64;
            // Send→acknowledgement: the store's share of send→deliver (the acknowledgement
            // leaves after the commit).
            let mut ack_latencies = Samples::default();
            let send = |in_flight: &mut FuturesUnordered<_>| {
                let v = visitor.clone();
                let data = json!({"sessionId": sid2, "content": now_micros().to_string()});
                in_flight.push(async move {
                    let asked = Instant::now();
                    let answer = v.ask("sendMessage", &data).await;
                    (answer, asked.elapsed())
                });
            };
            loop {
                let stopping = stop2.load(Ordering::Relaxed);
                if let Some(ticks) = ticks.as_mut() {
                    // Paced: a tick sends one message if the window has room.
                    if stopping && in_flight.is_empty() {
                        break;
                    }
                    tokio::select! {
                        _ = ticks.tick(), if !stopping => {
                            if in_flight.len() < window {
                                send(&mut in_flight);
                            }
                            continue;
                        }
                        _ = tokio::time::sleep(Duration::from_millis(50)), if in_flight.is_empty() => continue,
                        done = in_flight.next(), if !in_flight.is_empty() => match done {
                            Some((Ok(ack), took)) if ack.get("seq").is_some() => {
                                acked += 1;
                                ack_latencies.push(took);
                            }
                            Some(_) => errors += 1,
                            None => {}
                        },
                    }
                    continue;
                }
                while in_flight.len() < window && !stopping {
                    send(&mut in_flight);
                }
                match in_flight.next().await {
                    Some((Ok(ack), took)) if ack.get("seq").is_some() => {
                        acked += 1;
                        ack_latencies.push(took);
                    }
                    Some(_) => errors += 1,
                    None => break,
                }
            }
            acked_total2.fetch_add(acked, Ordering::Relaxed);
            expected2.store(acked, Ordering::Relaxed);
            (acked, errors, ack_latencies, visitor)
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
    let mut ack_latencies = Samples::default();
    for s in senders {
        let (acked, e, l, _v) = s.await?;
        acked_by_session.push(acked);
        errors += e;
        ack_latencies.extend(l);
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
    let pace = cfg
        .rate
        .map_or(String::new(), |r| format!(", paced at {r:.0}/s"));
    let note = format!(
        "{} sessions, window {}{pace}; {acked} acknowledged, {received_total} delivered, {lost} lost, {disorder} out of order, {errors} send errors{}",
        cfg.sessions,
        cfg.window,
        if ok { "" } else { " — DELIVERY CHECK FAILED" }
    );
    anyhow::ensure!(ok, "{}: {note}", cfg.label);
    anyhow::ensure!(
        acked > 0,
        "{}: nothing was acknowledged ({note})",
        cfg.label
    );
    let (p50, p99) = (latencies.percentile_ms(50.0), latencies.percentile_ms(99.0));
    let acks = format!(
        "send→ack p50 {:.2} ms, p99 {:.2} ms",
        ack_latencies.percentile_ms(50.0),
        ack_latencies.percentile_ms(99.0)
    );
    if cfg.rate.is_some() {
        let (metric, bound) = match cfg.fixed {
            true => ("send→deliver p99 at 1,000 msgs/s", 5.0),
            false => ("send→deliver p99 at half the measured rate", 10.0),
        };
        let mut paced = row(
            cfg.label,
            metric,
            p99,
            "ms",
            Target::AtMost(bound),
            format!("p50 {p50:.2} ms; {acks}; {note}"),
        );
        paced.distribution = latencies.distribution();
        return Ok(vec![paced]);
    }
    Ok(vec![
        row(
            cfg.label,
            if cfg.echo {
                "messages/s, relayed (nothing stored)"
            } else {
                "messages/s, persisted and delivered"
            },
            rate,
            "msgs/s",
            target(cfg.label),
            note,
        ),
        row(
            cfg.label,
            "send→deliver p99 at full load",
            p99,
            "ms",
            Target::Report,
            format!("p50 {p50:.2} ms; {acks}"),
        ),
    ])
}

fn target(label: &str) -> Target {
    match label {
        "fanout" => Target::AtLeast(50_000.0),
        "durable" => Target::AtLeast(20_000.0),
        _ => Target::Report,
    }
}
