//! Labels over HTTP: admins keep them, staff put them on sessions, and lists, search and
//! stats filter by one; customers neither see nor filter by them.

use crate::harness::{assert_error, on_both_stores, TestApp};
use chatdesk_core::identity::Role;
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_stores!(labels_filter_lists_search_and_stats);

fn ids(list: &Value, key: &str) -> Vec<String> {
    list[key]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| {
            s["session_id"]
                .as_str()
                .or(s["id"].as_str())
                .unwrap()
                .to_owned()
        })
        .collect()
}

async fn labels_filter_lists_search_and_stats(app: TestApp) {
    let admin = app.token("boss", Role::Admin, Some("shop"));
    let agent = app.agent("ag1", "shop");
    let (status, vip) = app.post("/v1/labels", &admin, json!({"name": "VIP"})).await;
    assert_eq!(status, StatusCode::CREATED, "{vip}");
    let vip = vip["id"].as_str().unwrap().to_owned();
    assert_error(
        &app.post("/v1/labels", &admin, json!({"name": "vip"})).await,
        StatusCode::CONFLICT,
        "label_exists",
    );
    assert_error(
        &app.post("/v1/labels", &admin, json!({"name": ""})).await,
        StatusCode::BAD_REQUEST,
        "invalid_label",
    );
    assert_error(
        &app.post("/v1/labels", &agent, json!({"name": "mine"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, other) = app
        .post(
            "/v1/labels",
            &app.token("x", Role::Admin, Some("other")),
            json!({"name": "Other"}),
        )
        .await;

    let ann = app.customer("ann");
    let bob = app.customer("bob");
    let a = app.open(&ann, json!({"business_id": "shop"})).await;
    let b = app.open(&bob, json!({"business_id": "shop"})).await;
    app.send(&ann, &a, "parcel missing").await;
    app.send(&bob, &b, "parcel late").await;
    let put = |id: &str| format!("/v1/sessions/{id}/labels");
    let (status, set) = app
        .call(
            reqwest::Method::PUT,
            &put(&a),
            &agent,
            Some(json!({"label_ids": [vip]})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    assert_eq!(set["labels"][0]["name"], "VIP");
    for bad in [
        json!({"label_ids": [other["id"]]}),
        json!({"label_ids": ["nope"]}),
    ] {
        assert_error(
            &app.call(reqwest::Method::PUT, &put(&b), &agent, Some(bad))
                .await,
            StatusCode::BAD_REQUEST,
            "invalid_label",
        );
    }
    assert_error(
        &app.call(
            reqwest::Method::PUT,
            &put(&a),
            &ann,
            Some(json!({"label_ids": []})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.get(&put(&a), &ann).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let (_, listed) = app
        .get(&format!("/v1/sessions?label_id={vip}"), &agent)
        .await;
    assert_eq!(ids(&listed, "sessions"), vec![a.clone()]);
    let (_, found) = app
        .get(&format!("/v1/search?q=parcel&label_id={vip}"), &agent)
        .await;
    assert_eq!(ids(&found, "messages"), vec![a.clone()]);
    let (_, stats) = app.get(&format!("/v1/stats?label_id={vip}"), &agent).await;
    assert_eq!(stats["overall"]["sessions"], 1, "{stats}");
    assert_error(
        &app.get(&format!("/v1/sessions?label_id={vip}"), &ann).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.get("/v1/sessions?label_id=not-a-uuid", &agent).await,
        StatusCode::BAD_REQUEST,
        "invalid_label",
    );

    let (status, _) = app.delete(&format!("/v1/labels/{vip}"), &admin).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, now) = app.get(&put(&a), &agent).await;
    assert_eq!(now["labels"], json!([]));
}
