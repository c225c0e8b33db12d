//! `GET /v1/search`, scoped by who is asking.

use crate::harness::{assert_error, on_both_stores, TestApp};
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(search_is_scoped_by_authorization);

async fn search_is_scoped_by_authorization(app: TestApp) {
    let alice = app.customer("alice");
    let bob = app.customer("bob");
    let a = app
        .open(
            &alice,
            json!({"business_id": "shop", "topic": "Lost parcel"}),
        )
        .await;
    app.send(&alice, &a, "My parcel never arrived").await;
    let b = app.open(&bob, json!({"business_id": "shop"})).await;
    app.send(&bob, &b, "Is my parcel insured?").await;
    let c = app.open(&bob, json!({"business_id": "other"})).await;
    app.send(&bob, &c, "parcel in another shop").await;

    let (s, mine) = app.get("/v1/search?q=parcel", &alice).await;
    assert_eq!(s, StatusCode::OK, "{mine}");
    assert_eq!(
        mine["messages"].as_array().unwrap().len(),
        1,
        "alice finds only her own"
    );
    assert_eq!(mine["messages"][0]["content"], "My parcel never arrived");
    assert_eq!(
        mine["sessions"][0]["id"],
        a.as_str(),
        "topics are searched too"
    );

    let agent = app.agent("ag", "shop");
    let (_, tenant) = app.get("/v1/search?q=PARCEL", &agent).await;
    assert_eq!(
        tenant["messages"].as_array().unwrap().len(),
        2,
        "the agent finds the shop's, not the other tenant's"
    );
    let (_, narrowed) = app.get("/v1/search?q=parcel&user_id=bob", &agent).await;
    assert_eq!(narrowed["messages"][0]["content"], "Is my parcel insured?");
    let (_, both_words) = app.get("/v1/search?q=parcel%20insured", &agent).await;
    assert_eq!(both_words["messages"].as_array().unwrap().len(), 1);

    assert_error(
        &app.get("/v1/search?q=%22%2A", &alice).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
    assert_error(
        &app.get("/v1/search", &alice).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
    assert_error(
        &app.get("/v1/search?q=parcel&business_id=other", &agent)
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
}
