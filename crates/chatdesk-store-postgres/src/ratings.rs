//! Customers' ratings of their closed conversations: one per session.

use super::*;
use chatdesk_core::domain::Rating;
use chatdesk_core::rows::RATING_COLUMNS;

#[async_trait]
impl RatingStore for PgStore {
    async fn rate_session(&self, rating: &Rating) -> StoreResult<RateOutcome> {
        let mut tx = self.pool.begin().await.map_err(db)?;
        let id = rating.session_id;
        let inserted = sqlx::query(
            "INSERT INTO session_ratings (session_id, score, comment, rated_at) \
             SELECT id, $2, $3, $4 FROM sessions WHERE id = $1 AND deleted_at IS NULL \
             ON CONFLICT (session_id) DO NOTHING",
        )
        .bind(id.as_uuid())
        .bind(rating.score.get())
        .bind(rating.comment.as_deref())
        .bind(rating.rated_at)
        .execute(&mut *tx)
        .await
        .map_err(db)?
        .rows_affected();
        if inserted == 0 {
            tx.rollback().await.map_err(db)?;
            return Ok(match self.ratings(&[id]).await?.pop() {
                Some(before) => RateOutcome::AlreadyRated(before),
                None => RateOutcome::NotFound,
            });
        }
        outbox::queue(
            &mut tx,
            id,
            WebhookEvent::SessionRated,
            None,
            rating.rated_at,
        )
        .await?;
        tx.commit().await.map_err(db)?;
        Ok(RateOutcome::Rated(rating.clone()))
    }

    async fn ratings(&self, sessions: &[SessionId]) -> StoreResult<Vec<Rating>> {
        let ids: Vec<uuid::Uuid> = sessions.iter().map(|s| s.as_uuid()).collect();
        let rows = sqlx::query(&format!(
            "SELECT {RATING_COLUMNS} FROM session_ratings WHERE session_id = ANY($1)"
        ))
        .bind(&ids)
        .fetch_all(&self.pool)
        .await
        .map_err(db)?;
        rows.iter()
            .map(|r| chatdesk_core::rows::rating(&rows::PgRowRef(r)))
            .collect()
    }
}
