//! The authorization table, checked whole: every kind of actor × sessions of every kind of
//! owner and tenant × every session endpoint of `/v1`, the doors that name a session, and the
//! Socket.IO events that do (`tests/js/authz_sockets.mjs`, over the official client).
//! The expected answer comes from the rule table written out here (an oracle independent of
//! the core's `authz`): allowed is 2xx, not allowed is 404, and nothing a refused caller sent
//! is written.

use crate::harness::{on_both_stores, As, TestApp};
use chatdesk_core::identity::Role;
use reqwest::{Method, StatusCode};
use serde_json::{json, Value};

on_both_stores!(
    every_actor_reaches_exactly_what_the_rule_table_allows,
    every_actor_reaches_exactly_what_the_rule_table_allows_over_socket_io
);

/// Who an actor is, as the rule table sees it.
#[derive(Clone, Copy, Debug, PartialEq)]
enum Kind {
    Visitor,
    Customer,
    Agent,
    Service,
    Admin,
}

struct Actor {
    name: &'static str,
    kind: Kind,
    /// The user id (or visitor UUID) it is, and the tenant its credential is scoped to.
    id: String,
    scope: Option<&'static str>,
    who: As,
}

struct Owned {
    id: String,
    number: i64,
    owner: String,
    tenant: &'static str,
}

/// The rule table (README, "Who may do what").
fn may_see(a: &Actor, s: &Owned) -> bool {
    if a.scope.is_some_and(|t| t != s.tenant) {
        return false;
    }
    match a.kind {
        Kind::Visitor | Kind::Customer => a.id == s.owner,
        Kind::Agent | Kind::Service => s.tenant == a.scope.unwrap_or("default") || a.id == s.owner,
        Kind::Admin => true,
    }
}

const VISITOR: &str = "6a1f3a4e-8c1b-4f7e-9a55-0d5c1e2b3a44";
const OTHER_VISITOR: &str = "7b2e4b5f-9d2c-4a8f-8b66-1e6d2f3c4b55";

async fn actors(app: &TestApp) -> Vec<Actor> {
    let user = |name, kind, id: &str, role, scope: Option<&'static str>| Actor {
        name,
        kind,
        id: id.to_owned(),
        scope,
        who: app.token(id, role, scope),
    };
    vec![
        Actor {
            name: "visitor",
            kind: Kind::Visitor,
            id: VISITOR.into(),
            scope: None,
            who: As::Visitor(VISITOR.into()),
        },
        Actor {
            name: "another visitor",
            kind: Kind::Visitor,
            id: OTHER_VISITOR.into(),
            scope: None,
            who: As::Visitor(OTHER_VISITOR.into()),
        },
        user("alice", Kind::Customer, "alice", Role::Customer, None),
        user(
            "alice in shopB",
            Kind::Customer,
            "alice",
            Role::Customer,
            Some("shopB"),
        ),
        user("bob", Kind::Customer, "bob", Role::Customer, None),
        user(
            "agent of shopA",
            Kind::Agent,
            "ag-a",
            Role::Agent,
            Some("shopA"),
        ),
        user(
            "agent of shopB",
            Kind::Agent,
            "ag-b",
            Role::Agent,
            Some("shopB"),
        ),
        user("agent of default", Kind::Agent, "ag-d", Role::Agent, None),
        user("admin", Kind::Admin, "root", Role::Admin, None),
        user(
            "admin of shopB",
            Kind::Admin,
            "boss-b",
            Role::Admin,
            Some("shopB"),
        ),
        Actor {
            name: "API key of shopA",
            kind: Kind::Service,
            id: "api-key".into(),
            scope: Some("shopA"),
            who: app.api_key("shopA").await,
        },
    ]
}

