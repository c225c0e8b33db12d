//! Full-text search over message content and session topics and titles, within what the
//! caller may list.

use super::sessions::listable;
use super::{Limits, ListSessions};
use crate::domain::{Message, SearchQuery, Session};
use crate::error::ServiceResult;
use crate::identity::Principal;
use crate::store::Store;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub struct SearchResults {
    pub messages: Vec<Message>,
    pub sessions: Vec<Session>,
}

/// Full-text search within what the caller may list.
pub struct Search {
    store: Arc<dyn Store>,
    limits: Limits,
}

impl Search {
    pub fn new(store: Arc<dyn Store>, limits: Limits) -> Self {
        Self { store, limits }
    }

    /// `scope` narrows like a session list (`business_id`, `user_id`, `status`, `limit`);
    /// it can never widen what the caller may see.
    pub async fn search(
        &self,
        p: &Principal,
        q: &str,
        scope: ListSessions,
    ) -> ServiceResult<SearchResults> {
        let query = SearchQuery::parse(q)?;
        let (filter, limit) = listable(p, &scope, &self.limits)?;
        Ok(SearchResults {
            messages: self.store.search_messages(&filter, &query, limit).await?,
            sessions: self.store.search_sessions(&filter, &query, limit).await?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::super::testing::*;
    use super::*;

    #[tokio::test]
    async fn a_customer_finds_only_what_is_theirs() {
        let desk = desk();
        let search = Search::new(desk.store.clone(), Limits::default());
        let (ann, bob) = (customer("ann"), customer("bob"));
        let mine = desk.open(&ann).await;
        desk.send(&ann, &mine, "where is my parcel").await.unwrap();
        let theirs = desk.open(&bob).await;
        desk.send(&bob, &theirs, "my parcel is late").await.unwrap();
        let found = search
            .search(&ann, "parcel", ListSessions::default())
            .await
            .unwrap();
        let sessions: Vec<_> = found.messages.iter().map(|m| m.session_id).collect();
        assert_eq!(sessions, [mine.id]);
        let staff = search
            .search(&agent("ada"), "parcel", ListSessions::default())
            .await
            .unwrap();
        assert_eq!(staff.messages.len(), 2, "staff see the tenant");
    }
}
