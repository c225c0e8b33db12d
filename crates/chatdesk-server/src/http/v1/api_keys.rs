//! `/v1/api-keys`: admins list and revoke the keys of back ends and bots.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::v1::webhooks::TenantQuery;
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::store::ApiKey;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(list))
        .routes(routes!(revoke))
}

/// A key as admins see it: never its secret (only its hash is stored).
#[derive(Serialize, ToSchema)]
pub struct ApiKeyView {
    pub id: i64,
    pub name: String,
    pub business_id: String,
    pub created_at: DateTime<Utc>,
}

impl From<&ApiKey> for ApiKeyView {
    fn from(k: &ApiKey) -> Self {
        Self {
            id: k.id,
            name: k.name.clone(),
            business_id: k.business_id.to_string(),
            created_at: k.created_at,
        }
    }
}

/// Keys not revoked: a scoped admin's tenant's, an unscoped admin's every tenant's (or the
/// one it names).
#[utoipa::path(get, path = "/v1/api-keys", tag = "api keys", params(TenantQuery),
    responses((status = 200, body = [ApiKeyView]), (status = 403, body = ErrorBody)),
    security(("bearer" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<ApiJson<Vec<ApiKeyView>>> {
    let keys = state
        .directory
        .api_keys(&p, q.business_id.as_deref())
        .await?;
    Ok(ApiJson(keys.iter().map(Into::into).collect()))
}

/// Revoke a key: requests with it are refused from now on.
#[utoipa::path(delete, path = "/v1/api-keys/{id}", tag = "api keys", params(("id" = i64, Path), TenantQuery),
    responses((status = 204), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = [])))]
async fn revoke(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<StatusCode> {
    state
        .directory
        .revoke_api_key(&p, q.business_id.as_deref(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