async fn own(app: &TestApp, who: &As, owner: &str, tenant: &'static str) -> Owned {
    let (status, body) = app
        .post(
            "/v1/sessions",
            who,
            json!({"business_id": tenant, "force_new": true, "title": "mine"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let id = body["session"]["id"].as_str().unwrap().to_owned();
    app.send(who, &id, "first").await;
    Owned {
        number: body["session"]["number"].as_i64().unwrap(),
        id,
        owner: owner.into(),
        tenant,
    }
}

/// One session each for four owners in three tenants: a visitor, alice in shopA and in
/// shopB, and bob.
async fn owned_by_each(app: &TestApp, actors: &[Actor]) -> [Owned; 4] {
    let by = |name: &str| actors.iter().find(|a| a.name == name).unwrap();
    [
        own(app, &by("visitor").who, VISITOR, "default").await,
        own(app, &by("alice").who, "alice", "shopA").await,
        own(app, &by("alice in shopB").who, "alice", "shopB").await,
        own(app, &by("bob").who, "bob", "default").await,
    ]
}

/// Every endpoint that names one session, with a harmless body. `false`: a read.
fn endpoints(s: &Owned) -> Vec<(Method, String, Option<Value>, bool)> {
    let (id, n) = (&s.id, s.number);
    vec![
        (Method::GET, format!("/v1/sessions/{id}"), None, false),
        (
            Method::GET,
            format!("/v1/sessions/{id}/messages"),
            None,
            false,
        ),
        (Method::GET, format!("/v1/sessions/{id}/stats"), None, false),
        (
            Method::GET,
            format!("/v1/sessions/{id}/events"),
            None,
            false,
        ),
        (
            Method::PATCH,
            format!("/v1/sessions/{id}"),
            Some(json!({"title": "mine"})),
            true,
        ),
        (
            Method::POST,
            format!("/v1/sessions/{id}/messages"),
            Some(json!({"content": "written"})),
            true,
        ),
        (
            Method::POST,
            format!("/v1/sessions/{id}/read"),
            Some(json!({"up_to_seq": 1})),
            true,
        ),
        (Method::GET, format!("/api/sessions/{id}"), None, false),
        (Method::GET, format!("/api/chat/session/{id}"), None, false),
        (Method::GET, format!("/chat/conversations/{n}"), None, false),
        (
            Method::GET,
            format!("/api/v1/chat/session/{n}"),
            None,
            false,
        ),
    ]
}

/// Doors whose callers are only some kinds (the document says who calls it): outside them
/// a door refuses before it looks a session up, which is no leak.
fn door_serves(path: &str, a: &Actor) -> bool {
    if path.starts_with("/chat/conversations") {
        return matches!(a.kind, Kind::Customer | Kind::Agent | Kind::Admin);
    }
    true
}

async fn every_actor_reaches_exactly_what_the_rule_table_allows(app: TestApp) {
    let actors = actors(&app).await;
    let by = |name: &str| actors.iter().find(|a| a.name == name).unwrap();
    let sessions = owned_by_each(&app, &actors).await;
    let mut checked = 0;
    for s in &sessions {
        for a in &actors {
            let allowed = may_see(a, s);
            for (method, path, body, _) in endpoints(s) {
                if !door_serves(&path, a) {
                    continue;
                }
                let r = app
                    .request(method.clone(), &path, &a.who)
                    .json(&body.clone().unwrap_or(json!({})))
                    .send()
                    .await
                    .unwrap();
                let status = r.status();
                drop(r);
                if allowed {
                    assert!(
                        status.is_success(),
                        "{} was refused {method} {path} ({status}) on {}'s session in {}",
                        a.name,
                        s.owner,
                        s.tenant
                    );
                } else {
                    assert_eq!(
                        status,
                        StatusCode::NOT_FOUND,
                        "{} reached {method} {path} on {}'s session in {}",
                        a.name,
                        s.owner,
                        s.tenant
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked > 400, "{checked} probes");
    // Refused writes left nothing: every message in a session is its owner's first one or
    // came from someone the table allows.
    let root = &by("admin").who;
    for s in &sessions {
        let (_, list) = app
            .get(&format!("/v1/sessions/{}/messages?limit=200", s.id), root)
            .await;
        let writers: Vec<&str> = list["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["content"] == "written")
            .map(|m| m["sender_id"].as_str().unwrap_or_default())
            .collect();
        let allowed = actors.iter().filter(|a| may_see(a, s)).count();
        assert_eq!(writers.len(), allowed, "{}: {writers:?}", s.id);
    }
}

/// The handshake token an actor's credential is, for the socket.
fn handshake_token(who: &As) -> String {
    match who {
        As::Token(t) | As::Visitor(t) | As::ApiKey(t) => t.clone(),
        As::Nobody | As::User { .. } => unreachable!("every actor has a handshake credential"),
    }
}

async fn every_actor_reaches_exactly_what_the_rule_table_allows_over_socket_io(app: TestApp) {
    let actors = actors(&app).await;
    let by = |name: &str| actors.iter().find(|a| a.name == name).unwrap();
    let sessions = owned_by_each(&app, &actors).await;
    let probes = json!({
        "actors": actors.iter().map(|a| json!({"name": a.name, "token": handshake_token(&a.who)})).collect::<Vec<_>>(),
        "sessions": sessions.iter().map(|s| json!({"id": s.id, "number": s.number})).collect::<Vec<_>>(),
    });
    let report =
        crate::realtime::node(&app, "authz_sockets.mjs", &[("PROBES", probes.to_string())]).await;
    let results = report["results"].as_array().expect("a report");
    assert_eq!(results.len(), actors.len() * sessions.len() * 4);
    for r in results {
        let a = by(r["actor"].as_str().unwrap());
        let s = sessions.iter().find(|s| s.id == r["session"]).unwrap();
        if may_see(a, s) {
            assert_eq!(
                r["ok"], true,
                "{} was refused {} on {}'s session in {}: {r}",
                a.name, r["event"], s.owner, s.tenant
            );
        } else {
            assert_eq!(
                r["code"], "not_found",
                "{} reached {} on {}'s session in {}: {r}",
                a.name, r["event"], s.owner, s.tenant
            );
        }
    }
    // Refused sends left nothing: one socket-written message per actor the table allows.
    let root = &by("admin").who;
    for s in &sessions {
        let (_, list) = app
            .get(&format!("/v1/sessions/{}/messages?limit=200", s.id), root)
            .await;
        let written = list["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["content"] == "socket-written")
            .count();
        let allowed = actors.iter().filter(|a| may_see(a, s)).count();
        assert_eq!(written, allowed, "{}", s.id);
    }
}
