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
mod messages;
mod routing;
mod search;
mod sessions;
mod stats;
#[cfg(test)]
mod testing;
mod webhooks;

use sessions::parse_opt;

pub use contacts::SetContact;
pub use conversation::{Conversation, PostMessage};
pub use search::{Search, SearchResults};
pub use stats::{Stats, StatsQuery, StatsReport, MAX_REPORT_SESSIONS};
pub use webhooks::Webhooks;

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
        }
    }

    /// The session a send goes to, if the caller may see it (`SessionStore::send_target`).
    pub(super) async fn send_target(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        match self.store.send_target(id).await? {
            Some(s) if authz::can_see(p, &s) => Ok(s),
            _ => Err(ServiceError::NotFound("session")),
        }
    }

    pub fn limits(&self) -> Limits {
        self.limits
    }

    pub(super) async fn visible(&self, p: &Principal, id: SessionId) -> ServiceResult<Session> {
        match self.store.get_session(id).await? {
            Some(s) if authz::can_see(p, &s) => Ok(s),
            _ => Err(ServiceError::NotFound("session")),
        }
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

    fn page_size(&self, asked: Option<u32>) -> ServiceResult<u32> {
        page_size(&self.limits, asked)
    }
}

/// The page size asked for, within `limits`, or the default.
fn page_size(limits: &Limits, asked: Option<u32>) -> ServiceResult<u32> {
    match asked {
        None => Ok(limits.default_page),
        Some(n) if (1..=limits.max_page).contains(&n) => Ok(n),
        Some(_) => Err(Invalid::new(
            "limit",
            "invalid_limit",
            format!("limit must be between 1 and {}", limits.max_page),
        )
        .into()),
    }
}

/// The tenant `p` administers: the one asked for (if it may) or its own. Only admins and
/// services administer a tenant (webhooks, departments, agents' caps).
pub(super) fn managed_tenant(p: &Principal, asked: Option<&str>) -> ServiceResult<BusinessId> {
    if !matches!(p.role, Role::Admin | Role::Service) {
        return Err(ServiceError::Forbidden(
            "only admins and services administer a business",
        ));
    }
    let tenant = match asked {
        Some(b) => BusinessId::parse(b)?,
        None => p.home_tenant(),
    };
    if !authz::can_use_tenant(p, &tenant) {
        return Err(ServiceError::Forbidden(
            "this credential may not manage that business",
        ));
    }
    Ok(tenant)
}
