//! Seed 003: start, update, end, status, history, cleanup; the idle job; and the document's
//! `SessionManager` class, run as written in node.

use crate::harness::{assert_error, on_both_stores, run_with, As, Kind, TestApp};
use chatdesk_server::Settings;
use reqwest::StatusCode;
use serde_json::json;

const BASE: &str = "/api/chat/sessions";

on_both_stores!(
    the_session_lifecycle_with_counters,
    errors_and_other_peoples_sessions
);

fn quick_idle(s: &mut Settings) {
    s.idle_timeout_secs = 0;
}

on_both_stores!(@with quick_idle; cleanup_ends_idle_sessions);

async fn the_session_lifecycle_with_counters(app: TestApp) {
    let me = app.customer("django_user");
    let (s, started) = app.post(&format!("{BASE}/start/"), &me, json!({})).await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    assert_eq!(
        (started["message"].as_str(), started["user"].as_str()),
        (Some("New session started"), Some("django_user"))
    );
    let id = started["session_id"].as_str().unwrap().to_owned();
    let (s, again) = app.post(&format!("{BASE}/start/"), &me, json!({})).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        again["session_id"],
        id.as_str(),
        "an active session is refreshed, not duplicated"
    );

    let update_path = format!("{BASE}/update/");
    let update = |activity: serde_json::Value| app.post(&update_path, &me, activity);
    for _ in 0..5 {
        update(json!({"session_id": id, "activity_type": "message_sent"})).await;
    }
    update(json!({"session_id": id, "activity_type": "conversation_started"})).await;
    update(json!({"session_id": id, "activity_type": "conversation_started"})).await;
    update(json!({"session_id": id, "activity_type": "response_received", "response_time": 1.5}))
        .await;
    let (s, last) = update(
        json!({"session_id": id, "activity_type": "response_received", "response_time": 0.9}),
    )
    .await;
    assert_eq!(s, StatusCode::OK, "{last}");
    assert_eq!(last["message"], "Session updated - response_received");
    assert_eq!(
        (
            last["total_messages_sent"].as_i64(),
            last["total_conversations"].as_i64()
        ),
        (Some(5), Some(2))
    );
    assert_eq!(last["average_response_time"], 1.2);

    let (_, status) = app.get(&format!("{BASE}/status/"), &me).await;
    assert_eq!(status["has_active_session"], true);
    assert_eq!(status["session_id"], id.as_str());
    assert_eq!(status["total_messages_sent"], 5);
    assert_eq!(status["average_response_time"], 1.2);
    assert!(status["duration_minutes"].as_f64().unwrap() >= 0.0);

    let (s, ended) = app
        .post(&format!("{BASE}/end/"), &me, json!({"session_id": id}))
        .await;
    assert_eq!(s, StatusCode::OK, "{ended}");
    assert_eq!(ended["message"], "Session ended");
    assert!(ended["ended_at"].is_string());
    assert_eq!(
        (
            ended["total_messages_sent"].as_i64(),
            ended["total_conversations"].as_i64()
        ),
        (Some(5), Some(2))
    );

    let (_, status) = app.get(&format!("{BASE}/status/"), &me).await;
    assert_eq!(
        status,
        json!({"has_active_session": false, "user": "django_user", "message": "No active session found"})
    );

    app.post(&format!("{BASE}/start/"), &me, json!({})).await;
    let (_, history) = app.get(&format!("{BASE}/history/"), &me).await;
    assert_eq!(history["user"], "django_user");
    assert_eq!(history["total_sessions"], 2);
    assert_eq!(history["sessions"][1]["is_active"], false);
    assert_eq!(history["sessions"][1]["total_messages_sent"], 5);
    assert_eq!(history["sessions"][0]["is_active"], true);
    assert_eq!(history["summary"]["total_messages_sent"], 5);
    assert_eq!(history["summary"]["total_conversations"], 2);
    assert!(history["summary"]["average_session_duration"].is_number());
}

