//! The persistence port. Two implementations (SQLite, PostgreSQL) pass one contract suite.
//!
//! The store holds no business rule beyond what must be atomic in the database: gap-free
//! sequence numbers, idempotent appends, one resumable session per owner, and monotonic read
//! cursors.

use crate::domain::{
    ActivityKind, AttachmentRef, BusinessId, ClientMsgId, Contact, ContactText, Email, LocationId,
    Message, MessageId, Party, Phone, Priority, SenderType, Session, SessionId, SessionStatus,
    SessionType, Title, Topic, UserId, VisitorId,
};
use crate::identity::Role;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

mod accounts;
mod attachments;
mod canned;
mod contacts;
mod hours;
mod labels;
#[cfg(any(test, feature = "memory"))]
pub mod memory;
mod messages;
mod notes;
mod ratings;
pub mod remembered;
mod routing;
mod sessions;
mod webhooks;

pub use accounts::AccountStore;
pub use attachments::AttachmentStore;
pub use canned::CannedStore;
pub use contacts::ContactStore;
pub use hours::{stored_hours, HoursStore};
pub use labels::LabelStore;
pub use messages::MessageStore;
pub use notes::NoteStore;
pub use ratings::{RateOutcome, RatingStore};
pub use routing::RoutingStore;
pub use sessions::SessionStore;
pub use webhooks::WebhookStore;

#[derive(Debug, Clone, thiserror::Error)]
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
    /// The department whose queue the session waits in.
    pub department_id: Option<uuid::Uuid>,
    /// An assistant (a service answering as `assistant`) that holds the session: it starts
    /// `active` with the assistant as its agent, outside the agents' queue, and the store
    /// remembers the assistant for a hand-back after a hand-off to people.
    pub assistant: Option<UserId>,
    pub at: DateTime<Utc>,
}

impl NewSession {
    /// A general session of `owner` in `business_id`: normal priority, no topic, title,
    /// location or department, empty metadata.
    pub fn general(business_id: BusinessId, owner: Party, at: DateTime<Utc>) -> Self {
        Self {
            id: SessionId::generate(),
            business_id,
            location_id: None,
            owner,
            session_type: SessionType::general(),
            topic: None,
            title: None,
            priority: Priority::Normal,
            metadata: serde_json::json!({}),
            department_id: None,
            assistant: None,
            at,
        }
    }
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
    /// Leave out these tenants.
    pub exclude_business: Vec<BusinessId>,
    /// Only sessions started at or after this time.
    pub started_from: Option<DateTime<Utc>>,
    /// Only sessions started before this time.
    pub started_before: Option<DateTime<Utc>>,
    pub agent_id: Option<UserId>,
    pub department_id: Option<String>,
    /// Only sessions carrying this label.
    pub label_id: Option<uuid::Uuid>,
}

/// Keyset position in a session list ordered by `(last_activity_at, id)` descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCursor {
    pub last_activity_at: DateTime<Utc>,
    pub id: SessionId,
}

/// A change in an agent's open real-time connections on one node (server process).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Connections<'a> {
    pub node: &'a str,
    pub delta: i64,
}

impl Connections<'_> {
    /// No change.
    pub const NONE: Connections<'static> = Connections { node: "", delta: 0 };
}

/// How a tenant works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TenantSettings {
    /// New sessions are assigned to agents automatically (else agents take them).
    pub auto_routing: bool,
    /// Closed sessions may be reopened.
    pub allow_reopen: bool,
    /// Sessions idle longer than this are closed by the job (`None`: the server's default).
    pub idle_timeout_secs: Option<i64>,
    /// The presence an agent has the first time it connects, before it chooses one.
    pub initial_presence: crate::domain::Presence,
}

