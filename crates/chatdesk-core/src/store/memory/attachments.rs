//! Attachments' records in memory.

use super::*;
use crate::domain::{Attachment, AttachmentId};

#[async_trait]
impl AttachmentStore for MemoryStore {
    async fn insert_attachment(&self, a: &Attachment, quota_bytes: i64) -> StoreResult<bool> {
        let mut state = self.lock();
        let used: i64 = state
            .attachments
            .values()
            .filter(|kept| kept.business_id == a.business_id)
            .map(|kept| kept.size)
            .sum();
        if used + a.size > quota_bytes {
            return Ok(false);
        }
        state.attachments.insert(a.id, a.clone());
        Ok(true)
    }

    async fn get_attachment(&self, id: AttachmentId) -> StoreResult<Option<Attachment>> {
        let state = self.lock();
        Ok(state
            .attachments
            .get(&id)
            .filter(|a| state.session(a.session_id).is_some())
            .cloned())
    }

    async fn attachments_of_deleted_sessions(
        &self,
        cutoff: DateTime<Utc>,
        limit: u32,
    ) -> StoreResult<Vec<Attachment>> {
        let state = self.lock();
        // A deleted session is never changed again: its last update is its deletion.
        let deleted_before = |id: SessionId| {
            state
                .numbers
                .get(&id)
                .and_then(|n| state.sessions.get(n))
                .is_some_and(|row| row.deleted && row.value.updated_at < cutoff)
        };
        Ok(state
            .attachments
            .values()
            .filter(|a| deleted_before(a.session_id))
            .take(limit as usize)
            .cloned()
            .collect())
    }

    async fn forget_attachment(&self, id: AttachmentId) -> StoreResult<()> {
        self.lock().attachments.remove(&id);
        Ok(())
    }
}
