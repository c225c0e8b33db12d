//! Seed 002: the three user flows, error bodies, the `/api/v1/oss-chat` alias, and identity:
//! `oss_user_id` needs `user_hash` unless the deployment trusts user ids.

use crate::harness::{on_both_stores, As, TestApp};
use chatdesk_server::http::doors::UserHash;
use chatdesk_server::Settings;
use reqwest::StatusCode;
use serde_json::{json, Value};

const SECRET: &str = "identity-secret";
const BROWSER: &str = "550e8400-e29b-41d4-a716-446655440000";

fn with_secret(s: &mut Settings) {
    s.identity_secret = Some(SECRET.into());
}

fn trusting(s: &mut Settings) {
    s.trust_unverified_user_ids = true;
}

on_both_stores!(@with with_secret;
    flow_one_and_three_anonymous_then_login,
    flow_two_logged_in_user,
    errors_are_in_the_documents_shape,
    the_oss_chat_alias_serves_the_same_endpoints,
    the_native_api_takes_a_user_hash_in_headers,
);
on_both_stores!(@with trusting; the_documents_requests_as_written_where_user_ids_are_trusted);
on_both_stores!(@with dev; in_dev_the_bare_contact_call_works_as_written);

fn dev(s: &mut Settings) {
    s.dev = true;
}

async fn in_dev_the_bare_contact_call_works_as_written(app: TestApp) {
    let (_, started) = app
        .post(
            "/api/chat/start",
            &As::Nobody,
            json!({"browser_uuid": BROWSER, "topic": "t"}),
        )
        .await;
    let (s, body) = app
        .post("/api/chat/contact", &As::Nobody, json!({"session_id": started["session_id"], "contact_name": "John Doe", "contact_email": "john@company.com"}))
        .await;
    assert_eq!(s, StatusCode::OK, "{body}");
    // The document's session look-up names only the session.
    let id = started["session_id"].as_str().unwrap();
    let (s, details) = app
        .get(&format!("/api/chat/session/{id}"), &As::Nobody)
        .await;
    assert_eq!(s, StatusCode::OK, "{details}");
    assert_eq!(details["contact"]["contact_name"], "John Doe");
}

fn hash(user: &str) -> String {
    UserHash::compute(SECRET, user)
}

#[track_caller]
fn assert_livechat_error(got: &(StatusCode, Value), status: StatusCode, error: &str, code: &str) {
    assert_eq!(got.0, status, "{}", got.1);
    assert_eq!(got.1["error"], error, "{}", got.1);
    assert_eq!(got.1["code"], code, "{}", got.1);
}

