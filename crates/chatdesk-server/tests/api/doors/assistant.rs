//! Seed 001: `/api/sessions`. The document's curl tests send no credential: they pass in
//! `--dev`, where a `userId` is believed. In production a back end uses an API key.

use super::assert_nest_error;
use crate::harness::{on_both_stores, As, TestApp};
use chatdesk_server::Settings;
use reqwest::StatusCode;
use serde_json::json;

fn dev(s: &mut Settings) {
    s.dev = true;
}

on_both_stores!(@with dev; the_documents_curl_tests_in_dev_mode, crud_and_lookups);
on_both_stores!(production_needs_proof_of_who_the_user_is);

async fn the_documents_curl_tests_in_dev_mode(app: TestApp) {
    // 1. Test Session Creation
    let (s, created) = app
        .post("/api/sessions", &As::Nobody, json!({"businessId": "B0100001", "userId": "user_123", "locationId": "L001", "sessionType": "general"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    assert!(created["sessionId"].is_string());
    assert_eq!(created["businessId"], "B0100001");
    assert_eq!(created["userId"], "user_123");
    assert_eq!(created["locationId"], "L001");
    assert_eq!(created["sessionType"], "general");
    assert_eq!(created["isActive"], true);
    // The document's calls by session id and by business name no user: in --dev they work
    // as written (the front end's rights).
    let sid = created["sessionId"].as_str().unwrap();
    let (s, got) = app.get(&format!("/api/sessions/{sid}"), &As::Nobody).await;
    assert_eq!(s, StatusCode::OK, "{got}");
    let (s, patched) = app
        .patch(
            &format!("/api/sessions/{sid}"),
            &As::Nobody,
            json!({"title": "renamed"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{patched}");
    let (s, _) = app
        .get(&format!("/api/sessions/{sid}/messages"), &As::Nobody)
        .await;
    assert_eq!(s, StatusCode::OK);
    let (s, in_business) = app
        .get("/api/sessions/business/B0100001/active", &As::Nobody)
        .await;
    assert_eq!(s, StatusCode::OK, "{in_business}");
    assert!(in_business.to_string().contains(sid), "{in_business}");
    // 2. Test Session Retrieval
    let (s, active) = app
        .get(
            "/api/sessions/business/B0100001/user/user_123/active",
            &As::Nobody,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(active["sessionId"], created["sessionId"]);
    // 3. Test Session History
    let (s, history) = app
        .get(
            "/api/sessions/business/B0100001/user/user_123/history?limit=20",
            &As::Nobody,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(history.as_array().unwrap().len(), 1);
    // Defaults: location L0100001, type general.
    let (_, defaults) = app
        .post(
            "/api/sessions",
            &As::Nobody,
            json!({"businessId": "B0100001", "userId": "user_456"}),
        )
        .await;
    assert_eq!(
        (
            defaults["locationId"].as_str(),
            defaults["sessionType"].as_str()
        ),
        (Some("L0100001"), Some("general"))
    );
}

async fn crud_and_lookups(app: TestApp) {
    let new = |user: &str| json!({"businessId": "B1", "userId": user});
    let (_, a) = app.post("/api/sessions", &As::Nobody, new("u1")).await;
    let (_, b) = app.post("/api/sessions", &As::Nobody, new("u1")).await;
    let id = a["sessionId"].as_str().unwrap().to_owned();
    let (s, got) = app
        .get(
            &format!("/api/sessions/{id}"),
            &As::Token(service_token(&app)),
        )
        .await;
    assert_eq!(
        (s, got["sessionId"].as_str()),
        (StatusCode::OK, Some(id.as_str()))
    );
    let (_, msgs) = app
        .get(
            &format!("/api/sessions/{id}/messages"),
            &As::Token(service_token(&app)),
        )
        .await;
    assert_eq!(msgs, json!([]));
    let (_, history) = app
        .get("/api/sessions/business/B1/user/u1/history", &As::Nobody)
        .await;
    assert_eq!(history.as_array().unwrap().len(), 2);
    assert_eq!(history[0]["sessionId"], b["sessionId"], "newest first");
    let svc = As::Token(service_token(&app));
    let (_, biz) = app.get("/api/sessions/business/B1/active", &svc).await;
    assert_eq!(biz.as_array().unwrap().len(), 2);
    // PATCH (a service may end it) and DELETE.
    let (s, patched) = app
        .patch(
            &format!("/api/sessions/{id}"),
            &svc,
            json!({"title": "Renamed", "status": "ended"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{patched}");
    assert_eq!(
        (patched["title"].as_str(), patched["isActive"].as_bool()),
        (Some("Renamed"), Some(false))
    );
    let (_, active) = app.get("/api/sessions/business/B1/active", &svc).await;
    assert_eq!(active.as_array().unwrap().len(), 1);
    let (s, body) = app.delete(&format!("/api/sessions/{id}"), &svc).await;
    assert_eq!((s, body), (StatusCode::OK, serde_json::Value::Null));
    let got = app.get(&format!("/api/sessions/{id}"), &svc).await;
    assert_nest_error(&got, StatusCode::NOT_FOUND, "not_found");
    assert_eq!(got.1["message"], format!("Session {id} not found"));
    assert_nest_error(
        &app.delete(&format!("/api/sessions/{id}"), &svc).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // No active session for a user: 404, which the document's client catches.
    assert_nest_error(
        &app.get("/api/sessions/business/B1/user/nobody/active", &As::Nobody)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

fn service_token(app: &TestApp) -> String {
    match app.token(
        "backend",
        chatdesk_core::identity::Role::Service,
        Some("B1"),
    ) {
        As::Token(t) => t,
        _ => unreachable!(),
    }
}

async fn production_needs_proof_of_who_the_user_is(app: TestApp) {
    let body = json!({"businessId": "B0100001", "userId": "user_123"});
    assert_nest_error(
        &app.post("/api/sessions", &As::Nobody, body.clone()).await,
        StatusCode::UNAUTHORIZED,
        "unverified_user",
    );
    assert_nest_error(
        &app.get(
            "/api/sessions/business/B0100001/user/user_123/active",
            &As::Nobody,
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "unverified_user",
    );
    // A call that names nobody needs a credential.
    assert_nest_error(
        &app.get("/api/sessions/business/B0100001/active", &As::Nobody)
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    // A back end with an API key for the business acts for its users.
    let key = app.api_key("B0100001").await;
    let (s, created) = app.post("/api/sessions", &key, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED, "{created}");
    let (s, _) = app
        .get("/api/sessions/business/B0100001/user/user_123/active", &key)
        .await;
    assert_eq!(s, StatusCode::OK);
    // A key of another business may not.
    let other = app.api_key("B0200002").await;
    assert_nest_error(
        &app.post("/api/sessions", &other, body.clone()).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    // A user's own token works for that user only.
    let user = app.customer("user_123");
    let (s, _) = app.post("/api/sessions", &user, body.clone()).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_nest_error(
        &app.post(
            "/api/sessions",
            &user,
            json!({"businessId": "B0100001", "userId": "user_999"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, mine) = app
        .get(
            "/api/sessions/business/B0100001/user/user_123/history",
            &user,
        )
        .await;
    assert_eq!(mine.as_array().unwrap().len(), 2);
    assert_nest_error(
        &app.get(
            "/api/sessions/business/B0100001/user/user_999/history",
            &user,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_nest_error(
        &app.post("/api/sessions", &key, json!({"userId": "x"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
}
