//! Business hours: outside them opening a session says so and routing waits; the offline
//! form leaves a message as a session of type `offline`.

use crate::harness::{assert_error, on_both_stores, TestApp};
use chatdesk_core::identity::Role;
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(outside_hours_sessions_wait_and_visitors_leave_messages);

async fn outside_hours_sessions_wait_and_visitors_leave_messages(app: TestApp) {
    let admin = app.token("boss", Role::Admin, Some("shop"));
    let agent = app.agent("ag-h", "shop");
    // Never open: no interval on any day.
    let closed = json!({"time_zone": "Europe/Berlin", "weekly": {}, "away_message": "We answer from 9 to 5."});
    let (status, set) = app
        .call(
            reqwest::Method::PUT,
            "/v1/business-hours",
            &admin,
            Some(json!({"hours": closed})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{set}");
    for bad in [
        json!({"hours": {"time_zone": "Nowhere/Land"}}),
        json!({"hours": {"time_zone": "UTC", "weekly": {"mon": [["18:00", "09:00"]]}}}),
    ] {
        assert_error(
            &app.call(
                reqwest::Method::PUT,
                "/v1/business-hours",
                &admin,
                Some(bad),
            )
            .await,
            StatusCode::BAD_REQUEST,
            "invalid_hours",
        );
    }
    assert_error(
        &app.call(
            reqwest::Method::PUT,
            "/v1/business-hours",
            &agent,
            Some(json!({"hours": null})),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, listed) = app.get("/v1/business-hours", &agent).await;
    assert_eq!(
        listed["schedules"][0]["hours"]["time_zone"],
        "Europe/Berlin"
    );

    // Automatic routing with an agent ready: still nobody is assigned outside hours.
    let (status, _) = app
        .call(
            reqwest::Method::PUT,
            "/v1/tenant/settings",
            &admin,
            Some(json!({"routing": "auto"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    let _agent_online = crate::realtime::Sse::open(&app, "/v1/events", &agent, None)
        .await
        .unwrap();
    let visitor = app.visitor();
    let (status, opened_before) = app
        .post("/v1/sessions", &visitor, json!({"business_id": "shop"}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(opened_before["outside_hours"], true, "{opened_before}");
    assert_eq!(opened_before["away_message"], "We answer from 9 to 5.");
    assert_eq!(opened_before["session"]["status"], "waiting");
    let (_, now) = app
        .get("/v1/business-hours/now?business_id=shop", &visitor)
        .await;
    assert_eq!(
        (now["open"].as_bool(), now["away_message"].as_str()),
        (Some(false), Some("We answer from 9 to 5."))
    );

    // The offline form: checked whole before anything is written.
    let form = |email: &str| json!({"business_id": "shop", "name": "Vera", "email": email, "message": "Call me back"});
    assert_error(
        &app.post("/v1/offline-messages", &visitor, form("not-an-email"))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_email",
    );
    let (_, before) = app.get("/v1/sessions?business_id=shop", &agent).await;
    let (status, left) = app
        .post("/v1/offline-messages", &visitor, form("vera@example.com"))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{left}");
    assert_eq!(left["session_type"], "offline");
    assert_eq!(left["contact"]["email"], "vera@example.com", "{left}");
    let (_, after) = app.get("/v1/sessions?business_id=shop", &agent).await;
    assert_eq!(
        after["sessions"].as_array().unwrap().len(),
        before["sessions"].as_array().unwrap().len() + 1,
        "one session for the form, none for the refused one"
    );
    let id = left["id"].as_str().unwrap();
    let (_, messages) = app
        .get(&format!("/v1/sessions/{id}/messages"), &agent)
        .await;
    assert_eq!(messages["messages"][0]["content"], "Call me back");

    // Removed: open again, and routing assigns.
    let (status, _) = app
        .call(
            reqwest::Method::PUT,
            "/v1/business-hours",
            &admin,
            Some(json!({"hours": null})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (_, opened) = app
        .post(
            "/v1/sessions",
            &app.visitor(),
            json!({"business_id": "shop"}),
        )
        .await;
    assert_eq!(opened["outside_hours"], false, "{opened}");
    // The next change routes again: the session that waited since before is assigned first.
    let waited = opened_before["session"]["id"].as_str().unwrap();
    let (_, first) = app.get(&format!("/v1/sessions/{waited}"), &agent).await;
    assert_eq!(
        first["status"], "active",
        "routed once hours allow: {first}"
    );
}
