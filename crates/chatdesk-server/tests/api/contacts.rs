//! `/v1/sessions/{id}/contact` and `/v1/me/link-visitor`.

use crate::harness::{assert_error, on_both_stores, As, TestApp};
use reqwest::{Method, StatusCode};
use serde_json::json;

on_both_stores!(
    contacts_are_validated_editable_and_shown_with_the_session,
    a_visitor_becomes_an_account_at_login,
    staff_never_see_a_visitors_secret_nor_link_it
);

/// A visitor's UUID is its bearer secret: staff see a public id instead (in lists, messages,
/// webhooks and socket payloads alike), and only the visitor itself may link it.
async fn staff_never_see_a_visitors_secret_nor_link_it(app: TestApp) {
    let secret = uuid::Uuid::new_v4().to_string();
    let v = As::Visitor(secret.clone());
    let id = app.open(&v, json!({"topic": "hi"})).await;
    app.send(&v, &id, "hello").await;
    let agent = app.agent("ag", "default");
    for path in [
        "/v1/sessions".to_owned(),
        format!("/v1/sessions/{id}"),
        format!("/v1/sessions/{id}/messages"),
        "/api/v1/chat/sessions".to_owned(),
    ] {
        let (status, body) = app.get(&path, &agent).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let text = body.to_string();
        assert!(!text.contains(&secret), "{path} shows the secret: {text}");
    }
    let (_, s) = app.get(&format!("/v1/sessions/{id}"), &agent).await;
    let public = s["owner"]["id"].as_str().unwrap().to_owned();
    assert!(public.starts_with("v_"), "{public}");
    let (_, m) = app
        .get(&format!("/v1/sessions/{id}/messages"), &agent)
        .await;
    assert_eq!(m["messages"][0]["sender"]["id"], public.as_str());
    // The visitor itself still sees its own id where its document shows it.
    let (_, own) = app.get("/api/v1/chat/sessions", &v).await;
    assert_eq!(own["sessions"][0]["visitor_id"], secret.as_str());
    // Staff and back ends cannot take the visitor's sessions into their own account.
    for who in [
        agent.clone(),
        app.token("root", chatdesk_core::identity::Role::Admin, None),
        app.api_key("default").await,
    ] {
        assert_error(
            &app.post("/v1/me/link-visitor", &who, json!({"visitor_id": secret}))
                .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    let (status, _) = app.get(&format!("/v1/sessions/{id}"), &v).await;
    assert_eq!(status, StatusCode::OK, "still the visitor's");
}

async fn contacts_are_validated_editable_and_shown_with_the_session(app: TestApp) {
    let v = app.visitor();
    let id = app.open(&v, json!({"topic": "izin usaha"})).await;
    let path = format!("/v1/sessions/{id}/contact");
    assert_error(
        &app.get(&path, &v).await,
        StatusCode::NOT_FOUND,
        "no_contact",
    );
    let put = |body| app.call(Method::PUT, &path, &v, Some(body));
    assert_error(
        &put(json!({"name": "John", "email": "nope"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_email",
    );
    assert_error(
        &put(json!({"name": "John", "email": "j@x.io", "phone": "call me"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_phone",
    );
    assert_error(
        &put(json!({"name": " ", "email": "j@x.io"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_contact",
    );
    assert_error(
        &put(json!({"email": "j@x.io"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    let (s, c) = put(json!({"name": "John Doe", "email": "John@Company.com", "phone": "+62 812 3456 7890", "company_name": "PT. Example"})).await;
    assert_eq!(s, StatusCode::OK, "{c}");
    assert_eq!(
        (c["email"].as_str(), c["position"].as_str()),
        (Some("john@company.com"), None)
    );
    let (_, edited) =
        put(json!({"name": "John Doe", "email": "john@company.com", "position": "Manager"})).await;
    assert_eq!(edited["id"], c["id"], "editing keeps the contact's id");
    assert_eq!(
        (edited["position"].as_str(), edited["phone"].as_str()),
        (Some("Manager"), None)
    );
    // Returned wherever the session is: one session and lists.
    let (_, session) = app.get(&format!("/v1/sessions/{id}"), &v).await;
    assert_eq!(session["contact"]["name"], "John Doe");
    let agent = app.agent("ag", "default");
    let (_, list) = app.get("/v1/sessions", &agent).await;
    assert_eq!(list["sessions"][0]["contact"]["position"], "Manager");
    // Strangers see nothing.
    assert_error(
        &app.get(&path, &app.visitor()).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.call(
            Method::PUT,
            &path,
            &app.customer("x"),
            Some(json!({"name": "Evil", "email": "e@x.io"})),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_visitor_becomes_an_account_at_login(app: TestApp) {
    let visitor_id = uuid::Uuid::new_v4().to_string();
    let v = As::Visitor(visitor_id.clone());
    let a = app.open(&v, json!({})).await;
    app.send(&v, &a, "before login").await;
    let b = app.open(&v, json!({"force_new": true})).await;
    let alice = app.customer("alice");
    let (s, r) = app
        .post(
            "/v1/me/link-visitor",
            &alice,
            json!({"visitor_id": visitor_id}),
        )
        .await;
    assert_eq!(
        (s, r["sessions_moved"].as_i64()),
        (StatusCode::OK, Some(2)),
        "{r}"
    );
    let (_, mine) = app.get("/v1/sessions", &alice).await;
    let ids: Vec<_> = mine["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect();
    assert!(ids.contains(&a) && ids.contains(&b));
    let (_, msgs) = app.get(&format!("/v1/sessions/{a}/messages"), &alice).await;
    assert_eq!(
        msgs["messages"][0]["sender"],
        json!({"kind": "user", "id": "alice"})
    );
    // The visitor id alone reaches nothing any more.
    assert_error(
        &app.post(
            &format!("/v1/sessions/{a}/messages"),
            &v,
            json!({"content": "still me?"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.get(&format!("/v1/sessions/{a}"), &v).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    // Idempotent; never to a second account; only users link.
    let (_, again) = app
        .post(
            "/v1/me/link-visitor",
            &alice,
            json!({"visitor_id": visitor_id}),
        )
        .await;
    assert_eq!(again["sessions_moved"], 0);
    assert_error(
        &app.post(
            "/v1/me/link-visitor",
            &app.customer("mallory"),
            json!({"visitor_id": visitor_id}),
        )
        .await,
        StatusCode::CONFLICT,
        "visitor_already_linked",
    );
    assert_error(
        &app.post(
            "/v1/me/link-visitor",
            &app.visitor(),
            json!({"visitor_id": visitor_id}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "not_a_user",
    );
    assert_error(
        &app.post("/v1/me/link-visitor", &alice, json!({"visitor_id": "nope"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_visitor_id",
    );
}
