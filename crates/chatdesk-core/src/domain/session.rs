//! The session (= conversation) and the values that describe it.

use super::text::line_newtype;
use super::{ActivityCounters, BusinessId, Invalid, LocationId, Party, SessionId, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt;

line_newtype!(
    /// What the conversation is about (seed 002 requires one; the rest may leave it out).
    Topic, field = "topic", code = "invalid_topic", max = 255
);

line_newtype!(
    /// A display title, e.g. a ChatGPT-style sidebar label.
    Title, field = "title", code = "invalid_title", max = 255
);

line_newtype!(
    /// Free-form kind of session, e.g. `general`, `support`, `sales`.
    SessionType, field = "session_type", code = "invalid_session_type", max = 64
);

impl SessionType {
    pub fn general() -> Self {
        Self("general".to_owned())
    }
}

/// How urgent a session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum Priority {
    Low,
    #[default]
    Normal,
    High,
    Urgent,
}

impl Priority {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "low" => Ok(Self::Low),
            "normal" => Ok(Self::Normal),
            "high" => Ok(Self::High),
            "urgent" => Ok(Self::Urgent),
            _ => Err(Invalid::new(
                "priority",
                "invalid_priority",
                "priority must be one of low, normal, high, urgent",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Normal => "normal",
            Self::High => "high",
            Self::Urgent => "urgent",
        }
    }

    /// Where this priority is served in a queue: urgent (0) first, low (3) last. The stores'
    /// SQL spells the same order as [`QUEUE_RANK_SQL`].
    pub fn queue_rank(self) -> i64 {
        match self {
            Self::Urgent => 0,
            Self::High => 1,
            Self::Normal => 2,
            Self::Low => 3,
        }
    }
}

/// [`Priority::queue_rank`] of a `priority` column, for the stores' queries and indexes.
pub const QUEUE_RANK_SQL: &str =
    "(CASE priority WHEN 'urgent' THEN 0 WHEN 'high' THEN 1 WHEN 'normal' THEN 2 ELSE 3 END)";

/// Where a session is in its life: `waiting` (no agent yet) → `active` → `closed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SessionStatus {
    Waiting,
    Active,
    Closed,
}

impl SessionStatus {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "waiting" => Ok(Self::Waiting),
            "active" => Ok(Self::Active),
            "closed" => Ok(Self::Closed),
            _ => Err(Invalid::new(
                "status",
                "invalid_status",
                "status must be one of waiting, active, closed",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Waiting => "waiting",
            Self::Active => "active",
            Self::Closed => "closed",
        }
    }

    pub fn is_open(self) -> bool {
        self != Self::Closed
    }

    /// The status machine. Staying put is always allowed (an idempotent no-op). A closed
    /// session stays closed: reopening is a separate, tenant-controlled operation.
    pub fn can_become(self, next: SessionStatus) -> bool {
        use SessionStatus::*;
        matches!(
            (self, next),
            (Waiting, Waiting)
                | (Active, Active)
                | (Closed, Closed)
                | (Waiting, Active)
                | (Waiting, Closed)
                | (Active, Closed)
                | (Active, Waiting)
        )
    }
}

impl fmt::Display for SessionStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A stored session.
#[derive(Debug, Clone, PartialEq, Serialize, serde::Deserialize)]
pub struct Session {
    pub id: SessionId,
    /// A small integer for doors whose clients use integer ids (seeds 000 and 004).
    pub number: i64,
    pub business_id: BusinessId,
    pub location_id: Option<LocationId>,
    pub owner: Party,
    pub session_type: SessionType,
    pub topic: Option<Topic>,
    pub title: Option<Title>,
    pub priority: Priority,
    pub status: SessionStatus,
    pub agent_id: Option<UserId>,
    pub department_id: Option<String>,
    pub metadata: serde_json::Value,
    /// The seq of the newest message; 0 when there is none.
    pub last_seq: i64,
    pub message_count: i64,
    /// What clients reported through seed 003's activity updates.
    pub activity: ActivityCounters,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub last_activity_at: DateTime<Utc>,
    pub last_message_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Session {
    /// Its place in a queue's order: by priority, then oldest first.
    pub fn queue_key(&self) -> (i64, i64) {
        (self.priority.queue_rank(), self.number)
    }

    /// A new waiting session, for tests.
    pub fn sample(owner: super::Party, tenant: &str) -> Session {
        let now = chrono::Utc::now();
        Session {
            id: super::SessionId::generate(),
            number: 1,
            business_id: super::BusinessId::parse(tenant).unwrap(),
            location_id: None,
            owner,
            session_type: SessionType::general(),
            topic: None,
            title: None,
            priority: Priority::Normal,
            status: SessionStatus::Waiting,
            agent_id: None,
            department_id: None,
            metadata: serde_json::json!({}),
            last_seq: 0,
            message_count: 0,
            activity: super::ActivityCounters::default(),
            started_at: now,
            ended_at: None,
            last_activity_at: now,
            last_message_at: None,
            created_at: now,
            updated_at: now,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn priority_parses_case_insensitively() {
        assert_eq!(Priority::parse("URGENT").unwrap(), Priority::Urgent);
        assert_eq!(
            Priority::parse("bogus").unwrap_err().code,
            "invalid_priority"
        );
    }

    #[test]
    fn status_machine() {
        use SessionStatus::*;
        assert!(Waiting.can_become(Active));
        assert!(Waiting.can_become(Closed));
        assert!(Active.can_become(Closed));
        assert!(Active.can_become(Waiting));
        assert!(Closed.can_become(Closed));
        assert!(!Closed.can_become(Active));
        assert!(!Closed.can_become(Waiting));
        assert!(!Active.is_open() || Active.is_open());
        assert!(!Closed.is_open());
    }

    #[test]
    fn topic_is_trimmed_and_bounded() {
        assert_eq!(
            Topic::parse("  Order 1234 ").unwrap().as_str(),
            "Order 1234"
        );
        assert_eq!(
            Topic::parse(&"t".repeat(256)).unwrap_err().code,
            "invalid_topic"
        );
    }
}
