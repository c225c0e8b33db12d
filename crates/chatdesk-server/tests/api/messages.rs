//! Messages: durable sends with gap-free seq, idempotent retries, ranges, read state.

use crate::harness::{assert_error, on_both_stores, TestApp};
use crate::webhooks::{quick_retries, receiver_for};
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(
    sends_get_gap_free_seq_and_list_in_ranges,
    a_retry_with_the_same_client_msg_id_returns_the_original,
    bad_content_is_refused_and_nothing_is_written,
    a_closed_session_takes_no_messages,
    an_agent_reply_activates_a_waiting_session,
    read_cursor_and_unread_counts,
    read_cursors_say_who_read_how_far,
    a_transcript_writes_the_conversation_out,
    concurrent_sends_are_all_stored_in_order,
);
on_both_stores!(@with quick_retries; senders_edit_and_delete_their_messages);

async fn sends_get_gap_free_seq_and_list_in_ranges(app: TestApp) {
    let who = app.customer("ann");
    let id = app.open(&who, json!({})).await;
    for i in 1..=7 {
        let m = app.send(&who, &id, &format!("message {i}")).await;
        assert_eq!(m["seq"], i);
        assert_eq!(m["session_id"], id.as_str());
        assert_eq!(m["sender_type"], "customer");
    }
    let seqs = |v: &serde_json::Value| {
        v["messages"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["seq"].as_i64().unwrap())
            .collect::<Vec<_>>()
    };
    let (_, all) = app.get(&format!("/v1/sessions/{id}/messages"), &who).await;
    assert_eq!(seqs(&all), (1..=7).collect::<Vec<_>>());
    assert_eq!(all["messages"][0]["content"], "message 1");
    let (_, after) = app
        .get(&format!("/v1/sessions/{id}/messages?after_seq=5"), &who)
        .await;
    assert_eq!(seqs(&after), vec![6, 7]);
    let (_, before) = app
        .get(
            &format!("/v1/sessions/{id}/messages?before_seq=6&limit=2"),
            &who,
        )
        .await;
    assert_eq!(seqs(&before), vec![4, 5]);
    let (_, page) = app
        .get(
            &format!("/v1/sessions/{id}/messages?after_seq=1&limit=3"),
            &who,
        )
        .await;
    assert_eq!(seqs(&page), vec![2, 3, 4]);
    // Pages say whether more lie beyond them, and where the next one starts.
    assert_eq!(
        (page["has_more"].as_bool(), page["next_cursor"].as_str()),
        (Some(true), Some("4"))
    );
    let (_, last) = app
        .get(
            &format!("/v1/sessions/{id}/messages?after_seq=4&limit=3"),
            &who,
        )
        .await;
    assert_eq!(seqs(&last), vec![5, 6, 7]);
    assert_eq!(last["has_more"], false);
    assert!(last["next_cursor"].is_null());
    let (_, back) = app
        .get(
            &format!("/v1/sessions/{id}/messages?before_seq=4&limit=2"),
            &who,
        )
        .await;
    assert_eq!(seqs(&back), vec![2, 3]);
    assert_eq!(
        (back["has_more"].as_bool(), back["next_cursor"].as_str()),
        (Some(true), Some("2"))
    );
    let (_, first) = app
        .get(
            &format!("/v1/sessions/{id}/messages?before_seq=2&limit=2"),
            &who,
        )
        .await;
    assert_eq!(seqs(&first), vec![1]);
    assert_eq!(first["has_more"], false);
    // Both bounds: the range between them.
    let (_, range) = app
        .get(
            &format!("/v1/sessions/{id}/messages?after_seq=2&before_seq=6"),
            &who,
        )
        .await;
    assert_eq!(seqs(&range), vec![3, 4, 5]);
    assert_error(
        &app.get(&format!("/v1/sessions/{id}/messages?after_seq=-1"), &who)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_seq",
    );
    assert_error(
        &app.get(&format!("/v1/sessions/{id}/messages?limit=201"), &who)
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_limit",
    );
    let (_, s) = app.get(&format!("/v1/sessions/{id}"), &who).await;
    assert_eq!(
        (s["last_seq"].as_i64(), s["message_count"].as_i64()),
        (Some(7), Some(7))
    );
    assert!(s["last_message_at"].is_string());
}

