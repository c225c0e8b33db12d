//! Seed 001, AI-assistant sessions: `/api/sessions` CRUD per business, location and user, and
//! the active and history look-ups. A back end calls it with an API key or service token and
//! names the user in `userId`; a user's own token works for that user; `--dev` believes a
//! `userId` sent without either, as the document's curl tests do.

use super::style::{restyle_errors, ErrorStyle};
use crate::auth::resolve::{self, Offered};
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiJson, ApiPath, ApiQuery, SessionPath};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chatdesk_core::domain::{Message, Party, Session, SessionId};
use chatdesk_core::identity::Principal;
use chatdesk_core::service::{ListSessions, MessageQuery, OpenSession, UpdateSession};
use chatdesk_core::ServiceError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const DEFAULT_LOCATION: &str = "L0100001";

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_session))
        .routes(routes!(get_session, update_session, delete_session))
        .routes(routes!(session_messages))
        .routes(routes!(business_active))
        .routes(routes!(user_active))
        .routes(routes!(user_history))
        .layer(restyle_errors!(ErrorStyle::Nest))
}

/// The caller: its own credential, else the user the call names (believed only where user
/// ids are trusted), else in `--dev` the front end (`crate::auth::resolve::ASSISTANT`).
async fn caller(
    state: &AppState,
    headers: &HeaderMap,
    named_user: Option<&str>,
) -> ApiResult<Principal> {
    let offered = Offered {
        user: named_user,
        ..Offered::default()
    };
    state
        .auth
        .resolve(headers, offered, &resolve::ASSISTANT)
        .await
}

/// The document's 404 text for a session.
fn session_error(id: SessionId) -> impl Fn(ServiceError) -> ApiError {
    move |e| match e {
        ServiceError::NotFound(_) => ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("Session {id} not found"),
        ),
        other => other.into(),
    }
}

#[derive(Serialize, ToSchema)]
#[schema(as = assistant::AssistantSession)]
#[serde(rename_all = "camelCase")]
pub struct AssistantSession {
    pub session_id: String,
    pub id: String,
    pub business_id: String,
    pub location_id: Option<String>,
    pub user_id: String,
    pub session_type: String,
    /// `waiting`, `active` or `closed`.
    pub status: &'static str,
    /// Not closed.
    pub is_active: bool,
    pub title: Option<String>,
    #[schema(value_type = Object)]
    pub metadata: Value,
    pub message_count: i64,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_activity_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
}

impl From<&Session> for AssistantSession {
    fn from(s: &Session) -> Self {
        Self {
            session_id: s.id.to_string(),
            id: s.id.to_string(),
            business_id: s.business_id.to_string(),
            location_id: s.location_id.as_ref().map(ToString::to_string),
            user_id: match &s.owner {
                Party::User(u) => u.to_string(),
                Party::Visitor(v) => crate::wire::views::public_visitor_id(v),
            },
            session_type: s.session_type.to_string(),
            status: s.status.as_str(),
            is_active: s.status.is_open(),
            title: s.title.as_ref().map(ToString::to_string),
            metadata: s.metadata.clone(),
            message_count: s.message_count,
            created_at: s.created_at,
            updated_at: s.updated_at,
            last_activity_at: s.last_activity_at,
            ended_at: s.ended_at,
        }
    }
}

fn sessions(list: &[Session]) -> Vec<AssistantSession> {
    list.iter().map(Into::into).collect()
}

#[derive(Deserialize, ToSchema)]
#[schema(as = assistant::CreateSessionDto)]
#[serde(rename_all = "camelCase")]
pub struct CreateSessionDto {
    pub business_id: String,
    pub user_id: String,
    /// Default `L0100001`.
    pub location_id: Option<String>,
    /// Default `general`.
    pub session_type: Option<String>,
    pub title: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

/// Create a new session for a user in a business.
#[utoipa::path(post, path = "/api/sessions", tag = "assistant (seed 001)", request_body = CreateSessionDto,
    responses((status = 201, body = AssistantSession)))]
