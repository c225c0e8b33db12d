//! A session's contact (`/v1/sessions/{id}/contact`) and linking a visitor's sessions to the
//! signed-in account (`/v1/me/link-visitor`).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, SessionPath};
use crate::state::AppState;
use crate::wire::views::ContactView;
use axum::extract::State;
use axum::http::StatusCode;
use chatdesk_core::domain::VisitorId;
use chatdesk_core::service::SetContact;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(get_contact, set_contact))
        .routes(routes!(link_visitor))
}

#[utoipa::path(get, path = "/v1/sessions/{id}/contact", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = ContactView), (status = 404, description = "No such session, or no contact yet", body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn get_contact(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<ContactView>> {
    let (_, contact) = state.sessions.get_session_with_contact(&p, id).await?;
    contact.map(|c| ApiJson((&c).into())).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_contact",
            "this session has no contact yet",
        )
    })
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContactBody {
    pub name: String,
    pub email: String,
    pub phone: Option<String>,
    pub position: Option<String>,
    pub company_name: Option<String>,
}

/// Set or replace the session's contact (validated email and phone).
#[utoipa::path(put, path = "/v1/sessions/{id}/contact", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")), request_body = ContactBody,
    responses((status = 200, body = ContactView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn set_contact(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<ContactBody>,
) -> ApiResult<ApiJson<ContactView>> {
    let req = SetContact {
        name: b.name,
        email: b.email,
        phone: b.phone,
        position: b.position,
        company_name: b.company_name,
    };
    let c = state.contacts.set_contact(&p, id, req).await?;
    Ok(ApiJson((&c).into()))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LinkBody {
    /// The visitor id the browser used before signing in: the proof that its sessions are yours.
    pub visitor_id: String,
}

#[derive(Serialize, ToSchema)]
pub struct LinkResult {
    /// Sessions moved by this call (0 when they already were).
    pub sessions_moved: u64,
}

/// At login: move the visitor's sessions to the signed-in account, in one transaction.
/// Idempotent; a visitor already linked to another account is refused with 409.
#[utoipa::path(post, path = "/v1/me/link-visitor", tag = "sessions", request_body = LinkBody,
    responses((status = 200, body = LinkResult), (status = 400, body = ErrorBody), (status = 403, description = "Staff and API keys may not link a visitor", body = ErrorBody), (status = 409, body = ErrorBody)),
    security(("bearer" = [])))]
async fn link_visitor(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiJson(b): ApiJson<LinkBody>,
) -> ApiResult<ApiJson<LinkResult>> {
    if p.party.user_id().is_none() {
        return Err(ApiError::bad_request(
            "not_a_user",
            "sign in as a user (Bearer token) to link a visitor",
        ));
    }
    let visitor = VisitorId::parse(&b.visitor_id)?;
    let moved = state.contacts.link_visitor(&p, visitor).await?;
    Ok(ApiJson(LinkResult {
        sessions_moved: moved,
    }))
}
