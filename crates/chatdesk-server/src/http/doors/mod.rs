//! The five seed APIs, each a thin door over the core: it parses what its document's clients
//! send, calls the core, and answers in its document's shapes. No business rule and no SQL.

mod activity;
mod assistant;
mod identity;
mod livechat;
mod storefront;
mod style;
mod support;

use crate::config::Settings;
use crate::state::AppState;
use utoipa_axum::router::OpenApiRouter;

pub use identity::UserHash;

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

/// A participant as the seed documents show ids: a user id (a number when numeric), or a
/// visitor's UUID.
pub fn party_id(p: &chatdesk_core::domain::Party) -> serde_json::Value {
    serde_json::to_value(PartyId(p)).expect("an id serializes")
}

/// `party_id` written straight into a payload being serialized, with no JSON value built
/// in between (the real-time path renders every message this way).
pub struct PartyId<'a>(pub &'a chatdesk_core::domain::Party);

impl serde::Serialize for PartyId<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            chatdesk_core::domain::Party::User(u) => match u.as_str().parse::<i64>() {
                Ok(n) => s.serialize_i64(n),
                Err(_) => s.serialize_str(u.as_str()),
            },
            chatdesk_core::domain::Party::Visitor(v) => v.serialize(s),
        }
    }
}

/// A number as the seed documents show ids: integers where the id is numeric, else a string.
pub(crate) fn id_value(id: &str) -> serde_json::Value {
    id.parse::<i64>().map_or_else(
        |_| serde_json::Value::String(id.to_owned()),
        serde_json::Value::from,
    )
}
