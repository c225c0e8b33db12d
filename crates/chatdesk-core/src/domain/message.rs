//! Messages and their content.

use super::{AttachmentRef, ClientMsgId, Invalid, MessageId, Party, SessionId};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Message text: not blank, at most a configured number of characters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct Content(String);

impl Content {
    pub const DEFAULT_MAX_CHARS: usize = 10_000;

    /// Content keeps its inner whitespace and newlines (they are the author's), but a message
    /// that is only whitespace is empty.
    pub fn parse(raw: &str, max_chars: usize) -> Result<Self, Invalid> {
        if raw.trim().is_empty() {
            return Err(Invalid::new(
                "content",
                "empty_content",
                "content must not be empty",
            ));
        }
        if raw.chars().count() > max_chars {
            return Err(Invalid::new(
                "content",
                "content_too_long",
                format!("content must be at most {max_chars} characters"),
            ));
        }
        if raw.contains('\0') {
            return Err(Invalid::new(
                "content",
                "invalid_content",
                "content must not contain U+0000",
            ));
        }
        Ok(Self(raw.to_owned()))
    }

    /// The text of a message that carries only files.
    pub fn files_only() -> Self {
        Self(String::new())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }
}

/// Who wrote a message, as the conversation shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SenderType {
    Customer,
    Agent,
    Assistant,
    System,
}

impl SenderType {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Customer => "customer",
            Self::Agent => "agent",
            Self::Assistant => "assistant",
            Self::System => "system",
        }
    }

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw {
            "customer" => Ok(Self::Customer),
            "agent" => Ok(Self::Agent),
            "assistant" => Ok(Self::Assistant),
            "system" => Ok(Self::System),
            _ => Err(Invalid::new(
                "sender_type",
                "invalid_sender_type",
                "unknown sender type",
            )),
        }
    }
}

/// A stored message. `seq` is gap-free per session, starting at 1.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Message {
    pub id: MessageId,
    pub session_id: SessionId,
    pub seq: i64,
    pub sender: Party,
    pub sender_type: SenderType,
    pub content: String,
    pub client_msg_id: Option<ClientMsgId>,
    pub created_at: DateTime<Utc>,
    /// When its sender last changed its text.
    #[serde(default)]
    pub edited_at: Option<DateTime<Utc>>,
    /// When its sender deleted it: its content is gone (empty), its `seq` stays.
    #[serde(default)]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Files sent with it (gone with its deletion).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentRef>,
}

/// What a message's sender does to it after sending.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Revision {
    Edit(Content),
    Delete,
}

impl Revision {
    /// The webhook event it causes, queued with it.
    pub fn webhook_event(&self) -> super::WebhookEvent {
        match self {
            Self::Edit(_) => super::WebhookEvent::MessageUpdated,
            Self::Delete => super::WebhookEvent::MessageDeleted,
        }
    }
}

impl Message {
    /// Seed 004's `isRead`: someone other than its sender has read up to it (`cursors`: each
    /// reader's last read seq in its session). A message is never read as it is created.
    pub fn is_read(&self, cursors: &[(Party, i64)]) -> bool {
        cursors
            .iter()
            .any(|(reader, seq)| *reader != self.sender && *seq >= self.seq)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn read_means_read_by_someone_else() {
        let (alice, bob) = (
            Party::User(super::super::UserId::parse("alice").unwrap()),
            Party::User(super::super::UserId::parse("bob").unwrap()),
        );
        let m = Message {
            id: MessageId::generate(),
            session_id: SessionId::generate(),
            seq: 3,
            sender: alice.clone(),
            sender_type: SenderType::Customer,
            content: "hi".into(),
            client_msg_id: None,
            created_at: chrono::Utc::now(),
            edited_at: None,
            deleted_at: None,
            attachments: Vec::new(),
        };
        assert!(!m.is_read(&[]));
        assert!(
            !m.is_read(&[(alice.clone(), 9)]),
            "the sender's own cursor does not count"
        );
        assert!(!m.is_read(&[(bob.clone(), 2)]));
        assert!(m.is_read(&[(alice, 1), (bob, 3)]));
    }

    #[test]
    fn content_rules() {
        assert_eq!(Content::parse("  ", 10).unwrap_err().code, "empty_content");
        assert_eq!(
            Content::parse("abcdef", 5).unwrap_err().code,
            "content_too_long"
        );
        assert_eq!(Content::parse(" hi\n", 5).unwrap().as_str(), " hi\n");
        assert_eq!(
            Content::parse("a\0b", 5).unwrap_err().code,
            "invalid_content"
        );
    }
}
