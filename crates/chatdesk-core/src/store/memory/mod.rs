//! The whole port in memory: the core's use cases run on it in their own tests, with no
//! database, and the contract suite holds it to what SQLite and PostgreSQL do. One lock
//! around everything makes each call atomic, as a transaction would.

mod accounts;
mod attachments;
mod canned;
mod contacts;
mod hours;
mod labels;
mod messages;
mod notes;
mod ratings;
mod routing;
mod sessions;
mod webhooks;

use super::*;
use crate::domain::{Department, Presence, SearchQuery, WebhookEvent};
use std::collections::{BTreeMap, BTreeSet, HashMap, HashSet};
use std::sync::{Mutex, MutexGuard, PoisonError};

#[derive(Default)]
pub struct MemoryStore {
    state: Mutex<State>,
}

impl MemoryStore {
    pub fn new() -> Self {
        Self::default()
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[derive(Default)]
struct State {
    /// By number; deleted ones stay, marked.
    sessions: BTreeMap<i64, Row<Session>>,
    numbers: HashMap<SessionId, i64>,
    messages: HashMap<SessionId, Vec<Message>>,
    notes: HashMap<SessionId, Vec<crate::domain::Note>>,
    ratings: HashMap<SessionId, crate::domain::Rating>,
    attachments: BTreeMap<crate::domain::AttachmentId, crate::domain::Attachment>,
    canned: Vec<crate::domain::CannedResponse>,
    /// The assistant each assistant-held session was opened for.
    assistants: HashMap<SessionId, UserId>,
    labels: Vec<crate::domain::Label>,
    /// By (tenant, department; `None`: the tenant's own).
    hours: BTreeMap<(BusinessId, Option<String>), crate::domain::BusinessHours>,
    session_labels: HashMap<SessionId, BTreeSet<uuid::Uuid>>,
    message_ids: HashSet<MessageId>,
    /// (session, reader's key) → last read seq.
    cursors: BTreeMap<(SessionId, String), i64>,
    contacts: HashMap<SessionId, StoredContact>,
    visitor_links: HashMap<VisitorId, UserId>,
    departments: Vec<Row<Department>>,
    /// (department, agent).
    members: BTreeSet<(uuid::Uuid, String)>,
    /// (tenant, agent).
    agents: BTreeMap<(String, String), StoredAgent>,
    /// Each node's last sign of life.
    nodes: BTreeMap<String, DateTime<Utc>>,
    /// Open connections by (node, tenant, agent).
    node_connections: BTreeMap<(String, String, String), i64>,
    settings: HashMap<BusinessId, TenantSettings>,
    accounts: Vec<Account>,
    api_keys: Vec<StoredKey>,
    secrets: HashMap<String, String>,
    webhooks: Vec<Row<Webhook>>,
    outbox: BTreeMap<i64, OutboxEntry>,
    last_outbox_id: i64,
    deliveries: Vec<StoredDelivery>,
}

/// A row and whether it was (softly) deleted.
struct Row<T> {
    value: T,
    deleted: bool,
}

impl<T> Row<T> {
    fn live(value: T) -> Self {
        Self {
            value,
            deleted: false,
        }
    }
}

struct StoredContact {
    contact: Contact,
    business_id: BusinessId,
    owner: String,
}

struct StoredAgent {
    max_concurrent: i64,
    presence: Presence,
    connections: i64,
    updated_at: DateTime<Utc>,
}

struct StoredKey {
    key: ApiKey,
    hash: String,
    revoked: bool,
}

struct StoredDelivery {
    new: NewDelivery,
    attempts: i64,
    next_attempt_at: DateTime<Utc>,
    delivered_at: Option<DateTime<Utc>>,
    failed_at: Option<DateTime<Utc>>,
    last_error: Option<String>,
}

impl State {
    fn session(&self, id: SessionId) -> Option<&Session> {
        let row = self.sessions.get(self.numbers.get(&id)?)?;
        (!row.deleted).then_some(&row.value)
    }

    fn session_mut(&mut self, id: SessionId) -> Option<&mut Session> {
        let row = self.sessions.get_mut(self.numbers.get(&id)?)?;
        (!row.deleted).then_some(&mut row.value)
    }

    fn live_sessions(&self) -> impl Iterator<Item = &Session> {
        self.sessions
            .values()
            .filter(|r| !r.deleted)
            .map(|r| &r.value)
    }

    /// Does the tenant have a live webhook for `event`?
    fn subscribed(&self, tenant: &BusinessId, event: WebhookEvent) -> bool {
        self.webhooks.iter().any(|w| {
            !w.deleted && &w.value.business_id == tenant && w.value.events.contains(&event)
        })
    }

    /// The outbox entry for a change, when the session's tenant wants to hear of it.
    fn queue(
        &mut self,
        session: SessionId,
        event: WebhookEvent,
        seq: Option<i64>,
        at: DateTime<Utc>,
    ) {
        let Some(tenant) = self.session(session).map(|s| s.business_id.clone()) else {
            return;
        };
        if self.subscribed(&tenant, event) {
            self.last_outbox_id += 1;
            let id = self.last_outbox_id;
            self.outbox.insert(
                id,
                OutboxEntry {
                    id,
                    business_id: tenant,
                    event,
                    session_id: session,
                    seq,
                    at,
                },
            );
        }
    }

    /// Open sessions assigned to the agent in the tenant.
    fn load(&self, tenant: &str, agent: &str) -> i64 {
        self.live_sessions()
            .filter(|s| {
                s.business_id.as_str() == tenant
                    && s.agent_id.as_ref().is_some_and(|a| a.as_str() == agent)
                    && s.status != SessionStatus::Closed
            })
            .count() as i64
    }
}

/// Does `s` meet every condition of `filter` (as `crate::query::push_filter` writes them)?
fn matches(state: &State, s: &Session, f: &SessionFilter) -> bool {
    f.owner.as_ref().is_none_or(|o| &s.owner == o)
        && f.business_id.as_ref().is_none_or(|b| &s.business_id == b)
        && f.location_id
            .as_ref()
            .is_none_or(|l| s.location_id.as_ref() == Some(l))
        && match f.status {
            Some(status) => s.status == status,
            None => !f.open_only || s.status != SessionStatus::Closed,
        }
        && !f.exclude_business.contains(&s.business_id)
        && f.started_from.is_none_or(|t| s.started_at >= t)
        && f.started_before.is_none_or(|t| s.started_at < t)
        && f.agent_id
            .as_ref()
            .is_none_or(|a| s.agent_id.as_ref() == Some(a))
        && f.department_id
            .as_ref()
            .is_none_or(|d| s.department_id.as_ref() == Some(d))
        && f.label_id.is_none_or(|label| {
            state
                .session_labels
                .get(&s.id)
                .is_some_and(|l| l.contains(&label))
        })
}

/// Newest activity first, as every session list is ordered.
fn by_activity(a: &Session, b: &Session) -> std::cmp::Ordering {
    (b.last_activity_at, b.id.as_uuid()).cmp(&(a.last_activity_at, a.id.as_uuid()))
}

/// Lower-cased words, as the stores' full-text search splits text.
fn words(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_lowercase)
        .collect()
}

/// Does `text` hold every term of `query`, each as whole words in a row?
fn found(text: &str, query: &SearchQuery) -> bool {
    let text = words(text);
    query.terms().iter().all(|term| {
        let term = words(term);
        !term.is_empty() && text.windows(term.len()).any(|w| w == term.as_slice())
    })
}

fn missing(what: &str) -> StoreError {
    StoreError::Backend(format!("no such {what}"))
}
