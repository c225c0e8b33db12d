//! Contact people: given per session, shown for the person.

use super::*;

#[async_trait]
pub trait ContactStore: SessionStore + Send + Sync + 'static {
    /// A session that is not deleted, with its contact if it has one: what a client that
    /// fetches one session is shown. A store may read both at once.
    async fn get_session_with_contact(
        &self,
        id: SessionId,
    ) -> StoreResult<Option<(Session, Option<Contact>)>> {
        let Some(session) = self.get_session(id).await? else {
            return Ok(None);
        };
        let contact = self.contacts(&[id]).await?.pop().map(|(_, c)| c);
        Ok(Some((session, contact)))
    }

    /// Set (or replace) a session's contact. The id of a first contact is kept on replace.
    async fn upsert_contact(
        &self,
        session: SessionId,
        contact: NewContact,
        at: DateTime<Utc>,
    ) -> StoreResult<Contact>;

    /// The contacts of these sessions (sessions without one are left out).
    async fn contacts(&self, sessions: &[SessionId]) -> StoreResult<Vec<(SessionId, Contact)>>;
}
