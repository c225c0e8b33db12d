//! Customers' ratings of their closed conversations: one per session.

use super::*;
use chatdesk_core::domain::Rating;
use chatdesk_core::rows::RATING_COLUMNS;

#[async_trait]
impl RatingStore for SqliteStore {
    async fn rate_session(&self, rating: &Rating) -> StoreResult<RateOutcome> {
        let rating = rating.clone();
        self.transaction(move |tx| {
            let id = rating.session_id.as_uuid().into_bytes();
            let before = sql::first(
                tx,
                &format!("SELECT {RATING_COLUMNS} FROM session_ratings WHERE session_id = ?1"),
                params![&id[..]],
                |r| chatdesk_core::rows::rating(r),
            )?;
            if let Some(before) = before {
                return Ok(RateOutcome::AlreadyRated(before));
            }
            let inserted = sql::execute(
                tx,
                "INSERT INTO session_ratings (session_id, score, comment, rated_at) \
                 SELECT id, ?2, ?3, ?4 FROM sessions WHERE id = ?1 AND deleted_at IS NULL",
                params![
                    &id[..],
                    rating.score.get(),
                    rating.comment.as_deref(),
                    micros(rating.rated_at)
                ],
            )?;
            if inserted == 0 {
                return Ok(RateOutcome::NotFound);
            }
            outbox::queue(tx, &id, WebhookEvent::SessionRated, None, rating.rated_at)?;
            Ok(RateOutcome::Rated(rating))
        })
        .await
    }

    async fn ratings(&self, sessions: &[SessionId]) -> StoreResult<Vec<Rating>> {
        if sessions.is_empty() {
            return Ok(Vec::new());
        }
        let mut q = Sql::new(format!(
            "SELECT {RATING_COLUMNS} FROM session_ratings WHERE session_id IN ("
        ));
        q.list(sessions.iter().map(|s| sql::uuid(s.as_uuid())));
        q.push(")");
        self.read(move |c| q.all(c, |r| chatdesk_core::rows::rating(r)))
            .await
    }
}
