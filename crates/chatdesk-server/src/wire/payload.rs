//! What real-time clients receive: seed 004's event names and fields (`newMessage`,
//! `messagesRead`, `userTyping`), plus `seq` and `sessionId`, for Socket.IO and SSE alike.
//!
//! The rule: every real-time payload is camelCase, as seed 004's are, sessions included;
//! REST (`/v1`) and webhook bodies are snake_case.

use crate::wire::ids::PartyId;
use crate::wire::views::SessionView;
use chatdesk_core::domain::{Message, MessageId, SessionId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::value::RawValue;
use serde_json::{json, Value};

/// A message as seed 004's clients know it. Serialized straight from the stored message:
/// every message is rendered for its sender's acknowledgement and once for its audience
/// (`render`), and building a JSON value first (a map of owned keys and strings) was a tenth of the socket
/// path's time.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MessagePayload<'a> {
    id: MessageId,
    conversation_id: i64,
    session_id: SessionId,
    seq: i64,
    sender_id: PartyId<'a>,
    sender_type: &'static str,
    content: &'a str,
    is_read: bool,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    created_at: DateTime<Utc>,
}

pub fn message(session_number: i64, m: &Message, is_read: bool) -> MessagePayload<'_> {
    MessagePayload {
        id: m.id,
        conversation_id: session_number,
        session_id: m.session_id,
        seq: m.seq,
        sender_id: PartyId(&m.sender),
        sender_type: m.sender_type.as_str(),
        content: &m.content,
        is_read,
        created_at: m.created_at,
    }
}

/// A message's `newMessage` data (and its sender's acknowledgement) as JSON text.
pub fn render_message(session_number: i64, m: &Message) -> Box<RawValue> {
    // Nobody else has read a message as it is created.
    serde_json::value::to_raw_value(&message(session_number, m, false))
        .expect("a message payload serializes")
}

/// A session as real-time clients get it: `/v1`'s view with camelCase names (its
/// `metadata`, the client's own data, as stored).
pub fn session(s: &chatdesk_core::domain::Session) -> Value {
    match json!(SessionView::from(s)) {
        Value::Object(fields) => Value::Object(
            fields
                .into_iter()
                .map(|(k, v)| (camel_case(&k), v))
                .collect(),
        ),
        other => other,
    }
}

fn camel_case(snake: &str) -> String {
    let mut out = String::with_capacity(snake.len());
    let mut upper = false;
    for c in snake.chars() {
        match c {
            '_' => upper = true,
            c if upper => {
                out.extend(c.to_uppercase());
                upper = false;
            }
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatdesk_core::domain::{Party, UserId};

    #[test]
    fn session_payloads_are_camel_case_and_keep_metadata_as_sent() {
        let alice = Party::User(UserId::parse("alice").unwrap());
        let mut s = chatdesk_core::domain::Session::sample(alice, "shop");
        s.metadata = json!({"order_id": 7});
        let v = session(&s);
        for key in [
            "businessId",
            "lastSeq",
            "messageCount",
            "startedAt",
            "agentId",
        ] {
            assert!(v.get(key).is_some(), "{key} in {v}");
        }
        assert!(v.get("business_id").is_none());
        assert_eq!(v["metadata"], json!({"order_id": 7}));
        assert_eq!(v["owner"]["kind"], "user");
    }
}
