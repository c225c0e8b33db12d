//! The persistence port. Two implementations (SQLite, PostgreSQL) pass one contract suite.
//!
//! The store holds no business rule beyond what must be atomic in the database: gap-free
//! sequence numbers, idempotent appends, one resumable session per owner, and monotonic read
//! cursors.

use crate::domain::{
    ActivityKind, BusinessId, ClientMsgId, Contact, ContactText, Email, LocationId, Message,
    MessageId, Party, Phone, Priority, SenderType, Session, SessionId, SessionStatus, SessionType,
    Title, Topic, UserId, VisitorId,
};
use crate::identity::Role;
use async_trait::async_trait;
use chrono::{DateTime, Utc};

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
}

/// Keyset position in a session list ordered by `(last_activity_at, id)` descending.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionCursor {
    pub last_activity_at: DateTime<Utc>,
    pub id: SessionId,
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
            && self.agent_id.is_none()
            && self.department_id.is_none()
    }

    /// The webhook events this change causes, queued in its transaction: closing a session
    /// that was not closed, and giving it an agent.
    pub fn webhook_events(&self) -> impl Iterator<Item = crate::domain::WebhookEvent> {
        use crate::domain::WebhookEvent;
        let closes = self
            .status
            .is_some_and(|c| c.to == SessionStatus::Closed && c.from != SessionStatus::Closed);
        let assigns = matches!(self.agent_id, Some(Some(_)));
        [
            closes.then_some(WebhookEvent::SessionClosed),
            assigns.then_some(WebhookEvent::SessionAssigned),
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

/// What one append batch does to one session it writes to, the same for every store: each
/// accepted message takes the session's next seq; the counters, the latest time and the
/// first staff claim are written to the session once, after the batch's messages.
#[derive(Debug)]
pub struct SessionTally {
    closed: bool,
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
    pub fn new(closed: bool, last_seq: i64) -> Self {
        Self {
            closed,
            next_seq: last_seq + 1,
            added: 0,
            latest: None,
            claim: None,
        }
    }

    /// Take `m` into the session: the message as it is to be stored, or `None` when the
    /// session is closed to it (`AppendOutcome::SessionClosed`).
    pub fn accept(&mut self, m: &NewMessage) -> Option<Message> {
        // The system may note what happened (e.g. "closed") in a session just closed.
        if self.closed && m.sender_type != SenderType::System {
            return None;
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
        };
        self.next_seq += 1;
        self.added += 1;
        self.latest = self.latest.max(Some(m.at));
        if self.claim.is_none() {
            self.claim = m.claim_for_agent.clone();
        }
        Some(message)
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
    /// The message, for `message.created`.
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

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Is the database reachable?
    async fn ping(&self) -> StoreResult<()>;

    /// Create a session, or with `resume` return the owner's most recently active open
    /// session in that tenant if there is one. Atomic: concurrent calls for one owner
    /// resume one session, never create two. Returns the session and whether it is new.
    async fn open_session(&self, new: NewSession, resume: bool) -> StoreResult<(Session, bool)>;

    /// [`Store::open_session`], and for a session it created its place in its queue (1 =
    /// next) as of the same transaction, where the store can tell it there; `None`: ask
    /// [`Store::queue_position`]. Every new session is told its place: a read of its own
    /// after the write was a tenth of opening one on SQLite.
    async fn open_session_with_place(
        &self,
        new: NewSession,
        resume: bool,
    ) -> StoreResult<(Session, bool, Option<i64>)> {
        let (session, created) = self.open_session(new, resume).await?;
        Ok((session, created, None))
    }

    /// A session that is not deleted.
    async fn get_session(&self, id: SessionId) -> StoreResult<Option<Session>>;

    /// A session that is not deleted, with its contact if it has one: what a client that
    /// fetches one session is shown. A store may read both at once.
    async fn get_session_with_contact(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(Session, Option<Contact>)>> {
        let Some(session) = self.get_session(id).await? else {
            return Ok(None);
        };
        let contact = self.contacts(&[id]).await?.pop().map(|(_, c)| c);
        Ok(Some((session, contact)))
    }

    /// A session by its integer number (for doors with integer ids).
    async fn get_session_by_number(&self, number: i64) -> StoreResult<Option<Session>>;

    /// Sessions newest activity first, after `cursor`, at most `limit`.
    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        cursor: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;

    /// How many sessions match (for offset-paged doors that report a total).
    async fn count_sessions(&self, filter: &SessionFilter) -> StoreResult<i64>;

    /// Sessions newest activity first, skipping `offset`.
    async fn list_sessions_offset(
        &self,
        filter: &SessionFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;

    /// Close open sessions matching `filter` whose last activity is before `idle_before`.
    /// Returns the sessions as closed.
    async fn close_idle_sessions(
        &self,
        filter: &SessionFilter,
        idle_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>>;

    /// Add one reported activity to an open session's counters. `None` if the session is
    /// missing, deleted or closed.
    async fn record_activity(
        &self,
        id: SessionId,
        kind: ActivityKind,
        response_time_ms: Option<i64>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>>;

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

    /// A live session and a page of its messages, for a caller who must be shown to see the
    /// session first. A store that can reads both in one snapshot; by default, one after
    /// the other.
    async fn get_session_with_messages(
        &self,
        id: SessionId,
        range: MessageRange,
    ) -> StoreResult<Option<(Session, Vec<Message>)>> {
        let Some(session) = self.get_session(id).await? else {
            return Ok(None);
        };
        Ok(Some((session, self.list_messages(id, range).await?)))
    }

    /// Move `reader`'s read cursor forward to `up_to_seq` (never backward); returns the cursor.
    async fn mark_read(
        &self,
        session: SessionId,
        reader: &Party,
        up_to_seq: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;

    /// Unread counts of `reader` over the sessions it owns, is assigned to, or has read in
    /// (only `tenant`'s, when given): messages after its read cursor written by someone
    /// else. Sessions with zero are included.
    async fn unread_counts(
        &self,
        reader: &Party,
        tenant: Option<&BusinessId>,
    ) -> StoreResult<Vec<UnreadCount>>;

    /// Every reader's cursor in a session.
    async fn read_cursors(&self, session: SessionId) -> StoreResult<Vec<(Party, i64)>>;

    /// Set (or replace) a session's contact. The id of a first contact is kept on replace.
    async fn upsert_contact(
        &self,
        session: SessionId,
        contact: NewContact,
        at: DateTime<Utc>,
    ) -> StoreResult<Contact>;

    /// The contacts of these sessions (sessions without one are left out).
    async fn contacts(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Contact)>>;

    /// Link a visitor to an account, in one transaction: record the link and move the
    /// visitor's sessions, messages and read cursors to the account. Idempotent.
    async fn link_visitor(
        &self,
        visitor: VisitorId,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome>;

    /// The account a visitor was linked to, if any.
    async fn visitor_link(&self, visitor: VisitorId) -> StoreResult<Option<UserId>>;

    async fn find_account(&self, id: i64) -> StoreResult<Option<Account>>;

    /// Messages containing every word of `query`, newest first, in sessions matching `filter`.
    async fn search_messages(
        &self,
        filter: &SessionFilter,
        query: &crate::domain::SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;

    /// Sessions whose topic or title contains every word of `query`, most recently active first.
    async fn search_sessions(
        &self,
        filter: &SessionFilter,
        query: &crate::domain::SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;

    async fn create_webhook(
        &self,
        business_id: &BusinessId,
        url: &crate::domain::WebhookUrl,
        secret: &str,
        events: &[crate::domain::WebhookEvent],
        at: DateTime<Utc>,
    ) -> StoreResult<Webhook>;
    async fn list_webhooks(&self, business_id: &BusinessId) -> StoreResult<Vec<Webhook>>;
    /// Change a live subscription of the tenant in place; `None` leaves a field alone.
    /// Deliveries already queued keep the body they were queued with and go to the new URL.
    /// `None` if the tenant has no such webhook.
    async fn update_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        change: &WebhookChange,
    ) -> StoreResult<Option<Webhook>>;
    /// Stop a subscription (its queued deliveries are dropped). False if there was none.
    async fn delete_webhook(
        &self,
        business_id: &BusinessId,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// A webhook's most recent deliveries, newest first.
    async fn list_deliveries(
        &self,
        webhook_id: i64,
        limit: u32,
    ) -> StoreResult<Vec<DeliveryRecord>>;

    /// Queue deliveries, all or none.
    async fn enqueue_deliveries(&self, deliveries: &[NewDelivery]) -> StoreResult<()>;
    /// The oldest `limit` outbox entries, oldest first.
    async fn outbox(&self, limit: u32) -> StoreResult<Vec<OutboxEntry>>;
    /// Queue the deliveries made from outbox entries and drop the entries, all or none. A
    /// delivery whose id is already queued is left as it is, so two dispatchers that read
    /// the same entries queue each delivery once.
    async fn dispatch_outbox(&self, done: &[i64], deliveries: &[NewDelivery]) -> StoreResult<()>;
    /// Hand back attempts claimed but not finished (the server is stopping): due at `at`,
    /// and not counted as attempts.
    async fn release_deliveries(&self, ids: &[uuid::Uuid], at: DateTime<Utc>) -> StoreResult<()>;

    /// Claim up to `limit` deliveries due at `now` for one attempt each: their attempt count
    /// goes up and they are leased until `lease_until`, so a crashed attempt is retried and
    /// two workers never send the same attempt.
    async fn claim_deliveries(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<DueDelivery>>;

    /// Record an attempt: delivered, or failed with the next try (`None`: give up).
    async fn finish_delivery(
        &self,
        id: uuid::Uuid,
        outcome: Result<(), String>,
        next_attempt_at: Option<DateTime<Utc>>,
        at: DateTime<Utc>,
    ) -> StoreResult<()>;

    /// Every message of these sessions as (session, seq, sender type, time), in seq order.
    async fn message_beats(
        &self,
        sessions: &[SessionId],
    ) -> StoreResult<Vec<(SessionId, crate::analytics::Beat)>>;

    async fn create_department(
        &self,
        business_id: &BusinessId,
        name: &crate::domain::DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Department>;
    async fn list_departments(
        &self,
        business_id: &BusinessId,
    ) -> StoreResult<Vec<crate::domain::Department>>;
    async fn get_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
    ) -> StoreResult<Option<crate::domain::Department>>;
    async fn rename_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        name: &crate::domain::DepartmentName,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<crate::domain::Department>>;
    async fn delete_department(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;
    /// Add (or with `member: false`, remove) an agent. `None` if there is no such department.
    async fn set_department_member(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        agent: &UserId,
        member: bool,
    ) -> StoreResult<Option<crate::domain::Department>>;

    /// Create the agent's record if needed (with its tenant's `initial_presence`) and apply
    /// the changes given: a new cap, a new presence, and a change in open connections (never
    /// below zero).
    async fn update_agent(
        &self,
        business_id: &BusinessId,
        agent: &UserId,
        max_concurrent: Option<i64>,
        presence: Option<crate::domain::Presence>,
        connections_delta: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<crate::domain::Agent>;
    /// The tenant's agents with their current load.
    async fn list_agents(&self, business_id: &BusinessId)
        -> StoreResult<Vec<crate::domain::Agent>>;

    async fn tenant_settings(&self, business_id: &BusinessId) -> StoreResult<TenantSettings>;
    /// Tenants with their own idle timeout, and that timeout in seconds.
    async fn tenant_idle_timeouts(&self) -> StoreResult<Vec<(BusinessId, i64)>>;
    async fn set_tenant_settings(
        &self,
        business_id: &BusinessId,
        settings: TenantSettings,
        at: DateTime<Utc>,
    ) -> StoreResult<TenantSettings>;

    /// One routing step, atomically: the oldest waiting session of the tenant that has an
    /// eligible agent goes to the least-loaded one (online by choice, connected, under its
    /// cap; a member of the session's department if it has one). The session becomes
    /// `active`. `None` when nothing can be assigned.
    async fn assign_next(
        &self,
        business_id: &BusinessId,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>>;

    /// A waiting session's place in its department's queue (1 = next).
    async fn queue_position(&self, session: &Session) -> StoreResult<i64>;

    /// Waiting sessions of a tenant, oldest first, with their place in their department's
    /// queue (1 = next).
    async fn queue(&self, business_id: &BusinessId, limit: u32)
        -> StoreResult<Vec<(Session, i64)>>;

    /// Unread counts of `reader` in exactly these sessions (whether or not it took part).
    async fn unread_in(
        &self,
        reader: &Party,
        sessions: &[SessionId],
    ) -> StoreResult<Vec<UnreadCount>>;

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
    /// Keys not revoked, oldest first; only `business`'s when given.
    async fn list_api_keys(&self, business: Option<&BusinessId>) -> StoreResult<Vec<ApiKey>>;
    /// Revoke a key (only if it is `business`'s, when given). False if there was none.
    async fn revoke_api_key(
        &self,
        business: Option<&BusinessId>,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// A named server secret, created from `generate` the first time it is asked for.
    /// All processes sharing the database agree on its value.
    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Sync),
    ) -> StoreResult<String>;
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
