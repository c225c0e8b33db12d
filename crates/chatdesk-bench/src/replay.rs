//! `replay`: clients that come back behind. Each session's visitor sends `behind` messages
//! while its agent is away; then every agent reconnects at once and joins its session with
//! `sinceSeq: 0`. Each must receive exactly its missed messages, in seq order; the time until
//! the last agent is caught up is the figure.

use crate::fanout::open_sessions;
use crate::sio::Socket;
use crate::stats::{row, Row, Samples, Target};
use futures::stream::{FuturesUnordered, StreamExt};
use serde_json::json;
use std::time::{Duration, Instant};

pub async fn run(base: &str, clients: usize, behind: usize) -> anyhow::Result<Vec<Row>> {
    let sessions = open_sessions(base, clients).await?;
    // The visitors put every session `behind` messages ahead, 8 sends in flight each.
    for chunk in sessions.chunks(100) {
        futures::future::try_join_all(chunk.iter().map(|(sid, visitor, _)| async move {
            let socket = Socket::connect(base, visitor).await?;
            let mut in_flight = FuturesUnordered::new();
            let mut sent = 0;
            while sent < behind || !in_flight.is_empty() {
                while sent < behind && in_flight.len() < 8 {
                    let data = json!({"sessionId": sid, "content": format!("missed {sent}")});
                    let socket = &socket;
                    in_flight.push(async move { socket.ask("sendMessage", &data).await });
                    sent += 1;
                }
                if let Some(ack) = in_flight.next().await {
                    let ack = ack?;
                    anyhow::ensure!(ack.get("seq").is_some(), "send refused: {ack}");
                }
            }
            anyhow::Ok(())
        }))
        .await?;
    }

    let started = Instant::now();
    let caught_up = futures::future::try_join_all(sessions.iter().map(|(sid, _, agent)| {
        async move {
            let t = Instant::now();
            let mut socket = Socket::connect(base, agent).await?;
            let joined = socket
                .ask("joinSession", &json!({"sessionId": sid, "sinceSeq": 0}))
                .await?;
            anyhow::ensure!(joined["ok"] == true, "join refused: {joined}");
            let mut next = 1;
            while next <= behind as i64 {
                let (name, data) =
                    tokio::time::timeout(Duration::from_secs(30), socket.events.recv())
                        .await?
                        .ok_or_else(|| anyhow::anyhow!("socket closed while catching up"))?;
                if name != "newMessage" || data["sessionId"] != sid.as_str() {
                    continue;
                }
                let seq = data["seq"].as_i64().unwrap_or(-1);
                anyhow::ensure!(seq == next, "session {sid}: expected seq {next}, got {seq}");
                next += 1;
            }
            let done = Instant::now();
            // Nothing may follow: a duplicate would show up now.
            if let Ok(Some((name, data))) =
                tokio::time::timeout(Duration::from_millis(200), socket.events.recv()).await
            {
                anyhow::ensure!(
                    name != "newMessage",
                    "session {sid}: duplicate after catch-up: {data}"
                );
            }
            anyhow::Ok((done - t, done))
        }
    }))
    .await?;
    let mut each = Samples::default();
    let mut total = Duration::ZERO;
    for (took, done) in caught_up {
        each.push(took);
        total = total.max(done - started);
    }
    let note = format!(
        "{clients} clients × {behind} messages, all delivered once, in order; per client p50 {:.0} ms, p99 {:.0} ms",
        each.percentile_ms(50.0),
        each.percentile_ms(99.0)
    );
    Ok(vec![row(
        "replay",
        "time until every client is caught up",
        total.as_secs_f64() * 1000.0,
        "ms",
        Target::Report,
        note,
    )])
}
