//! `/v1/sessions`: open (resume or create), list, get, change, delete, end.

use super::double_option;
use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiQuery, JsonOrEmpty, SessionPath};
use crate::state::AppState;
use crate::wire::views::{named_session, Names, OpenedSession, SessionList, SessionView};
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::service::{ListSessions, OpenSession, UpdateSession};
use serde::Deserialize;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(open_session, list_sessions))
        .routes(routes!(get_session, update_session, delete_session))
        .routes(routes!(end_session))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct OpenSessionBody {
    /// Tenant; defaults to the credential's tenant, else `default`.
    pub business_id: Option<String>,
    pub location_id: Option<String>,
    /// Defaults to `general`.
    pub session_type: Option<String>,
    pub topic: Option<String>,
    pub title: Option<String>,
    /// `low`, `normal` (default), `high`, `urgent`.
    pub priority: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
    /// Always create a new session instead of resuming the last open one.
    #[serde(default)]
    pub force_new: bool,
    /// Open the session for this user (service and admin credentials only).
    pub user_id: Option<String>,
    /// The department whose queue the session waits in.
    pub department_id: Option<String>,
    /// Services only: the session is held by the calling service, which answers as
    /// `assistant`; it starts `active`, outside the agents' queue, until handed off
    /// (`POST /v1/sessions/{id}/handoff`).
    #[serde(default)]
    pub assistant: bool,
}

/// Resume the caller's most recently active open session in the tenant, or create one.
#[utoipa::path(post, path = "/v1/sessions", tag = "sessions",
    request_body = OpenSessionBody,
    responses(
        (status = 201, description = "Created", body = OpenedSession),
        (status = 200, description = "Resumed an open session", body = OpenedSession),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn open_session(
    State(state): State<AppState>,
    crate::guards::ClientIp(ip): crate::guards::ClientIp,
    Caller(p): Caller,
    JsonOrEmpty(b): JsonOrEmpty<OpenSessionBody>,
) -> ApiResult<(StatusCode, ApiJson<OpenedSession>)> {
    // What a resumed session leaves as it was (change it with PATCH), said in the answer.
    let describing: Vec<&'static str> = [
        ("session_type", b.session_type.is_some()),
        ("topic", b.topic.is_some()),
        ("title", b.title.is_some()),
        ("priority", b.priority.is_some()),
        ("metadata", b.metadata.is_some()),
        ("location_id", b.location_id.is_some()),
        ("department_id", b.department_id.is_some()),
    ]
    .into_iter()
    .filter_map(|(field, sent)| sent.then_some(field))
    .collect();
    let req = OpenSession {
        business_id: b.business_id,
        location_id: b.location_id,
        session_type: b.session_type,
        topic: b.topic,
        title: b.title,
        priority: b.priority,
        metadata: b.metadata,
        force_new: b.force_new,
        for_user: b.user_id,
        department_id: b.department_id,
        assistant: b.assistant,
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
    let hours = state.hours.for_session(&session).await?;
    Ok((
        status,
        ApiJson(OpenedSession {
            session: named_session(&state, &session).await?,
            is_new,
            ignored_fields: if is_new { Vec::new() } else { describing },
            outside_hours: !hours.open,
            away_message: hours.away_message,
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ListQuery {
    /// `waiting`, `active` or `closed`.
    pub status: Option<String>,
    pub business_id: Option<String>,
    pub location_id: Option<String>,
    /// Sessions owned by this user (staff only; customers see only their own).
    pub user_id: Option<String>,
    /// Sessions carrying this label (staff only).
    pub label_id: Option<String>,
    /// From a previous page's `next_cursor`.
    pub cursor: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// List sessions, most recently active first: the caller's own, or the tenant's for staff.
#[utoipa::path(get, path = "/v1/sessions", tag = "sessions", params(ListQuery),
    responses((status = 200, body = SessionList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn list_sessions(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<ListQuery>,
) -> ApiResult<ApiJson<SessionList>> {
    let req = ListSessions {
        status: q.status,
        business_id: q.business_id,
        location_id: q.location_id,
        user_id: q.user_id,
        label_id: q.label_id,
        open_only: false,
        cursor: q.cursor,
        limit: q.limit,
    };
    let page = state.sessions.list_sessions(&p, req).await?;
    let ids: Vec<_> = page.sessions.iter().map(|s| s.id).collect();
    let contacts = state.contacts.contacts(&ids).await?;
    let contact_of = |s: &chatdesk_core::domain::Session| {
        contacts.iter().find(|(id, _)| *id == s.id).map(|(_, c)| c)
    };
    let names = Names::of_agents(&state, &page.sessions.iter().collect::<Vec<_>>()).await?;
    Ok(ApiJson(SessionList {
        sessions: page
            .sessions
            .iter()
            .map(|s| names.session(s).with_contact(contact_of(s)))
            .collect(),
        next_cursor: page.next_cursor,
    }))
}

#[utoipa::path(get, path = "/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = SessionView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn get_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<SessionView>> {
    let (s, contact) = state.sessions.get_session_with_contact(&p, id).await?;
    Ok(ApiJson(
        named_session(&state, &s)
            .await?
            .with_contact(contact.as_ref()),
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct UpdateSessionBody {
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    pub topic: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    pub title: Option<Option<String>>,
    /// `null` clears it.
    #[serde(default, deserialize_with = "double_option")]
    pub location_id: Option<Option<String>>,
    pub priority: Option<String>,
    /// Agents and admins only.
    pub status: Option<String>,
    /// Replaces the whole object.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<serde_json::Value>,
}

/// Change a session. Status changes follow waiting → active → closed and need staff.
#[utoipa::path(patch, path = "/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")),
    request_body = UpdateSessionBody,
    responses((status = 200, body = SessionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn update_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<UpdateSessionBody>,
) -> ApiResult<ApiJson<SessionView>> {
    let req = UpdateSession {
        topic: b.topic,
        title: b.title,
        location_id: b.location_id,
        priority: b.priority,
        status: b.status,
        metadata: b.metadata,
    };
    let s = state.sessions.update_session(&p, id, req).await?;
    Ok(ApiJson(named_session(&state, &s).await?))
}

/// Soft-delete a session.
#[utoipa::path(delete, path = "/v1/sessions/{id}", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn delete_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<StatusCode> {
    state.sessions.delete_session(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Close a session (idempotent).
#[utoipa::path(post, path = "/v1/sessions/{id}/end", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = SessionView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn end_session(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<SessionView>> {
    let s = state.sessions.end_session(&p, id).await?;
    Ok(ApiJson(named_session(&state, &s).await?))
}
