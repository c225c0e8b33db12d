//! Private notes: staff write and read them; the customer never meets one, in its history,
//! unread count, search, event stream or a seed door; webhooks mark them private.

use crate::harness::{assert_error, on_both_stores, TestApp};
use crate::realtime::Sse;
use crate::webhooks::{quick_retries, shop_receiver};
use reqwest::StatusCode;
use serde_json::{json, Value};

on_both_stores!(@with quick_retries; notes_reach_staff_only);

async fn notes_reach_staff_only(app: TestApp) {
    let (receiver, _server) = shop_receiver(&app, "note.created").await;
    let ann = app.customer("ann");
    let agent = app.agent("ag1", "shop");
    let id = app.open(&ann, json!({"business_id": "shop"})).await;
    app.send(&ann, &id, "where is my parcel").await;
    let mut staff_stream = Sse::open(&app, "/v1/events", &agent, None).await.unwrap();
    let mut customer_stream = Sse::open(&app, &format!("/v1/sessions/{id}/events"), &ann, None)
        .await
        .unwrap();

    let notes = format!("/v1/sessions/{id}/notes");
    let (status, note) = app
        .post(
            &notes,
            &agent,
            json!({"content": "secretword: refund approved"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{note}");
    assert_eq!(
        (note["number"].as_i64(), note["author_id"].as_str()),
        (Some(1), Some("ag1"))
    );
    let live = loop {
        let f = staff_stream.next().await;
        if f.event == "noteCreated" {
            break f;
        }
    };
    assert_eq!(live.data["content"], "secretword: refund approved");
    assert_eq!(live.data["private"], true);
    let (_, listed) = app.get(&notes, &agent).await;
    assert_eq!(listed["notes"].as_array().unwrap().len(), 1, "{listed}");

    // The customer: refused, and shown nothing of it anywhere.
    assert_error(
        &app.post(&notes, &ann, json!({"content": "me too"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.get(&notes, &ann).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    app.send(&agent, &id, "it ships today").await;
    let next = customer_stream.next().await;
    assert_eq!(
        (next.event.as_str(), next.data["content"].as_str()),
        ("newMessage", Some("it ships today")),
        "the note never reached the customer's stream"
    );
    let (_, history) = app.get(&format!("/v1/sessions/{id}/messages"), &ann).await;
    let seqs: Vec<i64> = history["messages"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["seq"].as_i64().unwrap())
        .collect();
    assert_eq!(seqs, vec![1, 2], "gap-free, and no note");
    assert!(!history.to_string().contains("secretword"));
    let (_, unread) = app.get("/v1/me/unread", &ann).await;
    assert_eq!(unread["total"], 1, "the agent's one message, not the note");
    let (_, found) = app.get("/v1/search?q=secretword", &ann).await;
    assert!(!found.to_string().contains("secretword"), "{found}");
    let (_, found) = app.get("/v1/search?q=secretword", &agent).await;
    assert!(
        !found.to_string().contains("secretword"),
        "search covers messages only"
    );
    // Another tenant's agent does not reach the session or its notes.
    let stranger = app.agent("ag2", "elsewhere");
    assert_error(
        &app.get(&notes, &stranger).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.post(&notes, &agent, json!({"content": "  "})).await,
        StatusCode::BAD_REQUEST,
        "empty_content",
    );

    let delivered = receiver.wait_for(1).await;
    let body: Value = serde_json::from_str(&delivered[0].body).unwrap();
    assert_eq!(body["event"], "note.created");
    assert_eq!(body["data"]["private"], true);
    assert_eq!(
        body["data"]["note"]["content"],
        "secretword: refund approved"
    );
}
