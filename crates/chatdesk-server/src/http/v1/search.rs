//! `GET /v1/search`: messages and sessions containing every word of `q`.

use crate::auth::Caller;
use crate::error::{ApiResult, ErrorBody};
use crate::http::{ApiJson, ApiQuery};
use crate::state::AppState;
use crate::wire::views::{MessageView, SessionView};
use axum::extract::State;
use chatdesk_core::service::ListSessions;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(search))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SearchParams {
    /// Words to find (all of them, any case); punctuation only separates words.
    pub q: String,
    pub business_id: Option<String>,
    /// Staff: only this user's sessions.
    pub user_id: Option<String>,
    /// Staff: only sessions carrying this label.
    pub label_id: Option<String>,
    /// 1–200, default 50, per kind of result.
    pub limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub struct SearchResponse {
    /// Newest first.
    pub messages: Vec<MessageView>,
    /// Sessions whose topic or title matches, most recently active first.
    pub sessions: Vec<SessionView>,
}

/// Full-text search over what the caller may see: own sessions, or the tenant's for staff.
#[utoipa::path(get, path = "/v1/search", tag = "messages", params(SearchParams),
    responses((status = 200, body = SearchResponse), (status = 400, body = ErrorBody)),
    security(("bearer" = []), ("visitor" = []), ("api_key" = [])))]
async fn search(
    State(state): State<AppState>,
    Caller(p): Caller,
    ApiQuery(q): ApiQuery<SearchParams>,
) -> ApiResult<ApiJson<SearchResponse>> {
    let scope = ListSessions {
        business_id: q.business_id,
        user_id: q.user_id,
        label_id: q.label_id,
        limit: q.limit,
        ..ListSessions::default()
    };
    let found = state.search.search(&p, &q.q, scope).await?;
    Ok(ApiJson(SearchResponse {
        messages: found
            .messages
            .into_iter()
            .map(|m| MessageView::new(m, &state.hub.links))
            .collect(),
        sessions: found.sessions.iter().map(Into::into).collect(),
    }))
}
