//! Private notes of sessions, kept apart from their messages.

use super::*;
use crate::domain::{Content, Note};

#[async_trait]
pub trait NoteStore: Send + Sync + 'static {
    /// Add a note with the session's next number, and its `note.created` outbox entry, at
    /// once. `None` if there is no such session.
    async fn add_note(
        &self,
        session: SessionId,
        author: &UserId,
        content: &Content,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Note>>;

    /// A session's newest `limit` notes, oldest first.
    async fn list_notes(&self, session: SessionId, limit: u32) -> StoreResult<Vec<Note>>;

    async fn get_note(&self, session: SessionId, number: i64) -> StoreResult<Option<Note>>;
}
