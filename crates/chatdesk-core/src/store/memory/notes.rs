//! Private notes in memory.

use super::*;
use crate::domain::{Content, Note};

#[async_trait]
impl NoteStore for MemoryStore {
    async fn add_note(
        &self,
        session: SessionId,
        author: &UserId,
        content: &Content,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Note>> {
        let mut state = self.lock();
        if state.session(session).is_none() {
            return Ok(None);
        }
        let notes = state.notes.entry(session).or_default();
        let note = Note {
            session_id: session,
            number: notes.len() as i64 + 1,
            author: author.clone(),
            content: content.as_str().to_owned(),
            created_at: at,
        };
        notes.push(note.clone());
        state.queue(session, WebhookEvent::NoteCreated, Some(note.number), at);
        Ok(Some(note))
    }

    async fn list_notes(&self, session: SessionId, limit: u32) -> StoreResult<Vec<Note>> {
        let state = self.lock();
        let notes = state.notes.get(&session).map_or(&[][..], Vec::as_slice);
        Ok(notes[notes.len().saturating_sub(limit as usize)..].to_vec())
    }

    async fn get_note(&self, session: SessionId, number: i64) -> StoreResult<Option<Note>> {
        let state = self.lock();
        Ok(state
            .notes
            .get(&session)
            .and_then(|n| n.iter().find(|n| n.number == number))
            .cloned())
    }
}
