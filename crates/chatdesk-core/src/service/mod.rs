//! The session and message use cases. Every door (native API, seed doors, Socket.IO, SSE)
//! calls these; they parse raw input into domain values, enforce the authorization rules and
//! the status machine, and talk to the store and the committer.

use crate::authz;
use crate::bus::{Bus, Event};
use crate::clock;
use crate::committer::{Audience, Committer};
use crate::domain::{
    BusinessId, ClientMsgId, Contact, Content, Invalid, LocationId, Message, MessageId, Party,
    Priority, SenderType, Session, SessionId, SessionStatus, SessionType, Title, Topic, UserId,
};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::{Principal, Role};
use crate::page;
use crate::store::{
    AppendOutcome, MessageRange, NewMessage, NewSession, PatchOutcome, SessionFilter, SessionPatch,
    StatusChange, Store, UnreadCount,
};
use std::sync::Arc;

mod activity;
mod agents;
mod api_keys;
mod contacts;
mod conversation;
mod routing;
mod search;
mod stats;
mod webhooks;

pub use contacts::SetContact;
pub use conversation::{Conversation, PostMessage};
pub use search::SearchResults;
pub use stats::{StatsQuery, StatsReport, MAX_REPORT_SESSIONS};

/// The sender id of the messages the system writes into conversations.
pub const SYSTEM_SENDER: &str = "system";

/// Limits on what clients may send and ask for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_content_chars: usize,
    pub default_page: u32,
    pub max_page: u32,
    pub max_webhooks_per_tenant: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_content_chars: Content::DEFAULT_MAX_CHARS,
            default_page: 50,
            max_page: 200,
            max_webhooks_per_tenant: 20,
        }
    }
}

/// A page of messages, oldest first, and whether more lie beyond it.
#[derive(Debug, Clone)]
pub struct MessagePage {
    pub messages: Vec<Message>,
    pub has_more: bool,
}

/// Open (resume or create) a session. Raw fields as a client sent them.
#[derive(Debug, Clone, Default)]
pub struct OpenSession {
    pub business_id: Option<String>,
    pub location_id: Option<String>,
    pub session_type: Option<String>,
    pub topic: Option<String>,
    pub title: Option<String>,
    pub priority: Option<String>,
    pub metadata: Option<serde_json::Value>,
    /// Always create, never resume.
    pub force_new: bool,
    /// Open it for this user instead of the caller (services and admins only).
    pub for_user: Option<String>,
    /// The department whose queue it waits in (must exist in the tenant).
    pub department_id: Option<String>,
}

#[derive(Debug, Clone, Default)]
pub struct ListSessions {
    pub status: Option<String>,
    pub business_id: Option<String>,
    pub location_id: Option<String>,
    pub user_id: Option<String>,
    pub open_only: bool,
    pub cursor: Option<String>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct SessionPage {
    pub sessions: Vec<Session>,
    pub next_cursor: Option<String>,
}

/// Change a session. `None` leaves a field alone; `Some(None)` clears it.
#[derive(Debug, Clone, Default)]
pub struct UpdateSession {
    pub topic: Option<Option<String>>,
    pub title: Option<Option<String>>,
    pub location_id: Option<Option<String>>,
    pub priority: Option<String>,
    pub status: Option<String>,
    pub metadata: Option<serde_json::Value>,
}

#[derive(Debug, Clone, Default)]
pub struct SendMessage {
    pub content: String,
    pub client_msg_id: Option<String>,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct MessageQuery {
    pub after_seq: Option<i64>,
    pub before_seq: Option<i64>,
    pub limit: Option<u32>,
}

#[derive(Debug, Clone)]
pub struct ReadReceipt {
    pub session_id: SessionId,
    pub last_read_seq: i64,
    pub unread: i64,
}

#[derive(Debug, Clone)]
pub struct UnreadSummary {
    pub sessions: Vec<UnreadCount>,
    pub total: i64,
}

pub struct SessionService {
    store: Arc<dyn Store>,
    bus: Arc<dyn Bus>,
    committer: Committer,
    limits: Limits,
    /// Sessions recently written to, for the send path's authorization check. Only what does
    /// not change is trusted from here (tenant, number, owner — the owner changes only when a
    /// visitor is linked, which clears this); the write itself refuses closed and deleted
    /// sessions. Saves a database read on every send.
    send_targets: std::sync::Mutex<SendTargets>,
    /// Each tenant's webhook subscriptions, and when they were read (see `subscribers`).
    webhooks_seen: std::sync::Mutex<
        std::collections::HashMap<BusinessId, (std::time::Instant, Vec<crate::store::Webhook>)>,
    >,
}

/// Most sessions `send_targets` remembers before it starts over.
const SEND_TARGETS_MAX: usize = 100_000;
/// Most bytes `send_targets` holds before it starts over: a session's metadata is the
/// client's to fill (up to a request body), so counting sessions alone does not bound it.
const SEND_TARGETS_MAX_BYTES: usize = 32 << 20;

/// Remembered send targets and roughly how many bytes they hold.
#[derive(Default)]
struct SendTargets {
    sessions: std::collections::HashMap<SessionId, Session>,
    bytes: usize,
}

impl SendTargets {
    fn remember(&mut self, s: Session) {
        let size = std::mem::size_of::<Session>()
            + s.metadata.to_string().len()
            + s.topic.as_ref().map_or(0, |t| t.as_str().len())
            + s.title.as_ref().map_or(0, |t| t.as_str().len());
        if self.sessions.len() >= SEND_TARGETS_MAX || self.bytes + size > SEND_TARGETS_MAX_BYTES {
            self.clear();
        }
        self.bytes += size;
        self.sessions.insert(s.id, s);
    }

