//! Labels (`/v1/labels`) and a session's labels (`/v1/sessions/{id}/labels`).

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, SessionPath};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::domain::Label;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list_labels, create_label))
        .routes(routes!(delete_label))
        .routes(routes!(session_labels, set_session_labels))
}

#[derive(Serialize, ToSchema)]
pub struct LabelView {
    pub id: String,
    pub business_id: String,
    pub name: String,
    pub created_at: DateTime<Utc>,
}

impl From<&Label> for LabelView {
    fn from(l: &Label) -> Self {
        Self {
            id: l.id.to_string(),
            business_id: l.business_id.to_string(),
            name: l.name.as_str().to_owned(),
            created_at: l.created_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub struct LabelList {
    pub labels: Vec<LabelView>,
}

fn list(labels: &[Label]) -> ApiJson<LabelList> {
    ApiJson(LabelList {
        labels: labels.iter().map(LabelView::from).collect(),
    })
}

/// The caller's tenant's labels, by name (staff).
#[utoipa::path(get, path = "/v1/labels", tag = "sessions",
    responses((status = 200, body = LabelList), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn list_labels(
    State(state): State<AppState>,
    Caller(p): Caller,
) -> ApiResult<ApiJson<LabelList>> {
    Ok(list(&state.labels.list(&p).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewLabel {
    /// 1 to 40 characters, unique in the tenant whatever the case.
    pub name: String,
    /// Unscoped admins: the tenant (default: your own).
    pub business_id: Option<String>,
}

/// Add a label (admins and services).
#[utoipa::path(post, path = "/v1/labels", tag = "sessions", request_body = NewLabel,
    responses((status = 201, body = LabelView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 409, description = "`label_exists`", body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn create_label(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<NewLabel>,
) -> ApiResult<(StatusCode, ApiJson<LabelView>)> {
    let label = state
        .labels
        .create(&p, b.business_id.as_deref(), &b.name)
        .await?;
    Ok((StatusCode::CREATED, ApiJson((&label).into())))
}

/// Remove a label, from every session too (admins and services).
#[utoipa::path(delete, path = "/v1/labels/{id}", tag = "sessions", params(("id" = String, Path)),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn delete_label(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<String>,
) -> ApiResult<StatusCode> {
    state.labels.delete(&p, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// A session's labels (staff).
#[utoipa::path(get, path = "/v1/sessions/{id}/labels", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = LabelList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn session_labels(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<LabelList>> {
    Ok(list(&state.labels.of(&p, id).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SessionLabels {
    /// The labels the session carries from now on (at most 20).
    pub label_ids: Vec<String>,
}

/// Set a session's labels (staff); filter lists, search and stats with `label_id`.
#[utoipa::path(put, path = "/v1/sessions/{id}/labels", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")), request_body = SessionLabels,
    responses((status = 200, body = LabelList), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn set_session_labels(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<SessionLabels>,
) -> ApiResult<ApiJson<LabelList>> {
    Ok(list(&state.labels.set(&p, id, &b.label_ids).await?))
}
