//! Sessions: opening (resume-or-create), reading, listing, changing and closing them, and moving a visitor's to an account.

use super::*;

#[async_trait]
pub trait SessionStore: Send + Sync + 'static {
    /// Is the database reachable?
    async fn ping(&self) -> StoreResult<()>;

    /// Create a session, or with `resume` return the owner's most recently active open
    /// session in that tenant if there is one. Atomic: concurrent calls for one owner
    /// resume one session, never create two. Returns the session and whether it is new.
    async fn open_session(&self, new: NewSession, resume: bool) -> StoreResult<(Session, bool)>;

    /// [`Store::open_session`], and for a session it created its place in its queue (1 =
    /// next) as of the same transaction, where the store can tell it there; `None`: ask
    /// [`Store::queue_position`]. Every new session is told its place: a read of its own
    /// after the write was a tenth of opening one on SQLite.
    async fn open_session_with_place(
        &self,
        new: NewSession,
        resume: bool,
    ) -> StoreResult<(Session, bool, Option<i64>)> {
        let (session, created) = self.open_session(new, resume).await?;
        Ok((session, created, None))
    }

    /// A session that is not deleted.
    async fn get_session(&self, id: SessionId) -> StoreResult<Option<Session>>;

    /// The assistant a session was opened for (`NewSession::assistant`), if any.
    async fn assistant_of(&self, id: SessionId) -> StoreResult<Option<UserId>>;

    /// The session a message is about to be sent to. Only its tenant, number and owner may
    /// be relied on: a store may answer from memory (`store::remembered`), and the append
    /// itself refuses closed and deleted sessions.
    async fn send_target(&self, id: SessionId) -> StoreResult<Option<Session>> {
        self.get_session(id).await
    }

    /// A session by its integer number (for doors with integer ids).
    async fn get_session_by_number(&self, number: i64) -> StoreResult<Option<Session>>;

    /// Sessions newest activity first, after `cursor`, at most `limit`.
    async fn list_sessions(
        &self,
        filter: &SessionFilter,
        cursor: Option<SessionCursor>,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;

    /// How many sessions match (for offset-paged doors that report a total).
    async fn count_sessions(&self, filter: &SessionFilter) -> StoreResult<i64>;

    /// Sessions newest activity first, skipping `offset`.
    async fn list_sessions_offset(
        &self,
        filter: &SessionFilter,
        offset: u32,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;

    /// Close open sessions matching `filter` whose last activity is before `idle_before`.
    /// Returns the sessions as closed.
    async fn close_idle_sessions(
        &self,
        filter: &SessionFilter,
        idle_before: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> StoreResult<Vec<Session>>;

    /// Add one reported activity to an open session's counters. `None` if the session is
    /// missing, deleted or closed.
    async fn record_activity(
        &self,
        id: SessionId,
        kind: ActivityKind,
        response_time_ms: Option<i64>,
        at: DateTime<Utc>,
    ) -> StoreResult<Option<Session>>;

    async fn update_session(
        &self,
        id: SessionId,
        patch: &SessionPatch,
        at: DateTime<Utc>,
    ) -> StoreResult<PatchOutcome>;

    /// Soft-delete. Returns false when there was no such (undeleted) session.
    async fn delete_session(&self, id: SessionId, at: DateTime<Utc>) -> StoreResult<bool>;

    /// Link a visitor to an account, in one transaction: record the link and move the
    /// visitor's sessions, messages and read cursors to the account. Idempotent.
    async fn link_visitor(
        &self,
        visitor: VisitorId,
        user: &UserId,
        at: DateTime<Utc>,
    ) -> StoreResult<LinkOutcome>;

    /// The account a visitor was linked to, if any.
    async fn visitor_link(&self, visitor: VisitorId) -> StoreResult<Option<UserId>>;

    /// Sessions whose topic or title contains every word of `query`, most recently active first.
    async fn search_sessions(
        &self,
        filter: &SessionFilter,
        query: &crate::domain::SearchQuery,
        limit: u32,
    ) -> StoreResult<Vec<Session>>;
}
