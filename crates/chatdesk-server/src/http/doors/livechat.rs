//! Seed 002, OSS live chat: start, contact, link-user, history and session details, under
//! `/api/chat` and (as the document's frontend tips call them) `/api/v1/oss-chat`.
//!
//! Identity, in this order: the request's own credential (Bearer token, `X-Visitor-Id`);
//! `oss_user_id` with `user_hash` (or without, where the deployment trusts user ids);
//! `browser_uuid`, the anonymous visitor's secret. The contact call, which the document sends
//! with only a `session_id`, needs one of those too, unless user ids are trusted.

use super::style::{restyle_errors, ErrorStyle};
use crate::auth::resolve::{self, Door, Offered};
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiJson, ApiQuery, SessionPath};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chatdesk_core::domain::{Contact, Email, Party, Session, SessionId, VisitorId};
use chatdesk_core::identity::Principal;
use chatdesk_core::service::{ListSessions, MessageQuery, OpenSession, SetContact};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .nest("/api/chat", routes())
        .nest("/api/v1/oss-chat", routes())
}

fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(contact))
        .routes(routes!(link_user))
        .routes(routes!(history))
        .routes(routes!(session_details))
        .layer(restyle_errors!(ErrorStyle::LiveChat))
}

/// A stable id for a chat participant: UUIDv5 of its party key.
fn chat_user_id(party: &Party) -> Uuid {
    const NAMESPACE: Uuid = Uuid::from_u128(0x6c69_7665_6368_6174_2d75_7365_7273_0001);
    Uuid::new_v5(&NAMESPACE, party.key().as_bytes())
}

fn missing(field: &str) -> ApiError {
    ApiError::bad_request("missing_field", format!("missing required field: {field}"))
}

fn required<'a>(v: &'a Option<String>, field: &str) -> ApiResult<&'a str> {
    v.as_deref()
        .filter(|s| !s.trim().is_empty())
        .ok_or_else(|| missing(field))
}

/// Identity fields the document's requests carry.
#[derive(Deserialize, ToSchema, IntoParams, Default)]
#[schema(as = livechat::WhoFields)]
#[into_params(parameter_in = Query)]
pub struct WhoFields {
    /// The anonymous visitor's UUID (kept in the browser's localStorage).
    pub browser_uuid: Option<String>,
    /// A logged-in OSS user's id.
    pub oss_user_id: Option<String>,
    pub email: Option<String>,
    /// `hex(HMAC-SHA256(identity_secret, oss_user_id))`, unless user ids are trusted.
    pub user_hash: Option<String>,
}

/// The caller at `door`: its credential, else the `oss_user_id` (with `user_hash`) or
/// `browser_uuid` it sends (`crate::auth::resolve`).
async fn who(
    state: &AppState,
    headers: &HeaderMap,
    w: &WhoFields,
    door: &Door,
) -> ApiResult<Principal> {
    if let Some(email) = w.email.as_deref().filter(|_| w.oss_user_id.is_some()) {
        Email::parse(email).map_err(|e| ApiError::bad_request(e.code, e.message))?;
    }
    let offered = Offered {
        user: w.oss_user_id.as_deref(),
        user_hash: w.user_hash.as_deref(),
        visitor: w.browser_uuid.as_deref().map(|v| (v, "browser_uuid")),
        role: None,
    };
    state.auth.resolve(headers, offered, door).await
}

#[derive(Deserialize, ToSchema)]
#[schema(as = livechat::StartBody)]
pub struct StartBody {
    #[serde(flatten)]
    pub who: WhoFields,
    /// Required.
    pub topic: Option<String>,
    /// `low`, `normal` (default), `high` or `urgent`.
    pub priority: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::Started)]
pub struct Started {
    pub session_id: String,
    pub chat_user_id: String,
    pub status: &'static str,
    pub message: &'static str,
    pub requires_contact: bool,
}

/// Start a new chat session.
#[utoipa::path(post, path = "/start", tag = "live chat (seed 002)", request_body = StartBody,
    responses((status = 201, body = Started), (status = 400)))]
