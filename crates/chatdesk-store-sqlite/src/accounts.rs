//! Built-in accounts, API keys and the server's own secrets.

use super::*;

#[async_trait]
impl AccountStore for SqliteStore {
    async fn find_account(&self, id: i64) -> StoreResult<Option<Account>> {
        self.read(move |c| {
            sql::first(c, "SELECT * FROM accounts WHERE id = ?1", [id], |r| {
                rows::account(r)
            })
        })
        .await
    }

    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        self.write(move |c| {
            sql::first(
                c,
                "INSERT INTO accounts (email, password_hash, role, business_id, name, created_at) \
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING *",
                params![
                    new.email.as_str(),
                    new.password_hash,
                    new.role.as_str(),
                    new.business_id.as_ref().map(|b| b.as_str()),
                    new.name.as_deref(),
                    micros(chatdesk_core::clock::now())
                ],
                |r| rows::account(r),
            )?
            .ok_or_else(|| corrupt("an inserted account was not returned"))
        })
        .await
    }

    async fn find_account_by_email(&self, email: &Email) -> StoreResult<Option<Account>> {
        let email = email.as_str().to_owned();
        self.read(move |c| {
            sql::first(c, "SELECT * FROM accounts WHERE email = ?1", [email], |r| {
                rows::account(r)
            })
        })
        .await
    }

    async fn create_api_key(
        &self,
        name: &str,
        business_id: &BusinessId,
        key_hash: &str,
    ) -> StoreResult<ApiKey> {
        let values = (
            name.to_owned(),
            business_id.as_str().to_owned(),
            key_hash.to_owned(),
        );
        self.write(move |c| {
            let (name, business, hash) = values;
            sql::first(
                c,
                "INSERT INTO api_keys (name, business_id, key_hash, created_at) VALUES (?1, ?2, ?3, ?4) \
                 RETURNING *",
                params![name, business, hash, micros(chatdesk_core::clock::now())],
                |r| rows::api_key(r),
            )?
            .ok_or_else(|| corrupt("an inserted API key was not returned"))
        })
        .await
    }

    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let hash = key_hash.to_owned();
        self.read(move |c| {
            sql::first(
                c,
                "SELECT * FROM api_keys WHERE key_hash = ?1 AND revoked_at IS NULL",
                [hash],
                |r| rows::api_key(r),
            )
        })
        .await
    }

    async fn list_api_keys(&self, business: Option<&BusinessId>) -> StoreResult<Vec<ApiKey>> {
        let business = business.map(|b| b.as_str().to_owned());
        self.read(move |c| {
            sql::all(
                c,
                "SELECT * FROM api_keys WHERE revoked_at IS NULL AND (?1 IS NULL OR business_id = ?1) \
                 ORDER BY id",
                [business],
                |r| rows::api_key(r),
            )
        })
        .await
    }

    async fn revoke_api_key(
        &self,
        business: Option<&BusinessId>,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let business = business.map(|b| b.as_str().to_owned());
        self.write(move |c| {
            sql::execute(
                c,
                "UPDATE api_keys SET revoked_at = ?1 WHERE id = ?2 AND revoked_at IS NULL \
                 AND (?3 IS NULL OR business_id = ?3)",
                params![micros(at), id, business],
            )
            .map(|n| n > 0)
        })
        .await
    }

    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Sync),
    ) -> StoreResult<String> {
        let (name, candidate) = (name.to_owned(), generate());
        // INSERT OR IGNORE then read back: whoever inserted first wins, everyone reads the same.
        self.write(move |c| {
            sql::execute(
                c,
                "INSERT OR IGNORE INTO server_secrets (name, value) VALUES (?1, ?2)",
                params![name, candidate],
            )?;
            sql::value(
                c,
                "SELECT value FROM server_secrets WHERE name = ?1",
                [name],
            )
        })
        .await
    }
}
