//! `history`: many messages across many sessions, seeded straight into the database, then
//! random pages of 50 fetched through the API.

use crate::server::{Server, SECRET};
use crate::stats::{row, Row, Samples, Target};
use chatdesk_core::clock;
use chatdesk_core::domain::*;
use chatdesk_core::identity::Role;
use chatdesk_core::store::{MessageStore, NewMessage, NewSession, SessionStore};
use chatdesk_server::auth::jwt::JwtKeys;
use chatdesk_store_sqlite::{Durability, SqliteStore};
use std::time::{Duration, Instant};

/// Seed once, then measure `runs` times against the same server; medians per figure.
pub async fn run(
    sessions: usize,
    messages: usize,
    runs: usize,
    duration: Duration,
) -> anyhow::Result<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let url = format!("sqlite://{}", dir.path().join("bench.db").display());
    let seeding = Instant::now();
    let owner = Party::User(UserId::parse("history-user")?);
    let ids = {
        let store = SqliteStore::connect(&url, Durability::Normal).await?;
        let mut ids = Vec::with_capacity(sessions);
        for _ in 0..sessions {
            let new =
                NewSession::general(BusinessId::default_tenant(), owner.clone(), clock::now());
            ids.push(store.open_session(new, false).await?.0.id);
        }
        let per_session = messages / sessions.max(1);
        let mut batch = Vec::with_capacity(5000);
        for round in 0..per_session {
            for id in &ids {
                batch.push(NewMessage {
                    id: MessageId::generate(),
                    session_id: *id,
                    sender: owner.clone(),
                    sender_type: SenderType::Customer,
                    content: format!("history message {round} with a little text in it"),
                    client_msg_id: None,
                    claim_for_agent: None,
                    attachments: Vec::new(),
                    at: clock::now(),
                });
                if batch.len() == 5000 {
                    store.append_messages(&batch).await?;
                    batch.clear();
                }
            }
        }
        if !batch.is_empty() {
            store.append_messages(&batch).await?;
        }
        store.close().await;
        ids
    };
    let seeded_in = seeding.elapsed();
    let server = Server::start_on(dir, url, "normal", false).await?;
    let token = JwtKeys::new(SECRET).issue(
        "history-user",
        Role::Customer,
        None,
        Duration::from_secs(3600),
    );
    let per_session = (messages / sessions.max(1)) as i64;
    let mut all_runs = Vec::new();
    for _ in 0..runs.max(1) {
        let mut lat = pages(&server.base, &token, &ids, per_session, duration).await?;
        let n = lat.len();
        let note = format!(
            "{messages} messages in {sessions} sessions (seeded in {:.0} s); {n} pages, 16 concurrent; p50 {:.2} ms",
            seeded_in.as_secs_f64(),
            lat.percentile_ms(50.0)
        );
        all_runs.push(vec![row(
            "history",
            "page of 50: p99",
            lat.percentile_ms(99.0),
            "ms",
            Target::AtMost(5.0),
            note,
        )]);
    }
    Ok(crate::stats::median(all_runs))
}

/// Random pages of 50 from 16 concurrent clients for `duration`: every page's latency.
async fn pages(
    base: &str,
    token: &str,
    ids: &[SessionId],
    per_session: i64,
    duration: Duration,
) -> anyhow::Result<Samples> {
    let deadline = Instant::now() + duration;
    let tasks = (0..16).map(|w| {
        let (base, token, ids) = (base.to_owned(), token.to_owned(), ids.to_vec());
        tokio::spawn(async move {
            let client = reqwest::Client::new();
            let mut lat = Samples::default();
            let mut i = w * 7919;
            while Instant::now() < deadline {
                i = (i * 31 + 17) % ids.len();
                let before = 1 + (i as i64 * 13) % per_session.max(1) + 50;
                let t = Instant::now();
                let r = client
                    .get(format!(
                        "{base}/v1/sessions/{}/messages?before_seq={before}&limit=50",
                        ids[i]
                    ))
                    .bearer_auth(&token)
                    .send()
                    .await?;
                anyhow::ensure!(r.status().is_success(), "HTTP {}", r.status());
                r.bytes().await?;
                lat.push(t.elapsed());
            }
            anyhow::Ok(lat)
        })
    });
    let mut all = Samples::default();
    for r in futures::future::join_all(tasks).await {
        all.extend(r??);
    }
    Ok(all)
}
