//! What the native API returns. Decoupled from the domain types so the wire format is chosen
//! here, once.

use chatdesk_core::domain::{
    AttachmentId, AttachmentRef, Message, MessageId, Note, Party, Rating, Session, SessionId,
    UserId, VisitorId,
};
use chatdesk_core::files::{Links, Variant};
use chatdesk_core::service::{ReadReceipt, UnreadSummary};
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

/// A visitor as others see it. Its UUID is its bearer secret, so what is shown is a one-way
/// digest of it: stable for the same visitor, useless as a credential.
pub fn public_visitor_id(v: &VisitorId) -> String {
    use sha2::{Digest, Sha256};
    let digest = Sha256::digest(v.as_uuid().as_bytes());
    format!("v_{}", hex::encode(&digest[..16]))
}

/// A session's owner or a message's sender.
#[derive(Serialize, ToSchema, Clone)]
pub struct PartyView {
    /// `user` or `visitor`.
    pub kind: &'static str,
    pub id: String,
}

impl From<&Party> for PartyView {
    fn from(p: &Party) -> Self {
        match p {
            Party::User(u) => Self {
                kind: "user",
                id: u.to_string(),
            },
            Party::Visitor(v) => Self {
                kind: "visitor",
                id: public_visitor_id(v),
            },
        }
    }
}

#[derive(Serialize, ToSchema, Clone)]
pub struct SessionView {
    pub id: String,
    pub number: i64,
    pub business_id: String,
    pub location_id: Option<String>,
    pub owner: PartyView,
    pub session_type: String,
    pub topic: Option<String>,
    pub title: Option<String>,
    /// `low`, `normal`, `high` or `urgent`.
    pub priority: String,
    /// `waiting`, `active` or `closed`.
    pub status: String,
    pub agent_id: Option<String>,
    /// The agent's name, where the agent is a built-in account (`chatdesk user add --name`;
    /// its email when it has none).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub agent_name: Option<String>,
    pub department_id: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: serde_json::Value,
    pub last_seq: i64,
    pub message_count: i64,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub started_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::serialize_opt")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub last_activity_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::serialize_opt")]
    pub last_message_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub updated_at: DateTime<Utc>,
    /// The contact person, where the response has looked it up (one session, and lists).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub contact: Option<ContactView>,
}

/// Names people read beside the ids machines use (`display_names`), for the views of one
/// response.
pub struct Names {
    names: std::collections::HashMap<UserId, String>,
    links: Links,
}

impl Names {
    pub async fn of<'a>(
        state: &crate::state::AppState,
        ids: impl IntoIterator<Item = &'a UserId>,
    ) -> crate::error::ApiResult<Self> {
        Ok(Self {
            names: state.directory.display_names(ids).await?,
            links: state.hub.links.clone(),
        })
    }

    /// The names of the agents of these sessions.
    pub async fn of_agents(
        state: &crate::state::AppState,
        sessions: &[&Session],
    ) -> crate::error::ApiResult<Self> {
        Self::of(state, sessions.iter().filter_map(|s| s.agent_id.as_ref())).await
    }

    pub fn session(&self, s: &Session) -> SessionView {
        let mut view = SessionView::from(s);
        view.agent_name = s.agent_id.as_ref().and_then(|a| self.names.get(a)).cloned();
        view
    }

    pub fn message(&self, m: Message) -> MessageView {
        let name = match &m.sender {
            Party::User(u) => self.names.get(u).cloned(),
            Party::Visitor(_) => None,
        };
        MessageView {
            sender_name: name,
            ..MessageView::new(m, &self.links)
        }
    }
}

/// One session's view with its agent's name.
pub async fn named_session(
    state: &crate::state::AppState,
    s: &Session,
) -> crate::error::ApiResult<SessionView> {
    Ok(Names::of_agents(state, &[s]).await?.session(s))
}

impl SessionView {
    pub fn with_contact(mut self, contact: Option<&chatdesk_core::domain::Contact>) -> Self {
        self.contact = contact.map(Into::into);
        self
    }
}

