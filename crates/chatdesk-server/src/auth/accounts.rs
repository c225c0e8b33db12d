//! Built-in accounts: created by `chatdesk user add`, used by `POST /v1/auth/login`.

use super::password;
use chatdesk_core::domain::{BusinessId, Email};
use chatdesk_core::identity::Role;
use chatdesk_core::store::{Account, NewAccount, Store, StoreError};
use chatdesk_core::ServiceError;

pub async fn add(
    store: &dyn Store,
    email: &str,
    plain_password: &str,
    role: &str,
    business_id: Option<&str>,
    name: Option<&str>,
) -> Result<Account, ServiceError> {
    let email = Email::parse(email)?;
    let role = Role::parse(role)?;
    if role == Role::Service {
        return Err(ServiceError::Forbidden(
            "service identities use API keys, not accounts",
        ));
    }
    if plain_password.chars().count() < 8 {
        return Err(chatdesk_core::domain::Invalid::new(
            "password",
            "weak_password",
            "password must be at least 8 characters",
        )
        .into());
    }
    let new = NewAccount {
        email,
        password_hash: password::hash(plain_password),
        role,
        business_id: business_id.map(BusinessId::parse).transpose()?,
        name: name.map(str::to_owned),
    };
    store.create_account(new).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            ServiceError::conflict("email_taken", "an account with that email exists")
        }
        other => other.into(),
    })
}

/// The account whose email and password match, or `None`; under the login limits.
pub async fn login(
    state: &crate::state::AppState,
    ip: std::net::IpAddr,
    email: &str,
    plain_password: &str,
) -> crate::error::ApiResult<Option<Account>> {
    let check = async { Ok(check_password(state.store.as_ref(), email, plain_password).await?) };
    state.guards.login(ip, email, check).await
}

/// The account whose email and password match, or `None`.
async fn check_password(
    store: &dyn Store,
    email: &str,
    plain_password: &str,
) -> Result<Option<Account>, ServiceError> {
    let found = match Email::parse(email) {
        Ok(email) => store.find_account_by_email(&email).await?,
        Err(_) => None,
    };
    // Hashing runs for about as long whether or not the account exists.
    let hash = found
        .as_ref()
        .map_or(password::DUMMY_HASH.as_str(), |a| a.password_hash.as_str());
    let ok = {
        let (hash, pw) = (hash.to_owned(), plain_password.to_owned());
        tokio::task::spawn_blocking(move || password::verify(&pw, &hash))
            .await
            .map_err(|e| ServiceError::Internal(e.to_string()))?
    };
    Ok(found.filter(|_| ok))
}