async fn flow_one_and_three_anonymous_then_login(app: TestApp) {
    // 1-3. Anonymous user starts a chat with browser_uuid.
    let (s, started) = app
        .post("/api/chat/start", &As::Nobody, json!({"browser_uuid": BROWSER, "topic": "Pertanyaan tentang izin usaha", "priority": "normal", "user_agent": "Mozilla/5.0"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    assert_eq!(started["status"], "waiting");
    assert_eq!(started["message"], "Chat session started successfully");
    assert_eq!(started["requires_contact"], true);
    let session = started["session_id"].as_str().unwrap().to_owned();
    // 4. Contact information.
    let (s, contact) = app
        .post(
            "/api/chat/contact",
            &As::Nobody,
            json!({"session_id": session, "browser_uuid": BROWSER, "contact_name": "John Doe", "contact_email": "john@company.com",
                   "contact_phone": "+6281234567890", "position": "Manager", "company_name": "PT. Example"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{contact}");
    assert_eq!(contact["message"], "Contact information set successfully");
    assert!(uuid::Uuid::parse_str(contact["contact_id"].as_str().unwrap()).is_ok());
    // 5. The chat: the visitor writes, an agent (a built-in account) answers.
    let visitor = As::Visitor(BROWSER.into());
    app.send(&visitor, &session, "Halo, saya butuh bantuan")
        .await;
    let agent_id = app.account("agent@example.com", "agent").await;
    let agent = app.token(
        &agent_id.to_string(),
        chatdesk_core::identity::Role::Agent,
        None,
    );
    app.send(&agent, &session, "Terima kasih atas bantuan Anda")
        .await;
    // 6. Login: link the anonymous sessions to the OSS account.
    let (s, linked) = app
        .post("/api/chat/link-user", &As::Nobody, json!({"browser_uuid": BROWSER, "oss_user_id": "USER123", "email": "user@example.com", "user_hash": hash("USER123")}))
        .await;
    assert_eq!(s, StatusCode::OK, "{linked}");
    assert_eq!(linked["message"], "Successfully linked to OSS account");
    // Linking again is fine; to another account is not.
    let (s, _) = app
        .post("/api/chat/link-user", &As::Nobody, json!({"browser_uuid": BROWSER, "oss_user_id": "USER123", "email": "user@example.com", "user_hash": hash("USER123")}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let other = app
        .post("/api/chat/link-user", &As::Nobody, json!({"browser_uuid": BROWSER, "oss_user_id": "USER999", "email": "x@example.com", "user_hash": hash("USER999")}))
        .await;
    assert_livechat_error(
        &other,
        StatusCode::CONFLICT,
        "Conflict",
        "visitor_already_linked",
    );
    // Flow 3, step 5: the account now sees the history.
    let (s, history) = app
        .get(
            &format!(
                "/api/chat/history?oss_user_id=USER123&user_hash={}&limit=10&offset=0",
                hash("USER123")
            ),
            &As::Nobody,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{history}");
    assert_eq!(
        (
            history["total"].as_i64(),
            history["limit"].as_i64(),
            history["offset"].as_i64()
        ),
        (Some(1), Some(10), Some(0))
    );
    let entry = &history["sessions"][0];
    assert_eq!(entry["session_id"], session.as_str());
    assert_eq!(entry["topic"], "Pertanyaan tentang izin usaha");
    assert_eq!(
        entry["status"], "active",
        "the agent's reply took the session"
    );
    assert_eq!(entry["priority"], "normal");
    assert_eq!(
        entry["agent"],
        json!({"id": agent_id.to_string(), "name": "Agent Smith", "email": "agent@example.com"})
    );
    assert_eq!(entry["department"], json!(null));
    assert_eq!(entry["contact"]["contact_name"], "John Doe");
    assert_eq!(entry["contact"]["company_name"], "PT. Example");
    assert_eq!(
        entry["last_message"]["message"],
        "Terima kasih atas bantuan Anda"
    );
    assert_eq!(entry["last_message"]["sender_type"], "agent");
    // The browser_uuid alone no longer reaches the moved session.
    let (_, anon) = app
        .get(
            &format!("/api/chat/history?browser_uuid={BROWSER}"),
            &As::Nobody,
        )
        .await;
    assert_eq!(anon["total"], 0);
    // Session details (the document's endpoint 5).
    let (s, details) = app
        .get(
            &format!(
                "/api/chat/session/{session}?oss_user_id=USER123&user_hash={}",
                hash("USER123")
            ),
            &As::Nobody,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{details}");
    assert_eq!(details["messages"].as_array().unwrap().len(), 2);
    assert_eq!(details["contact"]["contact_email"], "john@company.com");
}

async fn flow_two_logged_in_user(app: TestApp) {
    let who = json!({"oss_user_id": "USER123", "email": "user@example.com", "user_hash": hash("USER123")});
    let mut start = who.clone();
    start["topic"] = json!("Izin usaha");
    let (s, started) = app.post("/api/chat/start", &As::Nobody, start).await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    let mut contact = who.clone();
    contact["session_id"] = started["session_id"].clone();
    contact["contact_name"] = json!("Jane (different from the OSS user)");
    contact["contact_email"] = json!("jane@company.com");
    let (s, _) = app.post("/api/chat/contact", &As::Nobody, contact).await;
    assert_eq!(s, StatusCode::OK);
    let (_, history) = app
        .get(
            &format!(
                "/api/chat/history?oss_user_id=USER123&user_hash={}",
                hash("USER123")
            ),
            &As::Nobody,
        )
        .await;
    assert_eq!(history["total"], 1);
    assert_eq!(history["limit"], 20, "default limit");
    assert_eq!(
        history["sessions"][0]["contact"]["contact_name"],
        "Jane (different from the OSS user)"
    );
    // Someone else's visitor id or user id reaches nothing.
    let (_, theirs) = app
        .get(
            &format!("/api/chat/history?browser_uuid={}", uuid::Uuid::new_v4()),
            &As::Nobody,
        )
        .await;
    assert_eq!(theirs["total"], 0);
}

async fn errors_are_in_the_documents_shape(app: TestApp) {
    let got = app
        .post(
            "/api/chat/start",
            &As::Nobody,
            json!({"browser_uuid": BROWSER}),
        )
        .await;
    assert_livechat_error(
        &got,
        StatusCode::BAD_REQUEST,
        "Invalid request body",
        "missing_field",
    );
    assert_eq!(got.1["details"], "missing required field: topic");
    let got = app
        .post("/api/chat/start", &As::Nobody, json!({"topic": "x"}))
        .await;
    assert_livechat_error(
        &got,
        StatusCode::BAD_REQUEST,
        "Invalid request body",
        "missing_field",
    );
    let got = app
        .post(
            "/api/chat/start",
            &As::Nobody,
            json!({"browser_uuid": "not-a-uuid", "topic": "x"}),
        )
        .await;
    assert_livechat_error(
        &got,
        StatusCode::BAD_REQUEST,
        "Invalid request body",
        "invalid_visitor_id",
    );
    let got = app
        .post(
            "/api/chat/start",
            &As::Nobody,
            json!({"browser_uuid": BROWSER, "topic": "x", "priority": "asap"}),
        )
        .await;
    assert_livechat_error(
        &got,
        StatusCode::BAD_REQUEST,
        "Invalid request body",
        "invalid_priority",
    );
    // An OSS user id without a valid hash is not believed.
    let got = app
        .post(
            "/api/chat/start",
            &As::Nobody,
            json!({"oss_user_id": "USER123", "email": "u@example.com", "topic": "x"}),
        )
        .await;
    assert_livechat_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "unverified_user",
    );
    let got = app.post("/api/chat/start", &As::Nobody, json!({"oss_user_id": "USER123", "email": "u@example.com", "topic": "x", "user_hash": hash("USER124")})).await;
    assert_livechat_error(
        &got,
        StatusCode::UNAUTHORIZED,
        "Unauthorized",
        "invalid_user_hash",
    );
    // Unknown sessions: {"error": "Session not found"}.
    let missing = uuid::Uuid::now_v7();
    let got = app
        .get(
            &format!("/api/chat/session/{missing}?browser_uuid={BROWSER}"),
            &As::Nobody,
        )
        .await;
    assert_eq!(
        got,
        (
            StatusCode::NOT_FOUND,
            json!({"error": "Session not found", "code": "not_found"})
        )
    );
    let got = app
        .post("/api/chat/contact", &As::Nobody, json!({"session_id": missing.to_string(), "browser_uuid": BROWSER, "contact_name": "J", "contact_email": "j@x.io"}))
        .await;
    assert_livechat_error(
        &got,
        StatusCode::NOT_FOUND,
        "Session not found",
        "not_found",
    );
    // Contact validation, and another visitor's session.
    let (_, started) = app
        .post(
            "/api/chat/start",
            &As::Nobody,
            json!({"browser_uuid": BROWSER, "topic": "x"}),
        )
        .await;
    let sid = started["session_id"].as_str().unwrap();
    for (body, code) in [
        (
            json!({"session_id": sid, "browser_uuid": BROWSER, "contact_name": "J", "contact_email": "not-an-email"}),
            "invalid_email",
        ),
        (
            json!({"session_id": sid, "browser_uuid": BROWSER, "contact_name": "J", "contact_email": "j@x.io", "contact_phone": "call me"}),
            "invalid_phone",
        ),
        (
            json!({"session_id": sid, "browser_uuid": BROWSER, "contact_email": "j@x.io"}),
            "missing_field",
        ),
        (
            json!({"session_id": sid, "contact_name": "J", "contact_email": "j@x.io"}),
            "missing_field",
        ),
    ] {
        assert_livechat_error(
            &app.post("/api/chat/contact", &As::Nobody, body).await,
            StatusCode::BAD_REQUEST,
            "Invalid request body",
            code,
        );
    }
    let stranger = uuid::Uuid::new_v4().to_string();
    let got = app.post("/api/chat/contact", &As::Nobody, json!({"session_id": sid, "browser_uuid": stranger, "contact_name": "J", "contact_email": "j@x.io"})).await;
    assert_livechat_error(
        &got,
        StatusCode::NOT_FOUND,
        "Session not found",
        "not_found",
    );
    let got = app.get("/api/chat/history", &As::Nobody).await;
    assert_livechat_error(
        &got,
        StatusCode::BAD_REQUEST,
        "Invalid request body",
        "missing_field",
    );
}

async fn the_oss_chat_alias_serves_the_same_endpoints(app: TestApp) {
    let (s, started) = app
        .post(
            "/api/v1/oss-chat/start",
            &As::Nobody,
            json!({"browser_uuid": BROWSER, "topic": "via the alias"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    let (s, linked) = app
        .post("/api/v1/oss-chat/link-user", &As::Nobody, json!({"browser_uuid": BROWSER, "oss_user_id": "U9", "email": "u9@example.com", "user_hash": hash("U9")}))
        .await;
    assert_eq!(s, StatusCode::OK, "{linked}");
    let (_, history) = app
        .get(
            &format!(
                "/api/v1/oss-chat/history?oss_user_id=U9&user_hash={}",
                hash("U9")
            ),
            &As::Nobody,
        )
        .await;
    assert_eq!(history["sessions"][0]["session_id"], started["session_id"]);
}

async fn the_documents_requests_as_written_where_user_ids_are_trusted(app: TestApp) {
    // The frontend tips' startChat for a logged-in user, with no hash.
    let (s, started) = app
        .post("/api/v1/oss-chat/start", &As::Nobody, json!({"topic": "t", "priority": "normal", "user_agent": "ua", "oss_user_id": "USER123", "email": "user@example.com"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{started}");
    // The document's bare contact request (only a session id and the contact) would act for
    // the whole front end: trusting user ids grants no such role, only --dev does.
    let (s, refused) = app
        .post("/api/chat/contact", &As::Nobody, json!({"session_id": started["session_id"], "contact_name": "Mallory", "contact_email": "m@evil.example"}))
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{refused}");
    // Naming the (trusted) user is enough.
    let (s, _) = app
        .post("/api/chat/contact", &As::Nobody, json!({"session_id": started["session_id"], "oss_user_id": "USER123", "contact_name": "John Doe", "contact_email": "john@company.com"}))
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, history) = app
        .get(
            "/api/chat/history?oss_user_id=USER123&limit=10&offset=0",
            &As::Nobody,
        )
        .await;
    assert_eq!(
        history["sessions"][0]["contact"]["contact_name"],
        "John Doe"
    );
    // linkUserOnLogin as the tips write it.
    let (s, _) = app
        .post(
            "/api/chat/start",
            &As::Nobody,
            json!({"browser_uuid": BROWSER, "topic": "anon"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, _) = app
        .post(
            "/api/v1/oss-chat/link-user",
            &As::Nobody,
            json!({"browser_uuid": BROWSER, "oss_user_id": "USER123", "email": "user@example.com"}),
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    let (_, history) = app
        .get("/api/chat/history?oss_user_id=USER123", &As::Nobody)
        .await;
    assert_eq!(history["total"], 2);
}

/// The widget's signed-in customer on `/v1`: `X-User-Id` with `X-User-Hash`, the same proof
/// as `oss_user_id` with `user_hash`, and the same sessions.
async fn the_native_api_takes_a_user_hash_in_headers(app: TestApp) {
    let proved = As::User {
        id: "shopper-7".into(),
        hash: UserHash::compute(SECRET, "shopper-7"),
    };
    let (status, opened) = app.post("/v1/sessions", &proved, json!({})).await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["session"]["owner"]["id"], "shopper-7");
    let id = opened["session"]["id"].as_str().unwrap().to_owned();
    app.send(&proved, &id, "hi from the shop").await;
    // The same customer by the seed door sees the same conversation.
    let (_, history) = app
        .get(
            &format!(
                "/api/chat/history?oss_user_id=shopper-7&user_hash={}",
                UserHash::compute(SECRET, "shopper-7")
            ),
            &As::Nobody,
        )
        .await;
    assert!(history.to_string().contains(&id), "{history}");

    let forged = As::User {
        id: "shopper-7".into(),
        hash: UserHash::compute("another secret", "shopper-7"),
    };
    crate::harness::assert_error(
        &app.get(&format!("/v1/sessions/{id}"), &forged).await,
        StatusCode::UNAUTHORIZED,
        "invalid_user_hash",
    );
    let (status, body) = app
        .call(
            reqwest::Method::GET,
            &format!("/v1/sessions/{id}"),
            &As::Nobody,
            None,
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "{body}");
    let bare = app
        .request(
            reqwest::Method::GET,
            &format!("/v1/sessions/{id}"),
            &As::Nobody,
        )
        .header("X-User-Id", "shopper-7")
        .send()
        .await
        .unwrap();
    crate::harness::assert_error(
        &crate::harness::split(bare).await,
        StatusCode::UNAUTHORIZED,
        "unverified_user",
    );
}
