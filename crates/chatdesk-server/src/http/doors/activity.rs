//! Seed 003, session activity: start, update, end, status, history, cleanup, at the document's
//! paths with their trailing slashes. The caller is whoever its credential says (JWT or
//! `X-Visitor-Id`); the document's anonymous `demo_user` exists only in `--dev`.

use super::style::{restyle_errors, ErrorStyle};
use crate::error::{ApiError, ApiResult};
use crate::http::{ApiJson, ApiQuery, JsonOrEmpty};
use crate::state::AppState;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use chatdesk_core::analytics;
use chatdesk_core::domain::{Party, Session, SessionId};
use chatdesk_core::identity::Principal;
use chatdesk_core::service::{ListSessions, OpenSession};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::time::Duration;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(start))
        .routes(routes!(update))
        .routes(routes!(end))
        .routes(routes!(status))
        .routes(routes!(history))
        .routes(routes!(cleanup))
        .layer(restyle_errors!(ErrorStyle::Django))
}

fn user_name(p: &Principal) -> String {
    match &p.party {
        Party::User(u) => u.to_string(),
        Party::Visitor(v) => v.to_string(),
    }
}

/// Minutes from start to end (or to now for an open session), to two decimals.
fn duration_minutes(s: &Session) -> f64 {
    round2(analytics::duration_secs(s, Utc::now()) / 60.0)
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

fn required<'a>(v: &'a Option<String>, field: &str) -> ApiResult<&'a str> {
    v.as_deref()
        .filter(|s| !s.is_empty())
        .ok_or_else(|| ApiError::bad_request("missing_field", format!("{field} is required")))
}

#[derive(Serialize, ToSchema)]
#[schema(as = activity::Started)]
pub struct Started {
    pub session_id: String,
    pub message: &'static str,
    pub started_at: DateTime<Utc>,
    pub user: String,
}

/// Start a session, or refresh the caller's active one.
#[utoipa::path(post, path = "/api/chat/sessions/start/", tag = "activity (seed 003)",
    responses((status = 201, body = Started), (status = 200, description = "An active session was refreshed", body = Started)))]
async fn start(
    State(state): State<AppState>,
    crate::guards::ClientIp(ip): crate::guards::ClientIp,
    headers: HeaderMap,
    JsonOrEmpty(_): JsonOrEmpty<serde_json::Value>,
) -> ApiResult<(StatusCode, ApiJson<Started>)> {
    let p = state.auth.require(&headers).await?;
    let (s, is_new) = state
        .guards
        .open_session(ip, state.sessions.open_session(&p, OpenSession::default()))
        .await?;
    let (status, message) = if is_new {
        (StatusCode::CREATED, "New session started")
    } else {
        (StatusCode::OK, "Existing session refreshed")
    };
    Ok((
        status,
        ApiJson(Started {
            session_id: s.id.to_string(),
            message,
            started_at: s.started_at,
            user: user_name(&p),
        }),
    ))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = activity::UpdateBody)]
pub struct UpdateBody {
    pub session_id: Option<String>,
    /// `message_sent`, `conversation_started` or `response_received`.
    pub activity_type: Option<String>,
    /// Seconds, for `response_received`.
    pub response_time: Option<f64>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = activity::Updated)]
pub struct Updated {
    pub session_id: String,
    pub message: String,
    pub total_messages_sent: i64,
    pub total_conversations: i64,
    pub average_response_time: f64,
}

/// Count an activity on the session.
#[utoipa::path(post, path = "/api/chat/sessions/update/", tag = "activity (seed 003)", request_body = UpdateBody,
    responses((status = 200, body = Updated), (status = 400), (status = 404), (status = 409)))]
async fn update(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<UpdateBody>,
) -> ApiResult<ApiJson<Updated>> {
    let p = state.auth.require(&headers).await?;
    let id = SessionId::parse(required(&b.session_id, "session_id")?)?;
    let kind = required(&b.activity_type, "activity_type")?;
    let s = state
        .activity
        .record_activity(&p, id, kind, b.response_time)
        .await?;
    Ok(ApiJson(Updated {
        session_id: s.id.to_string(),
        message: format!("Session updated - {kind}"),
        total_messages_sent: s.activity.messages_sent,
        total_conversations: s.activity.conversations,
        average_response_time: round2(s.activity.average_response_secs()),
    }))
}

#[derive(Deserialize, ToSchema)]
#[schema(as = activity::EndBody)]
pub struct EndBody {
    pub session_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
#[schema(as = activity::Ended)]
pub struct Ended {
    pub session_id: String,
    pub message: &'static str,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_minutes: f64,
    pub total_messages_sent: i64,
    pub total_conversations: i64,
}

/// End the session (ending an ended session returns it unchanged).
#[utoipa::path(post, path = "/api/chat/sessions/end/", tag = "activity (seed 003)", request_body = EndBody,
    responses((status = 200, body = Ended), (status = 400), (status = 404)))]
