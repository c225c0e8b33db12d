//! Bad requests of every kind get a 4xx with a stable code, never a 500.

use crate::harness::{assert_error, on_both_stores, run_with, As, Kind, TestApp, SECRET};
use chatdesk_server::auth::jwt::Claims;
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_stores!(
    malformed_requests_get_stable_4xx,
    credentials_that_do_not_prove_anything_get_401
);

async fn malformed_requests_get_stable_4xx(app: TestApp) {
    let who = app.customer("ivan");
    let id = app.open(&who, json!({})).await;
    let path = format!("/v1/sessions/{id}/messages");
    let raw = |body: &'static str, ctype: &'static str| {
        app.request(Method::POST, &path, &who)
            .header("content-type", ctype)
            .body(body)
            .send()
    };
    let got = crate::harness::split(raw("{\"content\": ", "application/json").await.unwrap()).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "malformed_json");
    let got = crate::harness::split(
        raw("content=hi", "application/x-www-form-urlencoded")
            .await
            .unwrap(),
    )
    .await;
    assert_error(
        &got,
        StatusCode::UNSUPPORTED_MEDIA_TYPE,
        "unsupported_media_type",
    );
    let got = crate::harness::split(raw("[1,2]", "application/json").await.unwrap()).await;
    assert_error(&got, StatusCode::BAD_REQUEST, "invalid_body");

    // Bodies over the limit (64 KiB by default) are refused before parsing.
    let huge = json!({"content": "x".repeat(70 * 1024)});
    assert_error(
        &app.post(&path, &who, huge).await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );
    assert_error(
        &app.post(
            "/v1/sessions",
            &who,
            json!({"metadata": {"x": "y".repeat(70 * 1024)}}),
        )
        .await,
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
    );

    // Ids that are not UUIDs, and UUIDs that do not exist.
    assert_error(
        &app.get("/v1/sessions/123", &who).await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
    );
    assert_error(
        &app.post(
            "/v1/sessions/not-a-uuid/messages",
            &who,
            json!({"content": "x"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
    );
    let missing = uuid::Uuid::now_v7();
    assert_error(
        &app.get(&format!("/v1/sessions/{missing}"), &who).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.post(
            &format!("/v1/sessions/{missing}/messages"),
            &who,
            json!({"content": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    // Unknown routes and methods answer in the same shape.
    assert_error(
        &app.get("/v1/nothing-here", &who).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.call(Method::PUT, "/v1/sessions", &who, Some(json!({})))
            .await,
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
    );

    let (_, s) = app.get(&format!("/v1/sessions/{id}"), &who).await;
    assert_eq!(s["last_seq"], 0, "none of that wrote anything");
}

async fn credentials_that_do_not_prove_anything_get_401(app: TestApp) {
    let expired = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &Claims {
            sub: "ivan".into(),
            exp: 1_000_000_000,
            iat: None,
            role: None,
            business_id: None,
            email: None,
            name: None,
        },
        &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
    )
    .unwrap();
    assert_error(
        &app.get("/v1/sessions", &As::Token(expired)).await,
        StatusCode::UNAUTHORIZED,
        "token_expired",
    );
    let forged = jsonwebtoken::encode(
        &jsonwebtoken::Header::default(),
        &Claims {
            sub: "ivan".into(),
            exp: 4_000_000_000,
            iat: None,
            role: Some("admin".into()),
            business_id: None,
            email: None,
            name: None,
        },
        &jsonwebtoken::EncodingKey::from_secret(b"some other secret"),
    )
    .unwrap();
    assert_error(
        &app.get("/v1/sessions", &As::Token(forged)).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert_error(
        &app.get("/v1/sessions", &As::Token("not.a.jwt".into()))
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert_error(
        &app.get("/v1/sessions", &As::Visitor("not-a-uuid".into()))
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_visitor_id",
    );
    let basic = app
        .client
        .get(app.url("/v1/sessions"))
        .header("authorization", "Basic YTpi")
        .send()
        .await
        .unwrap();
    assert_error(
        &crate::harness::split(basic).await,
        StatusCode::UNAUTHORIZED,
        "invalid_token",
    );
    assert_error(
        &app.get("/v1/me/unread", &As::Nobody).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
}

#[tokio::test]
async fn limits_are_configurable() {
    run_with(
        Kind::Sqlite,
        |s| {
            s.max_body_bytes = 200;
            s.max_message_chars = 5;
        },
        |app| async move {
            let who = app.customer("jan");
            let id = app.open(&who, json!({})).await;
            let path = format!("/v1/sessions/{id}/messages");
            assert_error(
                &app.post(&path, &who, json!({"content": "123456"})).await,
                StatusCode::BAD_REQUEST,
                "content_too_long",
            );
            assert_error(
                &app.post(&path, &who, json!({"content": "x".repeat(300)}))
                    .await,
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
            );
            let (status, _) = app.post(&path, &who, json!({"content": "12345"})).await;
            assert_eq!(status, StatusCode::CREATED);
        },
    )
    .await;
}

#[tokio::test]
async fn dev_mode_lets_anonymous_callers_in_as_demo_user() {
    run_with(
        Kind::Sqlite,
        |s| s.dev = true,
        |app| async move {
            let (status, b) = app.post("/v1/sessions", &As::Nobody, json!({})).await;
            assert_eq!(status, StatusCode::CREATED);
            assert_eq!(
                b["session"]["owner"],
                json!({"kind": "user", "id": "demo_user"})
            );
            // A credential that is present is still checked.
            assert_error(
                &app.get("/v1/sessions", &As::Token("bad".into())).await,
                StatusCode::UNAUTHORIZED,
                "invalid_token",
            );
        },
    )
    .await;
}

/// Tokens from another issuer, verified with its public key (ES256), are accepted; the same
/// claims signed with any other key are not.
#[tokio::test]
async fn tokens_signed_by_a_configured_public_key_are_accepted() {
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures");
    run_with(
        Kind::Sqlite,
        |s| {
            s.jwt_public_key_file = Some(format!("{fixtures}/es256-public.pem").into());
            s.jwt_public_key_algorithm = Some("ES256".into());
        },
        |app| async move {
            let private = std::fs::read(format!("{fixtures}/es256-private.pk8.pem")).unwrap();
            let claims = Claims {
                sub: "ext-user".into(),
                exp: 4_000_000_000,
                iat: None,
                role: Some("agent".into()),
                business_id: Some("shop".into()),
                email: None,
                name: None,
            };
            let token = jsonwebtoken::encode(
                &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::ES256),
                &claims,
                &jsonwebtoken::EncodingKey::from_ec_pem(&private).unwrap(),
            )
            .unwrap();
            let (status, list) = app.get("/v1/sessions", &As::Token(token)).await;
            assert_eq!(status, StatusCode::OK, "{list}");
            // Any other algorithm is refused, even signed with the server secret.
            let mut header = jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS384);
            header.kid = None;
            let other = jsonwebtoken::encode(
                &header,
                &claims,
                &jsonwebtoken::EncodingKey::from_secret(SECRET.as_bytes()),
            )
            .unwrap();
            assert_error(
                &app.get("/v1/sessions", &As::Token(other)).await,
                StatusCode::UNAUTHORIZED,
                "invalid_token",
            );
        },
    )
    .await;
}