impl From<&Session> for SessionView {
    fn from(s: &Session) -> Self {
        Self {
            id: s.id.to_string(),
            number: s.number,
            business_id: s.business_id.to_string(),
            location_id: s.location_id.as_ref().map(ToString::to_string),
            owner: (&s.owner).into(),
            session_type: s.session_type.to_string(),
            topic: s.topic.as_ref().map(ToString::to_string),
            title: s.title.as_ref().map(ToString::to_string),
            priority: s.priority.as_str().to_owned(),
            status: s.status.as_str().to_owned(),
            agent_id: s.agent_id.as_ref().map(ToString::to_string),
            agent_name: None,
            department_id: s.department_id.clone(),
            metadata: s.metadata.clone(),
            last_seq: s.last_seq,
            message_count: s.message_count,
            started_at: s.started_at,
            ended_at: s.ended_at,
            last_activity_at: s.last_activity_at,
            last_message_at: s.last_message_at,
            created_at: s.created_at,
            updated_at: s.updated_at,
            contact: None,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct OpenedSession {
    pub session: SessionView,
    /// True when this call created the session, false when it resumed one.
    pub is_new: bool,
    /// Fields of the request that a resumed session did not take (it keeps its own; change
    /// them with `PATCH`). Empty for a new session.
    pub ignored_fields: Vec<&'static str>,
    /// The tenant (or the session's department) is outside its business hours: the session
    /// waits until they begin (or leave a message with `POST /v1/offline-messages`).
    pub outside_hours: bool,
    /// What the tenant says outside its hours, when it set it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub away_message: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct SessionList {
    pub sessions: Vec<SessionView>,
    /// Pass as `cursor` to get the next page; null on the last page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct MessageView {
    #[schema(value_type = String)]
    pub id: MessageId,
    #[schema(value_type = String)]
    pub session_id: SessionId,
    /// Gap-free per session, starting at 1.
    pub seq: i64,
    pub sender: PartyView,
    /// The sender's name, where it is a built-in account (as `agent_name`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sender_name: Option<String>,
    /// `customer`, `agent`, `assistant` or `system`.
    pub sender_type: &'static str,
    pub content: String,
    pub client_msg_id: Option<String>,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
    /// When its sender last edited it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub edited_at: Option<DateTime<Utc>>,
    /// When its sender deleted it (its content is then empty).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted_at: Option<DateTime<Utc>>,
    /// Files sent with it (none: left out).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub attachments: Vec<AttachmentView>,
}

/// A file: what it is, and links that fetch it without credentials until they expire
/// (`attachments.link_ttl_secs`; ask again for fresh ones).
#[derive(Serialize, ToSchema)]
pub struct AttachmentView {
    #[schema(value_type = String)]
    pub id: AttachmentId,
    pub name: String,
    /// As sniffed from its content.
    pub content_type: String,
    pub size: i64,
    pub url: String,
    /// A PNG at most 256 pixels on its longer side (images only).
    pub thumbnail_url: Option<String>,
}

impl AttachmentView {
    pub fn new(r: AttachmentRef, links: &Links) -> Self {
        Self {
            url: links.fresh(r.id, Variant::Original),
            thumbnail_url: r.thumbnail.then(|| links.fresh(r.id, Variant::Thumbnail)),
            id: r.id,
            name: r.name,
            content_type: r.content_type,
            size: r.size,
        }
    }
}

impl MessageView {
    /// Takes the message's text as it is (a page of messages is rendered from values read
    /// for it and dropped after).
    pub fn new(m: Message, links: &Links) -> Self {
        Self {
            id: m.id,
            session_id: m.session_id,
            seq: m.seq,
            sender: (&m.sender).into(),
            sender_name: None,
            sender_type: m.sender_type.as_str(),
            content: m.content,
            client_msg_id: m.client_msg_id.as_ref().map(ToString::to_string),
            created_at: m.created_at,
            edited_at: m.edited_at,
            deleted_at: m.deleted_at,
            attachments: m
                .attachments
                .into_iter()
                .map(|r| AttachmentView::new(r, links))
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct MessageList {
    pub messages: Vec<MessageView>,
    /// More messages lie beyond this page in the direction asked.
    pub has_more: bool,
    /// With `has_more`: the value for the same parameter (`after_seq` when paging forward,
    /// `before_seq` when paging back) that fetches the next page.
    pub next_cursor: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct ReadReceiptView {
    pub session_id: String,
    pub last_read_seq: i64,
    pub unread: i64,
}

impl From<&ReadReceipt> for ReadReceiptView {
    fn from(r: &ReadReceipt) -> Self {
        Self {
            session_id: r.session_id.to_string(),
            last_read_seq: r.last_read_seq,
            unread: r.unread,
        }
    }
}

/// A private note (staff only).
#[derive(Serialize, ToSchema)]
pub struct NoteView {
    #[schema(value_type = String)]
    pub session_id: SessionId,
    /// 1, 2, … within the session (apart from messages' `seq`).
    pub number: i64,
    pub author_id: String,
    pub content: String,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub created_at: DateTime<Utc>,
}

impl From<&Note> for NoteView {
    fn from(n: &Note) -> Self {
        Self {
            session_id: n.session_id,
            number: n.number,
            author_id: n.author.to_string(),
            content: n.content.clone(),
            created_at: n.created_at,
        }
    }
}

/// A customer's rating of a closed conversation.
#[derive(Serialize, ToSchema)]
pub struct RatingView {
    #[schema(value_type = String)]
    pub session_id: SessionId,
    /// 1 (worst) to 5 (best).
    pub score: i64,
    pub comment: Option<String>,
    #[serde(serialize_with = "crate::rfc3339::serialize")]
    pub rated_at: DateTime<Utc>,
}

impl From<&Rating> for RatingView {
    fn from(r: &Rating) -> Self {
        Self {
            session_id: r.session_id,
            score: r.score.get(),
            comment: r.comment.clone(),
            rated_at: r.rated_at,
        }
    }
}

/// Where each participant has read up to in a session.
#[derive(Serialize, ToSchema)]
pub struct ReadCursorsView {
    pub cursors: Vec<ReadCursorView>,
}

#[derive(Serialize, ToSchema)]
pub struct ReadCursorView {
    pub reader: PartyView,
    /// Everything up to and including this seq has been read by `reader`.
    pub up_to_seq: i64,
}

impl From<Vec<(Party, i64)>> for ReadCursorsView {
    fn from(cursors: Vec<(Party, i64)>) -> Self {
        Self {
            cursors: cursors
                .iter()
                .map(|(reader, up_to_seq)| ReadCursorView {
                    reader: reader.into(),
                    up_to_seq: *up_to_seq,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct UnreadView {
    pub total: i64,
    pub sessions: Vec<UnreadSessionView>,
}

#[derive(Serialize, ToSchema)]
pub struct UnreadSessionView {
    pub session_id: String,
    pub number: i64,
    pub unread: i64,
    pub last_read_seq: i64,
}

impl From<&UnreadSummary> for UnreadView {
    fn from(u: &UnreadSummary) -> Self {
        Self {
            total: u.total,
            sessions: u
                .sessions
                .iter()
                .map(|s| UnreadSessionView {
                    session_id: s.session_id.to_string(),
                    number: s.number,
                    unread: s.unread,
                    last_read_seq: s.last_read_seq,
                })
                .collect(),
        }
    }
}

#[derive(Serialize, ToSchema, Clone)]
pub struct ContactView {
    pub id: String,
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub company_name: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&chatdesk_core::domain::Contact> for ContactView {
    fn from(c: &chatdesk_core::domain::Contact) -> Self {
        Self {
            id: c.id.to_string(),
            name: c.name.to_string(),
            email: c.email.as_str().to_owned(),
            phone: c.phone.as_ref().map(|p| p.as_str().to_owned()),
            position: c.position.as_ref().map(ToString::to_string),
            company_name: c.company_name.as_ref().map(ToString::to_string),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}
