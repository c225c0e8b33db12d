//! `POST /v1/auth/login`: built-in accounts exchange email and password for a JWT.

use crate::auth::accounts;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::guards::ClientIp;
use crate::http::ApiJson;
use crate::state::AppState;
use axum::extract::State;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

pub fn router() -> OpenApiRouter<AppState> {
    OpenApiRouter::new().routes(routes!(login))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginBody {
    pub email: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Seconds until the token expires.
    pub expires_in: u64,
    pub user: AccountView,
}

#[derive(Serialize, ToSchema)]
pub struct AccountView {
    pub id: String,
    pub email: String,
    pub role: String,
    pub name: Option<String>,
    pub business_id: Option<String>,
}

#[utoipa::path(post, path = "/v1/auth/login", tag = "auth", request_body = LoginBody,
    responses((status = 200, body = LoginResponse), (status = 401, description = "Wrong email or password", body = ErrorBody),
        (status = 429, description = "Too many attempts from this address or for this account", body = ErrorBody)))]
async fn login(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    ApiJson(b): ApiJson<LoginBody>,
) -> ApiResult<ApiJson<LoginResponse>> {
    let account = accounts::login(&state, ip, &b.email, &b.password)
        .await?
        .ok_or_else(|| {
            ApiError::unauthenticated("invalid_credentials", "wrong email or password")
        })?;
    let id = account.id.to_string();
    let business = account.business_id.as_ref().map(|b| b.as_str());
    let token = state
        .auth
        .keys
        .issue(&id, account.role, business, state.login_ttl);
    Ok(ApiJson(LoginResponse {
        access_token: token,
        token_type: "Bearer",
        expires_in: state.login_ttl.as_secs(),
        user: AccountView {
            id,
            email: account.email.as_str().to_owned(),
            role: account.role.as_str().to_owned(),
            name: account.name,
            business_id: account.business_id.map(|b| b.to_string()),
        },
    }))
}
