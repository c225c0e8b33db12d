//! `/v1/api-keys`: admins list and revoke back ends' keys; nobody else sees them.

use crate::harness::{assert_error, on_both_stores, TestApp};
use chatdesk_core::identity::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(admins_list_and_revoke_keys);

async fn admins_list_and_revoke_keys(app: TestApp) {
    let shop_key = app.api_key("shop").await;
    let _other_key = app.api_key("other").await;
    let root = app.token("root", Role::Admin, None);
    let (s, all) = app.get("/v1/api-keys", &root).await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(all.as_array().unwrap().len(), 2, "{all}");
    assert!(all[0].get("key_hash").is_none() && all[0].get("secret").is_none());
    let shop_admin = app.token("boss", Role::Admin, Some("shop"));
    let (_, mine) = app.get("/v1/api-keys", &shop_admin).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    assert_eq!(mine[0]["business_id"], "shop");
    let other_id = all
        .as_array()
        .unwrap()
        .iter()
        .find(|k| k["business_id"] == "other")
        .unwrap()["id"]
        .as_i64()
        .unwrap();
    // Another tenant's key is not there for a scoped admin; staff below admin see none.
    assert_error(
        &app.delete(&format!("/v1/api-keys/{other_id}"), &shop_admin)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    for who in [app.agent("ag", "shop"), shop_key.clone(), app.customer("c")] {
        assert_error(
            &app.get("/v1/api-keys", &who).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        );
    }
    // Revoked: the key is refused from the next request on.
    let (s, _) = app
        .post("/v1/sessions", &shop_key, json!({"user_id": "u1"}))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let shop_id = mine[0]["id"].as_i64().unwrap();
    let (s, _) = app
        .delete(&format!("/v1/api-keys/{shop_id}"), &shop_admin)
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    assert_error(
        &app.post("/v1/sessions", &shop_key, json!({"user_id": "u1"}))
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
    );
    assert_error(
        &app.delete(&format!("/v1/api-keys/{shop_id}"), &shop_admin)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}
