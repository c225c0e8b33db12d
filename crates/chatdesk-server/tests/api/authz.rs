//! Nobody reaches another's session: every endpoint answers 404 to a stranger, and nothing
//! the stranger sent is written.

use crate::harness::{assert_error, on_both_stores, As, TestApp};
use chatdesk_core::identity::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_stores!(
    strangers_get_404_on_every_session_endpoint,
    agents_reach_only_their_tenant,
    scoped_admins_reach_only_their_tenant,
    a_tenant_scoped_identity_sees_only_its_tenant,
);

/// Every session-scoped endpoint, with a harmless valid body.
fn endpoints(id: &str) -> Vec<(Method, String, Option<Value>)> {
    vec![
        (Method::GET, format!("/v1/sessions/{id}"), None),
        (
            Method::PATCH,
            format!("/v1/sessions/{id}"),
            Some(json!({"title": "hijacked"})),
        ),
        (Method::DELETE, format!("/v1/sessions/{id}"), None),
        (
            Method::POST,
            format!("/v1/sessions/{id}/end"),
            Some(json!({})),
        ),
        (
            Method::POST,
            format!("/v1/sessions/{id}/messages"),
            Some(json!({"content": "injected"})),
        ),
        (Method::GET, format!("/v1/sessions/{id}/messages"), None),
        (
            Method::POST,
            format!("/v1/sessions/{id}/read"),
            Some(json!({"up_to_seq": 1})),
        ),
    ]
}

async fn assert_untouched(app: &TestApp, owner: &As, id: &str) {
    let (status, s) = app.get(&format!("/v1/sessions/{id}"), owner).await;
    assert_eq!(status, StatusCode::OK, "the session still exists: {s}");
    assert_eq!(s["status"], "waiting");
    assert_eq!(s["title"], "mine");
    assert_eq!(s["last_seq"], 1);
    let (_, unread) = app.get("/v1/me/unread", owner).await;
    assert_eq!(unread["total"], 0, "no message from a stranger arrived");
}

async fn strangers_get_404_on_every_session_endpoint(app: TestApp) {
    let alice = app.customer("alice");
    let id = app.open(&alice, json!({"title": "mine"})).await;
    app.send(&alice, &id, "private").await;
    let strangers = [
        app.customer("bob"),
        app.visitor(),
        app.agent("agent-x", "another-tenant"),
        app.token("svc", Role::Service, Some("another-tenant")),
    ];
    for who in &strangers {
        for (method, path, body) in endpoints(&id) {
            let got = app.call(method.clone(), &path, who, body).await;
            assert_error(&got, StatusCode::NOT_FOUND, "not_found");
        }
        let (_, list) = app.get("/v1/sessions", who).await;
        assert!(
            list["sessions"]
                .as_array()
                .is_none_or(|a| a.iter().all(|s| s["id"] != id.as_str())),
            "{who:?} listed alice's session"
        );
    }
    // No credential at all: 401 everywhere, before any look-up.
    for (method, path, body) in endpoints(&id) {
        assert_error(
            &app.call(method, &path, &As::Nobody, body).await,
            StatusCode::UNAUTHORIZED,
            "unauthenticated",
        );
    }
    assert_untouched(&app, &alice, &id).await;
}

async fn agents_reach_only_their_tenant(app: TestApp) {
    let alice = app.customer("alice");
    let id = app
        .open(&alice, json!({"business_id": "shop", "title": "t"}))
        .await;
    let agent = app.agent("ag", "shop");
    let (status, _) = app.get(&format!("/v1/sessions/{id}"), &agent).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = app
        .get(&format!("/v1/sessions/{id}/messages"), &agent)
        .await;
    assert_eq!(status, StatusCode::OK);
    // An agent without a tenant claim works in `default`, not in `shop`.
    assert_error(
        &app.get(
            &format!("/v1/sessions/{id}"),
            &app.token("ag2", Role::Agent, None),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn scoped_admins_reach_only_their_tenant(app: TestApp) {
    let alice = app.customer("alice");
    let id = app.open(&alice, json!({"business_id": "shop"})).await;
    let scoped = app.token("boss", Role::Admin, Some("other"));
    assert_error(
        &app.get(&format!("/v1/sessions/{id}"), &scoped).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let global = app.token("root", Role::Admin, None);
    let (status, _) = app.get(&format!("/v1/sessions/{id}"), &global).await;
    assert_eq!(status, StatusCode::OK);
}

/// The same user id in two tenants is two people as far as a scoped token is concerned.
async fn a_tenant_scoped_identity_sees_only_its_tenant(app: TestApp) {
    let alice_a = app.token("alice", Role::Customer, Some("shopA"));
    let alice_b = app.token("alice", Role::Customer, Some("shopB"));
    let in_a = app.open(&alice_a, json!({"title": "mine"})).await;
    app.send(&alice_a, &in_a, "private").await;
    for (method, path, body) in endpoints(&in_a) {
        let got = app.call(method.clone(), &path, &alice_b, body).await;
        assert_error(&got, StatusCode::NOT_FOUND, "not_found");
    }
    let (_, list) = app.get("/v1/sessions", &alice_b).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 0, "{list}");
    assert_error(
        &app.get("/v1/sessions?business_id=shopA", &alice_b).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // An agent of another tenant assigned to a shopA session by a global admin: its own
    // tenant-scoped unread counts do not include it.
    let root = app.token("root", Role::Admin, None);
    let (s, _) = app
        .post(
            &format!("/v1/sessions/{in_a}/assign"),
            &root,
            json!({"agent_id": "outsider"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let outsider = app.agent("outsider", "shopB");
    let (_, unread) = app.get("/v1/me/unread", &outsider).await;
    assert_eq!(unread["total"], 0, "{unread}");
    assert_eq!(unread["sessions"].as_array().unwrap().len(), 0, "{unread}");
    assert_untouched_in(&app, &alice_a, &in_a).await;
}

async fn assert_untouched_in(app: &TestApp, owner: &As, id: &str) {
    let (_, s) = app.get(&format!("/v1/sessions/{id}"), owner).await;
    assert_eq!(s["title"], "mine");
    let (_, m) = app.get(&format!("/v1/sessions/{id}/messages"), owner).await;
    assert!(
        m["messages"]
            .as_array()
            .unwrap()
            .iter()
            .all(|m| m["content"] != "injected"),
        "{m}"
    );
}
