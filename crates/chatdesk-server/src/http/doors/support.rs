//! Seed 004, support chat over REST: login, messages, conversations (integer ids = session
//! numbers), read receipts and unread counts. Users see their own conversations; admins (and
//! agents) see their tenant's, and only they change a conversation's status.

use super::style::{restyle_errors, ErrorStyle};
use crate::auth::accounts;
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chatdesk_core::domain::{Message, Party, Session, SessionStatus};
use chatdesk_core::identity::{Principal, Role};
use chatdesk_core::service::{
    Conversation as To, ListSessions, MessageQuery, PostMessage, UpdateSession,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::HashMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(login))
        .routes(routes!(send_message))
        .routes(routes!(list_conversations))
        .routes(routes!(get_conversation, update_conversation))
        .routes(routes!(conversation_messages))
        .routes(routes!(mark_read))
        .routes(routes!(unread_count))
        .layer(restyle_errors!(ErrorStyle::Nest))
}

/// The document's two roles.
fn role_name(role: Role) -> &'static str {
    match role {
        Role::Customer => "USER",
        Role::Agent | Role::Admin | Role::Service => "ADMIN",
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(as = support::LoginBody)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
#[schema(as = support::LoginUser)]
pub struct LoginUser {
    #[schema(value_type = super::NumberOrString)]
    pub id: Value,
    pub email: String,
    /// `USER` or `ADMIN`.
    pub role: &'static str,
    pub name: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = support::LoggedIn)]
pub struct LoggedIn {
    pub access_token: String,
    pub user: LoginUser,
}

#[utoipa::path(post, path = "/auth/login", tag = "support (seed 004)", request_body = LoginBody,
    responses((status = 201, body = LoggedIn), (status = 401), (status = 429)))]
async fn login(
    State(state): State<AppState>,
    crate::guards::ClientIp(ip): crate::guards::ClientIp,
    ApiJson(b): ApiJson<LoginBody>,
) -> ApiResult<(StatusCode, ApiJson<LoggedIn>)> {
    let account = accounts::login(&state, ip, &b.email, &b.password)
        .await?
        .ok_or_else(|| ApiError::unauthenticated("invalid_credentials", "Invalid credentials"))?;
    let id = account.id.to_string();
    let token = state.auth.keys.issue(
        &id,
        account.role,
        account.business_id.as_ref().map(|b| b.as_str()),
        state.login_ttl,
    );
    Ok((
        StatusCode::CREATED,
        ApiJson(LoggedIn {
            access_token: token,
            user: LoginUser {
                id: account.id.into(),
                email: account.email.as_str().to_owned(),
                role: role_name(account.role),
                name: account.name,
            },
        }),
    ))
}

#[derive(Serialize, ToSchema)]
#[schema(as = support::ChatMessage)]
#[serde(rename_all = "camelCase")]
pub struct ChatMessage {
    pub id: String,
    pub conversation_id: i64,
    pub session_id: String,
    pub seq: i64,
    #[schema(value_type = super::NumberOrString)]
    pub sender_id: Value,
    /// `customer`, `agent`, `assistant` or `system`.
    pub sender_type: &'static str,
    pub content: String,
    /// Read by the other side.
    pub is_read: bool,
    pub created_at: DateTime<Utc>,
}

/// A message as the document shows it; `is_read` when someone other than its sender has read
/// up to it.
fn chat_message(s: &Session, m: &Message, cursors: &[(Party, i64)]) -> ChatMessage {
    ChatMessage {
        id: m.id.to_string(),
        conversation_id: s.number,
        session_id: s.id.to_string(),
        seq: m.seq,
        sender_id: crate::wire::ids::party_id(&m.sender),
        sender_type: m.sender_type.as_str(),
        content: m.content.clone(),
        is_read: m.is_read(cursors),
        created_at: m.created_at,
    }
}

#[derive(Deserialize, ToSchema)]
#[schema(as = support::SendBody)]
#[serde(rename_all = "camelCase")]
pub struct SendBody {
    /// Leave out for the first message: a conversation is started (or the open one reused).
    pub conversation_id: Option<i64>,
    pub content: String,
    /// Admins starting a conversation with a user.
    #[schema(value_type = Option<super::NumberOrString>)]
    pub user_id: Option<Value>,
}

