//! Operations: health, readiness, metrics, OpenAPI, docs, and a shutdown that loses nothing.

use crate::harness::{on_both_stores, start, As, Kind, TestApp, SECRET};
use chatdesk_server::Settings;
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(health_readiness_and_metrics, openapi_and_docs_page);

async fn health_readiness_and_metrics(app: TestApp) {
    let (status, b) = app.get("/healthz", &As::Nobody).await;
    assert_eq!((status, b), (StatusCode::OK, json!({"status": "ok"})));
    let (status, b) = app.get("/readyz", &As::Nobody).await;
    assert_eq!((status, b), (StatusCode::OK, json!({"status": "ready"})));

    let who = app.customer("mia");
    let id = app.open(&who, json!({})).await;
    app.send(&who, &id, "counted").await;
    app.get("/v1/sessions/nope", &who).await;
    let text = app
        .client
        .get(app.url("/metrics"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(text.contains(r#"chatdesk_http_requests_total{method="POST",route="/v1/sessions/{id}/messages",status="201"} 1"#), "{text}");
    assert!(
        text.contains(r#"route="/v1/sessions/{id}",status="400""#),
        "{text}"
    );
    assert!(
        text.contains("chatdesk_http_request_duration_seconds_bucket"),
        "{text}"
    );
    assert!(
        text.contains("chatdesk_messages_appended_total 1"),
        "{text}"
    );
    assert!(
        text.contains("chatdesk_commit_batch_size_count 1"),
        "{text}"
    );
}

async fn openapi_and_docs_page(app: TestApp) {
    let (status, doc) = app.get("/openapi.json", &As::Nobody).await;
    assert_eq!(status, StatusCode::OK);
    assert!(doc["openapi"].as_str().unwrap().starts_with("3."));
    let paths = doc["paths"].as_object().unwrap();
    for p in [
        "/v1/sessions",
        "/v1/sessions/{id}",
        "/v1/sessions/{id}/end",
        "/v1/sessions/{id}/messages",
        "/v1/sessions/{id}/read",
        "/v1/me/unread",
        "/v1/auth/login",
    ] {
        assert!(
            paths.contains_key(p),
            "{p} missing from the OpenAPI document"
        );
    }
    for p in [
        "/api/v1/chat/session",
        "/api/sessions",
        "/api/sessions/business/{businessId}/user/{userId}/active",
        "/api/chat/start",
        "/api/v1/oss-chat/history",
        "/api/chat/sessions/start/",
        "/chat/messages",
        "/chat/conversations/{id}/read",
        "/auth/login",
    ] {
        assert!(
            paths.contains_key(p),
            "door path {p} missing from the OpenAPI document"
        );
    }
    assert!(doc["paths"]["/v1/sessions"]["post"]["requestBody"].is_object());
    assert!(doc["components"]["schemas"]["SessionView"].is_object());
    assert!(doc["components"]["securitySchemes"]["bearer"].is_object());
    let page = app.client.get(app.url("/docs")).send().await.unwrap();
    assert_eq!(page.status(), StatusCode::OK);
    let html = page.text().await.unwrap();
    assert!(html.contains("/openapi.json"));
    assert!(
        !html.contains("https://"),
        "the docs page must work offline"
    );
}

/// Shut down while sends are in flight: every send that was acknowledged is in the database
/// after a restart, and none is there twice.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_drains_and_loses_no_acknowledged_message() {
    let dir = tempfile::tempdir().unwrap();
    let mut settings = Settings::for_database(format!(
        "sqlite://{}",
        dir.path().join("drain.db").display()
    ));
    settings.jwt_secret = Some(SECRET.into());
    let running = start(settings.clone()).await;
    let app = running.app.clone();
    let who = app.customer("nia");
    let id = app.open(&who, json!({})).await;
    let sends: Vec<_> = (0..60)
        .map(|i| {
            let (app, who, id) = (app.clone(), who.clone(), id.clone());
            tokio::spawn(async move {
                let (status, m) = app
                    .post(
                        &format!("/v1/sessions/{id}/messages"),
                        &who,
                        json!({"content": format!("m{i}")}),
                    )
                    .await;
                (status == StatusCode::CREATED).then(|| m["seq"].as_i64().unwrap())
            })
        })
        .collect();
    tokio::task::yield_now().await;
    running.stop().await;
    let mut acked: Vec<i64> = Vec::new();
    for s in sends {
        if let Ok(Some(seq)) = s.await {
            acked.push(seq);
        }
    }
    let restarted = start(settings).await;
    let (_, list) = restarted
        .app
        .get(&format!("/v1/sessions/{id}/messages?limit=200"), &who)
        .await;
    let stored: Vec<i64> = list["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    restarted.stop().await;
    assert_eq!(
        stored,
        (1..=stored.len() as i64).collect::<Vec<_>>(),
        "gap-free after restart"
    );
    for seq in &acked {
        assert!(stored.contains(seq), "acknowledged message {seq} was lost");
    }
    let _ = Kind::Sqlite;
}

/// Each door can be switched off; the others and the native API stay.
#[tokio::test]
async fn doors_can_be_switched_off() {
    crate::harness::run_with(
        Kind::Sqlite,
        |s| {
            s.door_storefront = false;
            s.door_support = false;
        },
        |app| async move {
            let who = app.customer("1");
            let (status, _) = app.post("/api/v1/chat/session", &who, json!({})).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            let (status, _) = app.get("/chat/conversations", &who).await;
            assert_eq!(status, StatusCode::NOT_FOUND);
            let (status, _) = app.post("/api/chat/sessions/start/", &who, json!({})).await;
            assert_eq!(status, StatusCode::CREATED, "the activity door is still on");
            let (_, doc) = app.get("/openapi.json", &As::Nobody).await;
            assert!(doc["paths"].get("/api/v1/chat/session").is_none());
        },
    )
    .await;
}

/// A preflight from `origin`: the allowed origin it was answered with, if any.
async fn preflight(app: &TestApp, origin: &str) -> Option<String> {
    let r = app
        .client
        .request(reqwest::Method::OPTIONS, app.url("/v1/sessions"))
        .header("origin", origin)
        .header("access-control-request-method", "POST")
        .header(
            "access-control-request-headers",
            "authorization, content-type",
        )
        .send()
        .await
        .unwrap();
    r.headers()
        .get("access-control-allow-origin")
        .map(|v| v.to_str().unwrap().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cross_origin_access_is_closed_unless_configured() {
    crate::harness::run(crate::harness::Kind::Sqlite, |app| async move {
        assert_eq!(preflight(&app, "https://shop.example").await, None);
    })
    .await;
    crate::harness::run_with(
        crate::harness::Kind::Sqlite,
        |s| s.cors_allowed_origins = vec!["https://shop.example".into()],
        |app| async move {
            assert_eq!(
                preflight(&app, "https://shop.example").await.as_deref(),
                Some("https://shop.example")
            );
            assert_eq!(preflight(&app, "https://evil.example").await, None);
        },
    )
    .await;
}

/// Every error code the source can answer with is in README's table: codes are found where
/// errors are made (`Invalid::new`, `bad_request`, `unauthenticated`, `conflict`, a status
/// and a code, a parser's `code = …`), so a new one cannot go undocumented.
#[test]
fn every_error_code_is_documented() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let readme = std::fs::read_to_string(root.join("README.md")).unwrap();
    let mut codes = std::collections::BTreeSet::new();
    let mut dirs = vec![root.join("crates")];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                if !path.ends_with("tests") && !path.ends_with("target") {
                    dirs.push(path);
                }
            } else if path.extension().is_some_and(|e| e == "rs") {
                codes.extend(error_codes(&std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    assert!(
        codes.len() > 50,
        "found {} codes: the scan is broken",
        codes.len()
    );
    let missing: Vec<_> = codes
        .iter()
        .filter(|c| !readme.contains(&format!("`{c}`")))
        .collect();
    assert!(missing.is_empty(), "codes missing from README: {missing:?}");
}

/// The codes in one source file: the first string literal after each way of making an error
/// (and for `Invalid::new`, the second argument).
fn error_codes(src: &str) -> Vec<String> {
    let literal = |rest: &str| -> Option<String> {
        let rest = rest.trim_start().strip_prefix('"')?;
        let end = rest.find('"')?;
        let code = &rest[..end];
        (!code.is_empty() && code.chars().all(|c| c.is_ascii_lowercase() || c == '_'))
            .then(|| code.to_owned())
    };
    let mut found = Vec::new();
    for marker in [
        "bad_request(",
        "unauthenticated(",
        "conflict(",
        "code = ",
        "StatusCode::",
    ] {
        for (at, _) in src.match_indices(marker) {
            let rest = &src[at + marker.len()..];
            let rest = match marker {
                // `StatusCode::NAME, "code"`: skip the name and its comma.
                "StatusCode::" => match rest.split_once(',') {
                    Some((name, after))
                        if name.chars().all(|c| c.is_ascii_uppercase() || c == '_') =>
                    {
                        after
                    }
                    _ => continue,
                },
                _ => rest,
            };
            found.extend(literal(rest));
        }
    }
    for (at, _) in src.match_indices("Invalid::new(") {
        let rest = &src[at + "Invalid::new(".len()..];
        if let Some((_, after_field)) = rest.split_once(',') {
            found.extend(literal(after_field));
        }
    }
    found
}
