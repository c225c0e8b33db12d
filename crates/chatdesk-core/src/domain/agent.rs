//! Agents and departments.

use super::text::line_newtype;
use super::{BusinessId, Invalid, UserId};
use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

line_newtype!(
    /// A department's name, unique within its tenant.
    DepartmentName, field = "name", code = "invalid_name", max = 100
);

/// What an agent says about itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Presence {
    Online,
    Away,
    Offline,
}

impl Presence {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim().to_ascii_lowercase().as_str() {
            "online" => Ok(Self::Online),
            "away" => Ok(Self::Away),
            "offline" => Ok(Self::Offline),
            _ => Err(Invalid::new(
                "status",
                "invalid_presence",
                "status must be online, away or offline",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Online => "online",
            Self::Away => "away",
            Self::Offline => "offline",
        }
    }
}

/// How many chats routing gives an agent at once: 0 (none automatically; the agent still
/// takes sessions by hand) to 100.
pub fn max_concurrent(n: i64) -> Result<i64, Invalid> {
    if (0..=100).contains(&n) {
        Ok(n)
    } else {
        Err(Invalid::new(
            "max_concurrent",
            "invalid_max_concurrent",
            "max_concurrent must be between 0 and 100",
        ))
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Department {
    pub id: Uuid,
    pub business_id: BusinessId,
    pub name: DepartmentName,
    pub agents: Vec<UserId>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Agent {
    pub business_id: BusinessId,
    pub agent_id: UserId,
    pub max_concurrent: i64,
    /// The agent's own choice.
    pub presence: Presence,
    /// Open real-time connections (sockets, SSE streams).
    pub connections: i64,
    /// Open sessions assigned to the agent now.
    pub active_sessions: i64,
    pub updated_at: DateTime<Utc>,
}

impl Agent {
    /// What others see: an agent without connections is offline whatever it chose.
    pub fn effective_presence(&self) -> Presence {
        if self.connections > 0 {
            self.presence
        } else {
            Presence::Offline
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presence_and_caps() {
        assert_eq!(Presence::parse("AWAY").unwrap(), Presence::Away);
        assert_eq!(
            Presence::parse("busy").unwrap_err().code,
            "invalid_presence"
        );
        assert!(
            max_concurrent(-1).is_err()
                && max_concurrent(101).is_err()
                && max_concurrent(5).is_ok()
        );
        assert_eq!(max_concurrent(0), Ok(0), "0: no sessions by routing");
    }
}
