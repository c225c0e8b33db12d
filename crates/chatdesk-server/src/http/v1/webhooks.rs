//! `/v1/webhooks`: a tenant's subscriptions, managed by its admins and services.

use crate::auth::{api_keys, Caller};
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiPath, ApiQuery};
use crate::state::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::store::{DeliveryRecord, Webhook};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(create, list))
        .routes(routes!(get_one, update, delete))
        .routes(routes!(deliveries))
        .routes(routes!(ping))
}

#[derive(Serialize, ToSchema)]
pub struct WebhookView {
    pub id: i64,
    pub business_id: String,
    pub url: String,
    /// `session.created`, `message.created`, `session.assigned`, `session.closed`,
    /// `note.created` (staff-only notes, marked `"private": true`).
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
        return Err(refused_destination());
    }
    let secret = b
        .secret
        .unwrap_or_else(|| format!("whsec_{}", api_keys::random_secret()));
    let w = state
        .webhooks
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
        .webhooks
        .webhooks(&p, q.business_id.as_deref())
        .await?;
    Ok(ApiJson(hooks.iter().map(Into::into).collect()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateBody {
    pub url: Option<String>,
    pub events: Option<Vec<String>>,
    /// A new HMAC key (at least 16 characters); deliveries sign with it from now on.
    pub secret: Option<String>,
}

/// Change a webhook's URL, events or secret in place (what is left out stays). Deliveries
/// already queued keep their body and go to the new URL.
#[utoipa::path(patch, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path), TenantQuery),
    request_body = UpdateBody,
    responses((status = 200, body = WebhookView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn update(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TenantQuery>,
    ApiJson(b): ApiJson<UpdateBody>,
) -> ApiResult<ApiJson<WebhookView>> {
    if b.url
        .as_deref()
        .is_some_and(|u| state.egress.refuses_literal(u))
    {
        return Err(refused_destination());
    }
    let w = state
        .webhooks
        .update_webhook(
            &p,
            q.business_id.as_deref(),
            id,
            b.url.as_deref(),
            b.events.as_deref(),
            b.secret,
        )
        .await?;
    Ok(ApiJson(WebhookView::from(&w)))
}

fn refused_destination() -> ApiError {
    ApiError::bad_request(
        "webhook_destination_refused",
        "webhooks may not target private, loopback or link-local addresses",
    )
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
        .webhooks
        .delete_webhook(&p, q.business_id.as_deref(), id)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// One webhook of the tenant (its secret is never shown again).
#[utoipa::path(get, path = "/v1/webhooks/{id}", tag = "webhooks", params(("id" = i64, Path), TenantQuery),
    responses((status = 200, body = WebhookView), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn get_one(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<ApiJson<WebhookView>> {
    let w = state
        .webhooks
        .webhook(&p, q.business_id.as_deref(), id)
        .await?;
    Ok(ApiJson((&w).into()))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct DeliveriesQuery {
    pub business_id: Option<String>,
    /// 1–200, default 50.
    pub limit: Option<u32>,
}

/// One delivery in a webhook's log.
#[derive(Serialize, ToSchema)]
pub struct DeliveryView {
    /// The id the receiver sees in `X-Chatdesk-Delivery`.
    pub id: String,
    pub event: String,
    /// `pending` (to be tried, or retried at `next_attempt_at`), `delivered` or `failed`
    /// (given up after `webhook_max_attempts`).
    pub status: &'static str,
    pub attempts: i64,
    pub created_at: DateTime<Utc>,
    pub next_attempt_at: Option<DateTime<Utc>>,
    pub delivered_at: Option<DateTime<Utc>>,
    pub failed_at: Option<DateTime<Utc>>,
    /// Why the last attempt failed: the receiver's status, or the connection's error.
    pub last_error: Option<String>,
}

impl From<&DeliveryRecord> for DeliveryView {
    fn from(d: &DeliveryRecord) -> Self {
        let status = match (d.delivered_at, d.failed_at) {
            (Some(_), _) => "delivered",
            (None, Some(_)) => "failed",
            (None, None) => "pending",
        };
        Self {
            id: d.id.to_string(),
            event: d.event.clone(),
            status,
            attempts: d.attempts,
            created_at: d.created_at,
            next_attempt_at: (status == "pending").then_some(d.next_attempt_at),
            delivered_at: d.delivered_at,
            failed_at: d.failed_at,
            last_error: d.last_error.clone(),
        }
    }
}

/// The webhook's most recent deliveries, newest first: what was sent, what failed and why.
#[utoipa::path(get, path = "/v1/webhooks/{id}/deliveries", tag = "webhooks", params(("id" = i64, Path), DeliveriesQuery),
    responses((status = 200, body = [DeliveryView]), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn deliveries(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<DeliveriesQuery>,
) -> ApiResult<ApiJson<Vec<DeliveryView>>> {
    let log = state
        .webhooks
        .webhook_deliveries(&p, q.business_id.as_deref(), id, q.limit)
        .await?;
    Ok(ApiJson(log.iter().map(Into::into).collect()))
}

#[derive(Serialize, ToSchema)]
pub struct PingQueued {
    /// The test delivery's id (`X-Chatdesk-Delivery`); follow it in the delivery log.
    pub delivery_id: String,
}

/// Send a test event (`ping`) to the webhook, signed and retried like any other delivery.
#[utoipa::path(post, path = "/v1/webhooks/{id}/ping", tag = "webhooks", params(("id" = i64, Path), TenantQuery),
    responses((status = 202, body = PingQueued), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn ping(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiPath(id): ApiPath<i64>,
    ApiQuery(q): ApiQuery<TenantQuery>,
) -> ApiResult<(StatusCode, ApiJson<PingQueued>)> {
    let delivery = state
        .webhooks
        .ping_webhook(&p, q.business_id.as_deref(), id)
        .await?;
    Ok((
        StatusCode::ACCEPTED,
        ApiJson(PingQueued {
            delivery_id: delivery.to_string(),
        }),
    ))
}
