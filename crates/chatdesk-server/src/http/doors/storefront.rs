//! Seed 000, storefront chat: `POST /api/v1/chat/session` with `force_new`, Option 2's
//! `POST /api/v1/chat/session/new`, and (for "continue existing chat" and "auto-resume") the
//! caller's session list, one session, its messages, and sending. Customers by Bearer JWT,
//! guests by `visitor_id` (body or query) or `X-Visitor-Id`. Session ids are the session's
//! number, as a string ("123").

use super::style::{restyle_errors, ErrorStyle};
use crate::auth::resolve::{self, Offered};
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiJson, ApiPath, ApiQuery, JsonOrEmpty};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chatdesk_core::domain::{Message, Session, SessionStatus};
use chatdesk_core::identity::Principal;
use chatdesk_core::service::{ListSessions, MessageQuery, OpenSession, SendMessage};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_session))
        .routes(routes!(new_session))
        .routes(routes!(list_sessions))
        .routes(routes!(get_session))
        .routes(routes!(list_messages, send_message))
        .layer(restyle_errors!(ErrorStyle::Nest))
}

#[derive(Deserialize, ToSchema, Default)]
#[schema(as = storefront::OpenBody)]
pub struct OpenBody {
    /// Always create a new session ("New chat").
    #[serde(default)]
    pub force_new: bool,
    /// A guest's id (UUID), when there is no Bearer token.
    pub visitor_id: Option<String>,
    pub title: Option<String>,
    pub topic: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = storefront::StorefrontSession)]
pub struct StorefrontSession {
    /// The session number, as a string.
    pub id: String,
    /// The session's UUID in the native API.
    pub uuid: String,
    /// The logged-in customer (a number when the user id is numeric), or null for a guest.
    #[schema(value_type = Option<super::NumberOrString>)]
    pub customer_id: Value,
    pub visitor_id: Option<String>,
    /// `active` or `closed`.
    pub status: &'static str,
    pub title: Option<String>,
    pub topic: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_message_at: Option<DateTime<Utc>>,
}

impl StorefrontSession {
    /// The session as `caller` sees it: a visitor's own UUID (its secret) only to itself,
    /// its public id to anyone else.
    fn seen_by(s: &Session, caller: &Principal) -> Self {
        let visitor_id = s.owner.visitor_id().map(|v| {
            if caller.party == s.owner {
                v.to_string()
            } else {
                crate::wire::views::public_visitor_id(&v)
            }
        });
        Self {
            id: s.number.to_string(),
            uuid: s.id.to_string(),
            customer_id: s
                .owner
                .user_id()
                .map_or(Value::Null, |u| crate::wire::ids::id_value(u.as_str())),
            visitor_id,
            status: if s.status == SessionStatus::Closed {
                "closed"
            } else {
                "active"
            },
            title: s.title.as_ref().map(ToString::to_string),
            topic: s.topic.as_ref().map(ToString::to_string),
            created_at: s.created_at,
            updated_at: s.updated_at,
            last_message_at: s.last_message_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = storefront::OpenedSession)]
pub struct OpenedSession {
    pub session: StorefrontSession,
    pub is_new: bool,
}

/// The caller: a Bearer token (or `X-Visitor-Id`) first, else the `visitor_id` sent along
/// (`crate::auth::resolve::STOREFRONT`).
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    visitor_id: Option<&str>,
) -> ApiResult<Principal> {
    let offered = Offered {
        visitor: visitor_id.map(|v| (v, "visitor_id")),
        ..Offered::default()
    };
    state
        .auth
        .resolve(headers, offered, &resolve::STOREFRONT)
        .await
}

async fn open(
    state: AppState,
    ip: std::net::IpAddr,
    headers: HeaderMap,
    b: OpenBody,
    force_new: bool,
) -> ApiResult<(StatusCode, ApiJson<OpenedSession>)> {
    let p = caller(&state, &headers, b.visitor_id.as_deref()).await?;
    let req = OpenSession {
        title: b.title,
        topic: b.topic,
        metadata: b.metadata,
        force_new,
        ..OpenSession::default()
    };
    let (session, is_new) = state
        .guards
        .open_session(ip, state.sessions.open_session(&p, req))
        .await?;
    let status = if is_new {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        ApiJson(OpenedSession {
            session: StorefrontSession::seen_by(&session, &p),
            is_new,
        }),
    ))
}

/// Resume the last active session, or create one; `force_new` always creates.
#[utoipa::path(post, path = "/api/v1/chat/session", tag = "storefront (seed 000)", request_body = OpenBody,
    responses((status = 201, body = OpenedSession), (status = 200, description = "Resumed", body = OpenedSession)))]
async fn open_session(
    State(state): State<AppState>,
    crate::guards::ClientIp(ip): crate::guards::ClientIp,
    headers: HeaderMap,
    JsonOrEmpty(b): JsonOrEmpty<OpenBody>,
) -> ApiResult<(StatusCode, ApiJson<OpenedSession>)> {
    let force_new = b.force_new;
    open(state, ip, headers, b, force_new).await
}

/// Always create a new session (the document's Option 2).
#[utoipa::path(post, path = "/api/v1/chat/session/new", tag = "storefront (seed 000)", request_body = OpenBody,
    responses((status = 201, body = OpenedSession)))]