#[utoipa::path(post, path = "/chat/messages", tag = "support (seed 004)", request_body = SendBody,
    responses((status = 201, body = ChatMessage), (status = 400), (status = 403), (status = 404)))]
async fn send_message(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<SendBody>,
) -> ApiResult<(StatusCode, ApiJson<ChatMessage>)> {
    let p = state.auth.require(&headers).await?;
    let req = PostMessage {
        to: To::of_send(&p, b.conversation_id.map(To::Number), b.user_id.as_ref())
            .map_err(|e| ApiError::bad_request(e.code, e.message))?,
        content: b.content,
        client_msg_id: None,
        session_type: Some("support".into()),
        attachment_ids: Vec::new(),
    };
    let (s, m, _) = state.messages.post_message(&p, req).await?;
    Ok((StatusCode::CREATED, ApiJson(chat_message(&s, &m, &[]))))
}

#[derive(Serialize, ToSchema)]
#[schema(as = support::Conversation)]
#[serde(rename_all = "camelCase")]
pub struct Conversation {
    pub id: i64,
    pub session_id: String,
    #[schema(value_type = super::NumberOrString)]
    pub user_id: Value,
    /// `ACTIVE` or `CLOSED`.
    pub status: &'static str,
    pub last_message_at: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Messages from others the caller has not read.
    pub unread_count: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<ChatMessage>>,
}

fn conversation(s: &Session, unread: i64, messages: Option<Vec<ChatMessage>>) -> Conversation {
    Conversation {
        id: s.number,
        session_id: s.id.to_string(),
        user_id: crate::wire::ids::party_id(&s.owner),
        status: if s.status == SessionStatus::Closed {
            "CLOSED"
        } else {
            "ACTIVE"
        },
        last_message_at: s.last_message_at,
        created_at: s.created_at,
        updated_at: s.updated_at,
        unread_count: unread,
        messages,
    }
}

/// The caller's unread count in each of these conversations, by number.
async fn unread_by_session(
    state: &AppState,
    p: &Principal,
    sessions: &[Session],
) -> ApiResult<HashMap<i64, i64>> {
    Ok(state
        .messages
        .unread_in(p, sessions)
        .await?
        .into_iter()
        .map(|u| (u.number, u.unread))
        .collect())
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ConversationQuery {
    /// `ACTIVE` or `CLOSED`.
    pub status: Option<String>,
    /// Default 50, at most 200.
    pub limit: Option<u32>,
}

#[utoipa::path(get, path = "/chat/conversations", tag = "support (seed 004)", params(ConversationQuery),
    responses((status = 200, body = [Conversation]), (status = 400)))]
async fn list_conversations(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<ConversationQuery>,
) -> ApiResult<ApiJson<Vec<Conversation>>> {
    let p = state.auth.require(&headers).await?;
    let mut req = ListSessions {
        limit: q.limit,
        ..ListSessions::default()
    };
    match q.status.as_deref().map(str::to_ascii_uppercase).as_deref() {
        None => {}
        Some("ACTIVE") => req.open_only = true,
        Some("CLOSED") => req.status = Some("closed".into()),
        Some(_) => {
            return Err(ApiError::bad_request(
                "invalid_status",
                "status must be ACTIVE or CLOSED",
            ))
        }
    }
    let sessions = state.sessions.list_sessions(&p, req).await?.sessions;
    let unread = unread_by_session(&state, &p, &sessions).await?;
    Ok(ApiJson(
        sessions
            .iter()
            .map(|s| conversation(s, unread.get(&s.number).copied().unwrap_or(0), None))
            .collect(),
    ))
}

/// The caller, and the conversation `id` (a number) if they may see it.
async fn caller_and_conversation(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
) -> ApiResult<(Principal, Session)> {
    let p = state.auth.require(headers).await?;
    let s = state
        .sessions
        .get_session_by_number(&p, number(id)?)
        .await?;
    Ok((p, s))
}

fn number(id: &str) -> ApiResult<i64> {
    id.parse()
        .map_err(|_| ApiError::bad_request("invalid_id", "conversation id must be a number"))
}

