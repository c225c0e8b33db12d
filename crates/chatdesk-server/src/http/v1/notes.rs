//! A session's private notes (`/v1/sessions/{id}/notes`): staff only.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, SessionPath};
use crate::state::AppState;
use crate::wire::views::NoteView;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(add_note, list_notes))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteBody {
    /// 1 to 10,000 characters (configurable), not only whitespace.
    pub content: String,
}

/// Write a private note: the tenant's staff see it (`noteCreated` on their streams,
/// `note.created` webhooks marked private); the customer or visitor never does.
#[utoipa::path(post, path = "/v1/sessions/{id}/notes", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)")),
    request_body = NoteBody,
    responses((status = 201, body = NoteView), (status = 400, body = ErrorBody),
        (status = 403, description = "Not staff", body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn add_note(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<NoteBody>,
) -> ApiResult<(StatusCode, ApiJson<NoteView>)> {
    let note = state.notes.add(&p, id, &b.content).await?;
    Ok((StatusCode::CREATED, ApiJson((&note).into())))
}

#[derive(Serialize, ToSchema)]
pub struct NoteList {
    pub notes: Vec<NoteView>,
}

/// A session's notes, oldest first (the newest 500).
#[utoipa::path(get, path = "/v1/sessions/{id}/notes", tag = "messages",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = NoteList), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)),
    security(("bearer" = []), ("api_key" = [])))]
async fn list_notes(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<NoteList>> {
    let notes = state.notes.list(&p, id).await?;
    Ok(ApiJson(NoteList {
        notes: notes.iter().map(NoteView::from).collect(),
    }))
}