async fn a_retry_with_the_same_client_msg_id_returns_the_original(app: TestApp) {
    let who = app.customer("ben");
    let id = app.open(&who, json!({})).await;
    let path = format!("/v1/sessions/{id}/messages");
    let (s1, m1) = app
        .post(
            &path,
            &who,
            json!({"content": "hello", "client_msg_id": "abc-1"}),
        )
        .await;
    assert_eq!(s1, StatusCode::CREATED);
    let (s2, m2) = app
        .post(
            &path,
            &who,
            json!({"content": "hello", "client_msg_id": "abc-1"}),
        )
        .await;
    assert_eq!(s2, StatusCode::OK);
    assert_eq!(m1, m2);
    // The same key with another text is a client bug, not a retry.
    assert_error(
        &app.post(
            &path,
            &who,
            json!({"content": "something else", "client_msg_id": "abc-1"}),
        )
        .await,
        StatusCode::CONFLICT,
        "client_msg_id_reused",
    );
    // A key belongs to its sender: the agent's "abc-1" is a message of its own.
    let agent = app.agent("ava", "default");
    let (s3, m3) = app
        .post(
            &path,
            &agent,
            json!({"content": "hello", "client_msg_id": "abc-1"}),
        )
        .await;
    assert_eq!(s3, StatusCode::CREATED, "{m3}");
    assert_eq!(m3["sender_type"], "agent");
    assert_ne!(m3["id"], m1["id"]);
    let (_, list) = app.get(&path, &who).await;
    assert_eq!(list["messages"].as_array().unwrap().len(), 2);
}

