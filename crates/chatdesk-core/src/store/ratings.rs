//! Customers' ratings of their closed conversations: one per session.

use super::*;
use crate::domain::Rating;

pub enum RateOutcome {
    Rated(Rating),
    /// The session was rated before: the rating it has.
    AlreadyRated(Rating),
    NotFound,
}

#[async_trait]
pub trait RatingStore: Send + Sync + 'static {
    /// Keep the session's first rating, and its `session.rated` outbox entry, at once.
    async fn rate_session(&self, rating: &Rating) -> StoreResult<RateOutcome>;

    /// The ratings of these sessions (unrated ones are left out).
    async fn ratings(&self, sessions: &[SessionId]) -> StoreResult<Vec<Rating>>;
}