async fn create_session(
    State(state): State<AppState>,
    crate::guards::ClientIp(ip): crate::guards::ClientIp,
    headers: HeaderMap,
    ApiJson(b): ApiJson<CreateSessionDto>,
) -> ApiResult<(StatusCode, ApiJson<AssistantSession>)> {
    let p = caller(&state, &headers, Some(&b.user_id)).await?;
    let req = OpenSession {
        business_id: Some(b.business_id),
        location_id: Some(b.location_id.unwrap_or_else(|| DEFAULT_LOCATION.to_owned())),
        session_type: b.session_type,
        title: b.title,
        metadata: b.metadata,
        force_new: true,
        for_user: Some(b.user_id),
        ..OpenSession::default()
    };
    let (session, _) = state
        .guards
        .open_session(ip, state.sessions.open_session(&p, req))
        .await?;
    Ok((StatusCode::CREATED, ApiJson((&session).into())))
}

#[utoipa::path(get, path = "/api/sessions/{sessionId}", tag = "assistant (seed 001)",
    params(("sessionId" = String, Path)), responses((status = 200, body = AssistantSession), (status = 404)))]
async fn get_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<AssistantSession>> {
    let p = caller(&state, &headers, None).await?;
    let s = state
        .sessions
        .get_session(&p, id)
        .await
        .map_err(session_error(id))?;
    Ok(ApiJson((&s).into()))
}

#[derive(Deserialize, ToSchema, Default)]
#[schema(as = assistant::UpdateSessionDto)]
#[serde(rename_all = "camelCase")]
pub struct UpdateSessionDto {
    pub title: Option<String>,
    pub location_id: Option<String>,
    /// `active` or `closed` (`ended` and `inactive` also close); staff only.
    pub status: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
}

#[utoipa::path(patch, path = "/api/sessions/{sessionId}", tag = "assistant (seed 001)",
    params(("sessionId" = String, Path)), request_body = UpdateSessionDto,
    responses((status = 200, body = AssistantSession), (status = 404)))]
async fn update_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<UpdateSessionDto>,
) -> ApiResult<ApiJson<AssistantSession>> {
    let p = caller(&state, &headers, None).await?;
    let status = b.status.map(|s| match s.to_ascii_lowercase().as_str() {
        "ended" | "inactive" => "closed".to_owned(),
        other => other.to_owned(),
    });
    let req = UpdateSession {
        title: b.title.map(Some),
        location_id: b.location_id.map(Some),
        status,
        metadata: b.metadata,
        ..UpdateSession::default()
    };
    let s = state
        .sessions
        .update_session(&p, id, req)
        .await
        .map_err(session_error(id))?;
    Ok(ApiJson((&s).into()))
}

#[utoipa::path(delete, path = "/api/sessions/{sessionId}", tag = "assistant (seed 001)",
    params(("sessionId" = String, Path)), responses((status = 200), (status = 404)))]
async fn delete_session(
    State(state): State<AppState>,
    headers: HeaderMap,
    SessionPath(id): SessionPath,
) -> ApiResult<StatusCode> {
    let p = caller(&state, &headers, None).await?;
    state
        .sessions
        .delete_session(&p, id)
        .await
        .map_err(session_error(id))?;
    Ok(StatusCode::OK)
}

