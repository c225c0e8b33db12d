//! `/v1/stats` and per-session figures.

use crate::harness::{assert_error, on_both_stores, TestApp};
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(an_agents_reply_times_show_up_in_stats);

async fn an_agents_reply_times_show_up_in_stats(app: TestApp) {
    let alice = app.customer("alice");
    let agent = app.agent("ag-1", "shop");
    let id = app.open(&alice, json!({"business_id": "shop"})).await;
    app.send(&alice, &id, "help?").await;
    app.send(&agent, &id, "sure").await;
    app.send(&alice, &id, "thanks, one more thing").await;
    app.send(&agent, &id, "go on").await;
    app.post(&format!("/v1/sessions/{id}/end"), &alice, json!({}))
        .await;
    let quiet = app
        .open(&app.customer("bob"), json!({"business_id": "shop"}))
        .await;
    app.send(&app.customer("bob"), &quiet, "hello?").await;

    let (s, stats) = app.get("/v1/stats", &agent).await;
    assert_eq!(s, StatusCode::OK, "{stats}");
    assert_eq!(stats["overall"]["sessions"], 2);
    assert_eq!(stats["overall"]["closed_sessions"], 1);
    assert_eq!(stats["overall"]["messages"], 5);
    assert!(
        stats["overall"]["average_first_response_secs"]
            .as_f64()
            .unwrap()
            >= 0.0
    );
    assert!(stats["overall"]["median_first_response_secs"].is_number());
    assert!(stats["overall"]["average_resolution_secs"].is_number());
    let mine = &stats["by_agent"]["ag-1"];
    assert_eq!(
        (mine["sessions"].as_i64(), mine["messages"].as_i64()),
        (Some(1), Some(4))
    );
    assert!(
        mine["average_first_response_secs"].is_number(),
        "the agent's reply time is there: {stats}"
    );
    let hours: i64 = stats["busiest_hours"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["messages"].as_i64().unwrap())
        .sum();
    assert_eq!(hours, 5);
    assert_eq!(stats["truncated"], false);

    let (_, only_agent) = app.get("/v1/stats?agent_id=ag-1", &agent).await;
    assert_eq!(only_agent["overall"]["sessions"], 1);
    let (_, elsewhere) = app.get("/v1/stats", &app.agent("ag-2", "other")).await;
    assert_eq!(
        elsewhere["overall"]["sessions"], 0,
        "another tenant's agent sees none of it"
    );
    let (_, past) = app
        .get(
            "/v1/stats?from=2020-01-01T00:00:00Z&to=2020-02-01T00:00:00Z",
            &agent,
        )
        .await;
    assert_eq!(past["overall"]["sessions"], 0);

    assert_error(
        &app.get("/v1/stats", &alice).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.get("/v1/stats?from=yesterday", &agent).await,
        StatusCode::BAD_REQUEST,
        "invalid_time",
    );
    assert_error(
        &app.get(
            "/v1/stats?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z",
            &agent,
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_range",
    );

    let (s, one) = app.get(&format!("/v1/sessions/{id}/stats"), &alice).await;
    assert_eq!(s, StatusCode::OK, "{one}");
    assert_eq!(
        (
            one["messages"].as_i64(),
            one["customer_messages"].as_i64(),
            one["staff_messages"].as_i64()
        ),
        (Some(4), Some(2), Some(2))
    );
    assert!(one["average_response_secs"].is_number() && one["resolution_secs"].is_number());
    assert_error(
        &app.get(
            &format!("/v1/sessions/{id}/stats"),
            &app.customer("mallory"),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}
