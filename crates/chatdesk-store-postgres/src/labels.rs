//! Labels of a tenant, and which sessions carry them.

use super::*;
use chatdesk_core::domain::Label;
use chatdesk_core::rows::LABEL_COLUMNS;

#[async_trait]
impl LabelStore for PgStore {
    async fn create_label(&self, l: &Label) -> StoreResult<Label> {
        sqlx::query(
            "INSERT INTO labels (id, business_id, name, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(l.id.to_string())
        .bind(l.business_id.as_str())
        .bind(l.name.as_str())
        .bind(l.created_at)
        .execute(&self.pool)
        .await
        .map_err(db)?;
        Ok(l.clone())
    }

    async fn list_labels(&self, business_id: &BusinessId) -> StoreResult<Vec<Label>> {
        let rows = sqlx::query(&format!(
            "SELECT {LABEL_COLUMNS} FROM labels WHERE business_id = $1 ORDER BY name"
        ))
        .bind(business_id.as_str())
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| chatdesk_core::rows::label(&rows::PgRowRef(r)))
            .collect()
    }

    async fn delete_label(&self, business_id: &BusinessId, id: uuid::Uuid) -> StoreResult<bool> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query(
            "DELETE FROM session_labels WHERE label_id = \
             (SELECT id FROM labels WHERE id = $1 AND business_id = $2)",
        )
        .bind(id.to_string())
        .bind(business_id.as_str())
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        let gone = sqlx::query("DELETE FROM labels WHERE id = $1 AND business_id = $2")
            .bind(id.to_string())
            .bind(business_id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(db)?
            .rows_affected();
        tx.commit().await.map_err(db)?;
        Ok(gone > 0)
    }

    async fn set_session_labels(
        &self,
        session: SessionId,
        labels: &[uuid::Uuid],
    ) -> StoreResult<()> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        sqlx::query("DELETE FROM session_labels WHERE session_id = $1")
            .bind(session.as_uuid())
            .execute(&mut *tx)
            .await
            .map_err(db)?;
        let ids: Vec<String> = labels.iter().map(ToString::to_string).collect();
        sqlx::query(
            "INSERT INTO session_labels (session_id, label_id) SELECT $1, unnest($2::TEXT[])",
        )
        .bind(session.as_uuid())
        .bind(&ids)
        .execute(&mut *tx)
        .await
        .map_err(db)?;
        tx.commit().await.map_err(db)?;
        Ok(())
    }

    async fn labels_of(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Label)>> {
        let ids: Vec<uuid::Uuid> = sessions.iter().map(|s| s.as_uuid()).collect();
        let rows = sqlx::query(&format!(
            "SELECT sl.session_id AS session_id, {} FROM session_labels sl JOIN labels l ON l.id = sl.label_id \
             WHERE sl.session_id = ANY($1) ORDER BY l.name",
            qualified(LABEL_COLUMNS, "l")
        ))
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| {
                let row = rows::PgRowRef(r);
                use chatdesk_core::rows::Columns;
                let session = row
                    .uuid("session_id")?
                    .ok_or_else(|| corrupt("session_id is NULL"))?;
                Ok((
                    SessionId::from_uuid(session),
                    chatdesk_core::rows::label(&row)?,
                ))
            })
            .collect()
    }
}
