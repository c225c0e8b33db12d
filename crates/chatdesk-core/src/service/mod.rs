//! The use cases, one struct per aggregate. Every door (native API, seed doors, Socket.IO,
//! SSE) calls these; they parse raw input into domain values, enforce the authorization rules
//! and the status machine, and talk to the store and the committer.

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
    AppendOutcome, MessageRange, NewMessage, NewSession, SessionFilter, SessionPatch, StatusChange,
    Store, UnreadCount,
};
use std::sync::Arc;

mod activity;
mod agents;
mod api_keys;
mod attachments;
mod canned;
mod contacts;
mod conversation;
mod handoff;
mod hours;
mod kernel;
mod labels;
mod messages;
mod notes;
mod ratings;
mod routing;
mod search;
mod sessions;
mod stats;
#[cfg(test)]
mod testing;
mod webhooks;

use sessions::parse_opt;

pub use activity::Activity;
pub use agents::Directory;
pub use attachments::{file_too_large, Attachments, Download, FileSetup};
pub use canned::{Canned, NewCanned};
pub use contacts::{Contacts, SetContact};
pub use conversation::{Conversation, PostMessage};
pub use handoff::{Handoffs, MAX_REASON_CHARS};
pub use hours::{Availability, Hours, OfflineMessage, OFFLINE_SESSION_TYPE};
pub use labels::{Labels, MAX_LABELS_PER_SESSION};
pub use messages::{Messages, MAX_TRANSCRIPT_MESSAGES};
pub use notes::{Notes, MAX_NOTES_LISTED};
pub use ratings::Ratings;
pub use routing::Routing;
pub use search::{Search, SearchResults};
pub use sessions::Sessions;
pub use stats::{Stats, StatsQuery, StatsReport, MAX_REPORT_SESSIONS};
pub use webhooks::{Subject, Webhooks};

/// The sender id of the messages the system writes into conversations.
pub const SYSTEM_SENDER: &str = "system";

/// Limits on what clients may send and ask for.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    pub max_content_chars: usize,
    pub default_page: u32,
    pub max_page: u32,
    pub max_webhooks_per_tenant: usize,
    /// How long after sending its sender may edit or delete a message.
    pub edit_window_secs: i64,
}

impl Default for Limits {
    fn default() -> Self {
        Self {
            max_content_chars: Content::DEFAULT_MAX_CHARS,
            default_page: 50,
            max_page: 200,
            max_webhooks_per_tenant: 20,
            edit_window_secs: 900,
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
    /// Held by the calling service, answering as `assistant`, outside the agents' queue
    /// until it hands the session off (services only).
    pub assistant: bool,
}

#[derive(Debug, Clone, Default)]
pub struct ListSessions {
    pub status: Option<String>,
    /// Only sessions carrying this label (staff).
    pub label_id: Option<String>,
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
    /// May be blank when the message carries files.
    pub content: String,
    pub client_msg_id: Option<String>,
    /// Files uploaded into the session by the sender (`POST /v1/sessions/{id}/attachments`).
    pub attachment_ids: Vec<String>,
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

/// The session, conversation, routing and directory use cases, built over one set of ports.
#[derive(Clone)]
pub struct UseCases {
    pub sessions: Sessions,
    pub activity: Activity,
    pub messages: Messages,
    pub routing: Routing,
    pub directory: Directory,
    pub contacts: Contacts,
    pub notes: Notes,
    pub ratings: Ratings,
    pub canned: Canned,
    pub handoffs: Handoffs,
    pub labels: Labels,
    pub hours: Hours,
    pub attachments: Attachments,
}

impl UseCases {
    pub fn new(
        store: Arc<dyn Store>,
        bus: Arc<dyn Bus>,
        committer: Committer,
        limits: Limits,
        files: FileSetup,
    ) -> Self {
        let kernel = Arc::new(kernel::Kernel {
            store,
            bus,
            committer,
            limits,
            node: uuid::Uuid::new_v4().to_string(),
            hours: Default::default(),
        });
        let sessions = Sessions::new(kernel.clone());
        let messages = Messages::new(kernel.clone(), sessions.clone());
        Self {
            activity: Activity::new(kernel.clone(), sessions.clone()),
            hours: Hours::new(kernel.clone(), sessions.clone(), messages.clone()),
            messages,
            routing: Routing::new(kernel.clone()),
            directory: Directory::new(kernel.clone()),
            notes: Notes::new(kernel.clone()),
            ratings: Ratings::new(kernel.clone()),
            canned: Canned::new(kernel.clone()),
            handoffs: Handoffs::new(kernel.clone()),
            labels: Labels::new(kernel.clone()),
            attachments: Attachments::new(kernel.clone(), files),
            contacts: Contacts::new(kernel),
            sessions,
        }
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
