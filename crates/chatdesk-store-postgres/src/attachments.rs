//! Files uploaded into sessions, and each tenant's running total against its quota.

use super::*;
use chatdesk_core::domain::{Attachment, AttachmentId};
use chatdesk_core::rows::ATTACHMENT_COLUMNS;

#[async_trait]
impl AttachmentStore for PgStore {
    async fn insert_attachment(&self, a: &Attachment, quota_bytes: i64) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The usage row's lock orders two uploads of one tenant: the second sees the first's sum.
        let raised = sqlx::query(
            "INSERT INTO attachment_usage (business_id, bytes) SELECT $1, $2 WHERE $2 <= $3 \
             ON CONFLICT (business_id) DO UPDATE SET bytes = attachment_usage.bytes + EXCLUDED.bytes \
             WHERE attachment_usage.bytes + EXCLUDED.bytes <= $3",
        )
        .bind(a.business_id.as_str())
        .bind(a.size)
        .bind(quota_bytes)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        if raised.rows_affected() == 0 {
            return Ok(false);
        }
        sqlx::query(&format!(
            "INSERT INTO attachments ({ATTACHMENT_COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)"
        ))
        .bind(a.id.as_uuid())
        .bind(a.business_id.as_str())
        .bind(a.session_id.as_uuid())
        .bind(a.uploader.key())
        .bind(&a.name)
        .bind(&a.content_type)
        .bind(a.size)
        .bind(a.thumbnail_size)
        .bind(a.created_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(true)
    }

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        let row = sqlx::query(&format!(
            "SELECT {} FROM attachments a JOIN sessions s ON s.id = a.session_id \
             WHERE a.id = $1 AND s.deleted_at IS NULL",
            qualified(ATTACHMENT_COLUMNS, "a")
        ))
        .bind(id.as_uuid())
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| chatdesk_core::rows::attachment(&rows::PgRowRef(&r)))
            .transpose()
    }

    async fn attachments_of_deleted_sessions(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Attachment>> {
        let found = sqlx::query(&format!(
            "SELECT {} FROM attachments a JOIN sessions s ON s.id = a.session_id \
             WHERE s.deleted_at < $1 LIMIT $2",
            qualified(ATTACHMENT_COLUMNS, "a")
        ))
        .bind(cutoff)
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        found
            .iter()
            .map(|r| chatdesk_core::rows::attachment(&rows::PgRowRef(r)))
            .collect()
    }

    async fn forget_attachment(&self, id: AttachmentId) -> StoreResult<()> {
        sqlx::query(
            "WITH gone AS (DELETE FROM attachments WHERE id = $1 RETURNING business_id, size) \
             UPDATE attachment_usage u SET bytes = u.bytes - gone.size FROM gone \
             WHERE u.business_id = gone.business_id",
        )
        .bind(id.as_uuid())
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(())
    }
}
