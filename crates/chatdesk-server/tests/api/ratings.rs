//! Ratings: a closed conversation's customer rates it once; reports count ratings overall,
//! per agent and per department; a webhook hears of it.

use crate::harness::{assert_error, on_both_stores, TestApp};
use crate::webhooks::{quick_retries, shop_receiver};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_stores!(@with quick_retries; a_customer_rates_a_closed_conversation_once);

async fn a_customer_rates_a_closed_conversation_once(app: TestApp) {
    let (receiver, _server) = shop_receiver(&app, "session.rated").await;
    let ann = app.customer("ann");
    let agent = app.agent("ag1", "shop");
    let id = app.open(&ann, json!({"business_id": "shop"})).await;
    app.send(&ann, &id, "help").await;
    app.send(&agent, &id, "done").await;
    let rating = format!("/v1/sessions/{id}/rating");
    assert_error(
        &app.post(&rating, &ann, json!({"score": 5})).await,
        StatusCode::CONFLICT,
        "not_closed",
    );
    app.post(&format!("/v1/sessions/{id}/end"), &agent, json!({}))
        .await;
    assert_error(
        &app.get(&rating, &ann).await,
        StatusCode::NOT_FOUND,
        "no_rating",
    );
    assert_error(
        &app.post(&rating, &agent, json!({"score": 5})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    for bad in [
        json!({"score": 0}),
        json!({"score": 6}),
        json!({"score": -1}),
    ] {
        assert_error(
            &app.post(&rating, &ann, bad).await,
            StatusCode::BAD_REQUEST,
            "invalid_score",
        );
    }
    assert_error(
        &app.post(
            &rating,
            &ann,
            json!({"score": 4, "comment": "x".repeat(1001)}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_comment",
    );
    assert_error(
        &app.post(&rating, &ann, json!({"score": "five"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    let (status, rated) = app
        .post(
            &rating,
            &ann,
            json!({"score": 5, "comment": "Quick and kind"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{rated}");
    assert_eq!(
        (rated["score"].as_i64(), rated["comment"].as_str()),
        (Some(5), Some("Quick and kind"))
    );
    assert_error(
        &app.post(&rating, &ann, json!({"score": 1})).await,
        StatusCode::CONFLICT,
        "already_rated",
    );
    let (_, seen) = app.get(&rating, &agent).await;
    assert_eq!(seen["score"], 5, "staff see it");
    assert_error(
        &app.get(&rating, &app.customer("someone-else")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );

    let (_, stats) = app.get("/v1/stats?business_id=shop", &agent).await;
    assert_eq!(stats["overall"]["rated_sessions"], 1, "{stats}");
    assert_eq!(stats["overall"]["average_rating"], 5.0, "{stats}");
    assert_eq!(stats["by_agent"]["ag1"]["average_rating"], 5.0, "{stats}");

    let delivered = receiver.wait_for(1).await;
    let body: Value = serde_json::from_str(&delivered[0].body).unwrap();
    assert_eq!(body["event"], "session.rated");
    assert_eq!(body["data"]["rating"]["score"], 5);
    assert_eq!(body["data"]["session"]["id"], id.as_str());
}
