//! Who a request is, found one way for every door ([`Authenticator::resolve`]): its own
//! credential first, then what the door lets it say in a body, query or event, then what a
//! request that names nobody is. Each door's policy is a constant below, so every relaxation
//! the seed documents need lives in this file.
//!
//! - a credential (JWT, API key, `X-Visitor-Id`) is proof, and wins over anything sent along;
//! - a user id named in a body needs `user_hash = hex(HMAC-SHA256(identity secret, id))`,
//!   unless the deployment trusts user ids (`trust_unverified_user_ids`, or `--dev`); a
//!   believed id is a customer, and a claimed role is believed only in `--dev`;
//! - a visitor UUID sent along (`browser_uuid`, `visitor_id`) is a bearer secret: proof;
//! - a request with none of these is refused, except in `--dev` as its door says.

use super::Authenticator;
use crate::error::{ApiError, ApiResult};
use axum::http::HeaderMap;
use chatdesk_core::domain::{UserId, VisitorId};
use chatdesk_core::identity::{Principal, Role};
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How a deployment believes what requests say about themselves (from its settings).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    /// `--dev`: requests naming nobody act as the door says.
    pub dev: bool,
    /// User ids named without proof are believed (as customers).
    pub user_ids: bool,
    /// Claimed roles are believed (`--dev` only).
    pub roles: bool,
    /// The secret `user_hash` is made with.
    pub identity_secret: Option<String>,
}

/// What a request says about who it is, besides its credential.
#[derive(Debug, Clone, Copy, Default)]
pub struct Offered<'a> {
    /// A visitor UUID, and the field it came in.
    pub visitor: Option<(&'a str, &'static str)>,
    /// A user id named in the body, query or event.
    pub user: Option<&'a str>,
    /// The proof sent with it.
    pub user_hash: Option<&'a str>,
    /// A role claimed with it.
    pub role: Option<&'a str>,
}

/// What a door makes of a request that names nobody.
#[derive(Debug, Clone, Copy)]
pub enum Nobody {
    /// 401; in `--dev` the shared `demo_user` (seed 003's).
    DemoUserInDev,
    /// In `--dev` the door's front end, an unscoped admin: the seed documents' calls that
    /// name nobody. Elsewhere as `otherwise`.
    FrontEndInDev {
        front_end: &'static str,
        otherwise: Refusal,
    },
    Refused(Refusal),
}

#[derive(Debug, Clone, Copy)]
pub enum Refusal {
    /// 401 `unauthenticated`.
    Unauthenticated,
    /// 400 `missing_field`: these fields (one of them) were needed.
    Missing(&'static str),
}

/// One door's policy.
#[derive(Debug, Clone, Copy)]
pub struct Door {
    pub nobody: Nobody,
}

/// `/v1`, SSE, seed 003 (activity) and seed 004's REST calls: credentials only.
pub const NATIVE: Door = Door {
    nobody: Nobody::DemoUserInDev,
};
/// Seed 000 (storefront): a token, else the `visitor_id` sent along.
pub const STOREFRONT: Door = NATIVE;
/// Seed 001 (assistant): calls that name a user; the ones that name none act as the front
/// end in `--dev`.
pub const ASSISTANT: Door = Door {
    nobody: Nobody::FrontEndInDev {
        front_end: "assistant-front-end",
        otherwise: Refusal::Unauthenticated,
    },
};
/// Seed 002 (live chat): `browser_uuid` or `oss_user_id` on calls made for a chat.
pub const LIVECHAT: Door = Door {
    nobody: Nobody::Refused(Refusal::Missing("browser_uuid or oss_user_id")),
};
/// Seed 002's calls the front end makes for any chat (`contact`, a session by id).
pub const LIVECHAT_FRONT_END: Door = Door {
    nobody: Nobody::FrontEndInDev {
        front_end: "livechat-front-end",
        otherwise: Refusal::Missing("browser_uuid or oss_user_id"),
    },
};
/// Seed 004's socket `authenticate`: `{token}`, or the bare `{userId, role}` it writes.
pub const SOCKET: Door = Door {
    nobody: Nobody::Refused(Refusal::Missing("token")),
};

impl Authenticator {
    /// The caller at `door`: see the module's rules.
    pub async fn resolve(
        &self,
        headers: &HeaderMap,
        offered: Offered<'_>,
        door: &Door,
    ) -> ApiResult<Principal> {
        if let Some(p) = self.identify(headers).await? {
            return Ok(p);
        }
        if let Some(user) = offered.user.filter(|u| !u.trim().is_empty()) {
            return self.named_user(user, offered.user_hash, offered.role);
        }
        if let Some((visitor, field)) = offered.visitor.filter(|(v, _)| !v.is_empty()) {
            return visitor_id(visitor, field);
        }
        match door.nobody {
            Nobody::DemoUserInDev if self.trust.dev => Ok(Self::demo_user()),
            Nobody::DemoUserInDev => Err(refuse(Refusal::Unauthenticated)),
            Nobody::FrontEndInDev { front_end, .. } if self.trust.dev => Ok(Principal::user(
                UserId::parse(front_end).expect("a valid id"),
                Role::Admin,
                None,
            )),
            Nobody::FrontEndInDev { otherwise, .. } => Err(refuse(otherwise)),
            Nobody::Refused(why) => Err(refuse(why)),
        }
    }

    /// A user id named in a body: proved by `user_hash`, or believed where user ids are
    /// trusted. A role comes with it only where roles are believed.
    pub fn named_user(
        &self,
        user: &str,
        user_hash: Option<&str>,
        role: Option<&str>,
    ) -> ApiResult<Principal> {
        let id =
            UserId::parse(user.trim()).map_err(|e| ApiError::bad_request(e.code, e.message))?;
        let proven = match (user_hash, &self.trust.identity_secret) {
            (Some(hash), Some(secret)) => UserHash::verify(secret, id.as_str(), hash),
            _ => false,
        };
        if !proven && !self.trust.user_ids {
            return Err(match user_hash {
                Some(_) => ApiError::unauthenticated(
                    "invalid_user_hash",
                    "user_hash does not match the user id",
                ),
                None => ApiError::unauthenticated(
                    "unverified_user",
                    "a user id alone is not proof: send a Bearer token (or, where the call takes \
                     one, user_hash = hex(HMAC-SHA256(identity secret, user id)))",
                ),
            });
        }
        let role = match role.map(str::to_ascii_uppercase).as_deref() {
            Some("ADMIN") if self.trust.roles => Role::Admin,
            Some("AGENT") if self.trust.roles => Role::Agent,
            _ => Role::Customer,
        };
        Ok(Principal::user(id, role, None))
    }
}

fn visitor_id(raw: &str, field: &'static str) -> ApiResult<Principal> {
    VisitorId::parse(raw)
        .map(Principal::visitor)
        .map_err(|_| ApiError::bad_request("invalid_visitor_id", format!("{field} must be a UUID")))
}

fn refuse(why: Refusal) -> ApiError {
    match why {
        Refusal::Unauthenticated => ApiError::unauthenticated(
            "unauthenticated",
            "send Authorization: Bearer <token>, X-Api-Key, or X-Visitor-Id",
        ),
        Refusal::Missing(fields) => {
            ApiError::bad_request("missing_field", format!("missing required field: {fields}"))
        }
    }
}

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
