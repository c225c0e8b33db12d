//! Built-in accounts: `POST /v1/auth/login` issues a JWT the rest of the API accepts.

use crate::harness::{assert_error, on_both_stores, As, TestApp};
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(accounts_log_in_and_their_tokens_work);

async fn accounts_log_in_and_their_tokens_work(app: TestApp) {
    let backend = app.backend().await;
    let store = backend.store();
    use chatdesk_server::auth::accounts::add;
    let user = add(
        store.as_ref(),
        "user@example.com",
        "password",
        "customer",
        None,
        Some("Uma"),
    )
    .await
    .unwrap();
    add(
        store.as_ref(),
        "admin@example.com",
        "password",
        "admin",
        None,
        None,
    )
    .await
    .unwrap();
    let dup = add(
        store.as_ref(),
        "USER@example.com",
        "password",
        "customer",
        None,
        None,
    )
    .await;
    assert!(matches!(
        dup,
        Err(chatdesk_core::ServiceError::Conflict {
            code: "email_taken",
            ..
        })
    ));
    assert!(add(
        store.as_ref(),
        "x@example.com",
        "short",
        "customer",
        None,
        None
    )
    .await
    .is_err());
    backend.close().await;

    let (status, b) = app
        .post(
            "/v1/auth/login",
            &As::Nobody,
            json!({"email": "user@example.com", "password": "password"}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{b}");
    assert_eq!(b["token_type"], "Bearer");
    assert_eq!(b["user"]["id"], user.id.to_string());
    assert_eq!(b["user"]["role"], "customer");
    let token = As::Token(b["access_token"].as_str().unwrap().to_owned());
    let id = app.open(&token, json!({})).await;
    let (_, s) = app.get(&format!("/v1/sessions/{id}"), &token).await;
    assert_eq!(s["owner"]["id"], user.id.to_string());

    let (_, admin) = app
        .post(
            "/v1/auth/login",
            &As::Nobody,
            json!({"email": "admin@example.com", "password": "password"}),
        )
        .await;
    let admin = As::Token(admin["access_token"].as_str().unwrap().to_owned());
    let (status, _) = app.get(&format!("/v1/sessions/{id}"), &admin).await;
    assert_eq!(status, StatusCode::OK, "admins see every session");

    for bad in [
        json!({"email": "user@example.com", "password": "wrong-password"}),
        json!({"email": "nobody@example.com", "password": "password"}),
        json!({"email": "not an email", "password": "password"}),
    ] {
        assert_error(
            &app.post("/v1/auth/login", &As::Nobody, bad).await,
            StatusCode::UNAUTHORIZED,
            "invalid_credentials",
        );
    }
    assert_error(
        &app.post(
            "/v1/auth/login",
            &As::Nobody,
            json!({"email": "user@example.com"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
}
