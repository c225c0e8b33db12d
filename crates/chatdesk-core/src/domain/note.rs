//! Private notes: what staff write in a conversation for each other, never shown to its
//! customer or visitor.

use super::{SessionId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub session_id: SessionId,
    /// 1, 2, … within the session, apart from its messages' `seq`, which stays gap-free for
    /// those who never see notes.
    pub number: i64,
    pub author: UserId,
    pub content: String,
    pub created_at: DateTime<Utc>,
}
