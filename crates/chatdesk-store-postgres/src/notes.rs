//! Private notes of sessions, kept apart from their messages.

use super::*;
use chatdesk_core::domain::{Content, Note};
use chatdesk_core::rows::NOTE_COLUMNS;

#[async_trait]
impl NoteStore for PgStore {
    async fn add_note(
        &self,
        session: SessionId,
        author: &UserId,
        content: &Content,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Note>> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        // The session's row lock orders concurrent notes: each takes the next number.
        let live: Option<uuid::Uuid> = sqlx::query_scalar(
            "SELECT id FROM sessions WHERE id = $1 AND deleted_at IS NULL FOR UPDATE",
        )
        .bind(session.as_uuid())
        .fetch_optional(&mut *tx)
        .await
        .map_err(db)?;
        if live.is_none() {
            return Ok(None);
        }
        let row = sqlx::query(&format!(
            "INSERT INTO session_notes (session_id, number, author, content, created_at) \
             VALUES ($1, COALESCE((SELECT MAX(number) FROM session_notes WHERE session_id = $1), 0) + 1, \
             $2, $3, $4) RETURNING {NOTE_COLUMNS}"
        ))
        .bind(session.as_uuid())
        .bind(author.as_str())
        .bind(content.as_str())
        .bind(at)
        .fetch_one(&mut *tx)
        .await
        .map_err(db)?;
        let note = chatdesk_core::rows::note(&rows::PgRowRef(&row))?;
        outbox::queue(
            &mut tx,
            session,
            WebhookEvent::NoteCreated,
            Some(note.number),
            at,
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(Some(note))
    }

    async fn list_notes(&self, session: SessionId, limit: u32) -> StoreResult<Vec<Note>> {
        let rows = sqlx::query(&format!(
            "SELECT {NOTE_COLUMNS} FROM (SELECT {NOTE_COLUMNS} FROM session_notes \
             WHERE session_id = $1 ORDER BY number DESC LIMIT $2) n ORDER BY number"
        ))
        .bind(session.as_uuid())
        .bind(i64::from(limit))
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| chatdesk_core::rows::note(&rows::PgRowRef(r)))
            .collect()
    }

    async fn get_note(&self, session: SessionId, number: i64) -> StoreResult<Option<Note>> {
        let row = sqlx::query(&format!(
            "SELECT {NOTE_COLUMNS} FROM session_notes WHERE session_id = $1 AND number = $2"
        ))
        .bind(session.as_uuid())
        .bind(number)
        .fetch_optional(&self.pool)
        .await
        .map_err(db)?;
        row.map(|r| chatdesk_core::rows::note(&rows::PgRowRef(&r)))
            .transpose()
    }
}
