//! Webhooks: which events a tenant subscribes to, and where they go.

use super::Invalid;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum WebhookEvent {
    #[serde(rename = "session.created")]
    SessionCreated,
    #[serde(rename = "message.created")]
    MessageCreated,
    #[serde(rename = "session.assigned")]
    SessionAssigned,
    #[serde(rename = "session.closed")]
    SessionClosed,
    /// A private note: staff only (`"private": true` in its data).
    #[serde(rename = "note.created")]
    NoteCreated,
    /// A customer rated its closed conversation.
    #[serde(rename = "session.rated")]
    SessionRated,
    /// An assistant handed its session to people: it waits in the queue.
    #[serde(rename = "session.handed_off")]
    SessionHandedOff,
    /// A message's sender changed its text.
    #[serde(rename = "message.updated")]
    MessageUpdated,
    /// A message's sender deleted it.
    #[serde(rename = "message.deleted")]
    MessageDeleted,
    /// A test delivery an admin asks for; nobody subscribes to it.
    #[serde(rename = "ping")]
    Ping,
}

impl WebhookEvent {
    /// The events a webhook can subscribe to.
    pub const ALL: [WebhookEvent; 9] = [
        Self::SessionCreated,
        Self::MessageCreated,
        Self::SessionAssigned,
        Self::SessionClosed,
        Self::NoteCreated,
        Self::SessionRated,
        Self::SessionHandedOff,
        Self::MessageUpdated,
        Self::MessageDeleted,
    ];

    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        Self::ALL.into_iter().find(|e| e.as_str() == raw.trim()).ok_or_else(|| {
            Invalid::new("events", "invalid_event", "events must be session.created, message.created, session.assigned, session.closed, note.created, session.rated, session.handed_off, message.updated or message.deleted")
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::SessionCreated => "session.created",
            Self::MessageCreated => "message.created",
            Self::SessionAssigned => "session.assigned",
            Self::SessionClosed => "session.closed",
            Self::NoteCreated => "note.created",
            Self::SessionRated => "session.rated",
            Self::SessionHandedOff => "session.handed_off",
            Self::MessageUpdated => "message.updated",
            Self::MessageDeleted => "message.deleted",
            Self::Ping => "ping",
        }
    }
}

/// Where deliveries go: an absolute http(s) URL.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(transparent)]
pub struct WebhookUrl(String);

impl WebhookUrl {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        let s = raw.trim();
        let bad = || {
            Invalid::new(
                "url",
                "invalid_url",
                "url must be an absolute http:// or https:// URL",
            )
        };
        let rest = s
            .strip_prefix("https://")
            .or_else(|| s.strip_prefix("http://"))
            .ok_or_else(bad)?;
        let host = rest.split(['/', '?', '#']).next().unwrap_or_default();
        if host.is_empty()
            || s.len() > 2048
            || s.chars().any(|c| c.is_whitespace() || c.is_control())
        {
            return Err(bad());
        }
        Ok(Self(s.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_and_urls() {
        assert_eq!(
            WebhookEvent::parse("message.created").unwrap(),
            WebhookEvent::MessageCreated
        );
        assert_eq!(
            WebhookEvent::parse("message.exploded").unwrap_err().code,
            "invalid_event"
        );
        assert!(WebhookUrl::parse("https://crm.example.com/hooks/chat?x=1").is_ok());
        assert!(WebhookUrl::parse("http://127.0.0.1:9000/").is_ok());
        for bad in [
            "ftp://x",
            "https://",
            "//x.com",
            "https://a b.com",
            "notaurl",
        ] {
            assert_eq!(
                WebhookUrl::parse(bad).unwrap_err().code,
                "invalid_url",
                "{bad}"
            );
        }
    }
}