async fn start(
    State(state): State<AppState>,
    crate::guards::ClientIp(ip): crate::guards::ClientIp,
    headers: HeaderMap,
    ApiJson(b): ApiJson<StartBody>,
) -> ApiResult<(StatusCode, ApiJson<Started>)> {
    let topic = required(&b.topic, "topic")?.to_owned();
    let p = who(&state, &headers, &b.who, &resolve::LIVECHAT).await?;
    let mut metadata = serde_json::Map::new();
    if let Some(ua) = b.user_agent {
        metadata.insert("user_agent".into(), ua.into());
    }
    if let Some(email) = b.who.email {
        metadata.insert("email".into(), email.into());
    }
    let req = OpenSession {
        topic: Some(topic),
        priority: b.priority,
        metadata: Some(metadata.into()),
        session_type: Some("livechat".into()),
        force_new: true,
        ..OpenSession::default()
    };
    let (session, _) = state
        .guards
        .open_session(ip, state.sessions.open_session(&p, req))
        .await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(Started {
            session_id: session.id.to_string(),
            chat_user_id: chat_user_id(&session.owner).to_string(),
            status: session.status.as_str(),
            message: "Chat session started successfully",
            requires_contact: true,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = livechat::ContactBody)]
pub struct ContactBody {
    #[serde(flatten)]
    pub who: WhoFields,
    pub session_id: Option<String>,
    pub contact_name: Option<String>,
    pub contact_email: Option<String>,
    pub contact_phone: Option<String>,
    pub position: Option<String>,
    pub company_name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::ContactSet)]
pub struct ContactSet {
    pub contact_id: String,
    pub message: &'static str,
}

/// Set the session's contact information.
#[utoipa::path(post, path = "/contact", tag = "live chat (seed 002)", request_body = ContactBody,
    responses((status = 200, body = ContactSet), (status = 400), (status = 404)))]
async fn contact(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<ContactBody>,
) -> ApiResult<ApiJson<ContactSet>> {
    let session_id = SessionId::parse(required(&b.session_id, "session_id")?)?;
    let req = SetContact {
        name: required(&b.contact_name, "contact_name")?.to_owned(),
        email: required(&b.contact_email, "contact_email")?.to_owned(),
        phone: b.contact_phone,
        position: b.position,
        company_name: b.company_name,
    };
    let p = who(&state, &headers, &b.who, &resolve::LIVECHAT_FRONT_END).await?;
    let c = state.contacts.set_contact(&p, session_id, req).await?;
    Ok(ApiJson(ContactSet {
        contact_id: c.id.to_string(),
        message: "Contact information set successfully",
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = livechat::LinkBody)]
pub struct LinkBody {
    pub browser_uuid: Option<String>,
    pub oss_user_id: Option<String>,
    pub email: Option<String>,
    pub user_hash: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::Linked)]
pub struct Linked {
    pub chat_user_id: String,
    pub message: &'static str,
}

/// Link the anonymous visitor's sessions to the OSS account, at login.
#[utoipa::path(post, path = "/link-user", tag = "live chat (seed 002)", request_body = LinkBody,
    responses((status = 200, body = Linked), (status = 400), (status = 409)))]
async fn link_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<LinkBody>,
) -> ApiResult<ApiJson<Linked>> {
    let visitor = VisitorId::parse(required(&b.browser_uuid, "browser_uuid")?)
        .map_err(|_| ApiError::bad_request("invalid_visitor_id", "browser_uuid must be a UUID"))?;
    let user_id = required(&b.oss_user_id, "oss_user_id")?;
    Email::parse(required(&b.email, "email")?)
        .map_err(|e| ApiError::bad_request(e.code, e.message))?;
    // The account is proved by the request's token (for that very user) or by user_hash.
    let user = match state.auth.identify(&headers).await? {
        Some(p) if p.party.user_id().is_some_and(|u| u.as_str() == user_id) => p,
        Some(_) => {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "the token is not that user's",
            ))
        }
        None => state
            .auth
            .named_user(user_id, b.user_hash.as_deref(), None)?,
    };
    state.contacts.link_visitor(&user, visitor).await?;
    Ok(ApiJson(Linked {
        chat_user_id: chat_user_id(&user.party).to_string(),
        message: "Successfully linked to OSS account",
    }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::Person)]
pub struct Person {
    pub id: String,
    pub name: Option<String>,
    pub email: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::Department)]
pub struct Department {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::ContactView)]
pub struct ContactView {
    pub contact_name: String,
    pub contact_email: String,
    pub contact_phone: Option<String>,
    pub position: Option<String>,
    pub company_name: Option<String>,
}

