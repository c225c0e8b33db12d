//! Several nodes: three `chatdesk` processes on one PostgreSQL schema and one Redis, as
//! docs/deploy.md runs them. Needs `CHATDESK_TEST_PG_URL` and `CHATDESK_TEST_REDIS_URL`
//! (`.ci/run` sets both and fails when either service is down).

use crate::binary::Binary;
use crate::harness::{place, Kind, Place, SECRET};
use crate::realtime::node_at;
use crate::webhooks::{Received, Receiver};
use chatdesk_core::identity::Role;
use chatdesk_server::auth::jwt::JwtKeys;
use reqwest::Method;
use serde_json::{json, Value};
use std::time::Duration;

/// Nodes on one fresh schema, with `env` besides the bus.
struct Cluster {
    nodes: Vec<Binary>,
    place: Option<Place>,
    keys: JwtKeys,
}

impl Cluster {
    async fn start(n: usize, env: &[(&str, &str)]) -> Option<Self> {
        let Ok(redis) = std::env::var("CHATDESK_TEST_REDIS_URL") else {
            eprintln!("CHATDESK_TEST_REDIS_URL not set: several-node case skipped");
            return None;
        };
        let Some((place, url)) = place(Kind::Postgres).await else {
            eprintln!("CHATDESK_TEST_PG_URL not set: several-node case skipped");
            return None;
        };
        let mut env: Vec<(&str, &str)> = env.to_vec();
        env.push(("CHATDESK_BUS_URL", &redis));
        // They start together: each runs the migrations, which PostgreSQL serializes.
        let nodes = (0..n).map(|_| Binary::start_on(&url, &env)).collect();
        Some(Self {
            nodes,
            place: Some(place),
            keys: JwtKeys::new(SECRET),
        })
    }

    fn token(&self, sub: &str, role: Role) -> String {
        self.keys
            .issue(sub, role, Some("shop"), Duration::from_secs(600))
    }

    async fn call(&self, node: usize, method: Method, path: &str, who: &str, body: Value) -> Value {
        let body = (method != Method::GET).then_some(body);
        self.nodes[node].call(method, path, who, body).await
    }

