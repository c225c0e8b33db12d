//! A closed conversation's rating by its customer (`/v1/sessions/{id}/rating`).

use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::http::{ApiJson, SessionPath};
use crate::state::AppState;
use crate::wire::views::RatingView;
use axum::extract::State;
use axum::http::StatusCode;
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(rate, get_rating))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RatingBody {
    /// 1 (worst) to 5 (best).
    pub score: i64,
    /// Up to 1,000 characters.
    pub comment: Option<String>,
}

/// Rate a closed conversation, once: its customer (or visitor) only.
#[utoipa::path(post, path = "/v1/sessions/{id}/rating", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")),
    request_body = RatingBody,
    responses((status = 201, body = RatingView), (status = 400, body = ErrorBody),
        (status = 403, description = "Not the conversation's customer", body = ErrorBody),
        (status = 404, body = ErrorBody),
        (status = 409, description = "`not_closed` or `already_rated`", body = ErrorBody)),
    security(("bearer" = []), ("visitor" = [])))]
async fn rate(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
    ApiJson(b): ApiJson<RatingBody>,
) -> ApiResult<(StatusCode, ApiJson<RatingView>)> {
    let rating = state
        .ratings
        .rate(&p, id, b.score, b.comment.as_deref())
        .await?;
    Ok((StatusCode::CREATED, ApiJson((&rating).into())))
}

/// The conversation's rating, for anyone who may see it.
#[utoipa::path(get, path = "/v1/sessions/{id}/rating", tag = "sessions",
    params(("id" = String, Path, description = "Session id (UUID)")),
    responses((status = 200, body = RatingView),
        (status = 404, description = "No such session, or not rated (`no_rating`)", body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn get_rating(
    State(state): State<AppState>,
    Caller(p): Caller,
    SessionPath(id): SessionPath,
) -> ApiResult<ApiJson<RatingView>> {
    let rating = state.ratings.rating(&p, id).await?;
    rating.map(|r| ApiJson((&r).into())).ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no_rating",
            "this conversation is not rated",
        )
    })
}
