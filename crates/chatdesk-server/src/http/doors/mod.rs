//! The five seed APIs, each a thin door over the core: it parses what its document's clients
//! send, calls the core, and answers in its document's shapes. No business rule and no SQL.

mod activity;
mod assistant;
mod livechat;
mod storefront;
mod style;
pub(crate) mod support;

use crate::config::Settings;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub use crate::auth::resolve::UserHash;

/// The documents' user and sender ids, in the OpenAPI document only: a number when the id
/// is numeric (a built-in account), a string otherwise (`party_id` makes the value).
#[derive(serde::Serialize, utoipa::ToSchema)]
#[serde(untagged)]
#[allow(dead_code, reason = "describes a serde_json::Value field's shape")]
pub enum NumberOrString {
    Number(i64),
    String(String),
}

/// Every door that is switched on in `settings`.
pub fn router(settings: &Settings) -> OpenApiRouter<AppState> {
    let mut r = OpenApiRouter::new();
    if settings.door_storefront {
        r = r.merge(storefront::router());
    }
    if settings.door_assistant {
        r = r.merge(assistant::router());
    }
    if settings.door_livechat {
        r = r.merge(livechat::router());
    }
    if settings.door_activity {
        r = r.merge(activity::router());
    }
    if settings.door_support {
        r = r.merge(support::router());
    }
    r
}
