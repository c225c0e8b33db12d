//! Seed 000: `POST /api/v1/chat/session` with `force_new`, guests, Option 2, and the sidebar.

use super::assert_nest_error;
use crate::harness::{on_both_stores, As, TestApp};
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(
    the_documents_three_curl_tests,
    guests_get_sessions_by_visitor_id,
    option_two_always_creates,
    sidebar_history_and_sending,
    strangers_and_anonymous_callers_are_refused,
);

async fn the_documents_three_curl_tests(app: TestApp) {
    let jwt = app.customer("1");
    // Test 1: Create first session -> Session ID = 1
    let (s1, b1) = app
        .post("/api/v1/chat/session", &jwt, json!({"force_new": true}))
        .await;
    assert_eq!(s1, StatusCode::CREATED);
    assert_eq!(b1["session"]["id"], "1");
    assert_eq!(b1["is_new"], true);
    assert_eq!(b1["session"]["customer_id"], 1);
    assert_eq!(b1["session"]["visitor_id"], json!(null));
    assert!(b1["session"]["created_at"].is_string() && b1["session"]["updated_at"].is_string());
    // Test 2: Create second session (same user) -> Session ID = 2
    let (_, b2) = app
        .post("/api/v1/chat/session", &jwt, json!({"force_new": true}))
        .await;
    assert_eq!(b2["session"]["id"], "2");
    assert_eq!(b2["is_new"], true);
    // Test 3: Get existing session (no force_new) -> Session ID = 2 (last active session)
    let (s3, b3) = app.post("/api/v1/chat/session", &jwt, json!({})).await;
    assert_eq!(s3, StatusCode::OK);
    assert_eq!(b3["session"]["id"], "2");
    assert_eq!(b3["is_new"], false);
    assert_eq!(b3["session"]["status"], "active");
}

async fn guests_get_sessions_by_visitor_id(app: TestApp) {
    let visitor = uuid::Uuid::new_v4().to_string();
    let (s, b) = app
        .post(
            "/api/v1/chat/session",
            &As::Nobody,
            json!({"visitor_id": visitor}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    assert_eq!(b["session"]["visitor_id"], visitor.as_str());
    assert_eq!(b["session"]["customer_id"], json!(null));
    let (_, again) = app
        .post(
            "/api/v1/chat/session",
            &As::Nobody,
            json!({"visitor_id": visitor}),
        )
        .await;
    assert_eq!(
        again["session"]["id"], b["session"]["id"],
        "the same guest resumes"
    );
    // The document's workaround: a new visitor_id is a new session.
    let (_, other) = app
        .post(
            "/api/v1/chat/session",
            &As::Nobody,
            json!({"visitor_id": uuid::Uuid::new_v4().to_string()}),
        )
        .await;
    assert_ne!(other["session"]["id"], b["session"]["id"]);
    let got = app
        .post(
            "/api/v1/chat/session",
            &As::Nobody,
            json!({"visitor_id": "guest-42"}),
        )
        .await;
    assert_nest_error(&got, StatusCode::BAD_REQUEST, "invalid_visitor_id");
}

async fn option_two_always_creates(app: TestApp) {
    let jwt = app.customer("7");
    let (_, a) = app.post("/api/v1/chat/session/new", &jwt, json!({})).await;
    let (s, b) = app.post("/api/v1/chat/session/new", &jwt, json!({})).await;
    assert_eq!(s, StatusCode::CREATED);
    assert_ne!(a["session"]["id"], b["session"]["id"]);
    assert_eq!(b["is_new"], true);
}

async fn sidebar_history_and_sending(app: TestApp) {
    let jwt = app.customer("8");
    let (_, first) = app
        .post(
            "/api/v1/chat/session",
            &jwt,
            json!({"force_new": true, "title": "Chat về áo thun"}),
        )
        .await;
    let (_, second) = app
        .post(
            "/api/v1/chat/session",
            &jwt,
            json!({"force_new": true, "title": "Hỏi về shipping"}),
        )
        .await;
    let id = first["session"]["id"].as_str().unwrap();
    let (s, sent) = app
        .post(
            &format!("/api/v1/chat/session/{id}/messages"),
            &jwt,
            json!({"content": "Tìm quần jeans"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sent}");
    assert_eq!(sent["message"]["session_id"], id);
    assert_eq!(sent["message"]["seq"], 1);
    let (_, list) = app.get("/api/v1/chat/sessions", &jwt).await;
    let ids: Vec<_> = list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].clone())
        .collect();
    assert_eq!(
        ids,
        vec![
            first["session"]["id"].clone(),
            second["session"]["id"].clone()
        ],
        "the one just written to comes first"
    );
    let (_, history) = app
        .get(&format!("/api/v1/chat/session/{id}/messages"), &jwt)
        .await;
    assert_eq!(history["messages"][0]["content"], "Tìm quần jeans");
    assert_eq!(history["messages"][0]["sender_type"], "customer");
    let (_, one) = app.get(&format!("/api/v1/chat/session/{id}"), &jwt).await;
    assert_eq!(one["session"]["title"], "Chat về áo thun");
}

async fn strangers_and_anonymous_callers_are_refused(app: TestApp) {
    let owner = app.customer("9");
    let (_, b) = app.post("/api/v1/chat/session", &owner, json!({})).await;
    let id = b["session"]["id"].as_str().unwrap().to_owned();
    let stranger = app.customer("10");
    assert_nest_error(
        &app.get(&format!("/api/v1/chat/session/{id}"), &stranger)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_nest_error(
        &app.get(&format!("/api/v1/chat/session/{id}/messages"), &stranger)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_nest_error(
        &app.post(
            &format!("/api/v1/chat/session/{id}/messages"),
            &stranger,
            json!({"content": "hi"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_nest_error(
        &app.post("/api/v1/chat/session", &As::Nobody, json!({}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_nest_error(
        &app.get("/api/v1/chat/session/abc", &owner).await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
    );
    assert_nest_error(
        &app.post("/api/v1/chat/session", &owner, json!({"force_new": "yes"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
}
