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
            chatdesk_core::domain::Party::User(u) => SeedId(u.as_str()).serialize(s),
            chatdesk_core::domain::Party::Visitor(v) => {
                crate::http::v1::views::public_visitor_id(v).serialize(s)
            }
        }
    }
}

/// An id as the seed documents show it: an integer where the id is numeric, else a string.
struct SeedId<'a>(&'a str);

impl serde::Serialize for SeedId<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0.parse::<i64>() {
            Ok(n) => s.serialize_i64(n),
            Err(_) => s.serialize_str(self.0),
        }
    }
}

/// `SeedId` as a JSON value.
pub(crate) fn id_value(id: &str) -> serde_json::Value {
    serde_json::to_value(SeedId(id)).expect("an id serializes")
}
