//! `GET /v1/stats` (staff) and `GET /v1/sessions/{id}/stats`.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiQuery, SessionPath};
use crate::state::AppState;
use axum::extract::State;
use chatdesk_core::analytics::{HourCount, SessionStats, Summary};
use chatdesk_core::service::StatsQuery;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(stats))
        .routes(routes!(session_stats))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct StatsParams {
    /// RFC 3339; default a week before `to`.
    pub from: Option<String>,
    /// RFC 3339; default now.
    pub to: Option<String>,
    pub business_id: Option<String>,
    pub agent_id: Option<String>,
    pub department_id: Option<String>,
    /// Only sessions carrying this label.
    pub label_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct StatsView {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// Over sessions started in the range.
    #[schema(value_type = Object)]
    pub overall: Summary,
    #[schema(value_type = Vec<Object>)]
    pub busiest_hours: Vec<HourCount>,
    #[schema(value_type = Object)]
    pub by_agent: BTreeMap<String, Summary>,
    #[schema(value_type = Object)]
    pub by_department: BTreeMap<String, Summary>,
    /// More sessions started in the range than one report reads (10,000): narrow it.
    pub truncated: bool,
}

/// Sessions, messages, first response (average and median), resolution and busiest hours
/// for the tenant, per agent and per department. Agents, admins and services only.
#[utoipa::path(get, path = "/v1/stats", tag = "analytics", params(StatsParams),
    responses((status = 200, body = StatsView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn stats(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<StatsParams>,
) -> ApiResult<ApiJson<StatsView>> {
    let q = StatsQuery {
        from: q.from,
        to: q.to,
        business_id: q.business_id,
        agent_id: q.agent_id,
        department_id: q.department_id,
        label_id: q.label_id,
    };
    let r = state.stats.stats(&p, q).await?;
    Ok(ApiJson(StatsView {
        from: r.from,
        to: r.to,
        overall: r.report.overall,
        busiest_hours: r.report.busiest_hours,
        by_agent: r.report.by_agent,
        by_department: r.report.by_department,
        truncated: r.truncated,
    }))
}

/// First response, average response, resolution time and message counts of one session.
#[utoipa::path(get, path = "/v1/sessions/{id}/stats", tag = "analytics",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = Object), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn session_stats(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<SessionStats>> {
    Ok(ApiJson(state.stats.session_stats(&p, id).await?))
}
