//! Canned responses over HTTP: admins keep them, agents find and render them, customers and
//! other tenants get nothing.

use crate::harness::{assert_error, on_both_stores, TestApp};
use chatdesk_core::identity::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(admins_keep_canned_responses_and_agents_render_them);

async fn admins_keep_canned_responses_and_agents_render_them(app: TestApp) {
    let admin = app.token("boss", Role::Admin, Some("shop"));
    let agent = app.agent("ag1", "shop");
    let (status, hi) = app
        .post(
            "/v1/canned-responses",
            &admin,
            json!({"code": "Hi", "text": "Hello {{contact.name}}, {{agent.name}} here about #{{session.number}}. {{unknown}}"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{hi}");
    assert_eq!(hi["code"], "hi");
    let (status, _) = app
        .post(
            "/v1/canned-responses",
            &admin,
            json!({"code": "refund", "text": "Your refund is on its way."}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_error(
        &app.post(
            "/v1/canned-responses",
            &admin,
            json!({"code": "hi", "text": "again"}),
        )
        .await,
        StatusCode::CONFLICT,
        "canned_code_taken",
    );
    assert_error(
        &app.post(
            "/v1/canned-responses",
            &admin,
            json!({"code": "no spaces", "text": "x"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_code",
    );
    assert_error(
        &app.post(
            "/v1/canned-responses",
            &admin,
            json!({"code": "ok", "text": " "}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_text",
    );
    assert_error(
        &app.post(
            "/v1/canned-responses",
            &admin,
            json!({"code": "d", "text": "x", "department_id": "nope"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_department",
    );
    assert_error(
        &app.post(
            "/v1/canned-responses",
            &agent,
            json!({"code": "mine", "text": "x"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let (_, found) = app.get("/v1/canned-responses?q=REF", &agent).await;
    let codes: Vec<&str> = found["canned_responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["code"].as_str().unwrap())
        .collect();
    assert_eq!(codes, ["refund"]);
    let (_, all) = app.get("/v1/canned-responses", &agent).await;
    assert_eq!(all["canned_responses"].as_array().unwrap().len(), 2);
    let ann = app.customer("ann");
    assert_error(
        &app.get("/v1/canned-responses", &ann).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, elsewhere) = app
        .get("/v1/canned-responses", &app.agent("ag2", "other"))
        .await;
    assert_eq!(
        elsewhere["canned_responses"],
        json!([]),
        "another tenant's are not listed"
    );

    let id = app.open(&ann, json!({"business_id": "shop"})).await;
    let (status, _) = app
        .call(
            reqwest::Method::PUT,
            &format!("/v1/sessions/{id}/contact"),
            &ann,
            Some(json!({"name": "Ann Smith", "email": "ann@example.com"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let render = format!("/v1/canned-responses/{}/render", hi["id"].as_str().unwrap());
    let (status, rendered) = app.post(&render, &agent, json!({"session_id": id})).await;
    assert_eq!(status, StatusCode::OK, "{rendered}");
    let (_, session) = app.get(&format!("/v1/sessions/{id}"), &ann).await;
    assert_eq!(
        rendered["text"],
        format!(
            "Hello Ann Smith, ag1 here about #{}. {{{{unknown}}}}",
            session["number"]
        )
    );
    assert_error(
        &app.post(&render, &ann, json!({"session_id": id})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.post(
            &render,
            &app.agent("ag2", "other"),
            json!({"session_id": id}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let path = format!("/v1/canned-responses/{}", hi["id"].as_str().unwrap());
    let (status, changed) = app.patch(&path, &admin, json!({"text": "Hi!"})).await;
    assert_eq!(
        (status, changed["text"].as_str()),
        (StatusCode::OK, Some("Hi!"))
    );
    assert_error(
        &app.patch(&path, &agent, json!({"text": "mine"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (status, _) = app.delete(&path, &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    assert_error(
        &app.delete(&path, &admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.delete("/v1/canned-responses/not-a-uuid", &admin).await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
    );
}
