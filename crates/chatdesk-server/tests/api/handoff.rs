//! Bot hand-off: a service's assistant session stays out of the agents' queue, is handed to
//! people with a reason (an event and a system message say so), and can be handed back.

use crate::harness::{assert_error, on_both_stores, As, TestApp};
use crate::realtime::Sse;
use crate::webhooks::{quick_retries, shop_receiver};
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(@with quick_retries; an_assistant_hands_a_session_to_people_and_gets_it_back);

async fn waiting_ids(app: &TestApp, agent: &As) -> Vec<String> {
    let (_, list) = app.get("/v1/sessions?status=waiting", agent).await;
    list["sessions"]
        .as_array()
        .unwrap()
        .iter()
        .map(|s| s["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn an_assistant_hands_a_session_to_people_and_gets_it_back(app: TestApp) {
    let bot = app.api_key("shop").await;
    let agent = app.agent("ag1", "shop");
    let (hooks, _server) = shop_receiver(&app, "session.handed_off").await;
    let ann = app.token("ann", chatdesk_core::identity::Role::Customer, Some("shop"));
    let (status, opened) = app
        .post(
            "/v1/sessions",
            &bot,
            json!({"user_id": "ann", "assistant": true}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{opened}");
    let s = &opened["session"];
    let id = s["id"].as_str().unwrap().to_owned();
    assert_eq!(s["status"], "active");
    let bot_id = s["agent_id"].as_str().unwrap().to_owned();
    assert!(bot_id.starts_with("apikey:"), "{s}");
    assert!(
        !waiting_ids(&app, &agent).await.contains(&id),
        "not in the agents' queue"
    );
    let m = app
        .send(&bot, &id, "I am the shop's assistant. How can I help?")
        .await;
    assert_eq!(m["sender_type"], "assistant");
    app.send(&ann, &id, "I want my money back").await;
    assert_error(
        &app.post(
            "/v1/sessions",
            &ann,
            json!({"assistant": true, "force_new": true}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );

    let mut staff = Sse::open(&app, "/v1/events", &agent, None).await.unwrap();
    let handoff = format!("/v1/sessions/{id}/handoff");
    assert_error(
        &app.post(&handoff, &ann, json!({"reason": "let me"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.post(&handoff, &bot, json!({"reason": "two\nlines"}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_reason",
    );
    let (status, waiting) = app
        .post(&handoff, &bot, json!({"reason": "asks for a refund"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{waiting}");
    assert_eq!(
        (waiting["status"].as_str(), waiting["agent_id"].as_str()),
        (Some("waiting"), None)
    );
    let event = loop {
        let f = staff.next().await;
        if f.event == "sessionHandedOff" {
            break f;
        }
    };
    assert_eq!(event.data["reason"], "asks for a refund");
    let delivered = hooks.wait_for(1).await;
    let body: serde_json::Value = serde_json::from_str(&delivered[0].body).unwrap();
    assert_eq!(body["event"], "session.handed_off");
    assert_eq!(body["data"]["session"]["id"], id.as_str());
    assert_eq!(event.data["from"], bot_id.as_str());
    assert!(waiting_ids(&app, &agent).await.contains(&id));
    // The people get the assistant's transcript and why it came to them.
    let (_, history) = app
        .get(&format!("/v1/sessions/{id}/messages"), &agent)
        .await;
    let texts: Vec<&str> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["content"].as_str().unwrap())
        .collect();
    assert_eq!(
        texts,
        [
            "I am the shop's assistant. How can I help?",
            "I want my money back",
            "Handed off to a person: asks for a refund"
        ]
    );
    assert_error(
        &app.post(&handoff, &bot, json!({})).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    );

    let (status, back) = app
        .post(&format!("/v1/sessions/{id}/handback"), &agent, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK, "{back}");
    assert_eq!(
        (back["status"].as_str(), back["agent_id"].as_str()),
        (Some("active"), Some(bot_id.as_str()))
    );
    assert!(!waiting_ids(&app, &agent).await.contains(&id));
    let plain = app
        .open(&ann, json!({"business_id": "shop", "force_new": true}))
        .await;
    assert_error(
        &app.post(&format!("/v1/sessions/{plain}/handback"), &agent, json!({}))
            .await,
        StatusCode::CONFLICT,
        "no_assistant",
    );
    let stranger = app.agent("ag2", "elsewhere");
    assert_error(
        &app.post(&handoff, &stranger, json!({})).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}
