//! Built-in accounts, API keys and the server's own secrets.

use super::*;

#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    async fn find_account(&self, id: i64) -> StoreResult<Option<Account>>;

    async fn create_account(&self, new: NewAccount) -> StoreResult<Account>;

    async fn find_account_by_email(&self, email: &Email) -> StoreResult<Option<Account>>;

    /// Store an API key by the SHA-256 hex of its secret.
    async fn create_api_key(
        &self,
        name: &str,
        business_id: &BusinessId,
        key_hash: &str,
    ) -> StoreResult<ApiKey>;

    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>>;

    /// Keys not revoked, oldest first; only `business`'s when given.
    async fn list_api_keys(&self, business: Option<&BusinessId>) -> StoreResult<Vec<ApiKey>>;

    /// Revoke a key (only if it is `business`'s, when given). False if there was none.
    async fn revoke_api_key(
        &self,
        business: Option<&BusinessId>,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool>;

    /// A named server secret, created from `generate` the first time it is asked for.
    /// All processes sharing the database agree on its value.
    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Sync),
    ) -> StoreResult<String>;
}
