//! Seed 004: the Postman sequence, read receipts, unread counts, and the admin/user split.

use super::assert_nest_error;
use crate::harness::{on_both_stores, As, TestApp};
use reqwest::StatusCode;
use serde_json::json;

on_both_stores!(
    the_documents_postman_sequence,
    admins_start_conversations_and_users_stay_in_their_own
);

async fn login(app: &TestApp, email: &str) -> (As, serde_json::Value) {
    let (s, b) = app
        .post(
            "/auth/login",
            &As::Nobody,
            json!({"email": email, "password": "password"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{b}");
    (
        As::Token(b["access_token"].as_str().unwrap().to_owned()),
        b["user"].clone(),
    )
}

async fn the_documents_postman_sequence(app: TestApp) {
    let user_id = app.account("user@example.com", "customer").await;
    app.account("admin@example.com", "admin").await;
    // 1. Login as User, 2. Login as Admin
    let (user, user_info) = login(&app, "user@example.com").await;
    let (admin, admin_info) = login(&app, "admin@example.com").await;
    assert_eq!(
        (user_info["role"].as_str(), admin_info["role"].as_str()),
        (Some("USER"), Some("ADMIN"))
    );
    assert_eq!(user_info["id"], user_id);
    // 3. User Sends First Message
    let (s, first) = app
        .post("/chat/messages", &user, json!({"content": "I need help!"}))
        .await;
    assert_eq!(s, StatusCode::CREATED, "{first}");
    let conversation = first["conversationId"].as_i64().unwrap();
    assert_eq!(first["senderId"], user_id);
    assert_eq!(first["isRead"], false);
    // 4. Admin Views Conversations
    let (_, list) = app.get("/chat/conversations", &admin).await;
    assert_eq!(list[0]["id"], conversation);
    assert_eq!(list[0]["userId"], user_id);
    assert_eq!(list[0]["status"], "ACTIVE");
    assert_eq!(list[0]["unreadCount"], 1);
    // 5. Admin Replies
    let (s, reply) = app
        .post(
            "/chat/messages",
            &admin,
            json!({"conversationId": conversation, "content": "How can I help you?"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{reply}");
    assert_eq!(reply["conversationId"], conversation);

    // Read receipts: the admin reads, the user's message is read; the user has one unread.
    let (_, count) = app.get("/chat/unread-count", &user).await;
    assert_eq!(count["count"], 1);
    let (s, _) = app
        .post(
            &format!("/chat/conversations/{conversation}/read"),
            &admin,
            json!({}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, msgs) = app
        .get(
            &format!("/chat/conversations/{conversation}/messages"),
            &user,
        )
        .await;
    assert_eq!(msgs[0]["isRead"], true, "{msgs}");
    assert_eq!(msgs[1]["isRead"], false);
    let (_, done) = app
        .post(
            &format!("/chat/conversations/{conversation}/read"),
            &user,
            json!({}),
        )
        .await;
    assert_eq!(
        (done["success"].as_bool(), done["unreadCount"].as_i64()),
        (Some(true), Some(0))
    );
    let (_, count) = app.get("/chat/unread-count", &user).await;
    assert_eq!(count["unreadCount"], 0);
    let (_, one) = app
        .get(&format!("/chat/conversations/{conversation}"), &user)
        .await;
    assert_eq!(one["messages"].as_array().unwrap().len(), 2);
    assert_eq!(one["messages"][1]["isRead"], true);

    // Only admins change status.
    assert_nest_error(
        &app.patch(
            &format!("/chat/conversations/{conversation}"),
            &user,
            json!({"status": "CLOSED"}),
        )
        .await,
        StatusCode::FORBIDDEN,
        "forbidden",
    );
    let (s, closed) = app
        .patch(
            &format!("/chat/conversations/{conversation}"),
            &admin,
            json!({"status": "CLOSED"}),
        )
        .await;
    assert_eq!(
        (s, closed["status"].as_str()),
        (StatusCode::OK, Some("CLOSED"))
    );
    let (_, closed_list) = app.get("/chat/conversations?status=CLOSED", &user).await;
    assert_eq!(closed_list.as_array().unwrap().len(), 1);
    let (_, active_list) = app.get("/chat/conversations?status=ACTIVE", &user).await;
    assert_eq!(active_list, json!([]));
    assert_nest_error(
        &app.get("/chat/conversations?status=OPEN", &user).await,
        StatusCode::BAD_REQUEST,
        "invalid_status",
    );
    assert_nest_error(
        &app.post(
            "/auth/login",
            &As::Nobody,
            json!({"email": "user@example.com", "password": "nope"}),
        )
        .await,
        StatusCode::UNAUTHORIZED,
        "invalid_credentials",
    );
}

async fn admins_start_conversations_and_users_stay_in_their_own(app: TestApp) {
    let alice = app.account("alice@example.com", "customer").await;
    let bob = app.account("bob@example.com", "customer").await;
    app.account("admin@example.com", "admin").await;
    let (admin, _) = login(&app, "admin@example.com").await;
    let (alice_t, _) = login(&app, "alice@example.com").await;
    let (bob_t, _) = login(&app, "bob@example.com").await;
    // Scenario 2: the admin starts a conversation with a user.
    let (s, m) = app
        .post(
            "/chat/messages",
            &admin,
            json!({"content": "Hello Alice", "userId": alice}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{m}");
    let conversation = m["conversationId"].as_i64().unwrap();
    let (_, mine) = app.get("/chat/conversations", &alice_t).await;
    assert_eq!(mine[0]["id"], conversation);
    assert_eq!(mine[0]["unreadCount"], 1);
    // Scenario 3: Alice continues it.
    let (s, _) = app
        .post(
            "/chat/messages",
            &alice_t,
            json!({"conversationId": conversation, "content": "Hi!"}),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    // Bob sees none of it, and his userId claims are not believed.
    assert_nest_error(
        &app.get(&format!("/chat/conversations/{conversation}"), &bob_t)
            .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_nest_error(
        &app.get(
            &format!("/chat/conversations/{conversation}/messages"),
            &bob_t,
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    assert_nest_error(
        &app.post(
            "/chat/messages",
            &bob_t,
            json!({"conversationId": conversation, "content": "let me in"}),
        )
        .await,
        StatusCode::NOT_FOUND,
        "not_found",
    );
    let (_, own) = app
        .post(
            "/chat/messages",
            &bob_t,
            json!({"content": "mine", "userId": alice}),
        )
        .await;
    assert_ne!(
        own["conversationId"], conversation,
        "a user's userId goes nowhere but their own conversation"
    );
    let (_, bobs) = app.get("/chat/conversations", &bob_t).await;
    assert_eq!(bobs.as_array().unwrap().len(), 1);
    assert_eq!(bobs[0]["userId"], bob);
    let (_, all) = app.get("/chat/conversations", &admin).await;
    assert_eq!(all.as_array().unwrap().len(), 2);
    assert_nest_error(
        &app.post("/chat/messages", &admin, json!({"content": "to whom?"}))
            .await,
        StatusCode::BAD_REQUEST,
        "missing_field",
    );
    assert_nest_error(
        &app.post("/chat/messages", &alice_t, json!({"content": "  "}))
            .await,
        StatusCode::BAD_REQUEST,
        "empty_content",
    );
    assert_nest_error(
        &app.get("/chat/conversations", &As::Nobody).await,
        StatusCode::UNAUTHORIZED,
        "unauthenticated",
    );
    assert_nest_error(
        &app.get("/chat/conversations/x", &alice_t).await,
        StatusCode::BAD_REQUEST,
        "invalid_id",
    );
}
