//! Departments, agents' caps and presence.

use crate::harness::{assert_error, on_both_stores, TestApp};
use chatdesk_core::identity::Role;
use futures::StreamExt;
use reqwest::{Method, StatusCode};
use serde_json::json;
use std::time::{Duration, Instant};

on_both_stores!(
    admins_organise_departments_and_caps,
    presence_follows_connections_and_choice
);

async fn admins_organise_departments_and_caps(app: TestApp) {
    let admin = app.token("boss", Role::Admin, Some("shop"));
    let agent = app.agent("ann", "shop");
    let (s, sales) = app
        .post("/v1/departments", &admin, json!({"name": "Sales"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{sales}");
    let id = sales["id"].as_str().unwrap().to_owned();
    assert_error(
        &app.post("/v1/departments", &admin, json!({"name": "Sales"}))
            .await,
        StatusCode::CONFLICT,
        "department_exists",
    );
    assert_error(
        &app.post("/v1/departments", &admin, json!({"name": " "}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_name",
    );
    assert_error(
        &app.post("/v1/departments", &agent, json!({"name": "Mine"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let (s, d) = app
        .call(
            Method::PUT,
            &format!("/v1/departments/{id}/agents/ann"),
            &admin,
            None,
        )
        .await;
    assert_eq!((s, d["agents"].clone()), (StatusCode::OK, json!(["ann"])));
    let (_, listed) = app.get("/v1/departments", &agent).await;
    assert_eq!(
        listed[0]["name"], "Sales",
        "agents see their tenant's departments"
    );
    assert_error(
        &app.get("/v1/departments", &app.customer("c")).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, agents) = app.get("/v1/agents", &agent).await;
    assert_eq!(agents[0]["agent_id"], "ann");
    assert_eq!(
        (
            agents[0]["max_concurrent"].as_i64(),
            agents[0]["presence"].as_str()
        ),
        (Some(5), Some("offline"))
    );

    let (s, capped) = app
        .call(
            Method::PUT,
            "/v1/agents/ann",
            &admin,
            Some(json!({"max_concurrent": 3})),
        )
        .await;
    assert_eq!(
        (s, capped["max_concurrent"].as_i64()),
        (StatusCode::OK, Some(3))
    );
    // 0: routing gives the agent nothing by itself.
    let (s, none) = app
        .call(
            Method::PUT,
            "/v1/agents/ann",
            &admin,
            Some(json!({"max_concurrent": 0})),
        )
        .await;
    assert_eq!(
        (s, none["max_concurrent"].as_i64()),
        (StatusCode::OK, Some(0))
    );
    assert_error(
        &app.call(
            Method::PUT,
            "/v1/agents/ann",
            &admin,
            Some(json!({"max_concurrent": 101})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_max_concurrent",
    );
    assert_error(
        &app.call(
            Method::PUT,
            "/v1/agents/ann",
            &agent,
            Some(json!({"max_concurrent": 50})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    // Sessions wait in a department's queue.
    let alice = app.customer("alice");
    let (s, opened) = app
        .post(
            "/v1/sessions",
            &alice,
            json!({"business_id": "shop", "department_id": id}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{opened}");
    assert_eq!(opened["session"]["department_id"], id.as_str());
    assert_error(
        &app.post(
            "/v1/sessions",
            &alice,
            json!({"business_id": "shop", "department_id": "nope", "force_new": true}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_department",
    );
    assert_error(
        &app.post(
            "/v1/sessions",
            &alice,
            json!({"business_id": "other", "department_id": id, "force_new": true}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_department",
    );

    // Another tenant's admin cannot touch it.
    let stranger = app.token("boss2", Role::Admin, Some("other"));
    assert_error(
        &app.patch(
            &format!("/v1/departments/{id}"),
            &stranger,
            json!({"name": "Mine now"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, renamed) = app
        .patch(
            &format!("/v1/departments/{id}"),
            &admin,
            json!({"name": "Sales EU"}),
        )
        .await;
    assert_eq!(renamed["name"], "Sales EU");
    let (_, d) = app
        .call(
            Method::DELETE,
            &format!("/v1/departments/{id}/agents/ann"),
            &admin,
            None,
        )
        .await;
    assert_eq!(d["agents"], json!([]));
    let (s, _) = app.delete(&format!("/v1/departments/{id}"), &admin).await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(
        &app.delete(&format!("/v1/departments/{id}"), &admin).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn presence_of(app: &TestApp, who: &crate::harness::As) -> (String, String, i64) {
    let (_, agents) = app.get("/v1/agents", who).await;
    let me = &agents.as_array().unwrap()[0];
    (
        me["presence"].as_str().unwrap().to_owned(),
        me["chosen_presence"].as_str().unwrap().to_owned(),
        me["connections"].as_i64().unwrap(),
    )
}

async fn presence_follows_connections_and_choice(app: TestApp) {
    let agent = app.agent("bea", "default");
    let (s, me) = app
        .call(
            Method::PUT,
            "/v1/agents/me/presence",
            &agent,
            Some(json!({"status": "away"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{me}");
    assert_eq!(
        presence_of(&app, &agent).await,
        ("offline".into(), "away".into(), 0),
        "no connection: offline whatever it chose"
    );

    // An open event stream is a connection.
    let stream = app
        .request(Method::GET, "/v1/events", &agent)
        .send()
        .await
        .unwrap();
    assert_eq!(stream.status(), StatusCode::OK);
    let mut body = stream.bytes_stream();
    let _ = tokio::time::timeout(Duration::from_millis(200), body.next()).await;
    assert_eq!(
        presence_of(&app, &agent).await,
        ("away".into(), "away".into(), 1)
    );
    app.call(
        Method::PUT,
        "/v1/agents/me/presence",
        &agent,
        Some(json!({"status": "online"})),
    )
    .await;
    assert_eq!(presence_of(&app, &agent).await.0, "online");
    drop(body);
    let started = Instant::now();
    while presence_of(&app, &agent).await.2 != 0 {
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "closing the stream did not count as a disconnection"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(presence_of(&app, &agent).await.0, "offline");

    assert_error(
        &app.call(
            Method::PUT,
            "/v1/agents/me/presence",
            &agent,
            Some(json!({"status": "busy"})),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_presence",
    );
    assert_error(
        &app.call(
            Method::PUT,
            "/v1/agents/me/presence",
            &app.customer("c"),
            Some(json!({"status": "online"})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}
