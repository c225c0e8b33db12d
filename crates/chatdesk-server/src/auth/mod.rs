//! Identity: who a request comes from, proved by a JWT, an API key or a visitor UUID.
//! Nothing in a request body is believed.

pub mod accounts;
pub mod api_keys;
pub mod jwt;
pub mod password;
pub mod resolve;
pub mod verified;

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use axum::http::HeaderMap;
use chatdesk_core::domain::{UserId, VisitorId};
use chatdesk_core::identity::{Principal, Role};
use chatdesk_core::store::Store;
use jwt::{JwtKeys, TokenError};
use std::sync::Arc;
use verified::VerifiedTokens;

pub const VISITOR_HEADER: &str = "x-visitor-id";
pub const API_KEY_HEADER: &str = "x-api-key";
/// A host site's signed-in customer, with its proof in [`USER_HASH_HEADER`] (seed 002's
/// `user_hash`, for clients such as the widget that speak the native API).
pub const USER_HEADER: &str = "x-user-id";
pub const USER_HASH_HEADER: &str = "x-user-hash";
/// The shared anonymous identity of `--dev` mode (seed 003's `demo_user`).
pub const DEMO_USER: &str = "demo_user";

pub struct Authenticator {
    pub keys: JwtKeys,
    verified: VerifiedTokens,
    store: Arc<dyn Store>,
    trust: resolve::Trust,
}

impl Authenticator {
    pub fn new(keys: JwtKeys, store: Arc<dyn Store>, trust: resolve::Trust) -> Self {
        Self {
            keys,
            verified: VerifiedTokens::default(),
            store,
            trust,
        }
    }

    pub fn dev(&self) -> bool {
        self.trust.dev
    }

    /// The proven identity of a request, `None` if it carries no credential at all.
    /// A credential that is present but wrong is an error, never silently ignored.
    pub async fn identify(&self, headers: &HeaderMap) -> ApiResult<Option<Principal>> {
        if let Some(value) = headers.get(axum::http::header::AUTHORIZATION) {
            let value = value.to_str().unwrap_or_default();
            let token = value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
                .ok_or_else(|| {
                    ApiError::unauthenticated("invalid_token", "use Authorization: Bearer <token>")
                })?
                .trim();
            return if token.starts_with(api_keys::PREFIX) {
                self.api_key(token).await.map(Some)
            } else {
                self.token(token).map(Some)
            };
        }
        if let Some(key) = headers.get(API_KEY_HEADER) {
            return self
                .api_key(key.to_str().unwrap_or_default())
                .await
                .map(Some);
        }
        if let Some(visitor) = headers.get(VISITOR_HEADER) {
            let visitor = VisitorId::parse(visitor.to_str().unwrap_or_default())
                .map_err(|e| ApiError::unauthenticated(e.code, e.message))?;
            return Ok(Some(Principal::visitor(visitor)));
        }
        if let Some(user) = headers.get(USER_HEADER) {
            let hash = headers
                .get(USER_HASH_HEADER)
                .map(|h| h.to_str().unwrap_or_default());
            return self
                .named_user(user.to_str().unwrap_or_default(), hash, None)
                .map(Some);
        }
        Ok(None)
    }

    /// The identity of a request that must have one. In `--dev`, a request without any
    /// credential is the shared `demo_user`.
    pub async fn require(&self, headers: &HeaderMap) -> ApiResult<Principal> {
        self.resolve(headers, resolve::Offered::default(), &resolve::NATIVE)
            .await
    }

    pub fn demo_user() -> Principal {
        Principal::user(
            UserId::parse(DEMO_USER).expect("valid id"),
            Role::Customer,
            None,
        )
    }

    pub fn token(&self, token: &str) -> ApiResult<Principal> {
        if let Some(principal) = self.verified.get(token) {
            return Ok(principal);
        }
        let (principal, exp) = self.keys.verify_with_exp(token).map_err(|e| match e {
            TokenError::Expired => {
                ApiError::unauthenticated("token_expired", "the token has expired")
            }
            TokenError::Invalid(why) => {
                ApiError::unauthenticated("invalid_token", format!("invalid token: {why}"))
            }
        })?;
        self.verified.insert(token, &principal, exp);
        Ok(principal)
    }

    async fn api_key(&self, key: &str) -> ApiResult<Principal> {
        let found = self
            .store
            .find_api_key(&api_keys::hash(key.trim()))
            .await
            .map_err(|e| ApiError::from(chatdesk_core::ServiceError::from(e)))?
            .ok_or_else(|| {
                ApiError::unauthenticated("invalid_api_key", "unknown or revoked API key")
            })?;
        let id = UserId::parse(&format!("apikey:{}", found.id)).expect("valid id");
        Ok(Principal::user(id, Role::Service, Some(found.business_id)))
    }
}

/// The caller of a native-API request. Rejects requests without identity with 401.
pub struct Caller(pub Principal);

impl FromRequestParts<AppState> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut Parts,
        state: &AppState,
    ) -> Result<Self, Self::Rejection> {
        state.auth.require(&parts.headers).await.map(Caller)
    }
}