    fn clear(&mut self) {
        self.sessions.clear();
        self.bytes = 0;
    }
}

impl SessionService {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        committer: Committer,
        limits: Limits,
    ) -> Self {
        Self {
            store,
            bus,
            committer,
            limits,
            send_targets: std::sync::Mutex::default(),
            webhooks_seen: std::sync::Mutex::default(),
        }
    }

    /// The session a send goes to, if the caller may see it: from `send_targets` when known,
    /// else from the store (and remembered).
    pub(super) async fn send_target(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        let known = self
            .send_targets
            .lock()
            .expect("send targets")
            .sessions
            .get(&id)
            .cloned();
        let session = match known {
            Some(s) => s,
            None => {
                let s = self
                    .store
                    .get_session(id)
                    .await?
                    .ok_or(ServiceError::NotFound("session"))?;
                self.send_targets
                    .lock()
                    .expect("send targets")
                    .remember(s.clone());
                s
            }
        };
        if authz::can_see(p, &session) {
            Ok(session)
        } else {
            Err(ServiceError::NotFound("session"))
        }
    }

    /// Forget remembered send targets (their owners may have changed).
    pub(super) fn forget_send_targets(&self) {
        self.send_targets.lock().expect("send targets").clear();
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    /// Resume the owner's most recently active open session in the tenant, or create one.
    pub async fn open_session(
        &self,
        p: &Principal,
        req: OpenSession,
    ) -> ServiceResult<(Session, bool)> {
        let business_id = match &req.business_id {
            Some(b) => BusinessId::parse(b)?,
            None => p.home_tenant(),
        };
        if !authz::can_use_tenant(p, &business_id) {
            return Err(ServiceError::Forbidden(
                "this credential may not open sessions in that business",
            ));
        }
        let owner = match &req.for_user {
            Some(u)
                if !authz::can_act_for_others(p)
                    && Some(u.as_str()) != p.party.user_id().map(UserId::as_str) =>
            {
                return Err(ServiceError::Forbidden(
                    "only services and admins may open sessions for another user",
                ));
            }
            Some(u) => Party::User(UserId::parse(u)?),
            None => p.party.clone(),
        };
        let new = NewSession {
            id: SessionId::generate(),
            business_id,
            location_id: parse_opt(req.location_id.as_deref(), LocationId::parse)?,
            owner,
            session_type: match req.session_type.as_deref() {
                Some(t) => SessionType::parse(t)?,
                None => SessionType::general(),
            },
            topic: parse_opt(req.topic.as_deref(), Topic::parse)?,
            title: parse_opt(req.title.as_deref(), Title::parse)?,
            priority: parse_opt(req.priority.as_deref(), Priority::parse)?.unwrap_or_default(),
            metadata: metadata_object(req.metadata)?.unwrap_or_else(|| serde_json::json!({})),
            department_id: None,
            at: clock::now(),
        };
        let mut new = new;
        if let Some(raw) = &req.department_id {
            let id = self.existing_department(&new.business_id, raw).await?;
            new.department_id = Some(id);
        }
        let (session, created, place) = self
            .store
            .open_session_with_place(new, !req.force_new)
            .await?;
        if created {
            self.bus.publish(Event::SessionCreated(session.clone()));
            // Still waiting after routing: tell it where it stands (nobody else moved).
            if self.reroute(&session.business_id).await == 0 {
                self.announce_place(&session, place).await?;
            } else if let Some(now) = self.store.get_session(session.id).await? {
                self.announce_place(&now, None).await?;
            }
        }
        Ok((session, created))
    }

    /// A session the caller may see. Others' sessions are "not found".
    pub async fn get_session(&self, p: &Principal, id: &str) -> ServiceResult<Session> {
        let id = SessionId::parse(id)?;
        self.visible(p, id).await
    }

    /// A session the caller may see and its contact, if it has one.
    pub async fn get_session_with_contact(
        &self,
        p: &Principal,
        id: &str,
    ) -> ServiceResult<(Session, Option<Contact>)> {
        let id = SessionId::parse(id)?;
        match self.store.get_session_with_contact(id).await? {
            Some((s, contact)) if authz::can_see(p, &s) => Ok((s, contact)),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    /// A session by its integer number, for doors whose clients use integer ids.
    pub async fn get_session_by_number(
        &self,
        p: &Principal,
        number: i64,
    ) -> ServiceResult<Session> {
        match self.store.get_session_by_number(number).await? {
            Some(s) if authz::can_see(p, &s) => Ok(s),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    pub(super) async fn visible(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        match self.store.get_session(id).await? {
            Some(s) if authz::can_see(p, &s) => Ok(s),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    pub async fn list_sessions(
        &self,
        p: &Principal,
        req: ListSessions,
    ) -> ServiceResult<SessionPage> {
        let (filter, limit) = self.filter_for(p, &req)?;
        let cursor = req.cursor.as_deref().map(page::decode).transpose()?;
        let mut sessions = self.store.list_sessions(&filter, cursor, limit + 1).await?;
        let next_cursor = if sessions.len() > limit as usize {
            sessions.truncate(limit as usize);
            sessions.last().map(|s| {
                page::encode(&crate::store::SessionCursor {
                    last_activity_at: s.last_activity_at,
                    id: s.id,
                })
            })
        } else {
            None
        };
        Ok(SessionPage {
            sessions,
            next_cursor,
        })
    }

    /// Like `list_sessions`, paged by offset, with the total: for doors that page that way.
    pub async fn list_sessions_offset(
        &self,
        p: &Principal,
        req: ListSessions,
        offset: u32,
    ) -> ServiceResult<(Vec<Session>, i64)> {
        let (filter, limit) = self.filter_for(p, &req)?;
        let sessions = self
            .store
            .list_sessions_offset(&filter, offset, limit)
            .await?;
        let total = self.store.count_sessions(&filter).await?;
        Ok((sessions, total))
    }

    /// The newest message of a session the caller has already been shown.
    pub async fn last_message(&self, session: &Session) -> ServiceResult<Option<Message>> {
        let range = MessageRange::Before {
            before: session.last_seq + 1,
            after: 0,
            limit: 1,
        };
        Ok(self.store.list_messages(session.id, range).await?.pop())
    }

    /// Messages after `after` (oldest first, at most `limit`) in a session the caller has
    /// already been shown.
    pub async fn messages_after(
        &self,
        session: &Session,
        after: i64,
        limit: u32,
    ) -> ServiceResult<Vec<Message>> {
        let range = MessageRange::After { after, limit };
        Ok(self.store.list_messages(session.id, range).await?)
    }

    /// Every reader's cursor in a session the caller has already been shown.
    pub async fn read_cursors(&self, session: &Session) -> ServiceResult<Vec<(Party, i64)>> {
        Ok(self.store.read_cursors(session.id).await?)
    }

    /// The caller's unread count in each of these sessions (already shown to it).
    pub async fn unread_in(
        &self,
        p: &Principal,
        sessions: &[Session],
    ) -> ServiceResult<Vec<UnreadCount>> {
        let ids: Vec<SessionId> = sessions.iter().map(|s| s.id).collect();
        Ok(self.store.unread_in(&p.party, &ids).await?)
    }

    /// The names people read beside these ids: a built-in account's name, else its email.
    /// Ids that are no built-in account have none.
    pub async fn display_names<'a>(
        &self,
        ids: impl IntoIterator<Item = &'a UserId>,
    ) -> ServiceResult<std::collections::HashMap<UserId, String>> {
        let mut names = std::collections::HashMap::new();
        let distinct: std::collections::BTreeSet<&UserId> = ids.into_iter().collect();
        for id in distinct {
            if let Some(account) = self.staff_account(id).await? {
                let name = account
                    .name
                    .unwrap_or_else(|| account.email.as_str().to_owned());
                names.insert(id.clone(), name);
            }
        }
        Ok(names)
    }

    /// A staff member's name and email, when they are a built-in account (numeric id).
    pub async fn staff_account(&self, id: &UserId) -> ServiceResult<Option<crate::store::Account>> {
        match id.as_str().parse::<i64>() {
            Ok(n) => Ok(self.store.find_account(n).await?),
            Err(_) => Ok(None),
        }
    }

    pub async fn update_session(
        &self,
        p: &Principal,
        id: &str,
        req: UpdateSession,
    ) -> ServiceResult<Session> {
        let id = SessionId::parse(id)?;
        let session = self.visible(p, id).await?;
        let mut patch = SessionPatch {
            topic: parse_clearable(req.topic, Topic::parse)?,
            title: parse_clearable(req.title, Title::parse)?,
            location_id: parse_clearable(req.location_id, LocationId::parse)?,
            priority: parse_opt(req.priority.as_deref(), Priority::parse)?,
            metadata: metadata_object(req.metadata)?,
            ..SessionPatch::default()
        };
        if let Some(raw) = req.status.as_deref() {
            let to = SessionStatus::parse(raw)?;
            if !authz::can_manage(p, &session) {
                return Err(ServiceError::Forbidden(
                    "only agents and admins may change a session's status",
                ));
            }
            patch.status = Some(transition(&session, to)?);
        }
        self.apply(session, patch).await
    }

    /// Close a session. Ending a closed session is a no-op that returns it.
    pub async fn end_session(&self, p: &Principal, id: &str) -> ServiceResult<Session> {
        let id = SessionId::parse(id)?;
        let session = self.visible(p, id).await?;
        if session.status == SessionStatus::Closed {
            return Ok(session);
        }
        let status = Some(transition(&session, SessionStatus::Closed)?);
        self.apply(
            session,
            SessionPatch {
                status,
                ..SessionPatch::default()
            },
        )
        .await
    }

    pub(super) async fn apply(
        &self,
        session: Session,
        patch: SessionPatch,
    ) -> ServiceResult<Session> {
        if patch.is_empty() {
            return Ok(session);
        }
        match self
            .store
            .update_session(session.id, &patch, clock::now())
            .await?
        {
            PatchOutcome::Updated(s) => {
                self.bus.publish(Event::SessionUpdated(s.clone()));
                if patch.status.is_some_and(|c| {
                    c.to == SessionStatus::Closed && c.from != SessionStatus::Closed
                }) {
                    self.bus.publish(Event::SessionClosed(s.clone()));
                    self.post_system(&s, "Conversation closed".into()).await;
                    // A waiting session leaving its queue moves everyone behind it up.
                    if patch
                        .status
                        .is_some_and(|c| c.from == SessionStatus::Waiting)
                    {
                        self.announce_queue(&s.business_id).await?;
                    }
                    // Capacity freed: the next waiting session may go to this agent.
                    self.reroute(&s.business_id).await;
                }
                Ok(s)
            }
            PatchOutcome::NotFound => Err(ServiceError::NotFound("session")),
            PatchOutcome::StatusChanged(now) => Err(ServiceError::conflict(
                "status_changed",
                format!(
                    "the session's status changed to {} meanwhile; nothing was written",
                    now.status
                ),
            )),
        }
    }

    /// Soft-delete a session: it disappears from every list and look-up.
    pub async fn delete_session(&self, p: &Principal, id: &str) -> ServiceResult<()> {
        let id = SessionId::parse(id)?;
        self.visible(p, id).await?;
        if self.store.delete_session(id, clock::now()).await? {
            Ok(())
        } else {
            Err(ServiceError::NotFound("session"))
        }
    }

    /// Append a message, durably. Returns the message and whether it was created now
    /// (false: a retry of an earlier send with the same `client_msg_id`).
    pub async fn send_message(
        &self,
        p: &Principal,
        id: &str,
        req: SendMessage,
    ) -> ServiceResult<(Message, bool)> {
        let id = SessionId::parse(id)?;
        let content = Content::parse(&req.content, self.limits.max_content_chars)?;
        let client_msg_id = parse_opt(req.client_msg_id.as_deref(), ClientMsgId::parse)?;
        let session = self.send_target(p, id).await?;
        self.append(p, &session, content, client_msg_id).await
    }

    /// Note in the conversation what happened to it (closed, assigned, …): a `system`
    /// message, through the same write path as any other. A failure is logged, not raised:
    /// the change itself has happened.
    pub(super) async fn post_system(&self, session: &Session, text: String) {
        let message = NewMessage {
            id: MessageId::generate(),
            session_id: session.id,
            sender: Party::User(UserId::parse(SYSTEM_SENDER).expect("valid id")),
            sender_type: SenderType::System,
            content: text,
            client_msg_id: None,
            claim_for_agent: None,
            at: clock::now(),
        };
        let audience = Audience {
            business_id: session.business_id.clone(),
            owner: session.owner.clone(),
            session_number: session.number,
        };
        if let Err(e) = self.committer.append(message, audience).await {
            tracing::warn!(error = %e, session = %session.id, "could not post a system message");
        }
    }

    /// Append to a session the caller has already been shown.
    pub async fn append(
        &self,
        p: &Principal,
        session: &Session,
        content: Content,
        client_msg_id: Option<ClientMsgId>,
    ) -> ServiceResult<(Message, bool)> {
        let sender_type = match p.role {
            Role::Customer => SenderType::Customer,
            Role::Agent | Role::Admin => SenderType::Agent,
            Role::Service => SenderType::Assistant,
        };
        // A person on staff who answers a waiting session takes it.
        let claim_for_agent = match p.role {
            Role::Agent | Role::Admin if session.owner != p.party => p.party.user_id().cloned(),
            _ => None,
        };
        // Kept only to tell a true retry from a key reused for another text.
        let keyed_content = client_msg_id.as_ref().map(|_| content.as_str().to_owned());
        let message = NewMessage {
            id: MessageId::generate(),
            session_id: session.id,
            sender: p.party.clone(),
            sender_type,
            content: content.into_string(),
            client_msg_id,
            claim_for_agent,
            at: clock::now(),
        };
        let audience = Audience {
            business_id: session.business_id.clone(),
            owner: session.owner.clone(),
            session_number: session.number,
        };
        match self.committer.append(message, audience).await? {
            AppendOutcome::Created(m) => Ok((m, true)),
            AppendOutcome::Duplicate(m) if keyed_content.as_deref() == Some(m.content.as_str()) => {
                Ok((m, false))
            }
            AppendOutcome::Duplicate(_) => Err(ServiceError::conflict(
                "client_msg_id_reused",
                "this client_msg_id was already used for a message with other content",
            )),
            AppendOutcome::SessionMissing => Err(ServiceError::NotFound("session")),
            AppendOutcome::SessionClosed => Err(ServiceError::conflict(
                "session_closed",
                "the session is closed; no more messages can be added",
            )),
        }
    }

    pub async fn list_messages(
        &self,
        p: &Principal,
        id: &str,
        q: MessageQuery,
    ) -> ServiceResult<Vec<Message>> {
        self.page_size(q.limit)?;
        self.list_messages_unchecked_limit(p, id, q).await
    }

    /// `list_messages` with `q.limit` already checked (or one past the maximum, for a probe).
    async fn list_messages_unchecked_limit(
        &self,
        p: &Principal,
        id: &str,
        q: MessageQuery,
    ) -> ServiceResult<Vec<Message>> {
        let id = SessionId::parse(id)?;
        let limit = q.limit.unwrap_or(self.limits.default_page);
        let after = non_negative("after_seq", q.after_seq)?.unwrap_or(0);
        let range = match non_negative("before_seq", q.before_seq)? {
            Some(before) => MessageRange::Before {
                before,
                after,
                limit,
            },
            None => MessageRange::After { after, limit },
        };
        // The session that proves the caller may see it, and the page, in one store read.
        match self.store.get_session_with_messages(id, range).await? {
            Some((session, messages)) if authz::can_see(p, &session) => Ok(messages),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    /// A page of messages and whether more lie beyond it in the same direction (after the
    /// last one when paging forward with `after_seq`; before the first one with
    /// `before_seq`).
    pub async fn message_page(
        &self,
        p: &Principal,
        id: &str,
        q: MessageQuery,
    ) -> ServiceResult<MessagePage> {
        let limit = self.page_size(q.limit)?;
        let backwards = q.before_seq.is_some();
        // One more than asked: its presence says there is more.
        let probe = MessageQuery {
            limit: Some(limit + 1),
            ..q
        };
        let mut messages = self.list_messages_unchecked_limit(p, id, probe).await?;
        let has_more = messages.len() > limit as usize;
        if has_more {
            if backwards {
                messages.remove(0);
            } else {
                messages.pop();
            }
        }
        Ok(MessagePage { messages, has_more })
    }

    /// Move the caller's read cursor to `up_to_seq` (it never moves back).
    pub async fn mark_read(
        &self,
        p: &Principal,
        id: &str,
        up_to_seq: i64,
    ) -> ServiceResult<ReadReceipt> {
        let id = SessionId::parse(id)?;
        let session = self.visible(p, id).await?;
        if up_to_seq < 0 || up_to_seq > session.last_seq {
            return Err(Invalid::new(
                "up_to_seq",
                "seq_out_of_range",
                format!("up_to_seq must be between 0 and {}", session.last_seq),
            )
            .into());
        }
        let last_read_seq = self
            .store
            .mark_read(id, &p.party, up_to_seq, clock::now())
            .await?;
        self.bus.publish(Event::ReadAdvanced {
            business_id: session.business_id.clone(),
            owner: session.owner.clone(),
            session_id: id,
            session_number: session.number,
            reader: p.party.clone(),
            up_to_seq: last_read_seq,
        });
        let unread = self
            .store
            .unread_counts(&p.party, p.business_id.as_ref())
            .await?
            .into_iter()
            .find(|u| u.session_id == id)
            .map_or(0, |u| u.unread);
        Ok(ReadReceipt {
            session_id: id,
            last_read_seq,
            unread,
        })
    }

    pub async fn unread(&self, p: &Principal) -> ServiceResult<UnreadSummary> {
        // A tenant-scoped identity counts only its tenant's sessions.
        let sessions = self
            .store
            .unread_counts(&p.party, p.business_id.as_ref())
            .await?;
        let total = sessions.iter().map(|u| u.unread).sum();
        Ok(UnreadSummary { sessions, total })
    }

    /// What a caller may list, narrowed by what it asked for, and the page size. The one
    /// place that decides whose sessions a list can contain.
    fn filter_for(&self, p: &Principal, req: &ListSessions) -> ServiceResult<(SessionFilter, u32)> {
        let mut filter = SessionFilter {
            status: parse_opt(req.status.as_deref(), SessionStatus::parse)?,
            location_id: parse_opt(req.location_id.as_deref(), LocationId::parse)?,
            open_only: req.open_only,
            ..SessionFilter::default()
        };
        let asked_tenant = parse_opt(req.business_id.as_deref(), BusinessId::parse)?;
        let asked_owner = parse_opt(req.user_id.as_deref(), UserId::parse)?.map(Party::User);
        match p.role {
            Role::Customer => {
                // Asking for someone else's sessions looks exactly like asking for a missing one.
                if asked_owner.as_ref().is_some_and(|o| *o != p.party) {
                    return Err(ServiceError::NotFound("session"));
                }
                filter.owner = Some(p.party.clone());
                // A tenant-scoped customer lists its tenant only.
                filter.business_id = match (&p.business_id, asked_tenant) {
                    (Some(home), Some(asked)) if *home != asked => {
                        return Err(ServiceError::Forbidden(
                            "this credential may not list that business",
                        ))
                    }
                    (Some(home), _) => Some(home.clone()),
                    (None, asked) => asked,
                };
            }
            Role::Agent | Role::Service | Role::Admin => {
                let tenant = match (asked_tenant, p.role) {
                    (Some(t), _) => Some(t),
                    (None, Role::Admin) => p.business_id.clone(),
                    (None, _) => Some(p.home_tenant()),
                };
                if let Some(t) = &tenant {
                    if !authz::can_use_tenant(p, t) {
                        return Err(ServiceError::Forbidden(
                            "this credential may not list that business",
                        ));
                    }
                }
                filter.business_id = tenant;
                filter.owner = asked_owner;
            }
        }
        Ok((filter, self.page_size(req.limit)?))
    }

    fn page_size(&self, asked: Option<u32>) -> ServiceResult<u32> {
        match asked {
            None => Ok(self.limits.default_page),
            Some(n) if (1..=self.limits.max_page).contains(&n) => Ok(n),
            Some(_) => Err(Invalid::new(
                "limit",
                "invalid_limit",
                format!("limit must be between 1 and {}", self.limits.max_page),
            )
            .into()),
        }
    }
}

fn transition(session: &Session, to: SessionStatus) -> ServiceResult<StatusChange> {
    if session.status.can_become(to) {
        Ok(StatusChange {
            from: session.status,
            to,
        })
    } else {
        Err(ServiceError::conflict(
            "invalid_transition",
            format!("a {} session cannot become {}", session.status, to),
        ))
    }
}

fn parse_opt<T>(
    raw: Option<&str>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<Option<T>, Invalid> {
    raw.map(parse).transpose()
}

fn parse_clearable<T>(
    raw: Option<Option<String>>,
    parse: impl Fn(&str) -> Result<T, Invalid>,
) -> Result<Option<Option<T>>, Invalid> {
    raw.map(|inner| parse_opt(inner.as_deref(), &parse))
        .transpose()
}

fn metadata_object(raw: Option<serde_json::Value>) -> Result<Option<serde_json::Value>, Invalid> {
    match raw {
        None => Ok(None),
        Some(v @ serde_json::Value::Object(_)) if !storable(&v) => Err(Invalid::new(
            "metadata",
            "invalid_metadata",
            "metadata must not contain U+0000 in a key or a string, nor a number of 1e308 or more",
        )),
        Some(v @ serde_json::Value::Object(_)) => Ok(Some(v)),
        Some(_) => Err(Invalid::new(
            "metadata",
            "invalid_metadata",
            "metadata must be a JSON object",
        )),
    }
}

/// Whether every store keeps this JSON value and gives it back: PostgreSQL's `jsonb` refuses
/// U+0000, and gives a number next to f64's limit back in digits that no longer read as one.
fn storable(v: &serde_json::Value) -> bool {
    use serde_json::Value;
    match v {
        Value::String(s) => !s.contains('\0'),
        Value::Number(n) => n.as_f64().is_some_and(|f| f.abs() < 1e308),
        Value::Array(items) => items.iter().all(storable),
        Value::Object(map) => map.iter().all(|(k, v)| !k.contains('\0') && storable(v)),
        Value::Null | Value::Bool(_) => true,
    }
}

fn non_negative(field: &'static str, v: Option<i64>) -> Result<Option<i64>, Invalid> {
    match v {
        Some(n) if n < 0 => Err(Invalid::new(
            field,
            "invalid_seq",
            format!("{field} must not be negative"),
        )),
        other => Ok(other),
    }
}

#[cfg(test)]
mod send_target_tests {
    use super::*;

    #[test]
    fn remembered_sessions_are_bounded_in_bytes() {
        let mut targets = SendTargets::default();
        let big = serde_json::json!({"blob": "x".repeat(1 << 20)});
        for _ in 0..100 {
            let mut s = Session::sample(Party::User(UserId::parse("u").unwrap()), "shop");
            s.metadata = big.clone();
            targets.remember(s);
            assert!(targets.bytes <= SEND_TARGETS_MAX_BYTES);
        }
        assert!(targets.sessions.len() < 40, "{}", targets.sessions.len());
    }
}