async fn bad_content_is_refused_and_nothing_is_written(app: TestApp) {
    let who = app.customer("cat");
    let id = app.open(&who, json!({})).await;
    let path = format!("/v1/sessions/{id}/messages");
    assert_error(
        &app.post(&path, &who, json!({"content": ""})).await,
        StatusCode::BAD_REQUEST,
        "empty_content",
    );
    assert_error(
        &app.post(&path, &who, json!({"content": " \n\t "})).await,
        StatusCode::BAD_REQUEST,
        "empty_content",
    );
    assert_error(
        &app.post(&path, &who, json!({"content": "x".repeat(10_001)}))
            .await,
        StatusCode::BAD_REQUEST,
        "content_too_long",
    );
    assert_error(
        &app.post(&path, &who, json!({"content": 5})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    assert_error(
        &app.post(&path, &who, json!({})).await,
        StatusCode::BAD_REQUEST,
        "empty_content",
    );
    assert_error(
        &app.post(&path, &who, json!({"content": "hi", "client_msg_id": ""}))
            .await,
        StatusCode::BAD_REQUEST,
        "invalid_client_msg_id",
    );
    // U+0000 fits no store's text (PostgreSQL refuses it): a 400 before the write path.
    assert_error(
        &app.post(&path, &who, json!({"content": "a\u{0}b"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_content",
    );
    // Exactly at the limit is fine, counted in characters.
    let (status, _) = app
        .post(&path, &who, json!({"content": "é".repeat(10_000)}))
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (_, s) = app.get(&format!("/v1/sessions/{id}"), &who).await;
    assert_eq!(s["last_seq"], 1, "only the valid message was written");
}

async fn a_closed_session_takes_no_messages(app: TestApp) {
    let who = app.customer("dot");
    let id = app.open(&who, json!({})).await;
    app.post(&format!("/v1/sessions/{id}/end"), &who, json!({}))
        .await;
    assert_error(
        &app.post(
            &format!("/v1/sessions/{id}/messages"),
            &who,
            json!({"content": "anyone?"}),
        )
        .await,
        StatusCode::CONFLICT,
        "session_closed",
    );
}

async fn an_agent_reply_activates_a_waiting_session(app: TestApp) {
    let who = app.customer("eve");
    let id = app.open(&who, json!({})).await;
    app.send(&who, &id, "I need help!").await;
    let agent = app.agent("agent-9", "default");
    let reply = app.send(&agent, &id, "How can I help you?").await;
    assert_eq!(reply["sender_type"], "agent");
    assert_eq!(reply["seq"], 2);
    let (_, s) = app.get(&format!("/v1/sessions/{id}"), &who).await;
    assert_eq!(
        (s["status"].as_str(), s["agent_id"].as_str()),
        (Some("active"), Some("agent-9"))
    );
}

async fn read_cursor_and_unread_counts(app: TestApp) {
    let who = app.customer("fox");
    let agent = app.agent("agent-1", "default");
    let id = app.open(&who, json!({})).await;
    app.send(&who, &id, "q1").await;
    app.send(&who, &id, "q2").await;
    for i in 0..3 {
        app.send(&agent, &id, &format!("a{i}")).await;
    }
    let (_, unread) = app.get("/v1/me/unread", &who).await;
    assert_eq!(unread["total"], 3, "{unread}");
    assert_eq!(unread["sessions"][0]["session_id"], id.as_str());
    let (_, agent_unread) = app.get("/v1/me/unread", &agent).await;
    assert_eq!(
        agent_unread["total"], 2,
        "the agent is assigned and has not read the customer's two"
    );

    let read = format!("/v1/sessions/{id}/read");
    let (status, r) = app.post(&read, &who, json!({"up_to_seq": 4})).await;
    assert_eq!(status, StatusCode::OK, "{r}");
    assert_eq!(
        (r["last_read_seq"].as_i64(), r["unread"].as_i64()),
        (Some(4), Some(1))
    );
    let (_, r) = app.post(&read, &who, json!({"up_to_seq": 2})).await;
    assert_eq!(r["last_read_seq"], 4, "the cursor never moves back");
    assert_error(
        &app.post(&read, &who, json!({"up_to_seq": 6})).await,
        StatusCode::BAD_REQUEST,
        "seq_out_of_range",
    );
    assert_error(
        &app.post(&read, &who, json!({"up_to_seq": -1})).await,
        StatusCode::BAD_REQUEST,
        "seq_out_of_range",
    );
    assert_error(
        &app.post(&read, &who, json!({"up_to_seq": "all"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    let (_, r) = app.post(&read, &who, json!({"up_to_seq": 5})).await;
    assert_eq!(r["unread"], 0);
    let (_, unread) = app.get("/v1/me/unread", &who).await;
    assert_eq!(unread["total"], 0);
}

async fn read_cursors_say_who_read_how_far(app: TestApp) {
    let who = app.customer("reader");
    let agent = app.agent("reading-agent", "default");
    let id = app.open(&who, json!({})).await;
    app.send(&who, &id, "one").await;
    app.send(&agent, &id, "two").await;
    let read = format!("/v1/sessions/{id}/read");
    let (status, none) = app.get(&read, &who).await;
    assert_eq!(status, StatusCode::OK, "{none}");
    assert_eq!(none["cursors"], json!([]));
    app.post(&read, &agent, json!({"up_to_seq": 1})).await;
    app.post(&read, &who, json!({"up_to_seq": 2})).await;
    let (_, got) = app.get(&read, &who).await;
    let mut cursors: Vec<(String, i64)> = got["cursors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["reader"]["id"].as_str().unwrap().to_owned(),
                c["up_to_seq"].as_i64().unwrap(),
            )
        })
        .collect();
    cursors.sort();
    assert_eq!(
        cursors,
        vec![("reader".into(), 2), ("reading-agent".into(), 1)]
    );
    assert_error(
        &app.get(&read, &app.customer("someone-else")).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
}

async fn a_transcript_writes_the_conversation_out(app: TestApp) {
    let who = app.customer("writer");
    let agent = app.agent("ag-t", "default");
    let id = app.open(&who, json!({"topic": "Lost parcel"})).await;
    app.send(&who, &id, "Where is <b>my</b> parcel?").await;
    app.send(&agent, &id, "It ships today.\nTracking follows.")
        .await;
    app.post(
        &format!("/v1/sessions/{id}/notes"),
        &agent,
        json!({"content": "private remark"}),
    )
    .await;
    let get = |format: &'static str, who: crate::harness::As| {
        let app = app.clone();
        let id = id.clone();
        async move {
            app.request(
                reqwest::Method::GET,
                &format!("/v1/sessions/{id}/transcript?format={format}"),
                &who,
            )
            .send()
            .await
            .unwrap()
        }
    };
    let text = get("text", who.clone()).await;
    assert_eq!(text.status(), StatusCode::OK);
    assert!(text.headers()["content-disposition"]
        .to_str()
        .unwrap()
        .starts_with("attachment; filename=\"conversation-"));
    let text = text.text().await.unwrap();
    assert!(text.contains("Lost parcel"), "{text}");
    assert!(
        text.contains("customer writer: Where is <b>my</b> parcel?"),
        "{text}"
    );
    assert!(text.contains("agent ag-t: It ships today."), "{text}");
    assert!(!text.contains("private remark"), "notes stay out");
    let html = get("html", agent.clone()).await;
    assert!(html.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    assert!(html.headers()["content-security-policy"]
        .to_str()
        .unwrap()
        .contains("default-src 'none'"));
    let html = html.text().await.unwrap();
    assert!(
        html.contains("Where is &lt;b&gt;my&lt;/b&gt; parcel?"),
        "{html}"
    );
    assert!(
        html.contains("It ships today.<br>Tracking follows."),
        "{html}"
    );
    let stranger = get("text", app.customer("nosy")).await;
    assert_eq!(stranger.status(), StatusCode::NOT_FOUND);
    let bad = get("pdf", who).await;
    assert_eq!(bad.status(), StatusCode::BAD_REQUEST);
}

async fn senders_edit_and_delete_their_messages(app: TestApp) {
    let ann = app.customer("ann-e");
    let agent = app.agent("ag-e", "default");
    let (hooks, _server) =
        receiver_for(&app, "default", &["message.updated", "message.deleted"]).await;
    let id = app.open(&ann, json!({})).await;
    app.send(&ann, &id, "my parcel is lost").await;
    app.send(&agent, &id, "sorry to hear").await;
    let mut agent_stream =
        crate::realtime::Sse::open(&app, &format!("/v1/sessions/{id}/events"), &agent, None)
            .await
            .unwrap();
    let one = format!("/v1/sessions/{id}/messages/1");
    let (status, edited) = app
        .patch(&one, &ann, json!({"content": "my parcel is late"}))
        .await;
    assert_eq!(status, StatusCode::OK, "{edited}");
    assert_eq!(
        (edited["seq"].as_i64(), edited["content"].as_str()),
        (Some(1), Some("my parcel is late"))
    );
    assert!(edited["edited_at"].is_string());
    let f = agent_stream.next().await;
    assert_eq!(
        (
            f.event.as_str(),
            f.data["content"].as_str(),
            f.data["seq"].as_i64()
        ),
        ("messageUpdated", Some("my parcel is late"), Some(1))
    );
    // Only the sender: not the agent, not a stranger (who cannot see it at all).
    assert_error(
        &app.patch(&one, &agent, json!({"content": "mine now"}))
            .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.patch(&one, &app.customer("nosy-e"), json!({"content": "x"}))
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.patch(&one, &ann, json!({"content": " "})).await,
        StatusCode::BAD_REQUEST,
        "empty_content",
    );
    assert_error(
        &app.patch(
            &format!("/v1/sessions/{id}/messages/9"),
            &ann,
            json!({"content": "x"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, found) = app.get("/v1/search?q=lost", &ann).await;
    assert_eq!(found["messages"], json!([]), "the old words are not found");

    let (status, deleted) = app.delete(&one, &ann).await;
    assert_eq!(status, StatusCode::OK, "{deleted}");
    assert_eq!(deleted["content"], "");
    let f = agent_stream.next().await;
    assert_eq!(
        (f.event.as_str(), f.data["seq"].as_i64()),
        ("messageDeleted", Some(1))
    );
    let (_, history) = app
        .get(&format!("/v1/sessions/{id}/messages"), &agent)
        .await;
    assert_eq!(history["messages"][0]["seq"], 1, "seq stays");
    assert!(history["messages"][0]["deleted_at"].is_string());
    assert_eq!(history["messages"][0]["content"], "");
    // Webhooks hear of both, each with the message as it stood when it was dispatched.
    let mut heard: Vec<(String, String)> = hooks
        .wait_for(2)
        .await
        .iter()
        .map(|r| {
            let body: serde_json::Value = serde_json::from_str(&r.body).unwrap();
            let m = &body["data"]["message"];
            assert_eq!(m["seq"], 1);
            let event = body["event"].as_str().unwrap().to_owned();
            (event, m["content"].as_str().unwrap().to_owned())
        })
        .collect();
    heard.sort();
    assert_eq!(heard[0], ("message.deleted".to_owned(), String::new()));
    assert_eq!(heard[1].0, "message.updated");
    assert!(["my parcel is late", ""].contains(&heard[1].1.as_str()));
    assert_error(
        &app.delete(&one, &ann).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    app.post(&format!("/v1/sessions/{id}/end"), &ann, json!({}))
        .await;
    assert_error(
        &app.patch(
            &format!("/v1/sessions/{id}/messages/2"),
            &agent,
            json!({"content": "x"}),
        )
        .await,
        StatusCode::CONFLICT,
        "session_closed",
    );
}

fn no_edit_window(s: &mut chatdesk_server::Settings) {
    s.message_edit_window_secs = -1;
}

on_both_stores!(@with no_edit_window; past_the_window_a_message_stays_as_it_is);

async fn past_the_window_a_message_stays_as_it_is(app: TestApp) {
    let ann = app.customer("ann-w");
    let id = app.open(&ann, json!({})).await;
    app.send(&ann, &id, "too late to change").await;
    let one = format!("/v1/sessions/{id}/messages/1");
    assert_error(
        &app.patch(&one, &ann, json!({"content": "x"})).await,
        StatusCode::CONFLICT,
        "edit_window_passed",
    );
    assert_error(
        &app.delete(&one, &ann).await,
        StatusCode::CONFLICT,
        "edit_window_passed",
    );
}

async fn concurrent_sends_are_all_stored_in_order(app: TestApp) {
    let who = app.customer("gil");
    let id = app.open(&who, json!({})).await;
    let sends = (0..40).map(|i| {
        let (app, who, id) = (app.clone(), who.clone(), id.clone());
        async move {
            app.send(&who, &id, &format!("m{i}")).await["seq"]
                .as_i64()
                .unwrap()
        }
    });
    let mut seqs = futures::future::join_all(sends).await;
    seqs.sort_unstable();
    assert_eq!(
        seqs,
        (1..=40).collect::<Vec<_>>(),
        "every acknowledged send has its own seq, no gaps"
    );
    let (_, list) = app
        .get(&format!("/v1/sessions/{id}/messages?limit=200"), &who)
        .await;
    assert_eq!(list["messages"].as_array().unwrap().len(), 40);
}
