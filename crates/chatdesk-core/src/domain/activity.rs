//! Session activity (seed 003): what a client reports, and the counters it moves.

use super::Invalid;
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ActivityKind {
    MessageSent,
    ConversationStarted,
    /// An answer arrived; carries how long it took.
    ResponseReceived,
}

impl ActivityKind {
    pub fn parse(raw: &str) -> Result<Self, Invalid> {
        match raw.trim() {
            "message_sent" => Ok(Self::MessageSent),
            "conversation_started" => Ok(Self::ConversationStarted),
            "response_received" => Ok(Self::ResponseReceived),
            _ => Err(Invalid::new(
                "activity_type",
                "invalid_activity_type",
                "activity_type must be message_sent, conversation_started or response_received",
            )),
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::MessageSent => "message_sent",
            Self::ConversationStarted => "conversation_started",
            Self::ResponseReceived => "response_received",
        }
    }
}

/// A response time in milliseconds, from seconds as a client reports them.
pub fn response_time_ms(seconds: f64) -> Result<i64, Invalid> {
    if !(0.0..=86_400.0).contains(&seconds) {
        return Err(Invalid::new(
            "response_time",
            "invalid_response_time",
            "response_time must be a number of seconds between 0 and 86400",
        ));
    }
    Ok((seconds * 1000.0).round() as i64)
}

/// Counters a session accumulates from reported activity.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, serde::Deserialize)]
pub struct ActivityCounters {
    pub messages_sent: i64,
    pub conversations: i64,
    pub response_time_total_ms: i64,
    pub response_count: i64,
}

impl ActivityCounters {
    /// Mean response time in seconds, 0 when nothing was measured.
    pub fn average_response_secs(&self) -> f64 {
        if self.response_count == 0 {
            0.0
        } else {
            self.response_time_total_ms as f64 / self.response_count as f64 / 1000.0
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_and_times() {
        assert_eq!(
            ActivityKind::parse("message_sent").unwrap(),
            ActivityKind::MessageSent
        );
        assert_eq!(
            ActivityKind::parse("clicked").unwrap_err().code,
            "invalid_activity_type"
        );
        assert_eq!(response_time_ms(1.5).unwrap(), 1500);
        assert!(response_time_ms(-1.0).is_err());
        assert!(response_time_ms(f64::NAN).is_err());
        let c = ActivityCounters {
            response_time_total_ms: 3000,
            response_count: 2,
            ..Default::default()
        };
        assert!((c.average_response_secs() - 1.5).abs() < 1e-9);
        assert_eq!(ActivityCounters::default().average_response_secs(), 0.0);
    }
}
