//! The persistence port. Two implementations (SQLite, PostgreSQL) pass one contract suite.
//!
//! The store holds no business rule beyond what must be atomic in the database: gap-free
//! sequence numbers, idempotent appends, one resumable session per owner, and monotonic read
//! cursors.

use crate::domain::{
    BusinessId, ClientMsgId, Email, LocationId, Message, MessageId, Party, Priority, SenderType,
    Session, SessionId, SessionStatus, SessionType, Title, Topic, UserId,
};
use crate::identity::Role;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A uniqueness rule was broken (e.g. an account email already taken).
    #[error("conflict: {0}")]
    Conflict(String),
    /// The database cannot be reached.
    #[error("database unavailable: {0}")]
    Unavailable(String),
    /// Any other database failure.
    #[error("database error: {0}")]
    Backend(String),
    /// A stored row that does not parse back into the domain.
    #[error("corrupt row: {0}")]
    Corrupt(String),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[derive(Debug, Clone)]
pub struct NewSession {
    pub id: SessionId,
    pub business_id: BusinessId,
    pub location_id: Option<LocationId>,
    pub owner: Party,
    pub session_type: SessionType,
    pub topic: Option<Topic>,
    pub title: Option<Title>,
    pub priority: Priority,
    pub metadata: serde_json::Value,
    pub at: DateTime<Utc>,
}

/// Which sessions to list. `None` means "any".
#[derive(Debug, Clone, Default)]
pub struct SessionFilter {
    pub owner: Option<Party>,
    pub business_id: Option<BusinessId>,
    pub location_id: Option<LocationId>,
    pub status: Option<SessionStatus>,
    /// Only sessions that are not closed (when `status` is not given).
    pub open_only: bool,
}

/// Keyset position in a session list ordered by `(last_activity_at, id)` descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCursor {
    pub last_activity_at: DateTime<Utc>,
    pub id: SessionId,
}

/// A change to a session. `None` leaves a field alone; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct SessionPatch {
    pub topic: Option<Option<Topic>>,
    pub title: Option<Option<Title>>,
    pub location_id: Option<Option<LocationId>>,
    pub priority: Option<Priority>,
    pub metadata: Option<serde_json::Value>,
    /// A status change, applied only if the session still has `from` (optimistic check).
    /// Closing sets `ended_at`.
    pub status: Option<StatusChange>,
}

#[derive(Debug, Clone, Copy)]
pub struct StatusChange {
    pub from: SessionStatus,
    pub to: SessionStatus,
}

impl SessionPatch {
    pub fn is_empty(&self) -> bool {
        self.topic.is_none()
            && self.title.is_none()
            && self.location_id.is_none()
            && self.priority.is_none()
            && self.metadata.is_none()
            && self.status.is_none()
    }
}

#[derive(Debug)]
pub enum PatchOutcome {
    Updated(Session),
    NotFound,
    /// The status was no longer `from`; nothing was written.
    StatusChanged(Session),
}

#[derive(Debug, Clone)]
pub struct NewMessage {
    pub id: MessageId,
    pub session_id: SessionId,
    pub sender: Party,
    pub sender_type: SenderType,
    pub content: String,
    pub client_msg_id: Option<ClientMsgId>,
    /// When set and the session is `waiting`, it becomes `active` with this agent (if it had
    /// none). Decided by the service; applied atomically with the append.
    pub claim_for_agent: Option<UserId>,
    pub at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum AppendOutcome {
    Created(Message),
    /// A message with the same `client_msg_id` already exists in the session: it is returned.
    Duplicate(Message),
    /// The session does not exist or was deleted.
    SessionMissing,
    /// The session is closed; nothing was written.
    SessionClosed,
}

/// Which slice of a session's messages to read, always returned in ascending `seq`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageRange {
    /// Messages with `seq > after`, oldest first.
    After { after: i64, limit: u32 },
    /// The newest `limit` messages with `seq < before` (and `> after`), returned oldest first.
    Before { before: i64, after: i64, limit: u32 },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnreadCount {
    pub session_id: SessionId,
    pub number: i64,
    pub unread: i64,
    pub last_read_seq: i64,
}

#[derive(Debug, Clone)]
pub struct NewAccount {
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    pub business_id: Option<BusinessId>,
    pub name: Option<String>,
}

#[derive(Debug, Clone)]
pub struct Account {
    pub id: i64,
    pub email: Email,
    pub password_hash: String,
    pub role: Role,
    pub business_id: Option<BusinessId>,
    pub name: Option<String>,
    pub created_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    pub business_id: BusinessId,
    pub created_at: DateTime<Utc>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Is the database reachable?
    async fn ping(&self) -> StoreResult<()>;

    /// Create a session, or with `resume` return the owner's most recently active open
    /// session in that tenant if there is one. Atomic: concurrent calls for one owner
    /// resume one session, never create two. Returns the session and whether it is new.
    async fn open_session(&self, new: NewSession, resume: bool) -> StoreResult<(Session, bool)>;

    /// A session that is not deleted.
    async fn get_session(&self, id: SessionId) -> StoreResult<Option<Session>>;

    /// A session by its integer number (for doors with integer ids).
    async fn get_session_by_number(&self, number: i64) -> StoreResult<Option<Session>>;

    /// Sessions newest activity first, after `cursor`, at most `limit`.
    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        cursor: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;

    async fn update_session(
        &self,
        id: SessionId,
        patch: &SessionPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<PatchOutcome>;

    /// Soft-delete. Returns false when there was no such (undeleted) session.
    async fn delete_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<bool>;

    /// Append a batch in one transaction: one outcome per message, in order. Each created
    /// message gets the session's next `seq`. Fails as a whole only on a database error.
    async fn append_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<AppendOutcome>>;

    async fn list_messages(
        &self,
        session: SessionId,
        range: MessageRange,
    ) -> StoreResult<Vec<Message>>;

    /// Move `reader`'s read cursor forward to `up_to_seq` (never backward); returns the cursor.
    async fn mark_read(
        &self,
        session: SessionId,
        reader: &Party,
        up_to_seq: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;

    /// Unread counts of `reader` over the sessions it owns, is assigned to, or has read in:
    /// messages after its read cursor written by someone else. Sessions with zero are included.
    async fn unread_counts(&self, reader: &Party) -> StoreResult<Vec<UnreadCount>>;

    async fn create_account(&self, new: NewAccount) -> StoreResult<Account>;
    async fn find_account_by_email(&self, email: &Email) -> StoreResult<Option<Account>>;

    /// Store an API key by the SHA-256 hex of its secret.
    async fn create_api_key(
        &self,
        name: &str,
        business_id: &BusinessId,
        key_hash: &str,
    ) -> StoreResult<ApiKey>;
    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;

    /// A named server secret, created from `generate` the first time it is asked for.
    /// All processes sharing the database agree on its value.
    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Sync),
    ) -> StoreResult<String>;
}
