//! Ratings: after a conversation is closed, its customer may rate it once (1–5 and a
//! comment). Reports count them overall, per agent and per department.

use super::kernel::Kernel;
use crate::bus::Event;
use crate::clock;
use crate::domain::{rating_comment, Rating, Score, SessionId, SessionStatus};
use crate::error::{ServiceError, ServiceResult};
use crate::identity::Principal;
use crate::store::RateOutcome;
use std::sync::Arc;

#[derive(Clone)]
pub struct Ratings {
    k: Arc<Kernel>,
}

impl Ratings {
    pub(super) fn new(k: Arc<Kernel>) -> Self {
        Self { k }
    }

    /// The session's owner rates it once it is closed.
    pub async fn rate(
        &self,
        p: &Principal,
        id: SessionId,
        score: i64,
        comment: Option<&str>,
    ) -> ServiceResult<Rating> {
        let score = Score::parse(score)?;
        let comment = rating_comment(comment)?;
        let session = self.k.visible(p, id).await?;
        if session.owner != p.party {
            return Err(ServiceError::Forbidden(
                "only the conversation's customer rates it",
            ));
        }
        if session.status != SessionStatus::Closed {
            return Err(ServiceError::conflict(
                "not_closed",
                "a conversation is rated once it is closed",
            ));
        }
        let rating = Rating {
            session_id: session.id,
            score,
            comment,
            rated_at: clock::now(),
        };
        match self.k.store.rate_session(&rating).await? {
            RateOutcome::Rated(r) => {
                self.k.bus.publish(Event::SessionRated {
                    business_id: session.business_id,
                    owner: session.owner,
                    rating: r.clone(),
                });
                Ok(r)
            }
            RateOutcome::AlreadyRated(_) => Err(ServiceError::conflict(
                "already_rated",
                "this conversation has been rated",
            )),
            RateOutcome::NotFound => Err(ServiceError::NotFound("session")),
        }
    }

    /// The session's rating, for anyone who may see the session.
    pub async fn rating(&self, p: &Principal, id: SessionId) -> ServiceResult<Option<Rating>> {
        let session = self.k.visible(p, id).await?;
        Ok(self.k.store.ratings(&[session.id]).await?.pop())
    }
}