async fn errors_and_other_peoples_sessions(app: TestApp) {
    let me = app.customer("me");
    let (_, started) = app.post(&format!("{BASE}/start/"), &me, json!({})).await;
    let id = started["session_id"].as_str().unwrap().to_owned();
    let django = |got: &(StatusCode, serde_json::Value), status: StatusCode, code: &str| {
        assert_eq!(got.0, status, "{}", got.1);
        assert_eq!(got.1["code"], code, "{}", got.1);
        assert!(got.1["error"].is_string(), "{}", got.1);
    };
    django(
        &app.post(&format!("{BASE}/start/"), &As::Nobody, json!({}))
            .await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    django(
        &app.get(&format!("{BASE}/status/"), &As::Nobody).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    django(
        &app.post(
            &format!("{BASE}/update/"),
            &me,
            json!({"session_id": id, "activity_type": "clicked"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_activity_type",
    );
    django(
        &app.post(
            &format!("{BASE}/update/"),
            &me,
            json!({"session_id": id, "activity_type": "response_received", "response_time": -2}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_response_time",
    );
    django(
        &app.post(
            &format!("{BASE}/update/"),
            &me,
            json!({"activity_type": "message_sent"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "missing_field",
    );
    django(
        &app.post(&format!("{BASE}/end/"), &me, json!({})).await,
        StatusCode::BAD_REQUEST,
        "missing_field",
    );
    let stranger = app.customer("stranger");
    django(
        &app.post(
            &format!("{BASE}/update/"),
            &stranger,
            json!({"session_id": id, "activity_type": "message_sent"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    django(
        &app.post(
            &format!("{BASE}/end/"),
            &stranger,
            json!({"session_id": id}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    app.post(&format!("{BASE}/end/"), &me, json!({"session_id": id}))
        .await;
    django(
        &app.post(
            &format!("{BASE}/update/"),
            &me,
            json!({"session_id": id, "activity_type": "message_sent"}),
        )
        .await,
        StatusCode::CONFLICT,
        "session_closed",
    );
}

async fn cleanup_ends_idle_sessions(app: TestApp) {
    let me = app.visitor();
    app.post(&format!("{BASE}/start/"), &me, json!({})).await;
    let other = app.customer("someone-else");
    app.post(&format!("{BASE}/start/"), &other, json!({})).await;
    let (s, cleaned) = app.post(&format!("{BASE}/cleanup/"), &me, json!({})).await;
    assert_eq!(s, StatusCode::OK, "{cleaned}");
    assert_eq!(
        cleaned["cleaned_sessions"], 1,
        "only the caller's own sessions"
    );
    assert_eq!(cleaned["message"], "Cleaned up 1 expired sessions");
    let (_, status) = app.get(&format!("{BASE}/status/"), &other).await;
    assert_eq!(status["has_active_session"], true);
}

/// The scheduled job ends idle sessions without anyone calling cleanup.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_idle_job_ends_sessions_on_its_schedule() {
    run_with(
        Kind::Sqlite,
        |s| {
            s.idle_timeout_secs = 1;
            s.idle_sweep_interval_secs = 1;
        },
        |app| async move {
            let me = app.customer("sleepy");
            app.post(&format!("{BASE}/start/"), &me, json!({})).await;
            let started = std::time::Instant::now();
            loop {
                let (_, status) = app.get(&format!("{BASE}/status/"), &me).await;
                if status["has_active_session"] == false {
                    break;
                }
                assert!(
                    started.elapsed().as_secs() < 10,
                    "the idle job did not end the session"
                );
                tokio::time::sleep(std::time::Duration::from_millis(200)).await;
            }
        },
    )
    .await;
}

/// The document's `SessionManager`, unmodified but for its base URL, driven by node in
/// `--dev` (the class sends no credential, so it is the shared `demo_user`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documents_session_manager_class_works_as_written() {
    run_with(
        Kind::Sqlite,
        |s| s.dev = true,
        |app| async move {
            let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/js/session_manager.mjs");
            let out = tokio::process::Command::new("node")
                .arg(script)
                .env("API_BASE", app.url("/api/chat/sessions"))
                .output()
                .await
                .expect("node runs");
            let stdout = String::from_utf8_lossy(&out.stdout);
            assert!(
                out.status.success(),
                "node failed: {}\n{stdout}",
                String::from_utf8_lossy(&out.stderr)
            );
            let report: serde_json::Value =
                serde_json::from_str(stdout.lines().last().unwrap()).unwrap();
            assert_eq!(report["status"]["has_active_session"], true, "{report}");
            assert_eq!(report["status"]["user"], "demo_user");
            assert_eq!(report["afterUpdates"]["total_messages_sent"], 2);
            assert_eq!(report["afterUpdates"]["average_response_time"], 0.5);
            assert_eq!(report["ended"]["message"], "Session ended");
            assert_eq!(report["storedAfterEnd"], serde_json::Value::Null);
            assert_eq!(report["history"]["total_sessions"], 1);
        },
    )
    .await;
    let _ = assert_error;
}
