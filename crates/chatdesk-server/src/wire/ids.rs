//! Ids as the seed documents show them: a number where the id is numeric, else a string,
//! and a visitor by its public id.

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
                super::views::public_visitor_id(v).serialize(s)
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
