//! Messages: the batched append, pages, read cursors and unread counts, search and analytics inputs.

use super::*;

#[async_trait]
pub trait MessageStore: SessionStore + Send + Sync + 'static {
    /// Append a batch in one transaction: one outcome per message, in order. Each created
    /// message gets the session's next `seq`. Fails as a whole only on a database error.
    async fn append_messages(&self, batch: &[NewMessage]) -> StoreResult<Vec<AppendOutcome>>;

    async fn list_messages(
        &self,
        session: SessionId,
        range: MessageRange,
    ) -> StoreResult<Vec<Message>>;

    /// Edit or delete message `seq` of `session`, keeping the search index in step: the
    /// message as it is now, or `None` if there is no such message or it was deleted.
    async fn revise_message(
        &self,
        session: SessionId,
        seq: i64,
        revision: &crate::domain::Revision,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Message>>;

    /// A live session and a page of its messages, for a caller who must be shown to see the
    /// session first. A store that can reads both in one snapshot; by default, one after
    /// the other.
    async fn get_session_with_messages(
        &self,
        id: SessionId,
        range: MessageRange,
    ) -> StoreResult<Option<(Session, Vec<Message>)>> {
        let Some(session) = self.get_session(id).await? else {
            return Ok(None);
        };
        Ok(Some((session, self.list_messages(id, range).await?)))
    }

    /// Move `reader`'s read cursor forward to `up_to_seq` (never backward); returns the cursor.
    async fn mark_read(
        &self,
        session: SessionId,
        reader: &Party,
        up_to_seq: i64,
        at: DateTime<Utc>,
    ) -> StoreResult<i64>;

    /// Unread counts of `reader` over the sessions it owns, is assigned to, or has read in
    /// (only `tenant`'s, when given): messages after its read cursor written by someone
    /// else. Sessions with zero are included.
    async fn unread_counts(
        &self,
        reader: &Party,
        tenant: Option<&BusinessId>,
    ) -> StoreResult<Vec<UnreadCount>>;

    /// Every reader's cursor in a session.
    async fn read_cursors(&self, session: SessionId) -> StoreResult<Vec<(Party, i64)>>;

    /// Messages containing every word of `query`, newest first, in sessions matching `filter`.
    async fn search_messages(
        &self,
        filter: &SessionFilter,
        query: &crate::domain::SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Message>>;

    /// Every message of these sessions as (session, seq, sender type, time), in seq order.
    async fn message_beats(
        &self,
        sessions: &[SessionId],
    ) -> StoreResult<Vec<(SessionId, crate::analytics::Beat)>>;

    /// Unread counts of `reader` in exactly these sessions (whether or not it took part).
    async fn unread_in(
        &self,
        reader: &Party,
        sessions: &[SessionId],
    ) -> StoreResult<Vec<UnreadCount>>;
}
