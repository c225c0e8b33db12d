//! What clients send on `/chat`, typed. An event is read straight from its packet's JSON
//! instead of through a `serde_json::Value` tree (a map and a string per field, for every
//! message), and a field of the wrong type is answered with an
//! `invalid_body` error instead of being passed over as if it were absent.

use chatdesk_core::domain::{Invalid, SessionId};
use chatdesk_core::service::Conversation;
use serde::de::{self, Deserializer, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::fmt;

/// Seed 004's `conversationId`: a number, or a string of digits (a value read from a form).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ConversationNumber(pub i64);

impl<'de> Deserialize<'de> for ConversationNumber {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Number;
        impl Visitor<'_> for Number {
            type Value = ConversationNumber;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a conversation number")
            }
            fn visit_i64<E: de::Error>(self, n: i64) -> Result<Self::Value, E> {
                Ok(ConversationNumber(n))
            }
            fn visit_u64<E: de::Error>(self, n: u64) -> Result<Self::Value, E> {
                i64::try_from(n)
                    .map(ConversationNumber)
                    .map_err(|_| E::invalid_value(de::Unexpected::Unsigned(n), &self))
            }
            fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
                s.trim()
                    .parse()
                    .map(ConversationNumber)
                    .map_err(|_| E::invalid_value(de::Unexpected::Str(s), &self))
            }
        }
        d.deserialize_any(Number)
    }
}

/// The conversation an event names: `sessionId` (a UUID, parsed here) wins over
/// `conversationId`.
fn named(
    session_id: Option<String>,
    number: Option<ConversationNumber>,
) -> Result<Option<Conversation>, Invalid> {
    match session_id {
        Some(raw) => SessionId::parse(&raw).map(|id| Some(Conversation::Id(id))),
        None => Ok(number.map(|n| Conversation::Number(n.0))),
    }
}

/// `sendMessage {conversationId | sessionId, content, clientMsgId?, userId?, attachmentIds?}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SendMessage {
    session_id: Option<String>,
    conversation_id: Option<ConversationNumber>,
    /// Staff starting a conversation with a user (a number or a string; checked where the
    /// REST door checks it).
    pub user_id: Option<Value>,
    pub content: Option<String>,
    pub client_msg_id: Option<String>,
    /// Files uploaded into the session by the sender (`POST /v1/sessions/{id}/attachments`).
    #[serde(default)]
    pub attachment_ids: Vec<String>,
}

impl SendMessage {
    pub fn conversation(&mut self) -> Result<Option<Conversation>, Invalid> {
        named(self.session_id.take(), self.conversation_id)
    }
}

/// `markAsRead {conversationId | sessionId, upToSeq?}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MarkAsRead {
    session_id: Option<String>,
    conversation_id: Option<ConversationNumber>,
    pub up_to_seq: Option<i64>,
}

impl MarkAsRead {
    pub fn conversation(&mut self) -> Result<Option<Conversation>, Invalid> {
        named(self.session_id.take(), self.conversation_id)
    }
}

/// `typing {conversationId | sessionId, isTyping?}` (`isTyping` defaults to true).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Typing {
    session_id: Option<String>,
    conversation_id: Option<ConversationNumber>,
    pub is_typing: Option<bool>,
}

impl Typing {
    pub fn conversation(&mut self) -> Result<Option<Conversation>, Invalid> {
        named(self.session_id.take(), self.conversation_id)
    }
}

/// `joinSession {sessionId, sinceSeq?}` (`sinceSeq` defaults to 0: the whole history).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JoinSession {
    pub session_id: Option<String>,
    pub since_seq: Option<i64>,
}

/// `leaveSession {sessionId}`.
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LeaveSession {
    pub session_id: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(json: &str) -> Result<SendMessage, serde_json::Error> {
        serde_json::from_str(json)
    }

    #[test]
    fn a_conversation_number_may_come_as_digits() {
        for json in [r#"{"conversationId": 7}"#, r#"{"conversationId": " 7"}"#] {
            let mut m = send(json).unwrap();
            assert!(
                matches!(m.conversation(), Ok(Some(Conversation::Number(7)))),
                "{json}"
            );
        }
    }

    #[test]
    fn a_session_id_wins_over_a_conversation_number() {
        let id = SessionId::generate();
        let mut m = send(&format!(r#"{{"sessionId": "{id}", "conversationId": 7}}"#)).unwrap();
        assert!(matches!(m.conversation(), Ok(Some(Conversation::Id(named))) if named == id));
        let mut m = send(r#"{"sessionId": "abc", "conversationId": 7}"#).unwrap();
        assert!(
            m.conversation().is_err(),
            "a malformed sessionId is refused"
        );
    }

    #[test]
    fn absent_and_null_name_no_conversation() {
        for json in [
            r#"{"content": "hi"}"#,
            r#"{"conversationId": null, "sessionId": null}"#,
        ] {
            let mut m = send(json).unwrap();
            assert!(matches!(m.conversation(), Ok(None)), "{json}");
            assert!(m.user_id.is_none());
        }
    }

    #[test]
    fn fields_of_the_wrong_type_are_refused() {
        for json in [
            r#"{"conversationId": "seven"}"#,
            r#"{"conversationId": 1.5}"#,
            r#"{"conversationId": true}"#,
            r#"{"sessionId": 12}"#,
            r#"{"content": 12}"#,
            r#"{"clientMsgId": {}}"#,
            r#""hello""#,
        ] {
            assert!(send(json).is_err(), "{json} was accepted");
        }
    }

    #[test]
    fn a_join_with_a_since_seq_of_the_wrong_type_is_refused() {
        for json in [
            r#"{"sessionId": "s", "sinceSeq": "5"}"#,
            r#"{"sessionId": "s", "sinceSeq": 1.5}"#,
            r#"{"sessionId": 5}"#,
        ] {
            assert!(serde_json::from_str::<JoinSession>(json).is_err(), "{json}");
        }
        let j: JoinSession = serde_json::from_str(r#"{"sessionId": "s"}"#).unwrap();
        assert_eq!((j.session_id.as_deref(), j.since_seq), (Some("s"), None));
    }

    #[test]
    fn unknown_fields_are_ignored() {
        let m = send(r#"{"content": "hi", "senderId": 3, "extra": {"a": [1]}}"#).unwrap();
        assert_eq!(m.content.as_deref(), Some("hi"));
    }
}
