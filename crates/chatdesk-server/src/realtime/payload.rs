//! What real-time clients receive: seed 004's event names and fields (`newMessage`,
//! `messagesRead`, `userTyping`), plus `seq` and `sessionId`, for Socket.IO and SSE alike.
//!
//! The rule: every real-time payload is camelCase, as seed 004's are, sessions included;
//! REST (`/v1`) and webhook bodies are snake_case.

use super::hub::Dispatched;
use crate::http::doors::{party_id, PartyId};
use crate::http::v1::views::SessionView;
use chatdesk_core::bus::Event;
use chatdesk_core::domain::{Message, MessageId, Party, SessionId};
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

/// An event's data: a message already rendered, anything else (rare) as a JSON value.
#[derive(Serialize)]
#[serde(untagged)]
pub enum Payload<'a> {
    Rendered(&'a RawValue),
    Other(Value),
}

/// What an event the hub handed out looks like to the connection of `me`: an event name
/// and its data, or `None` when it is not for them (their own typing, their own read
/// receipt). A message's data is rendered once, by the first connection that sends it, and
/// the others send the same text: every message goes to its sender's connection and to its
/// agent's at least, and socketioxide's serializer would render it again for each.
pub fn render<'a>(d: &'a Dispatched, me: &Party) -> Option<(&'static str, Payload<'a>)> {
    let other = |name, data| Some((name, Payload::Other(data)));
    match &*d.event {
        Event::MessageCreated {
            session_number,
            message: m,
            ..
        } => {
            let json = d
                .new_message
                .get_or_init(|| render_message(*session_number, m));
            Some(("newMessage", Payload::Rendered(json)))
        }
        Event::ReadAdvanced {
            session_id,
            session_number,
            reader,
            up_to_seq,
            ..
        } if reader != me => other(
            "messagesRead",
            json!({"conversationId": session_number, "sessionId": session_id.to_string(), "readerId": party_id(reader), "upToSeq": up_to_seq}),
        ),
        Event::ReadAdvanced { .. } => None,
        Event::Typing {
            session_id,
            session_number,
            who,
            is_typing,
            ..
        } if who != me => other(
            "userTyping",
            json!({"conversationId": session_number, "sessionId": session_id.to_string(), "userId": party_id(who), "isTyping": is_typing}),
        ),
        Event::Typing { .. } => None,
        Event::SessionCreated(s) => other("sessionCreated", session(s)),
        Event::SessionUpdated(s) => other("sessionUpdated", session(s)),
        // Clients already learn of the close from `sessionUpdated`.
        Event::SessionClosed(_) => None,
        Event::SessionAssigned(s) => other("sessionAssigned", session(s)),
        Event::QueuePosition {
            session_id,
            session_number,
            position,
            ..
        } => other(
            "queuePosition",
            json!({"conversationId": session_number, "sessionId": session_id.to_string(), "position": position}),
        ),
        Event::VisitorLinked { user, .. } => other(
            "identityLinked",
            json!({"userId": party_id(&Party::User(user.clone()))}),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chatdesk_core::domain::{BusinessId, SenderType, UserId};
    use std::sync::Arc;

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

    #[test]
    fn a_message_is_rendered_once_for_every_connection_and_as_its_own_payload() {
        let sender = Party::User(UserId::parse("alice").unwrap());
        let m = Message {
            id: MessageId::generate(),
            session_id: SessionId::generate(),
            seq: 7,
            sender: sender.clone(),
            sender_type: SenderType::Customer,
            content: "say \"hi\"\n".into(),
            client_msg_id: None,
            created_at: chrono::Utc::now(),
        };
        let d = Dispatched {
            event: Arc::new(Event::MessageCreated {
                business_id: BusinessId::default_tenant(),
                owner: sender.clone(),
                session_number: 3,
                message: m.clone(),
            }),
            new_message: Default::default(),
        };
        let agent = Party::User(UserId::parse("agent").unwrap());
        let (
            Some(("newMessage", Payload::Rendered(a))),
            Some(("newMessage", Payload::Rendered(b))),
        ) = (render(&d, &sender), render(&d, &agent))
        else {
            panic!("a message renders as newMessage data");
        };
        assert!(std::ptr::eq(a, b), "rendered once, shared");
        assert_eq!(
            a.get(),
            serde_json::to_string(&message(3, &m, false)).unwrap()
        );
    }
}
