//! Built-in accounts: created by `chatdesk user add`, used by `POST /v1/auth/login`. The rules
//! are the core's (`chatdesk_core::accounts`); hashing is argon2id (`password`), and login
//! runs under the login limits (`guards`).

use super::password::Argon2Passwords;
use chatdesk_core::accounts;
use chatdesk_core::store::{Account, Store};
use chatdesk_core::ServiceError;
use std::sync::Arc;

pub async fn add(
    store: &dyn Store,
    email: &str,
    plain_password: &str,
    role: &str,
    business_id: Option<&str>,
    name: Option<&str>,
) -> Result<Account, ServiceError> {
    let passwords = Arc::new(Argon2Passwords);
    accounts::add(
        store,
        passwords,
        email,
        plain_password,
        role,
        business_id,
        name,
    )
    .await
}

/// The account whose email and password match, or `None`; under the login limits.
pub async fn login(
    state: &crate::state::AppState,
    ip: std::net::IpAddr,
    email: &str,
    plain_password: &str,
) -> crate::error::ApiResult<Option<Account>> {
    let check = async {
        let passwords = Arc::new(Argon2Passwords);
        Ok(
            accounts::check_password(state.store.as_ref(), passwords, email, plain_password)
                .await?,
        )
    };
    state.guards.login(ip, email, check).await
}