async fn messages_of(state: &AppState, p: &Principal, s: &Session) -> ApiResult<Vec<ChatMessage>> {
    let messages = state
        .messages
        .list_messages(
            p,
            s.id,
            MessageQuery {
                limit: Some(200),
                ..MessageQuery::default()
            },
        )
        .await?;
    let cursors = state.messages.read_cursors(s).await?;
    Ok(messages
        .iter()
        .map(|m| chat_message(s, m, &cursors))
        .collect())
}

/// One conversation with its messages.
#[utoipa::path(get, path = "/chat/conversations/{id}", tag = "support (seed 004)",
    params(("id" = i64, Path)), responses((status = 200, body = Conversation), (status = 404)))]
async fn get_conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Conversation>> {
    let (p, s) = caller_and_conversation(&state, &headers, &id).await?;
    let messages = messages_of(&state, &p, &s).await?;
    let unread = unread_by_session(&state, &p, std::slice::from_ref(&s)).await?;
    Ok(ApiJson(conversation(
        &s,
        unread.get(&s.number).copied().unwrap_or(0),
        Some(messages),
    )))
}

#[utoipa::path(get, path = "/chat/conversations/{id}/messages", tag = "support (seed 004)",
    params(("id" = i64, Path)), responses((status = 200, body = [ChatMessage]), (status = 404)))]
async fn conversation_messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<ApiJson<Vec<ChatMessage>>> {
    let (p, s) = caller_and_conversation(&state, &headers, &id).await?;
    Ok(ApiJson(messages_of(&state, &p, &s).await?))
}

#[derive(Serialize, ToSchema)]
#[schema(as = support::ReadDone)]
#[serde(rename_all = "camelCase")]
pub struct ReadDone {
    pub success: bool,
    pub conversation_id: i64,
    pub last_read_seq: i64,
    pub unread_count: i64,
}

/// Mark every message of the conversation as read by the caller.
#[utoipa::path(post, path = "/chat/conversations/{id}/read", tag = "support (seed 004)",
    params(("id" = i64, Path)), responses((status = 201, body = ReadDone), (status = 404)))]
async fn mark_read(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<(StatusCode, ApiJson<ReadDone>)> {
    let (p, s) = caller_and_conversation(&state, &headers, &id).await?;
    let r = state.messages.mark_read(&p, s.id, s.last_seq).await?;
    Ok((
        StatusCode::CREATED,
        ApiJson(ReadDone {
            success: true,
            conversation_id: s.number,
            last_read_seq: r.last_read_seq,
            unread_count: r.unread,
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = support::UpdateBody)]
pub struct UpdateBody {
    /// `ACTIVE` or `CLOSED`.
    pub status: String,
}

/// Change a conversation's status (admins only).
#[utoipa::path(patch, path = "/chat/conversations/{id}", tag = "support (seed 004)", params(("id" = i64, Path)),
    request_body = UpdateBody, responses((status = 200, body = Conversation), (status = 403), (status = 404)))]
async fn update_conversation(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<UpdateBody>,
) -> ApiResult<ApiJson<Conversation>> {
    let (p, s) = caller_and_conversation(&state, &headers, &id).await?;
    let status = match b.status.to_ascii_uppercase().as_str() {
        "CLOSED" => "closed",
        "ACTIVE" => "active",
        _ => {
            return Err(ApiError::bad_request(
                "invalid_status",
                "status must be ACTIVE or CLOSED",
            ))
        }
    };
    let req = UpdateSession {
        status: Some(status.into()),
        ..UpdateSession::default()
    };
    let s = state.sessions.update_session(&p, s.id, req).await?;
    let unread = unread_by_session(&state, &p, std::slice::from_ref(&s)).await?;
    Ok(ApiJson(conversation(
        &s,
        unread.get(&s.number).copied().unwrap_or(0),
        None,
    )))
}

#[derive(Serialize, ToSchema)]
#[schema(as = support::UnreadCount)]
#[serde(rename_all = "camelCase")]
pub struct UnreadCount {
    pub count: i64,
    pub unread_count: i64,
}

#[utoipa::path(get, path = "/chat/unread-count", tag = "support (seed 004)", responses((status = 200, body = UnreadCount)))]
async fn unread_count(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> ApiResult<ApiJson<UnreadCount>> {
    let p = state.auth.require(&headers).await?;
    let total = state.messages.unread(&p).await?.total;
    Ok(ApiJson(UnreadCount {
        count: total,
        unread_count: total,
    }))
}
