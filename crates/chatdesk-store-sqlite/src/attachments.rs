//! Files uploaded into sessions, and each tenant's running total against its quota.

use super::*;
use chatdesk_core::domain::{Attachment, AttachmentId};
use chatdesk_core::rows::{Columns, ATTACHMENT_COLUMNS};

#[async_trait]
impl AttachmentStore for SqliteStore {
    async fn insert_attachment(&self, a: &Attachment, quota_bytes: i64) -> StoreResult<bool> {
        let a = a.clone();
        self.transaction(move |tx| {
            let raised = sql::execute(
                tx,
                "INSERT INTO attachment_usage (business_id, bytes) SELECT ?1, ?2 WHERE ?2 <= ?3 \
                 ON CONFLICT (business_id) DO UPDATE SET bytes = bytes + excluded.bytes \
                 WHERE bytes + excluded.bytes <= ?3",
                params![a.business_id.as_str(), a.size, quota_bytes],
            )?;
            if raised == 0 {
                return Ok(false);
            }
            sql::execute(
                tx,
                &format!(
                    "INSERT INTO attachments ({ATTACHMENT_COLUMNS}) \
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)"
                ),
                params![
                    sql::uuid(a.id.as_uuid()),
                    a.business_id.as_str(),
                    sql::uuid(a.session_id.as_uuid()),
                    a.uploader.key(),
                    a.name,
                    a.content_type,
                    a.size,
                    a.thumbnail_size,
                    micros(a.created_at),
                ],
            )?;
            Ok(true)
        })
        .await
    }

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        let sql = format!(
            "SELECT {} FROM attachments a JOIN sessions s ON s.id = a.session_id \
             WHERE a.id = ?1 AND s.deleted_at IS NULL",
            qualified(ATTACHMENT_COLUMNS, "a")
        );
        self.read(move |c| {
            sql::first(c, &sql, params![sql::uuid(id.as_uuid())], |r| {
                chatdesk_core::rows::attachment(r)
            })
        })
        .await
    }

    async fn attachments_of_deleted_sessions(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Attachment>> {
        let sql = format!(
            "SELECT {} FROM attachments a JOIN sessions s ON s.id = a.session_id \
             WHERE s.deleted_at < ?1 LIMIT ?2",
            qualified(ATTACHMENT_COLUMNS, "a")
        );
        self.read(move |c| {
            sql::all(c, &sql, params![micros(cutoff), limit], |r| {
                chatdesk_core::rows::attachment(r)
            })
        })
        .await
    }

    async fn forget_attachment(&self, id: AttachmentId) -> StoreResult<()> {
        self.transaction(move |tx| {
            let id = sql::uuid(id.as_uuid());
            let gone = sql::first(
                tx,
                "DELETE FROM attachments WHERE id = ?1 RETURNING business_id, size",
                params![id],
                |r| Ok((r.text("business_id")?, r.int("size")?)),
            )?;
            if let Some((Some(tenant), Some(size))) = gone {
                sql::execute(
                    tx,
                    "UPDATE attachment_usage SET bytes = bytes - ?2 WHERE business_id = ?1",
                    params![tenant, size],
                )?;
            }
            Ok(())
        })
        .await
    }
}
