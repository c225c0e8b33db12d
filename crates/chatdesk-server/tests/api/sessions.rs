//! `/v1/sessions`: resume-or-create, force_new, listing, changes, status, delete, end.

use crate::harness::{assert_error, on_both_stores, As, TestApp};
use chatdesk_core::identity::Role;
use reqwest::StatusCode;
use serde_json::json;
use std::collections::HashSet;

on_both_stores!(
    creates_then_resumes_and_force_new_always_creates,
    twenty_concurrent_opens_make_one_session,
    open_rejects_bad_fields_and_writes_nothing,
    lists_own_sessions_newest_first_with_cursor_pages,
    staff_list_their_tenant_and_filter,
    update_changes_and_clears_fields,
    only_staff_change_status_along_the_machine,
    end_closes_once_and_is_idempotent,
    delete_is_soft_and_hides_the_session,
    services_open_sessions_for_their_users,
    visitors_have_their_own_sessions,
);

async fn creates_then_resumes_and_force_new_always_creates(app: TestApp) {
    let alice = app.customer("alice");
    let (s1, b1) = app
        .post(
            "/v1/sessions",
            &alice,
            json!({"topic": "Chat về áo thun", "metadata": {"cart": 3}}),
        )
        .await;
    assert_eq!(s1, StatusCode::CREATED);
    assert_eq!(b1["is_new"], true);
    let first = &b1["session"];
    assert_eq!(first["status"], "waiting");
    assert_eq!(first["business_id"], "default");
    assert_eq!(first["session_type"], "general");
    assert_eq!(first["priority"], "normal");
    assert_eq!(first["owner"], json!({"kind": "user", "id": "alice"}));
    assert_eq!(first["metadata"], json!({"cart": 3}));
    assert!(
        first["created_at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 UTC"
    );

    // No body at all resumes too.
    let r = app
        .request(reqwest::Method::POST, "/v1/sessions", &alice)
        .send()
        .await
        .unwrap();
    let (s2, b2) = crate::harness::split(r).await;
    assert_eq!(s2, StatusCode::OK);
    assert_eq!(b2["is_new"], false);
    assert_eq!(b2["session"]["id"], first["id"]);
    assert_eq!(b2["ignored_fields"], json!([]));
    // A resume says which of the request's fields it did not take.
    let (_, b2b) = app
        .post(
            "/v1/sessions",
            &alice,
            json!({"topic": "another", "priority": "high"}),
        )
        .await;
    assert_eq!(b2b["is_new"], false);
    assert_eq!(b2b["ignored_fields"], json!(["topic", "priority"]));
    assert_eq!(b2b["session"]["topic"], first["topic"]);

    let (s3, b3) = app
        .post("/v1/sessions", &alice, json!({"force_new": true}))
        .await;
    assert_eq!(s3, StatusCode::CREATED);
    assert_ne!(b3["session"]["id"], first["id"]);
    let (s4, b4) = app
        .post("/v1/sessions", &alice, json!({"force_new": true}))
        .await;
    assert_eq!(s4, StatusCode::CREATED);
    let (_, b5) = app.post("/v1/sessions", &alice, json!({})).await;
    assert_eq!(
        b5["session"]["id"], b4["session"]["id"],
        "resume picks the last active one"
    );
    assert!(b4["session"]["number"].as_i64() > b3["session"]["number"].as_i64());

    // Another tenant is another session.
    let (s6, b6) = app
        .post("/v1/sessions", &alice, json!({"business_id": "B0100001"}))
        .await;
    assert_eq!(s6, StatusCode::CREATED);
    assert_eq!(b6["session"]["business_id"], "B0100001");
}

async fn twenty_concurrent_opens_make_one_session(app: TestApp) {
    let who = app.customer("racer");
    let calls = (0..20).map(|_| {
        let app = app.clone();
        let who = who.clone();
        async move { app.post("/v1/sessions", &who, json!({})).await }
    });
    let results = futures::future::join_all(calls).await;
    let ids: HashSet<_> = results
        .iter()
        .map(|(_, b)| b["session"]["id"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(ids.len(), 1);
    let created = results
        .iter()
        .filter(|(s, _)| *s == StatusCode::CREATED)
        .count();
    assert_eq!(created, 1, "exactly one 201, the rest 200");
}

async fn open_rejects_bad_fields_and_writes_nothing(app: TestApp) {
    let who = app.customer("picky");
    let cases = [
        (json!({"priority": "whenever"}), "invalid_priority"),
        (json!({"topic": "x".repeat(256)}), "invalid_topic"),
        (json!({"topic": "   "}), "invalid_topic"),
        (json!({"metadata": [1, 2]}), "invalid_metadata"),
        (json!({"metadata": {"a": ["x\u{0}"]}}), "invalid_metadata"),
        (json!({"metadata": {"k\u{0}": 1}}), "invalid_metadata"),
        // PostgreSQL would give it back in digits that no longer read as a number.
        (json!({"metadata": {"x": [f64::MIN]}}), "invalid_metadata"),
        (json!({"business_id": ""}), "invalid_business_id"),
        (json!({"force_new": "yes"}), "invalid_body"),
        (json!({"topic": 42}), "invalid_body"),
        (json!({"force_neww": true}), "invalid_body"),
        (json!({"user_id": "someone-else"}), "forbidden"),
    ];
    for (body, code) in cases {
        let got = app.post("/v1/sessions", &who, body.clone()).await;
        let status = if code == "forbidden" {
            StatusCode::FORBIDDEN
        } else {
            StatusCode::BAD_REQUEST
        };
        assert_error(&got, status, code);
    }
    let (_, list) = app.get("/v1/sessions", &who).await;
    assert_eq!(list["sessions"], json!([]), "nothing was written");
}

async fn lists_own_sessions_newest_first_with_cursor_pages(app: TestApp) {
    let alice = app.customer("alice");
    let bob = app.customer("bob");
    let mut mine = Vec::new();
    for i in 0..5 {
        mine.push(
            app.open(
                &alice,
                json!({"force_new": true, "title": format!("chat {i}")}),
            )
            .await,
        );
    }
    app.open(&bob, json!({})).await;
    let mut seen = Vec::new();
    let mut path = "/v1/sessions?limit=2".to_owned();
    loop {
        let (status, page) = app.get(&path, &alice).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        for s in page["sessions"].as_array().unwrap() {
            assert_eq!(s["owner"]["id"], "alice");
            seen.push(s["id"].as_str().unwrap().to_owned());
        }
        match page["next_cursor"].as_str() {
            Some(c) => path = format!("/v1/sessions?limit=2&cursor={c}"),
            None => break,
        }
    }
    mine.reverse();
    assert_eq!(seen, mine);
    assert_error(
        &app.get("/v1/sessions?cursor=bogus", &alice).await,
        StatusCode::BAD_REQUEST,
        "invalid_cursor",
    );
    assert_error(
        &app.get("/v1/sessions?limit=0", &alice).await,
        StatusCode::BAD_REQUEST,
        "invalid_limit",
    );
    assert_error(
        &app.get("/v1/sessions?limit=abc", &alice).await,
        StatusCode::BAD_REQUEST,
        "invalid_query",
    );
    assert_error(
        &app.get("/v1/sessions?status=sleeping", &alice).await,
        StatusCode::BAD_REQUEST,
        "invalid_status",
    );
    // A customer asking for someone else's sessions learns nothing.
    assert_error(
        &app.get("/v1/sessions?user_id=bob", &alice).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, own) = app
        .get("/v1/sessions?user_id=alice&limit=100", &alice)
        .await;
    assert_eq!(own["sessions"].as_array().unwrap().len(), 5);
}

async fn staff_list_their_tenant_and_filter(app: TestApp) {
    let alice = app.customer("alice");
    let bob = app.customer("bob");
    let a = app
        .open(&alice, json!({"business_id": "shop", "location_id": "L1"}))
        .await;
    app.open(&bob, json!({"business_id": "shop"})).await;
    app.open(&bob, json!({"business_id": "other"})).await;
    let agent = app.agent("ag1", "shop");
    let (_, all) = app.get("/v1/sessions", &agent).await;
    assert_eq!(all["sessions"].as_array().unwrap().len(), 2, "{all}");
    let (_, by_user) = app.get("/v1/sessions?user_id=alice", &agent).await;
    assert_eq!(by_user["sessions"][0]["id"], a.as_str());
    assert_eq!(by_user["sessions"].as_array().unwrap().len(), 1);
    let (_, by_loc) = app.get("/v1/sessions?location_id=L1", &agent).await;
    assert_eq!(by_loc["sessions"].as_array().unwrap().len(), 1);
    assert_error(
        &app.get("/v1/sessions?business_id=other", &agent).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (_, none) = app.get("/v1/sessions?status=closed", &agent).await;
    assert_eq!(none["sessions"], json!([]));
    // An unscoped admin sees every tenant.
    let admin = app.token("root", Role::Admin, None);
    let (_, everything) = app.get("/v1/sessions", &admin).await;
    assert_eq!(everything["sessions"].as_array().unwrap().len(), 3);
}

async fn update_changes_and_clears_fields(app: TestApp) {
    let who = app.customer("ed");
    let id = app
        .open(&who, json!({"topic": "shipping", "title": "t"}))
        .await;
    let (status, s) = app
        .patch(&format!("/v1/sessions/{id}"), &who, json!({"title": "Hỏi về shipping", "topic": null, "priority": "high", "metadata": {"a": 1}}))
        .await;
    assert_eq!(status, StatusCode::OK, "{s}");
    assert_eq!(s["title"], "Hỏi về shipping");
    assert_eq!(s["topic"], json!(null));
    assert_eq!(s["priority"], "high");
    assert_eq!(s["metadata"], json!({"a": 1}));
    let (_, again) = app.get(&format!("/v1/sessions/{id}"), &who).await;
    assert_eq!(again, s);
    assert_error(
        &app.patch(
            &format!("/v1/sessions/{id}"),
            &who,
            json!({"priority": "meh"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_priority",
    );
    assert_error(
        &app.patch(
            &format!("/v1/sessions/{id}"),
            &who,
            json!({"colour": "red"}),
        )
        .await,
        StatusCode::BAD_REQUEST,
        "invalid_body",
    );
    let (_, unchanged) = app.get(&format!("/v1/sessions/{id}"), &who).await;
    assert_eq!(
        unchanged["priority"], "high",
        "a refused patch writes nothing"
    );
}

async fn only_staff_change_status_along_the_machine(app: TestApp) {
    let who = app.customer("fay");
    let id = app.open(&who, json!({})).await;
    let path = format!("/v1/sessions/{id}");
    assert_error(
        &app.patch(&path, &who, json!({"status": "active"})).await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let agent = app.agent("ag", "default");
    let (status, s) = app.patch(&path, &agent, json!({"status": "active"})).await;
    assert_eq!(
        (status, s["status"].as_str()),
        (StatusCode::OK, Some("active"))
    );
    let (_, s) = app.patch(&path, &agent, json!({"status": "closed"})).await;
    assert_eq!(s["status"], "closed");
    assert!(s["ended_at"].is_string());
    assert_error(
        &app.patch(&path, &agent, json!({"status": "active"})).await,
        StatusCode::CONFLICT,
        "invalid_transition",
    );
    assert_error(
        &app.patch(&path, &agent, json!({"status": "asleep"})).await,
        StatusCode::BAD_REQUEST,
        "invalid_status",
    );
}

async fn end_closes_once_and_is_idempotent(app: TestApp) {
    let who = app.customer("gus");
    let id = app.open(&who, json!({})).await;
    let (status, ended) = app
        .post(&format!("/v1/sessions/{id}/end"), &who, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(ended["status"], "closed");
    let (status, again) = app
        .post(&format!("/v1/sessions/{id}/end"), &who, json!({}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        again["ended_at"], ended["ended_at"],
        "ending twice keeps the first end time"
    );
    // A closed session is not resumed.
    let (status, b) = app.post("/v1/sessions", &who, json!({})).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_ne!(b["session"]["id"], id.as_str());
}

async fn delete_is_soft_and_hides_the_session(app: TestApp) {
    let who = app.customer("hana");
    let id = app.open(&who, json!({})).await;
    let (status, body) = app.delete(&format!("/v1/sessions/{id}"), &who).await;
    assert_eq!(
        (status, body),
        (StatusCode::NO_CONTENT, serde_json::Value::Null)
    );
    assert_error(
        &app.get(&format!("/v1/sessions/{id}"), &who).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_error(
        &app.delete(&format!("/v1/sessions/{id}"), &who).await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, list) = app.get("/v1/sessions", &who).await;
    assert_eq!(list["sessions"], json!([]));
    // Still in the database (soft).
    let backend = app.backend().await;
    let sid = chatdesk_core::domain::SessionId::parse(&id).unwrap();
    assert!(backend.store().get_session(sid).await.unwrap().is_none());
    backend.close().await;
}

async fn services_open_sessions_for_their_users(app: TestApp) {
    let service = app.api_key("B0100001").await;
    let (status, b) = app
        .post(
            "/v1/sessions",
            &service,
            json!({"business_id": "B0100001", "user_id": "user_123", "location_id": "L001"}),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{b}");
    assert_eq!(
        b["session"]["owner"],
        json!({"kind": "user", "id": "user_123"})
    );
    // The user sees it with their own token.
    let user = app.customer("user_123");
    let (_, mine) = app.get("/v1/sessions?business_id=B0100001", &user).await;
    assert_eq!(mine["sessions"][0]["id"], b["session"]["id"]);
    // A key is bound to its tenant.
    assert_error(
        &app.post(
            "/v1/sessions",
            &service,
            json!({"business_id": "other", "user_id": "u"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    assert_error(
        &app.get("/v1/sessions", &As::ApiKey("cdk_wrong".into()))
            .await,
        StatusCode::UNAUTHORIZED,
        "invalid_api_key",
    );
}

async fn visitors_have_their_own_sessions(app: TestApp) {
    let v = app.visitor();
    let id = app
        .open(&v, json!({"topic": "Pertanyaan tentang izin usaha"}))
        .await;
    let (_, s) = app.get(&format!("/v1/sessions/{id}"), &v).await;
    assert_eq!(s["owner"]["kind"], "visitor");
    let (_, list) = app.get("/v1/sessions", &v).await;
    assert_eq!(list["sessions"].as_array().unwrap().len(), 1);
}