impl Default for TenantSettings {
    fn default() -> Self {
        Self {
            auto_routing: false,
            allow_reopen: true,
            idle_timeout_secs: None,
            initial_presence: crate::domain::Presence::Online,
        }
    }
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
    /// Closing sets `ended_at`; leaving `closed` (reopening) clears it.
    pub status: Option<StatusChange>,
    /// Assign (`Some(Some)`) or unassign (`Some(None)`) an agent.
    pub agent_id: Option<Option<UserId>>,
    /// Move to a department's queue, or out of any (`Some(None)`).
    pub department_id: Option<Option<uuid::Uuid>>,
    /// An assistant hands the session to people (`session.handed_off`).
    pub handed_off: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct StatusChange {
    pub from: SessionStatus,
    pub to: SessionStatus,
}

impl StatusChange {
    /// A session closing: it gets its `ended_at`.
    pub fn closes(&self) -> bool {
        self.to == SessionStatus::Closed && self.from != SessionStatus::Closed
    }

    /// A closed session reopened: it loses its `ended_at`.
    pub fn reopens(&self) -> bool {
        self.from == SessionStatus::Closed && self.to != SessionStatus::Closed
    }
}

impl SessionPatch {
    pub fn is_empty(&self) -> bool {
        self.topic.is_none()
            && self.title.is_none()
            && self.location_id.is_none()
            && self.priority.is_none()
            && self.metadata.is_none()
            && self.status.is_none()
            && self.agent_id.is_none()
            && self.department_id.is_none()
    }

    /// The webhook events this change causes, queued in its transaction: closing a session
    /// that was not closed, and giving it an agent.
    pub fn webhook_events(&self) -> impl Iterator<Item = crate::domain::WebhookEvent> {
        use crate::domain::WebhookEvent;
        let closes = self.status.is_some_and(|c| c.closes());
        let assigns = matches!(self.agent_id, Some(Some(_)));
        [
            closes.then_some(WebhookEvent::SessionClosed),
            assigns.then_some(WebhookEvent::SessionAssigned),
            self.handed_off.then_some(WebhookEvent::SessionHandedOff),
        ]
        .into_iter()
        .flatten()
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
    /// Files sent with it, uploaded into the same session by the same sender.
    pub attachments: Vec<AttachmentRef>,
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

/// Why a session does not take a message ([`SessionTally::accept`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    SessionMissing,
    SessionClosed,
}

impl From<Refused> for AppendOutcome {
    fn from(r: Refused) -> Self {
        match r {
            Refused::SessionMissing => AppendOutcome::SessionMissing,
            Refused::SessionClosed => AppendOutcome::SessionClosed,
        }
    }
}

/// What one append batch does to one session it writes to, the same for every store: each
/// accepted message takes the session's next seq; the counters, the latest time and the
/// first staff claim are written to the session once, after the batch's messages.
#[derive(Debug)]
pub struct SessionTally {
    closed: bool,
    owner: Party,
    next_seq: i64,
    /// Messages accepted in this batch.
    pub added: i64,
    /// The latest accepted message's time.
    pub latest: Option<DateTime<Utc>>,
    /// The first staff reply in the batch that may claim the session if it is waiting.
    pub claim: Option<UserId>,
}

impl SessionTally {
    /// The session as stored before the batch.
    pub fn new(closed: bool, last_seq: i64, owner: Party) -> Self {
        Self {
            closed,
            owner,
            next_seq: last_seq + 1,
            added: 0,
            latest: None,
            claim: None,
        }
    }

    /// Take `m` into the session: the message as it is to be stored, or why it is refused.
    pub fn accept(&mut self, m: &NewMessage) -> Result<Message, Refused> {
        // A visitor writes only to its own sessions. Once linked to an account they are the
        // account's; a send authorized against the visitor a moment before (on another node,
        // from a remembered owner) finds the session gone.
        if matches!(m.sender, Party::Visitor(_)) && m.sender != self.owner {
            return Err(Refused::SessionMissing);
        }
        // The system may note what happened (e.g. "closed") in a session just closed.
        if self.closed && m.sender_type != SenderType::System {
            return Err(Refused::SessionClosed);
        }
        let message = Message {
            id: m.id,
            session_id: m.session_id,
            seq: self.next_seq,
            sender: m.sender.clone(),
            sender_type: m.sender_type,
            content: m.content.clone(),
            client_msg_id: m.client_msg_id.clone(),
            created_at: m.at,
            edited_at: None,
            deleted_at: None,
            attachments: m.attachments.clone(),
        };
        self.next_seq += 1;
        self.added += 1;
        self.latest = self.latest.max(Some(m.at));
        if self.claim.is_none() {
            self.claim = m.claim_for_agent.clone();
        }
        Ok(message)
    }

