//! Built-in accounts, API keys and the server's own secrets.

use super::*;

#[async_trait]
impl AccountStore for SqliteStore {
    async fn find_account(&self, id: i64) -> StoreResult<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE id = ?")
            .bind(id)
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::account(&rows::SqliteRowRef(r)))
            .transpose()
    }

    async fn create_account(&self, new: NewAccount) -> StoreResult<Account> {
        let row = sqlx::query(
            "INSERT INTO accounts (email, password_hash, role, business_id, name, created_at) \
             VALUES (?, ?, ?, ?, ?, ?) RETURNING *",
        )
        .bind(new.email.as_str())
        .bind(&new.password_hash)
        .bind(new.role.as_str())
        .bind(new.business_id.as_ref().map(|b| b.as_str()))
        .bind(new.name.as_deref())
        .bind(micros(chatdesk_core::clock::now()))
        .fetch_one(&self.writer)
        .await
        .map_err(db)?;
        rows::account(&rows::SqliteRowRef(&row))
    }

    async fn find_account_by_email(&self, email: &Email) -> StoreResult<Option<Account>> {
        let row = sqlx::query("SELECT * FROM accounts WHERE email = ?")
            .bind(email.as_str())
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::account(&rows::SqliteRowRef(r)))
            .transpose()
    }

    async fn create_api_key(
        &self,
        name: &str,
        business_id: &BusinessId,
        key_hash: &str,
    ) -> StoreResult<ApiKey> {
        let row = sqlx::query(
            "INSERT INTO api_keys (name, business_id, key_hash, created_at) VALUES (?, ?, ?, ?) RETURNING *",
        )
        .bind(name)
        .bind(business_id.as_str())
        .bind(key_hash)
        .bind(micros(chatdesk_core::clock::now()))
        .fetch_one(&self.writer)
        .await
        .map_err(db)?;
        rows::api_key(&rows::SqliteRowRef(&row))
    }

    async fn find_api_key(&self, key_hash: &str) -> StoreResult<Option<ApiKey>> {
        let row = sqlx::query("SELECT * FROM api_keys WHERE key_hash = ? AND revoked_at IS NULL")
            .bind(key_hash)
            .fetch_optional(&self.reader)
            .await
            .map_err(db)?;
        row.as_ref()
            .map(|r| rows::api_key(&rows::SqliteRowRef(r)))
            .transpose()
    }

    async fn list_api_keys(&self, business: Option<&BusinessId>) -> StoreResult<Vec<ApiKey>> {
        let rows = sqlx::query(
            "SELECT * FROM api_keys WHERE revoked_at IS NULL AND (? IS NULL OR business_id = ?) \
             ORDER BY id",
        )
        .bind(business.map(BusinessId::as_str))
        .bind(business.map(BusinessId::as_str))
        .fetch_all(&self.reader)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| rows::api_key(&rows::SqliteRowRef(r)))
            .collect()
    }

    async fn revoke_api_key(
        &self,
        business: Option<&BusinessId>,
        id: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<bool> {
        let done = sqlx::query(
            "UPDATE api_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL \
             AND (? IS NULL OR business_id = ?)",
        )
        .bind(micros(at))
        .bind(id)
        .bind(business.map(BusinessId::as_str))
        .bind(business.map(BusinessId::as_str))
        .execute(&self.writer)
        .await
        .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }

    async fn server_secret(
        &self,
        name: &str,
        generate: &(dyn Fn() -> String + Sync),
    ) -> StoreResult<String> {
        // INSERT OR IGNORE then read back: whoever inserted first wins, everyone reads the same.
        sqlx::query("INSERT OR IGNORE INTO server_secrets (name, value) VALUES (?, ?)")
            .bind(name)
            .bind(generate())
            .execute(&self.writer)
            .await
            .map_err(db)?;
        sqlx::query_scalar("SELECT value FROM server_secrets WHERE name = ?")
            .bind(name)
            .fetch_one(&self.writer)
            .await
            .map_err(db)
    }
}
