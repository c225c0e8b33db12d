//! `/v1/departments` and `/v1/agents`: admins organise agents into departments and set their
//! caps; agents say whether they are online, away or offline.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::domain::{Agent, Department};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create_department, list_departments))
        .routes(routes!(rename_department, delete_department))
        .routes(routes!(add_member, remove_member))
        .routes(routes!(list_agents))
        .routes(routes!(set_cap))
        .routes(routes!(set_presence))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    /// Unscoped admins name the tenant; everyone else works in their own.
    pub business_id: Option<String>,
}

#[derive(Serialize, ToSchema)]
pub struct DepartmentView {
    pub id: String,
    pub business_id: String,
    pub name: String,
    pub agents: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&Department> for DepartmentView {
    fn from(d: &Department) -> Self {
        Self {
            id: d.id.to_string(),
            business_id: d.business_id.to_string(),
            name: d.name.to_string(),
            agents: d.agents.iter().map(ToString::to_string).collect(),
            created_at: d.created_at,
            updated_at: d.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct AgentView {
    pub agent_id: String,
    pub business_id: String,
    /// What others see: `offline` without an open connection, else the agent's choice.
    pub presence: &'static str,
    /// What the agent chose.
    pub chosen_presence: &'static str,
    pub connections: i64,
    pub max_concurrent: i64,
    /// Open sessions assigned to the agent.
    pub active_sessions: i64,
    pub updated_at: DateTime<Utc>,
}

impl From<&Agent> for AgentView {
    fn from(a: &Agent) -> Self {
        Self {
            agent_id: a.agent_id.to_string(),
            business_id: a.business_id.to_string(),
            presence: a.effective_presence().as_str(),
            chosen_presence: a.presence.as_str(),
            connections: a.connections,
            max_concurrent: a.max_concurrent,
            active_sessions: a.active_sessions,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NameBody {
    pub name: String,
    pub business_id: Option<String>,
}

/// Create a department (admins and services).
#[utoipa::path(post, path = "/v1/departments", tag = "agents", request_body = NameBody,
    responses((status = 201, body = DepartmentView), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn create_department(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<NameBody>,
) -> ApiResult<(StatusCode, ApiJson<DepartmentView>)> {
    let d = state
        .directory
        .create_department(&p, b.business_id.as_deref(), &b.name)
        .await?;
    Ok((StatusCode::CREATED, ApiJson((&d).into())))
}

/// The tenant's departments and their agents (staff).
#[utoipa::path(get, path = "/v1/departments", tag = "agents", params(TenantQuery),
    responses((status = 200, body = [DepartmentView]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn list_departments(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<ApiJson<Vec<DepartmentView>>> {
    let ds = state
        .directory
        .departments(&p, q.business_id.as_deref())
        .await?;
    Ok(ApiJson(ds.iter().map(Into::into).collect()))
}

#[utoipa::path(patch, path = "/v1/departments/{id}", tag = "agents", params(("id" = String, Path)), request_body = NameBody,
    responses((status = 200, body = DepartmentView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn rename_department(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<NameBody>,
) -> ApiResult<ApiJson<DepartmentView>> {
    let d = state
        .directory
        .rename_department(&p, b.business_id.as_deref(), &id, &b.name)
        .await?;
    Ok(ApiJson((&d).into()))
}

#[utoipa::path(delete, path = "/v1/departments/{id}", tag = "agents", params(("id" = String, Path), TenantQuery),
    responses((status = 204), (status = 404, body = ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn delete_department(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<StatusCode> {
    state
        .directory
        .delete_department(&p, q.business_id.as_deref(), &id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(put, path = "/v1/departments/{id}/agents/{agent_id}", tag = "agents",
    params(("id" = String, Path), ("agent_id" = String, Path), TenantQuery),
    responses((status = 200, body = DepartmentView), (status = 404, body = ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn add_member(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, agent)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<ApiJson<DepartmentView>> {
    let d = state
        .directory
        .set_department_member(&p, q.business_id.as_deref(), &id, &agent, true)
        .await?;
    Ok(ApiJson((&d).into()))
}

#[utoipa::path(delete, path = "/v1/departments/{id}/agents/{agent_id}", tag = "agents",
    params(("id" = String, Path), ("agent_id" = String, Path), TenantQuery),
    responses((status = 200, body = DepartmentView), (status = 404, body = ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn remove_member(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath((id, agent)): ApiPath<(String, String)>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<ApiJson<DepartmentView>> {
    let d = state
        .directory
        .set_department_member(&p, q.business_id.as_deref(), &id, &agent, false)
        .await?;
    Ok(ApiJson((&d).into()))
}

/// The tenant's agents: presence, cap and current load (staff).
#[utoipa::path(get, path = "/v1/agents", tag = "agents", params(TenantQuery),
    responses((status = 200, body = [AgentView]), (status = 403, body = ErrorBody)), security(("bearer" = []), ("api_key" = [])))]
async fn list_agents(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<ApiJson<Vec<AgentView>>> {
    let agents = state.directory.agents(&p, q.business_id.as_deref()).await?;
    Ok(ApiJson(agents.iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CapBody {
    /// 0–100 chats at once; 0: routing gives this agent none by itself (it still takes
    /// sessions by hand).
    pub max_concurrent: i64,
}

/// Set how many chats an agent takes at once (admins and services).
#[utoipa::path(put, path = "/v1/agents/{agent_id}", tag = "agents", params(("agent_id" = String, Path), TenantQuery),
    request_body = CapBody, responses((status = 200, body = AgentView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn set_cap(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(agent): ApiPath<String>,
    ApiQuery(q): ApiQuery<TenantQuery>,
    ApiJson(b): ApiJson<CapBody>,
) -> ApiResult<ApiJson<AgentView>> {
    let a = state
        .directory
        .set_agent_cap(&p, q.business_id.as_deref(), &agent, b.max_concurrent)
        .await?;
    Ok(ApiJson((&a).into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PresenceBody {
    /// `online`, `away` or `offline`.
    pub status: String,
}

/// An agent sets its own presence.
#[utoipa::path(put, path = "/v1/agents/me/presence", tag = "agents", request_body = PresenceBody,
    responses((status = 200, body = AgentView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn set_presence(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<PresenceBody>,
) -> ApiResult<ApiJson<AgentView>> {
    let a = state.directory.set_presence(&p, &b.status).await?;
    Ok(ApiJson((&a).into()))
}
