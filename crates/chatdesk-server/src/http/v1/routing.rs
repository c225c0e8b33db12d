//! Routing by hand and per-tenant settings: assign, transfer, unassign, reopen, queue place.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiQuery, JsonOrEmpty, SessionPath};
use crate::state::AppState;
use crate::wire::views::{named_session, SessionView};
use axum::extract::State;
use chatdesk_core::store::TenantSettings;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_settings, put_settings))
        .routes(routes!(assign))
        .routes(routes!(unassign))
        .routes(routes!(reopen))
        .routes(routes!(queue))
}

#[derive(Serialize, ToSchema)]
pub struct SettingsView {
    /// `auto`: new and waiting sessions go to the least-loaded online agent under its cap;
    /// `manual`: agents take sessions (by replying, or by assignment).
    pub routing: &'static str,
    pub allow_reopen: bool,
    /// Sessions idle longer than this are closed by the job; null: the server's default.
    pub idle_timeout_secs: Option<i64>,
    /// The presence an agent has the first time it connects, before it chooses: `online`
    /// (the default: routed sessions at once) or `away`.
    pub initial_presence: &'static str,
}

impl From<TenantSettings> for SettingsView {
    fn from(s: TenantSettings) -> Self {
        Self {
            routing: if s.auto_routing { "auto" } else { "manual" },
            allow_reopen: s.allow_reopen,
            idle_timeout_secs: s.idle_timeout_secs,
            initial_presence: s.initial_presence.as_str(),
        }
    }
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    pub business_id: Option<String>,
}

#[utoipa::path(get, path = "/v1/tenant/settings", tag = "agents", params(TenantQuery),
    responses((status = 200, body = SettingsView), (status = 403, body = ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn get_settings(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<ApiJson<SettingsView>> {
    Ok(ApiJson(
        state
            .routing
            .tenant_settings(&p, q.business_id.as_deref())
            .await?
            .into(),
    ))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct SettingsBody {
    /// `auto` or `manual`.
    pub routing: Option<String>,
    pub allow_reopen: Option<bool>,
    /// Seconds (1 to 30 days); `null` returns to the server's default.
    #[serde(default, deserialize_with = "super::double_option")]
    pub idle_timeout_secs: Option<Option<i64>>,
    /// `online` or `away`: what a new agent starts as.
    pub initial_presence: Option<String>,
    pub business_id: Option<String>,
}

/// Change how the tenant routes and whether closed sessions may be reopened (admins, services).
#[utoipa::path(put, path = "/v1/tenant/settings", tag = "agents", request_body = SettingsBody,
    responses((status = 200, body = SettingsView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn put_settings(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<SettingsBody>,
) -> ApiResult<ApiJson<SettingsView>> {
    let s = state
        .routing
        .set_tenant_settings(
            &p,
            b.business_id.as_deref(),
            b.routing.as_deref(),
            b.allow_reopen,
            b.idle_timeout_secs,
            b.initial_presence.as_deref(),
        )
        .await?;
    Ok(ApiJson(s.into()))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// Give the session to this agent (it becomes active).
    pub agent_id: Option<String>,
    /// Move the session to this department (without an agent, it waits in that queue).
    pub department_id: Option<String>,
}

/// Assign or transfer a session (staff).
#[utoipa::path(post, path = "/v1/sessions/{id}/assign", tag = "sessions", params(("id" = String, Path)), request_body = AssignBody,
    responses((status = 200, body = SessionView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn assign(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<AssignBody>,
) -> ApiResult<ApiJson<SessionView>> {
    let s = state
        .routing
        .assign(&p, id, b.agent_id.as_deref(), b.department_id.as_deref())
        .await?;
    Ok(ApiJson(named_session(&state, &s).await?))
}

/// Take the agent off a session; it waits again (staff).
#[utoipa::path(post, path = "/v1/sessions/{id}/unassign", tag = "sessions", params(("id" = String, Path)),
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn unassign(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    JsonOrEmpty(_): JsonOrEmpty<serde_json::Value>,
) -> ApiResult<ApiJson<SessionView>> {
    let s = state.routing.unassign(&p, id).await?;
    Ok(ApiJson(named_session(&state, &s).await?))
}

/// Reopen a closed session, where the tenant allows it.
#[utoipa::path(post, path = "/v1/sessions/{id}/reopen", tag = "sessions", params(("id" = String, Path)),
    responses((status = 200, body = SessionView), (status = 409, body = ErrorBody)), security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn reopen(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    JsonOrEmpty(_): JsonOrEmpty<serde_json::Value>,
) -> ApiResult<ApiJson<SessionView>> {
    let s = state.routing.reopen(&p, id).await?;
    Ok(ApiJson(named_session(&state, &s).await?))
}

#[derive(Serialize, ToSchema)]
pub struct QueueView {
    /// `waiting`, `active` or `closed`.
    pub status: &'static str,
    /// Place in the queue (1 = next) while waiting, else null.
    pub position: Option<i64>,
}

/// Where a waiting session stands in its queue (also pushed as `queuePosition` events).
#[utoipa::path(get, path = "/v1/sessions/{id}/queue", tag = "sessions", params(("id" = String, Path)),
    responses((status = 200, body = QueueView), (status = 404, body = ErrorBody)), security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn queue(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<QueueView>> {
    let (s, position) = state.routing.queue_position(&p, id).await?;
    Ok(ApiJson(QueueView {
        status: s.status.as_str(),
        position,
    }))
}
