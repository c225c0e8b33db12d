//! `/v1/webhooks`: a tenant's subscriptions, managed by its admins and services.

use crate::auth::{api_keys, Caller};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::store::Webhook;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(delete))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub business_id: String,
    pub url: String,
    /// `session.created`, `message.created`, `session.assigned`, `session.closed`.
    pub events: Vec<&'static str>,
    pub created_at: DateTime<Utc>,
    /// Shown once, when the subscription is created.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub secret: Option<String>,
}

impl From<&Webhook> for WebhookView {
    fn from(w: &Webhook) -> Self {
        Self {
            id: w.id,
            business_id: w.business_id.to_string(),
            url: w.url.as_str().to_owned(),
            events: w.events.iter().map(|e| e.as_str()).collect(),
            created_at: w.created_at,
            secret: None,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBody {
    /// Where deliveries are POSTed (http or https).
    pub url: String,
    pub events: Vec<String>,
    /// The HMAC key for signatures (at least 16 characters); generated when left out.
    pub secret: Option<String>,
    /// Unscoped admins name the tenant; everyone else works in their own.
    pub business_id: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TenantQuery {
    pub business_id: Option<String>,
}

/// Subscribe a URL to events of the tenant.
#[utoipa::path(post, path = "/v1/webhooks", tag = "webhooks", request_body = CreateBody,
    responses((status = 201, body = WebhookView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn create(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<CreateBody>,
) -> ApiResult<(StatusCode, ApiJson<WebhookView>)> {
    // Names are checked when a delivery resolves them; an address literal can be refused now.
    if state.egress.refuses_literal(&b.url) {
        return Err(ApiError::bad_request(
            "webhook_destination_refused",
            "webhooks may not target private, loopback or link-local addresses",
        ));
    }
    let secret = b
        .secret
        .unwrap_or_else(|| format!("whsec_{}", api_keys::random_secret()));
    let w = state
        .sessions
        .create_webhook(
            &p,
            b.business_id.as_deref(),
            &b.url,
            &b.events,
            secret.clone(),
        )
        .await?;
    let view = WebhookView {
        secret: Some(secret),
        ..WebhookView::from(&w)
    };
    Ok((StatusCode::CREATED, ApiJson(view)))
}

#[utoipa::path(get, path = "/v1/webhooks", tag = "webhooks", params(TenantQuery),
    responses((status = 200, body = [WebhookView]), (status = 403, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn list(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<ApiJson<Vec<WebhookView>>> {
    let hooks = state
        .sessions
        .webhooks(&p, q.business_id.as_deref())
        .await?;
    Ok(ApiJson(hooks.iter().map(Into::into).collect()))
}

/// Unsubscribe; deliveries still queued for it are dropped.
#[utoipa::path(delete, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path), TenantQuery),
    responses((status = 204), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn delete(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<StatusCode> {
    state
        .sessions
        .delete_webhook(&p, q.business_id.as_deref(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
