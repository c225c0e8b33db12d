//! Built-in accounts: the rules for making one and for signing in with one. How passwords
//! are hashed is the server's ([`Passwords`]); what a password and an account must be is here.

use crate::domain::{BusinessId, Email, Invalid};
use crate::error::ServiceError;
use crate::identity::Role;
use crate::store::{Account, NewAccount, Store, StoreError};
use std::sync::Arc;

/// Shortest password accepted, in characters.
pub const MIN_PASSWORD_CHARS: usize = 8;

/// Password hashing, slow on purpose: run off the async workers.
pub trait Passwords: Send + Sync + 'static {
    fn hash(&self, plain: &str) -> String;
    fn verify(&self, plain: &str, hash: &str) -> bool;
    /// A hash of no one's password, checked when the email is unknown so that a login for a
    /// missing account takes as long as one with a wrong password.
    fn dummy_hash(&self) -> &str;
}

/// Make an account. Services use API keys, never accounts.
pub async fn add(
    store: &dyn Store,
    passwords: Arc<dyn Passwords>,
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
    if plain_password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Invalid::new(
            "password",
            "weak_password",
            format!("password must be at least {MIN_PASSWORD_CHARS} characters"),
        )
        .into());
    }
    let business_id = business_id.map(BusinessId::parse).transpose()?;
    let plain = plain_password.to_owned();
    let password_hash = off_the_workers(move || passwords.hash(&plain)).await?;
    let new = NewAccount {
        email,
        password_hash,
        role,
        business_id,
        name: name.map(str::to_owned),
    };
    store.create_account(new).await.map_err(|e| match e {
        StoreError::Conflict(_) => {
            ServiceError::conflict("email_taken", "an account with that email exists")
        }
        other => other.into(),
    })
}

/// The account whose email and password match, or `None`. A malformed email is no account.
pub async fn check_password(
    store: &dyn Store,
    passwords: Arc<dyn Passwords>,
    email: &str,
    plain_password: &str,
) -> Result<Option<Account>, ServiceError> {
    let found = match Email::parse(email) {
        Ok(email) => store.find_account_by_email(&email).await?,
        Err(_) => None,
    };
    let hash = found.as_ref().map(|a| a.password_hash.clone());
    let plain = plain_password.to_owned();
    let ok = off_the_workers(move || {
        let hash = hash.as_deref().unwrap_or(passwords.dummy_hash());
        passwords.verify(&plain, hash)
    })
    .await?;
    Ok(found.filter(|_| ok))
}

async fn off_the_workers<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, ServiceError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| ServiceError::Internal(e.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    /// Not a hash at all: these tests are about the rules, not the hashing.
    struct Plain;

    impl Passwords for Plain {
        fn hash(&self, plain: &str) -> String {
            format!("plain:{plain}")
        }
        fn verify(&self, plain: &str, hash: &str) -> bool {
            hash == self.hash(plain)
        }
        fn dummy_hash(&self) -> &str {
            "plain:"
        }
    }

    async fn add_ann(
        store: &MemoryStore,
        password: &str,
        role: &str,
    ) -> Result<Account, ServiceError> {
        add(
            store,
            Arc::new(Plain),
            "ann@example.com",
            password,
            role,
            None,
            None,
        )
        .await
    }

    #[tokio::test]
    async fn an_account_signs_in_with_its_password_only() {
        let store = MemoryStore::new();
        let ann = add_ann(&store, "correct horse", "agent").await.unwrap();
        assert_ne!(ann.password_hash, "correct horse", "stored hashed");
        let check = |email: &'static str, pw: &'static str| {
            check_password(&store, Arc::new(Plain), email, pw)
        };
        assert_eq!(
            check("ann@example.com", "correct horse")
                .await
                .unwrap()
                .map(|a| a.id),
            Some(ann.id)
        );
        assert!(check("ann@example.com", "wrong horse")
            .await
            .unwrap()
            .is_none());
        assert!(check("bob@example.com", "correct horse")
            .await
            .unwrap()
            .is_none());
        assert!(check("not an email", "correct horse")
            .await
            .unwrap()
            .is_none());
    }

    #[tokio::test]
    async fn the_rules_for_a_new_account() {
        let store = MemoryStore::new();
        assert!(matches!(
            add_ann(&store, "short", "agent").await,
            Err(ServiceError::Invalid(i)) if i.code == "weak_password"
        ));
        assert!(matches!(
            add_ann(&store, "long enough", "service").await,
            Err(ServiceError::Forbidden(_))
        ));
        add_ann(&store, "long enough", "admin").await.unwrap();
        assert!(matches!(
            add_ann(&store, "long enough", "agent").await,
            Err(ServiceError::Conflict {
                code: "email_taken",
                ..
            })
        ));
    }
}