impl From<&Contact> for ContactView {
    fn from(c: &Contact) -> Self {
        Self {
            contact_name: c.name.to_string(),
            contact_email: c.email.as_str().to_owned(),
            contact_phone: c.phone.as_ref().map(|p| p.as_str().to_owned()),
            position: c.position.as_ref().map(ToString::to_string),
            company_name: c.company_name.as_ref().map(ToString::to_string),
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::MessageView)]
pub struct MessageView {
    pub id: String,
    pub message: String,
    pub sender_type: &'static str,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::SessionEntry)]
pub struct SessionEntry {
    pub session_id: String,
    pub topic: Option<String>,
    pub status: &'static str,
    pub priority: &'static str,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub agent: Option<Person>,
    pub department: Option<Department>,
    pub contact: Option<ContactView>,
    pub last_message: Option<MessageView>,
}

async fn entry(
    state: &AppState,
    s: &Session,
    contact: Option<&Contact>,
) -> ApiResult<SessionEntry> {
    let agent = match &s.agent_id {
        Some(a) => {
            let account = state.directory.staff_account(a).await?;
            Some(Person {
                id: a.to_string(),
                name: account.as_ref().and_then(|acc| acc.name.clone()),
                email: account.map(|acc| acc.email.as_str().to_owned()),
            })
        }
        None => None,
    };
    let last = state.messages.last_message(s).await?;
    Ok(SessionEntry {
        session_id: s.id.to_string(),
        topic: s.topic.as_ref().map(ToString::to_string),
        status: s.status.as_str(),
        priority: s.priority.as_str(),
        started_at: s.started_at,
        ended_at: s.ended_at,
        agent,
        department: s.department_id.as_ref().map(|d| Department {
            id: d.clone(),
            name: None,
        }),
        contact: contact.map(Into::into),
        last_message: last.map(|m| MessageView {
            id: m.id.to_string(),
            message: m.content,
            sender_type: m.sender_type.as_str(),
            created_at: m.created_at,
        }),
    })
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    #[serde(flatten)]
    #[param(inline)]
    pub who: WhoFields,
    /// Default 20.
    pub limit: Option<u32>,
    /// Default 0.
    pub offset: Option<u32>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::History)]
pub struct History {
    pub sessions: Vec<SessionEntry>,
    pub total: i64,
    pub limit: u32,
    pub offset: u32,
}

/// The user's chat sessions, newest first, with agent, department, contact and last message.
#[utoipa::path(get, path = "/history", tag = "live chat (seed 002)", params(HistoryQuery),
    responses((status = 200, body = History), (status = 400)))]
async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<ApiJson<History>> {
    let p = who(&state, &headers, &q.who, &resolve::LIVECHAT).await?;
    let (limit, offset) = (q.limit.unwrap_or(20), q.offset.unwrap_or(0));
    let req = ListSessions {
        user_id: p.party.user_id().map(ToString::to_string),
        limit: Some(limit),
        ..ListSessions::default()
    };
    let (sessions, total) = state.sessions.list_sessions_offset(&p, req, offset).await?;
    let contacts = state
        .contacts
        .contacts(&sessions.iter().map(|s| s.id).collect::<Vec<_>>())
        .await?;
    let mut entries = Vec::with_capacity(sessions.len());
    for s in &sessions {
        let c = contacts.iter().find(|(id, _)| *id == s.id).map(|(_, c)| c);
        entries.push(entry(&state, s, c).await?);
    }
    Ok(ApiJson(History {
        sessions: entries,
        total,
        limit,
        offset,
    }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = livechat::Details)]
pub struct Details {
    #[serde(flatten)]
    pub session: SessionEntry,
    pub messages: Vec<MessageView>,
}

/// One session with its messages (oldest first, up to 200).
#[utoipa::path(get, path = "/session/{session_id}", tag = "live chat (seed 002)",
    params(("session_id" = String, Path), WhoFields), responses((status = 200, body = Details), (status = 404)))]
async fn session_details(
    State(state): State<AppState>,
    headers: HeaderMap,
    SessionPath(id): SessionPath,
    ApiQuery(w): ApiQuery<WhoFields>,
) -> ApiResult<ApiJson<Details>> {
    let p = who(&state, &headers, &w, &resolve::LIVECHAT_FRONT_END).await?;
    let s = state.sessions.get_session(&p, id).await?;
    let contact = state
        .contacts
        .contacts(&[s.id])
        .await?
        .pop()
        .map(|(_, c)| c);
    let messages = state
        .messages
        .list_messages(
            &p,
            id,
            MessageQuery {
                limit: Some(200),
                ..MessageQuery::default()
            },
        )
        .await?;
    Ok(ApiJson(Details {
        session: entry(&state, &s, contact.as_ref()).await?,
        messages: messages
            .into_iter()
            .map(|m| MessageView {
                id: m.id.to_string(),
                message: m.content,
                sender_type: m.sender_type.as_str(),
                created_at: m.created_at,
            })
            .collect(),
    }))
}