async fn end(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiJson(b): ApiJson<EndBody>,
) -> ApiResult<ApiJson<Ended>> {
    let p = state.auth.require(&headers).await?;
    let s = state
        .sessions
        .end_session(
            &p,
            SessionId::parse(required(&b.session_id, "session_id")?)?,
        )
        .await?;
    Ok(ApiJson(Ended {
        session_id: s.id.to_string(),
        message: "Session ended",
        started_at: s.started_at,
        ended_at: s.ended_at,
        duration_minutes: duration_minutes(&s),
        total_messages_sent: s.activity.messages_sent,
        total_conversations: s.activity.conversations,
    }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = activity::Status)]
pub struct Status {
    pub has_active_session: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub session_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub started_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub duration_minutes: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_messages_sent: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub total_conversations: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub average_response_time: Option<f64>,
    pub user: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<&'static str>,
}

/// Does the caller have an active session?
#[utoipa::path(get, path = "/api/chat/sessions/status/", tag = "activity (seed 003)", responses((status = 200, body = Status)))]
async fn status(State(state): State<AppState>, headers: HeaderMap) -> ApiResult<ApiJson<Status>> {
    let p = state.auth.require(&headers).await?;
    let current = state.activity.current_session(&p, &p.party).await?;
    let user = user_name(&p);
    Ok(ApiJson(match current {
        Some(s) => Status {
            has_active_session: true,
            session_id: Some(s.id.to_string()),
            started_at: Some(s.started_at),
            duration_minutes: Some(duration_minutes(&s)),
            total_messages_sent: Some(s.activity.messages_sent),
            total_conversations: Some(s.activity.conversations),
            average_response_time: Some(round2(s.activity.average_response_secs())),
            user,
            message: None,
        },
        None => Status {
            has_active_session: false,
            session_id: None,
            started_at: None,
            duration_minutes: None,
            total_messages_sent: None,
            total_conversations: None,
            average_response_time: None,
            user,
            message: Some("No active session found"),
        },
    }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = activity::HistoryEntry)]
pub struct HistoryEntry {
    pub session_id: String,
    pub started_at: DateTime<Utc>,
    pub ended_at: Option<DateTime<Utc>>,
    pub is_active: bool,
    pub duration_minutes: f64,
    pub total_messages_sent: i64,
    pub total_conversations: i64,
    pub average_response_time: f64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = activity::Summary)]
pub struct Summary {
    pub total_duration_minutes: f64,
    pub total_messages_sent: i64,
    pub total_conversations: i64,
    pub average_session_duration: f64,
}

#[derive(Serialize, ToSchema)]
#[schema(as = activity::History)]
pub struct History {
    pub user: String,
    pub total_sessions: i64,
    pub sessions: Vec<HistoryEntry>,
    /// Over the sessions listed.
    pub summary: Summary,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct HistoryQuery {
    /// Most recent sessions to list and summarise (default 200, at most 200).
    pub limit: Option<u32>,
}

/// The caller's sessions with their counters, and a summary.
#[utoipa::path(get, path = "/api/chat/sessions/history/", tag = "activity (seed 003)", params(HistoryQuery),
    responses((status = 200, body = History)))]
async fn history(
    State(state): State<AppState>,
    headers: HeaderMap,
    ApiQuery(q): ApiQuery<HistoryQuery>,
) -> ApiResult<ApiJson<History>> {
    let p = state.auth.require(&headers).await?;
    let req = ListSessions {
        user_id: p.party.user_id().map(ToString::to_string),
        limit: Some(q.limit.unwrap_or(200)),
        ..ListSessions::default()
    };
    let (sessions, total) = state.sessions.list_sessions_offset(&p, req, 0).await?;
    let entries: Vec<HistoryEntry> = sessions
        .iter()
        .map(|s| HistoryEntry {
            session_id: s.id.to_string(),
            started_at: s.started_at,
            ended_at: s.ended_at,
            is_active: s.status.is_open(),
            duration_minutes: duration_minutes(s),
            total_messages_sent: s.activity.messages_sent,
            total_conversations: s.activity.conversations,
            average_response_time: round2(s.activity.average_response_secs()),
        })
        .collect();
    // The summary is the analytics module's, over the same sessions.
    let totals = analytics::activity_summary(&sessions, Utc::now());
    let summary = Summary {
        total_duration_minutes: round2(totals.total_duration_secs / 60.0),
        total_messages_sent: totals.total_messages_sent,
        total_conversations: totals.total_conversations,
        average_session_duration: round2(totals.average_session_secs / 60.0),
    };
    Ok(ApiJson(History {
        user: user_name(&p),
        total_sessions: total,
        sessions: entries,
        summary,
    }))
}

#[derive(Serialize, ToSchema)]
#[schema(as = activity::Cleaned)]
pub struct Cleaned {
    pub message: String,
    pub cleaned_sessions: usize,
    pub user: String,
}

/// End the caller's sessions idle for longer than the timeout (default one hour).
#[utoipa::path(post, path = "/api/chat/sessions/cleanup/", tag = "activity (seed 003)", responses((status = 200, body = Cleaned)))]
async fn cleanup(
    State(state): State<AppState>,
    headers: HeaderMap,
    JsonOrEmpty(_): JsonOrEmpty<serde_json::Value>,
) -> ApiResult<ApiJson<Cleaned>> {
    let p = state.auth.require(&headers).await?;
    let idle = Duration::from_secs(state.settings.idle_timeout_secs);
    let closed = state.activity.close_idle_sessions(&p, idle).await?;
    Ok(ApiJson(Cleaned {
        message: format!("Cleaned up {} expired sessions", closed.len()),
        cleaned_sessions: closed.len(),
        user: user_name(&p),
    }))
}
