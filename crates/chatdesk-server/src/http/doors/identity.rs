//! Identities the seed documents send in bodies and query strings, proved before believed.
//!
//! - a visitor UUID (`browser_uuid`, `visitor_id`) is a bearer secret: it is proof;
//! - a user id with an email (`oss_user_id`) needs `user_hash = hex(HMAC-SHA256(secret, id))`,
//!   unless the deployment trusts user ids (`trust_unverified_user_ids`, or `--dev`);
//! - otherwise the request's own credential (JWT, API key, `X-Visitor-Id`).

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::http::HeaderMap;
use chatdesk_core::domain::{UserId, VisitorId};
use chatdesk_core::identity::{Principal, Role};
use hmac::{Hmac, Mac};
use sha2::Sha256;

pub struct UserHash;

impl UserHash {
    /// `hex(HMAC-SHA256(secret, user_id))`.
    pub fn compute(secret: &str, user_id: &str) -> String {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(user_id.as_bytes());
        hex::encode(mac.finalize().into_bytes())
    }

    fn verify(secret: &str, user_id: &str, hash: &str) -> bool {
        let Ok(given) = hex::decode(hash.trim()) else {
            return false;
        };
        let mut mac =
            Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
        mac.update(user_id.as_bytes());
        mac.verify_slice(&given).is_ok()
    }
}

/// Parse a visitor UUID sent in a body or query string.
pub fn visitor(raw: &str, field: &'static str) -> ApiResult<Principal> {
    VisitorId::parse(raw)
        .map(Principal::visitor)
        .map_err(|_| ApiError::bad_request("invalid_visitor_id", format!("{field} must be a UUID")))
}

/// A user id asserted in a body, believed only with a valid `user_hash` or when the
/// deployment trusts user ids.
pub fn asserted_user(
    state: &AppState,
    user_id: &str,
    user_hash: Option<&str>,
) -> ApiResult<Principal> {
    let id = UserId::parse(user_id).map_err(|e| ApiError::bad_request(e.code, e.message))?;
    let proven = match (user_hash, &state.settings.identity_secret) {
        (Some(hash), Some(secret)) => UserHash::verify(secret, id.as_str(), hash),
        _ => false,
    };
    if proven || state.settings.trusts_user_ids() {
        Ok(Principal::user(id, Role::Customer, None))
    } else if user_hash.is_some() {
        Err(ApiError::unauthenticated(
            "invalid_user_hash",
            "user_hash does not match the user id",
        ))
    } else {
        Err(ApiError::unauthenticated(
            "unverified_user",
            "a user id needs user_hash = hex(HMAC-SHA256(identity secret, user id)), or a Bearer token",
        ))
    }
}

/// In `--dev` only: a seed document's call that names nobody, as the documents write their
/// examples, acts with the rights of the deployment's front end (`front_end`, an unscoped
/// admin). Elsewhere such a call must prove who it is.
pub fn front_end_in_dev(state: &AppState, front_end: &str) -> Option<Principal> {
    state.settings.believes_claimed_roles().then(|| {
        Principal::user(
            UserId::parse(front_end).expect("a valid id"),
            Role::Admin,
            None,
        )
    })
}

/// The request's own credential, if it carries one.
pub async fn from_headers(state: &AppState, headers: &HeaderMap) -> ApiResult<Option<Principal>> {
    state.auth.identify(headers).await
}

#[cfg(test)]
mod tests {
    use super::UserHash;

    #[test]
    fn user_hash_round_trip() {
        let h = UserHash::compute("s3cret", "USER123");
        assert_eq!(h.len(), 64);
        assert!(UserHash::verify("s3cret", "USER123", &h));
        assert!(!UserHash::verify("s3cret", "USER124", &h));
        assert!(!UserHash::verify("other", "USER123", &h));
        assert!(!UserHash::verify("s3cret", "USER123", "zz"));
    }
}
