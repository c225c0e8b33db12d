//! The native API, `/v1`. JSON, snake_case, RFC 3339 UTC timestamps.

mod agents;
mod api_keys;
mod attachments;
mod auth;
mod canned;
pub mod contacts;
mod handoff;
mod hours;
mod labels;
mod messages;
mod notes;
mod ratings;
mod routing;
mod search;
mod sessions;
mod stats;
mod webhooks;

use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .merge(sessions::router())
        .merge(messages::router())
        .merge(attachments::router())
        .merge(auth::router())
        .merge(agents::router())
        .merge(contacts::router())
        .merge(notes::router())
        .merge(canned::router())
        .merge(handoff::router())
        .merge(labels::router())
        .merge(hours::router())
        .merge(ratings::router())
        .merge(search::router())
        .merge(routing::router())
        .merge(stats::router())
        .merge(webhooks::router())
        .merge(api_keys::router())
}

/// Deserialize a field that distinguishes "absent" (`None`) from `null` (`Some(None)`).
pub(crate) fn double_option<'de, D, T>(d: D) -> Result<Option<Option<T>>, D::Error>
where
    D: serde::Deserializer<'de>,
    T: serde::Deserialize<'de>,
{
    serde::Deserialize::deserialize(d).map(Some)
}
