//! Ratings in memory.

use super::*;
use crate::domain::Rating;

#[async_trait]
impl RatingStore for MemoryStore {
    async fn rate_session(&self, rating: &Rating) -> StoreResult<RateOutcome> {
        let mut state = self.lock();
        if state.session(rating.session_id).is_none() {
            return Ok(RateOutcome::NotFound);
        }
        if let Some(before) = state.ratings.get(&rating.session_id) {
            return Ok(RateOutcome::AlreadyRated(before.clone()));
        }
        state.ratings.insert(rating.session_id, rating.clone());
        state.queue(
            rating.session_id,
            WebhookEvent::SessionRated,
            None,
            rating.rated_at,
        );
        Ok(RateOutcome::Rated(rating.clone()))
    }

    async fn ratings(&self, sessions: &[SessionId]) -> StoreResult<Vec<Rating>> {
        let state = self.lock();
        Ok(sessions
            .iter()
            .filter_map(|s| state.ratings.get(s).cloned())
            .collect())
    }
}
