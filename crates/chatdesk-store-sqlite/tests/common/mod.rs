//! What the SQLite store's own tests share.

#![allow(dead_code, reason = "each test binary uses its own part")]

use chatdesk_core::clock;
use chatdesk_core::domain::*;
use chatdesk_core::store::{NewMessage, NewSession, SessionStore};
use chatdesk_store_sqlite::{Durability, SqliteStore};
use std::path::Path;

/// A new general session of `owner` in the default tenant.
pub fn new_session(owner: &Party) -> NewSession {
    NewSession::general(BusinessId::default_tenant(), owner.clone(), clock::now())
}

/// The customer the tests write as.
pub fn customer() -> Party {
    Party::User(UserId::parse("u").unwrap())
}

/// A store on the database file at `path` (created), at `durability`.
pub async fn file_store(path: &Path, durability: Durability) -> SqliteStore {
    SqliteStore::connect(&format!("sqlite://{}", path.display()), durability)
        .await
        .unwrap()
}

/// A newly opened session of `owner`.
pub async fn open(store: &SqliteStore, owner: &Party) -> Session {
    store
        .open_session(new_session(owner), false)
        .await
        .unwrap()
        .0
}

/// A message from `sender`, a customer, into `session`, with no client id.
pub fn message(session: SessionId, sender: &Party, content: String) -> NewMessage {
    NewMessage {
        id: MessageId::generate(),
        session_id: session,
        sender: sender.clone(),
        sender_type: SenderType::Customer,
        content,
        client_msg_id: None,
        claim_for_agent: None,
        attachments: Vec::new(),
        at: clock::now(),
    }
}
