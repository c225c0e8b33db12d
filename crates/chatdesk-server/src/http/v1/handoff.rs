//! Bot hand-off (`/v1/sessions/{id}/handoff`, `/handback`): an assistant's session goes to
//! people, and back.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, JsonOrEmpty, SessionPath};
use crate::state::AppState;
use crate::wire::views::{named_session, SessionView};
use axum::extract::State;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(hand_off))
        .routes(routes!(hand_back))
}

#[derive(Deserialize, ToSchema, Default)]
#[serde(deny_unknown_fields)]
pub struct HandoffBody {
    /// Why people are needed (up to 500 characters, one line): shown to agents.
    pub reason: Option<String>,
    /// The department whose queue it waits in.
    pub department_id: Option<String>,
}

/// Hand an active session (typically an assistant's) to people: it waits in the queue with
/// its whole conversation; `sessionHandedOff` goes out and a system message says why.
/// Staff only (an assistant's API key is staff).
#[utoipa::path(post, path = "/v1/sessions/{id}/handoff", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")), request_body = HandoffBody,
    responses((status = 200, body = SessionView), (status = 400, body = ErrorBody),
        (status = 403, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 409, description = "Not active (`invalid_transition`)", body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn hand_off(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    JsonOrEmpty(b): JsonOrEmpty<HandoffBody>,
) -> ApiResult<ApiJson<SessionView>> {
    let s = state
        .handoffs
        .hand_off(&p, id, b.reason.as_deref(), b.department_id.as_deref())
        .await?;
    Ok(ApiJson(named_session(&state, &s).await?))
}

/// Give a session back to the assistant it was opened for (staff).
#[utoipa::path(post, path = "/v1/sessions/{id}/handback", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = SessionView), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`no_assistant` or `session_closed`", body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn hand_back(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<SessionView>> {
    let s = state.handoffs.hand_back(&p, id).await?;
    Ok(ApiJson(named_session(&state, &s).await?))
}
