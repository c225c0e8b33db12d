//! Private notes of sessions, kept apart from their messages.

use super::*;
use chatdesk_core::domain::{Content, Note};
use chatdesk_core::rows::NOTE_COLUMNS;

#[async_trait]
impl NoteStore for SqliteStore {
    async fn add_note(
        &self,
        session: SessionId,
        author: &UserId,
        content: &Content,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Note>> {
        let sql = format!(
            "INSERT INTO session_notes (session_id, number, author, content, created_at) \
             SELECT s.id, COALESCE((SELECT MAX(number) FROM session_notes WHERE session_id = s.id), 0) + 1, \
             ?2, ?3, ?4 FROM sessions s WHERE s.id = ?1 AND s.deleted_at IS NULL RETURNING {NOTE_COLUMNS}"
        );
        let (author, content) = (author.to_string(), content.as_str().to_owned());
        self.transaction(move |tx| {
            let id = session.as_uuid().into_bytes();
            let note = sql::first(
                tx,
                &sql,
                params![&id[..], author, content, micros(at)],
                |r| chatdesk_core::rows::note(r),
            )?;
            if let Some(n) = &note {
                outbox::queue(tx, &id, WebhookEvent::NoteCreated, Some(n.number), at)?;
            }
            Ok(note)
        })
        .await
    }

    async fn list_notes(&self, session: SessionId, limit: u32) -> StoreResult<Vec<Note>> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM (SELECT {NOTE_COLUMNS} FROM session_notes \
             WHERE session_id = ?1 ORDER BY number DESC LIMIT ?2) ORDER BY number"
        );
        self.read(move |c| {
            sql::all(c, &sql, params![sql::uuid(session.as_uuid()), limit], |r| {
                chatdesk_core::rows::note(r)
            })
        })
        .await
    }

    async fn get_note(&self, session: SessionId, number: i64) -> StoreResult<Option<Note>> {
        let sql = format!(
            "SELECT {NOTE_COLUMNS} FROM session_notes WHERE session_id = ?1 AND number = ?2"
        );
        self.read(move |c| {
            sql::first(
                c,
                &sql,
                params![sql::uuid(session.as_uuid()), number],
                |r| chatdesk_core::rows::note(r),
            )
        })
        .await
    }
}
