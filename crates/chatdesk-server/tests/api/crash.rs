//! Durable before acknowledged, under a crash: with `sqlite_durability = full`, concurrent
//! senders, a kill -9 mid-stream and a restart, every acknowledged message is there and each
//! session's `seq` has no gap.

use crate::binary::Binary;
use crate::harness::SECRET;
use chatdesk_core::identity::Role;
use chatdesk_server::auth::jwt::JwtKeys;
use reqwest::Method;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

const SENDERS: usize = 16;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_kill_9_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("crash.db");
    let env = [("CHATDESK_SQLITE_DURABILITY", "full")];
    let server = Binary::start(&db, &env);
    let client = reqwest::Client::new();
    let keys = JwtKeys::new(SECRET);

    // One session per sender, each its own customer.
    let mut sessions = Vec::new();
    for i in 0..SENDERS {
        let token = keys.issue(
            &format!("c{i}"),
            Role::Customer,
            None,
            Duration::from_secs(600),
        );
        let r = server
            .call(Method::POST, "/v1/sessions", &token, Some(json!({})))
            .await;
        sessions.push((token, r["session"]["id"].as_str().unwrap().to_owned()));
    }

    // Acknowledged (201) message ids per session, as the senders saw them.
    let acked: Arc<Mutex<HashMap<String, Vec<String>>>> = Arc::default();
    let senders: Vec<_> = sessions
        .iter()
        .cloned()
        .map(|(token, id)| {
            let (client, acked, url) = (
                client.clone(),
                acked.clone(),
                server.url(&format!("/v1/sessions/{id}/messages")),
            );
            tokio::spawn(async move {
                for n in 0.. {
                    let sent = client
                        .post(&url)
                        .bearer_auth(&token)
                        .json(&json!({"content": format!("m{n}")}))
                        .send()
                        .await;
                    match sent {
                        Ok(r) if r.status() == 201 => {
                            let m: Value = r.json().await.unwrap_or_default();
                            if let Some(mid) = m["id"].as_str() {
                                acked
                                    .lock()
                                    .unwrap()
                                    .entry(id.clone())
                                    .or_default()
                                    .push(mid.to_owned());
                            }
                        }
                        // The server is gone: this sender is done.
                        _ => return,
                    }
                }
            })
        })
        .collect();

    // Let the stream run, then kill the server mid-stream.
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        tokio::time::sleep(Duration::from_millis(50)).await;
        let total: usize = acked.lock().unwrap().values().map(Vec::len).sum();
        if total >= 300 || std::time::Instant::now() > deadline {
            break;
        }
    }
    server.kill9();
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let total: usize = acked.values().map(Vec::len).sum();
    assert!(total > 0, "nothing was acknowledged before the kill");

    let server = Binary::start(&db, &env);
    for (token, id) in &sessions {
        let mut stored: Vec<Value> = Vec::new();
        loop {
            let after = stored.last().map_or(0, |m| m["seq"].as_i64().unwrap());
            let path = format!("/v1/sessions/{id}/messages?limit=200&after_seq={after}");
            let r = server.call(Method::GET, &path, token, None).await;
            let page = r["messages"].as_array().unwrap().clone();
            if page.is_empty() {
                break;
            }
            stored.extend(page);
        }
        let seqs: Vec<i64> = stored.iter().map(|m| m["seq"].as_i64().unwrap()).collect();
        let expected: Vec<i64> = (1..=seqs.len() as i64).collect();
        assert_eq!(seqs, expected, "seq has no gap in {id}");
        let ids: Vec<&str> = stored.iter().map(|m| m["id"].as_str().unwrap()).collect();
        for m in acked.get(id).into_iter().flatten() {
            assert!(
                ids.contains(&m.as_str()),
                "acknowledged {m} was lost in {id}"
            );
        }
    }
}
