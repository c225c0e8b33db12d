//! The contract cases, by aggregate. Each is a `pub async fn name(store: Arc<dyn Store>)` and
//! takes a fresh, empty store; the build script finds every one, so adding a case is writing
//! it (a `// contract: one thread` line above it runs it on a single-threaded runtime).

mod accounts;
mod attachments;
mod canned;
mod contacts;
mod hours;
mod labels;
mod messages;
mod notes;
mod ratings;
mod routing;
mod sessions;
mod webhooks;

pub use accounts::*;
pub use attachments::*;
pub use canned::*;
pub use contacts::*;
pub use hours::*;
pub use labels::*;
pub use messages::*;
pub use notes::*;
pub use ratings::*;
pub use routing::*;
pub use sessions::*;
pub use webhooks::*;

use chatdesk_core::clock;
use chatdesk_core::domain::*;
use chatdesk_core::identity::Role;
use chatdesk_core::store::*;
use chrono::Duration;
use std::collections::HashSet;
use std::sync::Arc;

fn user(id: &str) -> Party {
    Party::User(UserId::parse(id).unwrap())
}

fn tenant(id: &str) -> BusinessId {
    BusinessId::parse(id).unwrap()
}

/// A live webhook of `tenant` for `event`, so that the store queues its outbox entries.
async fn subscribe(store: &Arc<dyn Store>, tenant: &BusinessId, event: WebhookEvent) {
    let url = WebhookUrl::parse("http://127.0.0.1:9/hook").unwrap();
    store
        .create_webhook(tenant, &url, "s3cret", &[event], clock::now())
        .await
        .unwrap();
}

fn new_session(owner: &Party, business: &str) -> NewSession {
    NewSession {
        topic: Some(Topic::parse("shipping").unwrap()),
        metadata: serde_json::json!({"source": "test"}),
        ..NewSession::general(tenant(business), owner.clone(), clock::now())
    }
}

fn msg(session: SessionId, sender: &Party, content: &str) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        session_id: session,
        sender: sender.clone(),
        sender_type: SenderType::Customer,
        content: content.to_owned(),
        client_msg_id: None,
        claim_for_agent: None,
        attachments: Vec::new(),
        at: clock::now(),
    }
}

async fn create(store: &Arc<dyn Store>, owner: &Party, business: &str) -> Session {
    let (s, created) = store
        .open_session(new_session(owner, business), false)
        .await
        .unwrap();
    assert!(created);
    s
}

async fn append_one(store: &Arc<dyn Store>, m: NewMessage) -> AppendOutcome {
    store.append_messages(&[m]).await.unwrap().pop().unwrap()
}

/// A change in `agent`'s open connections on node `n1`, with nothing else changed.
async fn connect(
    store: &Arc<dyn Store>,
    tenant: &BusinessId,
    agent: &UserId,
    delta: i64,
    at: chrono::DateTime<chrono::Utc>,
) -> Agent {
    let connections = Connections { node: "n1", delta };
    store
        .update_agent(tenant, agent, None, None, connections, at)
        .await
        .unwrap()
}

/// A session's first ten messages, oldest first.
async fn first_messages(store: &Arc<dyn Store>, session: SessionId) -> Vec<Message> {
    let range = MessageRange::After {
        after: 0,
        limit: 10,
    };
    store.list_messages(session, range).await.unwrap()
}

fn created(o: AppendOutcome) -> Message {
    match o {
        AppendOutcome::Created(m) => m,
        other => panic!("expected Created, got {other:?}"),
    }
}