    /// The session's last seq after the batch.
    pub fn last_seq(&self) -> i64 {
        self.next_seq - 1
    }
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

#[derive(Debug, Clone)]
pub struct NewContact {
    pub id: uuid::Uuid,
    pub name: ContactText,
    pub email: Email,
    pub phone: Option<Phone>,
    pub position: Option<ContactText>,
    pub company_name: Option<ContactText>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Webhook {
    pub id: i64,
    pub business_id: BusinessId,
    pub url: crate::domain::WebhookUrl,
    pub secret: String,
    pub events: Vec<crate::domain::WebhookEvent>,
    pub created_at: DateTime<Utc>,
}

/// What `PATCH /v1/webhooks/{id}` changes.
#[derive(Debug, Clone, Default)]
pub struct WebhookChange {
    pub url: Option<crate::domain::WebhookUrl>,
    pub events: Option<Vec<crate::domain::WebhookEvent>>,
    pub secret: Option<String>,
}

#[derive(Debug, Clone)]
pub struct NewDelivery {
    pub id: uuid::Uuid,
    pub webhook_id: i64,
    pub event: crate::domain::WebhookEvent,
    /// The exact body every attempt sends.
    pub body: String,
    pub at: DateTime<Utc>,
}

/// A change webhooks may be told about: written in the transaction that made it, when its
/// tenant has a webhook for the event, so that no commit loses its deliveries (the outbox).
/// Sessions opened, messages appended, sessions closed (by a patch or the idle job) and
/// sessions given an agent (by a patch or routing) each write one.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxEntry {
    pub id: i64,
    pub business_id: BusinessId,
    pub event: crate::domain::WebhookEvent,
    pub session_id: SessionId,
    /// The message's `seq`, for `message.created`; the note's number, for `note.created`.
    pub seq: Option<i64>,
    pub at: DateTime<Utc>,
}

/// A delivery as its webhook's log shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct DeliveryRecord {
    pub id: uuid::Uuid,
    pub event: String,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: DateTime<Utc>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    pub last_error: Option<String>,
}

/// A delivery claimed for an attempt, with where it goes.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    pub id: uuid::Uuid,
    pub event: String,
    pub body: String,
    /// Attempts made, this one included.
    pub attempts: i32,
    pub url: String,
    pub secret: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LinkOutcome {
    /// The visitor is (now) linked to this account; `sessions_moved` were moved by this call.
    Linked { sessions_moved: u64 },
    /// The visitor was linked to another account before; nothing was changed.
    LinkedToOther(UserId),
}

/// The whole port: every aggregate's store. A backend implements each part (in modules of
/// the same names) and is a `Store` by that alone.
pub trait Store:
    SessionStore
    + MessageStore
    + NoteStore
    + RatingStore
    + CannedStore
    + LabelStore
    + HoursStore
    + ContactStore
    + WebhookStore
    + RoutingStore
    + AccountStore
    + AttachmentStore
{
}

impl<
        T: SessionStore
            + MessageStore
            + NoteStore
            + RatingStore
            + CannedStore
            + LabelStore
            + HoursStore
            + ContactStore
            + WebhookStore
            + RoutingStore
            + AccountStore
            + AttachmentStore,
    > Store for T
{
}

/// How one reported activity moves a session's counters: (messages sent, conversations,
/// measured responses). A `response_received` without a time counts nothing.
pub fn activity_increments(kind: ActivityKind, response_time_ms: Option<i64>) -> (i64, i64, i64) {
    match kind {
        ActivityKind::MessageSent => (1, 0, 0),
        ActivityKind::ConversationStarted => (0, 1, 0),
        ActivityKind::ResponseReceived => (0, 0, i64::from(response_time_ms.is_some())),
    }
}
