//! What real-time clients receive: seed 004's event names and fields (`newMessage`,
//! `messagesRead`, `userTyping`), plus `seq` and `sessionId`, for Socket.IO and SSE alike.
//!
//! The rule: every real-time payload is camelCase, as seed 004's are, sessions included;
//! REST (`/v1`) and webhook bodies are snake_case.

use crate::wire::ids::PartyId;
use crate::wire::views::SessionView;
use chatdesk_core::domain::{AttachmentId, AttachmentRef, Message, MessageId, SessionId};
use chatdesk_core::files::{Links, Variant};
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
    #[serde(skip_serializing_if = "Vec::is_empty")]
    attachments: Vec<AttachmentPayload<'a>>,
}

/// A file a message carries, with links that work for `attachments.link_ttl_secs`.
#[derive(Serialize)]
#[serde(rename_all = "camelCase")]
pub struct AttachmentPayload<'a> {
    id: AttachmentId,
    name: &'a str,
    content_type: &'a str,
    size: i64,
    url: String,
    thumbnail_url: Option<String>,
}

pub fn attachment<'a>(r: &'a AttachmentRef, links: &Links) -> AttachmentPayload<'a> {
    AttachmentPayload {
        id: r.id,
        name: &r.name,
        content_type: &r.content_type,
        size: r.size,
        url: links.fresh(r.id, Variant::Original),
        thumbnail_url: r.thumbnail.then(|| links.fresh(r.id, Variant::Thumbnail)),
    }
}

pub fn message<'a>(
    session_number: i64,
    m: &'a Message,
    is_read: bool,
    links: &Links,
) -> MessagePayload<'a> {
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
        attachments: m.attachments.iter().map(|r| attachment(r, links)).collect(),
    }
}

/// A message's `newMessage` data (and its sender's acknowledgement) as JSON text.
pub fn render_message(session_number: i64, m: &Message, links: &Links) -> Box<RawValue> {
    // Nobody else has read a message as it is created.
    serde_json::value::to_raw_value(&message(session_number, m, false, links))
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