async fn new_session(
    State(state): State<AppState>,
    crate::guards::ClientIp(ip): crate::guards::ClientIp,
    headers: HeaderMap,
    JsonOrEmpty(b): JsonOrEmpty<OpenBody>,
) -> ApiResult<(StatusCode, ApiJson<OpenedSession>)> {
    open(state, ip, headers, b, true).await
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct VisitorQuery {
    pub visitor_id: Option<String>,
    pub limit: Option<u32>,
    pub after_seq: Option<i64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = storefront::SessionList)]
pub struct SessionList {
    pub sessions: Vec<StorefrontSession>,
}

/// The caller's sessions, most recently active first (the chat sidebar).
#[utoipa::path(get, path = "/api/v1/chat/sessions", tag = "storefront (seed 000)", params(VisitorQuery),
    responses((status = 200, body = SessionList)))]
async fn list_sessions(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<VisitorQuery>,
) -> ApiResult<ApiJson<SessionList>> {
    let p = caller(&state, &headers, q.visitor_id.as_deref()).await?;
    let req = ListSessions {
        limit: q.limit,
        ..ListSessions::default()
    };
    let page = state.sessions.list_sessions(&p, req).await?;
    Ok(ApiJson(SessionList {
        sessions: page
            .sessions
            .iter()
            .map(|s| StorefrontSession::seen_by(s, &p))
            .collect(),
    }))
}

fn number(id: &str) -> ApiResult<i64> {
    id.parse()
        .map_err(|_| ApiError::bad_request("invalid_id", "session id must be a number"))
}

async fn own_session(state: &AppState, p: &Principal, id: &str) -> ApiResult<Session> {
    Ok(state.sessions.get_session_by_number(p, number(id)?).await?)
}

#[derive(Serialize, ToSchema)]
#[schema(as = storefront::OneSession)]
pub struct OneSession {
    pub session: StorefrontSession,
}

#[utoipa::path(get, path = "/api/v1/chat/session/{id}", tag = "storefront (seed 000)",
    params(("id" = String, Path), VisitorQuery), responses((status = 200, body = OneSession)))]
async fn get_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<VisitorQuery>,
) -> ApiResult<ApiJson<OneSession>> {
    let p = caller(&state, &headers, q.visitor_id.as_deref()).await?;
    let s = own_session(&state, &p, &id).await?;
    Ok(ApiJson(OneSession {
        session: StorefrontSession::seen_by(&s, &p),
    }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = storefront::StorefrontMessage)]
pub struct StorefrontMessage {
    pub id: String,
    pub session_id: String,
    pub seq: i64,
    /// `customer`, `agent`, `assistant` or `system`.
    pub sender_type: &'static str,
    #[schema(value_type = super::NumberOrString)]
    pub sender_id: Value,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

fn message(session: &Session, m: &Message) -> StorefrontMessage {
    StorefrontMessage {
        id: m.id.to_string(),
        session_id: session.number.to_string(),
        seq: m.seq,
        sender_type: m.sender_type.as_str(),
        sender_id: crate::wire::ids::party_id(&m.sender),
        content: m.content.clone(),
        created_at: m.created_at,
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = storefront::MessageList)]
pub struct MessageList {
    pub messages: Vec<StorefrontMessage>,
}

/// A session's history, oldest first (`after_seq` to continue).
#[utoipa::path(get, path = "/api/v1/chat/session/{id}/messages", tag = "storefront (seed 000)",
    params(("id" = String, Path), VisitorQuery), responses((status = 200, body = MessageList)))]
async fn list_messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<VisitorQuery>,
) -> ApiResult<ApiJson<MessageList>> {
    let p = caller(&state, &headers, q.visitor_id.as_deref()).await?;
    let s = own_session(&state, &p, &id).await?;
    let query = MessageQuery {
        after_seq: q.after_seq,
        limit: q.limit,
        ..MessageQuery::default()
    };
    let messages = state.messages.list_messages(&p, s.id, query).await?;
    Ok(ApiJson(MessageList {
        messages: messages.iter().map(|m| message(&s, m)).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = storefront::SendBody)]
pub struct SendBody {
    pub content: String,
    pub client_msg_id: Option<String>,
    pub visitor_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = storefront::SentMessage)]
pub struct SentMessage {
    pub message: StorefrontMessage,
}

#[utoipa::path(post, path = "/api/v1/chat/session/{id}/messages", tag = "storefront (seed 000)",
    params(("id" = String, Path)), request_body = SendBody,
    responses((status = 201, body = SentMessage), (status = 200, description = "A retry", body = SentMessage)))]
async fn send_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<SendBody>,
) -> ApiResult<(StatusCode, ApiJson<SentMessage>)> {
    let p = caller(&state, &headers, b.visitor_id.as_deref()).await?;
    let s = own_session(&state, &p, &id).await?;
    let (m, created) = state
        .messages
        .send_message(
            &p,
            s.id,
            SendMessage {
                content: b.content,
                client_msg_id: b.client_msg_id,
                ..SendMessage::default()
            },
        )
        .await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        ApiJson(SentMessage {
            message: message(&s, &m),
        }),
    ))
}
