//! A customer's rating of a closed conversation: 1 to 5, and a comment if they like.

use super::{Invalid, SessionId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most characters a rating's comment holds.
pub const MAX_COMMENT_CHARS: usize = 1_000;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rating {
    pub session_id: SessionId,
    pub score: Score,
    pub comment: Option<String>,
    pub rated_at: DateTime<Utc>,
}

/// 1 (worst) to 5 (best).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "i64", into = "i64")]
pub struct Score(u8);

impl Score {
    pub fn parse(raw: i64) -> Result<Self, Invalid> {
        u8::try_from(raw)
            .ok()
            .filter(|n| (1..=5).contains(n))
            .map(Self)
            .ok_or_else(|| Invalid::new("score", "invalid_score", "score must be 1 to 5"))
    }

    pub fn get(self) -> i64 {
        i64::from(self.0)
    }
}

impl TryFrom<i64> for Score {
    type Error = Invalid;
    fn try_from(raw: i64) -> Result<Self, Invalid> {
        Self::parse(raw)
    }
}

impl From<Score> for i64 {
    fn from(s: Score) -> i64 {
        s.get()
    }
}

/// A comment: blank is none; at most [`MAX_COMMENT_CHARS`], no U+0000.
pub fn comment(raw: Option<&str>) -> Result<Option<String>, Invalid> {
    let Some(text) = raw.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if text.chars().count() > MAX_COMMENT_CHARS || text.contains('\0') {
        return Err(Invalid::new(
            "comment",
            "invalid_comment",
            format!("comment must be at most {MAX_COMMENT_CHARS} characters, without U+0000"),
        ));
    }
    Ok(Some(text.to_owned()))
}
