//! Full-text search over message content and session topics and titles, within what the
//! caller may list.

use super::{ListSessions, SessionService};
use crate::domain::{Message, SearchQuery, Session};
use crate::error::ServiceResult;
use crate::identity::Principal;

#[derive(Debug, Clone)]
pub struct SearchResults {
    pub messages: Vec<Message>,
    pub sessions: Vec<Session>,
}

impl SessionService {
    /// `scope` narrows like a session list (`business_id`, `user_id`, `status`, `limit`);
    /// it can never widen what the caller may see.
    pub async fn search(
        &self,
        p: &Principal,
        q: &str,
        scope: ListSessions,
    ) -> ServiceResult<SearchResults> {
        let query = SearchQuery::parse(q)?;
        let (filter, limit) = self.filter_for(p, &scope)?;
        Ok(SearchResults {
            messages: self.store.search_messages(&filter, &query, limit).await?,
            sessions: self.store.search_sessions(&filter, &query, limit).await?,
        })
    }
}
