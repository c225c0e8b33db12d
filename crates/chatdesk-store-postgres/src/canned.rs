//! Canned responses, per tenant.

use super::*;
use chatdesk_core::domain::{CannedResponse, ShortCode};
use chatdesk_core::rows::CANNED_COLUMNS;

fn canned_row(row: &sqlx::postgres::PgRow) -> StoreResult<CannedResponse> {
    chatdesk_core::rows::canned(&rows::PgRowRef(row))
}

#[async_trait]
impl CannedStore for PgStore {
    async fn create_canned(&self, c: &CannedResponse) -> StoreResult<CannedResponse> {
        sqlx::query(
            "INSERT INTO canned_responses (id, business_id, department_id, code, text, created_at, updated_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7)",
        )
        .bind(c.id)
        .bind(c.business_id.as_str())
        .bind(c.department_id.as_deref())
        .bind(c.code.as_str())
        .bind(c.text.as_str())
        .bind(c.created_at)
        .bind(c.updated_at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(c.clone())
    }

    async fn list_canned(&self, business_id: &BusinessId) -> StoreResult<Vec<CannedResponse>> {
        let rows = sqlx::query(&format!(
            "SELECT {CANNED_COLUMNS} FROM canned_responses WHERE business_id = $1 ORDER BY code, COALESCE(department_id, '')"
        ))
        .bind(business_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter().map(canned_row).collect()
    }

    async fn update_canned(
        &self,
        business_id: &BusinessId,
        id: uuid::Uuid,
        code: Option<&ShortCode>,
        text: Option<&str>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<CannedResponse>> {
        let row = sqlx::query(&format!(
            "UPDATE canned_responses SET code = COALESCE($3, code), text = COALESCE($4, text), updated_at = $5 \
             WHERE business_id = $1 AND id = $2 RETURNING {CANNED_COLUMNS}"
        ))
        .bind(business_id.as_str())
        .bind(id)
        .bind(code.map(|c| c.as_str()))
        .bind(text)
        .bind(at)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.as_ref().map(canned_row).transpose()
    }

    async fn delete_canned(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool> {
        let done = sqlx::query("DELETE FROM canned_responses WHERE business_id = $1 AND id = $2")
            .bind(business_id.as_str())
            .bind(id)
            .execute(&self.pool)
            .await
            .map_err(db)?;
        Ok(done.rows_affected() > 0)
    }
}