#[derive(Serialize, ToSchema)]
#[schema(as = assistant::AssistantMessage)]
#[serde(rename_all = "camelCase")]
pub struct AssistantMessage {
    pub id: String,
    pub session_id: String,
    pub seq: i64,
    /// `user`, `assistant`, `agent` or `system`.
    pub role: &'static str,
    pub sender_id: String,
    pub content: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Message> for AssistantMessage {
    fn from(m: &Message) -> Self {
        use chatdesk_core::domain::SenderType::*;
        Self {
            id: m.id.to_string(),
            session_id: m.session_id.to_string(),
            seq: m.seq,
            role: match m.sender_type {
                Customer => "user",
                Assistant => "assistant",
                Agent => "agent",
                System => "system",
            },
            sender_id: match &m.sender {
                Party::User(u) => u.to_string(),
                Party::Visitor(v) => crate::wire::views::public_visitor_id(v),
            },
            content: m.content.clone(),
            created_at: m.created_at,
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct Paging {
    pub limit: Option<u32>,
    #[serde(rename = "afterSeq")]
    pub after_seq: Option<i64>,
}

#[utoipa::path(get, path = "/api/sessions/{sessionId}/messages", tag = "assistant (seed 001)",
    params(("sessionId" = String, Path), Paging), responses((status = 200, body = [AssistantMessage]), (status = 404)))]
async fn session_messages(
    State(state): State<AppState>,
    headers: HeaderMap,
    SessionPath(id): SessionPath,
    ApiQuery(q): ApiQuery<Paging>,
) -> ApiResult<ApiJson<Vec<AssistantMessage>>> {
    let p = caller(&state, &headers, None).await?;
    let query = MessageQuery {
        after_seq: q.after_seq,
        limit: q.limit,
        ..MessageQuery::default()
    };
    let messages = state
        .messages
        .list_messages(&p, id, query)
        .await
        .map_err(session_error(id))?;
    Ok(ApiJson(messages.iter().map(Into::into).collect()))
}

/// Open sessions of a business, most recently active first.
#[utoipa::path(get, path = "/api/sessions/business/{businessId}/active", tag = "assistant (seed 001)",
    params(("businessId" = String, Path), Paging), responses((status = 200, body = [AssistantSession])))]
async fn business_active(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath(business): ApiPath<String>,
    ApiQuery(q): ApiQuery<Paging>,
) -> ApiResult<ApiJson<Vec<AssistantSession>>> {
    let p = caller(&state, &headers, None).await?;
    let req = ListSessions {
        business_id: Some(business),
        open_only: true,
        limit: q.limit,
        ..ListSessions::default()
    };
    Ok(ApiJson(sessions(
        &state.sessions.list_sessions(&p, req).await?.sessions,
    )))
}

/// The user's most recently active open session in the business; 404 when there is none.
#[utoipa::path(get, path = "/api/sessions/business/{businessId}/user/{userId}/active", tag = "assistant (seed 001)",
    params(("businessId" = String, Path), ("userId" = String, Path)),
    responses((status = 200, body = AssistantSession), (status = 404)))]
async fn user_active(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((business, user)): ApiPath<(String, String)>,
) -> ApiResult<ApiJson<AssistantSession>> {
    let p = caller(&state, &headers, Some(&user)).await?;
    let req = ListSessions {
        business_id: Some(business.clone()),
        user_id: Some(user.clone()),
        open_only: true,
        limit: Some(1),
        ..ListSessions::default()
    };
    let found = state
        .sessions
        .list_sessions(&p, req)
        .await?
        .sessions
        .into_iter()
        .next();
    let s = found.ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("No active session found for user {user} in business {business}"),
        )
    })?;
    Ok(ApiJson((&s).into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Default 20.
    pub limit: Option<u32>,
}

/// The user's sessions in the business, open and closed, most recently active first.
#[utoipa::path(get, path = "/api/sessions/business/{businessId}/user/{userId}/history", tag = "assistant (seed 001)",
    params(("businessId" = String, Path), ("userId" = String, Path), HistoryQuery),
    responses((status = 200, body = [AssistantSession])))]
async fn user_history(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiPath((business, user)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<ApiJson<Vec<AssistantSession>>> {
    let p = caller(&state, &headers, Some(&user)).await?;
    let req = ListSessions {
        business_id: Some(business),
        user_id: Some(user),
        limit: Some(q.limit.unwrap_or(20)),
        ..ListSessions::default()
    };
    Ok(ApiJson(sessions(
        &state.sessions.list_sessions(&p, req).await?.sessions,
    )))
}
