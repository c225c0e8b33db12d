//! Canned responses (`/v1/canned-responses`): admins and services keep them, staff list,
//! search and render them.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::domain::{CannedResponse, SessionId};
use chatdesk_core::service::NewCanned;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_canned, create_canned))
        .routes(routes!(update_canned, delete_canned))
        .routes(routes!(render_canned))
}

#[derive(Serialize, ToSchema)]
pub struct CannedView {
    pub id: String,
    pub business_id: String,
    /// Offered only in this department's conversations; `null`: in every one.
    pub department_id: Option<String>,
    pub code: String,
    /// With placeholders: `{{contact.name}}`, `{{contact.email}}`, `{{contact.company}}`,
    /// `{{agent.name}}`, `{{session.number}}`, `{{session.topic}}`.
    pub text: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<&CannedResponse> for CannedView {
    fn from(c: &CannedResponse) -> Self {
        Self {
            id: c.id.to_string(),
            business_id: c.business_id.to_string(),
            department_id: c.department_id.clone(),
            code: c.code.as_str().to_owned(),
            text: c.text.clone(),
            created_at: c.created_at,
            updated_at: c.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct CannedList {
    pub canned_responses: Vec<CannedView>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CannedQuery {
    /// Those whose code starts with it or whose text holds it (any case).
    pub q: Option<String>,
    /// Those for this department or for every one.
    pub department_id: Option<String>,
}

/// The caller's tenant's canned responses, by code. Staff only.
#[utoipa::path(get, path = "/v1/canned-responses", tag = "canned", params(CannedQuery),
    responses((status = 200, body = CannedList), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn list_canned(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<CannedQuery>,
) -> ApiResult<ApiJson<CannedList>> {
    let found = state
        .canned
        .list(&p, q.q.as_deref(), q.department_id.as_deref())
        .await?;
    Ok(ApiJson(CannedList {
        canned_responses: found.iter().map(CannedView::from).collect(),
    }))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCannedBody {
    /// 1 to 32 of a-z, 0-9, `-`, `_`; unique in the tenant (or the department).
    pub code: String,
    /// 1 to 2,000 characters, with placeholders if you like.
    pub text: String,
    pub department_id: Option<String>,
    /// Unscoped admins: the tenant (default: your own).
    pub business_id: Option<String>,
}

/// Add a canned response. Admins and services.
#[utoipa::path(post, path = "/v1/canned-responses", tag = "canned", request_body = NewCannedBody,
    responses((status = 201, body = CannedView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, description = "`canned_code_taken`", body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn create_canned(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<NewCannedBody>,
) -> ApiResult<(StatusCode, ApiJson<CannedView>)> {
    let new = NewCanned {
        business_id: b.business_id,
        department_id: b.department_id,
        code: b.code,
        text: b.text,
    };
    let created = state.canned.create(&p, new).await?;
    Ok((StatusCode::CREATED, ApiJson((&created).into())))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CannedChange {
    pub code: Option<String>,
    pub text: Option<String>,
}

/// Change a canned response's code or text. Admins and services.
#[utoipa::path(patch, path = "/v1/canned-responses/{id}", tag = "canned",
    params(("id" = String, Path)), request_body = CannedChange,
    responses((status = 200, body = CannedView), (status = 400, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn update_canned(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<CannedChange>,
) -> ApiResult<ApiJson<CannedView>> {
    let changed = state
        .canned
        .update(&p, &id, b.code.as_deref(), b.text.as_deref())
        .await?;
    Ok(ApiJson((&changed).into()))
}

#[utoipa::path(delete, path = "/v1/canned-responses/{id}", tag = "canned",
    params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn delete_canned(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.canned.delete(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RenderBody {
    /// The conversation whose contact, agent, number and topic fill the placeholders.
    pub session_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct Rendered {
    pub text: String,
}

/// A canned response's text for one conversation, placeholders filled in. Staff only.
#[utoipa::path(post, path = "/v1/canned-responses/{id}/render", tag = "canned",
    params(("id" = String, Path)), request_body = RenderBody,
    responses((status = 200, body = Rendered), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn render_canned(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
    ApiJson(b): ApiJson<RenderBody>,
) -> ApiResult<ApiJson<Rendered>> {
    let session = SessionId::parse(&b.session_id)?;
    let text = state.canned.render(&p, &id, session).await?;
    Ok(ApiJson(Rendered { text }))
}