    async fn stop(mut self) {
        self.nodes.clear();
        if let Some(place) = self.place.take() {
            place.remove().await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_typing_and_receipts_cross_nodes_once_and_in_order() {
    let Some(cluster) = Cluster::start(3, &[]).await else {
        return;
    };
    let report = node_at(
        &cluster.nodes[0].base,
        "cluster.mjs",
        &[
            ("NODE_A", cluster.nodes[0].base.clone()),
            ("NODE_B", cluster.nodes[1].base.clone()),
            ("NODE_C", cluster.nodes[2].base.clone()),
            ("CUSTOMER_TOKEN", cluster.token("c1", Role::Customer)),
            ("CUSTOMER2_TOKEN", cluster.token("c2", Role::Customer)),
            ("AGENT_TOKEN", cluster.token("ag1", Role::Agent)),
            ("ADMIN_TOKEN", cluster.token("boss", Role::Admin)),
            (
                "REDIS_URL",
                std::env::var("CHATDESK_TEST_REDIS_URL").unwrap(),
            ),
        ],
    )
    .await;
    assert_eq!(report["ok"], true, "{report}");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_of_a_killed_node_replays_from_another() {
    let Some(cluster) = Cluster::start(3, &[]).await else {
        return;
    };
    let report = node_at(
        &cluster.nodes[0].base,
        "cluster_failover.mjs",
        &[
            ("NODE_A", cluster.nodes[0].base.clone()),
            ("NODE_B", cluster.nodes[1].base.clone()),
            ("NODE_C", cluster.nodes[2].base.clone()),
            ("NODE_B_PID", cluster.nodes[1].pid().to_string()),
            ("CUSTOMER_TOKEN", cluster.token("c1", Role::Customer)),
            ("AGENT_TOKEN", cluster.token("ag1", Role::Agent)),
        ],
    )
    .await;
    assert_eq!(report["ok"], true, "{report}");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_deliver_each_webhook_once() {
    let env = [("CHATDESK_WEBHOOK_ALLOWED_NETWORKS", r#"["127.0.0.0/8"]"#)];
    let Some(cluster) = Cluster::start(3, &env).await else {
        return;
    };
    let receiver = Receiver::default();
    let (url, _server) = receiver.clone().start().await;
    let admin = cluster.token("boss", Role::Admin);
    let hook = json!({"url": url, "events": ["message.created"]});
    let created = cluster
        .call(0, Method::POST, "/v1/webhooks", &admin, hook)
        .await;
    assert!(created["id"].is_i64(), "{created}");
    const SENDS: usize = 30;
    for i in 0..SENDS {
        let customer = cluster.token(&format!("c{}", i % 3), Role::Customer);
        let node = i % 3;
        let opened = cluster
            .call(node, Method::POST, "/v1/sessions", &customer, json!({}))
            .await;
        let id = opened["session"]["id"].as_str().unwrap().to_owned();
        let body = json!({"content": format!("m{i}")});
        let path = format!("/v1/sessions/{id}/messages");
        cluster
            .call(node, Method::POST, &path, &customer, body)
            .await;
    }
    receiver.wait_for(SENDS).await;
    // Every node's dispatcher and deliverer has had time to send a duplicate.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let got = receiver.got.lock().unwrap().clone();
    let deliveries: std::collections::HashSet<_> = got.iter().map(Received::delivery_id).collect();
    assert_eq!(got.len(), SENDS, "each event delivered once");
    assert_eq!(deliveries.len(), SENDS);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_agent_on_a_killed_node_goes_offline_within_the_expiry() {
    let env = [
        ("CHATDESK_NODE_HEARTBEAT_SECS", "1"),
        ("CHATDESK_NODE_EXPIRY_SECS", "2"),
    ];
    let Some(mut cluster) = Cluster::start(2, &env).await else {
        return;
    };
    let (admin, agent) = (
        cluster.token("boss", Role::Admin),
        cluster.token("ag1", Role::Agent),
    );
    let presence = |agents: Value| {
        agents
            .as_array()
            .and_then(|a| a.iter().find(|a| a["agent_id"] == "ag1"))
            .map(|a| a["presence"].clone())
            .unwrap_or(Value::Null)
    };
    let stream = reqwest::Client::new()
        .get(cluster.nodes[1].url("/v1/events"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert!(stream.status().is_success());
    let agents = cluster
        .call(0, Method::GET, "/v1/agents", &admin, json!(null))
        .await;
    assert_eq!(presence(agents.clone()), "online", "{agents}");
    cluster.nodes.remove(1).kill9();
    let killed = std::time::Instant::now();
    loop {
        let agents = cluster
            .call(0, Method::GET, "/v1/agents", &admin, json!(null))
            .await;
        if presence(agents.clone()) == "offline" {
            break;
        }
        assert!(
            killed.elapsed() < Duration::from_secs(10),
            "still counted: {agents}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    drop(stream);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopping_node_answers_what_it_took_before_closing() {
    let Some(cluster) = Cluster::start(2, &[]).await else {
        return;
    };
    let report = node_at(
        &cluster.nodes[0].base,
        "cluster_drain.mjs",
        &[
            ("NODE_A", cluster.nodes[0].base.clone()),
            ("NODE_B", cluster.nodes[1].base.clone()),
            ("NODE_A_PID", cluster.nodes[0].pid().to_string()),
            ("CUSTOMER_TOKEN", cluster.token("c1", Role::Customer)),
        ],
    )
    .await;
    assert_eq!(report["ok"], true, "{report}");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_visitor_linked_on_one_node_no_longer_writes_through_another() {
    let Some(cluster) = Cluster::start(2, &[]).await else {
        return;
    };
    let visitor = uuid::Uuid::new_v4().to_string();
    let client = reqwest::Client::new();
    let as_visitor = |node: usize, path: &str| {
        client
            .post(cluster.nodes[node].url(path))
            .header("X-Visitor-Id", &visitor)
    };
    let opened: Value = as_visitor(0, "/v1/sessions")
        .json(&json!({"business_id": "shop"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let id = opened["session"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{id}/messages");
    // Node 0 has read (and remembers) the session as the visitor's.
    let first = as_visitor(0, &path)
        .json(&json!({"content": "hi"}))
        .send()
        .await
        .unwrap();
    assert_eq!(first.status(), 201);
    let vera = cluster.token("vera", Role::Customer);
    let linked = cluster
        .call(
            1,
            Method::POST,
            "/v1/me/link-visitor",
            &vera,
            json!({"visitor_id": visitor}),
        )
        .await;
    assert_eq!(linked["sessions_moved"], 1, "{linked}");
    // At once, whatever node 0 remembers: the session is the account's now.
    let late = as_visitor(0, &path)
        .json(&json!({"content": "still me?"}))
        .send()
        .await
        .unwrap();
    assert_eq!(late.status(), 404);
    let mine = cluster
        .call(0, Method::POST, &path, &vera, json!({"content": "mine"}))
        .await;
    assert_eq!(mine["seq"], 2, "{mine}");
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_nodes_starting_together_migrate_an_empty_schema_once() {
    let (Ok(pg), Ok(redis)) = (
        std::env::var("CHATDESK_TEST_PG_URL"),
        std::env::var("CHATDESK_TEST_REDIS_URL"),
    ) else {
        eprintln!("CHATDESK_TEST_PG_URL or CHATDESK_TEST_REDIS_URL not set: skipped");
        return;
    };
    let schema = format!("t_{}", uuid::Uuid::new_v4().simple());
    let psql = |sql: &str| {
        let out = std::process::Command::new("psql")
            .args([pg.as_str(), "-Atc", sql])
            .output()
            .expect("psql runs");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    psql(&format!("CREATE SCHEMA {schema}"));
    let sep = if pg.contains('?') { '&' } else { '?' };
    let url = format!("{pg}{sep}options=-c%20search_path%3D{schema}");
    let env = [("CHATDESK_BUS_URL", redis.as_str())];
    let nodes: Vec<Binary> = std::thread::scope(|s| {
        let starting: Vec<_> = (0..3)
            .map(|_| s.spawn(|| Binary::start_on(&url, &env)))
            .collect();
        starting.into_iter().map(|t| t.join().unwrap()).collect()
    });
    for node in &nodes {
        let health = reqwest::get(node.url("/healthz")).await.unwrap();
        assert!(health.status().is_success());
    }
    let files = std::fs::read_dir(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../chatdesk-store-postgres/migrations"
    ))
    .unwrap()
    .count();
    let applied = psql(&format!(
        "SELECT count(*) || ' ' || count(DISTINCT version) FROM {schema}._sqlx_migrations WHERE success"
    ));
    assert_eq!(applied, format!("{files} {files}"));
    drop(nodes);
    chatdesk_store_postgres::PgStore::drop_schema(&pg, &schema)
        .await
        .unwrap();
}

/// The ids of the tenant's sessions in `status`, as the admin lists them on `node`.
async fn sessions_in(cluster: &Cluster, node: usize, admin: &str, status: &str) -> Vec<String> {
    let page = cluster
        .call(
            node,
            Method::GET,
            &format!("/v1/sessions?status={status}&limit=100"),
            admin,
            json!(null),
        )
        .await;
    page["sessions"]
        .as_array()
        .unwrap_or_else(|| panic!("a page: {page}"))
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_nodes_routing_at_once_never_pass_an_agents_cap() {
    let Some(cluster) = Cluster::start(2, &[]).await else {
        return;
    };
    let admin = cluster.token("boss", Role::Admin);
    let agent = cluster.token("ag1", Role::Agent);
    let settings = json!({"routing": "auto"});
    cluster
        .call(0, Method::PUT, "/v1/tenant/settings", &admin, settings)
        .await;
    let cap = json!({"max_concurrent": 2});
    cluster
        .call(1, Method::PUT, "/v1/agents/ag1", &admin, cap)
        .await;
    // The agent is connected (an open event stream on node 0), so routing may give it work.
    let stream = reqwest::Client::new()
        .get(cluster.nodes[0].url("/v1/events"))
        .bearer_auth(&agent)
        .send()
        .await
        .unwrap();
    assert!(stream.status().is_success());

    // Ten customers open sessions at once, half through each node.
    let opens = (0..10).map(|i| {
        let token = cluster.token(&format!("c{i}"), Role::Customer);
        let node = &cluster.nodes[i % 2];
        let url = node.url("/v1/sessions");
        async move {
            reqwest::Client::new()
                .post(url)
                .bearer_auth(token)
                .json(&json!({}))
                .send()
                .await
                .unwrap()
                .status()
        }
    });
    for status in futures::future::join_all(opens).await {
        assert!(status.is_success(), "{status}");
    }
    let mut served = std::collections::HashSet::new();
    loop {
        let active = sessions_in(&cluster, 0, &admin, "active").await;
        let waiting = sessions_in(&cluster, 1, &admin, "waiting").await;
        assert!(active.len() <= 2, "over the cap: {active:?}");
        if active.is_empty() && waiting.is_empty() {
            break;
        }
        assert_eq!(
            active.len(),
            2.min(active.len() + waiting.len()),
            "capacity unused"
        );
        for id in &active {
            assert!(served.insert(id.clone()), "{id} assigned twice");
        }
        // The agent closes its chats, on alternating nodes; routing fills the places.
        for (i, id) in active.iter().enumerate() {
            let closed = json!({"status": "closed"});
            cluster
                .call(
                    i % 2,
                    Method::PATCH,
                    &format!("/v1/sessions/{id}"),
                    &agent,
                    closed,
                )
                .await;
        }
    }
    assert_eq!(served.len(), 10, "every session was assigned once");
    drop(stream);
    cluster.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_sweepers_close_an_idle_session_once() {
    let env = [
        ("CHATDESK_IDLE_TIMEOUT_SECS", "1"),
        ("CHATDESK_IDLE_SWEEP_INTERVAL_SECS", "1"),
    ];
    let Some(cluster) = Cluster::start(3, &env).await else {
        return;
    };
    let customer = cluster.token("c1", Role::Customer);
    let opened = cluster
        .call(0, Method::POST, "/v1/sessions", &customer, json!({}))
        .await;
    let id = opened["session"]["id"].as_str().unwrap().to_owned();
    let path = format!("/v1/sessions/{id}");
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while cluster
        .call(1, Method::GET, &path, &customer, json!(null))
        .await["status"]
        != "closed"
    {
        assert!(
            std::time::Instant::now() < deadline,
            "the session was never closed"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // Every sweeper has had another turn.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let messages = cluster
        .call(
            2,
            Method::GET,
            &format!("{path}/messages"),
            &customer,
            json!(null),
        )
        .await;
    let notes = messages["messages"].as_array().unwrap();
    assert_eq!(notes.len(), 1, "one note of the close: {messages}");
    cluster.stop().await;
}
